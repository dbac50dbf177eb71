/*
 * multipart.c: the multipart upload engine (parallel part PUTs + completion POST; see transfer.h).
 *
 * Shape: the calling thread opens the file once, starts min(parallel, parts) worker threads, each with its
 * own HTTP client, and waits. A worker takes the next part that is neither done nor in flight, copies its
 * URL, PUTs that slice of the file (hf_http_send_retry re-reads the slice on each try) and stores the ETag
 * in the part's slot, so the completion lists parts in order whichever finished first. The first failure
 * stops the others; its message is the one reported. Then the calling thread POSTs the completion.
 *
 * Everything that can change while parts are in flight is under s->lock: the part states, the URLs (a
 * refresh replaces them: workers PUT to their own copy), the upload "epoch" (a restart onto a new upload
 * increments it, and a part that was started in an older epoch has its ETag thrown away: it belongs to an
 * upload nobody will complete) and the URL generation (a refresh increments it, so that several parts
 * refused at once by one expiry cause one batch request, not eight).
 *
 * Progress is per part (xfer_slice over s->reported[i], which survives retries, refreshes and restarts):
 * a part counts at most its length, so the total never goes backwards and sums to the size.
 */
#include "transfer_internal.h"

#include "error.h"
#include "part_journal.h"
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PART_TODO 0
#define PART_BUSY 1
#define PART_DONE 2
#define MAX_EXPIRED_PER_PART 4 /* a part refused this often right after fresh URLs: not an expiry */

typedef struct mp_state {
    const hf_multipart_options *o;
    int fd;
    xfer_meter meter;
    pthread_mutex_t lock; /* everything below */
    unsigned char *part_state;
    unsigned char *expired_count;
    uint64_t *reported; /* progress per part (meter lock) */
    char **etags;
    size_t cursor;            /* no TODO part before this index */
    hf_multipart_fresh fresh; /* URLs from the last refresh, when there was one */
    const char *const *urls;
    const char *complete_url;
    int64_t expires_at;
    unsigned gen;
    atomic_uint epoch; /* written under lock; read without it by the parts' progress callbacks */
    int respawn;       /* the workers should return so that run_parts starts a larger set */
    int burst;         /* start every part left at once (up to HF_MULTIPART_MAX_PARALLEL) */
    int restarts, refreshes;
    char identity[65];
    hf_part_journal *journal;
    size_t from_journal;
    int err_code;
    long err_status;
    char *err_msg;
} mp_state;

void hf_multipart_fresh_free(hf_multipart_fresh *f)
{
    hf_multipart_plan_free(&f->plan);
    free(f->complete_url);
    hf_multipart_fresh empty = HF_MULTIPART_FRESH_INIT;
    *f = empty;
}

/* Keeps the first real failure; later ones are consequences of the stop. Lock held or not: own lock. */
static void fail_locked(mp_state *s, int code, long status, const char *msg)
{
    if (!s->err_msg) {
        s->err_code = code;
        s->err_status = status;
        s->err_msg = strdup(msg);
    }
    int expected = 0;
    atomic_compare_exchange_strong(&s->meter.stop, &expected, 1);
}

static void fail(mp_state *s, int code, long status, const char *msg)
{
    pthread_mutex_lock(&s->lock);
    fail_locked(s, code, status, msg);
    pthread_mutex_unlock(&s->lock);
}

/* Every part back to TODO, for a new upload (or after the server lost parts). Lock held. */
static void restart_parts(mp_state *s)
{
    for (size_t i = 0; i < s->o->part_count; i++) {
        free(s->etags[i]);
        s->etags[i] = NULL;
        s->part_state[i] = PART_TODO;
        s->expired_count[i] = 0;
    }
    s->cursor = 0;
    atomic_fetch_add(&s->epoch, 1); /* parts in flight for the old upload stop (xfer_slice_progress) */
    if (s->journal && hf_part_journal_reset(s->journal, s->identity) != 0) {
        hf_part_journal_close(s->journal, 1);
        s->journal = NULL; /* go on without: only a re-run after a kill would miss it */
    }
}

static void expired_message(mp_state *s, hf_buf *msg)
{
    hf_buf_printf(msg,
                  "uploading %s: the part URLs expired before every part could start, and each new batch "
                  "answer opened a new upload, so finished parts could not be kept (%d uploads tried). The "
                  "server's URLs live too short for this link: push again with more parts at once "
                  "(HFGIT_MULTIPART_PARALLEL, or --parallel on the agent) so that every part starts while "
                  "its URL is fresh, on a faster link, or ask the server for longer-lived URLs",
                  s->o->oid, s->restarts);
}

