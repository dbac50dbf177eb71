/*
 * cmd_upload.c: `hfgit upload REPO_ID [LOCAL_PATH] [PATH_IN_REPO]`, huggingface-cli upload mapped onto git:
 * a clone kept in a cache (upload_hub.c), the files copied into it (upload_files.c), one commit with auto
 * LFS tracking, one push (LFS objects first, multipart for large files), and the commit's URL printed.
 */
#include "upload.h"

#include "../common/fsutil.h"
#include "../common/ratelimit.h"
#include "progress.h"

#include "../common/config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
    "usage: hfgit upload [options] REPO_ID [LOCAL_PATH] [PATH_IN_REPO]\n"
    "\n"
    "Uploads a file or a folder to a Hub repository in ONE commit, as `huggingface-cli upload` does, over\n"
    "git: LFS objects first (multipart for large files), then the commit. Prints the commit's URL,\n"
    "<endpoint>/[datasets/|spaces/]<ns>/<name>/commit/<sha>. A repository that does not exist is created.\n"
    "\n"
    "Paths, with NAME the part of REPO_ID after the '/':\n"
    "  no LOCAL_PATH          ./NAME: a file is uploaded as NAME at the root; a folder's content goes to "
    "the\n"
    "                         root; neither is a usage error (give LOCAL_PATH)\n"
    "  LOCAL_PATH a file      uploaded as PATH_IN_REPO, default its own name at the root (a PATH_IN_REPO\n"
    "                         ending in '/' is a folder to put it in)\n"
    "  LOCAL_PATH a folder    its content goes under PATH_IN_REPO, default the root\n"
    "Entries named .git (nested repositories) and .cache/huggingface folders are skipped; symbolic links to\n"
    "files are uploaded as the files, links to folders are not followed. In the repository, a symbolic link\n"
    "is never written or deleted through: an upload below one fails naming it; --delete removes the link.\n"
    "\n"
    "  --repo-type TYPE         model (default), dataset or space\n"
    "  --revision BRANCH        branch to commit on (created from the default branch when missing)\n"
    "  --commit-message MSG     default \"Upload folder using hfgit\" / \"Upload PATH with hfgit\"\n"
    "  --include PATTERN...     upload only files matching a pattern (folder uploads; with no pattern,\n"
    "                           nothing, as huggingface-cli)\n"
    "  --exclude PATTERN...     skip files matching a pattern (folder uploads)\n"
    "  --delete PATTERN...      delete remote files under PATH_IN_REPO matching a pattern, in the same "
    "commit,\n"
    "                           unless the upload brings them (the root .gitattributes is never deleted)\n"
    "  --private                make the repository private if it has to be created\n"
    "  --max-rate RATE          upload bandwidth, bytes per second (k/M/G: powers of 1024); env HFGIT_MAX_RATE\n"
    "  --every MINUTES          keep running: commit what changed in the folder every MINUTES (fractions\n"
    "                           allowed), until SIGINT/SIGTERM, which makes a last commit and exits 0\n"
    "                           (the library's commit scheduler; append-only files such as logs)\n"
    "  -q, --quiet / -v, --verbose\n"
    "Patterns are fnmatch(3) globs on paths relative to LOCAL_PATH (--include/--exclude) or PATH_IN_REPO\n"
    "(--delete); '*' matches '/' too and \"dir/\" means everything below dir, as in huggingface_hub. An "
    "option\n"
    "takes every following argument up to the next option, so put REPO_ID first or use --include=PAT.\n"
    "\n"
    "The clone lives in $HF_HOME/hfgit/upload/<host>/<type>s/<ns>/<name> (HF_HOME defaults to\n"
    "~/.cache/huggingface) and is reused: the next upload only pulls. Files not uploaded from this machine "
    "are\n"
    "LFS pointer files there, so nothing is downloaded; uploaded files stay as copies (with their mtime: an\n"
    "unchanged file is neither copied nor hashed again), but not in .git/lfs after the push. A failed "
    "upload\n"
    "removes the clone; `rm -rf $HF_HOME/hfgit/upload` frees the space. Concurrent uploads to one "
    "repository\n"
    "wait in turn.\n";

