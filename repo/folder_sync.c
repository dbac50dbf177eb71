/* folder_sync.c: snapshot a folder under the writers' lock, then copy what grew into the clone (folder_sync.h). */
#include "folder_sync.h"
#include "repo.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hf_sync_list_free(hf_sync_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->files[i].rel);
    free(l->files);
    l->files = NULL;
    l->count = l->cap = 0;
}

/* Inserts a copy of f at position at (keeps the list sorted when at is where f belongs). */
static int list_insert(hf_sync_list *l, size_t at, const hf_sync_file *f)
{
    if (l->count == l->cap || !l->files) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        hf_sync_file *files = realloc(l->files, cap * sizeof(*files));
        if (!files)
            return hf_error_set(HF_ENOMEM, "out of memory");
        l->files = files;
        l->cap = cap;
    }
    char *rel = strdup(f->rel);
    if (!rel)
        return hf_error_set(HF_ENOMEM, "out of memory");
    memmove(&l->files[at + 1], &l->files[at], (l->count - at) * sizeof(*l->files));
    l->files[at] = *f;
    l->files[at].rel = rel;
    l->count++;
    return 0;
}

/* The index of rel, or where it would go (with *found 0). */
static size_t list_find(const hf_sync_list *l, const char *rel, int *found)
{
    size_t lo = 0, hi = l->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->files[mid].rel, rel);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static int glob_match(const char *pattern, const char *rel)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '/') {
        /* "logs/" means everything under logs/, as huggingface_hub appends "*" */
        return strncmp(pattern, rel, n) == 0;
    }
    return fnmatch(pattern, rel, 0) == 0;
}

static int any_match(const char *const *patterns, const char *rel)
{
    for (; patterns && *patterns; patterns++)
        if (glob_match(*patterns, rel))
            return 1;
    return 0;
}

typedef struct scan_ctx {
    const char *folder;
    const char *const *allow, *const *ignore;
    hf_sync_list *out;
} scan_ctx;