/* Asks for fresh URLs (lock held; the batch request runs under it, so the other workers wait for the new
 * URLs instead of asking too). force_restart: every part is sent again whatever the answer. cause and
 * cause_status: the failure that made us ask, reported (with why asking failed) if the answer is no help.
 * Returns 0 to go on, 1 when the server has the object now, or a negative error (recorded with
 * fail_locked). */
static int refresh_locked(mp_state *s, int force_restart, const char *cause, long cause_status)
{
    const hf_multipart_options *o = s->o;
    hf_multipart_fresh f = HF_MULTIPART_FRESH_INIT;
    hf_buf msg = HF_BUF_INIT;
    int rc = o->refresh(o->refresh_ud, &f);
    s->refreshes++;
    if (rc == 1) {
        hf_trace("transfer: %.12s: the server has the object now", o->oid);
        atomic_store(&s->meter.stop, 3);
        hf_multipart_fresh_free(&f);
        return 1;
    }
    if (rc < 0) {
        hf_buf_printf(&msg, "uploading %s: %s; asking the batch API for fresh upload URLs failed: %s", o->oid,
                      cause, hf_error_last_message());
        rc = cause_status == 403 ? HF_EAUTH : rc;
    } else if (!f.plan.multipart || f.plan.part_count != o->part_count ||
               f.plan.chunk_size != o->chunk_size || !f.complete_url || !hf_transfer_url_ok(f.complete_url)) {
        rc = HF_EINVAL;
        hf_buf_printf(&msg,
                      "uploading %s: the server's fresh answer is not the same kind of upload (%zu parts of "
                      "%llu bytes before, %zu of %llu now); push again",
                      o->oid, o->part_count, (unsigned long long)o->chunk_size, f.plan.part_count,
                      (unsigned long long)f.plan.chunk_size);
    }
    if (rc < 0) {
        fail_locked(s, rc, cause_status, hf_buf_cstr(&msg));
        hf_buf_free(&msg);
        hf_multipart_fresh_free(&f);
        return rc;
    }
    char id[65];
    hf_upload_identity(f.complete_url, f.plan.part_urls[0], id);
    int same = strcmp(id, s->identity) == 0;
    hf_multipart_fresh_free(&s->fresh);
    s->fresh = f;
    s->urls = (const char *const *)s->fresh.plan.part_urls;
    s->complete_url = s->fresh.complete_url;
    /* an expiry already past (clock skew) would make every part start with a refresh: ignore it */
    s->expires_at = s->fresh.expires_at > (int64_t)time(NULL) ? s->fresh.expires_at : 0;
    s->gen++;
    memcpy(s->identity, id, sizeof(id));
    hf_trace("transfer: %.12s: fresh URLs (%s upload)", o->oid, same ? "same" : "new");
    if (!same && !force_restart && ++s->restarts > HF_MULTIPART_MAX_RESTARTS) {
        expired_message(s, &msg);
        fail_locked(s, HF_EEXPIRED, 403, hf_buf_cstr(&msg));
        hf_buf_free(&msg);
        return HF_EEXPIRED;
    }
    if (!same || force_restart) restart_parts(s);
    if (!same && !force_restart) {
        /* A server that opens a new upload on every batch (huggingface.co, we assume) can only be finished
         * by parts that all start while their URLs are fresh: start every part left at once. */
        s->burst = 1;
        s->respawn = 1;
    }
    return 0;
}

/* The next part to send, marked busy: its index in *i and a copy of its URL (the caller frees it), or NULL
 * when none is left. Lock held. */
static char *take_part(mp_state *s, size_t *i, unsigned *gen, unsigned *epoch)
{
    const hf_multipart_options *o = s->o;
    while (s->cursor < o->part_count && s->part_state[s->cursor] != PART_TODO)
        s->cursor++;
    if (s->cursor == o->part_count || s->respawn) return NULL;
    /* URLs known to have expired are refreshed before a part starts, rather than refused after */
    if (o->refresh && s->expires_at && (int64_t)time(NULL) >= s->expires_at &&
        refresh_locked(s, 0, "the upload URLs expired", 0) != 0)
        return NULL;
    if (s->respawn) return NULL;
    while (s->cursor < o->part_count && s->part_state[s->cursor] != PART_TODO)
        s->cursor++;
    if (s->cursor == o->part_count) return NULL;
    char *url = strdup(s->urls[s->cursor]);
    if (!url) {
        fail_locked(s, HF_ENOMEM, 0, "out of memory");
        return NULL;
    }
    *i = s->cursor++;
    s->part_state[*i] = PART_BUSY;
    *gen = s->gen;
    *epoch = atomic_load(&s->epoch);
    return url;
}

