/*
 * http_internal.h: what the files of the HTTP client share; not for use outside common/http*.c.
 *
 *   http.c        the client: global setup, curl options for one try (send_once), headers, hf_http_send
 *   http_io.c     curl's callbacks during a try: body slices in and out, progress, the stall rule, headers
 *   http_retry.c  hf_http_send_retry: the retry loop, its budget and the backoff between tries
 *   http_policy.c the pure rules (which status is retried, backoff, Retry-After, URL and message redaction)
 */
#ifndef HF_HTTP_INTERNAL_H
#define HF_HTTP_INTERNAL_H

#include "http.h"

#include <curl/curl.h>
#include <stdint.h>

#define STALL_BYTES_PER_S 1024L
#define POLL_MS 100 /* how often a silent try or a backoff asks the progress callback whether to stop */

struct hf_http_client {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
};

/* Shared by the tries of one hf_http_send_retry call: bytes already reported to the progress callback, and
 * the last moment the request showed life (a body byte moved either way, or a status line arrived), from
 * which the retry budget is counted. */
typedef struct progress_marks {
    uint64_t up, down;
    uint64_t alive_ms;
} progress_marks;

/* What the curl callbacks of one try work on. */
typedef struct xfer {
    CURL *easy;
    const hf_http_request *req;
    hf_http_response *resp;
    progress_marks *marks;
    size_t max_response;
    uint64_t body_pos; /* next byte of the body slice, relative to body_offset */
    uint64_t out_pos;  /* bytes written to out_fd, relative to out_offset */
    int to_file;       /* -1 undecided, 0 memory, 1 out_fd (decided by the status of the final response) */
    int io_errno;      /* pread/pwrite failure; -1 = file shorter than the slice, -2 = more than out_max */
    int cancelled;
    uint64_t last_call_ms; /* last call into req->progress, for the POLL_MS throttle */
    /* stall watch: a window that starts at (window_ms, window_bytes) in the current phase */
    int got_status; /* a status line arrived (set by on_header) */
    int phase;      /* -1 not started, 0 bytes moving, 1 waiting for the response */
    uint64_t window_ms, window_bytes;
    long stalled_secs;           /* > 0: the try was ended as a stall after this many seconds */
    uint64_t seen_up, seen_down; /* curl's counters at the previous callback, to see movement */
} xfer;

/* Settings read once from the environment (http.h); valid after http_settings(). */
typedef struct http_settings_t {
    long stall_secs;          /* HFGIT_HTTP_STALL_SECS */
    long retry_base_override; /* HFGIT_RETRY_BASE_MS, -1 when unset */
} http_settings_t;
const http_settings_t *http_settings(void);

uint64_t http_now_ns(void);
uint64_t http_now_ms(void);

/* http_io.c: curl callbacks (their user data is the try's xfer) */
size_t http_on_read(char *dst, size_t size, size_t nitems, void *ud);
int http_on_seek(void *ud, curl_off_t offset, int origin);
int http_on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
size_t http_on_write(char *data, size_t size, size_t nmemb, void *ud);
size_t http_on_header(char *data, size_t size, size_t nitems, void *ud);
uint64_t http_body_length(const hf_http_request *req);
/* Reports bytes beyond *mark up to now to the progress callback; 1 when it said stop. */
int http_report(xfer *x, uint64_t *mark, uint64_t now);

/* http.c: one try, with the progress marks of the whole retry sequence. */
int http_send_once(hf_http_client *c, const hf_http_request *req, hf_http_response *resp,
                   progress_marks *marks, int attempt);

#endif
