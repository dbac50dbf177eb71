/*
 * ulf_hash.c: the workers of upload-large-folder (ulf.h).
 *
 * Each worker takes the next file in path order (one shared counter), reads it once in 1 MiB blocks for its
 * SHA-256 and, for files under 10 MiB, the binary sniff of huggingface_hub's auto-tracking rule (10 MiB or
 * more, or a byte outside the text set: LFS). An LFS file is then pre-uploaded by the same worker at once,
 * from the hash it just computed (hf_repo_preupload_lfs_file: linked into the clone's store, not read again
 * but to send it), and recorded as such in the journal, so the object is never sent twice, also across runs.
 * Path order lets the committer start on the first chunk while the workers are still on the rest.
 */
#include "ulf.h"

#include "../common/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ULF_LFS_SIZE (10ull * 1024 * 1024) /* hf_repo_add's auto-tracking size */
#define ULF_BLOCK (1u << 20)

/* huggingface_hub's is_binary_file: a byte outside {7,8,9,10,12,13,27} and [0x20, 0xFF] minus 0x7F. */
static int binary(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if ((c >= 0x20 && c != 0x7F) || c == 7 || c == 8 || c == 9 || c == 10 || c == 12 || c == 13 ||
            c == 27)
            continue;
        return 1;
    }
    return 0;
}

static int hash_one(ulf_run *r, ulf_file *f, unsigned char *buf)
{
    hf_buf path = HF_BUF_INIT;
    hf_digest *d = NULL;
    struct stat st;
    int rc = 0;
    hf_buf_printf(&path, "%s/%s", r->local_path, f->path);
    int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = errno == ENOENT
                 ? hf_error_set(HF_ENOTFOUND,
                                "%s vanished during the upload (listed, then removed); nothing is "
                                "lost: run the same command again when the folder is settled",
                                path.ptr)
                 : hf_error_set(HF_EIO, "cannot read %s: %s", path.ptr, strerror(errno));
        goto out;
    }
    /* a file rewritten since the listing is taken as it is now: the journal records what was hashed */
    f->size = (uint64_t)st.st_size;
    f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if ((rc = hf_digest_new(&d, HF_DIGEST_SHA256)) < 0) goto out;
    int bin = 0;
    uint64_t done = 0;
    for (;;) {
        ssize_t n = read(fd, buf, ULF_BLOCK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = hf_error_set(HF_EIO, "cannot read %s: %s", path.ptr, strerror(errno));
            goto out;
        }
        if (n == 0) break;
        if (done < ULF_LFS_SIZE && !bin) bin = binary(buf, (size_t)n);
        done += (uint64_t)n;
        hf_digest_update(d, buf, (size_t)n);
        if (atomic_load(&r->stop)) {
            rc = HF_ECANCELLED;
            goto out;
        }
    }
    if (done != f->size) {
        rc = hf_error_set(HF_EIO,
                          "%s changed while it was hashed (%llu bytes read, %llu expected); run the "
                          "command again when it is complete",
                          path.ptr, (unsigned long long)done, (unsigned long long)f->size);
        goto out;
    }
    hf_digest_final_hex(d, f->oid);
    f->lfs = f->size >= ULF_LFS_SIZE || (f->size > 0 && bin);
out:
    if (fd >= 0) close(fd);
    hf_digest_free(d);
    hf_buf_free(&path);
    return rc;
}

