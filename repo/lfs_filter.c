/* lfs_filter.c: the streaming clean/smudge filter (see lfs_filter.h; git-lfs §9.3, §9.4). */
#include "lfs_filter.h"

#include "lfs_store.h"

#include "../common/digest.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/pointer.h"

#include <git2.h>
#include <git2/sys/filter.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SMUDGE_READ_SIZE ((size_t)1 << 20)

static _Thread_local size_t missing_objects;
static _Thread_local hf_lfs_clean_progress_fn clean_progress;
static _Thread_local void *clean_progress_ud;

void hf_lfs_filter_set_clean_progress(hf_lfs_clean_progress_fn fn, void *ud)
{
    clean_progress = fn;
    clean_progress_ud = ud;
}

size_t hf_lfs_filter_missing(void)
{
    return missing_objects;
}

void hf_lfs_filter_missing_reset(void)
{
    missing_objects = 0;
}

/* Hands our error (already set by the hf_ call that failed with `code`) to libgit2 as well, so that
 * git_error_last(), which libgit2's callers see, explains it. Returns libgit2's generic error. */
static int fail(int code)
{
    (void)code;
    git_error_set_str(GIT_ERROR_FILTER, hf_error_last_message());
    return -1;
}

/* ---- clean ---- */

typedef struct clean_stream {
    git_writestream base;
    git_writestream *next;
    hf_buf lfs_dir;
    char prefix[HF_LFS_POINTER_MAX]; /* the first bytes, kept to recognise a pointer */
    size_t prefix_len;
    int fd;                          /* temp file once the input is known not to be a small pointer */
    hf_buf tmp_path;
    hf_digest *sha;
    uint64_t size;
    int failed;                      /* a write failed: close must not commit what was written so far */
    hf_write_behind wb;              /* the temp file goes to disk as it grows (fsutil.h: why) */
} clean_stream;

/* Starts the temp file and moves the prefix into it. */
static int clean_spill(clean_stream *s)
{
    int fd = hf_lfs_temp_open(s->lfs_dir.ptr, "tmp", "", &s->tmp_path);
    if (fd < 0)
        return fd;
    s->fd = fd;
    hf_write_behind_init(&s->wb, fd);
    if (hf_write_all(fd, s->prefix, s->prefix_len) < 0)
        return hf_error_set(HF_EIO, "cannot write %s: %s", s->tmp_path.ptr, strerror(errno));
    hf_write_behind_add(&s->wb, s->prefix_len);
    s->prefix_len = 0;
    return 0;
}

static int clean_write_step(clean_stream *s, const char *buf, size_t len);

/* libgit2 1.5 still calls close() after a write() failed (disk full, cancel): s->failed makes that close
 * fail instead of committing the truncated temp file under the hash of all the bytes offered. */
static int clean_write(git_writestream *stream, const char *buf, size_t len)
{
    clean_stream *s = (clean_stream *)stream;
    if (s->failed)
        return -1;
    int rc = clean_write_step(s, buf, len);
    if (rc < 0)
        s->failed = 1;
    return rc;
}

static int clean_write_step(clean_stream *s, const char *buf, size_t len)
{
    int rc;
    if ((rc = hf_digest_update(s->sha, buf, len)) < 0)
        return fail(rc);
    s->size += len;
    if (s->fd < 0 && s->prefix_len + len < sizeof(s->prefix)) {
        memcpy(s->prefix + s->prefix_len, buf, len);
        s->prefix_len += len;
        return 0;
    }
    if (s->fd < 0 && (rc = clean_spill(s)) < 0)
        return fail(rc);
    if (hf_write_all(s->fd, buf, len) < 0)
        return fail(hf_error_set(HF_EIO, "cannot write %s: %s", s->tmp_path.ptr, strerror(errno)));
    hf_write_behind_add(&s->wb, len);
    if (clean_progress && clean_progress(clean_progress_ud, len) != 0)
        return fail(hf_error_set(HF_ECANCELLED, "hashing cancelled by the progress callback"));
    return 0;
}

