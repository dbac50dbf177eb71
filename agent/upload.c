/*
 * upload.c: one upload request, from its JSON line to its `complete` line (see agent.h).
 *
 * Progress protocol, and why it looks the way it does:
 *  - Right after the request is read (main.c) we send bytesSoFar:1, bytesSinceLast:0. git-lfs holds its other
 *    workers until worker 0 reports bytesSoFar > 0 (reference/git-lfs-3.3.0.md §2.3); without this event a
 *    multi-GB object would serialise the whole batch. bytesSinceLast:0 keeps git-lfs's byte meter, which only
 *    adds bytesSinceLast, exact.
 *  - After that, bytesSoFar is the true number of bytes the server has taken (not 1 + bytes): the "1" was a
 *    placeholder, and the first real event always has bytesSoFar >= 1, so bytesSoFar never goes backwards.
 *    bytesSinceLast is the bytes since the previous event; over the object the bytesSinceLast values sum to
 *    exactly the size and the last bytesSoFar equals the size (the engine never counts a retried byte twice).
 *  - Events are sent when 100 ms have passed, or 1 MiB has accumulated and 10 ms have passed (so a fast
 *    link gets at most ~100 lines a second), and always for the last byte.
 *  - Objects of size 0 get no started event (bytesSoFar:1 would exceed the size); their `complete` releases
 *    the git-lfs gate just as well.
 */
#include "agent.h"

#include "../common/error.h"
#include "../common/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRESS_MAX_GAP_NS (100 * 1000000ULL)
#define PROGRESS_MIN_GAP_NS (10 * 1000000ULL)
#define PROGRESS_BATCH_BYTES ((uint64_t)1024 * 1024)

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void agent_progress_init(agent_progress *p, const char *oid, uint64_t size)
{
    p->oid = oid;
    p->size = size;
    p->pending = 0;
    p->last_ns = mono_ns();
}

/* hf_transfer_progress_cb: the engines call it under their lock, so no two calls overlap. */
int agent_progress_cb(void *ud, uint64_t new_bytes, uint64_t total)
{
    agent_progress *p = ud;
    uint64_t now = mono_ns(), gap = now - p->last_ns;
    p->pending += new_bytes;
    if (p->pending == 0) return 0;
    if (total == p->size || gap >= PROGRESS_MAX_GAP_NS ||
        (p->pending >= PROGRESS_BATCH_BYTES && gap >= PROGRESS_MIN_GAP_NS)) {
        if (agent_emit_progress(p->oid, total, p->pending) != 0)
            return 1; /* git-lfs is gone: stop the transfer */
        p->pending = 0;
        p->last_ns = now;
    }
    return 0;
}

void agent_complete_error(const char *oid, int rc)
{
    long status = hf_error_last_http_status();
    int code = status > 0 ? (int)status : rc == HF_EINVAL ? AGENT_ECODE_REQUEST : AGENT_ECODE_GENERIC;
    fprintf(stderr, "git-lfs-hfmultipart: %s\n", hf_error_last_message());
    agent_emit_complete(oid, code, hf_error_last_message());
}

/* The part journal goes to <lfs dir>/tmp, next to git-lfs's own temporary files: the object path git-lfs
 * gives is <lfs dir>/objects/aa/bb/<oid>. Anything else (a custom layout): no journal. */
static int journal_dir(const char *path, const char *oid, hf_buf *out)
{
    size_t n = strlen(path), ol = strlen(oid);
    const char *tail = n > ol + 14 ? path + n - ol - 14 : NULL; /* "objects/aa/bb/" + oid */
    if (!tail || strncmp(tail, "objects/", 8) != 0 || strcmp(path + n - ol, oid) != 0) return -1;
    hf_buf_put(out, path, (size_t)(tail - path));
    hf_buf_puts(out, "tmp");
    return out->ptr ? 0 : -1;
}

