/* download_plan.c: the pure parts of ranged downloads: range arithmetic, Content-Range, the record. */
#include "download.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RECORD_MAGIC "hfgit-ranges 1"

uint64_t hf_download_range_count(uint64_t size, uint64_t range_size)
{
    if (range_size == 0 || size <= range_size) return 1;
    return size / range_size + (size % range_size != 0);
}

/* Reads an unsigned decimal at *p (no sign, no overflow), advancing *p. -1 when there is none. */
static int read_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s)) return -1;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int hf_download_content_range_ok(const char *value, uint64_t from, uint64_t to, uint64_t size)
{
    uint64_t a, b, n;
    if (!value) return 0;
    const char *p = skip_spaces(value);
    if (strncasecmp(p, "bytes", 5) != 0) return 0;
    p = skip_spaces(p + 5);
    if (read_u64(&p, &a) || *p++ != '-' || read_u64(&p, &b) || *p++ != '/' || read_u64(&p, &n)) return 0;
    return *skip_spaces(p) == '\0' && a == from && b == to && n == size;
}

int hf_download_record_header(hf_buf *out, uint64_t size, uint64_t range_size)
{
    hf_buf_clear(out);
    return hf_buf_printf(out, RECORD_MAGIC " %llu %llu", (unsigned long long)size,
                         (unsigned long long)range_size);
}

long hf_download_record_parse(const char *text, size_t len, uint64_t size, uint64_t range_size,
                              unsigned char *done, uint64_t count)
{
    hf_buf want = HF_BUF_INIT;
    if (hf_download_record_header(&want, size, range_size) != 0) return -1;
    int match = len > want.len && memcmp(text, want.ptr, want.len) == 0 && text[want.len] == '\n';
    const char *p = text + want.len + 1, *end = text + len;
    hf_buf_free(&want);
    if (!match) return -1;
    long marked = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* a line without its newline was cut by a crash: its range is not known done */
        uint64_t i;
        const char *q = p;
        if (read_u64(&q, &i) == 0 && q == nl && i < count && !done[i]) {
            done[i] = 1;
            marked++;
        }
        p = nl + 1;
    }
    return marked;
}