/* A part was refused with 403: fresh URLs (once per generation) and the part back in the pool. */
static void part_expired(mp_state *s, size_t i, unsigned gen, unsigned epoch, const char *cause)
{
    pthread_mutex_lock(&s->lock);
    if (epoch == atomic_load(&s->epoch)) {
        s->part_state[i] = PART_TODO;
        if (i < s->cursor) s->cursor = i;
        if (++s->expired_count[i] > MAX_EXPIRED_PER_PART) {
            hf_buf msg = HF_BUF_INIT;
            hf_buf_printf(&msg,
                          "uploading %s: part %zu of %zu was refused (HTTP 403) %d times, even with fresh "
                          "URLs: %s",
                          s->o->oid, i + 1, s->o->part_count, MAX_EXPIRED_PER_PART, hf_error_last_message());
            fail_locked(s, HF_EAUTH, 403, hf_buf_cstr(&msg));
            hf_buf_free(&msg);
        } else if (gen == s->gen) {
            (void)refresh_locked(s, 0, cause, 403);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static void part_done(mp_state *s, size_t i, unsigned epoch, char *etag)
{
    pthread_mutex_lock(&s->lock);
    if (epoch == atomic_load(&s->epoch) && s->part_state[i] == PART_BUSY) {
        s->part_state[i] = PART_DONE;
        s->etags[i] = etag;
        etag = NULL;
        if (s->journal && hf_part_journal_add(s->journal, i + 1, s->etags[i]) != 0)
            hf_trace("transfer: %s", hf_error_last_message());
    }
    pthread_mutex_unlock(&s->lock);
    free(etag); /* a part of an upload that was given up: its ETag is no use */
}

static void put_part(mp_state *s, hf_http_client *client, size_t i, const char *url, unsigned gen,
                     unsigned epoch)
{
    const hf_multipart_options *o = s->o;
    uint64_t off = (uint64_t)i * o->chunk_size;
    uint64_t len = o->size - off < o->chunk_size ? o->size - off : o->chunk_size;
    xfer_slice slice = {&s->meter, len, &s->reported[i], &s->epoch, epoch};
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    hf_buf msg = HF_BUF_INIT;

    req.method = "PUT";
    req.url = url;
    req.body_fd = s->fd;
    req.body_offset = off;
    req.body_size = len;
    req.progress = xfer_slice_progress;
    req.progress_ud = &slice;
    req.rate_limit = o->rate_limit;
    hf_trace("transfer: %.12s: part %zu/%zu bytes %llu+%llu", o->oid, i + 1, o->part_count,
             (unsigned long long)off, (unsigned long long)len);

    int rc = hf_http_send_retry(client, &req, &o->retry, &resp);
    long status = rc == 0 ? resp.status : resp.status ? resp.status : hf_error_last_http_status();
    if (rc == 0 && (!resp.etag || !resp.etag[0])) {
        hf_buf_printf(&msg,
                      "uploading %s: part %zu of %zu: the server answered HTTP %ld without an ETag, so "
                      "the upload cannot be completed",
                      o->oid, i + 1, o->part_count, resp.status);
        fail(s, HF_EHTTP, resp.status, hf_buf_cstr(&msg));
    } else if (rc == 0) {
        xfer_slice_add(&slice, len); /* top up: the part is in, all of its bytes count */
        part_done(s, i, epoch, resp.etag);
        resp.etag = NULL;
    } else if (xfer_meter_stopped(&s->meter) || epoch != atomic_load(&s->epoch)) {
        /* stopped by another part's failure or the caller, or its upload was given up: nothing to report */
    } else if (status == 403 && o->refresh) {
        hf_trace("transfer: %.12s: part %zu refused (403): asking for fresh URLs", o->oid, i + 1);
        hf_buf_printf(&msg, "part %zu of %zu failed: %s", i + 1, o->part_count, hf_error_last_message());
        part_expired(s, i, gen, epoch, hf_buf_cstr(&msg));
    } else {
        hf_buf_printf(&msg, "uploading %s: part %zu of %zu (bytes %llu-%llu) failed: %s", o->oid, i + 1,
                      o->part_count, (unsigned long long)off, (unsigned long long)(off + len - 1),
                      hf_error_last_message());
        if (status == 403 && !strstr(hf_error_last_message(), "expired"))
            hf_buf_puts(&msg,
                        " (the presigned upload URL has probably expired; push again to get fresh URLs)");
        fail(s, rc, status, hf_buf_cstr(&msg));
    }
    hf_buf_free(&msg);
    hf_http_response_reset(&resp);
}

static void *worker(void *arg)
{
    mp_state *s = arg;
    hf_http_client *client = NULL;
    if (hf_http_client_new(&client) != 0) {
        fail(s, hf_error_last_code(), 0, hf_error_last_message());
        return NULL;
    }
    while (!xfer_meter_stopped(&s->meter)) {
        size_t i = 0;
        unsigned gen = 0, epoch = 0;
        pthread_mutex_lock(&s->lock);
        char *url = take_part(s, &i, &gen, &epoch);
        pthread_mutex_unlock(&s->lock);
        if (!url) break;
        put_part(s, client, i, url, gen, epoch);
        free(url);
    }
    hf_http_client_free(client);
    return NULL;
}

/* Runs the part workers; returns when no part is left to start and none is in flight, or on a stop. */
static void run_parts(mp_state *s)
{
    const hf_multipart_options *o = s->o;
    size_t n = (size_t)(o->parallel > 0 ? o->parallel : HF_MULTIPART_DEFAULT_PARALLEL);
    const char *env = o->parallel > 0 ? NULL : getenv("HFGIT_MULTIPART_PARALLEL");
    if (env && atoi(env) > 0) n = (size_t)atoi(env); /* the library's callers set no parallel of their own */
    if (s->burst) n = HF_MULTIPART_MAX_PARALLEL;
    s->respawn = 0; /* no worker runs now: no lock needed */
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
        if (pthread_create(&tids[started], &attr, worker, s) != 0) break;
    pthread_attr_destroy(&attr);
    if (started == 0) worker(s); /* no thread could start: do the parts here, one at a time */
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

/* 1 when every part is done. */
static int all_done(mp_state *s)
{
    for (size_t i = 0; i < s->o->part_count; i++)
        if (s->part_state[i] != PART_DONE) return 0;
    return 1;
}

/* A completion refused this way means the server does not hold the parts we think it does. */
static int lost_parts_status(long status)
{
    return status == 400 || status == 404 || status == 409 || status == 422;
}

/* POSTs the completion. 0 done; 1 to run the parts again (the state says which); negative: final error. */
static int complete(mp_state *s, int *completion_restarts)
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
    req.url = s->complete_url;
    req.headers = headers;
    req.body = body.ptr;
    req.body_len = body.len;
    req.response_timeout_secs = COMPLETE_RESPONSE_TIMEOUT_SECS;
    /* a zero-length slice: no bytes to count, but the caller's cancel still ends the (long) wait */
    uint64_t none_reported = 0;
    xfer_slice none = {&s->meter, 0, &none_reported, NULL, 0};
    req.progress = xfer_slice_progress;
    req.progress_ud = &none;
    hf_trace("transfer: %.12s: completing %zu parts", o->oid, o->part_count);
    rc = hf_http_send_retry(client, &req, &o->retry, &resp);
    long status = resp.status ? resp.status : hf_error_last_http_status();
    if (rc == HF_ECANCELLED) {
        rc = hf_error_set(HF_ECANCELLED, "uploading %s: cancelled while completing the upload", o->oid);
    } else if (rc != 0 && o->refresh && (status == 403 || lost_parts_status(status)) &&
               *completion_restarts < 1 + (status == 403)) {
        /* 403: the completion URL expired; fresh URLs, and the parts again only if it is a new upload.
         * 400/404/409/422: the server lost parts (or the whole upload): every part again, once. */
        hf_trace("transfer: %.12s: completion refused (HTTP %ld): %s", o->oid, status,
                 hf_error_last_message());
        (*completion_restarts)++;
        hf_buf cause = HF_BUF_INIT;
        hf_buf_printf(&cause, "all %zu parts are in but completing the multipart upload failed: %s",
                      o->part_count, hf_error_last_message());
        pthread_mutex_lock(&s->lock);
        int r = refresh_locked(s, status != 403, hf_buf_cstr(&cause), status);
        pthread_mutex_unlock(&s->lock);
        hf_buf_free(&cause);
        rc = r == 1 ? 0 : r < 0 ? r : 1;
    } else if (rc != 0 && lost_parts_status(status) && *completion_restarts < 1) {
        (*completion_restarts)++;
        pthread_mutex_lock(&s->lock);
        restart_parts(s);
        pthread_mutex_unlock(&s->lock);
        rc = 1;
    } else if (rc != 0) {
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

static int check_options(const hf_multipart_options *o)
{
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
    return 0;
}

/* Parts recorded by an earlier, interrupted run of this upload count as done (and as progress) at once. */
static void open_journal(mp_state *s)
{
    const hf_multipart_options *o = s->o;
    if (!o->journal_dir) return;
    if (hf_part_journal_open(&s->journal, o->journal_dir, o->oid, o->size, o->chunk_size, s->identity,
                             s->etags, o->part_count, &s->from_journal) != 0) {
        hf_trace("transfer: %s (going on without a part journal)", hf_error_last_message());
        return;
    }
    for (size_t i = 0; i < o->part_count; i++) {
        if (!s->etags[i]) continue;
        s->part_state[i] = PART_DONE;
        uint64_t off = (uint64_t)i * o->chunk_size;
        xfer_slice slice = {&s->meter, o->size - off < o->chunk_size ? o->size - off : o->chunk_size,
                            &s->reported[i], NULL, 0};
        xfer_slice_add(&slice, slice.len);
    }
    if (s->from_journal)
        hf_trace("transfer: %.12s: %zu of %zu parts already sent (part journal)", o->oid, s->from_journal,
                 o->part_count);
}

int hf_multipart_upload(const hf_multipart_options *o)
{
    mp_state s;
    int owned = 0, rc;

    if ((rc = check_options(o)) != 0) return rc;
    memset(&s, 0, sizeof(s));
    atomic_init(&s.epoch, 0);
    s.o = o;
    s.urls = o->part_urls;
    s.complete_url = o->complete_url;
    s.expires_at = o->expires_at;
    hf_multipart_fresh empty = HF_MULTIPART_FRESH_INIT;
    s.fresh = empty;
    if ((rc = xfer_open_source(o->path, o->fd, o->oid, o->size, &s.fd, &owned)) != 0) return rc;
    size_t n = o->part_count ? o->part_count : 1;
    s.etags = calloc(n, sizeof(char *));
    s.part_state = calloc(n, 1);
    s.expired_count = calloc(n, 1);
    s.reported = calloc(n, sizeof(uint64_t));
    pthread_mutex_init(&s.lock, NULL);
    xfer_meter_init(&s.meter, o->size, o->progress, o->progress_ud, o->cancel);
    if (!s.etags || !s.part_state || !s.expired_count || !s.reported) {
        rc = hf_error_set(HF_ENOMEM, "uploading %s: out of memory", o->oid);
        goto out;
    }
    hf_upload_identity(o->complete_url, o->part_count ? o->part_urls[0] : NULL, s.identity);
    open_journal(&s);

    int completion_restarts = 0, stop;
    for (;;) {
        run_parts(&s);
        stop = atomic_load(&s.meter.stop);
        if (s.err_msg || stop) break;
        /* parts went back to the pool after the workers left (a late refresh), or a restart asked for
         * every part at once */
        if (!all_done(&s)) continue;
        if ((rc = complete(&s, &completion_restarts)) != 1)
            break; /* 1: the parts again (lost, or new upload) */
    }
    stop = atomic_load(&s.meter.stop);
    if (s.err_msg)
        rc = hf_error_set_http(s.err_code ? s.err_code : HF_ERROR, s.err_status, "%s", s.err_msg);
    else if (stop == 3)
        rc = 0; /* the server has the object (another push finished it) */
    else if (stop)
        rc = hf_error_set(HF_ECANCELLED, "uploading %s: cancelled", o->oid);
    if (rc == 0) { /* everything counts as sent, whatever was skipped */
        for (size_t i = 0; i < o->part_count; i++) {
            uint64_t off = (uint64_t)i * o->chunk_size;
            xfer_slice slice = {&s.meter, o->size - off < o->chunk_size ? o->size - off : o->chunk_size,
                                &s.reported[i], NULL, 0};
            xfer_slice_add(&slice, slice.len);
        }
    }
    /* a completed upload needs no record; a failed one keeps it for the next run */
    hf_part_journal_close(s.journal, rc == 0);
out:
    for (size_t i = 0; s.etags && i < o->part_count; i++)
        free(s.etags[i]);
    free(s.etags);
    free(s.part_state);
    free(s.expired_count);
    free(s.reported);
    free(s.err_msg);
    hf_multipart_fresh_free(&s.fresh);
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&s.meter.lock);
    if (owned) close(s.fd);
    return rc;
}