static void fail(ulf_run *r, int rc)
{
    pthread_mutex_lock(&r->lock);
    if (!r->hash_error) {
        r->hash_error = rc;
        (void)snprintf(r->hash_msg, sizeof(r->hash_msg), "%s", hf_error_last_message());
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

typedef struct sending {
    ulf_run *r;
    uint64_t last; /* bytes of this object already added to sending_bytes */
} sending;

static int send_progress(uint64_t done, uint64_t total, void *payload)
{
    (void)total;
    sending *s = payload;
    if (done > s->last) {
        atomic_fetch_add(&s->r->stats.sending_bytes, done - s->last);
        s->last = done;
    }
    return atomic_load(&s->r->stop) ? 1 : 0;
}

static int preupload(ulf_run *r, ulf_file *f)
{
    hf_buf path = HF_BUF_INIT;
    hf_buf_printf(&path, "%s/%s", r->local_path, f->path);
    int rc = 0;
    atomic_fetch_add(&r->stats.uploading, 1);
    for (int attempt = 1; attempt <= ULF_TRIES; attempt++) {
        sending s = {r, 0};
        rc = hf_repo_preupload_lfs_file(r->repo, path.ptr, f->oid, f->size, send_progress, &s);
        atomic_fetch_sub(&r->stats.sending_bytes, s.last);
        if (rc == 0 || !ulf_transient(rc) || attempt == ULF_TRIES || atomic_load(&r->stop)) break;
        unsigned wait = 1u << attempt; /* 2, 4, 8, 16 s */
        (void)fprintf(stderr,
                      "hfgit upload-large-folder: pre-uploading %s failed (%s); try %d of %d in %u s\n",
                      f->path, hf_error_last_message(), attempt + 1, ULF_TRIES, wait);
        ulf_backoff(r, wait);
    }
    atomic_fetch_sub(&r->stats.uploading, 1);
    if (rc == HF_ENOTFOUND && access(path.ptr, F_OK) < 0)
        rc = hf_error_set(HF_ENOTFOUND,
                          "%s vanished during the upload; nothing is lost: run the same command "
                          "again when the folder is settled",
                          path.ptr);
    else if (rc < 0 && rc != HF_ECANCELLED)
        hf_error_prefix("pre-uploading %s: ", f->path);
    hf_buf_free(&path);
    return rc;
}

/* Marks f as in state st and wakes the committer. */
static void advance(ulf_run *r, ulf_file *f, int st)
{
    pthread_mutex_lock(&r->lock);
    atomic_store(&f->state, st);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void *worker(void *arg)
{
    ulf_run *r = arg;
    unsigned char *buf = malloc(ULF_BLOCK);
    if (!buf) {
        fail(r, hf_error_set(HF_ENOMEM, "out of memory for a hashing buffer"));
        return NULL;
    }
    while (!atomic_load(&r->stop)) {
        size_t i = atomic_fetch_add(&r->next_hash, 1);
        if (i >= r->count) break;
        ulf_file *f = &r->files[i];
        int rc = 0;
        if (atomic_load(&f->state) == ULF_SEEN) {
            atomic_fetch_add(&r->stats.hashing, 1);
            rc = hash_one(r, f, buf);
            atomic_fetch_sub(&r->stats.hashing, 1);
            if (rc == HF_ECANCELLED) break;
            if (rc == 0) rc = ulf_journal_hashed(r->journal, f);
            if (rc < 0) {
                fail(r, rc);
                break;
            }
            atomic_fetch_add(&r->stats.hashed, 1);
            atomic_fetch_add(&r->stats.hashed_bytes, f->size);
            if (f->lfs) {
                atomic_fetch_add(&r->stats.lfs, 1);
                atomic_fetch_add(&r->stats.lfs_bytes, f->size);
            }
            advance(r, f, ULF_HASHED);
        }
        /* an LFS file hashed now or in an earlier run whose object is not on the hub yet */
        if (f->lfs && atomic_load(&f->state) == ULF_HASHED) {
            rc = preupload(r, f);
            if (rc == HF_ECANCELLED && atomic_load(&r->stop)) break;
            if (rc == 0) rc = ulf_journal_uploaded(r->journal, f);
            if (rc < 0) {
                fail(r, rc);
                break;
            }
            atomic_fetch_add(&r->stats.uploaded, 1);
            atomic_fetch_add(&r->stats.uploaded_bytes, f->size);
            advance(r, f, ULF_UPLOADED);
        }
    }
    free(buf);
    return NULL;
}

int ulf_hash_start(ulf_run *r, pthread_t *threads)
{
    atomic_store(&r->next_hash, 0);
    atomic_store(&r->stop, 0);
    for (int i = 0; i < r->workers; i++) {
        if (pthread_create(&threads[i], NULL, worker, r) != 0) {
            atomic_store(&r->stop, 1);
            for (int k = 0; k < i; k++)
                pthread_join(threads[k], NULL);
            return hf_error_set(HF_ERROR, "cannot start hashing threads");
        }
    }
    return 0;
}

/* Hashed, and an LFS file's object on the hub. */
static int ready(const ulf_file *f)
{
    int st = atomic_load(&f->state);
    return st != ULF_SEEN && (!f->lfs || st != ULF_HASHED);
}

int ulf_hash_wait(ulf_run *r, const ulf_file *f)
{
    pthread_mutex_lock(&r->lock);
    while (!ready(f) && !r->hash_error)
        pthread_cond_wait(&r->cond, &r->lock);
    int rc = ready(f) ? 0 : r->hash_error;
    if (rc) hf_error_set(rc, "%s", r->hash_msg);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void ulf_hash_stop(ulf_run *r, pthread_t *threads)
{
    atomic_store(&r->stop, 1);
    for (int i = 0; i < r->workers; i++)
        pthread_join(threads[i], NULL);
}
