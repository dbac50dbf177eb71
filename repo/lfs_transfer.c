/* lfs_transfer.c: batch + parallel upload/download of LFS objects (see lfs_transfer.h). */
#include "lfs_transfer.h"

#include "lfs_store.h"

#include "../common/config.h"
#include "../common/download.h"
#include "../common/error.h"
#include "../common/transfer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_WORKERS 8 /* git-lfs's lfs.concurrenttransfers default */
#define EXPIRY_MARGIN_SECS 30

typedef struct xfer_job {
    const hf_lfs_pointer *obj;
    const char *path;                 /* working-tree path, for messages */
    const hf_batch_object *answer;    /* from the batch response */
} xfer_job;

typedef struct xfer_run {
    hf_repo *repo;
    hf_lfs_operation op;
    const hf_lfs_xfer_options *opts;
    const char *batch_url;
    xfer_job *jobs;
    size_t njobs;
    atomic_size_t next;
    atomic_int cancel;
    pthread_mutex_t lock;             /* guards the fields below */
    int rc;
    char *message;                    /* first failure's text (error messages are per thread) */
    uint64_t done, total;
    hf_rate_limiter *rate;            /* the push's own bandwidth limit (opts->max_rate), or NULL */
} xfer_run;

static void run_fail(xfer_run *run, int rc)
{
    pthread_mutex_lock(&run->lock);
    if (run->rc == 0) {
        run->rc = rc;
        run->message = strdup(hf_error_last_message());
    }
    pthread_mutex_unlock(&run->lock);
    atomic_store(&run->cancel, 1);
}

static int progress_add(void *ud, uint64_t new_bytes, uint64_t total)
{
    (void)total;
    xfer_run *run = ud;
    int stop = 0;
    pthread_mutex_lock(&run->lock);
    run->done += new_bytes;
    if (run->opts->progress && run->opts->progress(run->done, run->total, run->opts->progress_payload) != 0)
        stop = 1;
    pthread_mutex_unlock(&run->lock);
    if (stop)
        atomic_store(&run->cancel, 1);
    return stop;
}

/* The caller's progress callback asked to stop: the whole transfer fails, so no git object follows. */
static int cancelled(const xfer_run *run)
{
    return hf_error_set(HF_ECANCELLED, "%s cancelled by the progress callback",
                        run->op == HF_LFS_UPLOAD ? "LFS upload (and the push)" : "LFS download");
}

/* A fresh batch answer for one object whose action is about to expire. */
static int rebatch(xfer_run *run, hf_http_client *http, const xfer_job *job, hf_batch_response **out)
{
    hf_batch_item item = {job->obj->oid, (int64_t)job->obj->size};
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.url = run->batch_url;
    req.token = hf_repo_token_for(run->repo, run->batch_url);
    req.operation = run->op;
    req.objects = &item;
    req.count = 1;
    req.multipart = run->opts->multipart;
    req.ref = run->opts->ref;
    return hf_batch_send(http, &req, out);
}

/* The engine's refresh callback (common/transfer.h): a new batch request for this one object when its part
 * URLs expired. The engine calls it while this worker waits in hf_multipart_upload, so the worker's HTTP
 * client is free to use. */
typedef struct refresh_ctx {
    xfer_run *run;
    hf_http_client *http;
    const xfer_job *job;
    hf_batch_response *fresh; /* the last fresh answer that had an upload action: its verify action is the
                               * one to call (on S3 storage it names the upload it goes with) */
    const hf_batch_object *fresh_obj;
} refresh_ctx;

static int refresh_upload(void *ud, hf_multipart_fresh *out)
{
    refresh_ctx *c = ud;
    hf_batch_response *fresh = NULL;
    int rc = rebatch(c->run, c->http, c->job, &fresh);
    const hf_batch_object *o = rc == 0 ? hf_batch_response_find(fresh, c->job->obj->oid) : NULL;
    if (rc == 0 && (!o || o->error_code))
        rc = hf_error_set(HF_EHTTP, "the LFS server refused %s on a new batch request: [%d] %s", c->job->path,
                          o ? o->error_code : 0, o && o->error_message ? o->error_message : "no answer");
    else if (rc == 0 && !o->upload)
        rc = 1; /* the server has it now */
    else if (rc == 0 && (rc = hf_lfs_action_plan(o->upload, o->oid, o->size, &out->plan)) == 0) {
        out->complete_url = strdup(o->upload->href);
        out->expires_at = o->upload->expires_at_epoch;
        if (!out->complete_url)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
    }
    if (rc == 0) { /* keep it for its verify action */
        hf_batch_response_free(c->fresh);
        c->fresh = fresh;
        c->fresh_obj = o;
        fresh = NULL;
    }
    hf_batch_response_free(fresh);
    return rc;
}

