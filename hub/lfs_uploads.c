/*
 * lfs_uploads.c: the life of open multipart uploads: found again by object, removed when done or too old.
 *
 *   <root>/uploads/<id>/                 one upload (lfs_multipart.c writes its meta and parts)
 *   <root>/uploads/by-object/<key>       symlink to "<id>", key = SHA-256 of "<git_dir>\n<oid>\n<size>"
 *
 * A batch for an object whose upload is still open answers that same upload (with freshly signed URLs), so a
 * client that was killed, or whose part URLs expired, sends only the parts the hub does not have yet. The
 * link is replaced by rename(), so readers see the old upload or the new one; two batches racing for a new
 * object may each make an upload, and the one whose link lost is completed normally or aged out.
 *
 * Age: an upload whose directory has not changed for upload_max_age_secs (no part stored, no batch answered
 * with it) is removed, as S3 lifecycle rules abort stale multipart uploads (on S3 storage it is aborted in
 * the store as well; its parts go straight there, so only a batch touches the directory); so are temp files
 * in <root>/tmp untouched for an hour (left by a crash: a live temp file is written to, and spooled bodies
 * are unlinked).
 */
#include "lfs.h"
#include "s3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_MAX_AGE_SECS 3600

static int index_path(const hub *h, const lfs_upload_meta *m, hf_buf *out)
{
    hf_buf k = HF_BUF_INIT;
    char key[HF_SHA256_HEX_LEN + 1];
    int rc = hf_buf_printf(&k, "%s\n%s\n%" PRIu64, m->git_dir, m->oid, m->size) ||
             hf_sha256_hex(k.ptr, k.len, key) || hf_buf_printf(out, "%s/uploads/by-object/%s", h->root, key);
    hf_buf_free(&k);
    return rc ? -1 : 0;
}

/* 1 when the upload the index names is open and is for exactly this object, cut the same way. */
static int still_open(hub *h, const char *id, const lfs_upload_meta *m)
{
    lfs_upload_meta old;
    if (lfs_upload_read(h, id, &old)) return 0;
    int same = strcmp(old.git_dir, m->git_dir) == 0 && strcmp(old.oid, m->oid) == 0 && old.size == m->size &&
               old.chunk == m->chunk;
    lfs_upload_meta_clear(&old);
    return same;
}

int lfs_upload_open(hub *h, const lfs_upload_meta *m, char *id, int *reused)
{
    hf_buf idx = HF_BUF_INIT, dir = HF_BUF_INIT, tmp = HF_BUF_INIT;
    char target[LFS_UPLOAD_ID_LEN + 2];
    int rc = -1;
    *reused = 0;
    pthread_mutex_lock(&h->knobs_lock);
    int fresh_only = h->knobs.new_upload_per_batch;
    pthread_mutex_unlock(&h->knobs_lock);
    if (index_path(h, m, &idx)) goto out;
    ssize_t n = fresh_only ? -1 : readlink(idx.ptr, target, sizeof(target) - 1);
    if (n == LFS_UPLOAD_ID_LEN) {
        target[n] = '\0';
        if (still_open(h, target, m) && hf_buf_printf(&dir, "%s/uploads/%s", h->root, target) == 0 &&
            utimensat(AT_FDCWD, dir.ptr, NULL, 0) == 0) { /* answered again: its age starts over */
            memcpy(id, target, LFS_UPLOAD_ID_LEN + 1);
            *reused = 1;
            rc = 0;
            goto out;
        }
    }
    if (lfs_upload_create(h, m, id) || hf_buf_printf(&tmp, "%s.%s", idx.ptr, id)) goto out;
    /* The index is a convenience: an upload it fails to name still completes. */
    if (symlink(id, tmp.ptr) == 0 && rename(tmp.ptr, idx.ptr) != 0) unlink(tmp.ptr);
    rc = 0;
out:
    hf_buf_free(&idx);
    hf_buf_free(&dir);
    hf_buf_free(&tmp);
    return rc;
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    hf_buf f = HF_BUF_INIT;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        hf_buf_clear(&f);
        if (hf_buf_printf(&f, "%s/%s", path, e->d_name) == 0) unlink(f.ptr);
    }
    if (d) closedir(d);
    rmdir(path);
    hf_buf_free(&f);
}

