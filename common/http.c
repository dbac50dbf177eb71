/*
 * http.c: the HTTP client on libcurl easy handles (see http.h).
 *
 * One easy handle per client, reset before each request: curl_easy_reset keeps the connection cache, so a
 * worker that PUTs part after part to one host reuses one TCP (and TLS) connection. Bodies are read with
 * pread from a file slice as curl asks for them, so memory stays flat whatever the part size; the exact size
 * is always given to curl, which then never falls back to chunked encoding.
 *
 * Progress and retries: the callbacks report only bytes beyond a high-water mark kept across the tries of one
 * hf_http_send_retry call, so a part that fails at 90% and is sent again is not counted twice, and the sum
 * reported equals the body size exactly once the request succeeds. While nothing moves, the callback is
 * polled with 0 (throttled to one call per POLL_MS) so that a stop asked for elsewhere (the transfer engine
 * cancelling the other parts after a first failure) ends a try that waits on a silent server, and the
 * backoff between tries, without waiting for the stall limit or the backoff to run out.
 *
 * Stalls are detected in the same callback instead of with CURLOPT_LOW_SPEED_*, because the rule differs by
 * phase (http.h): bytes must flow while a body moves, but after the body is sent the server may think for
 * as long as the request's response_timeout_secs. curl calls the callback at least once a second.
 */
#include "http.h"
#include "error.h"
#include "trace.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#ifndef HFGIT_VERSION
#define HFGIT_VERSION "dev"
#endif

#define CONNECT_TIMEOUT_S 30L
#define STALL_BYTES_PER_S 1024L
#define STALL_SECS_DEFAULT 60L
#define RECV_BUFFER (512L * 1024) /* CURL_MAX_READ_SIZE in 7.88; untouched pages cost no RSS */
/* Fewer, larger pread+send rounds per part. Each client in flight holds one such buffer, so the size is
 * traded against the agent's RSS bar (16 MiB with 8 parts in flight). -DUPLOAD_BUFFER=... for measuring. */
#ifndef UPLOAD_BUFFER
#define UPLOAD_BUFFER (256L * 1024)
#endif
#define DEFAULT_MAX_RESPONSE ((size_t)1024 * 1024)
#define POLL_MS 100 /* how often a silent try or a backoff asks the progress callback whether to stop */
#define EXCERPT_MAX 200

struct hf_http_client {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
};

/* Bytes already reported to the progress callback; shared by the tries of one hf_http_send_retry call. */
typedef struct progress_marks {
    uint64_t up, down;
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
    int got_status;        /* a status line arrived (set by on_header) */
    int phase;             /* -1 not started, 0 bytes moving, 1 waiting for the response */
    uint64_t window_ms, window_bytes;
    long stalled_secs;     /* > 0: the try was ended as a stall after this many seconds */
} xfer;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc; /* the settings below are written once under global_once, read-only afterwards */
static long stall_secs = STALL_SECS_DEFAULT;
static long retry_base_override = -1;

static long env_long(const char *name, long min, long max)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return -1;
    return n;
}

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_ALL);
    long s = env_long("HFGIT_HTTP_STALL_SECS", 1, 86400);
    if (s > 0)
        stall_secs = s;
    retry_base_override = env_long("HFGIT_RETRY_BASE_MS", 0, 3600000);
}

int hf_http_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    if (global_rc != CURLE_OK)
        return hf_error_set(HF_ERROR, "cannot initialise libcurl: %s", curl_easy_strerror(global_rc));
    return 0;
}

int hf_http_client_new(hf_http_client **out)
{
    *out = NULL;
    int rc = hf_http_global_init();
    if (rc)
        return rc;
    hf_http_client *c = calloc(1, sizeof(*c));
    if (!c)
        return hf_error_set(HF_ENOMEM, "out of memory creating an HTTP client");
    if (!(c->easy = curl_easy_init())) {
        free(c);
        return hf_error_set(HF_ENOMEM, "curl_easy_init failed");
    }
    *out = c;
    return 0;
}

void hf_http_client_free(hf_http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->easy);
    free(c);
}

