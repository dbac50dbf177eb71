/*
 * ulf_state.c: the resume journal of upload-large-folder (ulf.h).
 *
 * One text file, one record per line, the path last so it may contain anything but a tab or a newline:
 *
 *   hfgit-upload-large-folder-state 1
 *   H <TAB> size <TAB> mtime_ns <TAB> sha256 <TAB> lfs(0|1) <TAB> path   hashed
 *   U <TAB> sha256 <TAB> path                                          pre-uploaded (the hub has it)
 *   C <TAB> sha256 <TAB> path                                          committed (the hub accepted it)
 *
 * Later records win. A hash counts only while the file's size and mtime (to the nanosecond) are unchanged;
 * "pre-uploaded" and "committed" only for the content they were recorded with. Records are appended with one
 * write each, so a kill can only cut the last line short, and a line without its newline is ignored. At every
 * start the journal is rewritten compacted, to a temporary file renamed over it: a kill at any moment leaves
 * the old or the new one.
 */
#include "ulf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ULF_JOURNAL_MAGIC "hfgit-upload-large-folder-state 1\n"

struct ulf_journal {
    int fd;
    char *path;
    pthread_mutex_t lock;
};

static int read_all(const char *path, hf_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : hf_error_set(HF_EIO, "cannot open %s: %s", path, strerror(errno));
    char chunk[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = hf_error_set(HF_EIO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if ((rc = hf_buf_put(out, chunk, (size_t)n)) < 0) break;
    }
    close(fd);
    return rc;
}

static int is_oid(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return i == 64;
}

/* Applies one complete line (NUL-terminated, without its newline); malformed lines are ignored. */
static void apply(ulf_run *r, char *line)
{
    char *field[6];
    size_t n = 0;
    for (char *p = line; n < 6; n++) {
        field[n] = p;
        /* the path is the last field and may hold anything but tabs and newlines */
        if ((line[0] == 'H' && n == 5) || ((line[0] == 'C' || line[0] == 'U') && n == 2)) {
            n++;
            break;
        }
        char *tab = strchr(p, '\t');
        if (!tab) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    if (strcmp(field[0], "H") == 0 && n == 6 && is_oid(field[3])) {
        ulf_file *f = ulf_find(r, field[5]);
        if (!f) return;
        char *end;
        uint64_t size = strtoull(field[1], &end, 10);
        int64_t mtime = strtoll(field[2], &end, 10);
        if (size == f->size && mtime == f->mtime_ns) {
            memcpy(f->oid, field[3], 65);
            f->lfs = field[4][0] == '1';
            f->from_journal = 1;
            atomic_store(&f->state, ULF_HASHED);
        } else {
            atomic_store(&f->state, ULF_SEEN); /* changed since: hash it again */
        }
    } else if ((strcmp(field[0], "C") == 0 || strcmp(field[0], "U") == 0) && n == 3 && is_oid(field[1])) {
        ulf_file *f = ulf_find(r, field[2]);
        int to = field[0][0] == 'C' ? ULF_COMMITTED : ULF_UPLOADED;
        if (f && atomic_load(&f->state) >= ULF_HASHED && atomic_load(&f->state) < to &&
            strcmp(f->oid, field[1]) == 0)
            atomic_store(&f->state, to);
    }
}

static void format_hashed(hf_buf *b, const ulf_file *f)
{
    hf_buf_printf(b, "H\t%" PRIu64 "\t%" PRId64 "\t%s\t%d\t%s\n", f->size, f->mtime_ns, f->oid, f->lfs,
                  f->path);
}

static void format_committed(hf_buf *b, const ulf_file *f)
{
    hf_buf_printf(b, "C\t%s\t%s\n", f->oid, f->path);
}

static void format_uploaded(hf_buf *b, const ulf_file *f)
{
    hf_buf_printf(b, "U\t%s\t%s\n", f->oid, f->path);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Rewrites the journal with only what still holds, atomically. */
static int compact(const char *path, ulf_run *r)
{
    hf_buf b = HF_BUF_INIT, tmp = HF_BUF_INIT;
    hf_buf_puts(&b, ULF_JOURNAL_MAGIC);
    for (size_t i = 0; i < r->count; i++) {
        ulf_file *f = &r->files[i];
        int st = atomic_load(&f->state);
        if (st >= ULF_HASHED) format_hashed(&b, f);
        if (st == ULF_UPLOADED) format_uploaded(&b, f);
        if (st == ULF_COMMITTED) format_committed(&b, f);
    }
    hf_buf_printf(&tmp, "%s.tmp", path);
    int rc = 0, fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write_all(fd, b.ptr, b.len) == 0 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) < 0) ok = 0;
    if (!ok || rename(tmp.ptr, path) < 0)
        rc = hf_error_set(HF_EIO, "cannot write the upload state %s: %s", tmp.ptr, strerror(errno));
    hf_buf_free(&b);
    hf_buf_free(&tmp);
    return rc;
}

int ulf_journal_open(ulf_journal **out, const char *path, ulf_run *r)
{
    hf_buf text = HF_BUF_INIT;
    *out = NULL;
    int rc = read_all(path, &text);
    if (rc < 0) goto out;
    if (text.len && (text.len < strlen(ULF_JOURNAL_MAGIC) ||
                     memcmp(text.ptr, ULF_JOURNAL_MAGIC, strlen(ULF_JOURNAL_MAGIC)) != 0)) {
        (void)fprintf(
            stderr,
            "hfgit upload-large-folder: warning: %s is not an upload state this version reads; "
            "starting afresh (files are hashed again, nothing already on the hub is uploaded twice)\n",
            path);
        hf_buf_clear(&text);
    }
    for (size_t at = text.len ? strlen(ULF_JOURNAL_MAGIC) : 0; at < text.len;) {
        char *nl = memchr(text.ptr + at, '\n', text.len - at);
        if (!nl) break; /* the last record was cut short by a kill: as if never written */
        *nl = '\0';
        apply(r, text.ptr + at);
        at = (size_t)(nl - text.ptr) + 1;
    }
    if ((rc = compact(path, r)) < 0) goto out;
    ulf_journal *j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(path))) {
        free(j);
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    if ((j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
        rc = hf_error_set(HF_EIO, "cannot open %s: %s", path, strerror(errno));
        free(j->path);
        free(j);
        goto out;
    }
    pthread_mutex_init(&j->lock, NULL);
    *out = j;
out:
    hf_buf_free(&text);
    return rc;
}

static int append(ulf_journal *j, const hf_buf *b)
{
    pthread_mutex_lock(&j->lock);
    int rc = write_all(j->fd, b->ptr, b->len) < 0
                 ? hf_error_set(HF_EIO, "cannot append to the upload state %s: %s", j->path, strerror(errno))
                 : 0;
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* f's record, as format writes it, appended whole. */
static int append_record(ulf_journal *j, const ulf_file *f, void (*format)(hf_buf *, const ulf_file *))
{
    hf_buf b = HF_BUF_INIT;
    format(&b, f);
    int rc = append(j, &b);
    hf_buf_free(&b);
    return rc;
}

int ulf_journal_hashed(ulf_journal *j, const ulf_file *f)
{
    return append_record(j, f, format_hashed);
}

int ulf_journal_uploaded(ulf_journal *j, const ulf_file *f)
{
    return append_record(j, f, format_uploaded);
}

int ulf_journal_committed(ulf_journal *j, const ulf_file *f)
{
    return append_record(j, f, format_committed);
}

int ulf_journal_sync(ulf_journal *j)
{
    return fsync(j->fd) < 0 ? hf_error_set(HF_EIO, "cannot sync %s: %s", j->path, strerror(errno)) : 0;
}

void ulf_journal_close(ulf_journal *j)
{
    if (!j) return;
    close(j->fd);
    pthread_mutex_destroy(&j->lock);
    free(j->path);
    free(j);
}
