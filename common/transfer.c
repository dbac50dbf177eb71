/*
 * transfer.c: the single PUT, the progress meter both transfers share, and the pure helpers (see
 * transfer.h). The multipart engine is multipart.c.
 *
 * Progress is counted per body slice and clamped to the slice's length, then topped up to the length when
 * the slice is in: the reported total is exact whatever the HTTP layer does on a retry.
 */
#include "transfer_internal.h"

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

/* ---- progress shared by all parts of one transfer ---- */

int xfer_meter_stopped(xfer_meter *m)
{
    if (m->cancel && atomic_load(m->cancel)) {
        int expected = 0;
        atomic_compare_exchange_strong(&m->stop, &expected, 2);
    }
    return atomic_load(&m->stop) != 0;
}

/* Adds up to n new bytes of this slice (never past its length) and tells the caller's callback. */
void xfer_slice_add(xfer_slice *s, uint64_t n)
{
    xfer_meter *m = s->m;
    pthread_mutex_lock(&m->lock);
    if (n > s->len - *s->reported) n = s->len - *s->reported;
    if (n) {
        *s->reported += n;
        m->done += n;
        if (m->cb && m->cb(m->ud, n, m->done) != 0) atomic_store(&m->stop, 2);
    }
    pthread_mutex_unlock(&m->lock);
}

/* hf_http_progress_cb for a slice body: returns non-zero to abort the request when the transfer stops. The
 * HTTP layer also polls it with 0 while nothing moves (xfer_slice_add ignores 0: no event reaches the
 * caller's callback), so a part waiting on a silent server or in a retry backoff stops as soon as another
 * fails. */
int xfer_slice_progress(void *ud, uint64_t new_bytes)
{
    xfer_slice *s = ud;
    if (new_bytes) xfer_slice_add(s, new_bytes);
    if (s->epoch_now && atomic_load(s->epoch_now) != s->epoch) return 1; /* its upload was given up */
    return xfer_meter_stopped(s->m);
}

