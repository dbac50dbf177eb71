/*
 * buf.h: a growable byte buffer, always NUL-terminated (redis sds in spirit, but a plain struct).
 * Not thread-safe; each buffer belongs to one thread at a time.
 */
#ifndef HF_BUF_H
#define HF_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct hf_buf {
    char *ptr;  /* NULL until the first write; then ptr[len] == '\0' */
    size_t len;
    size_t cap;
} hf_buf;

#define HF_BUF_INIT {NULL, 0, 0}

int hf_buf_grow(hf_buf *b, size_t extra);                      /* room for len+extra+1 bytes */
int hf_buf_put(hf_buf *b, const void *data, size_t len);      /* 0 or HF_ENOMEM */
int hf_buf_puts(hf_buf *b, const char *s);
int hf_buf_putc(hf_buf *b, char c);
int hf_buf_printf(hf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hf_buf_vprintf(hf_buf *b, const char *fmt, va_list ap);
const char *hf_buf_cstr(const hf_buf *b);                      /* "" for an empty buffer, never NULL */
void hf_buf_clear(hf_buf *b);                                  /* len = 0, keeps memory */
char *hf_buf_detach(hf_buf *b);                                /* caller frees; buffer becomes empty */
void hf_buf_free(hf_buf *b);

#endif
