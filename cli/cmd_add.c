/* cmd_add.c: `hfgit add` and `hfgit commit`: staging with auto LFS tracking, and committing the index. */
#include "cli.h"
#include "progress.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char add_help[] =
    "usage: hfgit add [options] PATHSPEC...\n"
    "\n"
    "Stages files (\".\" for everything; paths and globs relative to the current directory), honouring\n"
    ".gitignore and including deletions. Files of 10 MiB or more and binary files that are not LFS-tracked\n"
    "yet get a line in .gitattributes first (as huggingface_hub's auto-tracking does); LFS files are hashed\n"
    "and stored under .git/lfs/objects in constant memory.\n"
    "\n"
    "  --no-auto-track    do not add .gitattributes lines (files already tracked still go to LFS)\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static const char commit_help[] =
    "usage: hfgit commit -m MESSAGE [options]\n"
    "\n"
    "Commits the index on the current branch and prints the new commit id. The author is user.name and\n"
    "user.email from the git configuration. Nothing to commit is exit status 5.\n"
    "\n"
    "  -m, --message MSG  the commit message (required)\n"
    "  -a, --all          first stage everything, as `hfgit add .` does\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

/* Appends the components of path to out ("a/b", no leading or trailing '/'), resolving "." and ".." lexically
 * as git does for pathspecs. Returns 0, or -1 when ".." climbs above the start. */
static int push_components(hf_buf *out, const char *path)
{
    for (const char *c = path; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (!out->len) return -1;
            char *slash = strrchr(out->ptr, '/');
            out->len = slash ? (size_t)(slash - out->ptr) : 0;
            out->ptr[out->len] = '\0';
        } else if (n && !(n == 1 && c[0] == '.')) {
            if (out->len) hf_buf_putc(out, '/');
            hf_buf_put(out, c, n);
        }
        c += n + (c[n] == '/');
    }
    return 0;
}

/* The pathspec relative to the working tree for a command-line path, which git takes relative to the current
 * folder ("../x" from a subfolder) or absolute inside the work tree. Returns -1, or an exit status after a
 * message for a path outside the working tree. */
static int repo_path(hf_buf *out, const hf_buf *prefix, const char *workdir, const char *arg)
{
    hf_buf_clear(out);
    hf_buf_puts(out, "");
    int rc = 0;
    if (arg[0] == '/') {
        /* the work tree as libgit2 found it, or its real path (the current folder is compared by its
         * real path in hf_cli_open too) */
        char *real = realpath(workdir, NULL);
        hf_buf abs = HF_BUF_INIT;
        rc = push_components(&abs, arg);
        const char *roots[] = {workdir, real};
        int inside = 0;
        for (size_t i = 0; rc == 0 && !inside && i < 2; i++) {
            hf_buf root = HF_BUF_INIT;
            if (roots[i] && push_components(&root, roots[i]) == 0) {
                size_t n = root.len;
                const char *ap = hf_buf_cstr(&abs);
                if (strlen(ap) >= n && strncmp(ap, hf_buf_cstr(&root), n) == 0 &&
                    (ap[n] == '\0' || ap[n] == '/')) {
                    inside = 1;
                    rc = push_components(out, ap + n);
                }
            }
            hf_buf_free(&root);
        }
        free(real);
        hf_buf_free(&abs);
        if (!inside) rc = -1;
    } else {
        rc = push_components(out, hf_buf_cstr(prefix));
        if (rc == 0) rc = push_components(out, arg);
    }
    if (rc < 0) return hf_cli_usage_error("add", "'%s' is outside the repository at %s", arg, workdir);
    if (out->len == 0) hf_buf_puts(out, "."); /* the root itself */
    return -1;
}

/* 1 when a folder above rel (below the work tree root) holds a ".git": a nested repository or a submodule's
 * work tree, whose files hf_repo_add leaves alone. */
static int in_nested_repo(const char *workdir, const char *rel)
{
    hf_buf p = HF_BUF_INIT;
    struct stat st;
    int nested = 0;
    for (const char *s = strchr(rel, '/'); s && !nested; s = strchr(s + 1, '/')) {
        hf_buf_clear(&p);
        hf_buf_printf(&p, "%s%.*s/.git", workdir, (int)(s - rel), rel);
        nested = lstat(p.ptr, &st) == 0;
    }
    hf_buf_free(&p);
    return nested;
}

