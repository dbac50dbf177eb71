/*
 * lfs_object.c: the basic-transfer object URLs and the verify action.
 *
 *   PUT  /__object/<repo>/<oid>?exp&sig   body streamed to <root>/tmp, SHA-256 checked, renamed into
 *                                          <git_dir>/lfs/objects/aa/bb/<oid>; a mismatch leaves no object
 *   GET  /__object/<repo>/<oid>?exp&sig   the object, whole (200) or one byte range (206)
 *   POST /__verify/<repo>?exp&sig         {"oid","size"}: 200 when stored with that size, else 404
 */
#include "lfs.h"
#include "s3.h"

#include "../common/error.h"
#include "../common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "<repo>/<oid>" or "<repo>" into repo (rest: "/<oid>" or ""). */
static int parse_repo_tail(hub_req *r, const char *tail, hub_repo *repo)
{
    hf_buf p = HF_BUF_INIT;
    int rc = hf_buf_printf(&p, "/%s", tail) ? -1 : hub_repo_parse(r->h, p.ptr, repo);
    if (rc == 0) {
        /* rest points into p: keep only what we need (the oid) by re-deriving it from tail. */
        size_t rest_len = strlen(repo->rest);
        repo->rest = tail + strlen(tail) - rest_len;
    }
    hf_buf_free(&p);
    return rc;
}

/* ---- PUT ---- */

typedef struct object_put {
    hub_repo repo;
    char oid[65];
    lfs_sink sink;
} object_put;

static int put_data(hub_req *r, const char *data, size_t len)
{
    object_put *op = r->state;
    return lfs_sink_write(r->h, &op->sink, data, len);
}

static enum MHD_Result put_done(hub_req *r)
{
    object_put *op = r->state;
    lfs_sink *s = &op->sink;
    char hex[HF_SHA256_HEX_LEN + 1];
    if (s->io_error) return lfs_respond_io_error(r, s->io_error, "storing the object");
    if (s->overflow)
        return hub_respond_error(r, MHD_HTTP_BAD_REQUEST, "body longer than its Content-Length (%" PRIu64 ")",
                                 s->expected);
    if (s->received != s->expected)
        return hub_respond_error(r, MHD_HTTP_BAD_REQUEST, "body ended after %" PRIu64 " of %" PRIu64 " bytes",
                                 s->received, s->expected);
    if (lfs_sink_finish(s, hex)) return lfs_respond_io_error(r, errno, "storing the object");
    if (strcmp(hex, op->oid) != 0)
        return hub_respond_error(r, MHD_HTTP_BAD_REQUEST, "SHA-256 mismatch: got %s expected %s", hex,
                                 op->oid);
    hf_buf dest = HF_BUF_INIT;
    int rc = lfs_object_path(op->repo.git_dir, op->oid, &dest) ? -1 : lfs_sink_commit(s, dest.ptr);
    int err = errno;
    hf_buf_free(&dest);
    if (rc) return lfs_respond_io_error(r, err, "storing the object");
    return hub_respond(r, MHD_HTTP_OK, "text/plain", "", 0);
}

static void put_free(hub_req *r)
{
    object_put *op = r->state;
    lfs_sink_discard(&op->sink);
    hub_repo_clear(&op->repo);
    free(op);
    r->state = NULL;
}

