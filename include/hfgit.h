/*
 * hfgit.h: the public API of libhfgit, a Git + Git LFS client for Hugging Face-style hubs built on libgit2.
 *
 * LFS is native: files whose `.gitattributes` say `filter=lfs` are cleaned by the library's own streaming
 * filter into `.git/lfs/objects/aa/bb/<oid>` (byte-identical to what git-lfs writes, so the git CLI and git-lfs
 * work on the same clone), uploaded through the LFS batch API on push (basic and multipart transfers) and
 * downloaded before checkout on clone and pull. No git or git-lfs binary is needed.
 *
 *     hf_init();
 *     hf_repo_options opts = HF_REPO_OPTIONS_INIT;
 *     opts.clone_from = "user/model";              // or a full URL
 *     hf_repo *repo;
 *     if (hf_repo_open(&repo, "./model", &opts) < 0) fprintf(stderr, "%s\n", hf_error_last_message());
 *     ... write files into ./model ...
 *     hf_repo_add(repo, ".", 1);                    // auto-tracks large and binary files with LFS
 *     int rc = hf_repo_commit(repo, "new weights"); // HF_ENOCHANGES when there was nothing to commit
 *     hf_repo_push(repo, NULL, NULL);              // blocking
 *     hf_repo_free(repo);
 *     hf_shutdown();
 *
 * Errors: every function that can fail returns 0 or a negative hf_error_code and leaves a message for
 * hf_error_last_message() on the calling thread (naming the file, the server's answer and the fix where known).
 * Messages never contain the token. A clone or fetch that gets an HTTP 5xx answer from the git server, and a
 * push that gets one before anything was sent, are retried twice (0.3 s, then 0.6 s later); LFS transfers
 * retry on their own.
 *
 * Credentials: the token comes from hf_repo_options.token, else the HF_TOKEN environment variable, else the
 * token file ($HF_HOME/token, default ~/.cache/huggingface/token). It is handed to libgit2's credential
 * callback and to the LFS batch API only; it is never written to .git/config or put into a remote URL.
 *
 * Thread-safety: call hf_init before starting threads and hf_shutdown after they are done (they register the
 * "lfs" filter with libgit2, whose filter registry is not thread-safe). Every function taking an hf_repo may be
 * called from any thread, also while commands of that repo are queued or running. Local work holds the
 * handle's own (recursive) lock, so local changes on one handle are serialised, never interleaved; no call
 * holds it while bytes move or while it waits for the network:
 * - local only, return promptly whatever the network does: hf_repo_is_clean, _status, _add, _commit,
 *   _commit_id, _head_hash, _current_branch, _remote_url, _head_commit_url, _list_deleted_files, _checkout
 *   (when no LFS object is missing), local tags (remote NULL), lfs_track/untrack, queueing a push
 *   (hf_repo_push with out set, unless a bounded queue makes it wait: hf_repo_set_queue_limit), and every
 *   hf_command_* accessor;
 * - queued, return at once: hf_repo_push with out set, hf_repo_add_tag with a remote while commands are
 *   queued or running (sent after them, listed as a command "push refs/tags/<name>"), hf_repo_enqueue;
 * - network, block the caller but not the handle (they use a libgit2 handle of their own and wait only for
 *   the one network operation per repository that runs at a time): blocking hf_repo_push and
 *   hf_repo_push_to_hub (after the commands queued before them), hf_repo_pull, hf_commit_begin's pull,
 *   hf_commit_end's blocking push, hf_repo_tag_exists / hf_repo_delete_tag with a remote (the deletion
 *   after the queued commands), hf_repo_add_tag with a remote when nothing is queued, hf_repo_checkout and
 *   hf_commit_begin's branch when LFS objects are missing (downloaded without the lock, which is then taken
 *   to write the work tree).
 * Queued pushes run on the repo's worker thread with a libgit2 handle of their own; a queued push sends the
 * commit its branch had when it was queued. A push whose git connection moves no byte for
 * HFGIT_HTTP_STALL_SECS (default 60) fails with a message saying so instead of hanging (also hf_repo_free).
 * Exceptions: hf_repo_free must be the last call on a handle (no other thread may still use it), and a queued
 * function must not wait for the queue or free the repository. Two hf_repo handles on one directory are not
 * supported. hf_error_last_message is per thread. Callbacks (hf_progress_cb) may run on the library's transfer
 * threads, never two at once.
 */
#ifndef HFGIT_H
#define HFGIT_H

#include <stddef.h>
#include <stdint.h>

/* The version of this header; hf_version() gives the library's at run time ("MAJOR.MINOR.PATCH"). The
 * Makefile reads these lines, so they are the one place the version is written. */
#define HFGIT_VERSION_MAJOR 0
#define HFGIT_VERSION_MINOR 2
#define HFGIT_VERSION_PATCH 0
/* One number for #if comparisons: HFGIT_VERSION_NUMBER >= HFGIT_VERSION_ENCODE(0, 2, 0). */
#define HFGIT_VERSION_ENCODE(major, minor, patch) ((major) * 1000000L + (minor) * 1000L + (patch))
#define HFGIT_VERSION_NUMBER HFGIT_VERSION_ENCODE(HFGIT_VERSION_MAJOR, HFGIT_VERSION_MINOR, HFGIT_VERSION_PATCH)

/* HF_EXTERN(type) marks a function of the public API: libhfgit is built with -fvisibility=hidden, so only
 * what is declared here with HF_EXTERN is exported from libhfgit.so (tests/integration/t_lib_abi.sh checks
 * that `nm -D` and this header name the same functions). */
#if defined(__GNUC__) || defined(__clang__)
#define HF_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define HF_EXTERN(type) extern type
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The error codes. The library's internal headers include this definition rather than repeating it, so the
 * guard is this header's own and a program may include anything before it. */
#ifndef HFGIT_ERROR_CODE_DEFINED
#define HFGIT_ERROR_CODE_DEFINED
typedef enum hf_error_code {
    HF_OK = 0,
    HF_ERROR = -1,        /* generic failure */
    HF_ENOMEM = -2,       /* out of memory */
    HF_EINVAL = -3,       /* bad argument or malformed input */
    HF_EIO = -4,          /* local file system error */
    HF_EHTTP = -5,        /* the server answered with an error status */
    HF_ENET = -6,         /* transport: connect, reset, timeout */
    HF_EAUTH = -7,        /* 401/403 or no credentials */
    HF_ENOTFOUND = -8,    /* repository, object or path not found */
    HF_EEXISTS = -9,      /* already exists */
    HF_ENOCHANGES = -10,  /* nothing to commit */
    HF_ECANCELLED = -11,  /* stopped by a callback */
    HF_EEXPIRED = -12,    /* a presigned URL or action has expired */
    HF_ETIMEOUT = -13,    /* a wait with a time limit ran out first (hf_repo_wait_for_commands_timeout) */
    HF_EBUSY = -14,       /* the command queue is full (hf_repo_set_queue_limit without blocking) */
} hf_error_code;
#endif

