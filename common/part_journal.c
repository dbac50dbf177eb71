/*
 * part_journal.c: the finished-parts record of a multipart upload (see part_journal.h).
 */
#include "part_journal.h"

#include "digest.h"
#include "error.h"
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAX_BYTES ((size_t)64 * 1024 * 1024) /* 10,000 records of a few hundred bytes fit easily */
#define ETAG_MAX 512

struct hf_part_journal {
    int fd;
    char *path;
    char header[256];
};

/* Query parameters that change with each signing: dropped from the identity. */
static int volatile_param(const char *name, size_t n)
{
    static const char *const names[] = {"sig", "signature", "exp", "expires", "expiry", "token", "x-id"};
    if (n >= 6 && !strncasecmp(name, "x-amz-", 6)) return 1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && !strncasecmp(name, names[i], n)) return 1;
    return 0;
}

static void stable_url(hf_buf *out, const char *url)
{
    const char *q = url ? strchr(url, '?') : NULL;
    if (!url) return;
    hf_buf_put(out, url, q ? (size_t)(q - url) : strlen(url));
    hf_buf_putc(out, '\n');
    while (q && *q) {
        const char *p = q + 1, *end = p + strcspn(p, "&#");
        size_t name_len = strcspn(p, "=&#");
        if (name_len > (size_t)(end - p)) name_len = (size_t)(end - p);
        if (end > p && !volatile_param(p, name_len)) {
            hf_buf_put(out, p, (size_t)(end - p));
            hf_buf_putc(out, '&');
        }
        q = *end == '&' ? end : NULL;
    }
    hf_buf_putc(out, '\n');
}

void hf_upload_identity(const char *complete_url, const char *part1_url, char out[65])
{
    hf_buf b = HF_BUF_INIT;
    stable_url(&b, complete_url);
    stable_url(&b, part1_url);
    if (hf_sha256_hex(b.ptr ? b.ptr : "", b.len, out) != 0) memset(out, '0', 64), out[64] = '\0';
    hf_buf_free(&b);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One record line (without newline) into part number and ETag; 0 when well formed and its check holds. */
static int parse_record(const char *line, size_t len, size_t part_count, size_t *n, char **etag)
{
    const char *sp = memrchr(line, ' ', len);
    if (!sp || len - (size_t)(sp + 1 - line) != 16) return -1;
    char want[17];
    snprintf(want, sizeof(want), "%016llx", (unsigned long long)fnv1a(line, (size_t)(sp - line)));
    if (memcmp(sp + 1, want, 16) != 0) return -1;
    char hex[2 * ETAG_MAX + 1];
    unsigned long num;
    int used = 0;
    if ((size_t)(sp - line) >= sizeof(hex) + 32 ||
        sscanf(line, "part %lu %1024[0-9a-f]%n", &num, hex, &used) != 2 || line + used != sp)
        return -1;
    size_t hl = strlen(hex);
    if (num < 1 || num > part_count || hl % 2 || hl == 0) return -1;
    char *e = malloc(hl / 2 + 1);
    if (!e) return -1;
    for (size_t i = 0; i < hl / 2; i++)
        e[i] = (char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    e[hl / 2] = '\0';
    *n = (size_t)num;
    *etag = e;
    return 0;
}

/* Reads an existing journal: 1 when its header matches (records loaded), 0 when absent or another upload. */
static int load(int fd, const char *header, char **etags, size_t part_count, size_t *found)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > JOURNAL_MAX_BYTES) return 0;
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    if (!text) return 0;
    ssize_t got = pread(fd, text, len, 0);
    if (got != (ssize_t)len) {
        free(text);
        return 0;
    }
    text[len] = '\0';
    size_t hl = strlen(header);
    int match = len >= hl && memcmp(text, header, hl) == 0;
    for (char *p = text + hl; match && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n;
        char *etag;
        if (!nl) break; /* a torn last record */
        if (parse_record(p, (size_t)(nl - p), part_count, &n, &etag) == 0) {
            if (!etags[n - 1]) (*found)++;
            free(etags[n - 1]);
            etags[n - 1] = etag;
        }
        p = nl + 1;
    }
    int torn = len && text[len - 1] != '\n';
    free(text);
    if (match && torn && write_all(fd, "\n", 1) != 0) return 0;
    return match;
}

