/*
 * json_write.c: the JSON writer (see json.h). Commas are placed by looking at the last byte written, so
 * callers never track "first element" state. Invalid UTF-8 is written as \ufffd (as Go does), so whatever
 * we write, hf_json_parse can read back.
 */
#include "json.h"
#include "error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int hf_json_escape(hf_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0; /* u[run..i) is copied verbatim */
    if (hf_buf_grow(out, n + 2) || hf_buf_putc(out, '"')) return HF_ENOMEM;
    while (i < n) {
        unsigned char c = u[i];
        size_t k = c >= 0x80 ? hf_utf8_seq_len(u + i, n - i) : (c >= 0x20 && c != '"' && c != '\\');
        if (k) {
            i += k;
            continue;
        }
        static const char from[] = "\"\\\n\r\t\b\f", to[] = "\"\\nrtbf";
        const char *m = c ? strchr(from, c) : NULL;
        char esc[8] = {'\\', m ? to[m - from] : 0, 0};
        const char *e = esc;
        if (!m && c < 0x20)
            snprintf(esc, sizeof(esc), "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        else if (!m)
            e = "\\ufffd"; /* invalid UTF-8 byte, as Go's encoder does */
        if (hf_buf_put(out, s + run, i - run) || hf_buf_puts(out, e)) return HF_ENOMEM;
        run = ++i;
    }
    if (hf_buf_put(out, s + run, n - run) || hf_buf_putc(out, '"')) return HF_ENOMEM;
    return 0;
}

void hf_jw_init(hf_jw *w, hf_buf *out)
{
    w->out = out;
    w->error = 0;
    w->start = out->len;
}

static void jw_raw(hf_jw *w, const char *s, size_t n)
{
    if (!w->error && hf_buf_put(w->out, s, n)) w->error = HF_ENOMEM;
}

/* A comma before every key or value, except first in a container, right after a key, or first of all. */
static void jw_sep(hf_jw *w)
{
    if (w->error || w->out->len <= w->start) return;
    char last = w->out->ptr[w->out->len - 1];
    if (last != '{' && last != '[' && last != ':') jw_raw(w, ",", 1);
}

void hf_jw_obj_begin(hf_jw *w)
{
    jw_sep(w);
    jw_raw(w, "{", 1);
}

void hf_jw_obj_end(hf_jw *w)
{
    jw_raw(w, "}", 1);
}

void hf_jw_arr_begin(hf_jw *w)
{
    jw_sep(w);
    jw_raw(w, "[", 1);
}

void hf_jw_arr_end(hf_jw *w)
{
    jw_raw(w, "]", 1);
}

void hf_jw_strn(hf_jw *w, const char *s, size_t n)
{
    jw_sep(w);
    if (!w->error && hf_json_escape(w->out, s, n)) w->error = HF_ENOMEM;
}

void hf_jw_str(hf_jw *w, const char *s)
{
    if (s)
        hf_jw_strn(w, s, strlen(s));
    else
        hf_jw_null(w);
}

void hf_jw_key(hf_jw *w, const char *key)
{
    hf_jw_strn(w, key, strlen(key));
    jw_raw(w, ":", 1);
}

void hf_jw_int(hf_jw *w, int64_t v)
{
    char tmp[32];
    jw_sep(w);
    jw_raw(w, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, v));
}

void hf_jw_uint(hf_jw *w, uint64_t v)
{
    char tmp[32];
    jw_sep(w);
    jw_raw(w, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, v));
}

void hf_jw_bool(hf_jw *w, int v)
{
    jw_sep(w);
    jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void hf_jw_null(hf_jw *w)
{
    jw_sep(w);
    jw_raw(w, "null", 4);
}

void hf_jw_kstr(hf_jw *w, const char *key, const char *s)
{
    hf_jw_key(w, key);
    hf_jw_str(w, s);
}

void hf_jw_kint(hf_jw *w, const char *key, int64_t v)
{
    hf_jw_key(w, key);
    hf_jw_int(w, v);
}

void hf_jw_kbool(hf_jw *w, const char *key, int v)
{
    hf_jw_key(w, key);
    hf_jw_bool(w, v);
}