/* The message of the last failed call on this thread; "" when none. Valid until the next hf_ call. */
HF_EXTERN(const char *) hf_error_last_message(void);
/* The code of the last failed call on this thread. */
HF_EXTERN(int) hf_error_last_code(void);
/* "HF_EINVAL", ... */
HF_EXTERN(const char *) hf_error_code_name(int code);
/* Records code and a printf-style message as this thread's last error and returns code: how a queued
 * function (hf_command_fn) explains its failure (the message becomes the command's error text). */
HF_EXTERN(int) hf_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Library version, "MAJOR.MINOR.PATCH". */
HF_EXTERN(const char *) hf_version(void);

/* Initialises libgit2, libcurl and registers the "lfs" filter. Reference-counted: every successful hf_init
 * needs one hf_shutdown. Returns 0 or a negative error code. Call before starting threads. */
HF_EXTERN(int) hf_init(void);
HF_EXTERN(void) hf_shutdown(void);

/* ---------------------------------------------------------------------------------------------------------- */
/* Repositories                                                                                               */

typedef struct hf_repo hf_repo;
typedef struct hf_command hf_command; /* a queued operation: see "Command queue" below */
/* A completion callback: called once per command, on the worker thread, after its status is final (also for
 * a command cancelled before it started, when the worker reaches it), before hf_repo_wait_for_commands
 * returns. It may read the command (hf_command_*) and queue more; it must not wait for the queue, clear it or
 * free the repository. A command has at most one: its own (hf_push_options.on_done,
 * hf_commit_options.on_done, hf_repo_enqueue_with_callback), else the repository's
 * (hf_repo_set_command_callback) when it was queued. */
typedef void (*hf_command_done_cb)(hf_command *cmd, void *payload);

/* Progress: bytes done so far and in total for the whole operation; done only grows and ends at total on
 * success. Return non-zero to cancel (the operation then fails with HF_ECANCELLED).
 * - LFS upload of a push (hf_push_options.progress): objects the server already has count as done; a cancel
 *   stops the push before any git object is sent. Called from the calling thread or a transfer thread.
 * - LFS download (HF_PROGRESS_DOWNLOAD: clone, pull, checkout): the objects missing from the local store, in
 *   bytes received; a cancel stops before the checkout, tree untouched. Called from the library's transfer
 *   threads (not the caller's), never two at once.
 * - hashing (HF_PROGRESS_HASH: hf_repo_add): the sizes of the files being staged (LFS files report as they
 *   are hashed into the store, others when staged). Called on the thread calling hf_repo_add.
 * Callbacks run while the operation holds the repository's locks: they must not call hf_repo_* functions on
 * the same repository (that would deadlock). */
typedef int (*hf_progress_cb)(uint64_t done, uint64_t total, void *payload);

typedef struct hf_repo_options {
    unsigned int version;
    /* Where to clone from: a URL ("https://hub/ns/name", "https://hub/datasets/ns/name") or a repo id
     * ("ns/name", "datasets/ns/name", "spaces/ns/name") resolved against endpoint. NULL: local_dir must
     * already be a git repository. */
    const char *clone_from;
    const char *repo_type;  /* "model" (default), "dataset" or "space": used with a bare repo id */
    const char *token;      /* NULL: HF_TOKEN, else the token file; "" means none */
    const char *endpoint;   /* NULL: HF_ENDPOINT, else https://huggingface.co */
    const char *git_user;   /* written to the repository's config when set (user.name) */
    const char *git_email;  /* written to the repository's config when set (user.email) */
    const char *revision;   /* branch, tag or commit to check out after opening (a branch is created if missing) */
    int skip_lfs_files;     /* 1: clone/pull leave LFS pointer files instead of downloading the objects */
    /* Since version 2: progress of LFS downloads (clone, pull, checkout) and of hashing (add), or NULL; the
     * same as hf_repo_set_progress right after opening, but also covering the clone inside hf_repo_open. */
    hf_progress_cb download_progress;
    void *download_progress_payload;
    hf_progress_cb hash_progress;
    void *hash_progress_payload;
    /* Since version 3: byte ranges fetched at once for each large LFS object (clone, pull, checkout), 1..64;
     * 0: HFGIT_DOWNLOAD_PARALLEL, else 16. Range size: HFGIT_DOWNLOAD_RANGE_SIZE (default 16 MiB). A killed
     * download resumes from the ranges already in .git/lfs/incomplete. */
    int download_parallel;
} hf_repo_options;

#define HF_REPO_OPTIONS_VERSION 3 /* versions 1 (no progress fields) and 2 (no download_parallel) are accepted */
#define HF_REPO_OPTIONS_INIT {HF_REPO_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0}

/* Opens local_dir:
 * - clone_from set and local_dir missing or empty: clones; the LFS objects of the checked-out commit are
 *   downloaded (in parallel, SHA-256 checked) before the checkout, unless skip_lfs_files;
 * - clone_from set and local_dir a clone of that same remote: opens it (no fetch; call hf_repo_pull);
 * - clone_from NULL and local_dir a git repository: opens it;
 * - a non-empty directory that is not a repository, or a clone of another remote: HF_EEXISTS; no clone_from
 *   and no repository: HF_ENOTFOUND; the message says what to do. A failed clone leaves no directory behind
 *   (when it created it). A remote repository that does not exist (HTTP 404) is HF_ENOTFOUND with a message
 *   naming it; a missing or refused token (HTTP 401/403) is HF_EAUTH, for clone as for pull and push.
 * A remote without commits (how the Hub creates repositories) clones onto the branch its HEAD names when
 * the server says (protocol v2), else main, whatever the machine's init.defaultBranch; the first commit and
 * push create that branch. A failed open removes the clone it made, also when only the revision failed.
 * Then revision, when set, is checked out: a local branch; a branch of origin (a tracking branch is
 * created); a tag or commit (detached HEAD); else a new branch of that name at HEAD (on a repository
 * without commits: the unborn branch the first commit will create). */