void hf_http_response_reset(hf_http_response *resp)
{
    hf_buf_free(&resp->body);
    free(resp->etag);
    free(resp->content_type);
    free(resp->location);
    free(resp->content_range);
    hf_http_response fresh = HF_HTTP_RESPONSE_INIT;
    *resp = fresh;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
    return now_ns() / 1000000u;
}

/* ---- curl callbacks ---- */

static size_t on_read(char *dst, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    const hf_http_request *req = x->req;
    uint64_t left = req->body_size - x->body_pos;
    size_t want = size * nitems;
    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    for (;;) {
        ssize_t n = pread(req->body_fd, dst, want, (off_t)(req->body_offset + x->body_pos));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            x->io_errno = n < 0 ? errno : -1;
            return CURL_READFUNC_ABORT;
        }
        x->body_pos += (uint64_t)n;
        return (size_t)n;
    }
}

/* curl rewinds the body when it must send it again within one try (a redirect, an auth round). */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->req->body_size)
        return CURL_SEEKFUNC_CANTSEEK;
    x->body_pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* Tells the progress callback about n new bytes (0: nothing new, only asking whether to stop). */
static int call_progress(xfer *x, uint64_t n)
{
    x->last_call_ms = now_ms();
    if (x->req->progress(x->req->progress_ud, n) != 0) {
        x->cancelled = 1;
        return 1;
    }
    return 0;
}

static int report(xfer *x, uint64_t *mark, uint64_t now)
{
    if (!x->req->progress || now <= *mark)
        return 0;
    uint64_t delta = now - *mark;
    *mark = now;
    return call_progress(x, delta);
}

static uint64_t body_length(const hf_http_request *req)
{
    return req->body_fd >= 0 ? req->body_size : req->body ? req->body_len : 0;
}

/* The stall rule of http.h. Returns 1 (and sets stalled_secs) when the try must end. */
static int stall_check(xfer *x, uint64_t now, uint64_t up, uint64_t down)
{
    /* waiting: the whole body is out and no status line has come back yet */
    int phase = up >= body_length(x->req) && !x->got_status;
    uint64_t moved = up + down;
    if (phase != x->phase || moved < x->window_bytes) { /* new phase, or curl rewound the body */
        x->phase = phase;
        x->window_ms = now;
        x->window_bytes = moved;
        return 0;
    }
    long limit = phase && x->req->response_timeout_secs > 0 ? x->req->response_timeout_secs : stall_secs;
    if (now - x->window_ms < (uint64_t)limit * 1000)
        return 0;
    if (phase || moved - x->window_bytes < (uint64_t)STALL_BYTES_PER_S * (uint64_t)limit) {
        x->stalled_secs = limit;
        return 1;
    }
    x->window_ms = now; /* enough moved in this window: start the next one */
    x->window_bytes = moved;
    return 0;
}

/* curl calls this as bytes move and, while nothing does, about once a second. */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    xfer *x = ud;
    (void)dltotal;
    (void)ultotal;
    uint64_t up = ulnow > 0 ? (uint64_t)ulnow : 0, down = dlnow > 0 ? (uint64_t)dlnow : 0;
    if (x->req->progress) {
        /* upload bytes are reported here; download bytes as they are written (write_file) */
        if (body_length(x->req) && up > x->marks->up) {
            if (report(x, &x->marks->up, up))
                return 1;
        } else if (now_ms() - x->last_call_ms >= POLL_MS && call_progress(x, 0)) {
            return 1;
        }
    }
    return stall_check(x, now_ms(), up, down);
}

static size_t write_file(xfer *x, const char *data, size_t n)
{
    const hf_http_request *req = x->req;
    if (req->out_max && x->out_pos + n > req->out_max) {
        x->io_errno = -2;
        return 0;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = pwrite(req->out_fd, data + off, n - off, (off_t)(req->out_offset + x->out_pos));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            x->io_errno = w < 0 ? errno : EIO;
            return 0;
        }
        off += (size_t)w;
        x->out_pos += (uint64_t)w;
    }
    return report(x, &x->marks->down, x->out_pos) ? 0 : n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->to_file < 0) {
        /* Only a 2xx body belongs in the file; an error page goes to memory for the message. */
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        x->to_file = x->req->out_fd >= 0 && code >= 200 && code <= 299;
    }
    if (x->to_file)
        return write_file(x, data, n);
    hf_buf *b = &x->resp->body;
    size_t room = b->len < x->max_response ? x->max_response - b->len : 0;
    if (room && hf_buf_put(b, data, n < room ? n : room) != 0)
        return 0;
    return n; /* the rest is drained and dropped */
}

