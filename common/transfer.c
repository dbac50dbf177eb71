/*
 * transfer.c: multipart upload (parallel part PUTs + completion POST) and single PUT. See transfer.h.
 *
 * Shape of a multipart upload: the calling thread opens the file once, starts min(parallel, parts) worker
 * threads, each with its own HTTP client, and waits. A worker takes the next part number under the lock,
 * PUTs that slice of the file (hf_http_send_retry re-reads the slice on each try) and stores the ETag in the
 * part's slot, so the completion lists parts in order whichever finished first. The first failure stops the
 * others (their progress callback returns "abort"); its message is the one reported. Then the calling thread
 * POSTs the completion.
 *
 * Progress is counted per part slice and clamped to the slice's length, then topped up to the length when
 * the part succeeds: the reported total is exact whatever the HTTP layer does on a retry.
 */
#include "transfer.h"

#include "error.h"
#include "json.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The Hub answers the completion only after checking the whole object (it hashes up to 50 GB): the normal
 * stall limit would kill that wait and retry it. An hour covers 50 GB at ~15 MB/s of server-side hashing. */
#define COMPLETE_RESPONSE_TIMEOUT_SECS 3600L

/* ---- progress shared by all parts of one transfer ---- */

typedef struct xfer_meter {
    pthread_mutex_t lock;
    uint64_t size, done;
    hf_transfer_progress_cb cb;
    void *ud;
    const atomic_int *cancel;
    atomic_int stop; /* 1: another part failed, 2: cancelled by the caller or the callback */
} xfer_meter;

typedef struct xfer_slice {
    xfer_meter *m;
    uint64_t len, reported;
} xfer_slice;

static int meter_stopped(xfer_meter *m)
{
    if (m->cancel && atomic_load(m->cancel)) {
        int expected = 0;
        atomic_compare_exchange_strong(&m->stop, &expected, 2);
    }
    return atomic_load(&m->stop) != 0;
}

/* Adds up to n new bytes of this slice (never past its length) and tells the caller's callback. */
static void slice_add(xfer_slice *s, uint64_t n)
{
    xfer_meter *m = s->m;
    if (n > s->len - s->reported) n = s->len - s->reported;
    if (n == 0) return;
    s->reported += n;
    pthread_mutex_lock(&m->lock);
    m->done += n;
    if (m->cb && m->cb(m->ud, n, m->done) != 0) atomic_store(&m->stop, 2);
    pthread_mutex_unlock(&m->lock);
}

/* hf_http_progress_cb for a slice body: returns non-zero to abort the request when the transfer stops. The
 * HTTP layer also polls it with 0 while nothing moves (slice_add ignores 0: no event reaches the caller's
 * callback), so a part waiting on a silent server or in a retry backoff stops as soon as another fails. */
static int slice_progress(void *ud, uint64_t new_bytes)
{
    xfer_slice *s = ud;
    slice_add(s, new_bytes);
    return meter_stopped(s->m);
}

static void meter_init(xfer_meter *m, uint64_t size, hf_transfer_progress_cb cb, void *ud,
                       const atomic_int *cancel)
{
    pthread_mutex_init(&m->lock, NULL);
    m->size = size;
    m->done = 0;
    m->cb = cb;
    m->ud = ud;
    m->cancel = cancel;
    atomic_init(&m->stop, 0);
}

/* ---- helpers ---- */

uint64_t hf_multipart_part_count(uint64_t size, uint64_t chunk_size)
{
    if (chunk_size == 0) return 0;
    return size / chunk_size + (size % chunk_size != 0);
}

int hf_multipart_completion_body(hf_buf *out, const char *oid, const char *const *etags, size_t count)
{
    hf_jw w;
    hf_jw_init(&w, out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "oid", oid);
    hf_jw_key(&w, "parts");
    hf_jw_arr_begin(&w);
    for (size_t i = 0; i < count; i++) {
        hf_jw_obj_begin(&w);
        hf_jw_kint(&w, "partNumber", (int64_t)(i + 1));
        hf_jw_kstr(&w, "etag", etags[i]);
        hf_jw_obj_end(&w);
    }
    hf_jw_arr_end(&w);
    hf_jw_obj_end(&w);
    return w.error;
}