HF_EXTERN(int) hf_repo_open(hf_repo **out, const char *local_dir, const hf_repo_options *opts);

/* What hf_repo_set_progress sets (a bit mask). */
#define HF_PROGRESS_DOWNLOAD 1u /* LFS downloads of clone, pull and checkout */
#define HF_PROGRESS_HASH 2u     /* hashing during hf_repo_add */

/* Sets (or with cb NULL clears) the progress callback for the kinds in `kinds` (HF_PROGRESS_*); payload and
 * cb must stay valid while set, and, since pull and checkout download without holding the handle, until
 * those already running have returned. Returns 0, or HF_EINVAL for no repository or an unknown kind. */
HF_EXTERN(int) hf_repo_set_progress(hf_repo *repo, unsigned int kinds, hf_progress_cb cb, void *payload);

/* Waits for queued commands, then frees the handle. NULL is fine. */
HF_EXTERN(void) hf_repo_free(hf_repo *repo);

/* The absolute path of the working tree, with a trailing '/'. */
HF_EXTERN(const char *) hf_repo_workdir(const hf_repo *repo);

/* Stages files matching pathspec ("." for everything; a path or a glob relative to the working tree),
 * honouring .gitignore, including deletions. With auto_lfs_track, files of 10 MiB or more and binary files
 * (a byte outside the text set in the first 10 MiB) that are not yet LFS-tracked get a line
 * `<path> filter=lfs diff=lfs merge=lfs -text` in .gitattributes first (path escaped as
 * hf_repo_lfs_track_filenames does, so `model[0].bin` tracks that file and nothing else), and lines naming
 * deleted files are removed. LFS-tracked files are cleaned into .git/lfs/objects while being staged, in constant memory.
 * A subdirectory holding a `.git` (directory or file: a nested repository, a submodule's working tree) is
 * skipped with everything below it, without an error: its files are not staged and no gitlink is added
 * (git would add a gitlink; huggingface_hub's upload skips .git folders too). */
HF_EXTERN(int) hf_repo_add(hf_repo *repo, const char *pathspec, int auto_lfs_track);

/* Commits the index on the current branch (creating it on an unborn HEAD). Returns HF_ENOCHANGES, with a
 * message, when the index equals HEAD's tree. The author is git_user/git_email, else user.name/user.email
 * from the git configuration. */
HF_EXTERN(int) hf_repo_commit(hf_repo *repo, const char *message);
/* The same, writing the new commit's hex id (40 characters and a NUL) to out_id on success. */
HF_EXTERN(int) hf_repo_commit_id(hf_repo *repo, const char *message, char out_id[41]);

/* 1 when the working tree and the index match HEAD (untracked files count as changes), 0 when not, or a
 * negative error code. Files staged by hf_repo_add or written by a checkout are not re-read. */
HF_EXTERN(int) hf_repo_is_clean(hf_repo *repo);


typedef struct hf_push_options {
    unsigned int version;
    const char *remote;       /* default "origin" */
    const char *branch;       /* local branch to push to the same name on the remote; default: the current one */
    int set_upstream;         /* 1: record branch.<name>.remote/merge (default 1) */
    int multipart;            /* 1: offer the "multipart" transfer to the server (default 1) */
    hf_progress_cb progress;  /* LFS upload progress, or NULL (queued pushes: called off the caller's thread) */
    void *progress_payload;
    int auto_lfs_prune;       /* 1: after a successful push, hf_repo_lfs_prune (default 0) */
    uint64_t max_rate;        /* LFS upload bandwidth of this push, bytes per second (0: no limit of its own;
                               * HFGIT_MAX_RATE still caps every transfer of the process together) */
    /* Since version 2: this queued push's own completion callback (instead of the repository's), called once
     * with on_done_payload, which must stay valid until then; NULL: the repository's. A blocking push (no
     * command) ignores it. */
    hf_command_done_cb on_done;
    void *on_done_payload;
} hf_push_options;

#define HF_PUSH_OPTIONS_VERSION 2 /* version 1 (no on_done) is still accepted */
#define HF_PUSH_OPTIONS_INIT {HF_PUSH_OPTIONS_VERSION, NULL, NULL, 1, 1, NULL, NULL, 0, 0, NULL, NULL}

/* Pushes the branch: first uploads the LFS objects reachable from the pushed commits and not from the
 * remote's refs (batch API, basic or multipart, verified), then the git objects and the ref. A ref the
 * server rejects is an error carrying the server's message. opts may be NULL.
 * out == NULL: blocks until done (after the commands queued before it, so the remote moves forward in order;
 * the handle stays usable from other threads meanwhile). out != NULL: queues the push (title "push") and returns at once with *out
 * set. What is pushed is decided now: the branch (opts->branch, else the current one) and its current commit,
 * pinned under refs/hfgit/push/ until the push ran, so later commits or checkouts do not change it. The
 * strings of opts are copied; progress and progress_payload must stay valid until the command is done. */
HF_EXTERN(int) hf_repo_push(hf_repo *repo, const hf_push_options *opts, hf_command **out);

/* Fetches the current branch's upstream, downloads the LFS objects its new commits need (unless
 * skip_lfs_files) and fast-forwards the branch and working tree (rebase = 1 also rebases local commits on
 * top). A pull that would need a merge fails with HF_EINVAL and leaves the tree unchanged. As with git +
 * git-lfs, files are checked out with the .gitattributes of the commits being checked out: a commit that adds
 * a file together with the line making it LFS gives the file's content, not its pointer (also for clone and
 * hf_repo_checkout). */
HF_EXTERN(int) hf_repo_pull(hf_repo *repo, int rebase);

/* ---------------------------------------------------------------------------------------------------------- */
/* Command queue (huggingface_hub's command_queue / CommandInProgress, but ordered)                            */
/*
 * Each repository has one worker thread, started by the first queued command, that runs queued commands one
 * after the other in submission order. A failed command does not stop the ones after it; each keeps its own
 * status and error text. Commands belong to the repository and stay valid until hf_repo_free, which first
 * waits for all of them (with HFGIT_TRACE=1 it traces a notice after 5 s and every 10 s while it waits, like
 * the reference's atexit hook; the library never writes to stderr or stdout otherwise). All hf_command_*
 * functions are thread-safe and never block, except hf_command_wait.
 */

/* -1 while queued or running, 0 done, > 0 failed: the failure's hf_error_code negated (7 = HF_EAUTH, ...).
 * cmd NULL: status 3 (HF_EINVAL negated, with a message), is_done and failed 0. */
