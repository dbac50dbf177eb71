/*
 * download.c: one download request, from its JSON line to its `complete` line (see agent.h).
 *
 * The object is fetched by the shared engine (common/download.h): byte ranges in parallel into
 * <git dir>/lfs/incomplete (the same file system as git-lfs's store, which it renames into), resumable.
 * git-lfs then hashes the file (a corrupted range fails the object there: nothing reaches its store) and
 * moves it into .git/lfs/objects; the engine's own SHA-256 pass is skipped to save a second read. Progress lines
 * follow the upload rules (upload.c): exact, never a byte twice, bytesSoFar ending at the size.
 *
 * With an action (the server chose this agent) its href and headers are used; in standalone mode (action
 * null) the agent asks the batch API itself (standalone.c).
 */
#include "agent.h"

#include "../common/download.h"
#include "../common/error.h"
#include "../common/trace.h"

#include <stdlib.h>

static int fetch(const agent_config *cfg, const agent_request *req, const char *href,
                 const char *const *headers, agent_progress *prog, hf_buf *path)
{
    hf_buf dir = HF_BUF_INIT;
    int rc = agent_incomplete_dir(&dir);
    if (rc == 0) {
        hf_download_options d = HF_DOWNLOAD_OPTIONS_INIT;
        hf_download_options_from_env(&d);
        if (cfg->download_parallel > 0) d.parallel = cfg->download_parallel;
        d.url = href;
        d.headers = headers;
        d.oid = req->oid;
        d.size = (uint64_t)req->size;
        d.dir = dir.ptr;
        d.retry = cfg->retry;
        d.progress = agent_progress_cb;
        d.progress_ud = prog;
        /* git-lfs hashes what we hand it before it moves it into its store (and fails the object on a
         * mismatch), so a hash here would read 50 GB twice for nothing */
        d.trust_caller_hash = 1;
        rc = hf_download_object(&d, path);
    }
    hf_buf_free(&dir);
    return rc;
}

void agent_download(const agent_config *cfg, const agent_request *req)
{
    agent_progress prog;
    hf_buf path = HF_BUF_INIT;
    agent_progress_init(&prog, req->oid, (uint64_t)req->size);
    hf_error_clear();
    int rc;
    if (req->standalone) {
        hf_batch_response *resp = NULL;
        const hf_batch_object *o = NULL;
        rc = agent_standalone_batch(HF_LFS_DOWNLOAD, req->oid, req->size, &resp, &o);
        char **headers = rc == 0 ? hf_lfs_action_header_list(o->download, NULL) : NULL;
        if (rc == 0 && !headers) rc = hf_error_set(HF_ENOMEM, "out of memory");
        if (rc == 0) rc = fetch(cfg, req, o->download->href, (const char *const *)headers, &prog, &path);
        hf_lfs_headers_free(headers);
        hf_batch_response_free(resp);
    } else {
        rc = fetch(cfg, req, req->href, (const char *const *)req->plan.headers, &prog, &path);
    }
    if (rc == 0) {
        hf_trace("agent: %s: downloaded to %s", req->oid, path.ptr);
        agent_emit_complete_path(req->oid, path.ptr);
    } else {
        agent_complete_error(req->oid, rc);
    }
    hf_buf_free(&path);
}
