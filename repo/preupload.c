/*
 * preupload.c: hf_repo_preupload_lfs. Stores each ADD (commit_prepare.c) under the handle's lock, then
 * uploads the LFS objects through the same batch + transfer engine as push (lfs_transfer.c) without it: the
 * transfer only reads the handle's fixed strings (token, LFS directory), so the caller's other threads keep
 * using the repository while bytes move. A later push finds the objects on the server (the batch answers
 * them without actions) and uploads nothing again.
 */
#include "commit_ops.h"

#include "lfs_scan.h"
#include "lfs_transfer.h"

#include "../common/error.h"

#include <string.h>

/* refs/heads/<current branch>, or nothing (detached, unborn): the ref is only a hint for the server. */
static void current_ref(hf_repo *r, hf_buf *out)
{
    hf_buf branch = HF_BUF_INIT;
    if (hf_repo_head_branch(r, &branch) == 0)
        hf_buf_printf(out, "refs/heads/%s", branch.ptr);
    else
        hf_error_clear();
    hf_buf_free(&branch);
}

int hf_repo_preupload_lfs(hf_repo *repo, hf_commit_op *ops, size_t n)
{
    if (!repo || (!ops && n))
        return hf_error_set(HF_EINVAL, "hf_repo_preupload_lfs: no repository or operations");
    hf_lfs_set set = HF_LFS_SET_INIT;
    hf_buf url = HF_BUF_INIT, ref = HF_BUF_INIT, what = HF_BUF_INIT;
    int rc = 0;
    hf_repo_lock(repo);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hf_commit_op *op = &ops[i];
        if (op->kind != HF_COMMIT_OP_ADD)
            continue;
        if ((rc = hf_commit_op_prepare(repo, op)) < 0) {
            hf_buf saved = HF_BUF_INIT;
            hf_buf_puts(&saved, hf_error_last_message());
            if (hf_commit_op_describe(op, i, &what) == 0)
                hf_error_set(rc, "hf_repo_preupload_lfs: %s: %s", what.ptr, hf_buf_cstr(&saved));
            hf_buf_free(&saved);
            break;
        }
        if (op->lfs && !op->uploaded) {
            hf_lfs_pointer p;
            memcpy(p.oid, op->oid, sizeof(p.oid));
            p.size = op->lfs_size;
            rc = hf_lfs_set_add(&set, &p, op->path_in_repo);
        }
    }
    if (rc == 0 && set.count) {
        rc = hf_repo_origin_url(repo, "origin", &url);
        current_ref(repo, &ref);
    }
    hf_repo_unlock(repo);
    if (rc == 0 && set.count) {
        hf_lfs_xfer_options xo = HF_LFS_XFER_OPTIONS_INIT;
        xo.remote_url = url.ptr;
        xo.ref = ref.len ? ref.ptr : NULL;
        if ((rc = hf_lfs_transfer(repo, HF_LFS_UPLOAD, &set, &xo)) < 0)
            hf_error_prefix("hf_repo_preupload_lfs: ");
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (ops[i].kind == HF_COMMIT_OP_ADD && ops[i].lfs)
            ops[i].uploaded = 1;
    hf_lfs_set_free(&set);
    hf_buf_free(&url);
    hf_buf_free(&ref);
    hf_buf_free(&what);
    return rc;
}