HF_EXTERN(int) hf_command_status(const hf_command *cmd);
HF_EXTERN(int) hf_command_is_done(const hf_command *cmd);  /* 1 when status != -1 */
HF_EXTERN(int) hf_command_failed(const hf_command *cmd);   /* 1 when status > 0 */
/* The failure's message ("" while running or after success). Never contains the token. */
HF_EXTERN(const char *) hf_command_error(const hf_command *cmd);
/* "push", or the title given to hf_repo_enqueue. */
HF_EXTERN(const char *) hf_command_title(const hf_command *cmd);
/* Bytes moved so far and in total (LFS upload of a push; whatever a queued function reports); 0/0 when the
 * command moves no data or has not started. */
HF_EXTERN(void) hf_command_progress(const hf_command *cmd, uint64_t *done, uint64_t *total);
/* Blocks until this command is done and its completion callback, if it has one, has returned (for a command
 * cancelled before it started, that is when the worker reaches it); returns its status (0 or > 0). HF_EINVAL
 * from the worker thread. */
HF_EXTERN(int) hf_command_wait(hf_command *cmd);

/* A function run on the worker thread: returns 0 or a negative hf_error_code (with hf_error_set's message,
 * which becomes the command's error). It may call any hf_repo_* function on repo (they lock as usual), but not
 * hf_repo_wait_for_commands, hf_command_wait or hf_repo_free (they return HF_EINVAL / would deadlock). */
typedef int (*hf_command_fn)(hf_repo *repo, hf_command *cmd, void *payload);

/* Queues fn(repo, cmd, payload) under title (copied; NULL: "command"). *out (may be NULL) gets the command. */
HF_EXTERN(int) hf_repo_enqueue(hf_repo *repo, const char *title, hf_command_fn fn, void *payload, hf_command **out);
/* For a queued function: reports its progress (read by hf_command_progress). */
HF_EXTERN(void) hf_command_report_progress(hf_command *cmd, uint64_t done, uint64_t total);

/* The number of failed commands / of commands queued or running; when out is not NULL, up to cap of them
 * are written there, oldest first. */
HF_EXTERN(size_t) hf_repo_commands_failed(hf_repo *repo, hf_command **out, size_t cap);
HF_EXTERN(size_t) hf_repo_commands_in_progress(hf_repo *repo, hf_command **out, size_t cap);
/* Every command queued so far (done or not), oldest first: the count, and the i-th (NULL past the end). */
HF_EXTERN(size_t) hf_repo_command_count(hf_repo *repo);
HF_EXTERN(hf_command *) hf_repo_command_at(hf_repo *repo, size_t i);
/* Blocks until nothing is queued or running. Returns the number of failed commands among all queued so far
 * (0: all succeeded; hf_repo_commands_failed lists them), or HF_EINVAL when called from the worker thread. */
HF_EXTERN(int) hf_repo_wait_for_commands(hf_repo *repo);
/* The same, waiting at most timeout_ms milliseconds (< 0: no limit): HF_ETIMEOUT when commands are still
 * queued or running then (they go on). Every completion callback of the commands waited for has returned. */
HF_EXTERN(int) hf_repo_wait_for_commands_timeout(hf_repo *repo, long timeout_ms);

/* --- queue controls for long runs (a training loop pushing every N steps) --- */

/* Completion callbacks (hf_command_done_cb, declared at hf_command): a command's own, given when it is queued
 * (hf_push_options.on_done, hf_commit_options.on_done, hf_repo_enqueue_with_callback), takes precedence:
 * only it fires. A command without one gets the repository's, as set when it was queued (tag pushes of
 * hf_repo_add_tag and hf_repo_create_commit's queued push always do). Sets the repository's callback (or with
 * cb NULL none) for the commands queued from now on; payload must stay valid while they may run. */
HF_EXTERN(int) hf_repo_set_command_callback(hf_repo *repo, hf_command_done_cb cb, void *payload);
/* hf_repo_enqueue with the command's own completion callback (on_done NULL: the repository's), called once
 * with on_done_payload after fn's status is final, also when the command is cancelled before it started. Not
 * called when queueing fails. */
HF_EXTERN(int) hf_repo_enqueue_with_callback(hf_repo *repo, const char *title, hf_command_fn fn, void *payload,
                                             hf_command_done_cb on_done, void *on_done_payload, hf_command **out);

/* Cancels a command. Not started yet: returns 0 and its status is HF_ECANCELLED (11) at once; it will not
 * run (a queued push sends nothing). Running: returns 1 and the command stops at its next safe point: a push
 * during its LFS upload or before its git objects are sent (status HF_ECANCELLED, the remote's branch and tag
 * refs unchanged; objects already uploaded stay on the LFS server, as with an interrupted git-lfs push); once
 * the git objects are on their way it completes. HF_EINVAL when it has already finished. */
HF_EXTERN(int) hf_command_cancel(hf_command *cmd);
/* 1 when hf_command_cancel asked this running command to stop: a queued function (hf_command_fn) polls it at
 * its own safe points and returns HF_ECANCELLED. 0 otherwise (also for NULL). */
HF_EXTERN(int) hf_command_cancel_requested(const hf_command *cmd);

/* The commit a push command sends (its branch's commit when it was queued; a tag push: the tagged commit), 40
 * hex characters and a NUL. HF_ENOTFOUND for commands that send no commit (hf_repo_enqueue's). */
HF_EXTERN(int) hf_command_commit_id(const hf_command *cmd, char out[41]);
/* That commit's page on the hub, "<remote URL>/commit/<sha>" (as hf_repo_head_commit_url); free() it.
 * HF_ENOTFOUND for commands without one. */
HF_EXTERN(int) hf_command_commit_url(const hf_command *cmd, char **out);

/* Bounds the queue: at most max_pending queued pushes waiting or running (0: no bound, the default). A queued
 * push beyond that waits for room (block = 1; holding no lock of the handle, so other threads go on) or fails
 * with HF_EBUSY (block = 0; also from the worker thread). Tag pushes and hf_repo_enqueue's functions do not
 * count. A slow link then shows as backpressure instead of a growing backlog of pinned commits on disk. */
HF_EXTERN(int) hf_repo_set_queue_limit(hf_repo *repo, size_t max_pending, int block);

/* Frees the records of finished commands (those the worker is done with) and returns how many: a week-long
 * run need not keep one per push. Pointers to them become invalid and hf_repo_command_at's indices shift;
 * hf_repo_commands_failed no longer counts them. Call it from the thread that owns the command pointers. */
