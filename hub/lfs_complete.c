/*
 * lfs_complete.c: POST /__complete/<repo>/<upload id>?exp&sig, the Hub's multipart completion.
 *
 * Body: {"oid":"<sha256>","parts":[{"partNumber":1,"etag":"\"<md5>\""},...]} (application/json from the
 * reference agent, the git-lfs type from huggingface_hub's HTTP path), parsed and checked for shape by
 * hub_complete_parse (lfs_parse.c). Before the object appears: the oid is the upload's, part numbers are 1..N
 * exactly once and in order, each ETag is the one the part PUT answered (quotes included), every part is there
 * with its exact size, and the SHA-256 of the concatenation is the oid. The parts are concatenated into
 * <root>/tmp while hashing and renamed into the object path only on a match, so a refused completion leaves no
 * object. A completion for an object the repo already has answers 200 (a retry after a lost answer finds the
 * upload dir gone but the object there; a retry racing the first try waits for it on the upload's lock).
 */
#include "lfs.h"
#include "lfs_parse.h"
#include "s3.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMPLETE_BODY_LIMIT (4u << 20) /* 10,000 parts of ~80 bytes, with room */
#define COPY_BLOCK (1u << 20)

typedef struct complete_req {
    hub_repo repo;
    char id[LFS_UPLOAD_ID_LEN + 1];
} complete_req;

/* size: UINT64_MAX for any size */
static int object_stored(const char *git_dir, const char *oid, uint64_t size)
{
    hf_buf p = HF_BUF_INIT;
    struct stat st;
    int ok = lfs_object_path(git_dir, oid, &p) == 0 && stat(p.ptr, &st) == 0 &&
             (size == UINT64_MAX || (uint64_t)st.st_size == size);
    hf_buf_free(&p);
    return ok;
}

/* Reads the ETag stored for part n ("" when there is none). */
static void stored_etag(hub *h, const char *id, int n, char *out, size_t osz)
{
    hf_buf path = HF_BUF_INIT;
    FILE *f = hf_buf_printf(&path, "%s/uploads/%s/%d.etag", h->root, id, n) ? NULL : fopen(path.ptr, "r");
    out[0] = '\0';
    if (f) {
        if (!fgets(out, (int)osz, f)) out[0] = '\0';
        fclose(f);
    }
    hf_buf_free(&path);
}

/* Checks part p (its number and ETag string were checked by hub_complete_parse) against what the part PUT
 * stored; 0, or an HTTP status with msg filled. */
static unsigned check_part(hub *h, const char *id, const lfs_upload_meta *m, const hub_complete_part *p,
                           char *msg, size_t msz)
{
    int n = (int)p->number;
    hf_buf path = HF_BUF_INIT;
    struct stat st;
    int present = hf_buf_printf(&path, "%s/uploads/%s/%d", h->root, id, n) == 0 && stat(path.ptr, &st) == 0;
    hf_buf_free(&path);
    if (!present) {
        snprintf(msg, msz, "part %d missing: it was never uploaded", n);
        return MHD_HTTP_BAD_REQUEST;
    }
    uint64_t want = lfs_upload_part_size(m, (uint64_t)n);
    if ((uint64_t)st.st_size != want) {
        snprintf(msg, msz, "part %d has %lld bytes, expected %" PRIu64, n, (long long)st.st_size, want);
        return MHD_HTTP_BAD_REQUEST;
    }
    char stored[128];
    stored_etag(h, id, n, stored, sizeof(stored));
    if (!stored[0] || strcmp(p->etag, stored) != 0) {
        snprintf(msg, msz, "ETag for part %d does not match: got %.80s, the part was stored with %s", n,
                 p->etag, stored[0] ? stored : "(none)");
        return MHD_HTTP_BAD_REQUEST;
    }
    return 0;
}

/* Checks the part list (1..count, in order: hub_complete_parse) against the upload; 0, or an HTTP status with
 * msg filled. */
static unsigned check_parts(hub *h, const char *id, const lfs_upload_meta *m, const hub_complete_request *q,
                            char *msg, size_t msz)
{
    for (size_t i = 0; i < q->count && i < m->parts; i++) {
        unsigned status = check_part(h, id, m, &q->parts[i], msg, msz);
        if (status) return status;
    }
    if ((uint64_t)q->count < m->parts) {
        snprintf(msg, msz, "part %zu missing from the completion (%zu of %" PRIu64 " parts listed)",
                 q->count + 1, q->count, m->parts);
        return MHD_HTTP_BAD_REQUEST;
    }
    if ((uint64_t)q->count > m->parts) {
        snprintf(msg, msz, "%zu parts listed, the upload has %" PRIu64, q->count, m->parts);
        return MHD_HTTP_BAD_REQUEST;
    }
    return 0;
}

