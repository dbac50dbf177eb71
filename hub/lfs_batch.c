/*
 * lfs_batch.c: POST <repo>[.git]/info/lfs/objects/batch (reference/git-lfs-3.3.0.md §7, design.md §3).
 *
 * The answer must decode with git-lfs 3.3.0's Go structs: header values are strings (chunk_size too),
 * expires_in is an integer, actions hold objects only (never arrays), and the Content-Type is the git-lfs
 * one.
 *
 * Upload, per object: already stored -> no actions; below the repo's threshold -> a basic PUT action plus
 * verify; at or above it -> Hub-style multipart (upload.href = completion URL, upload.header = part URLs
 * under "00001".. plus "chunk_size") when the client advertised "multipart", else a 422 object error telling
 * the user to run `hfgit lfs-enable-largefiles`. git-lfs picks one adapter per batch *response*, so when any
 * object goes multipart the whole answer says "multipart": the agent treats an action without chunk_size as
 * one plain PUT (design.md §2), which makes mixed batches work.
 * Download: a signed GET per object, or a 404 object error. Every action is signed and the objects say
 * "authenticated": true, so git-lfs sends no credentials to them.
 */
#include "lfs.h"
#include "lfs_parse.h"
#include "s3.h"

#include "../common/error.h"
#include "../common/json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum kind { K_ERROR, K_STORED, K_BASIC, K_MULTIPART, K_DOWNLOAD };

typedef struct item {
    const char *oid; /* as sent (may be invalid or NULL; echoed back in errors): the parsed object's */
    int64_t size;
    enum kind kind;
    int code;
    char msg[512];
} item;

typedef struct batch {
    hub_repo repo;
} batch;