HF_EXTERN(size_t) hf_repo_commands_clear_done(hf_repo *repo);

/* ---------------------------------------------------------------------------------------------------------- */
/* Commit context (huggingface_hub's `with repo.commit(message):`)                                             */
/*
 *     int rc = 0;
 *     hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
 *     co.result = &rc;
 *     HF_REPO_COMMIT(repo, "My first file :)", &co) {
 *         char path[4096];
 *         FILE *f = hf_repo_path(repo, "file.txt", path, sizeof path) == 0 ? fopen(path, "w") : NULL;
 *         if (!f)
 *             HF_COMMIT_FAIL(-1);        // nothing is added, committed or pushed
 *         fputs("hello\n", f);
 *         fclose(f);
 *     }
 *     if (rc < 0) fprintf(stderr, "%s\n", hf_error_last_message());
 *
 * Unlike the reference, a failed body commits and pushes nothing, and nothing changes the process's current
 * directory: build paths with hf_repo_path.
 */

typedef struct hf_commit_ctx hf_commit_ctx;

typedef struct hf_commit_options {
    unsigned int version;
    const char *branch;     /* checked out first (created at HEAD when it exists nowhere); NULL: current */
    int track_large_files;  /* hf_repo_add's auto_lfs_track at the end (default 1) */
    int blocking;           /* 1: the push at the end blocks (default); 0: it is queued (hf_repo_command_at) */
    int auto_lfs_prune;     /* 1: hf_repo_lfs_prune after the push (default 0) */
    int *result;            /* HF_REPO_COMMIT stores the outcome here (begin's or end's return), when set */
    /* Since version 2, the older way to get the queued push (hf_commit_end's command_out is the newer one;
     * both work): with blocking 0, hf_commit_end stores the queued push here (NULL when nothing was pushed or
     * on failure). HF_REPO_COMMIT has no other way to return it. */
    hf_command **command;
    /* Since version 3: with blocking 0, the queued push's own completion callback (as
     * hf_push_options.on_done; NULL: the repository's). Not called when nothing was queued (blocking, nothing
     * to push, a failure). */
    hf_command_done_cb on_done;
    void *on_done_payload;
} hf_commit_options;

#define HF_COMMIT_OPTIONS_VERSION 3 /* versions 1 (no `command`) and 2 (no on_done) are still accepted */
#define HF_COMMIT_OPTIONS_INIT {HF_COMMIT_OPTIONS_VERSION, NULL, 1, 1, 0, NULL, NULL, NULL, NULL}

/* Begins a commit: checks out opts->branch when set (created if missing), then, when the branch has an
 * upstream and no command of this repository is queued or running, pulls with rebase (with queued pushes
 * in flight the remote is about to become what they push, and a pull would race them). Fails on a detached
 * HEAD. message is copied. opts may be NULL. On failure *out is NULL and nothing needs ending. */
HF_EXTERN(int) hf_commit_begin(hf_commit_ctx **out, hf_repo *repo, const char *message, const hf_commit_options *opts);
/* Ends it and frees ctx. body_status 0: adds everything (auto-tracking per track_large_files), commits
 * (nothing to commit is fine), pushes (blocking or queued) and prunes when asked; returns 0 or the first
 * failure. body_status != 0: adds, commits and pushes nothing, leaves the working tree exactly as the body
 * left it, and returns HF_ECANCELLED with a message saying so. command_out (may be NULL) gets the queued push
 * of a non-blocking context (its hf_command_commit_id is the commit just made), else NULL (blocking, nothing
 * committed, a failure); opts->command, when set, gets the same. The lock of the handle is not held while
 * the pull of begin or the push of end moves bytes. */
HF_EXTERN(int) hf_commit_end(hf_commit_ctx *ctx, int body_status, hf_command **command_out);

/* HF_REPO_COMMIT(repo, message, opts) { body }: begin, the body, end. Inside the body, HF_COMMIT_FAIL(status)
 * marks the body failed (status != 0) and leaves it; plain `break` leaves it as a success. Use HF_COMMIT_FAIL
 * directly in the body or in a switch of it (inside a nested loop it only ends that loop's iteration, though
 * the body still counts as failed). Do not `return` or `goto` out of the body: the commit would never end.
 * The outcome goes to opts->result when set; when begin fails the body does not run. */
typedef struct hf_commit_block {
    hf_commit_ctx *ctx;
    int body_status;
    int state; /* 0 body to run, 1 body done, 2 ended */
    int *result;
} hf_commit_block;
HF_EXTERN(hf_commit_block) hf_commit_block_begin(hf_repo *repo, const char *message, const hf_commit_options *opts);
HF_EXTERN(void) hf_commit_block_end(hf_commit_block *b);

#define HF_REPO_COMMIT(repo, message, opts)                                                                    \
    for (hf_commit_block hf_commit_blk_ = hf_commit_block_begin((repo), (message), (opts));                   \
         hf_commit_blk_.state < 2; hf_commit_block_end(&hf_commit_blk_))                                      \
        for (; hf_commit_blk_.state == 0; hf_commit_blk_.state = 1)
/* One statement, so `if (x) HF_COMMIT_FAIL(-1); else ...` works; status is evaluated once. It is a switch
 * ending in `continue` (the body's loop then ends), not the usual do/while(0), because it has to leave the
 * body, and not if/else, which draws -Wdangling-else after a plain `if (x)`. */
#define HF_COMMIT_FAIL(status)                                                                                 \
    switch (hf_commit_blk_.body_status = (status),                                                             \
            hf_commit_blk_.body_status = hf_commit_blk_.body_status ? hf_commit_blk_.body_status : -1)         \
    default:                                                                                                   \
        continue

/* Joins the working tree and a path relative to it into out (size bytes). HF_EINVAL for an empty or
 * absolute path, a ".." component, or when out is too small. Thread-safe. */
HF_EXTERN(int) hf_repo_path(const hf_repo *repo, const char *relative, char *out, size_t size);

/* huggingface_hub's push_to_hub: with clean_ok and a clean repository, does nothing and returns 0 (*out_cmd
 * NULL). Otherwise adds everything with auto-tracking, commits message (HF_ENOCHANGES when there is nothing
 * to commit) and pushes the current branch: blocking, or queued with *out_cmd set (out_cmd may be NULL).
 * auto_lfs_prune prunes after the push. */