static void set_field(char **field, const char *v, size_t n)
{
    free(*field);
    *field = strndup(v, n);
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t n = size * nitems;
    hf_http_response *resp = x->resp;
    if (n >= 5 && !memcmp(data, "HTTP/", 5)) {
        x->got_status = 1; /* the server answered: from now on the stall rule is about bytes moving */
        /* a new response (after 100 Continue or a redirect): forget the previous one's headers */
        free(resp->etag);
        free(resp->content_type);
        free(resp->location);
        free(resp->content_range);
        resp->etag = resp->content_type = resp->location = resp->content_range = NULL;
        resp->retry_after_ms = -1;
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
#define HEADER_IS(lit) (name_len == sizeof(lit) - 1 && !strncasecmp(data, lit, name_len))
    if (HEADER_IS("ETag"))
        set_field(&resp->etag, v, vlen); /* verbatim, quotes kept: S3 completion wants it so */
    else if (HEADER_IS("Content-Type"))
        set_field(&resp->content_type, v, vlen);
    else if (HEADER_IS("Location"))
        set_field(&resp->location, v, vlen);
    else if (HEADER_IS("Content-Range"))
        set_field(&resp->content_range, v, vlen);
    else if (HEADER_IS("Retry-After")) {
        char tmp[64];
        if (vlen < sizeof(tmp)) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            resp->retry_after_ms = hf_http_parse_retry_after(tmp, (long)time(NULL));
        }
    }
#undef HEADER_IS
    return n;
}

/* ---- one try ---- */

static int header_named(const char *h, const char *name)
{
    size_t n = strlen(name);
    return !strncasecmp(h, name, n) && h[n] == ':';
}

/* The request's headers plus ours. Content-Length, Transfer-Encoding and Expect are ours alone: the length is
 * always exact, the body never chunked, and 100-continue only costs a round trip. */
static int build_headers(const hf_http_request *req, int form_body, struct curl_slist **out)
{
    struct curl_slist *list = NULL, *tmp;
    int have_ct = 0;
    for (const char *const *h = req->headers; h && *h; h++) {
        if (header_named(*h, "Content-Length") || header_named(*h, "Transfer-Encoding") ||
            header_named(*h, "Expect"))
            continue;
        have_ct |= header_named(*h, "Content-Type");
        if (!(tmp = curl_slist_append(list, *h)))
            goto oom;
        list = tmp;
    }
    if (!(tmp = curl_slist_append(list, "Expect:")))
        goto oom;
    list = tmp;
    /* curl labels POSTFIELDS bodies application/x-www-form-urlencoded unless told otherwise */
    if (form_body && !have_ct) {
        if (!(tmp = curl_slist_append(list, "Content-Type:")))
            goto oom;
        list = tmp;
    }
    if (req->bearer_token) {
        hf_buf auth = HF_BUF_INIT;
        hf_buf_printf(&auth, "Authorization: Bearer %s", req->bearer_token);
        tmp = auth.ptr ? curl_slist_append(list, auth.ptr) : NULL;
        if (auth.ptr)
            explicit_bzero(auth.ptr, auth.cap);
        hf_buf_free(&auth);
        if (!tmp)
            goto oom;
        list = tmp;
    }
    *out = list;
    return 0;
oom:
    curl_slist_free_all(list);
    return hf_error_set(HF_ENOMEM, "out of memory building request headers");
}

static void free_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l; l = l->next)
        if (!strncasecmp(l->data, "Authorization:", 14))
            explicit_bzero(l->data, strlen(l->data)); /* the token does not outlive the request */
    curl_slist_free_all(list);
}

static int is_method(const char *m, const char *name)
{
    return !strcmp(m, name);
}

