/*
 * json.c: the JSON reader, on jsmn (see json.h).
 *
 * jsmn, even in strict mode, accepts things that are not JSON (missing commas, "[1 2]", "01", two top-level
 * values, stray colons) and stops at a NUL byte. So every input first goes through validate(): one pass over
 * the RFC 8259 grammar that also checks escapes, surrogate pairs, UTF-8 and nesting depth, and counts the
 * tokens. Only then does jsmn tokenise the (now known-good) text, and the token counts must agree.
 *
 * Choices: "\u0000" is refused (a NUL would silently cut C strings used as paths and URLs); a lone or
 * mismatched UTF-16 surrogate is refused rather than replaced with U+FFFD; invalid UTF-8 inside strings is
 * refused. The writer is in json_write.c.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"
#include "error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Deep enough for any real document; shallow enough that hostile "[[[[..." inputs cost nothing. */
#define HF_JSON_MAX_DEPTH 512

struct hf_json {
    char *text;     /* copy of the input plus "\n\0" (jsmn strict needs a delimiter after a bare number) */
    jsmntok_t *tok; /* ntok tokens in document order; a key's value is the token right after it */
    int ntok;
    int *kids; /* children (array elements or object keys) of every container, contiguous per container */
    int *kid0; /* kids[kid0[t]] is the first child of container t */
};

/* ---- UTF-8 ---- */

size_t hf_utf8_seq_len(const void *s, size_t n)
{
    const unsigned char *p = s;
    unsigned c = p[0], cp, min;
    size_t len;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Four hex digits at p (caller guarantees 4 readable bytes) or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* ---- validation (the grammar jsmn does not check) ---- */

typedef struct scan {
    const char *s;
    size_t n, pos;
    int count; /* tokens jsmn will produce: every value and every key */
} scan;

static int fail(const scan *sc, const char *what)
{
    return hf_error_set(HF_EINVAL, "invalid JSON: %s at byte %zu", what, sc->pos);
}

static void skip_ws(scan *sc)
{
    while (sc->pos < sc->n && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' || sc->s[sc->pos] == '\n' ||
                               sc->s[sc->pos] == '\r'))
        sc->pos++;
}

/* \uXXXX at s+pos (pos is at the backslash): checks it and the low half of a surrogate pair; returns the
 * number of bytes consumed (6 or 12) or 0 after setting the error. */
static size_t check_u_escape(scan *sc)
{
    const char *p = sc->s + sc->pos;
    size_t left = sc->n - sc->pos;
    long cp = left >= 6 ? hex4(p + 2) : -1;
    if (cp < 0) return fail(sc, "\\u escape needs 4 hex digits"), 0;
    if (cp == 0) return fail(sc, "\\u0000 (NUL) is not allowed in strings"), 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(sc, "lone UTF-16 low surrogate"), 0;
    if (cp < 0xD800 || cp > 0xDBFF) return 6;
    long lo = left >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(sc, "UTF-16 high surrogate not followed by a low surrogate"), 0;
    return 12;
}

static int scan_string(scan *sc)
{
    sc->pos++; /* opening quote */
    while (sc->pos < sc->n) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        size_t k = 1;
        if (c == '"') {
            sc->pos++;
            sc->count++;
            return 0;
        }
        if (c < 0x20) return fail(sc, c ? "raw control character in string" : "NUL byte in string");
        if (c == '\\') {
            char e = sc->pos + 1 < sc->n ? sc->s[sc->pos + 1] : 0;
            if (e == 'u')
                k = check_u_escape(sc);
            else if (e && strchr("\"\\/bfnrt", e))
                k = 2;
            else
                return fail(sc, "invalid escape in string");
            if (!k) return HF_EINVAL;
        } else if (c >= 0x80 && !(k = hf_utf8_seq_len(sc->s + sc->pos, sc->n - sc->pos))) {
            return fail(sc, "invalid UTF-8 in string");
        }
        sc->pos += k;
    }
    return fail(sc, "unterminated string");
}

static int is_digit(const scan *sc)
{
    return sc->pos < sc->n && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(scan *sc)
{
    if (sc->s[sc->pos] == '-') sc->pos++;
    if (!is_digit(sc)) return fail(sc, "invalid number");
    if (sc->s[sc->pos++] != '0')
        while (is_digit(sc))
            sc->pos++;
    if (sc->pos < sc->n && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!is_digit(sc)) return fail(sc, "invalid number (digit expected after '.')");
        while (is_digit(sc))
            sc->pos++;
    }
    if (sc->pos < sc->n && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->n && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-')) sc->pos++;
        if (!is_digit(sc)) return fail(sc, "invalid number (digit expected in exponent)");
        while (is_digit(sc))
            sc->pos++;
    }
    sc->count++;
    return 0;
}