static int clean_close(git_writestream *stream)
{
    clean_stream *s = (clean_stream *)stream;
    int rc;
    if (s->failed) {
        /* the error of the failed write stands; clean_free removes the temp file */
        git_error_set_str(GIT_ERROR_FILTER, hf_error_last_message());
        return -1;
    }
    hf_lfs_pointer ptr;
    /* Small input: empty stays empty, and a pointer (e.g. a file checked out without its object) is kept
     * byte for byte, so cleaning is idempotent and no object is invented. */
    if (s->fd < 0) {
        if (s->prefix_len == 0 || hf_pointer_parse(&ptr, s->prefix, s->prefix_len, NULL) == 0) {
            hf_error_clear();
            if (s->prefix_len && s->next->write(s->next, s->prefix, s->prefix_len) < 0)
                return -1;
            return s->next->close(s->next);
        }
        hf_error_clear();
        if ((rc = clean_spill(s)) < 0)
            return fail(rc);
    }
    if (close(s->fd) < 0) {
        s->fd = -1;
        return fail(hf_error_set(HF_EIO, "cannot write %s: %s", s->tmp_path.ptr, strerror(errno)));
    }
    s->fd = -1;
    if ((rc = hf_digest_final_hex(s->sha, ptr.oid)) < 0)
        return fail(rc);
    ptr.size = s->size;
    rc = hf_lfs_object_commit(s->lfs_dir.ptr, s->tmp_path.ptr, ptr.oid, ptr.size);
    hf_buf_clear(&s->tmp_path); /* moved or removed either way */
    if (rc < 0)
        return fail(rc);
    hf_buf pointer = HF_BUF_INIT;
    if ((rc = hf_pointer_format(&ptr, &pointer)) < 0) {
        hf_buf_free(&pointer);
        return fail(rc);
    }
    rc = s->next->write(s->next, pointer.ptr, pointer.len);
    hf_buf_free(&pointer);
    return rc < 0 ? rc : s->next->close(s->next);
}

static void clean_free(git_writestream *stream)
{
    clean_stream *s = (clean_stream *)stream;
    if (s->fd >= 0)
        close(s->fd);
    if (s->tmp_path.len) /* an aborted clean leaves no temp file behind */
        unlink(s->tmp_path.ptr);
    hf_buf_free(&s->tmp_path);
    hf_buf_free(&s->lfs_dir);
    hf_digest_free(s->sha);
    free(s);
}

/* ---- smudge ---- */

typedef struct smudge_stream {
    git_writestream base;
    git_writestream *next;
    hf_buf lfs_dir;
    char prefix[HF_LFS_POINTER_MAX];
    size_t prefix_len;
    int passthrough; /* input reached 1024 bytes: not a pointer, copy it all */
} smudge_stream;

static int smudge_write(git_writestream *stream, const char *buf, size_t len)
{
    smudge_stream *s = (smudge_stream *)stream;
    if (s->passthrough)
        return s->next->write(s->next, buf, len);
    if (s->prefix_len + len < sizeof(s->prefix)) {
        memcpy(s->prefix + s->prefix_len, buf, len);
        s->prefix_len += len;
        return 0;
    }
    s->passthrough = 1;
    if (s->prefix_len && s->next->write(s->next, s->prefix, s->prefix_len) < 0)
        return -1;
    return s->next->write(s->next, buf, len);
}

