/*
 * cmd_upload_large_folder.c: `hfgit upload-large-folder REPO_ID LOCAL_PATH --repo-type TYPE`,
 * huggingface-cli's resumable upload of huge folders, on git + LFS (ulf.h has the pieces). The command lists
 * the folder, warns about the Hub's limits, opens (or creates and clones) the repository in a work clone
 * inside the folder, then commits the files in bounded chunks while the hashing workers run ahead, pushing
 * each chunk. Every step is recorded in a journal next to the clone, so a run that was killed continues where
 * it stopped.
 */
#include "ulf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/config.h"
#include "../common/fsutil.h"

#define ULF_COMMIT_FILES 1000                        /* files per commit ... */
#define ULF_COMMIT_BYTES (5ull * 1024 * 1024 * 1024) /* ... and bytes (a larger single file gets its own) */
#define ULF_MAX_WORKERS 64

static const char help[] =
    "usage: hfgit upload-large-folder [options] REPO_ID LOCAL_PATH --repo-type TYPE\n"
    "\n"
    "Uploads a folder of any size (100,000s of files, TBs) to a Hub repository, resumably, as\n"
    "`huggingface-cli upload-large-folder` does, over git + LFS. The repository is created when it does\n"
    "not exist. Parallel workers hash the files and pre-upload each LFS object as soon as it is hashed\n"
    "(large ones in parallel parts, multipart); the files are committed in chunks of at most 1,000 files\n"
    "and 5 GiB (a bigger file gets a commit of its own) once their LFS objects are on the hub, each chunk\n"
    "pushed in order while the next one is committed. Files of 10 MiB or more and binary files go to LFS.\n"
    "Nothing is deleted on the hub. A status block is printed on stderr every 60 seconds and at the end.\n"
    "\n"
    "Resuming: the state lives in LOCAL_PATH/.cache/huggingface/ (never uploaded): the work clone and a\n"
    "journal of what is hashed (size, mtime, SHA-256), pre-uploaded and committed, appended record by\n"
    "record and rewritten only by atomic rename, so a kill at any moment loses nothing. Run the same\n"
    "command again after a kill or an error: unchanged files are not hashed again, committed ones are\n"
    "skipped, and LFS objects already pre-uploaded (or that the hub has) are not sent again. LFS files are\n"
    "hard-linked into the work clone's LFS store until their chunk is pushed (no copy); plain files are\n"
    "copied. Entries named .git and .cache/huggingface folders are skipped.\n"
    "\n"
    "  --repo-type TYPE      model, dataset or space (required)\n"
    "  --revision BRANCH     branch to commit on (created from the default branch when missing)\n"
    "  --include PATTERN...  upload only files matching a pattern\n"
    "  --exclude PATTERN...  skip files matching a pattern\n"
    "  --num-workers N       workers hashing files and pre-uploading LFS objects (default: the number\n"
    "                        of CPUs minus 2, at least 2)\n"
    "  --no-report           no status block\n"
    "  --private             make the repository private if it has to be created\n"
    "  -q, --quiet / -v, --verbose\n"
    "Patterns are fnmatch(3) globs on paths relative to LOCAL_PATH, as for `hfgit upload`.\n"
    "\n"
    "Warnings (before anything is uploaded): a folder with more than 10,000 entries, or more than 100,000\n"
    "files in the repository (those to upload plus those it holds at other paths), exceeds what the Hub\n"
    "advises. Errors: transient ones (network, HTTP 5xx, 408, 429) are retried\n"
    "by the HTTP layer and then, per pre-upload and per chunk, up to 5 tries 2, 4, 8 and 16 s apart; a\n"
    "refused token (401/403), a file that vanished or changed while being read, and other refusals stop at\n"
    "once with the reason.\n"
    "\n"
    "Environment: HFGIT_ULF_COMMIT_FILES and HFGIT_ULF_COMMIT_BYTES change the chunk limits,\n"
    "HFGIT_ULF_STATUS_SECS the status interval; HF_TOKEN, HF_HOME, HF_ENDPOINT as for every command.\n";

typedef struct ulf_args {
    const char *repo_id, *local_path, *repo_type, *revision, *workers;
    hf_cli_list include, exclude;
    int no_report, private_repo;
} ulf_args;

static unsigned long long env_number(const char *name, unsigned long long def)
{
    const char *v = getenv(name);
    char *end;
    unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
    return v && *v && *end == '\0' && n > 0 ? n : def;
}

