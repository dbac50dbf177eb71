/* trace.c: HFGIT_TRACE=1 diagnostic lines on stderr (see trace.h). */
#include "trace.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TRACE_LINE_MAX 4096

static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static int trace_on; /* written once under trace_once, read-only afterwards */

static void trace_read_env(void)
{
    const char *v = getenv("HFGIT_TRACE");
    trace_on = v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
                     !strcasecmp(v, "on"));
}

int hf_trace_enabled(void)
{
    pthread_once(&trace_once, trace_read_env);
    return trace_on;
}

void hf_trace(const char *fmt, ...)
{
    if (!hf_trace_enabled())
        return;

    char line[TRACE_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    time_t secs = tv.tv_sec;
    localtime_r(&secs, &tm);
    int n = snprintf(line, sizeof(line), "hfgit[%ld:%ld] %02d:%02d:%02d.%06ld: ", (long)getpid(),
                     (long)gettid(), tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
    if (n < 0)
        return;

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap); /* keep one byte for '\n' */
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* cut: vsnprintf wrote a NUL at the end of the room it had */
    line[len++] = '\n';

    /* One write so that concurrent lines stay whole; a short write to a pipe of < PIPE_BUF is atomic anyway.
     */
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, line + off, len - off);
        if (w <= 0)
            return; /* tracing must never fail the caller */
        off += (size_t)w;
    }
}
