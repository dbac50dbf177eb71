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
 * Messages never contain the token.
 *
 * Credentials: the token comes from hf_repo_options.token, else the HF_TOKEN environment variable, else the
 * token file ($HF_HOME/token, default ~/.cache/huggingface/token). It is handed to libgit2's credential
 * callback and to the LFS batch API only; it is never written to .git/config or put into a remote URL.
 *
 * Thread-safety: call hf_init before starting threads and hf_shutdown after they are done (they register the
 * "lfs" filter with libgit2, whose filter registry is not thread-safe). An hf_repo is used by one thread at a
 * time; handles on different directories may be used from different threads at once (two handles on one
 * directory are not supported). hf_error_last_message is per thread. Callbacks (hf_progress_cb) may run on
 * the library's transfer threads, never two at once.
 */
#ifndef HFGIT_H
#define HFGIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The error codes are those of the library's internal common/error.h; the guard is shared so that code
 * including both sees one definition. */
#ifndef HF_ERROR_H
#define HF_ERROR_H
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
} hf_error_code;

/* The message of the last failed call on this thread; "" when none. Valid until the next hf_ call. */
const char *hf_error_last_message(void);
/* The code of the last failed call on this thread. */
int hf_error_last_code(void);
/* "HF_EINVAL", ... */
const char *hf_error_code_name(int code);
#endif

/* Library version, "MAJOR.MINOR.PATCH". */
const char *hf_version(void);

/* Initialises libgit2, libcurl and registers the "lfs" filter. Reference-counted: every successful hf_init
 * needs one hf_shutdown. Returns 0 or a negative error code. Call before starting threads. */
int hf_init(void);
void hf_shutdown(void);

/* ---------------------------------------------------------------------------------------------------------- */
/* Repositories                                                                                               */

typedef struct hf_repo hf_repo;
typedef struct hf_command hf_command; /* a queued operation (see hf_repo_push); API in a later version */

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
} hf_repo_options;

#define HF_REPO_OPTIONS_VERSION 1
#define HF_REPO_OPTIONS_INIT {HF_REPO_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0}

/* Opens local_dir:
 * - clone_from set and local_dir missing or empty: clones; the LFS objects of the checked-out commit are
 *   downloaded (in parallel, SHA-256 checked) before the checkout, unless skip_lfs_files;
 * - clone_from set and local_dir a clone of that same remote: opens it (no fetch; call hf_repo_pull);
 * - clone_from NULL and local_dir a git repository: opens it;
 * - a non-empty directory that is not a repository, or a clone of another remote: HF_EEXISTS; no clone_from
 *   and no repository: HF_ENOTFOUND; the message says what to do. A failed clone leaves no directory behind
 *   (when it created it).
 * Then revision, when set, is checked out: a local branch; a branch of origin (a tracking branch is
 * created); a tag or commit (detached HEAD); else a new branch of that name at HEAD. */
int hf_repo_open(hf_repo **out, const char *local_dir, const hf_repo_options *opts);

/* Waits for queued commands, then frees the handle. NULL is fine. */
void hf_repo_free(hf_repo *repo);

/* The absolute path of the working tree, with a trailing '/'. */
const char *hf_repo_workdir(const hf_repo *repo);

/* Stages files matching pathspec ("." for everything; a path or a glob relative to the working tree),
 * honouring .gitignore, including deletions. With auto_lfs_track, files of 10 MiB or more and binary files
 * (a byte outside the text set in the first 10 MiB) that are not yet LFS-tracked get a line
 * `<path> filter=lfs diff=lfs merge=lfs -text` in .gitattributes first, and lines naming deleted files are
 * removed. LFS-tracked files are cleaned into .git/lfs/objects while being staged, in constant memory. */
int hf_repo_add(hf_repo *repo, const char *pathspec, int auto_lfs_track);

/* Commits the index on the current branch (creating it on an unborn HEAD). Returns HF_ENOCHANGES, with a
 * message, when the index equals HEAD's tree. The author is git_user/git_email, else user.name/user.email
 * from the git configuration. */
int hf_repo_commit(hf_repo *repo, const char *message);
/* The same, writing the new commit's hex id (40 characters and a NUL) to out_id on success. */
int hf_repo_commit_id(hf_repo *repo, const char *message, char out_id[41]);

/* 1 when the working tree and the index match HEAD (untracked files count as changes), 0 when not, or a
 * negative error code. Files staged by hf_repo_add or written by a checkout are not re-read. */
int hf_repo_is_clean(hf_repo *repo);

/* Progress of an LFS upload: bytes moved so far and in total for the whole push (objects the server already
 * has count as done). Return non-zero to cancel (the push then fails with HF_ECANCELLED before any git
 * object is sent). Called from the calling thread or a transfer thread, never two at once. */
typedef int (*hf_progress_cb)(uint64_t done, uint64_t total, void *payload);

typedef struct hf_push_options {
    unsigned int version;
    const char *remote;       /* default "origin" */
    const char *branch;       /* local branch to push to the same name on the remote; default: the current one */
    int set_upstream;         /* 1: record branch.<name>.remote/merge (default 1) */
    int multipart;            /* 1: offer the "multipart" transfer to the server (default 1) */
    hf_progress_cb progress;  /* LFS upload progress, or NULL */
    void *progress_payload;
} hf_push_options;

#define HF_PUSH_OPTIONS_VERSION 1
#define HF_PUSH_OPTIONS_INIT {HF_PUSH_OPTIONS_VERSION, NULL, NULL, 1, 1, NULL, NULL}

/* Pushes the branch: first uploads the LFS objects reachable from the pushed commits and not from the
 * remote's refs (batch API, basic or multipart, verified), then the git objects and the ref. A ref the
 * server rejects is an error carrying the server's message. opts may be NULL. With out == NULL the call
 * blocks; queued pushes (out != NULL) are not available in this version and return HF_EINVAL. */
int hf_repo_push(hf_repo *repo, const hf_push_options *opts, hf_command **out);

/* Fetches the current branch's upstream, downloads the LFS objects its new commits need (unless
 * skip_lfs_files) and fast-forwards the branch and working tree (rebase = 1 also rebases local commits on
 * top). A pull that would need a merge fails with HF_EINVAL and leaves the tree unchanged. */
int hf_repo_pull(hf_repo *repo, int rebase);

#ifdef __cplusplus
}
#endif

#endif
