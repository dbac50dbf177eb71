/*
 * commit_ops.h: what hf_repo_create_commit (commit_ops.c, commit_worktree.c) and hf_repo_preupload_lfs
 * (preupload.c) share: checking an operation's paths and storing an ADD's content (commit_prepare.c).
 *
 * Storing is invisible to everyone: an LFS object appears in .git/lfs/objects only through rename() of a
 * complete, hashed temp file, and a git blob nobody refers to is garbage. So an ADD can be prepared long
 * before its commit, and a commit that fails later has changed nothing anyone sees.
 * The caller holds the handle's lock.
 */
#ifndef HF_REPO_COMMIT_OPS_H
#define HF_REPO_COMMIT_OPS_H

#include "repo.h"

/* "ADD weights.bin" / "DELETE old/" / "COPY a.bin -> b.bin" for messages (op index i, 0-based, included). */
int hf_commit_op_describe(const hf_commit_op *op, size_t i, hf_buf *out);

/* Checks a path_in_repo: relative, no empty, "." or ".." component, no ".git" component; folder 1 allows (and
 * strips) one trailing '/'. The cleaned path goes to out. HF_EINVAL with a message otherwise. */
int hf_commit_path_check(const char *path, int folder, hf_buf *out);

/* 1 when the work tree's .gitattributes (or the index's) say filter=lfs for path. */
int hf_commit_path_lfs_tracked(hf_repo *r, const char *path);

/* Stores the content of an ADD (op->prepared set, op->data NULL) unless already prepared: LFS when the path
 * is tracked, the content is 10 MiB or more, or binary; else a git blob. Streams files; memory is written
 * once. Errors name the operation's source. */
int hf_commit_op_prepare(hf_repo *r, hf_commit_op *op);

/* The pointer blob (LFS) or the blob itself of a prepared ADD. */
int hf_commit_op_blob(hf_repo *r, const hf_commit_op *op, git_oid *out);

/* commit_worktree.c: bringing the work tree and the index to a new commit's tree, for the paths it touched.
 * Two steps, so that the commit can still be abandoned after the slow, failure-prone part: prepare writes
 * every new file's content to a temp file under .git/hfgit-commit/ (nothing visible changes; abort removes
 * them), finish removes the deleted paths, renames the temp files into place and stages them with their stat
 * data (so no later status or add re-reads them). */
typedef struct hf_touched {
    char *path;
    int in_place;   /* the work tree file already holds the content (an ADD of the file itself) */
    char *tmp;      /* prepare's temp file, or NULL */
} hf_touched;

typedef struct hf_touched_list {
    hf_touched *items;
    size_t count, cap;
} hf_touched_list;

int hf_touched_add(hf_touched_list *l, const char *path, int in_place);
void hf_touched_free(hf_touched_list *l);

/* final: the new commit's tree as an index (paths absent there are deletions). */
int hf_worktree_prepare(hf_repo *r, git_index *final, hf_touched_list *l);
void hf_worktree_abort(hf_touched_list *l);
int hf_worktree_finish(hf_repo *r, git_index *final, hf_touched_list *l);

#endif