/* Opens path (unless fd >= 0) and checks that the file is exactly size bytes long. */
static int open_source(const char *path, int fd, const char *oid, uint64_t size, int *out_fd, int *owned)
{
    struct stat st;
    const char *name = path ? path : "(descriptor)";
    *owned = 0;
    if (fd < 0) {
        if (!path) return hf_error_set(HF_EINVAL, "uploading %s: no file given", oid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return hf_error_set(errno == ENOENT ? HF_ENOTFOUND : HF_EIO, "uploading %s: cannot open %s: %s",
                                oid, name, strerror(errno));
        *owned = 1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (*owned) close(fd);
        return hf_error_set(HF_EIO, "uploading %s: %s is not a readable regular file%s%s", oid, name,
                            e ? ": " : "", e ? strerror(e) : "");
    }
    if ((uint64_t)st.st_size != size) {
        if (*owned) close(fd);
        return hf_error_set(HF_EINVAL, "uploading %s: %s is %llu bytes but the transfer is for %llu bytes",
                            oid, name, (unsigned long long)st.st_size, (unsigned long long)size);
    }
    *out_fd = fd;
    return 0;
}

/* ---- multipart ---- */

typedef struct mp_state {
    const hf_multipart_options *o;
    int fd;
    xfer_meter meter;
    pthread_mutex_t lock; /* next_part and the first error */
    size_t next_part;
    char **etags; /* part_count slots */
    int err_code;
    long err_status;
    char *err_msg;
} mp_state;

/* Keeps the first real failure; later ones are consequences of the stop. */
static void mp_fail(mp_state *s, int code, long status, const char *msg)
{
    pthread_mutex_lock(&s->lock);
    if (!s->err_msg) {
        s->err_code = code;
        s->err_status = status;
        s->err_msg = strdup(msg);
    }
    pthread_mutex_unlock(&s->lock);
    int expected = 0;
    atomic_compare_exchange_strong(&s->meter.stop, &expected, 1);
}

static void mp_put_part(mp_state *s, hf_http_client *client, size_t i)
{
    const hf_multipart_options *o = s->o;
    uint64_t off = (uint64_t)i * o->chunk_size;
    uint64_t len = o->size - off < o->chunk_size ? o->size - off : o->chunk_size;
    xfer_slice slice = {&s->meter, len, 0};
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    hf_buf msg = HF_BUF_INIT;

    req.method = "PUT";
    req.url = o->part_urls[i];
    req.body_fd = s->fd;
    req.body_offset = off;
    req.body_size = len;
    req.progress = slice_progress;
    req.progress_ud = &slice;
    hf_trace("transfer: %.12s: part %zu/%zu bytes %llu+%llu", o->oid, i + 1, o->part_count,
             (unsigned long long)off, (unsigned long long)len);

    int rc = hf_http_send_retry(client, &req, &o->retry, &resp);
    if (rc == 0 && (!resp.etag || !resp.etag[0])) {
        hf_buf_printf(&msg,
                      "uploading %s: part %zu of %zu: the server answered HTTP %ld without an ETag, so "
                      "the upload cannot be completed",
                      o->oid, i + 1, o->part_count, resp.status);
        mp_fail(s, HF_EHTTP, resp.status, hf_buf_cstr(&msg));
    } else if (rc == 0) {
        slice_add(&slice, len); /* top up: the part is in, all of its bytes count */
        s->etags[i] = resp.etag;
        resp.etag = NULL;
    } else if (!meter_stopped(&s->meter)) { /* else this part was stopped by another part's failure */
        long status = resp.status ? resp.status : hf_error_last_http_status();
        hf_buf_printf(&msg, "uploading %s: part %zu of %zu (bytes %llu-%llu) failed: %s", o->oid, i + 1,
                      o->part_count, (unsigned long long)off, (unsigned long long)(off + len - 1),
                      hf_error_last_message());
        if (status == 403 && !strstr(hf_error_last_message(), "expired"))
            hf_buf_puts(&msg,
                        " (the presigned upload URL has probably expired; push again to get fresh URLs)");
        mp_fail(s, rc, status, hf_buf_cstr(&msg));
    }
    hf_buf_free(&msg);
    hf_http_response_reset(&resp);
}

static void *mp_worker(void *arg)
{
    mp_state *s = arg;
    hf_http_client *client = NULL;
    if (hf_http_client_new(&client) != 0) {
        mp_fail(s, hf_error_last_code(), 0, hf_error_last_message());
        return NULL;
    }
    for (;;) {
        size_t i;
        if (meter_stopped(&s->meter)) break;
        pthread_mutex_lock(&s->lock);
        i = s->next_part < s->o->part_count ? s->next_part++ : SIZE_MAX;
        pthread_mutex_unlock(&s->lock);
        if (i == SIZE_MAX) break;
        mp_put_part(s, client, i);
    }
    hf_http_client_free(client);
    return NULL;
}

/* Runs the part workers; returns when every part is in or the upload stopped. */
static void mp_run_parts(mp_state *s)
{
    const hf_multipart_options *o = s->o;
    size_t n = (size_t)(o->parallel > 0 ? o->parallel : HF_MULTIPART_DEFAULT_PARALLEL);
    if (n > HF_MULTIPART_MAX_PARALLEL) n = HF_MULTIPART_MAX_PARALLEL;
    if (n > o->part_count) n = o->part_count;
    if (n == 0) return;
    pthread_t tids[HF_MULTIPART_MAX_PARALLEL];
    pthread_attr_t attr;
    size_t started = 0;
    pthread_attr_init(&attr);
    /* Workers only run libcurl and pread: a small stack keeps many of them cheap. */
    pthread_attr_setstacksize(&attr, (size_t)512 * 1024);
    for (; started < n; started++)
        if (pthread_create(&tids[started], &attr, mp_worker, s) != 0) break;
    pthread_attr_destroy(&attr);
    if (started == 0) mp_worker(s); /* no thread could start: do the parts here, one at a time */
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

static int mp_complete(mp_state *s)
{
    const hf_multipart_options *o = s->o;
    hf_buf body = HF_BUF_INIT;
    hf_http_client *client = NULL;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    const char **headers = NULL;
    size_t nextra = 0;
    int rc;

    while (o->complete_headers && o->complete_headers[nextra])
        nextra++;
    headers = calloc(nextra + 3, sizeof(*headers));
    if (!headers ||
        hf_multipart_completion_body(&body, o->oid, (const char *const *)s->etags, o->part_count)) {
        rc = hf_error_set(HF_ENOMEM, "uploading %s: out of memory building the completion request", o->oid);
        goto out;
    }
    headers[0] = "Content-Type: application/json";
    headers[1] = "Accept: application/json";
    for (size_t i = 0; i < nextra; i++)
        headers[2 + i] = o->complete_headers[i];
    if ((rc = hf_http_client_new(&client)) != 0) goto out;

    hf_http_request req = HF_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = o->complete_url;
    req.headers = headers;
    req.body = body.ptr;
    req.body_len = body.len;
    req.response_timeout_secs = COMPLETE_RESPONSE_TIMEOUT_SECS;
    /* a zero-length slice: no bytes to count, but the caller's cancel still ends the (long) wait */
    xfer_slice none = {&s->meter, 0, 0};
    req.progress = slice_progress;
    req.progress_ud = &none;
    hf_trace("transfer: %.12s: completing %zu parts", o->oid, o->part_count);
    rc = hf_http_send_retry(client, &req, &o->retry, &resp);
    if (rc == HF_ECANCELLED) {
        rc = hf_error_set(HF_ECANCELLED, "uploading %s: cancelled while completing the upload", o->oid);
    } else if (rc != 0) {
        long status = resp.status ? resp.status : hf_error_last_http_status();
        hf_buf msg = HF_BUF_INIT;
        hf_buf_printf(&msg,
                      "uploading %s: all %zu parts are in but completing the multipart upload failed: %s%s",
                      o->oid, o->part_count, hf_error_last_message(),
                      status == 403 && !strstr(hf_error_last_message(), "expired")
                          ? " (the completion URL has probably expired; push again)"
                          : "");
        hf_error_set_http(rc, status, "%s", hf_buf_cstr(&msg));
        hf_buf_free(&msg);
    }
out:
    hf_http_response_reset(&resp);
    hf_http_client_free(client);
    hf_buf_free(&body);
    free(headers);
    return rc;
}

int hf_multipart_upload(const hf_multipart_options *o)
{
    mp_state s;
    int owned = 0, rc;

    if (!o || !o->oid || !o->complete_url || (o->part_count && !o->part_urls))
        return hf_error_set(HF_EINVAL, "multipart upload: missing oid, completion URL or part URLs");
    if (o->chunk_size == 0 || o->part_count != hf_multipart_part_count(o->size, o->chunk_size))
        return hf_error_set(HF_EINVAL,
                            "uploading %s: the server sent %zu part URLs but %llu bytes in chunks of %llu "
                            "bytes need %llu",
                            o->oid, o->part_count, (unsigned long long)o->size,
                            (unsigned long long)o->chunk_size,
                            (unsigned long long)hf_multipart_part_count(o->size, o->chunk_size));
    if (!hf_transfer_url_ok(o->complete_url))
        return hf_error_set(HF_EINVAL, "uploading %s: the completion URL is not an http(s) URL", o->oid);
    for (size_t i = 0; i < o->part_count; i++)
        if (!hf_transfer_url_ok(o->part_urls[i]))
            return hf_error_set(HF_EINVAL, "uploading %s: part %zu has no http(s) URL", o->oid, i + 1);

    memset(&s, 0, sizeof(s));
    s.o = o;
    if ((rc = open_source(o->path, o->fd, o->oid, o->size, &s.fd, &owned)) != 0) return rc;
    s.etags = calloc(o->part_count ? o->part_count : 1, sizeof(char *));
    if (!s.etags) {
        if (owned) close(s.fd);
        return hf_error_set(HF_ENOMEM, "uploading %s: out of memory", o->oid);
    }
    pthread_mutex_init(&s.lock, NULL);
    meter_init(&s.meter, o->size, o->progress, o->progress_ud, o->cancel);

    mp_run_parts(&s);

    if (s.err_msg) {
        rc = hf_error_set_http(s.err_code ? s.err_code : HF_ERROR, s.err_status, "%s", s.err_msg);
    } else if (meter_stopped(&s.meter)) {
        rc = hf_error_set(HF_ECANCELLED, "uploading %s: cancelled", o->oid);
    } else {
        rc = mp_complete(&s);
    }

    for (size_t i = 0; i < o->part_count; i++)
        free(s.etags[i]);
    free(s.etags);
    free(s.err_msg);
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&s.meter.lock);
    if (owned) close(s.fd);
    return rc;
}

/* ---- single PUT ---- */

int hf_single_put(const hf_single_put_options *o)
{
    int fd, owned = 0, rc;
    xfer_meter meter;
    hf_http_client *client = NULL;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    const char **headers = NULL;
    size_t n = 0;

    if (!o || !o->oid || !o->href) return hf_error_set(HF_EINVAL, "single PUT: missing oid or href");
    if (!hf_transfer_url_ok(o->href))
        return hf_error_set(HF_EINVAL, "uploading %s: the upload URL is not an http(s) URL", o->oid);
    if ((rc = open_source(o->path, o->fd, o->oid, o->size, &fd, &owned)) != 0) return rc;
    while (o->headers && o->headers[n])
        n++;
    headers = calloc(n + 1, sizeof(*headers));
    if (!headers) {
        rc = hf_error_set(HF_ENOMEM, "uploading %s: out of memory", o->oid);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        headers[i] = o->headers[i];
    if ((rc = hf_http_client_new(&client)) != 0) goto out;

    meter_init(&meter, o->size, o->progress, o->progress_ud, o->cancel);
    xfer_slice slice = {&meter, o->size, 0};
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    req.method = "PUT";
    req.url = o->href;
    req.headers = headers;
    req.bearer_token = o->bearer_token;
    req.body_fd = fd;
    req.body_offset = 0;
    req.body_size = o->size;
    req.progress = slice_progress;
    req.progress_ud = &slice;
    hf_trace("transfer: %.12s: single PUT of %llu bytes", o->oid, (unsigned long long)o->size);
    rc = hf_http_send_retry(client, &req, &o->retry, &resp);
    if (rc == 0) {
        slice_add(&slice, o->size);
    } else if (atomic_load(&meter.stop) == 2) {
        rc = hf_error_set(HF_ECANCELLED, "uploading %s: cancelled", o->oid);
    } else {
        long status = resp.status ? resp.status : hf_error_last_http_status();
        hf_buf msg = HF_BUF_INIT;
        hf_buf_printf(&msg, "uploading %s (%llu bytes, single PUT) failed: %s%s", o->oid,
                      (unsigned long long)o->size, hf_error_last_message(),
                      status == 403 && !strstr(hf_error_last_message(), "expired")
                          ? " (the upload URL has probably expired; push again to get a fresh one)"
                          : "");
        hf_error_set_http(rc, status, "%s", hf_buf_cstr(&msg));
        hf_buf_free(&msg);
    }
    pthread_mutex_destroy(&meter.lock);
out:
    hf_http_response_reset(&resp);
    hf_http_client_free(client);
    free(headers);
    if (owned) close(fd);
    return rc;
}