static int start_fresh(hf_part_journal *j)
{
    if (ftruncate(j->fd, 0) != 0 || write_all(j->fd, j->header, strlen(j->header)) != 0)
        return hf_error_set(HF_EIO, "cannot write the part journal %s: %s", j->path, strerror(errno));
    return 0;
}

/* Opens j->path and takes its lock without waiting: 0, 1 when another upload of the same object (another
 * process, or another handle in this one) holds it, or a negative error. Two uploads sharing one journal
 * would interleave one's fresh header with the other's records, so the second goes without a journal: it
 * loses only the ability to resume. A journal removed by its holder while we opened it is opened again. */
static int open_locked(hf_part_journal *j)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (j->fd < 0) return hf_error_set(HF_EIO, "cannot open the part journal %s: %s", j->path, strerror(errno));
        struct stat a, b;
        if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(j->fd);
            j->fd = -1;
            if (err == EWOULDBLOCK) {
                hf_trace("transfer: the part journal %s is in use by another upload of the same object: "
                         "going on without one (this upload cannot be resumed)",
                         j->path);
                return 1;
            }
            return hf_error_set(HF_EIO, "cannot lock the part journal %s: %s", j->path, strerror(err));
        }
        if (fstat(j->fd, &a) == 0 && stat(j->path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            return 0;
        close(j->fd);
        j->fd = -1;
    }
    return hf_error_set(HF_EIO, "cannot open the part journal %s: it keeps being removed", j->path);
}

int hf_part_journal_open(hf_part_journal **out, const char *dir, const char *oid, uint64_t size,
                         uint64_t chunk_size, const char *identity, char **etags, size_t part_count,
                         size_t *found)
{
    *out = NULL;
    *found = 0;
    hf_part_journal *j = calloc(1, sizeof(*j));
    hf_buf path = HF_BUF_INIT;
    if (!j || hf_buf_printf(&path, "%s/hfgit-parts-%s", dir, oid) != 0) {
        free(j);
        hf_buf_free(&path);
        return hf_error_set(HF_ENOMEM, "out of memory opening the part journal");
    }
    j->path = hf_buf_detach(&path);
    snprintf(j->header, sizeof(j->header), "hfgit-parts 1 %llu %llu %s\n", (unsigned long long)size,
             (unsigned long long)chunk_size, identity);
    (void)mkdir(dir, 0777); /* .git/lfs/tmp may not exist yet; a real failure shows at open */
    int rc = open_locked(j);
    if (rc != 0) {
        free(j->path);
        free(j);
        return rc < 0 ? rc : 0; /* rc > 0: in use elsewhere; *out stays NULL, every call accepts that */
    }
    if (!load(j->fd, j->header, etags, part_count, found)) {
        for (size_t i = 0; i < part_count; i++) {
            free(etags[i]);
            etags[i] = NULL;
        }
        *found = 0;
        rc = start_fresh(j);
        if (rc) {
            hf_part_journal_close(j, 1);
            return rc;
        }
    }
    *out = j;
    return 0;
}

int hf_part_journal_add(hf_part_journal *j, size_t n, const char *etag)
{
    if (!j) return 0;
    size_t el = strlen(etag);
    if (el > ETAG_MAX) return 0; /* not recorded: that part is simply sent again on a re-run */
    hf_buf rec = HF_BUF_INIT;
    hf_buf_printf(&rec, "part %zu ", n);
    for (size_t i = 0; i < el; i++)
        hf_buf_printf(&rec, "%02x", (unsigned char)etag[i]);
    hf_buf_printf(&rec, " %016llx\n", (unsigned long long)fnv1a(rec.ptr ? rec.ptr : "", rec.len));
    int rc = rec.ptr && write_all(j->fd, rec.ptr, rec.len) == 0
                 ? 0
                 : hf_error_set(HF_EIO, "cannot append to the part journal %s: %s", j->path, strerror(errno));
    hf_buf_free(&rec);
    return rc;
}

int hf_part_journal_reset(hf_part_journal *j, const char *identity)
{
    if (!j) return 0;
    char *last = strrchr(j->header, ' ');
    if (last) snprintf(last + 1, sizeof(j->header) - (size_t)(last + 1 - j->header), "%s\n", identity);
    return start_fresh(j);
}

void hf_part_journal_close(hf_part_journal *j, int remove)
{
    if (!j) return;
    if (remove) unlink(j->path); /* before the lock goes: nobody can take over a file about to vanish */
    close(j->fd);
    free(j->path);
    free(j);
}