HF_EXTERN(int) hf_repo_push_to_hub(hf_repo *repo, const char *message, int blocking, int clean_ok, int auto_lfs_prune,
                        hf_command **out_cmd);

/* ---------------------------------------------------------------------------------------------------------- */
/* Inspecting and switching                                                                                   */

/* A list of strings owned by the caller: free with hf_strarray_dispose. */
typedef struct hf_strarray {
    char **strings;
    size_t count;
} hf_strarray;
HF_EXTERN(void) hf_strarray_dispose(hf_strarray *arr);

/* Strings returned through char ** are the caller's to free() (NULL on failure). */
/* The current branch's short name, or "HEAD" when HEAD is detached (as `git rev-parse --abbrev-ref HEAD`). */
HF_EXTERN(int) hf_repo_current_branch(hf_repo *repo, char **out);
/* HEAD's commit id, 40 hex characters and a NUL. HF_ENOTFOUND on an unborn branch. */
HF_EXTERN(int) hf_repo_head_hash(hf_repo *repo, char out[41]);
/* origin's URL without credentials. */
HF_EXTERN(int) hf_repo_remote_url(hf_repo *repo, char **out);
/* "<remote URL>/commit/<head sha>", i.e. <endpoint>/<prefix><ns>/<name>/commit/<sha> (prefix "datasets/",
 * "spaces/" or none): the page of the HEAD commit on the hub. */
HF_EXTERN(int) hf_repo_head_commit_url(hf_repo *repo, char **out);
/* One changed path, as `git status --short` shows it: index_status is HEAD against the index ('A', 'M', 'D',
 * 'R', 'T' or ' '), worktree_status the index against the working tree ('M', 'D', 'T', ' ', or '?' for an
 * untracked file, then with index_status ' '); lfs is 1 when the path's attributes say filter=lfs. */
typedef struct hf_status_entry {
    char *path;
    char index_status;
    char worktree_status;
    int lfs;
} hf_status_entry;

typedef struct hf_status {
    hf_status_entry *entries; /* sorted by path (byte order) */
    size_t count;
} hf_status;

/* The changes of the index and working tree, like `git status --short --untracked-files=all` (ignored files
 * and files of nested repositories left out). Files whose stat data matches the index are not read; a changed
 * LFS-tracked file is hashed by streaming it (constant memory, nothing written to the store), unlike
 * libgit2's status, which reads a modified filtered file whole into memory. Free with hf_status_dispose. */
HF_EXTERN(int) hf_repo_status(hf_repo *repo, hf_status *out);
HF_EXTERN(void) hf_status_dispose(hf_status *status);

/* Paths deleted in the working tree or the index relative to HEAD (what `git status -s` marks D). */
HF_EXTERN(int) hf_repo_list_deleted_files(hf_repo *repo, hf_strarray *out);
/* huggingface_hub's git_checkout: a local branch, a branch of origin (a tracking branch is created), a tag
 * or commit (detached HEAD); an unknown revision becomes a new branch at HEAD when create_branch_ok, else
 * HF_ENOTFOUND. LFS objects are downloaded first, without holding the handle's lock (other threads' calls on
 * the handle go on meanwhile); then the lock is taken to write the work tree. Conflicting local changes fail
 * without touching the tree. */
HF_EXTERN(int) hf_repo_checkout(hf_repo *repo, const char *revision, int create_branch_ok);

/* ---------------------------------------------------------------------------------------------------------- */
/* Tags. remote NULL: the local tags only; else also that remote ("origin").                                 */

/* 1 when the tag exists (locally, or with remote set on that remote, as `git ls-remote`), 0 when not. */
HF_EXTERN(int) hf_repo_tag_exists(hf_repo *repo, const char *name, const char *remote);
/* Tags HEAD (annotated when message is set) and, with remote, pushes the tag there. HF_EEXISTS when the tag
 * exists locally. With commands queued or running (a push uploading), the tag push is queued behind them as a
 * command titled "push refs/tags/<name>" and this returns at once (hf_repo_wait_for_commands waits for it, a
 * failure shows in the command list); otherwise it is sent before this returns. */
HF_EXTERN(int) hf_repo_add_tag(hf_repo *repo, const char *name, const char *message, const char *remote);
/* Deletes the local tag when it exists and, with remote, the remote one when it exists there. 0 also when
 * there was nothing to delete. */
HF_EXTERN(int) hf_repo_delete_tag(hf_repo *repo, const char *name, const char *remote);

/* ---------------------------------------------------------------------------------------------------------- */
/* LFS housekeeping                                                                                           */

/* Adds `<pattern> filter=lfs diff=lfs merge=lfs -text` to .gitattributes for each pattern not yet tracked
 * (git lfs track; the pattern is written as given). Returns the number of lines added. */
HF_EXTERN(int) hf_repo_lfs_track(hf_repo *repo, const char *const *patterns, size_t count);
/* Tracks each path (relative to the working tree's root) as a literal file name, like
 * `git lfs track --filename`: the line's pattern escapes what would otherwise be a glob or a comment
 * ('*', '?', '[', ']', '#' get a backslash, a space becomes [[:space:]]: `model[0].bin` is written
 * `model\[0\].bin`), byte for byte as git-lfs 3.3.0 writes it; where git-lfs's line would not match the file
 * (a tab, a backslash, a leading '!' or '"') the line escapes that too. A path with a line break: HF_EINVAL.
 * Returns the number of lines added (a path already tracked by the same line adds none). */
HF_EXTERN(int) hf_repo_lfs_track_filenames(hf_repo *repo, const char *const *paths, size_t count);
/* Removes the filter=lfs lines of each pattern (git lfs untrack). Returns the number of lines removed. */
HF_EXTERN(int) hf_repo_lfs_untrack(hf_repo *repo, const char *const *patterns, size_t count);
/* Removes the filter=lfs lines hf_repo_lfs_track_filenames writes for each path (the literal file name
 * escaped the same way: `model[0].bin` removes the line `model\[0\].bin`, not a `model[0].bin` pattern). A
 * path with a line break: HF_EINVAL. Returns the number of lines removed. */
HF_EXTERN(int) hf_repo_lfs_untrack_filenames(hf_repo *repo, const char *const *paths, size_t count);
/* Deletes from .git/lfs/objects the objects already on the remote: those referenced by commits reachable
 * from a remote-tracking branch, except the ones HEAD's tree, the index or an unpushed local commit still
 * refers to. The counts go to out_removed / out_bytes (either may be NULL). The handle's lock is held only
 * while choosing (the files are moved aside, then deleted after it is released: deleting a 64 MiB file can
 * take 100-200 ms). In a training loop prefer hf_push_options.auto_lfs_prune, which prunes on the worker. */
