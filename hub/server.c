/*
 * server.c: the libmicrohttpd side of hfgit-hub: request life cycle, routing, responses, auth, repo names.
 *
 * MHD calls the access handler several times per request: once when the headers are in (we route), once per
 * body chunk (on_data), and once more with no data when the body is complete (on_done queues the response).
 * With one thread per connection, handlers may block.
 */
#include "hub.h"

#include "../common/digest.h"
#include "../common/json.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_BODY_LIMIT (1u << 20) /* JSON bodies (batch, create, completion) are small */

uint64_t hub_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- responses ---- */

enum MHD_Result hub_respond(hub_req *r, unsigned status, const char *content_type, const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    return rc;
}

enum MHD_Result hub_respond_json(hub_req *r, unsigned status, const hf_buf *json)
{
    return hub_respond(r, status, "application/vnd.git-lfs+json", hf_buf_cstr(json), json->len);
}

static void error_json(hf_buf *out, const char *msg)
{
    /* The Hub answers {"error": "..."}; git-lfs reads "message". Send both. */
    hf_buf_puts(out, "{\"message\":");
    hf_json_escape(out, msg, strlen(msg));
    hf_buf_puts(out, ",\"error\":");
    hf_json_escape(out, msg, strlen(msg));
    hf_buf_puts(out, "}");
}

enum MHD_Result hub_respond_error(hub_req *r, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hf_buf out = HF_BUF_INIT;
    error_json(&out, msg);
    enum MHD_Result rc = hub_respond_json(r, status, &out);
    hf_buf_free(&out);
    return rc;
}

enum MHD_Result hub_respond_unauthorized(hub_req *r, const char *msg)
{
    hf_buf out = HF_BUF_INIT;
    error_json(&out, msg);
    struct MHD_Response *resp = MHD_create_response_from_buffer(out.len, out.ptr, MHD_RESPMEM_MUST_COPY);
    hf_buf_free(&out);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.git-lfs+json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"hfgit-hub\"");
    MHD_add_response_header(resp, "LFS-Authenticate", "Basic realm=\"hfgit-hub\"");
    enum MHD_Result rc = MHD_queue_response(r->conn, MHD_HTTP_UNAUTHORIZED, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    return rc;
}

int hub_refuse(hub_req *r, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(r->refusal_msg);
    r->refusal_msg = strdup(msg); /* NULL when out of memory: answered without the message */
    r->refusal_status = status;
    return 1;
}

static enum MHD_Result send_refusal(hub_req *r)
{
    const char *msg = r->refusal_msg ? r->refusal_msg : "out of memory";
    if (r->refusal_status == MHD_HTTP_UNAUTHORIZED) return hub_respond_unauthorized(r, msg);
    return hub_respond_error(r, r->refusal_status, "%s", msg);
}

const char *hub_header(hub_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *hub_query(hub_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- auth ---- */

static int token_matches(const hub *h, const char *given, size_t len)
{
    size_t tlen = strlen(h->token);
    return len == tlen && hf_consttime_eq(given, h->token, tlen);
}

int hub_authorized(hub_req *r)
{
    if (!r->h->token)
        return 1;
    const char *auth = hub_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth)
        return 0;
    if (strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        return token_matches(r->h, t, strlen(t));
    }
    if (strncasecmp(auth, "Basic ", 6) == 0) {
        const char *b64 = auth + 6;
        size_t n = strlen(b64);
        if (n == 0 || n > 4096)
            return 0;
        unsigned char *dec = malloc(n);
        if (!dec)
            return 0;
        int dlen = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
        int ok = 0;
        if (dlen > 0) {
            /* EVP_DecodeBlock counts padding bytes as output: drop them. */
            if (n >= 1 && b64[n - 1] == '=')
                dlen--;
            if (n >= 2 && b64[n - 2] == '=')
                dlen--;
            char *colon = memchr(dec, ':', (size_t)dlen);
            if (colon) {
                const char *pw = colon + 1;
                ok = token_matches(r->h, pw, (size_t)((const char *)dec + dlen - pw));
            }
        }
        free(dec);
        return ok;
    }
    return 0;
}

/* ---- repository names ---- */

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 96 || s[0] == '.' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
        if (c == '.' && i + 1 < n && s[i + 1] == '.')
            return 0;
    }
    return 1;
}

int hub_repo_parse(const hub *h, const char *path, hub_repo *repo)
{
    memset(repo, 0, sizeof(*repo));
    const char *p = path;
    if (*p != '/')
        return -1;
    p++;
    strcpy(repo->type, "models");
    if (strncmp(p, "datasets/", 9) == 0) {
        strcpy(repo->type, "datasets");
        p += 9;
    } else if (strncmp(p, "spaces/", 7) == 0) {
        strcpy(repo->type, "spaces");
        p += 7;
    }
    const char *slash = strchr(p, '/');
    if (!slash || !valid_name(p, (size_t)(slash - p)) || (size_t)(slash - p) >= sizeof(repo->ns))
        return -1;
    memcpy(repo->ns, p, (size_t)(slash - p));
    p = slash + 1;
    size_t n = strcspn(p, "/");
    const char *rest = p + n;
    if (n > 4 && strncmp(p + n - 4, ".git", 4) == 0)
        n -= 4;
    if (!valid_name(p, n) || n >= sizeof(repo->name))
        return -1;
    memcpy(repo->name, p, n);
    repo->rest = rest;
    hf_buf dir = HF_BUF_INIT;
    if (hf_buf_printf(&dir, "%s/repos/%s/%s/%s.git", h->root, repo->type, repo->ns, repo->name))
        return -1;
    repo->git_dir = hf_buf_detach(&dir);
    return 0;
}

