/* error.c: thread-local last-error storage (see error.h). */
#define HF_ERROR_IMPLEMENTATION /* the definitions below, not error.h's analyzer model */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Long enough for a server message plus a path; longer texts are cut, never overflow. */
#define HF_ERROR_MAX 2048

static _Thread_local char last_message[HF_ERROR_MAX];
static _Thread_local int last_code;
static _Thread_local long last_http_status;

/* Formats into a copy first: callers often pass hf_error_last_message() itself as an argument
 * ("part 3: %s"), and vsnprintf must not write the buffer it is reading. */
static void set_message(const char *fmt, va_list ap)
{
    char tmp[HF_ERROR_MAX];
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    memcpy(last_message, tmp, sizeof(tmp));
}

int hf_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    last_code = code;
    last_http_status = 0;
    return code;
}

int hf_error_set_http(int code, long http_status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    last_code = code;
    last_http_status = http_status;
    return code;
}

int hf_error_prefix(const char *fmt, ...)
{
    char msg[HF_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)n;
    size_t keep = strnlen(last_message, sizeof(msg) - 1 - used); /* the old text, cut to what fits */
    memcpy(msg + used, last_message, keep);
    msg[used + keep] = '\0';
    memcpy(last_message, msg, sizeof(msg));
    return last_code;
}

const char *hf_error_last_message(void)
{
    return last_message;
}

int hf_error_last_code(void)
{
    return last_code;
}

long hf_error_last_http_status(void)
{
    return last_http_status;
}

void hf_error_clear(void)
{
    last_message[0] = '\0';
    last_code = 0;
    last_http_status = 0;
}

const char *hf_error_code_name(int code)
{
    switch (code) {
    case HF_OK: return "HF_OK";
    case HF_ERROR: return "HF_ERROR";
    case HF_ENOMEM: return "HF_ENOMEM";
    case HF_EINVAL: return "HF_EINVAL";
    case HF_EIO: return "HF_EIO";
    case HF_EHTTP: return "HF_EHTTP";
    case HF_ENET: return "HF_ENET";
    case HF_EAUTH: return "HF_EAUTH";
    case HF_ENOTFOUND: return "HF_ENOTFOUND";
    case HF_EEXISTS: return "HF_EEXISTS";
    case HF_ENOCHANGES: return "HF_ENOCHANGES";
    case HF_ECANCELLED: return "HF_ECANCELLED";
    case HF_EEXPIRED: return "HF_EEXPIRED";
    case HF_ETIMEOUT: return "HF_ETIMEOUT";
    case HF_EBUSY: return "HF_EBUSY";
    default: return "HF_E?";
    }
}
