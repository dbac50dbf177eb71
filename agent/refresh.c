/*
 * refresh.c: fresh upload URLs for an object whose part URLs expired mid-upload (see agent.h).
 *
 * git-lfs hands the agent one batch answer and never asks again for an object it gave out, so when a
 * part URL expires (S3 answers 403; huggingface.co's part URLs live about 15 minutes) the agent asks the
 * batch API itself, as git-lfs would: same endpoint, same credentials (`git credential fill`), one object.
 * The engine (common/multipart.c) then goes on with the same upload, or restarts the object on a new one.
 *
 * The endpoint and the token are looked up on the first refresh and kept for the process (git-lfs runs
 * one agent process per push). Requests come one at a time and the engine never refreshes twice at once,
 * so the cache needs no lock beyond the once-per-process lookup's own.
 */
#include "agent.h"

#include "../common/batch.h"
#include "../common/error.h"
#include "../common/git_lookup.h"
#include "../common/trace.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *remote_name; /* from init */
static hf_buf batch_url = HF_BUF_INIT;
static hf_buf token = HF_BUF_INIT; /* wiped at exit by the OS; never printed */
static int looked_up;

void agent_refresh_set_remote(const char *remote)
{
    pthread_mutex_lock(&lock);
    free(remote_name);
    remote_name = remote ? strdup(remote) : NULL;
    looked_up = 0;
    pthread_mutex_unlock(&lock);
}

static int lookup(void)
{
    if (looked_up) return 0;
    int rc = hf_git_lfs_batch_url(remote_name ? remote_name : "origin", &batch_url);
    if (rc == 0) rc = hf_git_lfs_token(batch_url.ptr, &token);
    if (rc == HF_ENOTFOUND && batch_url.len) { /* a public endpoint may need no credentials */
        hf_git_secret_free(&token);
        rc = 0;
    }
    if (rc == 0) looked_up = 1;
    return rc;
}

int agent_refresh_upload(void *ud, hf_multipart_fresh *out)
{
    agent_refresh_ctx *c = ud;
    const agent_request *req = c->req;
    hf_batch_response *resp = NULL;
    hf_http_client *http = NULL;
    pthread_mutex_lock(&lock);
    int rc = lookup();
    if (rc == 0) rc = hf_http_client_new(&http);
    if (rc == 0) {
        hf_batch_item item = {req->oid, req->size};
        hf_batch_request b = HF_BATCH_REQUEST_INIT;
        b.url = batch_url.ptr;
        b.token = token.len ? token.ptr : NULL;
        b.operation = HF_LFS_UPLOAD;
        b.objects = &item;
        b.count = 1;
        b.multipart = 1;
        hf_trace("agent: %s: asking the batch API again for fresh upload URLs", req->oid);
        rc = hf_batch_send(http, &b, &resp);
    }
    pthread_mutex_unlock(&lock);
    const hf_batch_object *o = rc == 0 ? hf_batch_response_find(resp, req->oid) : NULL;
    if (rc == 0 && !o) {
        rc = hf_error_set(HF_EINVAL, "the batch answer does not list %s", req->oid);
    } else if (rc == 0 && o->error_code) {
        rc = hf_error_set(HF_EHTTP, "the batch API refused %s: [%d] %s", req->oid, o->error_code,
                          o->error_message ? o->error_message : "");
    } else if (rc == 0 && !o->upload) {
        rc = 1; /* the server has it now */
    } else if (rc == 0) {
        rc = hf_lfs_action_plan(o->upload, req->oid, req->size, &out->plan);
        out->complete_url = rc == 0 ? strdup(o->upload->href) : NULL;
        if (rc == 0 && !out->complete_url) rc = hf_error_set(HF_ENOMEM, "out of memory");
        out->expires_at = o->upload->expires_at_epoch;
    }
    if (rc == 0) { /* kept for its verify action */
        hf_batch_response_free(c->fresh);
        c->fresh = resp;
        c->fresh_obj = o;
        resp = NULL;
    }
    hf_batch_response_free(resp);
    hf_http_client_free(http);
    return rc;
}

int agent_refresh_finish(agent_refresh_ctx *c, int rc)
{
    const hf_batch_object *o = c->fresh_obj;
    if (rc == 0 && o && o->verify) {
        hf_http_client *http = NULL;
        hf_trace("agent: %s: verifying with the fresh batch answer's verify action", o->oid);
        rc = hf_http_client_new(&http);
        pthread_mutex_lock(&lock);
        const char *tok = o->authenticated || !token.len ? NULL : token.ptr;
        pthread_mutex_unlock(&lock);
        if (rc == 0) rc = hf_batch_verify(http, o->verify, o->oid, o->size, tok);
        hf_http_client_free(http);
    }
    hf_batch_response_free(c->fresh);
    c->fresh = NULL;
    c->fresh_obj = NULL;
    return rc;
}