typedef struct upload_args {
    const char *repo_id, *local_path, *path_in_repo, *repo_type, *revision, *message, *every;
    hf_cli_list include, exclude, delete_patterns;
    int private_repo, is_dir;
    const char *max_rate; /* --max-rate as given; max_rate_bps parsed */
    uint64_t max_rate_bps;
    double every_minutes;
} upload_args;

/* 1 when a component of path is ".." or ".git": it would leave the repository or write into git's own files.
 */
static int bad_path(const char *path)
{
    for (const char *c = path; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c)) {
        size_t n = strcspn(c, "/");
        if ((n == 2 && strncmp(c, "..", 2) == 0) || (n == 4 && strncmp(c, ".git", 4) == 0)) return 1;
    }
    return 0;
}

/* LOCAL_PATH and PATH_IN_REPO as huggingface-cli upload infers them. Returns -1 to go on or an exit status.
 */
static int resolve_paths(upload_args *u, hf_cli_args *a, hf_buf *dest)
{
    const char *name = strrchr(u->repo_id, '/') + 1;
    struct stat st;
    u->local_path = a->npos > 1 ? a->pos[1] : name;
    if (stat(u->local_path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        if (a->npos > 1) {
            (void)fprintf(stderr, "hfgit upload: %s is not a file or folder\n", u->local_path);
            return HF_CLI_EXIT_NOTFOUND;
        }
        return hf_cli_usage_error("upload", "'%s' is not a local file or folder; give LOCAL_PATH", name);
    }
    u->is_dir = S_ISDIR(st.st_mode);
    const char *p = a->npos > 2 ? a->pos[2] : NULL;
    if (!p) {
        const char *base = strrchr(u->local_path, '/');
        p = u->is_dir ? "" : base ? base + 1 : u->local_path;
    }
    while (*p == '/' || (p[0] == '.' && p[1] == '/'))
        p += p[0] == '.' ? 2 : 1;
    if (strcmp(p, ".") == 0) p = "";
    hf_buf_puts(dest, p);
    if (!u->is_dir && (dest->len == 0 || dest->ptr[dest->len - 1] == '/')) {
        const char *base = strrchr(u->local_path, '/');
        hf_buf_puts(dest, base ? base + 1 : u->local_path);
    }
    while (dest->len && dest->ptr[dest->len - 1] == '/')
        dest->ptr[--dest->len] = '\0';
    if (bad_path(dest->ptr))
        return hf_cli_usage_error(
            "upload", "PATH_IN_REPO \"%s\" must stay inside the repository and out of .git", dest->ptr);
    u->path_in_repo = dest->ptr;
    if (!u->is_dir && (u->include.count || u->exclude.count || u->delete_patterns.count))
        (void)fprintf(
            stderr,
            "hfgit upload: warning: ignoring --include/--exclude/--delete: a single file is uploaded\n");
    return -1;
}

/* Deletes, copies, adds, commits and pushes in the cache clone; out_id receives the resulting commit. */
static int publish(upload_args *u, hf_repo *repo, char out_id[41])
{
    const char *wd = hf_repo_workdir(repo);
    hf_buf dest = HF_BUF_INIT, msg = HF_BUF_INIT;
    size_t deleted = 0, copied = 1, unchanged = 0;
    int rc = 0;
    if (u->is_dir) {
        if (u->delete_patterns.count &&
            (rc = hf_upload_delete(wd, u->path_in_repo, &u->delete_patterns, &deleted)) < 0)
            goto out;
        rc = hf_upload_copy_tree(u->local_path, wd, u->path_in_repo, &u->include, &u->exclude, &copied,
                                 &unchanged);
    } else if ((rc = hf_upload_copy_file(u->local_path, wd, u->path_in_repo)) == 1) {
        unchanged = 1;
        rc = 0;
    }
    if (rc < 0) goto out;
    hf_cli_note(
        "%zu file(s) to upload (%zu unchanged since the last upload from this machine)%s; hashing and "
        "committing\n",
        copied, unchanged, deleted ? ", deleting matching remote files" : "");
    if ((rc = hf_repo_add(repo, ".", 1)) < 0) goto out;
    if (u->message)
        hf_buf_puts(&msg, u->message);
    else if (u->is_dir)
        hf_buf_puts(&msg, "Upload folder using hfgit");
    else
        hf_buf_printf(&msg, "Upload %s with hfgit", u->path_in_repo);
    rc = hf_repo_commit_id(repo, msg.ptr, out_id);
    if (rc == HF_ENOCHANGES && hf_repo_head_hash(repo, out_id) == HF_ENOTFOUND) {
        /* an empty repository has no commit to point at: nothing to print, and nothing was uploaded */
        rc = hf_error_set(
            HF_ENOCHANGES,
            "nothing to upload: %s has no file to upload%s and %s has no commit yet, so nothing "
            "was committed",
            u->local_path, u->include.given || u->exclude.count ? " (after --include/--exclude)" : "",
            u->repo_id);
        goto out;
    }
    if (rc == HF_ENOCHANGES) {
        (void)fprintf(stderr,
                      "hfgit upload: no files have changed since the last commit; nothing was committed\n");
        rc = hf_upload_head_id(wd, out_id);
        goto out;
    }
    if (rc < 0) goto out;
    hf_cli_progress prog;
    hf_cli_progress_init(&prog, "Uploading LFS objects");
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    po.progress = hf_cli_progress_cb;
    po.progress_payload = &prog;
    po.max_rate = u->max_rate_bps;
    rc = hf_repo_push(repo, &po, NULL);
    hf_cli_progress_end(&prog);
    if (rc == 0) {
        /* everything is on the hub now: the cache keeps the working files only, not a second copy */
        hf_buf_printf(&dest, "%s.git/lfs/objects", wd);
        (void)hf_upload_remove_tree(dest.ptr);
    }
out:
    hf_buf_free(&dest);
    hf_buf_free(&msg);
    return rc;
}

/* The repo type from --repo-type or a "datasets/" / "spaces/" / "models/" prefix of the repo id. */
static int resolve_type(upload_args *u)
{
    static const struct {
        const char *prefix, *type;
    } prefixes[] = {{"datasets/", "dataset"}, {"spaces/", "space"}, {"models/", "model"}};
    for (size_t i = 0; i < 3; i++)
        if (strncmp(u->repo_id, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0 &&
            strchr(u->repo_id + strlen(prefixes[i].prefix), '/')) {
            u->repo_id += strlen(prefixes[i].prefix);
            u->repo_type = u->repo_type ? u->repo_type : prefixes[i].type;
        }
    if (!u->repo_type) u->repo_type = "model";
    if (strcmp(u->repo_type, "model") != 0 && strcmp(u->repo_type, "dataset") != 0 &&
        strcmp(u->repo_type, "space") != 0)
        return hf_cli_usage_error("upload", "--repo-type must be model, dataset or space, not \"%s\"",
                                  u->repo_type);
    if (hf_repo_id_validate(u->repo_id) < 0)
        return hf_cli_usage_error("upload", "bad REPO_ID: %s", hf_error_last_message());
    return -1;
}

/* --every MINUTES: a positive number, for a folder (the scheduler watches folders). -1 to go on. */
static int check_every(upload_args *u)
{
    if (!u->every) return -1;
    char *end;
    u->every_minutes = strtod(u->every, &end);
    if (*end || !(u->every_minutes > 0))
        return hf_cli_usage_error("upload", "--every takes a positive number of minutes, not \"%s\"", u->every);
    if (!u->is_dir) return hf_cli_usage_error("upload", "--every needs a folder as LOCAL_PATH");
    if (u->delete_patterns.count) return hf_cli_usage_error("upload", "--every and --delete do not go together");
    return -1;
}

static int run(upload_args *u, const char *endpoint)
{
    hf_buf cache = HF_BUF_INIT, lock = HF_BUF_INIT;
    hf_repo *repo = NULL;
    char id[41];
    int fd = -1, rc = hf_upload_cache_dir(&cache, endpoint, u->repo_type, u->repo_id);
    if (rc < 0) goto out;
    hf_buf_printf(&lock, "%s.lock", cache.ptr);
    if ((rc = hf_mkdir_parents(lock.ptr, 0777)) < 0) goto out;
    /* one upload per repository at a time: the second waits for the cache clone */
    if ((fd = open(lock.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0 || flock(fd, LOCK_EX) < 0) {
        rc = hf_error_set(HF_EIO, "cannot lock %s", lock.ptr);
        goto out;
    }
    hf_upload_target t = {u->repo_id, u->repo_type, u->revision, endpoint, u->private_repo, 0};
    if ((rc = hf_upload_open_cache(&repo, &t, cache.ptr)) < 0) goto out;
    if (u->every) {
        hf_upload_every_options eo = {u->local_path, u->path_in_repo, u->every_minutes, &u->include,
                                      &u->exclude, u->message};
        if ((rc = hf_upload_every(repo, &eo)) < 0 || (rc = hf_upload_head_id(hf_repo_workdir(repo), id)) < 0)
            goto out;
    } else if ((rc = publish(u, repo, id)) < 0) {
        /* the next upload starts from the remote's state, not from this half-done one */
        hf_repo_free(repo);
        repo = NULL;
        hf_buf msg = HF_BUF_INIT;
        hf_buf_puts(&msg, hf_error_last_message());
        hf_upload_remove_tree(cache.ptr);
        hf_error_set(rc, "%s", msg.ptr);
        hf_buf_free(&msg);
        goto out;
    }
    const char *prefix = strcmp(u->repo_type, "dataset") == 0 ? "datasets/"
                         : strcmp(u->repo_type, "space") == 0 ? "spaces/"
                                                              : "";
    (void)printf("%s/%s%s/commit/%s\n", endpoint, prefix, u->repo_id, id);
out:
    hf_repo_free(repo);
    if (fd >= 0) close(fd);
    hf_buf_free(&cache);
    hf_buf_free(&lock);
    return rc;
}

int hf_cli_upload(int argc, char **argv)
{
    upload_args u;
    memset(&u, 0, sizeof(u));
    const hf_cli_opt opts[] = {{"repo-type", 0, HF_CLI_OPT_STRING, &u.repo_type},
                               {"revision", 0, HF_CLI_OPT_STRING, &u.revision},
                               {"commit-message", 0, HF_CLI_OPT_STRING, &u.message},
                               {"include", 0, HF_CLI_OPT_LIST, &u.include},
                               {"exclude", 0, HF_CLI_OPT_LIST, &u.exclude},
                               {"delete", 0, HF_CLI_OPT_LIST, &u.delete_patterns},
                               {"private", 0, HF_CLI_OPT_FLAG, &u.private_repo},
                               {"max-rate", 0, HF_CLI_OPT_STRING, &u.max_rate},
                               {"every", 0, HF_CLI_OPT_STRING, &u.every},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"upload", help, opts, 1, 3, NULL, 0};
    hf_buf dest = HF_BUF_INIT, endpoint = HF_BUF_INIT;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out;
    if (u.max_rate && hf_size_parse(u.max_rate, &u.max_rate_bps) != 0) {
        rc = hf_cli_usage_error("upload", "--max-rate: %s", hf_error_last_message());
        goto out;
    }
    u.repo_id = a.pos[0];
    if ((rc = resolve_type(&u)) >= 0 || (rc = resolve_paths(&u, &a, &dest)) >= 0 || (rc = check_every(&u)) >= 0)
        goto out;
    if ((rc = hf_init()) < 0) {
        rc = hf_cli_fail("upload", rc);
        goto out;
    }
    rc = hf_config_endpoint(&endpoint);
    if (rc == 0) rc = run(&u, endpoint.ptr);
    rc = rc < 0 ? hf_cli_fail("upload", rc) : 0;
    hf_shutdown();
out:
    hf_buf_free(&dest);
    hf_buf_free(&endpoint);
    free(a.pos);
    return rc;
}