HF_EXTERN(int) hf_repo_lfs_prune(hf_repo *repo, size_t *out_removed, uint64_t *out_bytes);
/* Configures the repository so that the git CLI (git-lfs) uploads large files with the multipart custom
 * transfer agent (lfs.customtransfer.multipart.path = git-lfs-hfmultipart); the library itself needs no
 * configuration for multipart. */
HF_EXTERN(int) hf_repo_lfs_enable_largefiles(hf_repo *repo);

/* ---------------------------------------------------------------------------------------------------------- */
/* Commit operations and pre-upload (huggingface_hub's create_commit and preupload_lfs_files)                 */
/*
 *     hf_commit_op ops[3] = {HF_COMMIT_OP_INIT, HF_COMMIT_OP_INIT, HF_COMMIT_OP_INIT};
 *     ops[0].path_in_repo = "weights/shard-0.bin"; ops[0].data = buf; ops[0].size = len;   // ADD from memory
 *     ops[1].kind = HF_COMMIT_OP_DELETE; ops[1].path_in_repo = "old/";                      // a folder
 *     ops[2].kind = HF_COMMIT_OP_COPY; ops[2].src_path_in_repo = "a.bin"; ops[2].path_in_repo = "b.bin";
 *     hf_repo_preupload_lfs(repo, ops, 1);   // optional: upload now, free buf at once
 *     if (hf_repo_create_commit(repo, ops, 3, "new shards", NULL, NULL) < 0) ...
 *
 * Thread-safety: as every hf_repo function (the handle's lock is held while the commit is built; not while
 * pre-upload moves bytes). An hf_commit_op array belongs to one thread at a time: the library writes to it.
 */
typedef enum hf_commit_op_kind { HF_COMMIT_OP_ADD, HF_COMMIT_OP_DELETE, HF_COMMIT_OP_COPY } hf_commit_op_kind;

typedef struct hf_commit_op {
    hf_commit_op_kind kind;
    const char *path_in_repo;      /* ADD/COPY: destination; DELETE: a file, or a folder ending in '/' */
    const char *local_path;        /* ADD: a file to read, or NULL to take data/size */
    const void *data; size_t size; /* ADD from memory; the library never needs it again after pre-upload */
    const char *src_path_in_repo;  /* COPY: source path */
    const char *src_revision;      /* COPY: NULL = HEAD */
    /* Written by the library (pre-upload, or create_commit itself); leave them zeroed. Once `prepared`, the
     * content is stored (an LFS object in .git/lfs/objects, or a git blob) and named by `oid`: data and
     * local_path are not read again. */
    int prepared;                  /* 1: content stored */
    int lfs;                       /* 1: LFS (oid = SHA-256, lfs_size = size); 0: a git blob (oid = its id) */
    uint64_t lfs_size;
    char oid[65];
    int uploaded;                  /* 1: hf_repo_preupload_lfs sent the LFS object to the server */
    int executable;                /* 1: local_path was executable (the file is committed as such) */
} hf_commit_op;

#define HF_COMMIT_OP_INIT {HF_COMMIT_OP_ADD, NULL, NULL, NULL, 0, NULL, NULL, 0, 0, 0, {0}, 0, 0}

typedef struct hf_create_commit_options {
    unsigned int version;
    const char *branch;            /* NULL: the clone's current branch */
    hf_progress_cb progress;       /* LFS upload progress, as for push; or NULL */
    void *progress_payload;
    /* version 2: */
    int no_worktree;               /* 1: the commit only (branch tree + operations, blobs written straight into
                                    * the object database): the work tree and index stay as they were, so the
                                    * clone shows the commit's files as deleted; for a clone nobody works in
                                    * (an uploader's), where copying every file into it would double the
                                    * writes. opts->branch must be NULL (no checkout). */
    int no_push;                   /* 1: commit locally only (push with hf_repo_push; queued must be NULL) */
} hf_create_commit_options;

#define HF_CREATE_COMMIT_OPTIONS_VERSION 2
#define HF_CREATE_COMMIT_OPTIONS_INIT {HF_CREATE_COMMIT_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0}

/* Stores the content of the ADD operations among ops (not yet prepared) and uploads their LFS objects now
 * (batch API, multipart where the server says so; objects the server has are skipped). An ADD becomes LFS as
 * hf_repo_add decides: its path tracked by .gitattributes, 10 MiB or more, or binary; the others are stored
 * as git blobs (nothing to upload). On 0, every ADD has data set to NULL (the caller may free its buffer at
 * once) and its pointer recorded in the op; nothing is visible on the remote until hf_repo_create_commit,
 * which then uploads nothing again. Memory stays flat: data is written once into .git/lfs/objects and
 * uploaded from there. DELETE and COPY operations are left alone. */
HF_EXTERN(int) hf_repo_preupload_lfs(hf_repo *repo, hf_commit_op *ops, size_t n);

/* Uploads one LFS object whose SHA-256 (oid, 64 lowercase hex digits) and size the caller already knows, from
 * the file at local_path, without reading it to hash again (the server checks the content against oid): the
 * file is hard-linked into the clone's LFS store under oid (copied where the file system refuses a link; a
 * symbolic link is followed), then sent as hf_repo_preupload_lfs sends it (batch API, multipart where the
 * server says so; nothing when the server has it). A later push or hf_repo_create_commit of a pointer to
 * oid uploads nothing again. While the store entry is a link, changing the file in place changes it too:
 * remove the entry (or prune) once the commit is pushed. progress (or NULL) gets this object's bytes.
 * Thread-safe: several calls may run at once on one handle, also while another thread commits or pushes; the
 * handle's lock is held only to read the remote. Calls for the same oid on one handle run one after the other
 * (the later one waits, without the handle's lock, then finds the object on the server and sends nothing, or
 * sends it itself when the earlier call failed). HF_ENOTFOUND when local_path is missing, HF_EINVAL when its
 * size is not size. */
HF_EXTERN(int) hf_repo_preupload_lfs_file(hf_repo *repo, const char *local_path, const char *oid, uint64_t size,
                                          hf_progress_cb progress, void *progress_payload);