void xfer_meter_init(xfer_meter *m, uint64_t size, hf_transfer_progress_cb cb, void *ud,
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

int xfer_open_source(const char *path, int fd, const char *oid, uint64_t size, int *out_fd, int *owned)
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

/* ---- single PUT ---- */

/* Asks the refresh callback for a fresh href after a 403 (cause: the server's answer). Returns 0 with *f
 * holding a plain single-PUT plan to try, 1 when the server has the object now, or a negative error with a
 * message naming the object. */
static int single_put_refresh(const hf_single_put_options *o, const char *cause, hf_multipart_fresh *f)
{
    hf_trace("transfer: %.12s: single PUT refused (403): asking for a fresh URL", o->oid);
    int rc = o->refresh(o->refresh_ud, f);
    if (rc == 1) {
        hf_trace("transfer: %.12s: the server has the object now", o->oid);
        return 1;
    }
    if (rc < 0)
        return hf_error_set_http(
            HF_EAUTH, 403,
            "uploading %s (%llu bytes, single PUT) failed: %s; asking the batch API for a "
            "fresh upload URL failed: %s",
            o->oid, (unsigned long long)o->size, cause, hf_error_last_message());
    if (f->plan.multipart)
        return hf_error_set_http(
            HF_EINVAL, 403,
            "uploading %s: the upload URL expired (%s) and the server's fresh answer is a "
            "multipart upload (%zu parts) instead of a single PUT; push again",
            o->oid, cause, f->plan.part_count);
    if (!f->complete_url || !hf_transfer_url_ok(f->complete_url))
        return hf_error_set_http(
            HF_EINVAL, 403,
            "uploading %s: the upload URL expired (%s) and the server's fresh answer has no "
            "http(s) upload URL; push again",
            o->oid, cause);
    hf_trace("transfer: %.12s: fresh URL (single PUT)", o->oid);
    return 0;
}

int hf_single_put(const hf_single_put_options *o)
{
    int fd, owned = 0, rc, refreshes = 0;
    xfer_meter meter;
    hf_http_client *client = NULL;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    hf_multipart_fresh fresh = HF_MULTIPART_FRESH_INIT; /* the href and headers after a refresh */

    if (!o || !o->oid || !o->href) return hf_error_set(HF_EINVAL, "single PUT: missing oid or href");
    if (!hf_transfer_url_ok(o->href))
        return hf_error_set(HF_EINVAL, "uploading %s: the upload URL is not an http(s) URL", o->oid);
    if ((rc = xfer_open_source(o->path, o->fd, o->oid, o->size, &fd, &owned)) != 0) return rc;
    if ((rc = hf_http_client_new(&client)) != 0) goto out;

    xfer_meter_init(&meter, o->size, o->progress, o->progress_ud, o->cancel);
    /* one slice for every attempt: bytes sent again after a refresh are not counted twice */
    uint64_t reported = 0;
    xfer_slice slice = {&meter, o->size, &reported, NULL, 0};
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    req.method = "PUT";
    req.url = o->href;
    req.headers = o->headers;
    req.bearer_token = o->bearer_token;
    req.rate_limit = o->rate_limit;
    req.body_fd = fd;
    req.body_offset = 0;
    req.body_size = o->size;
    req.progress = xfer_slice_progress;
    req.progress_ud = &slice;
    for (;;) {
        hf_trace("transfer: %.12s: single PUT of %llu bytes", o->oid, (unsigned long long)o->size);
        hf_http_response_reset(&resp);
        rc = hf_http_send_retry(client, &req, &o->retry, &resp);
        if (rc == 0) {
            xfer_slice_add(&slice, o->size);
            break;
        }
        if (atomic_load(&meter.stop) == 2) {
            rc = hf_error_set(HF_ECANCELLED, "uploading %s: cancelled", o->oid);
            break;
        }
        long status = resp.status ? resp.status : hf_error_last_http_status();
        hf_buf cause = HF_BUF_INIT, msg = HF_BUF_INIT;
        hf_buf_puts(&cause, hf_error_last_message());
        if (status == 403 && o->refresh && refreshes < HF_SINGLE_PUT_MAX_REFRESHES) {
            hf_multipart_fresh f = HF_MULTIPART_FRESH_INIT;
            refreshes++;
            int r = single_put_refresh(o, hf_buf_cstr(&cause), &f);
            hf_buf_free(&cause);
            if (r == 1) { /* someone else finished it: what is left counts as sent */
                hf_multipart_fresh_free(&f);
                xfer_slice_add(&slice, o->size);
                rc = 0;
                break;
            }
            if (r < 0) {
                hf_multipart_fresh_free(&f);
                rc = r;
                break;
            }
            hf_multipart_fresh_free(&fresh);
            fresh = f;
            req.url = fresh.complete_url;
            req.headers = (const char *const *)fresh.plan.headers;
            continue;
        }
        if (status == 403 && o->refresh)
            hf_buf_printf(
                &msg,
                "uploading %s (%llu bytes, single PUT) failed: %s. The upload URL expired again after "
                "%d fresh URLs from the server: push again, on a faster link, or ask the server for "
                "longer-lived upload URLs",
                o->oid, (unsigned long long)o->size, hf_buf_cstr(&cause), refreshes);
        else
            hf_buf_printf(&msg, "uploading %s (%llu bytes, single PUT) failed: %s%s", o->oid,
                          (unsigned long long)o->size, hf_buf_cstr(&cause),
                          status == 403 && !strstr(hf_buf_cstr(&cause), "expired")
                              ? " (the upload URL has probably expired; push again to get a fresh one)"
                              : "");
        rc = hf_error_set_http(status == 403 && o->refresh ? HF_EEXPIRED : rc, status, "%s",
                               hf_buf_cstr(&msg));
        hf_buf_free(&cause);
        hf_buf_free(&msg);
        break;
    }
    pthread_mutex_destroy(&meter.lock);
out:
    hf_http_response_reset(&resp);
    hf_http_client_free(client);
    hf_multipart_fresh_free(&fresh);
    if (owned) close(fd);
    return rc;
}
