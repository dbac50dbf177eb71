/*
 * error.h: error codes and the thread-local "last error" message.
 *
 * Every hf_ function that can fail returns 0 on success or a negative hf_error_code, and leaves a
 * human-readable message (naming the file, the server's answer and the fix where known) retrievable
 * with hf_error_last_message() on the same thread. Messages never contain tokens.
 * Thread-safety: all functions here are thread-safe (state is _Thread_local).
 */
#ifndef HF_ERROR_H
#define HF_ERROR_H

/* The codes (enum hf_error_code) and the public error functions are declared once, in the public header: the
 * library's code and a program see the same definition, and the functions get the public header's export
 * attribute (HF_EXTERN) whichever header a file includes. */
#include "../include/hfgit.h"

/* Records code and a printf-style message for this thread; returns code so callers can `return hf_error_set(...)`. */
int hf_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like hf_error_set, also remembering the HTTP status that caused it. */
int hf_error_set_http(int code, long http_status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the current message with more context ("uploading model.bin: " + old message). Returns the code. */
int hf_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#if defined(__clang_analyzer__) && !defined(HF_ERROR_IMPLEMENTATION)
/* The static analyzer (clang-tidy, `make lint`) checks one file at a time, so it cannot see that these two
 * return their non-zero code: it followed "failed, yet returned 0" paths and reported garbage reads and NULL
 * handles that cannot happen. This model, seen only by the analyzer, says what error.c does. */
static inline int hf_error_model_(int ignored, int code)
{
    (void)ignored;
    return code;
}
#define hf_error_set(code, ...) hf_error_model_(hf_error_set((code), __VA_ARGS__), (code))
#define hf_error_set_http(code, status, ...)                                                                 \
    hf_error_model_(hf_error_set_http((code), (status), __VA_ARGS__), (code))
#endif

const char *hf_error_last_message(void); /* "" when none; valid until the next hf_ call on this thread */
int hf_error_last_code(void);
long hf_error_last_http_status(void);    /* 0 when the last error was not an HTTP status */
void hf_error_clear(void);
const char *hf_error_code_name(int code); /* "HF_EINVAL", ... */

#endif