/* The next chunk from file *i on, in path order, as the hashes (and pre-uploads) arrive. */
static int next_chunk(ulf_run *r, size_t *i, ulf_chunk *c, uint64_t max_bytes)
{
    int rc = 0;
    c->count = 0;
    c->bytes = 0;
    while (*i < r->count && c->count < c->cap) {
        ulf_file *f = &r->files[*i];
        /* a worker may still be updating the size of a file that changed since the listing: read it only
         * once the hash is in */
        if ((rc = ulf_hash_wait(r, f)) < 0) break;
        if (atomic_load(&f->state) == ULF_COMMITTED) {
            ++*i;
            continue;
        }
        if (c->count && c->bytes + f->size > max_bytes) break; /* f starts the next chunk */
        c->files[c->count++] = f;
        c->bytes += f->size;
        ++*i;
    }
    return rc;
}

/* A chunk's push on a thread of its own: it records the chunk as committed as soon as the hub has it. */
typedef struct pusher {
    ulf_run *r;
    hf_repo *repo;
    ulf_chunk *c;
    size_t number;
    int rc;
    char msg[1024];
    pthread_t thread;
    int running;
} pusher;

static void *push_thread(void *arg)
{
    pusher *p = arg;
    atomic_fetch_add(&p->r->stats.committing, 1);
    p->rc = ulf_push_now(p->r, p->repo, p->number);
    atomic_fetch_sub(&p->r->stats.committing, 1);
    if (p->rc == 0) p->rc = ulf_chunk_pushed(p->r, p->repo, p->c);
    if (p->rc < 0) (void)snprintf(p->msg, sizeof(p->msg), "%s", hf_error_last_message());
    return NULL;
}

/* Waits for the push in flight, if any: its result (with its message set in this thread). */
static int push_join(pusher *p)
{
    if (!p->running) return 0;
    pthread_join(p->thread, NULL);
    p->running = 0;
    return p->rc < 0 ? hf_error_set(p->rc, "%s", p->msg) : 0;
}

/* Commits every file not yet committed, chunk by chunk. A chunk's push runs on its own thread while the next
 * chunk is committed (at most one push in flight, so the hub gets the commits in order); a chunk is recorded
 * as committed once its push is done. */
static int commit_all(ulf_run *r, hf_repo *repo, size_t *commits)
{
    size_t max_files = (size_t)env_number("HFGIT_ULF_COMMIT_FILES", ULF_COMMIT_FILES);
    uint64_t max_bytes = env_number("HFGIT_ULF_COMMIT_BYTES", ULF_COMMIT_BYTES);
    ulf_chunk c[2] = {{calloc(max_files, sizeof(ulf_file *)), 0, max_files, 0},
                      {calloc(max_files, sizeof(ulf_file *)), 0, max_files, 0}};
    int rc = c[0].files && c[1].files ? 0 : hf_error_set(HF_ENOMEM, "out of memory");
    pusher p;
    memset(&p, 0, sizeof(p));
    p.r = r;
    p.repo = repo;
    int cur = 0;
    size_t i = 0;
    while (rc == 0 && i < r->count) {
        if ((rc = next_chunk(r, &i, &c[cur], max_bytes)) < 0 || c[cur].count == 0) break;
        rc = ulf_commit_chunk(r, repo, &c[cur], *commits + 1);
        int prc = push_join(&p); /* the previous chunk's push, which ran meanwhile */
        if (rc == 0) rc = prc;
        if (rc < 0) break;
        ++*commits;
        p.c = &c[cur];
        p.number = *commits;
        if (pthread_create(&p.thread, NULL, push_thread, &p) != 0) {
            rc = hf_error_set(HF_ERROR, "cannot start a push thread");
            break;
        }
        p.running = 1;
        cur = 1 - cur;
    }
    int prc = push_join(&p);
    if (rc == 0) rc = prc;
    free(c[0].files);
    free(c[1].files);
    return rc;
}