static int do_upload(xfer_run *run, hf_http_client *http, const xfer_job *job, const hf_batch_object *o)
{
    hf_buf path = HF_BUF_INIT, jdir = HF_BUF_INIT;
    refresh_ctx rctx = {run, http, job, NULL, NULL};
    int rc = hf_lfs_object_path(&path, run->repo->lfs_dir.ptr, o->oid);
    if (rc < 0)
        return rc;
    /* one plan for both transfers, so a malformed action is reported naming the object's oid */
    hf_multipart_plan plan = HF_MULTIPART_PLAN_INIT;
    rc = hf_lfs_action_plan(o->upload, o->oid, o->size, &plan);
    if (rc == 0 && plan.multipart) {
        hf_multipart_options mo = HF_MULTIPART_OPTIONS_INIT;
        mo.path = path.ptr;
        mo.oid = o->oid;
        mo.size = (uint64_t)o->size;
        mo.chunk_size = plan.chunk_size;
        mo.part_urls = (const char *const *)plan.part_urls;
        mo.part_count = plan.part_count;
        mo.complete_url = o->upload->href;
        mo.progress = progress_add;
        mo.progress_ud = run;
        mo.cancel = &run->cancel;
        /* finished parts are recorded next to the store's temporary files, so a killed push resumes */
        mo.journal_dir = hf_buf_printf(&jdir, "%s/tmp", run->repo->lfs_dir.ptr) == 0 ? jdir.ptr : NULL;
        mo.expires_at = o->upload->expires_at_epoch;
        mo.refresh = refresh_upload;
        mo.refresh_ud = &rctx;
        mo.rate_limit = run->rate;
        rc = hf_multipart_upload(&mo);
    } else if (rc == 0) {
        hf_single_put_options so = HF_SINGLE_PUT_OPTIONS_INIT;
        so.path = path.ptr;
        so.oid = o->oid;
        so.size = (uint64_t)o->size;
        so.href = o->upload->href;
        so.headers = (const char *const *)plan.headers;
        so.progress = progress_add;
        so.progress_ud = run;
        so.cancel = &run->cancel;
        so.rate_limit = run->rate;
        so.refresh = refresh_upload; /* a 403 (the URL expired) asks the batch API again, as for parts */
        so.refresh_ud = &rctx;
        rc = hf_single_put(&so);
    }
    hf_multipart_plan_free(&plan);
    hf_buf_free(&path);
    hf_buf_free(&jdir);
    /* after fresh URLs, the verify action of the answer they came in */
    if (rctx.fresh_obj) o = rctx.fresh_obj;
    if (rc == 0 && o->verify)
        rc = hf_batch_verify(http, o->verify, o->oid, o->size,
                             o->authenticated ? NULL : hf_repo_token_for(run->repo, o->verify->href));
    hf_batch_response_free(rctx.fresh);
    return rc;
}

/* Parallel ranged GET into .git/lfs/incomplete (common/download.c: resumable, SHA-256 checked), then the
 * rename into the store. Progress goes through progress_add, which also stops the download when the
 * caller's callback cancels or another object failed (run->cancel). */
static int do_download(xfer_run *run, hf_http_client *http, const xfer_job *job, const hf_batch_object *o)
{
    (void)http; /* the engine opens one client per range worker */
    hf_buf dir = HF_BUF_INIT, done = HF_BUF_INIT, stored = HF_BUF_INIT;
    char **headers = hf_lfs_action_header_list(o->download, NULL);
    int rc = headers && hf_buf_printf(&dir, "%s/incomplete", run->repo->lfs_dir.ptr) == 0 &&
                     hf_lfs_object_path(&stored, run->repo->lfs_dir.ptr, o->oid) == 0
                 ? 0
                 : hf_error_set(HF_ENOMEM, "out of memory");
    if (rc == 0) {
        hf_download_options d = HF_DOWNLOAD_OPTIONS_INIT;
        hf_download_options_from_env(&d);
        if (run->repo->download_parallel > 0) d.parallel = run->repo->download_parallel;
        d.url = o->download->href;
        d.headers = (const char *const *)headers;
        d.oid = o->oid;
        d.size = job->obj->size;
        d.dir = dir.ptr;
        hf_retry_policy_from_env(&d.retry);
        d.progress = progress_add;
        d.progress_ud = run;
        d.cancel = &run->cancel;
        d.store_path = stored.ptr; /* another process may finish it while we wait for its lock */
        rc = hf_download_object(&d, &done);
    }
    hf_lfs_headers_free(headers);
    if (rc == 0 && done.len) rc = hf_lfs_object_commit(run->repo->lfs_dir.ptr, done.ptr, o->oid, job->obj->size);
    hf_buf_free(&dir);
    hf_buf_free(&done);
    hf_buf_free(&stored);
    return rc;
}

