/*
 * lfs_multipart.c: Hub-style multipart uploads, the S3 side: the upload's meta file and the part PUTs.
 *
 *   <root>/uploads/<id>/meta        written when the batch answers: git_dir, oid, size, chunk, parts
 *   <root>/uploads/<id>/<n>         part n, renamed into place once its body is complete
 *   <root>/uploads/<id>/<n>.etag    its ETag: the quoted MD5 of the part, as S3 answers it
 *
 * PUT /__part/<id>/<n>?exp&sig behaves like an S3 presigned UploadPart: no Authorization header, a
 * Content-Length equal to the part's size (every part is chunk bytes but the last), ETag in the answer.
 * Knobs: fail part N K times (500), drop part N K times (connection closed after about half its bytes).
 */
#include "lfs.h"
#include "s3.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- meta ---- */

uint64_t lfs_part_size(const hub *h, uint64_t size)
{
    uint64_t c = h->chunk_size ? h->chunk_size : (512ull << 20);
    if (c > LFS_MAX_PART_SIZE) c = LFS_MAX_PART_SIZE;
    /* S3 refuses a completion with a smaller part but the last (EntityTooSmall; s3rver does not check, AWS,
     * radosgw and MinIO do), after the client sent every part: hand out no smaller parts on S3 storage. */
    if (h->s3 && c < LFS_S3_MIN_PART_SIZE) c = LFS_S3_MIN_PART_SIZE;
    if (size / c + (size % c != 0) > LFS_MAX_PARTS) {
        /* More parts than S3 allows: grow the part to the next MiB that fits. */
        c = size / LFS_MAX_PARTS + 1;
        c = (c + (1u << 20) - 1) & ~((uint64_t)(1u << 20) - 1);
    }
    return c;
}

uint64_t lfs_upload_part_size(const lfs_upload_meta *m, uint64_t n)
{
    if (n < 1 || n > m->parts) return 0;
    return n < m->parts ? m->chunk : m->size - m->chunk * (m->parts - 1);
}

static int id_ok(const char *id, size_t len)
{
    if (len != LFS_UPLOAD_ID_LEN) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

int lfs_upload_create(hub *h, const lfs_upload_meta *m, char *id)
{
    unsigned char raw[LFS_UPLOAD_ID_LEN / 2];
    if (hf_random_bytes(raw, sizeof(raw))) return -1;
    hf_hex_encode(raw, sizeof(raw), id);
    hf_buf dir = HF_BUF_INIT, tmp = HF_BUF_INIT, dst = HF_BUF_INIT, key = HF_BUF_INIT, msg = HF_BUF_INIT;
    int rc = -1;
    char s3id[sizeof(m->s3_upload)] = "";
    /* S3 storage: the parts go to the store's own multipart upload, opened now under the upload's key. */
    if (h->s3 &&
        (s3_staging_key(h->s3, id, &key) || s3_multipart_create(h->s3, key.ptr, s3id, sizeof(s3id), &msg))) {
        fprintf(stderr, "hfgit-hub: cannot open a multipart upload in the store: %s\n", hf_buf_cstr(&msg));
        goto out;
    }
    if (hf_buf_printf(&dir, "%s/uploads/%s", h->root, id) || mkdir(dir.ptr, 0777) ||
        hf_buf_printf(&tmp, "%s/meta.tmp", dir.ptr) || hf_buf_printf(&dst, "%s/meta", dir.ptr))
        goto out;
    FILE *f = fopen(tmp.ptr, "w");
    if (!f) goto out;
    fprintf(f, "oid %s\nsize %" PRIu64 "\nchunk %" PRIu64 "\nparts %" PRIu64 "\ngit_dir %s\n", m->oid,
            m->size, m->chunk, m->parts, m->git_dir);
    if (s3id[0]) fprintf(f, "s3upload %s\n", s3id);
    if (fclose(f) == 0 && rename(tmp.ptr, dst.ptr) == 0) rc = 0;
out:
    hf_buf_free(&dir);
    hf_buf_free(&tmp);
    hf_buf_free(&dst);
    hf_buf_free(&key);
    hf_buf_free(&msg);
    return rc;
}

int lfs_upload_read(hub *h, const char *id, lfs_upload_meta *m)
{
    memset(m, 0, sizeof(*m));
    if (!id_ok(id, strlen(id))) return -1;
    hf_buf path = HF_BUF_INIT;
    if (hf_buf_printf(&path, "%s/uploads/%s/meta", h->root, id)) return -1;
    FILE *f = fopen(path.ptr, "r");
    hf_buf_free(&path);
    if (!f) return -1;
    char line[4096];
    unsigned long long v;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "oid ", 4) == 0 && strlen(line + 4) == 64)
            memcpy(m->oid, line + 4, 65);
        else if (sscanf(line, "size %llu", &v) == 1)
            m->size = v;
        else if (sscanf(line, "chunk %llu", &v) == 1)
            m->chunk = v;
        else if (sscanf(line, "parts %llu", &v) == 1)
            m->parts = v;
        else if (strncmp(line, "git_dir ", 8) == 0 && !m->git_dir)
            m->git_dir = strdup(line + 8);
        else if (strncmp(line, "s3upload ", 9) == 0 && strlen(line + 9) < sizeof(m->s3_upload))
            memcpy(m->s3_upload, line + 9, strlen(line + 9) + 1);
    }
    fclose(f);
    if (!m->git_dir || !lfs_oid_ok(m->oid) || m->chunk == 0 || m->parts == 0 ||
        m->parts != m->size / m->chunk + (m->size % m->chunk != 0)) {
        lfs_upload_meta_clear(m);
        return -1;
    }
    return 0;
}