/* Counts what the journal already holds into the status counters. */
static void count_recorded(ulf_run *r)
{
    for (size_t i = 0; i < r->count; i++) {
        ulf_file *f = &r->files[i];
        int st = atomic_load(&f->state);
        if (st < ULF_HASHED) continue;
        atomic_fetch_add(&r->stats.hashed, 1);
        atomic_fetch_add(&r->stats.reused, 1);
        atomic_fetch_add(&r->stats.hashed_bytes, f->size);
        if (f->lfs) {
            atomic_fetch_add(&r->stats.lfs, 1);
            atomic_fetch_add(&r->stats.lfs_bytes, f->size);
        }
        if (f->lfs && st >= ULF_UPLOADED) {
            atomic_fetch_add(&r->stats.uploaded, 1);
            atomic_fetch_add(&r->stats.uploaded_bytes, f->size);
        }
        if (st == ULF_COMMITTED) {
            atomic_fetch_add(&r->stats.committed, 1);
            atomic_fetch_add(&r->stats.committed_bytes, f->size);
        }
    }
}

/* LOCAL_PATH/.cache/huggingface/hfgit/<type>s/<ns>/<name>, created, with a .gitignore of "*" one level up
 * (as huggingface_hub writes) so the state never lands in a git repository the folder may be part of. */
static int state_dir(hf_buf *out, const ulf_args *u)
{
    hf_buf ign = HF_BUF_INIT;
    hf_buf_clear(out);
    hf_buf_printf(out, "%s/.cache/huggingface/hfgit/%ss/%s/", u->local_path, u->repo_type, u->repo_id);
    int rc = hf_mkdir_parents(out->ptr, 0777);
    hf_buf_printf(&ign, "%s/.cache/huggingface/.gitignore", u->local_path);
    if (rc == 0 && access(ign.ptr, F_OK) < 0) {
        FILE *f = fopen(ign.ptr, "w");
        if (f) {
            (void)fputs("*\n", f);
            (void)fclose(f);
        }
    }
    hf_buf_free(&ign);
    out->ptr[--out->len] = '\0';
    return rc;
}

