/*
 * preupload.c: hf_repo_preupload_lfs. Stores each ADD (commit_prepare.c) under the handle's lock, then
 * uploads the LFS objects through the same batch + transfer engine as push (lfs_transfer.c) without it: the
 * transfer only reads the handle's fixed strings (token, LFS directory), so the caller's other threads keep
 * using the repository while bytes move. A later push finds the objects on the server (the batch answers
 * them without actions) and uploads nothing again.
 */
#include "commit_ops.h"

#include "lfs_scan.h"
#include "lfs_store.h"
#include "lfs_transfer.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        if (op->kind != HF_COMMIT_OP_ADD) continue;
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
        if (ops[i].kind == HF_COMMIT_OP_ADD && ops[i].lfs) ops[i].uploaded = 1;
    hf_lfs_set_free(&set);
    hf_buf_free(&url);
    hf_buf_free(&ref);
    hf_buf_free(&what);
    return rc;
}

/* Copies size bytes of src into the open temp file fd (a link was refused). */
static int copy_into(int fd, const char *src, uint64_t size)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return hf_error_set(HF_EIO, "cannot read %s: %s", src, strerror(errno));
    size_t cap = (size_t)1 << 20;
    char *buf = malloc(cap);
    uint64_t done = 0;
    hf_write_behind wb;
    hf_write_behind_init(&wb, fd); /* fsutil.h: why */
    int rc = buf ? 0 : hf_error_set(HF_ENOMEM, "out of memory");
    while (rc == 0) {
        ssize_t n = read(in, buf, cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            rc = hf_error_set(HF_EIO, "cannot read %s: %s", src, strerror(errno));
        else if (n == 0)
            break;
        else if (hf_write_all(fd, buf, (size_t)n) < 0)
            rc = hf_error_set(HF_EIO, "cannot write to the LFS store: %s", strerror(errno));
        else {
            done += (uint64_t)n;
            hf_write_behind_add(&wb, (size_t)n);
        }
    }
    if (rc == 0 && done != size)
        rc = hf_error_set(HF_EINVAL, "%s changed while it was copied (%llu bytes, not %llu)", src,
                          (unsigned long long)done, (unsigned long long)size);
    free(buf);
    close(in);
    return rc;
}

/* HF_ENOTFOUND when local_path is missing, HF_EINVAL when it is not a file of size bytes. */
static int check_file(const char *local_path, uint64_t size)
{
    struct stat st;
    if (stat(local_path, &st) < 0)
        return errno == ENOENT ? hf_error_set(HF_ENOTFOUND, "%s does not exist", local_path)
                               : hf_error_set(HF_EIO, "cannot stat %s: %s", local_path, strerror(errno));
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
        return hf_error_set(HF_EINVAL, "%s is not a file of %llu bytes", local_path,
                            (unsigned long long)size);
    return 0;
}

/* local_path into the store under oid: a hard link (or a copy) made under a temp name in lfs/tmp and renamed,
 * since an object only ever appears in objects/ complete. */
static int store_file(const char *lfs_dir, const char *local_path, const char *oid, uint64_t size)
{
    int rc = check_file(local_path, size);
    if (rc < 0) return rc;
    if (hf_lfs_object_present(lfs_dir, oid, size)) return 0;
    hf_buf tmp = HF_BUF_INIT;
    int fd = hf_lfs_temp_open(lfs_dir, "tmp", "preupload-", &tmp);
    rc = fd < 0 ? fd : 0;
    if (rc == 0) {
        close(fd);
        /* the unique name, now free, for a link; where the system refuses one (another file system,
         * protected_hardlinks), a copy under the same name */
        int linked =
            unlink(tmp.ptr) == 0 && linkat(AT_FDCWD, local_path, AT_FDCWD, tmp.ptr, AT_SYMLINK_FOLLOW) == 0;
        if (!linked) {
            int out = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
            rc = out < 0 ? hf_error_set(HF_EIO, "cannot create %s: %s", tmp.ptr, strerror(errno))
                         : copy_into(out, local_path, size);
            if (out >= 0 && close(out) < 0 && rc == 0)
                rc = hf_error_set(HF_EIO, "cannot write %s: %s", tmp.ptr, strerror(errno));
        }
    }
    if (rc == 0)
        rc = hf_lfs_object_commit(lfs_dir, tmp.ptr, oid, size);
    else if (tmp.len)
        (void)unlink(tmp.ptr);
    hf_buf_free(&tmp);
    return rc;
}

