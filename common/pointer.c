/*
 * pointer.c: Git LFS pointer parse/format, following git-lfs 3.3.0 lfs/pointer.go rule by rule (DecodeFrom,
 * decodeKVData, decodeKV, parseOid, parsePointerExtension, validatePointerExtensions) so that what git-lfs
 * calls a pointer, we call a pointer, and nothing else.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "pointer.h"
#include "error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const versions[] = {"https://git-lfs.github.com/spec/v1",
                                       "https://hawser.github.com/spec/v1", "http://git-media.io/v/2"};
static const char *const keys[] = {"version", "oid", "size"};

typedef struct span {
    const char *p;
    size_t n;
} span;

static int span_is(span s, const char *lit)
{
    return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

static int not_pointer(const char *why)
{
    return hf_error_set(HF_EINVAL, "not a Git LFS pointer: %s", why);
}

int hf_oid_valid(const char *s)
{
    if (!s) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0; /* also stops at a NUL before 64 */
    return s[64] == '\0';
}

/* Bytes of the Unicode white space (Go's unicode.IsSpace, as used by bytes.TrimSpace) starting at p. */
static size_t space_len(const unsigned char *p, size_t n)
{
    if (n >= 1 && (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))) return 1;
    if (n >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0)) return 2;
    if (n < 3 || (p[0] & 0xF0) != 0xE0 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    unsigned cp = (unsigned)(p[0] & 0x0F) << 12 | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
                   cp == 0x205F || cp == 0x3000
               ? 3
               : 0;
}

static span trim_space(span s)
{
    const unsigned char *u = (const unsigned char *)s.p;
    size_t b = 0, e = s.n, k;
    while (b < e && (k = space_len(u + b, e - b)))
        b += k;
    for (;;) {
        if (e > b && space_len(u + e - 1, 1) == 1)
            e -= 1;
        else if (e >= b + 2 && space_len(u + e - 2, 2) == 2)
            e -= 2;
        else if (e >= b + 3 && space_len(u + e - 3, 3) == 3)
            e -= 3;
        else
            break;
    }
    return (span){s.p + b, e - b};
}

/* "sha256:" + 64 lowercase hex; copies the hex into oid (65 bytes) when given. */
static int parse_oid(span v, char *oid)
{
    char tmp[65];
    if (v.n != 7 + 64 || memcmp(v.p, "sha256:", 7)) return 0;
    memcpy(tmp, v.p + 7, 64);
    tmp[64] = '\0';
    if (!hf_oid_valid(tmp)) return 0;
    if (oid) memcpy(oid, tmp, 65);
    return 1;
}

/* strconv.ParseInt(v, 10, 64) and >= 0: optional sign, decimal digits, no overflow. */
static int parse_size(span v, uint64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t n = 0;
    if (v.n && (v.p[0] == '+' || v.p[0] == '-')) neg = v.p[i++] == '-';
    if (i == v.n) return 0;
    for (; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') return 0;
        unsigned d = (unsigned)(v.p[i] - '0');
        if (n > ((uint64_t)INT64_MAX - d) / 10) return 0;
        n = n * 10 + d;
    }
    if (neg && n) /* "-0" is 0 for ParseInt, anything else below 0 is refused */
        return 0;
    *out = n;
    return 1;
}

/* \Aext-\d{1}-\w+ (a prefix match, as in git-lfs); returns the priority digit or -1. */
static int ext_priority(span k)
{
    if (k.n < 7 || memcmp(k.p, "ext-", 4) || k.p[4] < '0' || k.p[4] > '9' || k.p[5] != '-') return -1;
    char c = k.p[6];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return -1;
    return k.p[4] - '0';
}

int hf_pointer_parse(hf_lfs_pointer *out, const void *data, size_t len, int *canonical)
{
    span ext_key[10] = {{0}}, ext_val[10] = {{0}}; /* one extension per priority; same key: last value */
    span val[3] = {{0}};
    int line = 0, nexts = 0;
    if (canonical) *canonical = 0;
    if (len >= HF_LFS_POINTER_MAX) return not_pointer("1024 bytes or more");
    if (len == 0) {
        memcpy(out->oid, HF_LFS_EMPTY_OID, 65);
        out->size = 0;
        if (canonical) *canonical = 1;
        return 0;
    }
    if (!memmem(data, len, "git-lfs", 7) && !memmem(data, len, "hawser", 6) &&
        !memmem(data, len, "git-media", 9))
        return not_pointer("invalid header");

    span rest = trim_space((span){data, len});
    while (rest.n) {
        const char *nl = memchr(rest.p, '\n', rest.n);
        span ln = {rest.p, nl ? (size_t)(nl - rest.p) : rest.n};
        rest.p += ln.n + (nl != NULL);
        rest.n -= ln.n + (nl != NULL);
        if (ln.n && ln.p[ln.n - 1] == '\r') ln.n--;
        if (!ln.n) continue;
        const char *sp = memchr(ln.p, ' ', ln.n);
        if (!sp) return not_pointer("a line without a space");
        span k = {ln.p, (size_t)(sp - ln.p)}, v = {sp + 1, ln.n - k.n - 1};
        if (line >= 3) return not_pointer("extra line after size");
        if (span_is(k, keys[line])) {
            val[line++] = v;
            continue;
        }
        int prio = ext_priority(k);
        if (prio < 0)
            return not_pointer(line == 0   ? "version line expected"
                               : line == 1 ? "oid line expected"
                                           : "size line expected");
        if (ext_key[prio].p && (ext_key[prio].n != k.n || memcmp(ext_key[prio].p, k.p, k.n)))
            return not_pointer("two extensions with the same priority");
        ext_key[prio] = k;
        ext_val[prio] = v;
        nexts++;
    }

    int version_ok = 0;
    for (int i = 0; i < 3; i++)
        version_ok |= span_is(val[0], versions[i]);
    if (!version_ok) return not_pointer(val[0].p ? "unknown version" : "missing version");
    hf_lfs_pointer p;
    if (!parse_oid(val[1], p.oid))
        return not_pointer(val[1].p ? "oid is not sha256:<64 lowercase hex>" : "missing oid");
    if (!parse_size(val[2], &p.size)) return not_pointer(val[2].p ? "invalid size" : "missing size");
    for (int i = 0; i < 10; i++)
        if (ext_key[i].p && !parse_oid(ext_val[i], NULL))
            return not_pointer("extension oid is not sha256:<64 lowercase hex>");

    *out = p;
    if (canonical && !nexts) {
        hf_buf b = HF_BUF_INIT;
        if (hf_pointer_format(&p, &b) == 0)
            *canonical = b.len == len && !memcmp(b.ptr ? b.ptr : "", data, len);
        hf_buf_free(&b);
    }
    return 0;
}

int hf_pointer_format(const hf_lfs_pointer *p, hf_buf *out)
{
    if (p->size == 0) return 0;
    if (!hf_oid_valid(p->oid)) return hf_error_set(HF_EINVAL, "cannot write an LFS pointer: invalid oid");
    return hf_buf_printf(out, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %" PRIu64 "\n",
                         p->oid, p->size);
}

int hf_lfs_object_path(hf_buf *out, const char *lfs_dir, const char *oid)
{
    if (!hf_oid_valid(oid))
        return hf_error_set(HF_EINVAL, "invalid LFS object id (64 lowercase hex digits expected)");
    size_t n = strlen(lfs_dir);
    const char *sep = n && lfs_dir[n - 1] == '/' ? "" : "/";
    return hf_buf_printf(out, "%s%sobjects/%.2s/%.2s/%s", lfs_dir, sep, oid, oid + 2, oid);
}