/* Concatenates the parts into a temp file, hashing; publishes it when the hash is the oid. */
static unsigned assemble(hub *h, const char *id, const lfs_upload_meta *m, char *msg, size_t msz)
{
    lfs_sink s;
    hf_buf tmpdir = HF_BUF_INIT, path = HF_BUF_INIT;
    char *block = malloc(COPY_BLOCK);
    unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    char hex[HF_SHA256_HEX_LEN + 1];
    memset(&s, 0, sizeof(s));
    s.fd = -1;
    if (!block || hf_buf_printf(&tmpdir, "%s/tmp", h->root) ||
        lfs_sink_open(&s, tmpdir.ptr, HF_DIGEST_SHA256, m->size)) {
        snprintf(msg, msz, "cannot create a temp file: %s", strerror(errno));
        goto out;
    }
    for (uint64_t n = 1; n <= m->parts; n++) {
        hf_buf_clear(&path);
        int fd = hf_buf_printf(&path, "%s/uploads/%s/%" PRIu64, h->root, id, n)
                     ? -1
                     : open(path.ptr, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(msg, msz, "part %" PRIu64 " missing: %s", n, strerror(errno));
            status = MHD_HTTP_BAD_REQUEST;
            goto out;
        }
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        ssize_t got;
        while ((got = read(fd, block, COPY_BLOCK)) > 0)
            lfs_sink_put(&s, block, (size_t)got);
        close(fd);
        if (got < 0 || s.io_error) {
            int err = s.io_error ? s.io_error : errno;
            const char *full = "InsufficientStorage: the server is out of storage space; ";
            snprintf(msg, msz, "%sassembling part %" PRIu64 ": %s", lfs_out_of_space(err) ? full : "", n,
                     strerror(err));
            if (lfs_out_of_space(err)) {
                atomic_fetch_add(&h->stats.disk_full, 1);
                status = MHD_HTTP_INSUFFICIENT_STORAGE;
            }
            goto out;
        }
    }
    if (lfs_sink_finish(&s, hex)) {
        snprintf(msg, msz, "assembling the object: %s", strerror(errno));
        goto out;
    }
    if (s.received != m->size || s.overflow) {
        snprintf(msg, msz, "assembled %" PRIu64 " bytes, expected %" PRIu64, s.received, m->size);
        status = MHD_HTTP_BAD_REQUEST;
        goto out;
    }
    if (strcmp(hex, m->oid) != 0) {
        snprintf(msg, msz, "SHA-256 mismatch: got %s expected %s", hex, m->oid);
        status = MHD_HTTP_UNPROCESSABLE_CONTENT;
        goto out;
    }
    hf_buf_clear(&path);
    if (lfs_object_path(m->git_dir, m->oid, &path) || lfs_sink_commit(&s, path.ptr)) {
        snprintf(msg, msz, "storing the object: %s", strerror(errno));
        goto out;
    }
    status = 0;
out:
    lfs_sink_discard(&s);
    free(block);
    hf_buf_free(&tmpdir);
    hf_buf_free(&path);
    return status;
}

static unsigned say(char *msg, size_t msz, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static unsigned say(char *msg, size_t msz, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msz, fmt, ap);
    va_end(ap);
    return status;
}

/* Writes what tells the repo it has the object: the key in <git_dir>/lfs/s3/<oid>, then a sparse file of
 * the object's size at the object path (what the batch API, verify and pre-receive look at), each by
 * rename. */