/* 1 when pathspec names at least one file of the working tree (ignored ones aside) or of the index (a
 * deleted file): what `git add` wants before it stages anything. */
static int pathspec_matches(git_repository *git, const char *pathspec)
{
    char *items[] = {(char *)pathspec};
    git_strarray arr = {items, 1};
    git_pathspec *ps = NULL;
    git_index *index = NULL;
    git_pathspec_match_list *m = NULL;
    int found = 0;
    if (strcmp(pathspec, ".") == 0) return 1;
    if (git_pathspec_new(&ps, &arr) < 0) return 1; /* hf_repo_add reports a bad pathspec itself */
    if (git_pathspec_match_workdir(&m, git, GIT_PATHSPEC_DEFAULT, ps) == 0)
        for (size_t i = 0; !found && i < git_pathspec_match_list_entrycount(m); i++)
            found = !in_nested_repo(git_repository_workdir(git), git_pathspec_match_list_entry(m, i));
    git_pathspec_match_list_free(m);
    m = NULL;
    if (!found && git_repository_index(&index, git) == 0 &&
        git_pathspec_match_index(&m, index, GIT_PATHSPEC_DEFAULT, ps) == 0 &&
        git_pathspec_match_list_entrycount(m))
        found = 1;
    git_pathspec_match_list_free(m);
    git_index_free(index);
    git_pathspec_free(ps);
    return found;
}

/* Resolves every PATHSPEC argument into paths (a.npos of them, strdup'd). Fails before anything is staged,
 * as git does, when one is outside the work tree (2) or matches no file (4), naming each that matched
 * nothing. */
static int resolve_all(hf_repo *repo, const hf_buf *prefix, const hf_cli_args *a, char **paths)
{
    git_repository *git = NULL;
    hf_buf p = HF_BUF_INIT;
    int rc = -1, missing = 0;
    if (git_repository_open(&git, hf_repo_workdir(repo)) < 0) {
        const git_error *e = git_error_last();
        (void)fprintf(stderr, "hfgit add: cannot open the repository: %s\n",
                      e ? e->message : "unknown error");
        return HF_CLI_EXIT_FAILED;
    }
    for (int i = 0; i < a->npos && rc < 0; i++) {
        if ((rc = repo_path(&p, prefix, hf_repo_workdir(repo), a->pos[i])) >= 0) break;
        if (!pathspec_matches(git, p.ptr)) {
            int ignored = 0;
            struct stat st;
            /* an existing file that .gitignore leaves out is not "missing": say why nothing matched */
            hf_buf full = HF_BUF_INIT;
            hf_buf_printf(&full, "%s%s", hf_repo_workdir(repo), p.ptr);
            if (lstat(full.ptr, &st) == 0 && git_ignore_path_is_ignored(&ignored, git, p.ptr) < 0)
                ignored = 0;
            hf_buf_free(&full);
            (void)fprintf(stderr, "hfgit add: '%s' %s%s%s%s\n", a->pos[i],
                          ignored ? "is ignored by .gitignore (git add -f stages it)"
                                  : "did not match any file",
                          strcmp(p.ptr, a->pos[i]) ? " (" : "", strcmp(p.ptr, a->pos[i]) ? p.ptr : "",
                          strcmp(p.ptr, a->pos[i]) ? " in the repository)" : "");
            missing++;
        }
        paths[i] = strdup(p.ptr);
    }
    if (rc < 0 && missing) {
        (void)fprintf(stderr, "hfgit add: nothing was staged\n");
        rc = HF_CLI_EXIT_NOTFOUND;
    }
    hf_buf_free(&p);
    git_repository_free(git);
    return rc;
}