int lfs_upload_lock(hub *h, const char *id)
{
    hf_buf path = HF_BUF_INIT;
    int fd =
        hf_buf_printf(&path, "%s/uploads/%s/meta", h->root, id) ? -1 : open(path.ptr, O_RDONLY | O_CLOEXEC);
    hf_buf_free(&path);
    if (fd < 0) return -1;
    struct stat st;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    /* Removed while we waited (the meta goes with the upload): as if it never was. */
    if (fstat(fd, &st) != 0 || st.st_nlink == 0) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

void lfs_upload_unlock(int fd)
{
    if (fd >= 0) close(fd); /* releases the flock */
}

void lfs_upload_meta_clear(lfs_upload_meta *m)
{
    free(m->git_dir);
    m->git_dir = NULL;
}

/* ---- part PUT ---- */

typedef struct part_put {
    char id[LFS_UPLOAD_ID_LEN + 1];
    uint64_t n, drop_at; /* drop_at: 0 = no drop */
    char *dir;           /* <root>/uploads/<id> */
    int counted;         /* parts_ok or parts_refused already counted */
    lfs_sink sink;
} part_put;

static int part_data(hub_req *r, const char *data, size_t len)
{
    part_put *p = r->state;
    lfs_sink_write(r->h, &p->sink, data, len);
    if (p->drop_at && p->sink.received >= p->drop_at) {
        fprintf(stderr,
                "hfgit-hub: knob: dropping the connection of part %" PRIu64 " after %" PRIu64 " bytes\n",
                p->n, p->sink.received);
        return -1; /* server.c returns MHD_NO: the connection closes mid-body */
    }
    return 0;
}

/* Writes <n>.etag by rename() from a temp file of its own (two PUTs of one part may run at once). */
static int write_etag(const char *dir, uint64_t n, const char *etag)
{
    hf_buf tmp = HF_BUF_INIT, dst = HF_BUF_INIT;
    int rc = -1, fd = -1;
    if (hf_buf_printf(&tmp, "%s/.etag.XXXXXX", dir) || hf_buf_printf(&dst, "%s/%" PRIu64 ".etag", dir, n) ||
        (fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0)
        goto out;
    size_t len = strlen(etag);
    int bad = write(fd, etag, len) != (ssize_t)len;
    if (close(fd) == 0 && !bad && rename(tmp.ptr, dst.ptr) == 0) rc = 0;
    if (rc) unlink(tmp.ptr);
out:
    hf_buf_free(&tmp);
    hf_buf_free(&dst);
    return rc;
}

static enum MHD_Result part_done(hub_req *r)
{
    part_put *p = r->state;
    lfs_sink *s = &p->sink;
    char md5[HF_MD5_HEX_LEN + 1], etag[HF_MD5_HEX_LEN + 3];
    p->counted = 1;
    if (s->io_error) {
        atomic_fetch_add(&r->h->stats.parts_refused, 1);
        return lfs_respond_io_error(r, s->io_error, "storing the part");
    }
    if (s->overflow || s->received != s->expected) {
        atomic_fetch_add(&r->h->stats.parts_refused, 1);
        return hub_respond_error(r, MHD_HTTP_BAD_REQUEST,
                                 "IncompleteBody: part %" PRIu64 " sent %s bytes than its %" PRIu64, p->n,
                                 s->overflow ? "more" : "fewer", s->expected);
    }
    hf_buf dst = HF_BUF_INIT;
    int rc = lfs_sink_finish(s, md5) || hf_buf_printf(&dst, "%s/%" PRIu64, p->dir, p->n);
    int err = errno, lock = -1;
    snprintf(etag, sizeof(etag), "\"%s\"", md5);
    /* The part and its ETag change together, under the upload's lock: a concurrent PUT of the same part
     * (a client's retry) cannot pair one body with the other's ETag, and a completion never sees half. */
    if (!rc) {
        lock = lfs_upload_lock(r->h, p->id);
        rc = lock < 0 || lfs_sink_commit(s, dst.ptr) || write_etag(p->dir, p->n, etag);
        err = errno;
        lfs_upload_unlock(lock);
    }
    hf_buf_free(&dst);
    if (rc) {
        atomic_fetch_add(&r->h->stats.parts_refused, 1);
        if (err == ENOENT)
            return hub_respond_error(r, MHD_HTTP_NOT_FOUND, "NoSuchUpload: upload %s is gone", p->id);
        return lfs_respond_io_error(r, err, "storing the part");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    enum MHD_Result res = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    atomic_fetch_add(&r->h->stats.parts_ok, 1);
    return res;
}

static void part_free(hub_req *r)
{
    part_put *p = r->state;
    if (!p->counted) /* dropped, aborted mid-body, or never started */
        atomic_fetch_add(&r->h->stats.parts_refused, 1);
    lfs_sink_discard(&p->sink);
    atomic_fetch_sub(&r->h->stats.parts_in_flight, 1);
    free(p->dir);
    free(p);
    r->state = NULL;
}

/* Counts a knob down; 1 when this request is to fail. */
static int knob_hits(hub *h, int *number, int *times, uint64_t n)
{
    pthread_mutex_lock(&h->knobs_lock);
    int hit = *times > 0 && (uint64_t)*number == n;
    if (hit) (*times)--;
    pthread_mutex_unlock(&h->knobs_lock);
    return hit;
}

static int refuse_part(hub_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse_part(hub_req *r, unsigned status, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    atomic_fetch_add(&r->h->stats.parts_refused, 1);
    return hub_refuse(r, status, "%s", msg);
}

int lfs_route_part(hub_req *r, const char *tail)
{
    hub *h = r->h;
    atomic_fetch_add(&h->stats.requests_part, 1);
    if (strcmp(r->method, MHD_HTTP_METHOD_PUT) != 0)
        return refuse_part(r, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed: parts take PUT");
    int64_t signed_size;
    if (lfs_check_signed(r, 0, &signed_size)) {
        atomic_fetch_add(&h->stats.parts_refused, 1);
        return 1;
    }
    const char *slash = strchr(tail, '/');
    char id[LFS_UPLOAD_ID_LEN + 1];
    unsigned long long n = 0;
    if (!slash || !id_ok(tail, (size_t)(slash - tail)) || !slash[1] || strlen(slash + 1) > 5 ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1) || (n = strtoull(slash + 1, NULL, 10)) == 0)
        return refuse_part(r, MHD_HTTP_NOT_FOUND, "no such part URL");
    memcpy(id, tail, LFS_UPLOAD_ID_LEN);
    id[LFS_UPLOAD_ID_LEN] = '\0';
    lfs_upload_meta m;
    if (lfs_upload_read(h, id, &m))
        return refuse_part(r, MHD_HTTP_NOT_FOUND, "NoSuchUpload: upload %s does not exist (completed?)", id);
    uint64_t want = lfs_upload_part_size(&m, n), got;
    uint64_t parts = m.parts;
    lfs_upload_meta_clear(&m);
    if (want == 0 && n > parts)
        return refuse_part(r, MHD_HTTP_BAD_REQUEST,
                           "InvalidPart: part %llu of an upload with %" PRIu64 " parts", n, parts);
    if (lfs_content_length(r, &got))
        return refuse_part(r, MHD_HTTP_LENGTH_REQUIRED,
                           "MissingContentLength: part %llu needs a Content-Length (no chunked bodies)", n);
    if (got > want) /* refused before a byte is stored */
        return refuse_part(r, MHD_HTTP_CONTENT_TOO_LARGE,
                           "EntityTooLarge: part %llu is %" PRIu64 " bytes, Content-Length says %" PRIu64, n,
                           want, got);
    if (got != want)
        return refuse_part(r, MHD_HTTP_BAD_REQUEST,
                           "InvalidPartSize: part %llu must be exactly %" PRIu64
                           " bytes, Content-Length says %" PRIu64,
                           n, want, got);
    if (knob_hits(h, &h->knobs.fail_part_number, &h->knobs.fail_part_times, n)) {
        fprintf(stderr, "hfgit-hub: knob: failing part %llu with 500\n", n);
        return refuse_part(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "InternalError: injected failure of part %llu (knob)", n);
    }
    part_put *p = calloc(1, sizeof(*p));
    hf_buf dir = HF_BUF_INIT;
    if (!p || hf_buf_printf(&dir, "%s/uploads/%s", h->root, id)) {
        free(p);
        return refuse_part(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    memcpy(p->id, id, sizeof(id));
    p->n = n;
    p->dir = hf_buf_detach(&dir);
    p->sink.fd = -1;
    if (knob_hits(h, &h->knobs.drop_part_number, &h->knobs.drop_part_times, n))
        p->drop_at = want / 2 ? want / 2 : 1;
    r->state = p;
    r->on_free = part_free;
    lfs_stat_peak(&h->stats.peak_parts_in_flight, atomic_fetch_add(&h->stats.parts_in_flight, 1) + 1);
    if (lfs_sink_open(&p->sink, p->dir, HF_DIGEST_MD5, want)) {
        int err = errno;
        return hub_refuse(r, err == ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "cannot store part %llu: %s", n, strerror(err));
    }
    r->on_data = part_data;
    r->on_done = part_done;
    return 1;
}
