/*
 * http.c: the HTTP client on libcurl easy handles (see http.h): setup, and the curl options of one try.
 *
 * One easy handle per client, reset before each request: curl_easy_reset keeps the connection cache, so a
 * worker that PUTs part after part to one host reuses one TCP (and TLS) connection. The exact body size is
 * always given to curl, which then never falls back to chunked encoding. The callbacks that run during a try
 * are in http_io.c, the retry loop in http_retry.c (http_internal.h has the map).
 */
#include "http_internal.h"
#include "error.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef HFGIT_VERSION
#define HFGIT_VERSION "dev"
#endif

#define CONNECT_TIMEOUT_S 30L
#define STALL_SECS_DEFAULT 60L
#define RECV_BUFFER (512L * 1024) /* CURL_MAX_READ_SIZE in 7.88; untouched pages cost no RSS */
/* Fewer, larger pread+send rounds per part. Each client in flight holds one such buffer, so the size is
 * traded against the agent's RSS bar (16 MiB with 8 parts in flight). -DUPLOAD_BUFFER=... for measuring. */
#ifndef UPLOAD_BUFFER
#define UPLOAD_BUFFER (256L * 1024)
#endif
#define DEFAULT_MAX_RESPONSE ((size_t)1024 * 1024)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc; /* the settings below are written once under global_once, read-only afterwards */
static http_settings_t settings = {STALL_SECS_DEFAULT, -1};

static long env_long(const char *name, long min, long max)
{
    const char *v = getenv(name);
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) return -1;
    return n;
}

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_ALL);
    long s = env_long("HFGIT_HTTP_STALL_SECS", 1, 86400);
    if (s > 0) settings.stall_secs = s;
    settings.retry_base_override = env_long("HFGIT_RETRY_BASE_MS", 0, 3600000);
}

const http_settings_t *http_settings(void)
{
    pthread_once(&global_once, global_init_once);
    return &settings;
}

const char *hf_http_ca_file(void)
{
    static const char *const vars[] = {"CURL_CA_BUNDLE", "SSL_CERT_FILE", "GIT_SSL_CAINFO"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return v;
    }
    return NULL;
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
    if (rc) return rc;
    hf_http_client *c = calloc(1, sizeof(*c));
    if (!c) return hf_error_set(HF_ENOMEM, "out of memory creating an HTTP client");
    if (!(c->easy = curl_easy_init())) {
        free(c);
        return hf_error_set(HF_ENOMEM, "curl_easy_init failed");
    }
    *out = c;
    return 0;
}

void hf_http_client_free(hf_http_client *c)
{
    if (!c) return;
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

uint64_t http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t http_now_ms(void)
{
    return http_now_ns() / 1000000u;
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
        if (!(tmp = curl_slist_append(list, *h))) goto oom;
        list = tmp;
    }
    if (!(tmp = curl_slist_append(list, "Expect:"))) goto oom;
    list = tmp;
    /* curl labels POSTFIELDS bodies application/x-www-form-urlencoded unless told otherwise */
    if (form_body && !have_ct) {
        if (!(tmp = curl_slist_append(list, "Content-Type:"))) goto oom;
        list = tmp;
    }
    if (req->bearer_token) {
        hf_buf auth = HF_BUF_INIT;
        hf_buf_printf(&auth, "Authorization: Bearer %s", req->bearer_token);
        tmp = auth.ptr ? curl_slist_append(list, auth.ptr) : NULL;
        if (auth.ptr) explicit_bzero(auth.ptr, auth.cap);
        hf_buf_free(&auth);
        if (!tmp) goto oom;
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
        curl_easy_setopt(h, CURLOPT_READFUNCTION, http_on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, http_on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
        if (!is_method(m, "PUT")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        return 0;
    }
    if (req->body || is_method(m, "POST") || is_method(m, "PUT") || is_method(m, "PATCH")) {
        /* an empty body still gets "Content-Length: 0", which some servers insist on */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (!is_method(m, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
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

int http_send_once(hf_http_client *c, const hf_http_request *req, hf_http_response *resp,
                   progress_marks *marks, int attempt)
{
    hf_http_response_reset(resp);
    int rc = check_request(req);
    if (rc) return rc;

    CURL *h = c->easy;
    xfer x = {.easy = h,
              .req = req,
              .resp = resp,
              .marks = marks,
              .max_response = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE,
              .to_file = -1,
              .last_call_ms = http_now_ms(),
              .phase = -1};
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
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, req->recv_buffer > 0 ? req->recv_buffer : RECV_BUFFER);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hfgit/" HFGIT_VERSION);
    const char *ca = hf_http_ca_file();
    if (ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    int form_body = set_method_and_body(h, req, &x);
    /* always on: it carries the stall rule and the stop polling */
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, http_on_xferinfo);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    struct curl_slist *headers = NULL;
    if ((rc = build_headers(req, form_body, &headers)) != 0) return rc;
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
    else if (status >= 200 && status <= 299 && req->progress && http_body_length(req)) {
        /* curl's last progress call may come before the final bytes; on success the whole body is sent */
        if (http_report(&x, &marks->up, http_body_length(req)))
            rc = hf_error_set(HF_ECANCELLED, "%s %s: stopped by the progress callback", req->method, url.ptr);
    }
    /* a body longer than out_max still came with a status: a ranged GET needs it to see "200, Range ignored" */
    resp->status = rc == 0 || x.io_errno == -2 ? status : 0;
    hf_buf_free(&url);
    return rc;
}

int hf_http_send(hf_http_client *c, const hf_http_request *req, hf_http_response *resp)
{
    progress_marks marks = {0, 0, http_now_ms()};
    int rc = http_send_once(c, req, resp, &marks, 1);
    resp->attempts = 1;
    return rc;
}