int lfs_s3_publish(hub *h, const lfs_upload_meta *m, const char *key)
{
    hf_buf side = HF_BUF_INIT, obj = HF_BUF_INIT, tmp = HF_BUF_INIT;
    int rc = -1, fd = -1;
    if (hf_buf_printf(&side, "%s/lfs/s3/%s", m->git_dir, m->oid) || hf_mkdir_parents(side.ptr, 0777) ||
        hf_buf_printf(&tmp, "%s/tmp/.s3marker.XXXXXX", h->root) || (fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0)
        goto out;
    size_t klen = strlen(key);
    int bad = write(fd, key, klen) != (ssize_t)klen || write(fd, "\n", 1) != 1;
    if (close(fd) || bad || rename(tmp.ptr, side.ptr)) goto out;
    fd = -1;
    hf_buf_clear(&tmp);
    if (hf_buf_printf(&tmp, "%s/tmp/.s3marker.XXXXXX", h->root) || (fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0)
        goto out;
    bad = ftruncate(fd, (off_t)m->size) != 0;
    bad |= close(fd) != 0;
    fd = -1;
    if (bad || lfs_object_path(m->git_dir, m->oid, &obj) || hf_mkdir_parents(obj.ptr, 0777) ||
        rename(tmp.ptr, obj.ptr))
        goto out;
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (rc && tmp.ptr) unlink(tmp.ptr);
    hf_buf_free(&side);
    hf_buf_free(&obj);
    hf_buf_free(&tmp);
    return rc;
}

/* S3 storage: CompleteMultipartUpload with the client's ETags (the store checks them against the parts),
 * then the object is read back and hashed; a match is published, anything else is deleted from the store. */
static unsigned complete_in_store(hub *h, const char *id, const lfs_upload_meta *m,
                                  const hub_complete_request *q, char *msg, size_t msz, int *consumed)
{
    hf_buf key = HF_BUF_INIT, err = HF_BUF_INIT;
    const char **etags = calloc(q->count + 1, sizeof(*etags));
    char hex[HF_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    unsigned status = 0;
    if (!etags || s3_staging_key(h->s3, id, &key)) {
        status = say(msg, msz, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    if ((uint64_t)q->count != m->parts) {
        status = say(msg, msz, MHD_HTTP_BAD_REQUEST, "%zu parts listed, the upload has %" PRIu64, q->count,
                     m->parts);
        goto out;
    }
    for (size_t i = 0; i < q->count; i++)
        etags[i] = q->parts[i].etag;
    if ((status = s3_multipart_complete(h->s3, key.ptr, m->s3_upload, etags, q->count, &err))) {
        say(msg, msz, status, "%s", hf_buf_cstr(&err));
        goto out;
    }
    *consumed = 1; /* the store's upload is an object now: whatever follows, this upload cannot go on */
    if (s3_object_sha256(h->s3, key.ptr, hex, &size, &err)) {
        /* unchecked, so never published; and the upload record goes, so nothing else would ever remove it:
         * delete it now rather than orphan up to 50 GB in staging/ */
        s3_delete(h->s3, key.ptr);
        status = say(msg, msz, MHD_HTTP_BAD_GATEWAY, "%s", hf_buf_cstr(&err));
        goto out;
    }
    if (size != m->size || strcmp(hex, m->oid) != 0) {
        s3_delete(h->s3, key.ptr); /* never visible: a bad object is not kept */
        status = say(msg, msz, MHD_HTTP_UNPROCESSABLE_CONTENT,
                     "SHA-256 mismatch: got %s (%" PRIu64 " bytes) expected %s", hex, size, m->oid);
        goto out;
    }
    if (lfs_s3_publish(h, m, key.ptr)) {
        s3_delete(h->s3, key.ptr); /* not visible without its placeholder: same orphan otherwise */
        status = say(msg, msz, MHD_HTTP_INTERNAL_SERVER_ERROR, "recording the object: %s", strerror(errno));
    }
out:
    free(etags);
    hf_buf_free(&key);
    hf_buf_free(&err);
    return status;
}

/* The completion's checks, in the order they run; the first that refuses gives the answer (0: 200). The
 * upload stays locked from the moment it is read, so a concurrent completion (a client retrying after a
 * dropped connection) waits for this one and then finds the object stored, and no part changes under the
 * assembly. */
static unsigned complete_upload(hub *h, const complete_req *c, const hub_complete_request *q, char *msg,
                                size_t msz)
{
    lfs_upload_meta m;
    unsigned status = 0;
    int consumed = 0;
    int lock = lfs_upload_lock(h, c->id);
    /* 1. Gone: completed by an earlier try (answered as that try was), or never made. */
    if (lock < 0 || lfs_upload_read(h, c->id, &m)) {
        lfs_upload_unlock(lock);
        if (object_stored(c->repo.git_dir, q->oid, UINT64_MAX)) return 0;
        return say(msg, msz, MHD_HTTP_NOT_FOUND, "NoSuchUpload: upload %s does not exist", c->id);
    }
    /* 2. Another repository's upload: the signed URL names the repo, the meta must agree. */
    if (strcmp(m.git_dir, c->repo.git_dir) != 0)
        status = say(msg, msz, MHD_HTTP_NOT_FOUND, "NoSuchUpload: upload %s belongs to another repository",
                     c->id);
    /* 3. Another object. */
    else if (strcmp(q->oid, m.oid) != 0)
        status = say(msg, msz, MHD_HTTP_UNPROCESSABLE_CONTENT, "oid %s is not this upload's (%s)", q->oid,
                     m.oid);
    /* 4-6 on S3 storage: the store assembles the parts; the hub checks what it made. */
    else if (h->s3 && !object_stored(m.git_dir, m.oid, m.size))
        status = complete_in_store(h, c->id, &m, q, msg, msz, &consumed);
    /* 4. Unless the object is stored already (uploaded again while this upload was open): */
    else if (!object_stored(m.git_dir, m.oid, m.size)) {
        /* 5. the parts listed are the parts stored (numbers, sizes, ETags), */
        status = check_parts(h, c->id, &m, q, msg, msz);
        /* 6. and their concatenation has the oid's SHA-256: then the object appears. */
        if (!status) status = assemble(h, c->id, &m, msg, msz);
    }
    /* Stored, now or before: the upload has served its purpose (so has one the store completed, even with
     * bytes that were refused: a new batch opens a new one). */
    if (!status || consumed) lfs_upload_remove(h, c->id, &m);
    lfs_upload_unlock(lock);
    lfs_upload_meta_clear(&m);
    return status;
}

static enum MHD_Result complete_done(hub_req *r)
{
    complete_req *c = r->state;
    hub *h = r->h;
    char msg[512] = "";
    hub_complete_request q;
    hf_buf err = HF_BUF_INIT;
    unsigned status = hub_complete_parse(hf_buf_cstr(&r->body), r->body.len, &q, &err);
    if (status)
        snprintf(msg, sizeof(msg), "%s", hf_buf_cstr(&err));
    else
        status = complete_upload(h, c, &q, msg, sizeof(msg));
    enum MHD_Result res;
    if (status) {
        atomic_fetch_add(&h->stats.completions_refused, 1);
        res = hub_respond_error(r, status, "%s", msg);
    } else {
        atomic_fetch_add(&h->stats.completions_ok, 1);
        hf_buf out = HF_BUF_INIT;
        hf_buf_printf(&out, "{\"oid\":\"%s\"}", q.oid);
        res = hub_respond_json(r, MHD_HTTP_OK, &out);
        hf_buf_free(&out);
    }
    hub_complete_request_free(&q);
    hf_buf_free(&err);
    return res;
}

static void complete_free(hub_req *r)
{
    complete_req *c = r->state;
    hub_repo_clear(&c->repo);
    free(c);
    r->state = NULL;
}

int lfs_route_complete(hub_req *r, const char *tail)
{
    hub *h = r->h;
    atomic_fetch_add(&h->stats.requests_complete, 1);
    int refused = 1;
    int64_t signed_size;
    if (strcmp(r->method, MHD_HTTP_METHOD_POST) != 0)
        hub_refuse(r, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed: completion takes POST");
    else if (lfs_check_signed(r, 0, &signed_size))
        ;
    else
        refused = 0;
    if (refused) {
        atomic_fetch_add(&h->stats.completions_refused, 1);
        return 1;
    }
    complete_req *c = calloc(1, sizeof(*c));
    hf_buf p = HF_BUF_INIT;
    const char *id = strrchr(tail, '/');
    if (!c || !id || strlen(id + 1) != LFS_UPLOAD_ID_LEN || hf_buf_printf(&p, "/%s", tail) ||
        hub_repo_parse(h, p.ptr, &c->repo) || strcmp(c->repo.rest, id) != 0 || !hub_repo_exists(&c->repo)) {
        if (c) hub_repo_clear(&c->repo);
        free(c);
        hf_buf_free(&p);
        atomic_fetch_add(&h->stats.completions_refused, 1);
        return hub_refuse(r, MHD_HTTP_NOT_FOUND, "no such completion URL");
    }
    c->repo.rest = NULL; /* pointed into p */
    hf_buf_free(&p);
    memcpy(c->id, id + 1, LFS_UPLOAD_ID_LEN + 1);
    pthread_mutex_lock(&h->knobs_lock);
    int fail = h->knobs.fail_complete_times > 0;
    if (fail) h->knobs.fail_complete_times--;
    pthread_mutex_unlock(&h->knobs_lock);
    if (fail) {
        hub_repo_clear(&c->repo);
        free(c);
        fprintf(stderr, "hfgit-hub: knob: failing a completion with 500\n");
        atomic_fetch_add(&h->stats.completions_refused, 1);
        return hub_refuse(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "InternalError: injected completion failure (knob)");
    }
    r->state = c;
    r->on_free = complete_free;
    r->on_done = complete_done;
    r->body_limit = COMPLETE_BODY_LIMIT;
    return 1;
}