/* One commit with all operations, in order, on the current branch (or opts->branch, checked out first and
 * created at HEAD when it exists nowhere), then pushed: blocking (queued == NULL), or queued with *queued set
 * (the commit itself is made before this returns, so the caller may free its buffers at once).
 * - ADD: from local_path or data/size (stored as hf_repo_preupload_lfs does, unless already prepared); LFS
 *   files get a `.gitattributes` line when not tracked yet. A file's executable bit is kept.
 * - DELETE: a file, or with a trailing '/' everything under a folder; their explicit LFS lines go.
 * - COPY: the source's blob at src_revision (NULL: the branch's commit) under a new path; an LFS file's
 *   pointer is copied (the object is never downloaded or uploaded again; the work tree gets the object when
 *   it is in the local store, else the pointer, as a clone with skip_lfs_files).
 * An operation that cannot apply (a missing source or file, a path outside the repository or inside .git, a
 * delete of nothing) fails the whole call with HF_EINVAL / HF_ENOTFOUND and a message naming the operation:
 * nothing is committed or pushed, and the work tree, index and .gitattributes are untouched. HF_ENOCHANGES
 * when the operations leave the tree as it was. On success the work tree holds the new files (overwriting
 * what was at those paths), the index has them staged, and .gitattributes matches the commit; other staged
 * changes stay staged and are not part of the commit. A failed push leaves the commit local (push it again
 * with hf_repo_push). opts may be NULL. */
HF_EXTERN(int) hf_repo_create_commit(hf_repo *repo, hf_commit_op *ops, size_t n, const char *message,
                                     const hf_create_commit_options *opts, hf_command **queued);

/* ---------------------------------------------------------------------------------------------------------- */
/* Commit scheduler (huggingface_hub's CommitScheduler)                                                       */
/*
 *     hf_scheduler_options so = HF_SCHEDULER_OPTIONS_INIT;
 *     so.path_in_repo = "logs";
 *     so.every_minutes = 5;
 *     hf_scheduler *s;
 *     if (hf_scheduler_start(&s, repo, "/data/run-42", &so) < 0) ...
 *     hf_scheduler_lock(s); fprintf(f, "{\"step\": %d}\n", step); fflush(f); hf_scheduler_unlock(s);
 *     ...
 *     hf_scheduler_stop(s);   // a last commit of what is pending
 *     hf_scheduler_free(s);
 *
 * A background thread wakes every every_minutes, snapshots the folder (new files and files that grew:
 * append-only data is assumed), copies what changed into the clone under path_in_repo, stages it with
 * auto-tracking (large and binary files go to LFS), commits and pushes the current branch (a blocking push on
 * the scheduler's thread, after any commands queued before it; it holds no handle lock, so the caller may keep
 * using the repository). A tick with
 * nothing new makes no commit (the commit takes the whole index, like hf_repo_commit: changes the caller
 * staged go with it). A failed tick (hub down) is retried at the next one, losing nothing: its
 * commit stays local and goes out with the next push. The folder may be anywhere, also outside the clone.
 * Files are streamed (copy_file_range), never read whole into memory; an LFS file is hashed whole at each
 * commit that changes it.
 * Consistency: hf_scheduler_lock is held by the scheduler only while it lists the folder and records the
 * sizes (its snapshot), never while copying or uploading. Bytes a writer appended while holding the lock are
 * either wholly in a commit or wholly in a later one; a line written without the lock may be cut at a commit
 * boundary (the rest comes with the next commit).
 * Thread-safety: every hf_scheduler_* function may be called from any thread; ticks (the thread's, trigger's,
 * stop's) never overlap. Stop and free the scheduler before hf_repo_free. Its pushes leave no command
 * records (they are not queued).
 */
typedef struct hf_scheduler hf_scheduler;

typedef struct hf_scheduler_options {
    unsigned int version;
    const char *path_in_repo;                  /* NULL: the repository root */
    double every_minutes;                      /* default 5; fractions allowed */
    const char *const *allow_patterns;         /* NULL-terminated globs, or NULL for all */
    const char *const *ignore_patterns;        /* NULL-terminated globs, or NULL for none */
    const char *commit_message;                /* default "Scheduled commit" */
} hf_scheduler_options;

#define HF_SCHEDULER_OPTIONS_VERSION 1
#define HF_SCHEDULER_OPTIONS_INIT {HF_SCHEDULER_OPTIONS_VERSION, NULL, 5.0, NULL, NULL, NULL}

/* Starts the scheduler's thread for folder_path (an existing folder; copied, as are the options' strings).
 * Patterns are fnmatch globs on the path relative to the folder ('*' also matches '/'; "dir/" matches all
 * below dir); `.git` folders are skipped. A folder that is the clone's own path_in_repo is committed in place
 * (nothing to copy; the patterns do not apply there, .gitignore does). The first tick comes every_minutes
 * after the start. HF_ENOTFOUND for a missing folder, HF_EINVAL for every_minutes <= 0 or a path_in_repo
 * leaving the work tree. opts may be NULL (defaults). */
HF_EXTERN(int) hf_scheduler_start(hf_scheduler **out, hf_repo *repo, const char *folder_path, const hf_scheduler_options *opts);
/* Writers hold the lock while appending; the scheduler holds it only while it scans and snapshots, never
 * while copying or uploading. Not recursive. */
HF_EXTERN(void) hf_scheduler_lock(hf_scheduler *s);
HF_EXTERN(void) hf_scheduler_unlock(hf_scheduler *s);
/* One scheduled commit now, waited for: 0 (committed and pushed), HF_ENOCHANGES (nothing new and nothing
 * unpushed) or the failure (also kept for hf_scheduler_last_error). */
HF_EXTERN(int) hf_scheduler_trigger(hf_scheduler *s);
/* A last commit of what is pending (and a push of earlier unpushed commits), then the thread ends: 0 also
 * when nothing was pending, else the last commit's failure. The thread is ended either way. */
HF_EXTERN(int) hf_scheduler_stop(hf_scheduler *s);
/* The outcome of the last tick: 0 (also for "nothing new") or its error code, with its message copied into
 * buf (size bytes, may be NULL/0). How a program reports the background thread's failures, which the
 * library never prints (with HFGIT_TRACE=1 they are also traced). */
HF_EXTERN(int) hf_scheduler_last_error(hf_scheduler *s, char *buf, size_t size);
/* Ends the thread if still running (without a last commit: call hf_scheduler_stop for that) and frees s.
 * NULL is fine. */
HF_EXTERN(void) hf_scheduler_free(hf_scheduler *s);

#ifdef __cplusplus
}
#endif

#endif