static void *worker(void *arg)
{
    xfer_run *run = arg;
    hf_http_client *http = NULL;
    if (hf_http_client_new(&http) < 0) {
        run_fail(run, hf_error_last_code());
        return NULL;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&run->next, 1);
        if (i >= run->njobs || atomic_load(&run->cancel))
            break;
        const xfer_job *job = &run->jobs[i];
        const hf_batch_object *o = job->answer;
        hf_batch_response *fresh = NULL;
        const hf_lfs_action *a = run->op == HF_LFS_UPLOAD ? o->upload : o->download;
        int rc = 0;
        if (a && hf_lfs_action_expired(a, time(NULL), EXPIRY_MARGIN_SECS)) {
            rc = rebatch(run, http, job, &fresh);
            o = rc == 0 ? hf_batch_response_find(fresh, job->obj->oid) : NULL;
            a = o && !o->error_code ? (run->op == HF_LFS_UPLOAD ? o->upload : o->download) : NULL;
        }
        if (rc == 0 && (!o || !a)) {
            /* one_batch queues only objects with an action: this is an expired one that was not renewed */
            hf_error_set(HF_EEXPIRED, "the LFS action for %s expired and the server gave no new one", job->path);
            rc = HF_EEXPIRED;
        }
        if (rc == 0)
            rc = run->op == HF_LFS_UPLOAD ? do_upload(run, http, job, o) : do_download(run, http, job, o);
        hf_batch_response_free(fresh);
        if (rc < 0) {
            if (rc != HF_ECANCELLED)
                hf_error_prefix("%s %s: ", run->op == HF_LFS_UPLOAD ? "uploading" : "downloading", job->path);
            run_fail(run, rc);
            break;
        }
    }
    hf_http_client_free(http);
    return NULL;
}

static int run_jobs(xfer_run *run)
{
    int n = run->opts->workers > 0 ? run->opts->workers : DEFAULT_WORKERS;
    if ((size_t)n > run->njobs)
        n = (int)run->njobs;
    pthread_t threads[64];
    if (n > 64)
        n = 64;
    int started = 0;
    for (; started < n; started++)
        if (pthread_create(&threads[started], NULL, worker, run) != 0)
            break;
    if (started == 0 && n > 0)
        worker(run); /* no threads to be had: do it here */
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    return run->rc;
}

