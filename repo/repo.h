/*
 * repo.h: the hf_repo handle and helpers shared by the repo/ files (internal; the public API is hfgit.h).
 *
 * Thread-safety (see hfgit.h for the public rule): every public function taking an hf_repo holds `lock` (a
 * recursive mutex, so public functions may call each other and a queued function may call them) for its whole
 * run; the functions declared here expect the caller to hold it, except where said otherwise. Queued pushes
 * run on the worker thread with a git_repository of their own (`worker_git`, see queue.c) and do not take
 * `lock`; everything that talks to the remote and updates remote-tracking refs (push, fetch, ls-remote) takes
 * `*net` instead, so the caller's pulls and tag pushes never race a queued push on the same ref files.
 * Lock order: lock, then net, then the queue's mutex.
 */
#ifndef HF_REPO_REPO_H
#define HF_REPO_REPO_H

#include "../common/error.h"

#include "hfgit.h"

#include "../common/buf.h"

#include <git2.h>

#include <pthread.h>

struct hf_repo {
    git_repository *git;
    char *workdir;       /* absolute, with a trailing '/' */
    hf_buf lfs_dir;      /* <commondir>/lfs */
    char *token;         /* NULL when there is none; never printed; see hf_repo_token_for */
    int token_explicit;  /* token came from hf_repo_options.token (else HF_TOKEN or the saved login) */
    char *endpoint;      /* without a trailing '/' */
    char *git_user;      /* NULL: from the git configuration */
    char *git_email;
    int skip_lfs_files;
    pthread_mutex_t lock;        /* recursive: taken by every public function (not initialised in shadows) */
    pthread_mutex_t net_storage; /* the mutex `net` points to (not initialised in shadows) */
    pthread_mutex_t *net;        /* serialises remote operations of this repository, shadows included */
    struct hf_queue *_Atomic queue; /* NULL until the first queued command (queue.c); set once */
    int is_shadow;               /* a worker-side copy: strings and mutexes belong to the real handle */
    unsigned long pins;          /* queued pushes so far, names their refs/hfgit/push/ pins (under lock) */
    hf_progress_cb download_cb;  /* HF_PROGRESS_DOWNLOAD (under lock; NULL in shadows) */
    void *download_payload;
    int download_parallel;       /* ranges in flight per LFS object; 0 = HFGIT_DOWNLOAD_PARALLEL or default */
    hf_progress_cb hash_cb;      /* HF_PROGRESS_HASH (under lock) */
    void *hash_payload;
    const hf_command *cmd;       /* shadows running a queued command: its cancel request is checked at the
                                  * push's safe points (push.c); NULL otherwise */
    /* preupload.c: the oids hf_repo_preupload_lfs_file is sending now, so that a second call for one of them
     * waits for the first instead of opening the same multipart upload twice (the hub hands both callers one
     * upload and the first to complete it closes it under the other). Guarded by sending_lock, never held
     * together with `lock`; sending_done is broadcast whenever an oid leaves. Not initialised in shadows. */
    pthread_mutex_t sending_lock;
    pthread_cond_t sending_done;
    char (*sending)[65];
    size_t sending_len, sending_cap;
};

void hf_repo_lock(hf_repo *r);
void hf_repo_unlock(hf_repo *r);

/* A worker-side view of r: the same strings (borrowed, read-only), `net` shared, git = the given handle. */
void hf_repo_shadow(hf_repo *shadow, const hf_repo *r, git_repository *git);

/* queue.c: waits for every queued command and stops the worker (hf_repo_free); prints a notice on stderr
 * while it waits long. */
void hf_queue_shutdown(hf_repo *r);
/* 1 when this thread is r's worker thread (waiting for the queue from there would deadlock). */
int hf_queue_on_worker(const hf_repo *r);
/* queue_push.c (the caller holds no lock of r; see there): queues a push of opts->branch (else the current
 * branch) as it is now; a blocking push of the same, after the commands queued before it; queues the push of
 * a tag ref ("refs/tags/x", pointing at target) to remote. */