static int run(ulf_args *u, const char *endpoint)
{
    ulf_run r;
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    r.local_path = u->local_path;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    r.workers = u->workers ? atoi(u->workers) : (int)(cpus - 2 > 2 ? cpus - 2 : 2);
    hf_buf dir = HF_BUF_INIT, path = HF_BUF_INIT;
    hf_repo *repo = NULL;
    ulf_status *status = NULL;
    pthread_t threads[ULF_MAX_WORKERS];
    int hashing = 0, lock_fd = -1;
    unsigned long long uploaded_before = 0;
    size_t commits = 0;
    int rc = ulf_scan(&r, &u->include, &u->exclude);
    if (rc < 0) goto out;
    hf_cli_note("%zu files (%llu bytes) to upload from %s, %zu ignored\n", r.count,
                (unsigned long long)r.total_bytes, u->local_path, r.ignored);
    if ((rc = state_dir(&dir, u)) < 0) goto out;
    hf_buf_printf(&path, "%s/lock", dir.ptr);
    if ((lock_fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
        flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = hf_error_set(HF_EINVAL, "another upload-large-folder of %s to %s is running (%s is locked)",
                          u->local_path, u->repo_id, path.ptr);
        goto out;
    }
    hf_buf_clear(&path);
    hf_buf_printf(&path, "%s/state%s%s", dir.ptr, u->revision ? "@" : "", u->revision ? u->revision : "");
    for (char *p = path.ptr + dir.len + 1; *p; p++)
        if (*p == '/') *p = '_'; /* a branch "a/b" */
    if ((rc = ulf_journal_open(&r.journal, path.ptr, &r)) < 0) goto out;
    count_recorded(&r);
    uploaded_before = atomic_load(&r.stats.uploaded);
    hf_buf_clear(&path);
    hf_buf_printf(&path, "%s/repo", dir.ptr);
    /* the chunks are committed with no_worktree: a re-run reuses the clone without its work tree */
    hf_upload_target t = {u->repo_id, u->repo_type, u->revision, endpoint, u->private_repo, 1};
    if ((rc = hf_upload_open_cache(&repo, &t, path.ptr)) < 0) goto out;
    ulf_warn_repo_files(&r, hf_repo_workdir(repo));
    if ((rc = ulf_status_start(&status, &r, u->no_report || hf_cli_verbosity() < 0)) < 0) goto out;
    r.repo = repo;
    if ((rc = ulf_hash_start(&r, threads)) < 0) goto out;
    hashing = 1;
    rc = commit_all(&r, repo, &commits);
    if (rc == 0) {
        /* every commit is on the hub: whatever a killed run left in the clone's LFS store (links to the
         * folder's files, never pushed) has no use any more */
        hf_buf_clear(&path);
        hf_buf_printf(&path, "%s.git/lfs/objects", hf_repo_workdir(repo));
        (void)hf_upload_remove_tree(path.ptr);
    }
out:
    if (hashing) ulf_hash_stop(&r, threads);
    ulf_status_stop(status);
    if (rc == 0) {
        hf_cli_note(
            "hashed %llu files in this run (%llu hashes reused from the state), pre-uploaded %llu LFS "
            "objects; %zu commits pushed\n",
            (unsigned long long)(atomic_load(&r.stats.hashed) - atomic_load(&r.stats.reused)),
            (unsigned long long)atomic_load(&r.stats.reused),
            (unsigned long long)(atomic_load(&r.stats.uploaded) - uploaded_before), commits);
        hf_buf url = HF_BUF_INIT;
        if (hf_repo_url(&url, endpoint, u->repo_type, u->repo_id) == 0) (void)printf("%s\n", url.ptr);
        hf_buf_free(&url);
    }
    hf_repo_free(repo);
    ulf_journal_close(r.journal);
    if (lock_fd >= 0) close(lock_fd);
    ulf_files_free(&r);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
    hf_buf_free(&dir);
    hf_buf_free(&path);
    return rc;
}

static int check_args(ulf_args *u, const hf_cli_args *a)
{
    struct stat st;
    u->repo_id = a->pos[0];
    u->local_path = a->pos[1];
    if (!u->repo_type)
        return hf_cli_usage_error("upload-large-folder",
                                  "--repo-type is required (model, dataset or space), as in the guide");
    if (strcmp(u->repo_type, "model") != 0 && strcmp(u->repo_type, "dataset") != 0 &&
        strcmp(u->repo_type, "space") != 0)
        return hf_cli_usage_error("upload-large-folder",
                                  "--repo-type must be model, dataset or space, not \"%s\"", u->repo_type);
    if (hf_repo_id_validate(u->repo_id) < 0)
        return hf_cli_usage_error("upload-large-folder", "bad REPO_ID: %s", hf_error_last_message());
    if (u->workers && (atoi(u->workers) < 1 || atoi(u->workers) > ULF_MAX_WORKERS))
        return hf_cli_usage_error("upload-large-folder", "--num-workers must be 1..%d", ULF_MAX_WORKERS);
    if (stat(u->local_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        (void)fprintf(stderr, "hfgit upload-large-folder: %s is not a folder\n", u->local_path);
        return HF_CLI_EXIT_NOTFOUND;
    }
    return -1;
}

int hf_cli_upload_large_folder(int argc, char **argv)
{
    ulf_args u;
    memset(&u, 0, sizeof(u));
    const hf_cli_opt opts[] = {
        {"repo-type", 0, HF_CLI_OPT_STRING, &u.repo_type}, {"revision", 0, HF_CLI_OPT_STRING, &u.revision},
        {"include", 0, HF_CLI_OPT_LIST, &u.include},       {"exclude", 0, HF_CLI_OPT_LIST, &u.exclude},
        {"num-workers", 0, HF_CLI_OPT_STRING, &u.workers}, {"no-report", 0, HF_CLI_OPT_FLAG, &u.no_report},
        {"private", 0, HF_CLI_OPT_FLAG, &u.private_repo},  {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"upload-large-folder", help, opts, 2, 2, NULL, 0};
    hf_buf endpoint = HF_BUF_INIT, local = HF_BUF_INIT;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0 || (rc = check_args(&u, &a)) >= 0) goto out;
    hf_buf_puts(&local, u.local_path);
    while (local.len > 1 && local.ptr[local.len - 1] == '/')
        local.ptr[--local.len] = '\0';
    u.local_path = local.ptr;
    if ((rc = hf_init()) < 0) {
        rc = hf_cli_fail("upload-large-folder", rc);
        goto out;
    }
    rc = hf_config_endpoint(&endpoint);
    if (rc == 0) rc = run(&u, endpoint.ptr);
    rc = rc < 0 ? hf_cli_fail("upload-large-folder", rc) : 0;
    hf_shutdown();
out:
    hf_buf_free(&endpoint);
    hf_buf_free(&local);
    free(a.pos);
    return rc;
}