/* Sets method and body options. Returns 1 when the body is a form-style POSTFIELDS body. */
static int set_method_and_body(CURL *h, const hf_http_request *req, xfer *x)
{
    const char *m = req->method;
    if (req->body_fd >= 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
        if (!is_method(m, "PUT"))
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        return 0;
    }
    if (req->body || is_method(m, "POST") || is_method(m, "PUT") || is_method(m, "PATCH")) {
        /* an empty body still gets "Content-Length: 0", which some servers insist on */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (!is_method(m, "POST"))
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        return 1;
    }
    if (is_method(m, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (is_method(m, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        return 0;
    }
    /* Only bodiless GET/HEAD follow redirects: a PUT/POST body must not silently go to another place. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    return 0;
}

static int check_request(const hf_http_request *req)
{
    if (!req->url || !*req->url || !req->method || !*req->method)
        return hf_error_set(HF_EINVAL, "HTTP request without a URL or method");
    if (req->bearer_token && strpbrk(req->bearer_token, "\r\n"))
        return hf_error_set(HF_EINVAL, "the token contains a line break; refusing to send it");
    if (req->body_fd >= 0 && req->body_offset + req->body_size < req->body_offset)
        return hf_error_set(HF_EINVAL, "body slice offset+size overflows");
    return 0;
}

static int send_once(hf_http_client *c, const hf_http_request *req, hf_http_response *resp,
                     progress_marks *marks, int attempt)
{
    hf_http_response_reset(resp);
    int rc = check_request(req);
    if (rc)
        return rc;

    CURL *h = c->easy;
    xfer x = {h, req, resp, marks, req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE,
              0, 0, -1, 0, 0, now_ms(), 0, -1, 0, 0, 0};
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    /* URLs come from servers (batch answers, redirects): never let one make curl read or write a local file
     * (file://) or speak another protocol. */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hfgit/" HFGIT_VERSION);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    int form_body = set_method_and_body(h, req, &x);
    /* always on: it carries the stall rule and the stop polling */
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    struct curl_slist *headers = NULL;
    if ((rc = build_headers(req, form_body, &headers)) != 0)
        return rc;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    free_headers(headers);
    if (x.stalled_secs && !x.cancelled && x.phase == 1)
        snprintf(c->errbuf, sizeof(c->errbuf), "no response within %ld s after the request was sent",
                 x.stalled_secs);
    else if (x.stalled_secs && !x.cancelled)
        snprintf(c->errbuf, sizeof(c->errbuf), "stalled: under %ld bytes/s for %ld s", STALL_BYTES_PER_S,
                 x.stalled_secs);

    hf_buf url = HF_BUF_INIT;
    hf_http_redact_url(req->url, &url);
    if (hf_trace_enabled()) {
        curl_off_t up = 0, down = 0, us = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
        curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
        char what[CURL_ERROR_SIZE + 32];
        if (cc == CURLE_OK)
            snprintf(what, sizeof(what), "HTTP %ld", status);
        else
            snprintf(what, sizeof(what), "transport error (HTTP %ld): %s", status,
                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        hf_trace("http: %s %s: %s, %lld bytes up, %lld down, %lld ms, attempt %d", req->method,
                 hf_buf_cstr(&url), what, (long long)up, (long long)down, (long long)(us / 1000), attempt);
    }

    if (x.cancelled)
        rc = hf_error_set(HF_ECANCELLED, "%s %s: stopped by the progress callback", req->method, url.ptr);
    else if (x.io_errno == -1)
        rc = hf_error_set(HF_EIO,
                          "%s %s: the body file ended at byte %llu of a %llu-byte slice at offset %llu "
                          "(was it changed while uploading?)",
                          req->method, url.ptr, (unsigned long long)x.body_pos,
                          (unsigned long long)req->body_size, (unsigned long long)req->body_offset);
    else if (x.io_errno == -2)
        rc = hf_error_set(HF_EINVAL, "%s %s: the server sent more than the %llu bytes expected", req->method,
                          url.ptr, (unsigned long long)req->out_max);
    else if (x.io_errno)
        rc = hf_error_set(HF_EIO, "%s %s: %s the local file: %s", req->method, url.ptr,
                          cc == CURLE_WRITE_ERROR ? "writing" : "reading", strerror(x.io_errno));
    else if (cc == CURLE_UNSUPPORTED_PROTOCOL)
        rc = hf_error_set(HF_EINVAL, "%s %s: refused: only http:// and https:// URLs are allowed (%s)",
                          req->method, url.ptr, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    else if (cc == CURLE_TOO_MANY_REDIRECTS)
        rc = hf_error_set_http(HF_EHTTP, status, "%s %s: more than 3 redirects (HTTP %ld)", req->method,
                               url.ptr, status);
    else if (cc != CURLE_OK && status < 400)
        /* no answer, or a 2xx/3xx cut short (e.g. dropped mid-body): a transport failure, retried */
        rc = hf_error_set(HF_ENET, "%s %s: %s", req->method, url.ptr,
                          c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    else if (status >= 200 && status <= 299 && req->progress && body_length(req)) {
        /* curl's last progress call may come before the final bytes; on success the whole body is sent */
        if (report(&x, &marks->up, body_length(req)))
            rc = hf_error_set(HF_ECANCELLED, "%s %s: stopped by the progress callback", req->method, url.ptr);
    }
    /* a body longer than out_max still came with a status: a ranged GET needs it to see "200, Range ignored" */
    resp->status = rc == 0 || x.io_errno == -2 ? status : 0;
    hf_buf_free(&url);
    return rc;
}

int hf_http_send(hf_http_client *c, const hf_http_request *req, hf_http_response *resp)
{
    progress_marks marks = {0, 0};
    int rc = send_once(c, req, resp, &marks, 1);
    resp->attempts = 1;
    return rc;
}

/* ---- retries ---- */

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
    uint64_t end = now_ns() + ms * 1000000u;
    for (;;) {
        if (req->progress && req->progress(req->progress_ud, 0) != 0)
            return 1;
        uint64_t now = now_ns();
        if (now >= end)
            return 0;
        uint64_t left = end - now, slice = (uint64_t)POLL_MS * 1000000u;
        sleep_ns(left < slice ? left : slice);
    }
}

static uint32_t random_u32(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
        return r;
    static _Thread_local uint32_t state; /* fallback: xorshift seeded from the clock */
    if (!state)
        state = (uint32_t)now_ms() | 1u;
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
    if (p.max_attempts < 1)
        p.max_attempts = 1;
    pthread_once(&global_once, global_init_once);
    if (retry_base_override >= 0)
        p.base_delay_ms = (unsigned)retry_base_override;

    progress_marks marks = {0, 0};
    uint64_t start = now_ms();
    const char *why = "";
    char why_buf[96];
    int rc = 0, attempt;
    for (attempt = 1;; attempt++) {
        rc = send_once(c, req, resp, &marks, attempt);
        resp->attempts = attempt;
        if (rc == 0 && resp->status >= 200 && resp->status <= 299)
            return 0;
        if (rc != 0 && rc != HF_ENET)
            return rc; /* local trouble (file, cancel, bad request): another try would fail the same way */
        if (!hf_http_status_retriable(resp->status) || attempt >= p.max_attempts)
            break;
        long delay = resp->retry_after_ms >= 0 ? resp->retry_after_ms
                                               : (long)hf_http_backoff_ms(&p, attempt, random_u32());
        uint64_t elapsed = now_ms() - start;
        if (p.max_total_ms && elapsed + (uint64_t)delay > p.max_total_ms) {
            snprintf(why_buf, sizeof(why_buf),
                     " (stopped: the next wait of %ld ms would pass the %u s limit)", delay,
                     p.max_total_ms / 1000);
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
    if (rc == 0)
        return status_error(req, resp, attempt, why);
    /* transport failure: keep send_once's "METHOD url: curl text" and say how many tries it took */
    char last[512];
    snprintf(last, sizeof(last), "%s", hf_error_last_message());
    return hf_error_set(HF_ENET, "%s after %d attempt%s%s", last, attempt, attempt == 1 ? "" : "s", why);
}