static int walk(scan_ctx *c, hf_buf *rel)
{
    hf_buf abs = HF_BUF_INIT;
    if (hf_buf_printf(&abs, "%s/%s", c->folder, hf_buf_cstr(rel)) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    DIR *d = opendir(abs.ptr);
    if (!d) {
        int rc = hf_error_set(HF_EIO, "cannot read the folder %s: %s", abs.ptr, strerror(errno));
        hf_buf_free(&abs);
        return rc;
    }
    size_t base = rel->len, abase = abs.len;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
            continue;
        rel->len = base;
        abs.len = abase;
        struct stat st;
        if (hf_buf_puts(rel, de->d_name) < 0 || hf_buf_puts(&abs, de->d_name) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
        if (lstat(abs.ptr, &st) < 0)
            continue; /* removed meanwhile: append-only data does not do that, but it is not ours to fail on */
        if (S_ISDIR(st.st_mode)) {
            rc = hf_buf_putc(rel, '/') < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : walk(c, rel);
            continue;
        }
        if (!S_ISREG(st.st_mode) || (c->allow && !any_match(c->allow, rel->ptr)) || any_match(c->ignore, rel->ptr))
            continue;
        hf_sync_file f = {rel->ptr, (uint64_t)st.st_size,
                          (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
        int found;
        size_t at = list_find(c->out, rel->ptr, &found);
        rc = list_insert(c->out, at, &f);
    }
    rel->len = base;
    if (rel->ptr)
        rel->ptr[base] = '\0';
    closedir(d);
    hf_buf_free(&abs);
    return rc;
}

int hf_sync_scan(const char *folder, const char *const *allow, const char *const *ignore, hf_sync_list *out)
{
    scan_ctx c = {folder, allow, ignore, out};
    hf_buf rel = HF_BUF_INIT;
    int rc = hf_buf_puts(&rel, "") < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : walk(&c, &rel);
    hf_buf_free(&rel);
    if (rc < 0)
        hf_sync_list_free(out);
    return rc;
}

/* Copies len bytes at off from in to the same offset of out: in the kernel when it can, else through a
 * buffer. A source shorter than promised is an error (the snapshot said those bytes were there). */
static int copy_range(int in, int out, uint64_t off, uint64_t len, const char *what)
{
    static const size_t step = (size_t)1 << 30;
    int use_kernel = 1;
    while (len > 0) {
        size_t want = len < step ? (size_t)len : step;
        ssize_t n = -1;
        if (use_kernel) {
            loff_t ioff = (loff_t)off, ooff = (loff_t)off;
            n = copy_file_range(in, &ioff, out, &ooff, want, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                use_kernel = 0;
                continue;
            }
        } else {
            static _Thread_local char buf[1 << 16];
            n = pread(in, buf, want < sizeof(buf) ? want : sizeof(buf), (off_t)off);
            if (n > 0) {
                for (ssize_t w = 0; w < n;) {
                    ssize_t k = pwrite(out, buf + w, (size_t)(n - w), (off_t)(off + (uint64_t)w));
                    if (k < 0 && errno == EINTR)
                        continue;
                    if (k < 0)
                        return hf_error_set(HF_EIO, "cannot write the copy of %s: %s", what, strerror(errno));
                    w += k;
                }
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hf_error_set(HF_EIO, "cannot copy %s: %s", what, strerror(errno));
        if (n == 0)
            return hf_error_set(HF_EIO, "%s shrank while it was being copied (the scheduler expects files that "
                                        "only grow)", what);
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

/* Copies bytes [from, f->size) of folder/rel to dest (truncated first when from is 0). */
static int copy_file(const char *src, const char *dest, uint64_t from, uint64_t to)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return hf_error_set(HF_EIO, "cannot read %s: %s", src, strerror(errno));
    /* O_NOFOLLOW: a link the remote put at this path is never written through (hf_sync_copy replaces it) */
    int out = open(dest, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (from == 0 ? O_TRUNC : 0), 0666);
    if (out < 0) {
        int rc = hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
        close(in);
        return rc;
    }
    int rc = copy_range(in, out, from, to - from, src);
    /* a delta after a failed earlier copy must not leave stale bytes past the snapshot */
    if (rc == 0 && ftruncate(out, (off_t)to) < 0)
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
    if (close(out) < 0 && rc == 0)
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
    close(in);
    return rc;
}

/* Reads exactly len bytes at off, or fails. */
static int pread_full(int fd, char *buf, size_t len, uint64_t off)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Compares bytes [from, to) of two open files; 1 equal, 0 different (or unreadable: then copy whole). */
static int same_range(int a, int b, uint64_t from, uint64_t to)
{
    static _Thread_local char ba[1 << 16], bb[1 << 16];
    for (uint64_t off = from; off < to;) {
        size_t n = to - off < sizeof(ba) ? (size_t)(to - off) : sizeof(ba);
        if (pread_full(a, ba, n, off) < 0 || pread_full(b, bb, n, off) < 0 || memcmp(ba, bb, n) != 0)
            return 0;
        off += n;
    }
    return 1;
}

/* Files up to this size are compared whole before a clone copy is trusted; larger ones by their last
 * SYNC_TAIL bytes (plus, when adopting, a copy not older than the file): append-only data that changed
 * differs there, and reading gigabytes every restart is what adopting avoids. */
#define SYNC_FULL_COMPARE ((uint64_t)1 << 20)
#define SYNC_TAIL ((uint64_t)64 << 10)

/* 1 when the clone's copy dest holds the first len bytes of src (as far as the checks above tell), 0 when
 * not: then the caller copies the whole file. stale: the copy is older than the file (a big file is then not
 * trusted). Never fails for unreadable files (0); the copy reports those errors. */
static int same_prefix(const char *src, const char *dest, uint64_t len, int stale)
{
    if (len > SYNC_FULL_COMPARE && stale)
        return 0;
    int a = open(src, O_RDONLY | O_CLOEXEC);
    int b = open(dest, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int same = a >= 0 && b >= 0 && same_range(a, b, len > SYNC_FULL_COMPARE ? len - SYNC_TAIL : 0, len);
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return same;
}

int hf_sync_copy(hf_sync_list *state, const hf_sync_list *snap, const char *folder, const char *dest_dir,
                 size_t *out_copied)
{
    hf_buf src = HF_BUF_INIT, dest = HF_BUF_INIT;
    size_t copied = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < snap->count; i++) {
        const hf_sync_file *f = &snap->files[i];
        hf_buf_clear(&src);
        hf_buf_clear(&dest);
        if (hf_buf_printf(&src, "%s/%s", folder, f->rel) < 0 || hf_buf_printf(&dest, "%s/%s", dest_dir, f->rel) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
        int found;
        size_t at = list_find(state, f->rel, &found);
        hf_sync_file *prev = found ? &state->files[at] : NULL;
        struct stat dst;
        /* the clone's content comes from the remote: no folder on the way may be a link, and a link at the
         * path itself is replaced by the copy */
        if ((rc = hf_path_refuse_links(dest_dir, f->rel, 0)) < 0)
            break;
        if (lstat(dest.ptr, &dst) == 0 && S_ISLNK(dst.st_mode) && unlink(dest.ptr) < 0) {
            rc = hf_error_set(HF_EIO, "cannot replace the link %s: %s", dest.ptr, strerror(errno));
            break;
        }
        int have = lstat(dest.ptr, &dst) == 0 && S_ISREG(dst.st_mode);
        uint64_t from = 0;
        if (prev && have && (uint64_t)dst.st_size == prev->size && f->size >= prev->size &&
            (f->size > prev->size || f->mtime_ns == prev->mtime_ns)) {
            if (f->size == prev->size)
                continue; /* unchanged */
            /* grew: append the new bytes, if what we copied before is still the file's beginning (a file
             * rewritten larger would otherwise be committed as old bytes followed by new ones) */
            from = same_prefix(src.ptr, dest.ptr, prev->size, 0) ? prev->size : 0;
        } else if (!prev && have && (uint64_t)dst.st_size == f->size) {
            /* a copy from an earlier run (the clone keeps it): adopt it rather than copy gigabytes again,
             * but only when it holds the file's content (an edit of the same size must be copied) */
            int64_t dst_ns = (int64_t)dst.st_mtim.tv_sec * 1000000000 + dst.st_mtim.tv_nsec;
            if (same_prefix(src.ptr, dest.ptr, f->size, dst_ns < f->mtime_ns)) {
                rc = list_insert(state, at, f);
                continue;
            }
        }
        if ((rc = hf_mkdir_parents(dest.ptr, 0777)) < 0 ||
            (rc = copy_file(src.ptr, dest.ptr, from, f->size)) < 0) {
            if (prev)
                prev->size = UINT64_MAX; /* the clone's copy is in doubt: copy it whole next time */
            break;
        }
        copied++;
        if (prev) {
            prev->size = f->size;
            prev->mtime_ns = f->mtime_ns;
        } else {
            rc = list_insert(state, at, f);
        }
    }
    hf_buf_free(&src);
    hf_buf_free(&dest);
    if (out_copied)
        *out_copied = copied;
    return rc;
}