int hf_queue_push(hf_repo *r, const hf_push_options *opts, hf_command **out);
int hf_push_blocking(hf_repo *r, const hf_push_options *opts);
int hf_queue_tag_push(hf_repo *r, const char *remote, const char *ref, const git_oid *target, hf_command **out);
/* Runs fn on a shadow of r with a git_repository of its own (network work without r->lock). */
int hf_repo_with_own_git(hf_repo *r, int (*fn)(hf_repo *shadow, void *payload), void *payload);

/* push.c: pushes refspecs ("refs/heads/a:refs/heads/a", ":refs/tags/t") to the remote, LFS objects first.
 * what names the push in messages. Takes *net; the caller holds lock, or r is a shadow on the worker. */
int hf_repo_push_refspecs(hf_repo *r, const char *remote, const char **specs, size_t nspecs,
                          const hf_push_options *opts, const char *what);
/* The branch HEAD is on (HF_EINVAL when detached or unborn with a message saying so). */
int hf_repo_head_branch(hf_repo *r, hf_buf *out);
/* hf_repo_push's work for one branch, without the handle's lock (the worker's queued pushes). src_ref: the
 * local ref whose commit goes to refs/heads/<branch> (NULL: refs/heads/<branch> itself). */
int hf_repo_push_branch(hf_repo *r, const hf_push_options *opts, const char *branch, const char *src_ref);

/* lfs_admin.c: hf_repo_lfs_prune in two steps. The first, under the handle's lock (the caller takes it), finds
 * the objects to remove and moves each into a trash folder it creates (*trash, empty until then; a rename is
 * instant). The second, without the lock, deletes the trash (and any untouched for 10 minutes, left by a killed prune):
 * unlinking a 64 MiB file takes 100-200 ms on a busy disk, which a training loop's next commit would otherwise
 * wait for. */
int hf_repo_lfs_prune_unlocked(hf_repo *r, hf_buf *trash, size_t *out_removed, uint64_t *out_bytes);
void hf_repo_lfs_prune_empty_trash(hf_repo *r, hf_buf *trash);

/* Replaces every occurrence of secret in buf with "<token>" (error texts kept by commands). Pure. */
void hf_scrub_secret(hf_buf *buf, const char *secret);

/* Joins the work tree and a relative path into out (size bytes): HF_EINVAL for an absolute path, a ".."
 * component or an empty path, and when it does not fit. Pure. */
int hf_path_join_checked(const char *workdir, const char *relative, char *out, size_t size);

/* HF_EINVAL (with a message naming it) when a folder on the way from root to root/rel is a symbolic link, or,
 * with include_last, rel itself: the work tree's content comes from the remote, and a committed
 * "out -> /home/me" must not make a write or delete of "out/x" land in /home/me. 0 otherwise. */
int hf_path_refuse_links(const char *root, const char *rel, int include_last);

/* remote.c: a git_remote for the remote `name` of git, like git_remote_lookup but without libgit2 1.5's PCRE2
 * leak (remote.c says why): anonymous, with the configured url/pushurl (insteadOf applied) and the first fetch
 * refspec. HF_ENOTFOUND when there is no such remote. Free with git_remote_free. */
int hf_remote_open(git_remote **out, git_repository *git, const char *name);
/* The URL of that remote with any user:password@ removed. */
int hf_remote_config_url(git_repository *git, const char *name, hf_buf *out);

/* Sets an hf error from libgit2's last error: "<what>: <libgit2 message>". Returns code. */
int hf_repo_git_error(int code, const char *what);

/* The token to send to url: the caller's own (hf_repo_options.token) for this repository's URLs; the user's
 * Hugging Face token (HF_TOKEN, saved login) only when url is on the HF endpoint's host (a third-party LFS or
 * git server never gets it); else NULL. */
const char *hf_repo_token_for(const hf_repo *r, const char *url);

/* Credentials for libgit2 (payload: the hf_repo): user "hf" with the token as password, offered once per
 * operation so that a wrong token fails instead of looping. */
typedef struct hf_cred_state {
    const hf_repo *repo;
    int attempts;
    int refused;   /* the callback gave up: no token, or the token was refused */
} hf_cred_state;
int hf_repo_credentials_cb(git_credential **out, const char *url, const char *username_from_url,
                           unsigned int allowed_types, void *payload);

/* After a failed clone, fetch or push: the hf error for libgit2's last error: HF_EAUTH when cred says the token
 * was refused or missing, or the server answered 401/403; HF_ENOTFOUND, naming url, on a 404; else HF_ERROR.
 * The message starts with what. cred may be NULL. Returns the code. */
