/* buf.c: growable NUL-terminated byte buffer (see buf.h). */
#include "buf.h"
#include "error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hf_buf_grow(hf_buf *b, size_t extra)
{
    /* No object can exceed PTRDIFF_MAX; checking before adding also keeps len + extra + 1 from wrapping. */
    if (extra > (size_t)PTRDIFF_MAX - 1 - b->len)
        return hf_error_set(HF_ENOMEM, "buffer size overflow (%zu + %zu bytes)", b->len, extra);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    char *p = realloc(b->ptr, cap);
    if (!p)
        return hf_error_set(HF_ENOMEM, "out of memory (%zu bytes)", cap);
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int hf_buf_put(hf_buf *b, const void *data, size_t len)
{
    if (hf_buf_grow(b, len))
        return HF_ENOMEM;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int hf_buf_puts(hf_buf *b, const char *s)
{
    return hf_buf_put(b, s, strlen(s));
}

int hf_buf_putc(hf_buf *b, char c)
{
    return hf_buf_put(b, &c, 1);
}

int hf_buf_vprintf(hf_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return hf_error_set(HF_EINVAL, "bad format string");
    if (hf_buf_grow(b, (size_t)n))
        return HF_ENOMEM;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int hf_buf_printf(hf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = hf_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *hf_buf_cstr(const hf_buf *b)
{
    return b->ptr ? b->ptr : "";
}

void hf_buf_clear(hf_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

char *hf_buf_detach(hf_buf *b)
{
    char *p = b->ptr;
    if (!p)
        p = calloc(1, 1);
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

void hf_buf_free(hf_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}
