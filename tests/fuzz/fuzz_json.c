/*
 * fuzz_json.c: libFuzzer target for the JSON reader and writer.
 *
 * Oracles: parsing never crashes or reads out of bounds; every accessor answers on every token; a parsed
 * document written back with the hf_jw_* writer parses again and writes back to the same bytes; any bytes
 * escaped with hf_json_escape parse back as one string, equal to the input when it was valid UTF-8 without
 * NUL.
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void write_value(const hf_json *doc, int tok, hf_jw *w)
{
    hf_buf s = HF_BUF_INIT;
    int64_t v;
    int key;
    switch (hf_json_type_of(doc, tok)) {
    case HF_JSON_OBJECT:
        hf_jw_obj_begin(w);
        for (int i = 0; i < hf_json_count(doc, tok); i++) {
            int val = hf_json_member(doc, tok, i, &key);
            if (hf_json_str(doc, key, &s)) abort();
            hf_jw_key(w, s.ptr);
            int first = hf_json_get(doc, tok, s.ptr); /* the first member with this key */
            if (first < 0 || first > val || !hf_json_str_eq(doc, first - 1, s.ptr)) abort();
            hf_buf_clear(&s);
            write_value(doc, val, w);
        }
        hf_jw_obj_end(w);
        break;
    case HF_JSON_ARRAY:
        hf_jw_arr_begin(w);
        for (int i = 0; i < hf_json_count(doc, tok); i++)
            write_value(doc, hf_json_at(doc, tok, i), w);
        hf_jw_arr_end(w);
        break;
    case HF_JSON_STRING: {
        if (hf_json_str(doc, tok, &s)) abort();
        char *dup = hf_json_strdup(doc, tok);
        if (!dup || strlen(dup) != s.len || memcmp(dup, hf_buf_cstr(&s), s.len) ||
            !hf_json_str_eq(doc, tok, dup))
            abort(); /* strings never contain NUL: \u0000 is refused */
        free(dup);
        hf_jw_strn(w, hf_buf_cstr(&s), s.len);
        (void)hf_json_int64(doc, tok, &v);
        break;
    }
    case HF_JSON_NUMBER:
        if (hf_json_int64(doc, tok, &v) == 0)
            hf_jw_int(w, v);
        else
            hf_jw_null(w); /* the writer has no fractions; the second round still must match */
        break;
    case HF_JSON_TRUE:
    case HF_JSON_FALSE:
        hf_jw_bool(w, hf_json_type_of(doc, tok) == HF_JSON_TRUE);
        break;
    case HF_JSON_NULL:
        hf_jw_null(w);
        break;
    default:
        abort();
    }
    hf_buf_free(&s);
}

static void serialize(const hf_json *doc, hf_buf *out)
{
    hf_jw w;
    hf_jw_init(&w, out);
    write_value(doc, 0, &w);
    if (w.error) abort();
}

/* Independent of json.c: well-formed UTF-8 per RFC 3629 table 2 (Unicode 3.9 D92), and no NUL. */
static int valid_utf8_no_nul(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        uint8_t lo = 0x80, hi = 0xBF;
        size_t k;
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return 0;
        if (i + k >= n) return 0;
        if (p[i + 1] < lo || p[i + 1] > hi) return 0;
        for (size_t j = 2; j <= k; j++)
            if (p[i + j] < 0x80 || p[i + j] > 0xBF) return 0;
        i += k + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hf_json *doc = NULL;
    if (hf_json_parse(&doc, (const char *)data, size) == 0) {
        hf_buf a = HF_BUF_INIT, b = HF_BUF_INIT;
        serialize(doc, &a);
        hf_json *again = NULL;
        if (hf_json_parse(&again, a.ptr, a.len)) abort();
        serialize(again, &b);
        if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len)) abort();
        hf_json_free(again);
        hf_buf_free(&a);
        hf_buf_free(&b);
        (void)hf_json_get(doc, 0, "oid");
        (void)hf_json_type_of(doc, -1);
        hf_json_free(doc);
    } else if (doc) {
        abort();
    }

    /* any bytes -> escaped literal -> one string again */
    hf_buf lit = HF_BUF_INIT, back = HF_BUF_INIT;
    if (hf_json_escape(&lit, (const char *)data, size)) abort();
    int rc = hf_json_parse(&doc, lit.ptr, lit.len);
    int clean = valid_utf8_no_nul(data, size);
    if (clean && rc) abort();
    if (rc == 0) {
        if (hf_json_str(doc, 0, &back)) abort();
        if (clean && (back.len != size || memcmp(back.ptr, data, size))) abort();
        hf_json_free(doc);
    }
    hf_buf_free(&lit);
    hf_buf_free(&back);
    return 0;
}