/* Marks oid as being sent by this call, first waiting while another call on the handle sends it: two calls
 * for one object at once would both be handed the hub's one open multipart upload, and the first to complete
 * it closes it under the other (404 "NoSuchUpload" on its next part), or both would send every byte. After
 * the wait the object is on the server (this call's batch then sends nothing), or the first call failed and
 * this one tries itself. Takes only sending_lock, never the handle's lock, so the handle stays usable and a
 * caller holding that lock cannot deadlock with the sender it waits for (which no longer needs it). */
static int sending_claim(hf_repo *r, const char *oid)
{
    int rc = 0;
    pthread_mutex_lock(&r->sending_lock);
    for (;;) {
        size_t i = 0;
        while (i < r->sending_len && memcmp(r->sending[i], oid, 64) != 0)
            i++;
        if (i == r->sending_len) break;
        pthread_cond_wait(&r->sending_done, &r->sending_lock);
    }
    if (r->sending_len == r->sending_cap) {
        size_t cap = r->sending_cap ? r->sending_cap * 2 : 8;
        char(*grown)[65] = realloc(r->sending, cap * sizeof(*grown));
        if (grown) {
            r->sending = grown;
            r->sending_cap = cap;
        } else {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        }
    }
    if (rc == 0) {
        memcpy(r->sending[r->sending_len], oid, 64);
        r->sending[r->sending_len][64] = 0;
        r->sending_len++;
    }
    pthread_mutex_unlock(&r->sending_lock);
    return rc;
}

/* Ends sending_claim's mark and wakes the calls waiting for an oid (each checks its own again). */
static void sending_release(hf_repo *r, const char *oid)
{
    pthread_mutex_lock(&r->sending_lock);
    for (size_t i = 0; i < r->sending_len; i++) {
        if (memcmp(r->sending[i], oid, 64) != 0) continue;
        r->sending_len--;
        if (i != r->sending_len) memcpy(r->sending[i], r->sending[r->sending_len], sizeof(r->sending[i]));
        break;
    }
    pthread_cond_broadcast(&r->sending_done);
    pthread_mutex_unlock(&r->sending_lock);
}

int hf_repo_preupload_lfs_file(hf_repo *repo, const char *local_path, const char *oid, uint64_t size,
                               hf_progress_cb progress, void *progress_payload)
{
    if (!repo || !local_path || !oid || !hf_oid_valid(oid))
        return hf_error_set(HF_EINVAL, "hf_repo_preupload_lfs_file: no repository, file or valid oid");
    hf_buf url = HF_BUF_INIT, ref = HF_BUF_INIT;
    hf_lfs_set set = HF_LFS_SET_INIT;
    hf_lfs_pointer p;
    memcpy(p.oid, oid, sizeof(p.oid));
    p.size = size;
    int rc = check_file(local_path, size);
    /* the remote next, under the handle's lock, which is not taken again while this call holds its oid */
    if (rc == 0) {
        hf_repo_lock(repo);
        rc = hf_repo_origin_url(repo, "origin", &url);
        current_ref(repo, &ref);
        hf_repo_unlock(repo);
    }
    /* then one call per oid at a time; the store entry only after the wait: the caller may have removed the
     * first call's link once its object was on the hub (upload-large-folder does after each commit) */
    int claimed = rc == 0 && (rc = sending_claim(repo, oid)) == 0;
    if (rc == 0) rc = store_file(repo->lfs_dir.ptr, local_path, oid, size);
    if (rc == 0) rc = hf_lfs_set_add(&set, &p, local_path);
    if (rc == 0) {
        hf_lfs_xfer_options xo = HF_LFS_XFER_OPTIONS_INIT;
        xo.remote_url = url.ptr;
        xo.ref = ref.len ? ref.ptr : NULL;
        xo.progress = progress;
        xo.progress_payload = progress_payload;
        rc = hf_lfs_transfer(repo, HF_LFS_UPLOAD, &set, &xo);
    }
    if (claimed) sending_release(repo, oid);
    if (rc < 0) hf_error_prefix("hf_repo_preupload_lfs_file: ");
    hf_lfs_set_free(&set);
    hf_buf_free(&url);
    hf_buf_free(&ref);
    return rc;
}