int hf_repo_git_net_error(const hf_cred_state *cred, const char *what, const char *url);

/* After a failed clone, fetch or push (attempt 1, 2, ...): when libgit2's last error is an HTTP 5xx answer, the
 * token was not refused and attempt <= 2, sleeps a little (0.3 s x attempt) and returns 1: try again. A
 * server's transient error (and the ref advertisement's, before anything is sent) is not worth failing a
 * training run for. Else 0. */
int hf_git_retry_server_error(int attempt, const hf_cred_state *cred);

/* The URL of a remote with any user:password@ removed (for messages and comparisons). */
int hf_repo_origin_url(const hf_repo *repo, const char *remote, hf_buf *out);

/* Downloads into the store every LFS object that the tree of `commit` needs and that is missing locally
 * (batch API download, basic transfer, SHA-256 checked). remote_url names the LFS server. */
int hf_lfs_fetch_for_commit(hf_repo *repo, const git_oid *commit, const char *remote_url, const char *ref);

/* Checks out `commit` into the working tree and index (force for a fresh clone, safe otherwise), reporting the
 * files left as pointers in the trace log (HFGIT_TRACE) when skip_lfs_files is off. */
int hf_repo_checkout_tree(hf_repo *repo, const git_oid *commit, int force);

/* lfs_fixup.c: after a checkout, smudges the files written as LFS pointers because libgit2 read the old
 * .gitattributes (a commit adding a file and its filter=lfs line together): an index entry whose working file
 * is its pointer blob byte for byte, whose attributes now say filter=lfs and whose object is in the store is
 * checked out again through the filter. *out_fixed (may be NULL) gets the number of files redone. */
int hf_repo_lfs_smudge_missed(hf_repo *repo, size_t *out_fixed);

/* Checks out a revision as huggingface_hub's git_checkout(revision, create_branch_ok=True): a local branch; a
 * branch of origin (a local tracking branch is created); a commit or tag (detached HEAD); else a new branch at
 * HEAD. LFS objects of the target are downloaded first (unless skip_lfs_files). Local changes that conflict
 * make it fail without touching the tree. */
int hf_repo_checkout_revision(hf_repo *repo, const char *revision);
/* The same with create_branch_ok: 0 makes an unknown revision HF_ENOTFOUND instead of a new branch. */
int hf_repo_checkout_rev(hf_repo *repo, const char *revision, int create_branch_ok);
/* hf_repo_checkout_rev for a caller not holding repo's lock: downloads the target's missing LFS objects on a
 * libgit2 handle of its own without the lock, then takes the lock to check out (hf_repo_checkout). */
int hf_repo_checkout_fetching_unlocked(hf_repo *repo, const char *revision, int create_branch_ok);
/* On a repository without commits: points HEAD at the unborn branch refs/heads/<name> (the first commit
 * creates it), moving the upstream recorded for the branch HEAD named before (clone) to it. */
int hf_repo_set_unborn_branch(hf_repo *repo, const char *name);

/* remote_head.c: the branch an empty remote's HEAD names, asked with protocol v2's ls-refs (libgit2 1.5 speaks
 * v0, which does not say). 0 with the short name in out; -1 when the server does not say (no error set). */
int hf_remote_unborn_head(const hf_repo *repo, const char *url, hf_buf *out);
/* The parser of that answer (pkt-lines): finds "<oid|unborn> HEAD symref-target:refs/heads/<name>" and puts
 * <name> in out: 0, or -1 when there is none or a length is malformed. */
int hf_remote_parse_ls_refs_head(const char *p, size_t len, hf_buf *out);

/* add.c: reads a whole file into out (a missing file, or a symbolic link, reads as empty); writes
 * .gitattributes through a temp file and rename. */
int hf_read_file(const char *path, hf_buf *out);
int hf_repo_write_attrs(hf_repo *r, const hf_buf *content);
/* commit.c: the author/committer: git_user/git_email, else the git configuration. */
int hf_repo_signature(hf_repo *r, git_signature **out);

/* pull.c: hf_repo_pull without taking the handle's lock. */
int hf_repo_pull_unlocked(hf_repo *repo, int rebase);

#endif
