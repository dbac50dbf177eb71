/*
 * http.h: one HTTP client for everything (libcurl easy handles), with one retry policy.
 *
 * A request body comes from memory or from a slice of a file read with pread (constant memory, offsets past
 * 4 GiB fine); Content-Length is always exact and chunked encoding is never used. A response body goes to
 * memory (capped) or into a file slice with pwrite. Progress callbacks report bytes actually moved; while
 * nothing moves they are also polled with 0 ("nothing new: shall I stop?"), so a stop is seen within about a
 * second even when the server is silent, and within 100 ms during a retry backoff.
 *
 * Retry policy (hf_http_send_retry): transport errors, 5xx, 408 and 429 are retried with exponential backoff
 * and full jitter, honouring Retry-After (seconds or HTTP date), bounded by max_attempts and by max_total_ms
 * counted from the request's last progress (a try that moved bytes for 20 minutes and then lost its
 * connection is retried).
 * Other statuses are final. Timeouts never kill a slow-but-moving transfer: only a connect timeout and a
 * stall limit apply.
 *
 * Stall rule (checked here in the progress callback, not by curl's LOW_SPEED options, so the phases differ):
 *   - while the body goes up or the response comes down: under 1 KiB/s on average over a window of
 *     HFGIT_HTTP_STALL_SECS (default 60 s) is a stall;
 *   - from the moment the whole body is sent until the response's status line arrives the server may be
 *     busy (the Hub's multipart completion hashes the whole object before answering): the request's
 *     response_timeout_secs applies instead (0 = the stall time).
 * Either way the try fails as a transport error (HF_ENET) that hf_http_send_retry retries.
 *
 * Errors carry the method, the URL without its query string (presigned signatures and tokens stay out of
 * messages), the status and a short excerpt of the server's message. The bearer token is never logged.
 * HFGIT_TRACE=1 logs each request and response line to stderr (see trace.h).
 *
 * Transport: one curl easy handle per client, reused so connections stay alive; HTTP/1.1; no "Expect:
 * 100-continue" (it costs a round trip per part); GET/HEAD follow up to 3 redirects (curl drops Authorization
 * when the host changes), other methods return the 3xx, never to anything but http or https (curl is
 * restricted to those two protocols for every request and redirect: a server-supplied file:// URL is refused
 * with HF_EINVAL before anything is read or written). Connect timeout 30 s; stalls as above. No overall timeout.
 *
 * Bandwidth: file-slice bodies (up and down) wait for their slot under the process limit HFGIT_MAX_RATE
 * and the request's own rate_limit (ratelimit.h); the wait polls the progress callback like a backoff, and
 * does not count as a stall.
 *
 * Environment (read once, for tests and diagnosis):
 *   HFGIT_HTTP_STALL_SECS  seconds below 1 KiB/s that count as a stall, and the default wait for a
 *                          response (default 60)
 *   HFGIT_RETRY_BASE_MS    replaces policy->base_delay_ms in hf_http_send_retry (tests use 1-10 ms)
 *   HFGIT_MAX_RATE         bytes per second for the whole process (k/M/G = powers of 1024); ratelimit.h
 *   HFGIT_TRACE            see trace.h
 *
 * Thread-safety: hf_http_global_init() once (hf_init does it); then any number of threads may each use their
 * own hf_http_client. A client is not shared between threads.
 */
#ifndef HF_HTTP_H
#define HF_HTTP_H

#include "buf.h"
#include "ratelimit.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hf_http_client hf_http_client;

typedef struct hf_retry_policy {
    int max_attempts;           /* total tries including the first; 1 = no retry */
    unsigned base_delay_ms;     /* first backoff; doubles each time */
    unsigned max_delay_ms;      /* cap on one backoff (Retry-After is capped by max_total_ms only) */
    unsigned max_total_ms;      /* give up when the next wait would pass this since the request last made
                                 * progress (a body byte moved either way, or a status line arrived), so a
                                 * long but moving try never uses it up; 0 = none */
} hf_retry_policy;

#define HF_RETRY_POLICY_INIT {6, 500, 20000, 600000}

/* Called as body bytes move, with the number of new bytes; return non-zero to abort the request. Also called
 * with new_bytes == 0 (at most every 100 ms) while nothing moves, during a try and during the backoff between
 * tries: 0 means "nothing new", only the answer matters (so never report it to a user as an event). */
typedef int (*hf_http_progress_cb)(void *ud, uint64_t new_bytes);

typedef struct hf_http_request {
    const char *method;              /* "GET", "PUT", "POST", ... */
    const char *url;
    const char *const *headers;      /* NULL-terminated "Name: value" strings, or NULL */
    const char *bearer_token;        /* adds "Authorization: Bearer ..."; never traced or put in messages */
    /* body: memory, or a file slice when body_fd >= 0 */
    const void *body;
    size_t body_len;
    int body_fd;                     /* -1 for none */
    uint64_t body_offset, body_size;
    /* response body: into resp->body (up to max_response_bytes), or into a file slice when out_fd >= 0 */
    int out_fd;                      /* -1 for none */
    uint64_t out_offset;
    size_t max_response_bytes;       /* 0 = 1 MiB default; the rest is drained and dropped */
    hf_http_progress_cb progress;    /* upload progress for bodies, download progress for out_fd */
    void *progress_ud;
    uint64_t out_max; /* out_fd only: 0 = no limit; a longer 2xx body fails the try (HF_EINVAL, with
                       * resp->status kept), so a server that ignores Range cannot overwrite a
                       * neighbouring slice */
    long response_timeout_secs; /* how long to wait for the status line once the body is sent; 0 = the
                                 * stall time (HFGIT_HTTP_STALL_SECS). Set it for requests the server
                                 * answers only after long work, e.g. a multipart completion. */
    hf_rate_limiter *rate_limit; /* or NULL: a limit on top of the process one (ratelimit.h), which always
                                  * applies to file-slice bodies in either direction */
    long recv_buffer; /* curl's receive buffer for this request, bytes (0: 512 KiB). A fast stream fills it
                       * (RSS); 32 ranged GETs at once want a smaller one each. */
} hf_http_request;