static void item_error(item *it, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void item_error(item *it, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
    va_end(ap);
    it->kind = K_ERROR;
    it->code = code;
}

/* Decides what one object needs; its oid and size were checked by hub_batch_parse. */
static void classify(hub *h, const hub_repo *repo, item *it, int upload, int multipart_ok, uint64_t threshold)
{
    hf_buf path = HF_BUF_INIT;
    struct stat st;
    int stored = lfs_object_path(repo->git_dir, it->oid, &path) == 0 && stat(path.ptr, &st) == 0;
    hf_buf_free(&path);
    if (!upload) {
        if (stored)
            it->kind = K_DOWNLOAD;
        else
            item_error(it, 404, "Object %s does not exist", it->oid);
        return;
    }
    if (stored && (uint64_t)st.st_size == (uint64_t)it->size) {
        it->kind = K_STORED;
        return;
    }
    if (stored) {
        item_error(it, 422, "Object %s is stored with %lld bytes, not %" PRId64, it->oid,
                   (long long)st.st_size, it->size);
        return;
    }
    if ((uint64_t)it->size > LFS_MAX_OBJECT_SIZE) {
        item_error(it, 422, "Object %s is %" PRId64 " bytes: over the 50 GB limit per LFS file", it->oid,
                   it->size);
        return;
    }
    if ((uint64_t)it->size < threshold || it->size == 0) {
        it->kind = K_BASIC;
        return;
    }
    if (!multipart_ok) {
        item_error(it, 422,
                   "Object %s is %" PRId64
                   " bytes, at or above this repository's multipart threshold (%" PRIu64
                   " bytes): files this large must be uploaded in parts by the multipart transfer agent. Run "
                   "`hfgit lfs-enable-largefiles <repo dir>` in your clone, then push again.",
                   it->oid, it->size, threshold);
        return;
    }
    it->kind = K_MULTIPART;
}

/* Lifetimes: object and part URLs are store URLs and live --url-lifetime seconds; the completion and verify
 * URLs are the Hub's own and live as long as an open upload may (--upload-max-age), so a client whose part
 * URLs expired re-batches for fresh ones (the same upload) and still completes. The expires_in of an action
 * is its href's: git-lfs 3.3.0 re-batches an action that expires within 5 s before it reaches the agent, so a
 * multipart action advertises the completion's lifetime, never the parts'. */
typedef struct lifetimes {
    long store, hub;
} lifetimes;

static int signed_action(hf_jw *w, hub *h, const char *name, const char *method, const char *path,
                         int64_t size, long life, int header)
{
    hf_buf url = HF_BUF_INIT;
    if (hub_sign_url(h, method, path, size, life, &url)) return -1;
    hf_jw_key(w, name);
    hf_jw_obj_begin(w);
    hf_jw_kstr(w, "href", url.ptr);
    if (header) {
        hf_jw_key(w, "header");
        hf_jw_obj_begin(w);
        hf_jw_obj_end(w);
    }
    hf_jw_kint(w, "expires_in", life);
    hf_jw_obj_end(w);
    hf_buf_free(&url);
    return 0;
}

/* The multipart upload action: the object's open upload (or a new one), freshly signed part URLs and the
 * completion URL. */
static int multipart_action(hf_jw *w, hub *h, const hub_repo *repo, const char *repo_path, const item *it,
                            const lifetimes *life, hf_buf *err)
{
    lfs_upload_meta m = {0};
    char id[LFS_UPLOAD_ID_LEN + 1];
    int reused;
    m.git_dir = repo->git_dir;
    /* Only classify() makes K_MULTIPART items, from objects whose oid hub_batch_parse checked (64 hex). The
     * analyzer loses that: item_error's vsnprintf into it->msg makes it forget every field of *it. */
    memcpy(m.oid, it->oid, 65); // NOLINT(clang-analyzer-core.NonNullParamChecker): oid checked, see above
    m.size = (uint64_t)it->size;
    m.chunk = lfs_part_size(h, m.size);
    m.parts = (m.size + m.chunk - 1) / m.chunk;
    if (lfs_upload_open(h, &m, id, &reused)) {
        hf_buf_printf(err, "cannot create the upload for %s", it->oid);
        return -1;
    }
    hf_buf path = HF_BUF_INIT, url = HF_BUF_INIT;
    int rc = hf_buf_printf(&path, "/__complete/%s/%s", repo_path, id) ||
             hub_sign_url(h, "POST", path.ptr, -1, life->hub, &url);
    if (rc) goto out;
    hf_jw_key(w, "upload");
    hf_jw_obj_begin(w);
    hf_jw_kstr(w, "href", url.ptr);
    hf_jw_key(w, "header");
    hf_jw_obj_begin(w);
    lfs_upload_meta open = {0};
    hf_buf s3key = HF_BUF_INIT;
    if (h->s3) /* the store's upload id and key: part URLs are the store's presigned UploadPart */
        rc = lfs_upload_read(h, id, &open) || !open.s3_upload[0] || s3_staging_key(h->s3, id, &s3key);
    for (uint64_t n = 1; n <= m.parts && !rc; n++) {
        char key[16];
        int64_t psize = (int64_t)lfs_upload_part_size(&m, n);
        snprintf(key, sizeof(key), "%05" PRIu64, n);
        hf_buf_clear(&path);
        hf_buf_clear(&url);
        if (h->s3) {
            hf_buf q = HF_BUF_INIT;
            hf_buf_printf(&q, "partNumber=%" PRIu64 "&uploadId=", n);
            s3_query_escape(&q, open.s3_upload);
            rc = s3_presign(h->s3, "PUT", s3key.ptr, hf_buf_cstr(&q), psize, life->store, &url);
            hf_buf_free(&q);
        } else {
            rc = hf_buf_printf(&path, "/__part/%s/%" PRIu64, id, n) ||
                 hub_sign_url(h, "PUT", path.ptr, psize, life->store, &url);
        }
        if (!rc) hf_jw_kstr(w, key, url.ptr);
    }
    lfs_upload_meta_clear(&open);
    hf_buf_free(&s3key);
    char chunk[24];
    snprintf(chunk, sizeof(chunk), "%" PRIu64, m.chunk);
    hf_jw_kstr(w, "chunk_size", chunk); /* a string: git-lfs's header is map[string]string */
    hf_jw_obj_end(w);
    hf_jw_kint(w, "expires_in", life->hub);
    hf_jw_obj_end(w);
out:
    hf_buf_free(&path);
    hf_buf_free(&url);
    return rc ? -1 : 0;
}

/* S3 storage: a download straight from the store (a presigned GET; Range works as on the store). */
static int store_download(hf_jw *w, const s3_config *s3, const char *key, long life)
{
    hf_buf url = HF_BUF_INIT;
    if (s3_presign(s3, "GET", key, NULL, -1, life, &url)) return -1;
    hf_jw_key(w, "download");
    hf_jw_obj_begin(w);
    hf_jw_kstr(w, "href", url.ptr);
    hf_jw_kint(w, "expires_in", life);
    hf_jw_obj_end(w);
    hf_buf_free(&url);
    return 0;
}

/* S3 storage: a basic upload straight to the store, under a staging key of its own; the verify URL names it
 * ("/__verify/<repo>/b<id>"), and the verify is where the hub checks the bytes and makes the object visible.
 */
static int store_upload(hf_jw *w, hub *h, const char *rpath, const item *it, const lifetimes *life,
                        hf_buf *ver)
{
    unsigned char raw[LFS_UPLOAD_ID_LEN / 2];
    char id[LFS_UPLOAD_ID_LEN + 2] = "b";
    hf_buf key = HF_BUF_INIT, url = HF_BUF_INIT;
    if (hf_random_bytes(raw, sizeof(raw))) return -1;
    hf_hex_encode(raw, sizeof(raw), id + 1);
    int rc = s3_staging_key(h->s3, id, &key) ||
             s3_presign(h->s3, "PUT", key.ptr, NULL, it->size, life->store, &url);
    if (!rc) {
        hf_jw_key(w, "upload");
        hf_jw_obj_begin(w);
        hf_jw_kstr(w, "href", url.ptr);
        hf_jw_key(w, "header");
        hf_jw_obj_begin(w);
        hf_jw_obj_end(w);
        hf_jw_kint(w, "expires_in", life->store);
        hf_jw_obj_end(w);
        hf_buf_clear(ver);
        rc = hf_buf_printf(ver, "/__verify/%s/%s", rpath, id);
    }
    hf_buf_free(&key);
    hf_buf_free(&url);
    return rc ? -1 : 0;
}

/* "ns/name", "datasets/ns/name", "spaces/ns/name" */
static int repo_path(const hub_repo *repo, hf_buf *out)
{
    if (strcmp(repo->type, "models") == 0) return hf_buf_printf(out, "%s/%s", repo->ns, repo->name);
    return hf_buf_printf(out, "%s/%s/%s", repo->type, repo->ns, repo->name);
}

static int write_object(hf_jw *w, hub *h, const hub_repo *repo, const char *rpath, const item *it,
                        const lifetimes *life, hf_buf *err)
{
    hf_jw_obj_begin(w);
    hf_jw_kstr(w, "oid", it->oid ? it->oid : "");
    hf_jw_kint(w, "size", it->size);
    int rc = 0;
    if (it->kind == K_ERROR) {
        hf_jw_key(w, "error");
        hf_jw_obj_begin(w);
        hf_jw_kint(w, "code", it->code);
        hf_jw_kstr(w, "message", it->msg);
        hf_jw_obj_end(w);
    } else if (it->kind != K_STORED) {
        hf_buf obj = HF_BUF_INIT, ver = HF_BUF_INIT;
        hf_jw_kbool(w, "authenticated", 1);
        hf_jw_key(w, "actions");
        hf_jw_obj_begin(w);
        rc = hf_buf_printf(&obj, "/__object/%s/%s", rpath, it->oid) ||
             hf_buf_printf(&ver, "/__verify/%s", rpath);
        hf_buf key = HF_BUF_INIT;
        if (!rc && it->kind == K_DOWNLOAD && h->s3 && lfs_s3_key(repo->git_dir, it->oid, &key) == 0)
            rc = store_download(w, h->s3, key.ptr, life->store);
        else if (!rc && it->kind == K_DOWNLOAD)
            rc = signed_action(w, h, "download", "GET", obj.ptr, -1, life->store, 0);
        else if (!rc && it->kind == K_BASIC && h->s3)
            rc = store_upload(w, h, rpath, it, life, &ver);
        else if (!rc && it->kind == K_BASIC)
            rc = signed_action(w, h, "upload", "PUT", obj.ptr, it->size, life->store, 1);
        else if (!rc)
            rc = multipart_action(w, h, repo, rpath, it, life, err);
        if (!rc && it->kind != K_DOWNLOAD)
            rc = signed_action(w, h, "verify", "POST", ver.ptr, -1, life->hub, 0);
        hf_buf_free(&key);
        hf_jw_obj_end(w);
        hf_buf_free(&obj);
        hf_buf_free(&ver);
    }
    hf_jw_obj_end(w);
    return rc;
}

static enum MHD_Result batch_done(hub_req *r)
{
    batch *b = r->state;
    hub *h = r->h;
    hub_batch_request q;
    hf_buf out = HF_BUF_INIT, err = HF_BUF_INIT, rpath = HF_BUF_INIT;
    unsigned refused = hub_batch_parse(hf_buf_cstr(&r->body), r->body.len, &q, &err);
    enum MHD_Result res;
    item *items = NULL;
    size_t n = q.count;
    int upload = q.operation == HUB_LFS_OP_UPLOAD;
    /* Not JSON or no operation: refused before authorization, the rest of the body after it. */
    if (refused && q.operation == HUB_LFS_OP_NONE) {
        res = hub_respond_error(r, refused, "%s", hf_buf_cstr(&err));
        goto out;
    }
    if (upload && !hub_authorized(r)) {
        res = hub_respond_unauthorized(r, "Authorization error: uploading needs a token with write access");
        goto out;
    }
    unsigned unreadable = hub_read_refusal(r, &b->repo);
    if (unreadable == MHD_HTTP_UNAUTHORIZED) {
        res = hub_respond_unauthorized(r, "Repository not found (or private: it needs the hub token)");
        goto out;
    }
    if (unreadable) {
        res = hub_respond_error(r, MHD_HTTP_NOT_FOUND, "Repository not found");
        goto out;
    }
    if (refused) {
        res = hub_respond_error(r, refused, "%s", hf_buf_cstr(&err));
        goto out;
    }
    items = calloc(n + 1, sizeof(*items));
    if (!items || repo_path(&b->repo, &rpath)) {
        res = hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    int any_multipart = 0;
    uint64_t threshold = lfs_repo_threshold(h, b->repo.git_dir);
    for (size_t i = 0; i < n; i++) {
        const hub_batch_object *o = &q.objects[i];
        items[i].oid = o->oid;
        items[i].size = o->size;
        if (o->code)
            item_error(&items[i], (int)o->code, "%s", o->msg);
        else
            classify(h, &b->repo, &items[i], upload, q.multipart, threshold);
        any_multipart |= items[i].kind == K_MULTIPART;
    }
    lifetimes life = {0, h->upload_max_age_secs};
    pthread_mutex_lock(&h->knobs_lock);
    life.store = h->knobs.url_lifetime_secs;
    pthread_mutex_unlock(&h->knobs_lock);
    hf_jw w;
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "transfer", any_multipart ? "multipart" : "basic");
    hf_jw_key(&w, "objects");
    hf_jw_arr_begin(&w);
    int rc = 0;
    hf_buf_clear(&err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_object(&w, h, &b->repo, rpath.ptr, &items[i], &life, &err);
    hf_jw_arr_end(&w);
    hf_jw_kstr(&w, "hash_algo", "sha256");
    hf_jw_obj_end(&w);
    if (rc || w.error)
        res = hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "batch: %s",
                                err.len ? err.ptr : "out of memory");
    else
        res = hub_respond_json(r, MHD_HTTP_OK, &out);
out:
    free(items);
    hf_buf_free(&out);
    hf_buf_free(&err);
    hf_buf_free(&rpath);
    hub_batch_request_free(&q);
    return res;
}

static void batch_free(hub_req *r)
{
    batch *b = r->state;
    hub_repo_clear(&b->repo);
    free(b);
    r->state = NULL;
}

static int json_type(const char *ct)
{
    static const char *const ok[] = {LFS_MEDIA_TYPE, "application/json"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ')) return 1;
    }
    return 0;
}

int lfs_route_batch(hub_req *r, hub_repo *repo)
{
    atomic_fetch_add(&r->h->stats.requests_batch, 1);
    const char *ct = hub_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (strcmp(r->method, MHD_HTTP_METHOD_POST) != 0) {
        hub_repo_clear(repo);
        return hub_refuse(r, MHD_HTTP_METHOD_NOT_ALLOWED, "the batch API takes POST");
    }
    if (ct && !json_type(ct)) {
        hub_repo_clear(repo);
        return hub_refuse(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be %s (or application/json)",
                          LFS_MEDIA_TYPE);
    }
    batch *b = calloc(1, sizeof(*b));
    if (!b) {
        hub_repo_clear(repo);
        return hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    b->repo = *repo;
    r->state = b;
    r->on_free = batch_free;
    r->on_done = batch_done;
    return 1;
}