static int scan_scalar(scan *sc)
{
    static const char *const words[] = {"true", "false", "null"};
    char c = sc->s[sc->pos];
    if (c == '"') return scan_string(sc);
    if (c == '-' || (c >= '0' && c <= '9')) return scan_number(sc);
    for (int i = 0; i < 3; i++) {
        size_t wl = strlen(words[i]);
        if (sc->n - sc->pos >= wl && !memcmp(sc->s + sc->pos, words[i], wl)) {
            sc->pos += wl;
            sc->count++;
            return 0;
        }
    }
    return fail(sc, c ? "unexpected character (a value was expected)" : "NUL byte (a value was expected)");
}

/* An object key and its colon, leaving pos at the value. */
static int scan_key(scan *sc)
{
    skip_ws(sc);
    if (sc->pos >= sc->n || sc->s[sc->pos] != '"') return fail(sc, "object key (a string) expected");
    int rc = scan_string(sc);
    if (rc) return rc;
    skip_ws(sc);
    if (sc->pos >= sc->n || sc->s[sc->pos] != ':') return fail(sc, "':' expected after object key");
    sc->pos++;
    return 0;
}

static int validate(scan *sc)
{
    char stack[HF_JSON_MAX_DEPTH]; /* '{' or '[' for each open container */
    int depth = 0, want_value = 1, rc;
    for (;;) {
        skip_ws(sc);
        if (want_value) {
            if (sc->pos >= sc->n)
                return fail(sc, depth || sc->count ? "unexpected end of input" : "empty input");
            char c = sc->s[sc->pos];
            if (c == '{' || c == '[') {
                if (depth == HF_JSON_MAX_DEPTH) return fail(sc, "nesting deeper than 512 levels");
                stack[depth++] = c;
                sc->count++;
                sc->pos++;
                skip_ws(sc);
                if (sc->pos < sc->n && sc->s[sc->pos] == (c == '{' ? '}' : ']')) {
                    sc->pos++;
                    depth--;
                    want_value = 0;
                } else if (c == '{' && (rc = scan_key(sc))) {
                    return rc;
                }
                continue;
            }
            if ((rc = scan_scalar(sc))) return rc;
            want_value = 0;
            continue;
        }
        if (depth == 0) return sc->pos == sc->n ? 0 : fail(sc, "trailing data after the JSON value");
        if (sc->pos >= sc->n) return fail(sc, "unexpected end of input");
        char top = stack[depth - 1], c = sc->s[sc->pos];
        if (c == ',') {
            sc->pos++;
            if (top == '{' && (rc = scan_key(sc))) return rc;
            want_value = 1;
        } else if (c == (top == '{' ? '}' : ']')) {
            sc->pos++;
            depth--;
        } else {
            return fail(sc, top == '{' ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
}

/* ---- reader ---- */

void hf_json_free(hf_json *doc)
{
    if (!doc) return;
    free(doc->text);
    free(doc->tok);
    free(doc->kids);
    free(doc->kid0);
    free(doc);
}

static int is_container(const jsmntok_t *t)
{
    return t->type == JSMN_OBJECT || t->type == JSMN_ARRAY;
}

/* Child lists, so that hf_json_at and hf_json_member are O(1) even on objects with 10,000 members. */
static int index_children(hf_json *doc)
{
    int n = doc->ntok, next = 0;
    doc->kids = malloc((size_t)n * sizeof(int));
    doc->kid0 = malloc((size_t)n * sizeof(int));
    if (!doc->kids || !doc->kid0)
        return hf_error_set(HF_ENOMEM, "out of memory indexing a JSON document of %d tokens", n);
    for (int t = 0; t < n; t++) {
        doc->kid0[t] = next;
        if (is_container(&doc->tok[t])) next += doc->tok[t].size;
    }
    /* kid0 doubles as the fill cursor; children come in document order, so lists come out ordered. */
    for (int j = 1; j < n; j++) {
        int p = doc->tok[j].parent;
        if (p < 0 || p >= j || !is_container(&doc->tok[p]))
            continue; /* the value of a key: its parent is the key */
        if (doc->kid0[p] >= next) return hf_error_set(HF_EINVAL, "invalid JSON: inconsistent token tree");
        doc->kids[doc->kid0[p]++] = j;
    }
    for (int t = 0; t < n; t++)
        if (is_container(&doc->tok[t])) doc->kid0[t] -= doc->tok[t].size;
    return 0;
}

/* Tokenises doc->text (len bytes plus "\n\0"), already validated. Frees doc on failure. */
static int tokenise(hf_json *doc, size_t len, int count, hf_json **out)
{
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, doc->text, len + 1, NULL, 0), rc;
    if (n != count) {
        hf_json_free(doc);
        return hf_error_set(HF_EINVAL, "invalid JSON: tokenizer counted %d tokens, validator %d", n, count);
    }
    doc->tok = malloc((size_t)n * sizeof(jsmntok_t));
    if (!doc->tok) {
        hf_json_free(doc);
        return hf_error_set(HF_ENOMEM, "out of memory for %d JSON tokens", n);
    }
    jsmn_init(&p); /* a second pass needs a fresh parser (jsmn #113) */
    doc->ntok = jsmn_parse(&p, doc->text, len + 1, doc->tok, (unsigned)n);
    if (doc->ntok != n) { /* cannot happen on validated text; never trust it blindly */
        int got = doc->ntok;
        hf_json_free(doc);
        return hf_error_set(HF_EINVAL, "invalid JSON: tokenizer returned %d for %d tokens", got, n);
    }
    if ((rc = index_children(doc))) {
        hf_json_free(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int hf_json_parse(hf_json **out, const char *text, size_t len)
{
    *out = NULL;
    if (len > (size_t)INT_MAX - 2) /* jsmn offsets are int */
        return hf_error_set(HF_EINVAL, "invalid JSON: document of %zu bytes is over the 2 GiB limit", len);
    scan sc = {text, len, 0, 0};
    int rc = validate(&sc);
    if (rc) return rc;

    hf_json *doc = calloc(1, sizeof(*doc));
    if (!doc || !(doc->text = malloc(len + 2))) {
        free(doc);
        return hf_error_set(HF_ENOMEM, "out of memory copying a JSON document of %zu bytes", len);
    }
    if (len) memcpy(doc->text, text, len);
    doc->text[len] = '\n';
    doc->text[len + 1] = '\0';
    return tokenise(doc, len, sc.count, out);
}

int hf_json_parse_owned(hf_json **out, char *text, size_t len)
{
    *out = NULL;
    if (len > (size_t)INT_MAX - 2) {
        free(text);
        return hf_error_set(HF_EINVAL, "invalid JSON: document of %zu bytes is over the 2 GiB limit", len);
    }
    scan sc = {text, len, 0, 0};
    int rc = validate(&sc);
    hf_json *doc = rc ? NULL : calloc(1, sizeof(*doc));
    if (!doc) {
        free(text);
        return rc ? rc : hf_error_set(HF_ENOMEM, "out of memory parsing a JSON document of %zu bytes", len);
    }
    doc->text = text;
    doc->text[len] = '\n';
    doc->text[len + 1] = '\0';
    return tokenise(doc, len, sc.count, out);
}

static const jsmntok_t *token(const hf_json *doc, int tok)
{
    return doc && tok >= 0 && tok < doc->ntok ? &doc->tok[tok] : NULL;
}

hf_json_type hf_json_type_of(const hf_json *doc, int tok)
{
    const jsmntok_t *t = token(doc, tok);
    if (!t) return HF_JSON_INVALID;
    switch (t->type) {
    case JSMN_OBJECT:
        return HF_JSON_OBJECT;
    case JSMN_ARRAY:
        return HF_JSON_ARRAY;
    case JSMN_STRING:
        return HF_JSON_STRING;
    case JSMN_PRIMITIVE:
        switch (doc->text[t->start]) {
        case 't':
            return HF_JSON_TRUE;
        case 'f':
            return HF_JSON_FALSE;
        case 'n':
            return HF_JSON_NULL;
        default:
            return HF_JSON_NUMBER;
        }
    default:
        return HF_JSON_INVALID;
    }
}

int hf_json_count(const hf_json *doc, int tok)
{
    const jsmntok_t *t = token(doc, tok);
    return t && is_container(t) ? t->size : 0;
}

/* Decodes the character (or escape) at *pp in validated string text into out; returns bytes written. */
static size_t decode_char(const char **pp, char out[4])
{
    const char *p = *pp;
    if (*p != '\\') {
        out[0] = *p;
        *pp = p + 1;
        return 1;
    }
    static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
    char e = p[1];
    *pp = p + 2;
    if (e != 'u') {
        const char *m = strchr(from, e); /* e is never NUL here: the text was validated */
        out[0] = m ? to[m - from] : e;   /* \" \\ \/ stand for themselves */
        return 1;
    }
    unsigned cp = (unsigned)hex4(p + 2);
    *pp = p + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) { /* validated: a low surrogate follows */
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)hex4(p + 8) - 0xDC00);
        *pp = p + 12;
    }
    return utf8_put(out, cp);
}

/* Unescapes string token t into dst (room for its raw length + 1); returns the length written. */
static size_t unescape(const hf_json *doc, const jsmntok_t *t, char *dst)
{
    const char *p = doc->text + t->start, *end = doc->text + t->end;
    size_t n = 0;
    while (p < end)
        n += decode_char(&p, dst + n);
    dst[n] = '\0';
    return n;
}

static int str_eq(const hf_json *doc, const jsmntok_t *t, const char *s, size_t slen)
{
    const char *p = doc->text + t->start, *end = doc->text + t->end;
    if (!memchr(p, '\\', (size_t)(end - p))) return (size_t)(end - p) == slen && !memcmp(p, s, slen);
    size_t off = 0;
    char ch[4];
    while (p < end) {
        size_t k = decode_char(&p, ch);
        if (off + k > slen || memcmp(s + off, ch, k)) return 0;
        off += k;
    }
    return off == slen;
}

int hf_json_get(const hf_json *doc, int obj, const char *key)
{
    const jsmntok_t *t = token(doc, obj);
    if (!t || t->type != JSMN_OBJECT || !key) return -1;
    size_t klen = strlen(key);
    for (int i = 0; i < t->size; i++) {
        int k = doc->kids[doc->kid0[obj] + i];
        if (str_eq(doc, &doc->tok[k], key, klen)) return k + 1; /* first match wins on duplicate keys */
    }
    return -1;
}

int hf_json_at(const hf_json *doc, int arr, int i)
{
    const jsmntok_t *t = token(doc, arr);
    if (!t || t->type != JSMN_ARRAY || i < 0 || i >= t->size) return -1;
    return doc->kids[doc->kid0[arr] + i];
}

int hf_json_member(const hf_json *doc, int obj, int i, int *key_tok)
{
    const jsmntok_t *t = token(doc, obj);
    if (key_tok) *key_tok = -1;
    if (!t || t->type != JSMN_OBJECT || i < 0 || i >= t->size) return -1;
    int k = doc->kids[doc->kid0[obj] + i];
    if (key_tok) *key_tok = k;
    return k + 1;
}

static int not_a(const hf_json *doc, int tok, const char *what)
{
    const jsmntok_t *t = token(doc, tok);
    if (!t) return hf_error_set(HF_EINVAL, "JSON: %s expected, but token %d does not exist", what, tok);
    return hf_error_set(HF_EINVAL, "JSON: %s expected at byte %d", what, t->start);
}

int hf_json_str(const hf_json *doc, int tok, hf_buf *out)
{
    const jsmntok_t *t = token(doc, tok);
    if (!t || t->type != JSMN_STRING) return not_a(doc, tok, "a string");
    if (hf_buf_grow(out, (size_t)(t->end - t->start))) return HF_ENOMEM;
    out->len += unescape(doc, t, out->ptr + out->len);
    return 0;
}

char *hf_json_strdup(const hf_json *doc, int tok)
{
    const jsmntok_t *t = token(doc, tok);
    if (!t || t->type != JSMN_STRING) return NULL;
    char *s = malloc((size_t)(t->end - t->start) + 1);
    if (s) unescape(doc, t, s);
    return s;
}

int hf_json_str_eq(const hf_json *doc, int tok, const char *s)
{
    const jsmntok_t *t = token(doc, tok);
    return t && s && t->type == JSMN_STRING && str_eq(doc, t, s, strlen(s));
}

int hf_json_int64(const hf_json *doc, int tok, int64_t *out)
{
    const jsmntok_t *t = token(doc, tok);
    if (!t || (t->type != JSMN_STRING && hf_json_type_of(doc, tok) != HF_JSON_NUMBER))
        return not_a(doc, tok, "an integer");
    const char *p = doc->text + t->start, *end = doc->text + t->end;
    int neg = t->type == JSMN_PRIMITIVE && p < end && *p == '-'; /* strings: digits only */
    p += neg;
    if (p == end) return not_a(doc, tok, "an integer");
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return not_a(doc, tok, "an integer (no sign, fraction or exponent)");
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10)
            return hf_error_set(HF_EINVAL, "JSON: integer out of 64-bit range at byte %d", t->start);
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

int hf_json_bool(const hf_json *doc, int tok, int *out)
{
    hf_json_type ty = hf_json_type_of(doc, tok);
    if (ty != HF_JSON_TRUE && ty != HF_JSON_FALSE) return not_a(doc, tok, "true or false");
    *out = ty == HF_JSON_TRUE;
    return 0;
}

int hf_json_get_int64(const hf_json *doc, int obj, const char *key, int64_t *out)
{
    int tok = hf_json_get(doc, obj, key);
    if (tok < 0) return hf_error_set(HF_ENOTFOUND, "JSON: key \"%s\" missing", key);
    if (hf_json_int64(doc, tok, out)) return hf_error_prefix("key \"%s\": ", key);
    return 0;
}

char *hf_json_get_strdup(const hf_json *doc, int obj, const char *key)
{
    return hf_json_strdup(doc, hf_json_get(doc, obj, key));
}