void lfs_upload_remove(hub *h, const char *id, const lfs_upload_meta *m)
{
    hf_buf dir = HF_BUF_INIT, idx = HF_BUF_INIT;
    char target[LFS_UPLOAD_ID_LEN + 2];
    /* The index first, and only when it still names this upload (a newer one may have replaced it). */
    if (m && index_path(h, m, &idx) == 0) {
        ssize_t n = readlink(idx.ptr, target, sizeof(target) - 1);
        if (n == LFS_UPLOAD_ID_LEN && memcmp(target, id, LFS_UPLOAD_ID_LEN) == 0) unlink(idx.ptr);
    }
    if (hf_buf_printf(&dir, "%s/uploads/%s", h->root, id) == 0) remove_dir(dir.ptr);
    hf_buf_free(&dir);
    hf_buf_free(&idx);
}

static int older_than(const char *path, long secs, time_t now, int follow)
{
    struct stat st;
    int rc = follow ? stat(path, &st) : lstat(path, &st);
    return rc == 0 && now - st.st_mtime > secs;
}

static int sweep_tmp_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)type;
    (void)st;
    if (ftw->level > 0) remove(path); /* depth first: files, then their (now empty) directories */
    return 0;
}

/* S3 storage: an upload aged out here is aborted in the store too, so its parts do not stay billed there. */
static void abort_in_store(hub *h, const char *id)
{
    lfs_upload_meta m;
    hf_buf key = HF_BUF_INIT;
    if (!h->s3 || lfs_upload_read(h, id, &m)) return;
    if (m.s3_upload[0] && s3_staging_key(h->s3, id, &key) == 0 &&
        s3_multipart_abort(h->s3, key.ptr, m.s3_upload))
        fprintf(stderr,
                "hfgit-hub: could not abort the store's upload of %s (its parts stay until the bucket's "
                "lifecycle rules remove them)\n",
                id);
    lfs_upload_meta_clear(&m);
    hf_buf_free(&key);
}

int lfs_uploads_sweep(hub *h)
{
    time_t now = time(NULL);
    hf_buf p = HF_BUF_INIT;
    int removed = 0;
    DIR *d = NULL;
    struct dirent *e;
    if (hf_buf_printf(&p, "%s/uploads", h->root) == 0 && (d = opendir(p.ptr))) {
        while ((e = readdir(d))) {
            if (strlen(e->d_name) != LFS_UPLOAD_ID_LEN) continue; /* ".", "..", "by-object" */
            hf_buf_clear(&p);
            if (hf_buf_printf(&p, "%s/uploads/%s", h->root, e->d_name) ||
                !older_than(p.ptr, h->upload_max_age_secs, now, 1))
                continue;
            abort_in_store(h, e->d_name);
            remove_dir(p.ptr);
            removed++;
        }
        closedir(d);
    }
    /* Index links whose upload is gone (removed above, completed, or never made). */
    hf_buf_clear(&p);
    if (hf_buf_printf(&p, "%s/uploads/by-object", h->root) == 0 && (d = opendir(p.ptr))) {
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            hf_buf_clear(&p);
            if (hf_buf_printf(&p, "%s/uploads/by-object/%s", h->root, e->d_name)) continue;
            struct stat st;
            /* stat follows the link: ENOENT when its upload is gone; a fresh link may be mid-rename */
            if (stat(p.ptr, &st) != 0 && older_than(p.ptr, 60, now, 0)) unlink(p.ptr);
        }
        closedir(d);
    }
    hf_buf_clear(&p);
    if (hf_buf_printf(&p, "%s/tmp", h->root) == 0 && (d = opendir(p.ptr))) {
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            hf_buf_clear(&p);
            if (hf_buf_printf(&p, "%s/tmp/%s", h->root, e->d_name) ||
                !older_than(p.ptr, TMP_MAX_AGE_SECS, now, 0))
                continue;
            nftw(p.ptr, sweep_tmp_entry, 8, FTW_DEPTH | FTW_PHYS);
            remove(p.ptr);
        }
        closedir(d);
    }
    hf_buf_free(&p);
    return removed;
}