#define HF_HTTP_REQUEST_INIT {NULL, NULL, NULL, NULL, NULL, 0, -1, 0, 0, -1, 0, 0, NULL, NULL, 0, 0, NULL, 0}

typedef struct hf_http_response {
    long status;                     /* 0 when no response arrived */
    hf_buf body;
    char *etag;                      /* ETag header verbatim (quotes kept), or NULL */
    char *content_type;              /* or NULL */
    char *location;                  /* or NULL */
    long retry_after_ms;             /* parsed Retry-After, -1 when absent */
    int attempts;                    /* tries made by hf_http_send_retry */
    char *content_range;             /* Content-Range verbatim (ranged GETs check it), or NULL */
} hf_http_response;

#define HF_HTTP_RESPONSE_INIT {0, HF_BUF_INIT, NULL, NULL, NULL, -1, 0, NULL}

/* The CA file to trust instead of the system's, given the way curl, OpenSSL and git take one:
 * $CURL_CA_BUNDLE, else $SSL_CERT_FILE, else $GIT_SSL_CAINFO; NULL when none is set (libcurl and libgit2 read
 * none of them by themselves). For a hub with a private CA (hfgit-hub --tls-cert). */
const char *hf_http_ca_file(void);
int hf_http_global_init(void); /* curl_global_init + env; idempotent and thread-safe (pthread_once); also
                                * called by hf_http_client_new */

int hf_http_client_new(hf_http_client **out);
void hf_http_client_free(hf_http_client *c);

/* One try. Returns 0 when a response arrived (any status; check resp->status), HF_ENET on transport failure
 * (resp->status 0), HF_EIO when the body file or out_fd failed (or the file is shorter than the slice),
 * HF_ECANCELLED when the progress callback stopped it, HF_EINVAL for a bad request (no URL, a token with a
 * line break, a scheme other than http/https). A 4xx/5xx that arrives while the body is still being sent counts as a response. resp is reset
 * first. out_fd receives the body only for a 2xx; other bodies go to resp->body for the error message. */
int hf_http_send(hf_http_client *c, const hf_http_request *req, hf_http_response *resp);
/* Tries under the policy. Returns 0 only for a 2xx; otherwise HF_EHTTP/HF_EAUTH/HF_ENOTFOUND/HF_ENET with a
 * message (method, URL without query, status, server message excerpt, attempts), e.g.
 *   PUT http://127.0.0.1:5000/__part/abc/2: HTTP 500 "injected failure" after 6 attempts
 * and hf_error_last_http_status() set. A 403 on a URL with a query string and no bearer token adds a hint
 * that the presigned URL probably expired. Local failures (HF_EIO, HF_ECANCELLED, HF_EINVAL) return at once;
 * so does a stop asked for (progress callback polled with 0) during a backoff: HF_ECANCELLED, "cancelled".
 * resp holds the last answer and resp->attempts the tries made. A file-slice body is re-read from its offset
 * on each try; progress never counts a byte twice and sums to the body size on success. */
int hf_http_send_retry(hf_http_client *c, const hf_http_request *req, const hf_retry_policy *policy,
                       hf_http_response *resp);
void hf_http_response_reset(hf_http_response *resp); /* frees fields, back to HF_HTTP_RESPONSE_INIT */

/* ---- pure helpers (unit-tested) ---- */
/* 1 when status/transport result should be retried (transport error is status 0). */
int hf_http_status_retriable(long status);
/* The error code for a final status: 401/403 HF_EAUTH, 404 HF_ENOTFOUND, 0 HF_ENET, other HF_EHTTP. */
int hf_http_status_error(long status);
/* Backoff before try number `attempt` (1 = the first retry): min(max_delay, base*2^(attempt-1)) with full
 * jitter from rnd (0..UINT32_MAX), never below base/2. */
unsigned hf_http_backoff_ms(const hf_retry_policy *p, int attempt, uint32_t rnd);
/* Parses a Retry-After value (delta seconds or an HTTP date: IMF-fixdate, RFC 850 or asctime form) relative
 * to now_epoch, in MILLISECONDS (a past date gives 0); -1 when unparsable. */
long hf_http_parse_retry_after(const char *value, long now_epoch);
/* Replaces out with url without its query string, fragment and "user:password@" (for messages and traces). */
void hf_http_redact_url(const char *url, hf_buf *out);
/* Replaces out with a one-line excerpt of a server error body: the JSON "message" or "error" string (or
 * "error":{"message"}) if present, else the text; control characters and whitespace runs become one space;
 * cut to at most max bytes ending in "..." (never inside a UTF-8 character). May overwrite the thread's last
 * error message (JSON parse), so call it before hf_error_set. */
void hf_http_error_excerpt(const char *body, size_t len, size_t max, hf_buf *out);

#endif