/* One batch of up to HF_BATCH_MAX_OBJECTS objects: ask, check the answers, transfer. */
static int one_batch(xfer_run *run, hf_http_client *http, const hf_lfs_set *set, size_t from, size_t n)
{
    hf_batch_item items[HF_BATCH_MAX_OBJECTS];
    xfer_job jobs[HF_BATCH_MAX_OBJECTS];
    for (size_t i = 0; i < n; i++) {
        items[i].oid = set->items[from + i].oid;
        items[i].size = (int64_t)set->items[from + i].size;
    }
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.url = run->batch_url;
    req.token = hf_repo_token_for(run->repo, run->batch_url);
    req.operation = run->op;
    req.objects = items;
    req.count = n;
    req.multipart = run->op == HF_LFS_UPLOAD && run->opts->multipart;
    req.ref = run->opts->ref;
    hf_batch_response *resp = NULL;
    int rc = hf_batch_send(http, &req, &resp);
    if (rc < 0)
        return rc;
    size_t njobs = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const hf_lfs_pointer *obj = &set->items[from + i];
        const char *path = set->paths[from + i];
        const hf_batch_object *o = hf_batch_response_find(resp, obj->oid);
        if (!o) {
            rc = hf_error_set(HF_EINVAL, "the LFS server did not answer for %s (%s)", path, obj->oid);
        } else if (o->error_code) {
            rc = hf_error_set(o->error_code == 404 ? HF_ENOTFOUND : HF_EHTTP, "LFS server refused %s (%s): [%d] %s",
                              path, obj->oid, o->error_code, o->error_message);
        } else if (run->op == HF_LFS_UPLOAD && !o->upload) {
            /* the server has it already: counted as done, and the callback may cancel right here */
            if (progress_add(run, obj->size, 0))
                rc = cancelled(run);
        } else if (run->op == HF_LFS_UPLOAD && !hf_lfs_object_present(run->repo->lfs_dir.ptr, obj->oid, obj->size)) {
            rc = hf_error_set(HF_ENOTFOUND, "the LFS object of %s (%s, %llu bytes) is not in %s/objects and the "
                                            "server does not have it: add the file again, or fetch the object, "
                                            "before pushing",
                              path, obj->oid, (unsigned long long)obj->size, run->repo->lfs_dir.ptr);
        } else if (run->op == HF_LFS_DOWNLOAD && !o->download) {
            rc = hf_error_set(HF_ENOTFOUND, "the LFS server offers no download of %s (%s)", path, obj->oid);
        } else if (run->op == HF_LFS_UPLOAD && strcmp(resp->transfer, "basic") != 0 &&
                   strcmp(resp->transfer, "multipart") != 0) {
            rc = hf_error_set(HF_EINVAL, "the LFS server chose the transfer \"%s\", which is not supported",
                              resp->transfer);
        } else {
            jobs[njobs++] = (xfer_job){obj, path, o};
        }
    }
    if (rc == 0 && njobs) {
        run->jobs = jobs;
        run->njobs = njobs;
        atomic_store(&run->next, 0);
        rc = run_jobs(run);
        if (rc < 0 && run->message)
            hf_error_set(rc, "%s", run->message);
    }
    hf_batch_response_free(resp);
    return rc;
}

static int set_has(const hf_lfs_set *set, const char *oid)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].oid, oid) == 0) return 1;
    return 0;
}

int hf_lfs_transfer(hf_repo *repo, hf_lfs_operation op, const hf_lfs_set *set, const hf_lfs_xfer_options *opts)
{
    hf_lfs_set todo = HF_LFS_SET_INIT;
    hf_buf url = HF_BUF_INIT;
    int rc = 0;
    /* Downloads skip what is already here. */
    for (size_t i = 0; i < set->count && rc == 0; i++) {
        const hf_lfs_pointer *p = &set->items[i];
        /* an upload of an object missing here is asked about all the same: the server may have it (a copied
         * pointer, a clone with skip_lfs_files); one_batch fails when it does not */
        int present = hf_lfs_object_present(repo->lfs_dir.ptr, p->oid, p->size);
        if (op == HF_LFS_UPLOAD || (!present && !set_has(&todo, p->oid)))
            rc = hf_lfs_set_add(&todo, p, set->paths[i]); /* one download per object, however many paths */
    }
    if (rc == 0 && todo.count && (rc = hf_lfs_batch_url(&url, opts->remote_url)) < 0)
        hf_error_prefix("no LFS endpoint for the remote: ");
    if (rc < 0 || todo.count == 0)
        goto out;
    xfer_run run;
    memset(&run, 0, sizeof(run));
    run.repo = repo;
    run.op = op;
    run.opts = opts;
    run.batch_url = url.ptr;
    run.total = hf_lfs_set_bytes(&todo);
    atomic_init(&run.next, 0);
    atomic_init(&run.cancel, 0);
    pthread_mutex_init(&run.lock, NULL);
    hf_http_client *http = NULL;
    rc = opts->max_rate ? hf_rate_limiter_new(&run.rate, opts->max_rate) : 0;
    if (rc == 0)
        rc = hf_http_client_new(&http);
    for (size_t from = 0; rc == 0 && from < todo.count; from += HF_BATCH_MAX_OBJECTS) {
        size_t n = todo.count - from < HF_BATCH_MAX_OBJECTS ? todo.count - from : HF_BATCH_MAX_OBJECTS;
        rc = one_batch(&run, http, &todo, from, n);
        /* a worker that saw the cancel flag stops without a failure of its own; the callback may also have
         * asked to stop on the very last report */
        if (rc == 0 && atomic_load(&run.cancel))
            rc = cancelled(&run);
    }
    hf_http_client_free(http);
    hf_rate_limiter_free(run.rate);
    free(run.message);
    pthread_mutex_destroy(&run.lock);
out:
    hf_lfs_set_free(&todo);
    hf_buf_free(&url);
    return rc;
}
