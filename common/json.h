/*
 * json.h: a JSON reader on jsmn (strict mode, parent links) and a small writer.
 *
 * Reader: hf_json_parse copies the text, tokenises it with a token array sized to the input (no fixed
 * limits: lines with thousands of part URLs are fine) and exposes tokens by index; token 0 is the root.
 * Strings are returned fully unescaped (\uXXXX including surrogate pairs; git-lfs sends & as \u0026).
 * Integers are read as int64 from numbers or from numeric strings (HF sends chunk_size as "5368709120").
 * Any malformed input gives HF_EINVAL with a message saying what and at which byte; nothing is ever read past
 * the input. Strict RFC 8259: no trailing commas, comments, leading zeros or raw control characters; strings
 * must be valid UTF-8; nesting is limited to 512 levels. Deliberate refusals: "\u0000" (a NUL would cut C
 * strings) and lone or unpaired UTF-16 surrogates (refused, not replaced by U+FFFD). Duplicate keys are kept;
 * hf_json_get returns the first. hf_json_at, hf_json_member and hf_json_count are O(1).
 *
 * Writer: appends to an hf_buf, inserting commas itself, escaping strings correctly (ETags contain quotes).
 *
 * Thread-safety: a parsed document is immutable and may be read from several threads; a writer is not shared.
 */
#ifndef HF_JSON_H
#define HF_JSON_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hf_json hf_json;

typedef enum hf_json_type {
    HF_JSON_INVALID = 0, /* token index out of range (-1 included) */
    HF_JSON_OBJECT,
    HF_JSON_ARRAY,
    HF_JSON_STRING,
    HF_JSON_NUMBER,
    HF_JSON_TRUE,
    HF_JSON_FALSE,
    HF_JSON_NULL,
} hf_json_type;

/* Parses len bytes of text (need not be NUL-terminated). Exactly one top-level value, optionally surrounded
 * by whitespace; anything else is HF_EINVAL. *out is NULL on failure. */
int hf_json_parse(hf_json **out, const char *text, size_t len);
/* The same without the copy, for documents of megabytes (an agent request line with 10,000 part URLs):
 * text is a malloc'd block of at least len + 2 bytes, which the document takes over (freed by
 * hf_json_free, or at once on failure). */
int hf_json_parse_owned(hf_json **out, char *text, size_t len);
void hf_json_free(hf_json *doc);

hf_json_type hf_json_type_of(const hf_json *doc, int tok);
/* Members of an object or elements of an array; 0 for scalars and invalid tokens. */
int hf_json_count(const hf_json *doc, int tok);
/* The value token for key in object obj, or -1 (absent, or obj is not an object). Keys are compared
 * unescaped. */
int hf_json_get(const hf_json *doc, int obj, const char *key);
/* The i-th element of an array, or -1. */
int hf_json_at(const hf_json *doc, int arr, int i);
/* The i-th member of an object: its key token (a string) in *key_tok and its value token as the return, or
 * -1. */
int hf_json_member(const hf_json *doc, int obj, int i, int *key_tok);

/* String value, unescaped, appended to out. HF_EINVAL when tok is not a string. */
int hf_json_str(const hf_json *doc, int tok, hf_buf *out);
/* Newly allocated unescaped copy of a string token, or NULL (not a string, or no memory). */
char *hf_json_strdup(const hf_json *doc, int tok);
/* 1 when tok is a string equal to s (after unescaping), else 0. */
int hf_json_str_eq(const hf_json *doc, int tok, const char *s);
/* Integer from a number without fraction/exponent (optional '-'), or from a string made only of decimal
 * digits (leading zeros allowed, no sign, no escapes); range-checked (HF_EINVAL on overflow). */
int hf_json_int64(const hf_json *doc, int tok, int64_t *out);
int hf_json_bool(const hf_json *doc, int tok, int *out);

/* Convenience: get key then convert; HF_ENOTFOUND when absent, HF_EINVAL when of the wrong type. */
int hf_json_get_int64(const hf_json *doc, int obj, const char *key, int64_t *out);
char *hf_json_get_strdup(const hf_json *doc, int obj, const char *key); /* NULL when absent or not a string */

/* ---- writer ---- */
/* Commas are inserted automatically: before a key or value unless it is the first thing written since
 * hf_jw_init or follows '{', '[' or a key. Strings are escaped by hf_json_escape. */
typedef struct hf_jw {
    hf_buf *out;
    int error;    /* sticky: first failure (HF_ENOMEM), checked once at the end */
    size_t start; /* out->len at hf_jw_init: the writer may append after existing text */
} hf_jw;

void hf_jw_init(hf_jw *w, hf_buf *out);
void hf_jw_obj_begin(hf_jw *w);
void hf_jw_obj_end(hf_jw *w);
void hf_jw_arr_begin(hf_jw *w);
void hf_jw_arr_end(hf_jw *w);
void hf_jw_key(hf_jw *w, const char *key);
void hf_jw_str(hf_jw *w, const char *s); /* NULL writes null */
void hf_jw_strn(hf_jw *w, const char *s, size_t n);
void hf_jw_int(hf_jw *w, int64_t v);
void hf_jw_uint(hf_jw *w, uint64_t v);
void hf_jw_bool(hf_jw *w, int v);
void hf_jw_null(hf_jw *w);
/* key + value shortcuts */
void hf_jw_kstr(hf_jw *w, const char *key, const char *s);
void hf_jw_kint(hf_jw *w, const char *key, int64_t v);
void hf_jw_kbool(hf_jw *w, const char *key, int v);
/* Length of the well-formed UTF-8 sequence at p (n > 0 bytes readable), or 0 when there is none there
 * (overlong, surrogate, above U+10FFFF, truncated, stray continuation byte). */
size_t hf_utf8_seq_len(const void *p, size_t n);

/* Appends s (n bytes) as a JSON string literal (with quotes) to out: '"', '\\' and control characters are
 * escaped (\n \r \t \b \f, others \u00XX), valid UTF-8 is copied as is, each invalid UTF-8 byte becomes
 * \ufffd (as Go does). A NUL byte becomes \u0000, which hf_json_parse refuses to read back. 0 or HF_ENOMEM.
 */
int hf_json_escape(hf_buf *out, const char *s, size_t n);

#endif
