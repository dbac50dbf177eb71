/*
 * upload.c: one upload request, from its JSON line to its `complete` line (see agent.h).
 *
 * Progress protocol, and why it looks the way it does:
 *  - Right after the request is understood we send bytesSoFar:1, bytesSinceLast:0. git-lfs holds its other
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
#include "../common/pointer.h"
#include "../common/trace.h"
#include "../common/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRESS_MAX_GAP_NS (100 * 1000000ULL)
#define PROGRESS_MIN_GAP_NS (10 * 1000000ULL)
#define PROGRESS_BATCH_BYTES (1024 * 1024)

typedef struct progress_state {
    const char *oid;
    uint64_t size;
    uint64_t pending; /* bytes moved but not yet reported */
    uint64_t last_ns;
} progress_state;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* hf_transfer_progress_cb: the engine calls it under its lock, so no two calls overlap. */
static int on_progress(void *ud, uint64_t new_bytes, uint64_t total)
{
    progress_state *p = ud;
    uint64_t now = mono_ns(), gap = now - p->last_ns;
    p->pending += new_bytes;
    if (p->pending == 0) return 0;
    if (total == p->size || gap >= PROGRESS_MAX_GAP_NS ||
        (p->pending >= PROGRESS_BATCH_BYTES && gap >= PROGRESS_MIN_GAP_NS)) {
        if (agent_emit_progress(p->oid, total, p->pending) != 0)
            return 1; /* git-lfs is gone: stop uploading */
        p->pending = 0;
        p->last_ns = now;
    }
    return 0;
}

/* Reads action.header into the plan. Values are strings (git-lfs models header as map[string]string);
 * chunk_size is also accepted as a JSON number for other callers. */
static int read_header(const hf_json *doc, int header, hf_multipart_plan *plan)
{
    int n = hf_json_count(doc, header);
    for (int i = 0; i < n; i++) {
        int key_tok, val = hf_json_member(doc, header, i, &key_tok);
        char *key = hf_json_strdup(doc, key_tok);
        int rc;
        if (!key) return hf_error_set(HF_EINVAL, "action.header has a key that is not a string");
        if (hf_json_type_of(doc, val) == HF_JSON_STRING) {
            char *value = hf_json_strdup(doc, val);
            rc = value ? hf_multipart_plan_add(plan, key, value) : hf_error_set(HF_ENOMEM, "out of memory");
            free(value);
        } else if (strcmp(key, "chunk_size") == 0) {
            int64_t c;
            rc = hf_json_int64(doc, val, &c);
            rc = rc ? hf_error_set(HF_EINVAL, "action.header.chunk_size is not an integer")
                    : hf_multipart_plan_set_chunk_size(plan, c > 0 ? (uint64_t)c : 0);
        } else {
            rc = hf_error_set(HF_EINVAL, "action.header.%.40s is not a string", key);
        }
        free(key);
        if (rc) return rc;
    }
    return 0;
}

/* The action: href and header. Standalone mode sends "action": null, which this agent cannot serve. */
static int read_action(const hf_json *doc, char **href, hf_multipart_plan *plan)
{
    int action = hf_json_get(doc, 0, "action");
    if (hf_json_type_of(doc, action) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL,
                            "the request carries no upload action (standalone transfer mode is not "
                            "supported: this agent needs the URLs from the Hub's batch response)");
    *href = hf_json_get_strdup(doc, action, "href");
    if (!*href || !**href) return hf_error_set(HF_EINVAL, "the upload action has no href");
    int header = hf_json_get(doc, action, "header");
    if (header < 0 || hf_json_type_of(doc, header) == HF_JSON_NULL) return 0;
    if (hf_json_type_of(doc, header) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL, "the upload action's header is not an object");
    return read_header(doc, header, plan);
}

static int run_transfer(const agent_config *cfg, const char *oid, uint64_t size, const char *path,
                        const char *href, const hf_multipart_plan *plan, progress_state *prog)
{
    if (plan->multipart) {
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
        o.progress = on_progress;
        o.progress_ud = prog;
        hf_trace("agent: %s: multipart, %zu parts of %llu bytes, %d at once", oid, plan->part_count,
                 (unsigned long long)plan->chunk_size, cfg->parallel);
        return hf_multipart_upload(&o);
    }
    hf_single_put_options o = HF_SINGLE_PUT_OPTIONS_INIT;
    o.path = path;
    o.oid = oid;
    o.size = size;
    o.href = href;
    o.headers = (const char *const *)plan->headers;
    o.retry = cfg->retry;
    o.progress = on_progress;
    o.progress_ud = prog;
    hf_trace("agent: %s: single PUT of %llu bytes", oid, (unsigned long long)size);
    return hf_single_put(&o);
}

void agent_upload(const agent_config *cfg, hf_json **docp)
{
    const hf_json *doc = *docp;
    char *oid = hf_json_get_strdup(doc, 0, "oid");
    char *path = NULL, *href = NULL;
    hf_multipart_plan plan = HF_MULTIPART_PLAN_INIT;
    int64_t size = -1;
    int rc;

    hf_error_clear();
    if (!oid || !hf_oid_valid(oid)) {
        rc = hf_error_set(HF_EINVAL, "the upload request has no valid oid (64 lowercase hex digits)");
        goto out;
    }
    if (hf_json_get_int64(doc, 0, "size", &size) != 0 || size < 0) {
        rc = hf_error_set(HF_EINVAL, "the upload request for %s has no valid size", oid);
        goto out;
    }
    /* Release git-lfs's worker gate before anything slow happens. */
    if (size > 0) agent_emit_progress(oid, 1, 0);
    path = hf_json_get_strdup(doc, 0, "path");
    if (!path || !*path) {
        rc = hf_error_set(HF_EINVAL, "the upload request for %s has no path", oid);
        goto out;
    }
    if ((rc = read_action(doc, &href, &plan)) != 0) {
        hf_error_prefix("upload request for %s: ", oid);
        goto out;
    }
    if ((rc = hf_multipart_plan_finish(&plan, oid, (uint64_t)size)) != 0) /* its messages name the oid */
        goto out;
    hf_json_free(*docp); /* everything needed is copied into oid, path, href and the plan */
    *docp = NULL;
    doc = NULL;
    progress_state prog = {oid, (uint64_t)size, 0, mono_ns()};
    rc = run_transfer(cfg, oid, (uint64_t)size, path, href, &plan, &prog);

out:
    if (rc == 0) {
        hf_trace("agent: %s: done", oid);
        agent_emit_complete(oid, 0, NULL);
    } else {
        long status = hf_error_last_http_status();
        int code = status > 0 ? (int)status : rc == HF_EINVAL ? AGENT_ECODE_REQUEST : AGENT_ECODE_GENERIC;
        fprintf(stderr, "git-lfs-hfmultipart: %s\n", hf_error_last_message());
        agent_emit_complete(oid ? oid : "", code, hf_error_last_message());
    }
    hf_multipart_plan_free(&plan);
    free(oid);
    free(path);
    free(href);
}