int hf_cli_add(int argc, char **argv)
{
    const char *dir = NULL;
    int no_auto = 0;
    const hf_cli_opt opts[] = {{"no-auto-track", 0, HF_CLI_OPT_FLAG, &no_auto},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"add", add_help, opts, 1, -1, NULL, 0};
    hf_repo *repo = NULL;
    hf_buf prefix = HF_BUF_INIT;
    char **paths = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0 || (rc = hf_cli_open("add", &repo, dir, &prefix)) != 0) goto out;
    if (!(paths = calloc((size_t)a.npos, sizeof(*paths))) ||
        (rc = resolve_all(repo, &prefix, &a, paths)) >= 0) {
        rc = paths ? rc : hf_cli_fail("add", hf_error_set(HF_ENOMEM, "out of memory"));
        hf_cli_close(repo);
        goto out;
    }
    rc = 0;
    for (int i = 0; i < a.npos && rc == 0; i++) {
        const char *path = paths[i];
        if (!path) {
            rc = hf_cli_fail("add", hf_error_set(HF_ENOMEM, "out of memory"));
            break;
        }
        if (hf_cli_verbosity() > 0) (void)fprintf(stderr, "hfgit add: staging %s\n", path);
        /* hashing progress on a terminal (large files are hashed into the LFS store while staged) */
        hf_cli_progress prog;
        hf_cli_progress_init(&prog, "Hashing");
        (void)hf_repo_set_progress(repo, HF_PROGRESS_HASH, hf_cli_progress_cb, &prog);
        int err = hf_repo_add(repo, path, !no_auto);
        (void)hf_repo_set_progress(repo, HF_PROGRESS_HASH, NULL, NULL);
        hf_cli_progress_end(&prog);
        if (err < 0) rc = hf_cli_fail("add", err);
    }
    hf_cli_close(repo);
out:
    for (int i = 0; paths && i < a.npos; i++)
        free(paths[i]);
    free(paths);
    hf_buf_free(&prefix);
    free(a.pos);
    return rc;
}

/* The commit's author comes from user.name and user.email; when one is missing, says which and how to set it
 * (the library's own message speaks of its C options). Returns -1 when both are there, else the exit status.
 */
static int check_author(hf_repo *repo)
{
    git_repository *git = NULL;
    git_config *cfg = NULL;
    git_buf name = {0}, email = {0};
    int have_name = 0, have_email = 0;
    if (git_repository_open(&git, hf_repo_workdir(repo)) == 0 &&
        git_repository_config_snapshot(&cfg, git) == 0) {
        have_name = git_config_get_string_buf(&name, cfg, "user.name") == 0 && name.size;
        have_email = git_config_get_string_buf(&email, cfg, "user.email") == 0 && email.size;
    }
    if (!have_name || !have_email) {
        (void)fprintf(stderr, "hfgit commit: the commit needs an author, and git has no %s%s%s",
                      have_name ? "" : "user.name", !have_name && !have_email ? " and no " : "",
                      have_email ? "" : "user.email");
        if (have_name) (void)fprintf(stderr, " (user.name is \"%s\")", name.ptr);
        if (have_email) (void)fprintf(stderr, " (user.email is \"%s\")", email.ptr);
        (void)fprintf(stderr, ". Set %s, then commit again:\n", !have_name && !have_email ? "them" : "it");
        if (!have_name) (void)fprintf(stderr, "  git config --global user.name \"Your Name\"\n");
        if (!have_email) (void)fprintf(stderr, "  git config --global user.email \"you@example.com\"\n");
        (void)fprintf(stderr, "(without --global for this repository only)\n");
    }
    git_buf_dispose(&name);
    git_buf_dispose(&email);
    git_config_free(cfg);
    git_repository_free(git);
    return have_name && have_email ? -1 : HF_CLI_EXIT_FAILED;
}

int hf_cli_commit(int argc, char **argv)
{
    const char *dir = NULL, *message = NULL;
    int all = 0;
    const hf_cli_opt opts[] = {{"message", 'm', HF_CLI_OPT_STRING, &message},
                               {"all", 'a', HF_CLI_OPT_FLAG, &all},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"commit", commit_help, opts, 0, 0, NULL, 0};
    hf_repo *repo = NULL;
    char id[41];
    int rc = hf_cli_parse(&a, argc, argv);
    free(a.pos);
    if (rc >= 0) return rc;
    if (!message || !*message)
        return hf_cli_usage_error("commit", "a commit message is required (-m MESSAGE)");
    if ((rc = hf_cli_open("commit", &repo, dir, NULL)) != 0) return rc;
    if ((rc = check_author(repo)) >= 0) {
        hf_cli_close(repo);
        return rc;
    }
    rc = all ? hf_repo_add(repo, ".", 1) : 0;
    if (rc == 0 && (rc = hf_repo_commit_id(repo, message, id)) == HF_ENOCHANGES) {
        (void)fprintf(stderr, "hfgit commit: nothing to commit (stage changes with `hfgit add`)\n");
        rc = HF_CLI_EXIT_NOCHANGES;
    } else if (rc < 0) {
        rc = hf_cli_fail("commit", rc);
    } else {
        hf_cli_say("%s\n", id);
    }
    hf_cli_close(repo);
    return rc;
}