/* signed: the size the URL was signed for (-1: none, a URL not made for uploads). */
static int route_put(hub_req *r, hub_repo *repo, int64_t signed_size)
{
    uint64_t len;
    int refused = 1;
    if (signed_size < 0)
        hub_refuse(r, MHD_HTTP_FORBIDDEN, "AccessDenied: this URL was not signed for uploads");
    else if (lfs_content_length(r, &len))
        hub_refuse(r, MHD_HTTP_LENGTH_REQUIRED, "MissingContentLength: a Content-Length header is required");
    else if (len > (uint64_t)signed_size)
        hub_refuse(r, MHD_HTTP_CONTENT_TOO_LARGE,
                   "EntityTooLarge: Content-Length %" PRIu64 " is over the %" PRId64
                   " bytes this URL was signed for",
                   len, signed_size);
    else if (len != (uint64_t)signed_size)
        hub_refuse(r, MHD_HTTP_BAD_REQUEST,
                   "IncompleteBody: Content-Length %" PRIu64 " is not the %" PRId64
                   " bytes this URL was signed for",
                   len, signed_size);
    else
        refused = 0;
    if (!refused) {
        pthread_mutex_lock(&r->h->knobs_lock);
        int expire = r->h->knobs.expire_object_times > 0;
        if (expire) r->h->knobs.expire_object_times--;
        pthread_mutex_unlock(&r->h->knobs_lock);
        if (expire) {
            fprintf(stderr, "hfgit-hub: knob: refusing an object PUT with 403 (expired URL)\n");
            hub_refuse(r, MHD_HTTP_FORBIDDEN, "AccessDenied: Request has expired (knob)");
            refused = 1;
        }
    }
    if (refused) { /* before a byte of the body is stored */
        hub_repo_clear(repo);
        return 1;
    }
    object_put *op = calloc(1, sizeof(*op));
    hf_buf tmpdir = HF_BUF_INIT;
    if (!op || hf_buf_printf(&tmpdir, "%s/tmp", r->h->root)) {
        free(op);
        hub_repo_clear(repo);
        return hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    op->repo = *repo;
    memcpy(op->oid, repo->rest + 1, 65);
    op->sink.fd = -1;
    r->state = op;
    r->on_free = put_free;
    int rc = lfs_sink_open(&op->sink, tmpdir.ptr, HF_DIGEST_SHA256, len);
    int err = errno;
    hf_buf_free(&tmpdir);
    if (rc)
        return hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot create a temp file: %s", strerror(err));
    r->on_data = put_data;
    r->on_done = put_done;
    return 1;
}

/* ---- GET ---- */

typedef struct object_get {
    int fd;
    uint64_t size, from, to; /* inclusive range to send */
    int partial;
    uint64_t t0, sent; /* bandwidth cap */
} object_get;

/* Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range. 1 ok, 0 no/ignored range, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    unsigned long long a, b;
    char tail;
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',')) return 0;
    h += 6;
    if (h[0] == '-') {
        if (sscanf(h + 1, "%llu%c", &a, &tail) != 1) return 0;
        if (a == 0) return -1;
        *from = a >= size ? 0 : size - a;
        *to = size - 1;
        return size ? 1 : -1;
    }
    int n = sscanf(h, "%llu-%llu%c", &a, &b, &tail);
    if (n == 1 && h[strlen(h) - 1] == '-')
        b = size ? size - 1 : 0;
    else if (n != 2 || b < a)
        return 0;
    if (a >= size) return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}

static ssize_t get_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    object_get *g = cls; /* pos counts from the start of the response body */
    uint64_t left = g->to + 1 - g->from - pos;
    if (left == 0) return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = pread(g->fd, buf, max < left ? max : (size_t)left, (off_t)(g->from + pos));
    return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

typedef struct capped_reader {
    object_get g;
    hub *h;
    uint64_t cap;
    int corrupt; /* knob: flip the body's first byte */
} capped_reader;

static ssize_t capped_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    capped_reader *c = cls;
    ssize_t n = get_reader(&c->g, pos, buf, max);
    if (n > 0 && pos == 0 && c->corrupt) buf[0] = (char)~buf[0];
    if (n > 0 && c->cap) hub_throttle(c->h, &c->g.t0, &c->g.sent, (size_t)n);
    return n;
}

static void capped_free(void *cls)
{
    capped_reader *c = cls;
    close(c->g.fd);
    free(c);
}

static enum MHD_Result get_done(hub_req *r)
{
    object_get *g = r->state;
    hub_knobs *k = &r->h->knobs;
    pthread_mutex_lock(&r->h->knobs_lock);
    uint64_t cap = k->bandwidth_cap;
    int fail = k->fail_range_times > 0 && k->fail_range_from == g->from;
    int corrupt = !fail && k->corrupt_range_times > 0 && k->corrupt_range_from == g->from && g->size;
    k->fail_range_times -= fail;
    k->corrupt_range_times -= corrupt;
    pthread_mutex_unlock(&r->h->knobs_lock);
    if (fail) return hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "injected failure (fail_range_from)");
    uint64_t count = g->size ? g->to + 1 - g->from : 0;
    atomic_fetch_add(&r->h->stats.object_get_bytes, (long long)count);
    struct MHD_Response *resp;
    if (cap == 0 && !corrupt) {
        /* sendfile() straight from the page cache; MHD closes the fd. */
        resp = MHD_create_response_from_fd_at_offset64(count, g->fd, g->from);
    } else {
        capped_reader *c = calloc(1, sizeof(*c));
        if (c) {
            c->g = *g;
            c->h = r->h;
            c->cap = cap;
            c->corrupt = corrupt;
        }
        resp = c ? MHD_create_response_from_callback(count, (size_t)256 * 1024, capped_read, c, capped_free) : NULL;
        if (!resp) free(c);
    }
    if (!resp) return MHD_NO;
    g->fd = -1; /* owned by the response now */
    char range[96];
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (g->partial) {
        snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, g->from, g->to, g->size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
    }
    enum MHD_Result rc =
        MHD_queue_response(r->conn, g->partial ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    return rc;
}

