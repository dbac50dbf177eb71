/*
 * repo.h: the hf_repo handle and helpers shared by the repo/ files (internal; the public API is hfgit.h).
 * Thread-safety: an hf_repo and everything reached from it belong to one thread at a time.
 */
#ifndef HF_REPO_REPO_H
#define HF_REPO_REPO_H

/* error.h before hfgit.h: both define the error codes under the HF_ERROR_H guard, and only error.h declares
 * hf_error_set and friends, so it has to be the one that wins. */
#include "../common/error.h"

#include "hfgit.h"

#include "../common/buf.h"

#include <git2.h>

struct hf_repo {
    git_repository *git;
    char *workdir;       /* absolute, with a trailing '/' */
    hf_buf lfs_dir;      /* <commondir>/lfs */
    char *token;         /* NULL when there is none; never printed */
    char *endpoint;      /* without a trailing '/' */
    char *git_user;      /* NULL: from the git configuration */
    char *git_email;
    int skip_lfs_files;
};

/* Sets an hf error from libgit2's last error: "<what>: <libgit2 message>". Returns code. */
int hf_repo_git_error(int code, const char *what);

/* Credentials for libgit2 (payload: the hf_repo): user "hf" with the token as password, offered once per
 * operation so that a wrong token fails instead of looping. */
typedef struct hf_cred_state {
    const hf_repo *repo;
    int attempts;
    int refused;   /* the callback gave up: no token, or the token was refused */
} hf_cred_state;
int hf_repo_credentials_cb(git_credential **out, const char *url, const char *username_from_url,
                           unsigned int allowed_types, void *payload);

/* The URL of a remote with any user:password@ removed (for messages and comparisons). */
int hf_repo_remote_url(const hf_repo *repo, const char *remote, hf_buf *out);

/* Downloads into the store every LFS object that the tree of `commit` needs and that is missing locally
 * (batch API download, basic transfer, SHA-256 checked). remote_url names the LFS server. */
int hf_lfs_fetch_for_commit(hf_repo *repo, const git_oid *commit, const char *remote_url, const char *ref);

/* Checks out `commit` into the working tree and index (force for a fresh clone, safe otherwise), reporting the
 * files left as pointers in a warning on stderr when skip_lfs_files is off. */
int hf_repo_checkout_tree(hf_repo *repo, const git_oid *commit, int force);

/* Checks out a revision as huggingface_hub's git_checkout(revision, create_branch_ok=True): a local branch; a
 * branch of origin (a local tracking branch is created); a commit or tag (detached HEAD); else a new branch at
 * HEAD. LFS objects of the target are downloaded first (unless skip_lfs_files). Local changes that conflict
 * make it fail without touching the tree. */
int hf_repo_checkout_revision(hf_repo *repo, const char *revision);

#endif