int hub_repo_exists(const hub_repo *repo)
{
    struct stat st;
    return repo->git_dir && stat(repo->git_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int hub_repo_private(const hub_repo *repo)
{
    hf_buf p = HF_BUF_INIT;
    struct stat st;
    int priv = hf_buf_printf(&p, "%s/hfgit-hub-private", repo->git_dir) == 0 && stat(p.ptr, &st) == 0;
    hf_buf_free(&p);
    return priv;
}

unsigned hub_read_refusal(hub_req *r, const hub_repo *repo)
{
    if (!hub_repo_exists(repo)) return MHD_HTTP_NOT_FOUND;
    if (!hub_repo_private(repo) || hub_authorized(r)) return 0;
    return hub_header(r, MHD_HTTP_HEADER_AUTHORIZATION) ? MHD_HTTP_NOT_FOUND : MHD_HTTP_UNAUTHORIZED;
}

void hub_repo_clear(hub_repo *repo)
{
    free(repo->git_dir);
    repo->git_dir = NULL;
}

/* ---- bandwidth cap ---- */

void hub_throttle(hub *h, uint64_t *t0_ns, uint64_t *bytes, size_t new_bytes)
{
    pthread_mutex_lock(&h->knobs_lock);
    uint64_t cap = h->knobs.bandwidth_cap;
    pthread_mutex_unlock(&h->knobs_lock);
    uint64_t now = hub_now_ns();
    if (*t0_ns == 0)
        *t0_ns = now;
    *bytes += new_bytes;
    if (cap == 0)
        return;
    /* Sleep until the stream is back under cap: the time these bytes should have taken at the cap. */
    uint64_t due = *t0_ns + (uint64_t)((double)*bytes * 1e9 / (double)cap);
    if (due > now) {
        uint64_t d = due - now;
        struct timespec ts = {(time_t)(d / 1000000000ull), (long)(d % 1000000000ull)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

/* ---- request life cycle ---- */

static int collect_body(hub_req *r, const char *data, size_t len)
{
    if (r->body.len + len > r->body_limit) {
        r->body_too_large = 1;
        return 0; /* keep reading (and discarding) so the client gets a clean 413 */
    }
    return hf_buf_put(&r->body, data, len) ? -1 : 0;
}

static enum MHD_Result not_found(hub_req *r)
{
    atomic_fetch_add(&r->h->stats.requests_other, 1);
    return hub_respond_error(r, MHD_HTTP_NOT_FOUND, "no such endpoint: %s %s", r->method, r->path);
}

static void route(hub_req *r)
{
    if (hub_route_admin(r) || hub_route_api(r) || hub_route_lfs(r) || hub_route_git(r))
        return;
    r->on_done = not_found;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    hub_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->h = cls;
        r->conn = conn;
        r->method = method;
        r->path = strdup(url);
        r->body_limit = DEFAULT_BODY_LIMIT;
        r->on_data = collect_body;
        *con_cls = r;
        if (!r->path)
            return MHD_NO;
        route(r);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->responded || r->refusal_status)
            return MHD_YES; /* answered early or refused: discard the rest */
        if (r->on_data(r, upload_data, n) < 0) {
            r->dropped = 1;
            return MHD_NO; /* closes the connection mid-body */
        }
        return MHD_YES;
    }
    if (r->responded)
        return MHD_YES;
    if (r->refusal_status)
        return send_refusal(r);
    if (r->body_too_large)
        return hub_respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %zu bytes", r->body_limit);
    return r->on_done(r);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    hub_req *r = *con_cls;
    if (!r)
        return;
    if (r->on_free)
        r->on_free(r);
    hf_buf_free(&r->body);
    free(r->refusal_msg);
    free(r->path);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    fputs("hfgit-hub: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int hub_server_start(hub *h, int listen_fd)
{
    /* One thread per connection: handlers block on CGI pipes and bandwidth sleeps. A large connection memory
     * limit gives the upload handler large chunks (fewer calls, more throughput). */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    /* HTTPS: libmicrohttpd's TLS (GnuTLS) with the PEM texts; without them the option list ends earlier. */
    int tls = h->tls_cert && h->tls_key;
    h->daemon = MHD_start_daemon(
        flags | (tls ? MHD_USE_TLS : 0), 0, NULL, NULL, access_handler, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(4u << 20), MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, h->tls_key,
        MHD_OPTION_END);
    return h->daemon ? 0 : -1;
}

void hub_server_stop(hub *h)
{
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    h->daemon = NULL;
}