static void get_free(hub_req *r)
{
    object_get *g = r->state;
    if (g->fd >= 0) close(g->fd);
    free(g);
    r->state = NULL;
}

/* S3 storage: the object path holds a sparse stand-in; the bytes are in the store. Sends the client there. */
static int redirect_to_store(hub_req *r, const char *key)
{
    hf_buf url = HF_BUF_INIT;
    struct MHD_Response *resp = NULL;
    if (s3_presign(r->h->s3, "GET", key, NULL, -1, 300, &url) == 0 &&
        (resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT))) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, url.ptr);
        MHD_queue_response(r->conn, MHD_HTTP_TEMPORARY_REDIRECT, resp);
        MHD_destroy_response(resp);
        r->responded = 1;
    }
    hf_buf_free(&url);
    return r->responded ? 1 : hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
}

static int route_get(hub_req *r, hub_repo *repo)
{
    hf_buf path = HF_BUF_INIT, key = HF_BUF_INIT;
    const char *oid = repo->rest + 1;
    if (r->h->s3 && lfs_s3_key(repo->git_dir, oid, &key) == 0) {
        int rc = redirect_to_store(r, key.ptr);
        hf_buf_free(&key);
        hub_repo_clear(repo);
        return rc;
    }
    int fd = lfs_object_path(repo->git_dir, oid, &path) ? -1 : open(path.ptr, O_RDONLY | O_CLOEXEC);
    hf_buf_free(&path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        if (fd >= 0) close(fd);
        int rc = hub_refuse(r, MHD_HTTP_NOT_FOUND, "Object %s does not exist", oid);
        hub_repo_clear(repo);
        return rc;
    }
    hub_repo_clear(repo);
    object_get *g = calloc(1, sizeof(*g));
    if (!g) {
        close(fd);
        return hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    g->fd = fd;
    g->size = (uint64_t)st.st_size;
    g->from = 0;
    g->to = g->size ? g->size - 1 : 0;
    int range = parse_range(hub_header(r, MHD_HTTP_HEADER_RANGE), g->size, &g->from, &g->to);
    if (range < 0) {
        uint64_t size = g->size;
        close(fd);
        free(g);
        return hub_refuse(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, "InvalidRange: the object is %" PRIu64 " bytes",
                          size);
    }
    pthread_mutex_lock(&r->h->knobs_lock);
    int ignore = r->h->knobs.ignore_range;
    pthread_mutex_unlock(&r->h->knobs_lock);
    if (ignore && range == 1) { /* knob: behave like a server without Range support */
        g->from = 0;
        g->to = g->size ? g->size - 1 : 0;
        range = 0;
    }
    g->partial = range == 1;
    r->state = g;
    r->on_free = get_free;
    r->on_done = get_done;
    return 1;
}

int lfs_route_object(hub_req *r, const char *tail)
{
    int put = strcmp(r->method, MHD_HTTP_METHOD_PUT) == 0;
    int get = strcmp(r->method, MHD_HTTP_METHOD_GET) == 0 || strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0;
    atomic_fetch_add(put ? &r->h->stats.requests_object_put : &r->h->stats.requests_object_get, 1);
    if (!put && !get)
        return hub_refuse(r, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed: %s on an object URL", r->method);
    int64_t signed_size;
    if (lfs_check_signed(r, 0, &signed_size)) return 1;
    hub_repo repo;
    if (parse_repo_tail(r, tail, &repo)) return hub_refuse(r, MHD_HTTP_NOT_FOUND, "no such object URL");
    if (repo.rest[0] != '/' || !lfs_oid_ok(repo.rest + 1) || !hub_repo_exists(&repo)) {
        hub_repo_clear(&repo);
        return hub_refuse(r, MHD_HTTP_NOT_FOUND, "no such object URL");
    }
    return put ? route_put(r, &repo, signed_size) : route_get(r, &repo);
}

/* ---- verify ---- */

typedef struct verify_req {
    hub_repo repo;
    char staged[LFS_UPLOAD_ID_LEN + 2]; /* S3 storage: "b<id>", a basic upload's staging object; "" else */
} verify_req;

/* S3 storage: a basic upload went straight to the store under a staging key; the verify is where the hub
 * checks it (streamed back, SHA-256 and size) and makes it visible, or deletes it. 0, or an HTTP status. */
static unsigned verify_staged(hub *h, const verify_req *v, const char *oid, uint64_t size, char *msg,
                              size_t msz)
{
    hf_buf key = HF_BUF_INIT, err = HF_BUF_INIT;
    char hex[HF_SHA256_HEX_LEN + 1];
    uint64_t got = 0;
    unsigned status = 0;
    lfs_upload_meta m = {.git_dir = v->repo.git_dir, .size = size};
    memcpy(m.oid, oid, sizeof(m.oid));
    if (s3_staging_key(h->s3, v->staged, &key) || s3_object_sha256(h->s3, key.ptr, hex, &got, &err)) {
        snprintf(msg, msz, "Object %s does not exist (%s)", oid, hf_buf_cstr(&err));
        status = MHD_HTTP_NOT_FOUND;
    } else if (got != size || strcmp(hex, oid) != 0) {
        s3_delete(h->s3, key.ptr);
        snprintf(msg, msz, "SHA-256 mismatch: got %s (%" PRIu64 " bytes) expected %s", hex, got, oid);
        status = MHD_HTTP_UNPROCESSABLE_CONTENT;
    } else if (lfs_s3_publish(h, &m, key.ptr)) {
        snprintf(msg, msz, "recording the object: %s", strerror(errno));
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    hf_buf_free(&key);
    hf_buf_free(&err);
    return status;
}

static enum MHD_Result verify_done(hub_req *r)
{
    verify_req *v = r->state;
    hf_json *doc = NULL;
    if (hf_json_parse(&doc, hf_buf_cstr(&r->body), r->body.len))
        return hub_respond_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "verify: body is not JSON: %s",
                                 hf_error_last_message());
    char *oid = hf_json_get_strdup(doc, 0, "oid");
    int64_t size = -1;
    int bad = !lfs_oid_ok(oid) || hf_json_get_int64(doc, 0, "size", &size) || size < 0;
    hf_json_free(doc);
    enum MHD_Result rc;
    hf_buf path = HF_BUF_INIT;
    struct stat st;
    char msg[512];
    unsigned status = 0;
    int stored = !bad && lfs_object_path(v->repo.git_dir, oid, &path) == 0 && stat(path.ptr, &st) == 0;
    /* S3 storage: the first verify of a basic upload checks the staged object and publishes it. */
    if (!bad && !stored && v->staged[0] && r->h->s3 &&
        !(status = verify_staged(r->h, v, oid, (uint64_t)size, msg, sizeof(msg))))
        stored = stat(path.ptr, &st) == 0;
    if (bad)
        rc = hub_respond_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
                               "verify: expected {\"oid\":<sha256>,\"size\":<n>}");
    else if (status)
        rc = hub_respond_error(r, status, "%s", msg);
    else if (!stored)
        rc = hub_respond_error(r, MHD_HTTP_NOT_FOUND, "Object %s does not exist", oid);
    else if ((uint64_t)st.st_size != (uint64_t)size)
        rc = hub_respond_error(r, MHD_HTTP_NOT_FOUND, "Object %s is stored with %lld bytes, not %" PRId64,
                               oid, (long long)st.st_size, size);
    else
        rc = hub_respond(r, MHD_HTTP_OK, LFS_MEDIA_TYPE, "{}", 2);
    hf_buf_free(&path);
    free(oid);
    return rc;
}

static void verify_free(hub_req *r)
{
    verify_req *v = r->state;
    hub_repo_clear(&v->repo);
    free(v);
    r->state = NULL;
}

int lfs_route_verify(hub_req *r, const char *tail)
{
    atomic_fetch_add(&r->h->stats.requests_verify, 1);
    if (strcmp(r->method, MHD_HTTP_METHOD_POST) != 0)
        return hub_refuse(r, MHD_HTTP_METHOD_NOT_ALLOWED, "verify takes POST");
    /* A Hub endpoint, not an object store: huggingface_hub sends its Bearer token here, git-lfs sends none
     * ("authenticated": true). The signature is what authorises it. */
    int64_t signed_size;
    if (lfs_check_signed(r, 1, &signed_size)) return 1;
    verify_req *v = calloc(1, sizeof(*v));
    if (!v) return hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    /* "<repo>", or on S3 storage "<repo>/b<staging id>" for a basic upload made straight to the store */
    if (parse_repo_tail(r, tail, &v->repo) ||
        (v->repo.rest[0] &&
         (!r->h->s3 || strlen(v->repo.rest) != LFS_UPLOAD_ID_LEN + 2 || v->repo.rest[1] != 'b' ||
          strspn(v->repo.rest + 2, "0123456789abcdef") != LFS_UPLOAD_ID_LEN))) {
        hub_repo_clear(&v->repo);
        free(v);
        return hub_refuse(r, MHD_HTTP_NOT_FOUND, "no such verify URL");
    }
    if (v->repo.rest[0]) memcpy(v->staged, v->repo.rest + 1, LFS_UPLOAD_ID_LEN + 2);
    r->state = v;
    r->on_free = verify_free;
    r->on_done = verify_done;
    return 1;
}