static int run_transfer(const agent_config *cfg, const agent_request *req, agent_progress *prog)
{
    const char *oid = req->oid, *path = req->path, *href = req->href;
    uint64_t size = (uint64_t)req->size;
    const hf_multipart_plan *plan = &req->plan;
    agent_refresh_ctx rc_ctx = {req, NULL, NULL};
    if (plan->multipart) {
        hf_buf jdir = HF_BUF_INIT;
        hf_multipart_options o = HF_MULTIPART_OPTIONS_INIT;
        o.path = path;
        o.oid = oid;
        o.size = size;
        o.chunk_size = plan->chunk_size;
        o.part_urls = (const char *const *)plan->part_urls;
        o.part_count = plan->part_count;
        o.complete_url = href;
        o.parallel = cfg->parallel;
        o.retry = cfg->retry;
        o.progress = agent_progress_cb;
        o.progress_ud = prog;
        o.journal_dir = journal_dir(path, oid, &jdir) == 0 ? jdir.ptr : NULL;
        o.expires_at = req->expires_at;
        o.refresh = agent_refresh_upload;
        o.refresh_ud = &rc_ctx;
        hf_trace("agent: %s: multipart, %zu parts of %llu bytes, %d at once", oid, plan->part_count,
                 (unsigned long long)plan->chunk_size, cfg->parallel);
        int rc = hf_multipart_upload(&o);
        hf_buf_free(&jdir);
        return agent_refresh_finish(&rc_ctx, rc);
    }
    hf_single_put_options o = HF_SINGLE_PUT_OPTIONS_INIT;
    o.path = path;
    o.oid = oid;
    o.size = size;
    o.href = href;
    o.headers = (const char *const *)plan->headers;
    o.retry = cfg->retry;
    o.progress = agent_progress_cb;
    o.progress_ud = prog;
    o.refresh = agent_refresh_upload; /* a 403 (the URL expired) asks the batch API again */
    o.refresh_ud = &rc_ctx;
    hf_trace("agent: %s: single PUT of %llu bytes", oid, (unsigned long long)size);
    return agent_refresh_finish(&rc_ctx, hf_single_put(&o));
}

/* Standalone mode: the batch API first. No upload action means the server has the object already. The
 * verify action, which git-lfs runs itself after a custom transfer, is skipped by git-lfs in standalone mode
 * (it never saw the batch answer), so it is run here. */
static int standalone_upload(const agent_config *cfg, const agent_request *req, agent_progress *prog)
{
    hf_batch_response *resp = NULL;
    const hf_batch_object *o = NULL;
    uint64_t size = (uint64_t)req->size;
    int rc = agent_standalone_batch(HF_LFS_UPLOAD, req->oid, req->size, &resp, &o);
    if (rc == 0 && !o->upload) {
        hf_trace("agent: %s: the server has it already", req->oid);
        agent_progress_cb(prog, size, size);
    } else if (rc == 0) {
        /* the request as git-lfs would have sent it with the batch answer's action (a shallow copy) */
        agent_request with_action = *req;
        hf_multipart_plan no_plan = HF_MULTIPART_PLAN_INIT;
        with_action.plan = no_plan;
        with_action.href = o->upload->href;
        with_action.expires_at = o->upload->expires_at_epoch;
        rc = hf_lfs_action_plan(o->upload, o->oid, o->size, &with_action.plan);
        if (rc == 0) rc = run_transfer(cfg, &with_action, prog);
        hf_multipart_plan_free(&with_action.plan);
    }
    if (rc == 0 && o->verify) {
        hf_http_client *http = NULL;
        rc = hf_http_client_new(&http);
        /* the verify POST carries the credentials (git-lfs sends them unless "authenticated") */
        if (rc == 0) rc = hf_batch_verify_auth(http, o->verify, o->oid, o->size, o->authenticated ? NULL :
                                               agent_standalone_authorization());
        hf_http_client_free(http);
    }
    hf_batch_response_free(resp);
    return rc;
}

void agent_upload(const agent_config *cfg, const agent_request *req)
{
    const char *oid = req->oid;
    uint64_t size = (uint64_t)req->size;
    agent_progress prog;
    agent_progress_init(&prog, oid, size);

    hf_error_clear();
    int rc = req->standalone ? standalone_upload(cfg, req, &prog)
                             : run_transfer(cfg, req, &prog);
    if (rc == 0) {
        hf_trace("agent: %s: done", oid);
        agent_emit_complete(oid, 0, NULL);
    } else {
        agent_complete_error(oid, rc);
    }
}
