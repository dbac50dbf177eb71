/*
 * http_retry.c: hf_http_send_retry (see http.h): tries under a policy, the backoff between them, and the
 * final error message.
 */
#include "http_internal.h"
#include "error.h"
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define EXCERPT_MAX 200

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The backoff: sleeps ms in slices of at most POLL_MS, asking the progress callback between them whether to
 * stop (a backoff can last 20 s, or a long Retry-After). The deadline is kept in nanoseconds so that a
 * Retry-After of N seconds is never cut short by millisecond rounding. Returns 1 when it said stop. */
static int backoff_sleep(const hf_http_request *req, uint64_t ms)
{
    uint64_t end = http_now_ns() + ms * 1000000u;
    for (;;) {
        if (req->progress && req->progress(req->progress_ud, 0) != 0) return 1;
        uint64_t now = http_now_ns();
        if (now >= end) return 0;
        uint64_t left = end - now, slice = (uint64_t)POLL_MS * 1000000u;
        sleep_ns(left < slice ? left : slice);
    }
}

static uint32_t random_u32(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r)) return r;
    static _Thread_local uint32_t state; /* fallback: xorshift seeded from the clock */
    if (!state) state = (uint32_t)http_now_ms() | 1u;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* The final error for a response that was not 2xx. */
static int status_error(const hf_http_request *req, const hf_http_response *resp, int attempts,
                        const char *why)
{
    hf_buf url = HF_BUF_INIT, excerpt = HF_BUF_INIT;
    hf_http_redact_url(req->url, &url);
    hf_http_error_excerpt(resp->body.ptr, resp->body.len, EXCERPT_MAX, &excerpt);
    /* A 403 on a presigned URL (no token, signature in the query) is almost always an expired URL. */
    const char *hint = resp->status == 403 && !req->bearer_token && strchr(req->url, '?')
                           ? " (the presigned URL has probably expired; a new batch request gives fresh URLs)"
                           : "";
    int rc = hf_error_set_http(hf_http_status_error(resp->status), resp->status,
                               "%s %s: HTTP %ld%s%s%s after %d attempt%s%s%s", req->method, hf_buf_cstr(&url),
                               resp->status, excerpt.len ? " \"" : "", hf_buf_cstr(&excerpt),
                               excerpt.len ? "\"" : "", attempts, attempts == 1 ? "" : "s", why, hint);
    hf_buf_free(&url);
    hf_buf_free(&excerpt);
    return rc;
}

int hf_http_send_retry(hf_http_client *c, const hf_http_request *req, const hf_retry_policy *policy,
                       hf_http_response *resp)
{
    hf_retry_policy p = *policy;
    if (p.max_attempts < 1) p.max_attempts = 1;
    if (http_settings()->retry_base_override >= 0)
        p.base_delay_ms = (unsigned)http_settings()->retry_base_override;

    /* The budget (max_total_ms) runs from the last sign of life, not from the first try: a 5 GiB part whose
     * one try lasts 15 minutes, or a completion answered 502 after a long wait, is still retried. */
    progress_marks marks = {0, 0, http_now_ms()};
    const char *why = "";
    char why_buf[160];
    int rc = 0, attempt;
    for (attempt = 1;; attempt++) {
        rc = http_send_once(c, req, resp, &marks, attempt);
        resp->attempts = attempt;
        if (rc == 0 && resp->status >= 200 && resp->status <= 299) return 0;
        if (rc != 0 && rc != HF_ENET)
            return rc; /* local trouble (file, cancel, bad request): another try would fail the same way */
        if (!hf_http_status_retriable(resp->status) || attempt >= p.max_attempts) break;
        long delay = resp->retry_after_ms >= 0 ? resp->retry_after_ms
                                               : (long)hf_http_backoff_ms(&p, attempt, random_u32());
        uint64_t elapsed = http_now_ms() - marks.alive_ms;
        if (p.max_total_ms && elapsed + (uint64_t)delay > p.max_total_ms) {
            snprintf(why_buf, sizeof(why_buf),
                     " (stopped: the next wait of %ld ms would pass the %u s limit since the request last "
                     "made progress)",
                     delay, p.max_total_ms / 1000);
            why = why_buf;
            break;
        }
        hf_trace("http: %s: retrying in %ld ms (attempt %d of %d)", req->method, delay, attempt + 1,
                 p.max_attempts);
        if (backoff_sleep(req, (uint64_t)delay)) {
            hf_buf url = HF_BUF_INIT;
            hf_http_redact_url(req->url, &url);
            rc = hf_error_set(HF_ECANCELLED, "%s %s: cancelled while waiting to retry (after %d attempt%s)",
                              req->method, hf_buf_cstr(&url), attempt, attempt == 1 ? "" : "s");
            hf_buf_free(&url);
            return rc;
        }
    }
    if (rc == 0) return status_error(req, resp, attempt, why);
    /* transport failure: keep send_once's "METHOD url: curl text" and say how many tries it took */
    char last[512];
    snprintf(last, sizeof(last), "%s", hf_error_last_message());
    return hf_error_set(HF_ENET, "%s after %d attempt%s%s", last, attempt, attempt == 1 ? "" : "s", why);
}