/* Copies the stored object into next; HF_ENOTFOUND (no message) when it is not there with the right size. */
static int smudge_copy_object(smudge_stream *s, const hf_lfs_pointer *ptr)
{
    hf_buf path = HF_BUF_INIT;
    int rc = hf_lfs_object_path(&path, s->lfs_dir.ptr, ptr->oid);
    if (rc < 0)
        return rc;
    if (!hf_lfs_object_present(s->lfs_dir.ptr, ptr->oid, ptr->size)) {
        hf_buf_free(&path);
        return HF_ENOTFOUND;
    }
    int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
    char *buf = fd >= 0 ? malloc(SMUDGE_READ_SIZE) : NULL;
    if (!buf) {
        rc = fd < 0 ? hf_error_set(HF_EIO, "cannot open LFS object %s: %s", path.ptr, strerror(errno))
                    : hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t copied = 0;
    for (;;) {
        ssize_t n = read(fd, buf, SMUDGE_READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = hf_error_set(HF_EIO, "cannot read LFS object %s: %s", path.ptr, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        copied += (uint64_t)n;
        if (s->next->write(s->next, buf, (size_t)n) < 0) {
            rc = HF_ERROR; /* libgit2's own error stays in place */
            goto out;
        }
    }
    if (copied != ptr->size)
        rc = hf_error_set(HF_EIO, "LFS object %s changed size while being read", path.ptr);
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    hf_buf_free(&path);
    return rc;
}

static int smudge_close(git_writestream *stream)
{
    smudge_stream *s = (smudge_stream *)stream;
    hf_lfs_pointer ptr;
    if (!s->passthrough && s->prefix_len && hf_pointer_parse(&ptr, s->prefix, s->prefix_len, NULL) == 0) {
        if (ptr.size == 0)
            return s->next->close(s->next); /* the empty object: an empty file */
        int rc = smudge_copy_object(s, &ptr);
        if (rc == 0)
            return s->next->close(s->next);
        if (rc != HF_ENOTFOUND)
            return rc == HF_ERROR ? -1 : fail(rc);
        missing_objects++;
    }
    hf_error_clear();
    if (!s->passthrough && s->prefix_len && s->next->write(s->next, s->prefix, s->prefix_len) < 0)
        return -1;
    return s->next->close(s->next);
}

static void smudge_free(git_writestream *stream)
{
    smudge_stream *s = (smudge_stream *)stream;
    hf_buf_free(&s->lfs_dir);
    free(s);
}

/* ---- the filter ---- */

static int lfs_stream(git_writestream **out, git_filter *self, void **payload, const git_filter_source *src,
                      git_writestream *next)
{
    (void)self;
    (void)payload;
    git_repository *repo = git_filter_source_repo(src);
    hf_buf lfs_dir = HF_BUF_INIT;
    int rc = hf_lfs_dir(&lfs_dir, git_repository_commondir(repo));
    if (rc < 0)
        return fail(rc);
    if (git_filter_source_mode(src) == GIT_FILTER_CLEAN) {
        clean_stream *s = calloc(1, sizeof(*s));
        if (!s || hf_digest_new(&s->sha, HF_DIGEST_SHA256) < 0) {
            free(s);
            hf_buf_free(&lfs_dir);
            return fail(hf_error_set(HF_ENOMEM, "out of memory"));
        }
        s->base.write = clean_write;
        s->base.close = clean_close;
        s->base.free = clean_free;
        s->next = next;
        s->fd = -1;
        s->lfs_dir = lfs_dir;
        *out = &s->base;
        return 0;
    }
    smudge_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        hf_buf_free(&lfs_dir);
        return fail(hf_error_set(HF_ENOMEM, "out of memory"));
    }
    s->base.write = smudge_write;
    s->base.close = smudge_close;
    s->base.free = smudge_free;
    s->next = next;
    s->lfs_dir = lfs_dir;
    *out = &s->base;
    return 0;
}

/* Static storage: libgit2 keeps the pointer in its registry. */
static git_filter lfs_filter;

int hf_lfs_filter_register(void)
{
    if (git_filter_lookup(HF_LFS_FILTER_NAME))
        return 0;
    git_filter_init(&lfs_filter, GIT_FILTER_VERSION);
    lfs_filter.attributes = "filter=lfs";
    lfs_filter.stream = lfs_stream;
    int rc = git_filter_register(HF_LFS_FILTER_NAME, &lfs_filter, GIT_FILTER_DRIVER_PRIORITY);
    if (rc < 0 && rc != GIT_EEXISTS) {
        const git_error *e = git_error_last();
        return hf_error_set(HF_ERROR, "cannot register the lfs filter with libgit2: %s", e ? e->message : "?");
    }
    return 0;
}

void hf_lfs_filter_unregister(void)
{
    if (git_filter_lookup(HF_LFS_FILTER_NAME) == &lfs_filter)
        git_filter_unregister(HF_LFS_FILTER_NAME);
}
