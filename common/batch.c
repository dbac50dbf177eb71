/* batch.c: LFS batch API requests, action helpers and the verify call (see batch.h; decoding: batch_decode.c). */
#include "batch.h"

#include "error.h"
#include "json.h"
#include "pointer.h"
#include "transfer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BATCH_MEDIA_TYPE "application/vnd.git-lfs+json"
/* Multipart answers carry one presigned URL per part (up to 10,000 per object), so answers can be large. */
#define BATCH_MAX_RESPONSE ((size_t)256 << 20)

int hf_batch_request_body(const hf_batch_request *req, hf_buf *out)
{
    hf_jw w;
    hf_jw_init(&w, out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "operation", req->operation == HF_LFS_UPLOAD ? "upload" : "download");
    hf_jw_key(&w, "objects");
    hf_jw_arr_begin(&w);
    for (size_t i = 0; i < req->count; i++) {
        if (!req->objects[i].oid || !hf_oid_valid(req->objects[i].oid) ||
            req->objects[i].size < 0)
            return hf_error_set(HF_EINVAL, "LFS batch request: object %zu has an invalid oid or size", i);
        hf_jw_obj_begin(&w);
        hf_jw_kstr(&w, "oid", req->objects[i].oid);
        hf_jw_kint(&w, "size", req->objects[i].size);
        hf_jw_obj_end(&w);
    }
    hf_jw_arr_end(&w);
    hf_jw_key(&w, "transfers");
    hf_jw_arr_begin(&w);
    hf_jw_str(&w, "basic");
    if (req->multipart)
        hf_jw_str(&w, "multipart");
    hf_jw_arr_end(&w);
    hf_jw_key(&w, "ref");
    hf_jw_obj_begin(&w);
    if (req->ref)
        hf_jw_kstr(&w, "name", req->ref);
    hf_jw_obj_end(&w);
    hf_jw_kstr(&w, "hash_algo", "sha256");
    hf_jw_obj_end(&w);
    return w.error ? hf_error_set(HF_ENOMEM, "LFS batch request: out of memory") : 0;
}

const hf_batch_object *hf_batch_response_find(const hf_batch_response *resp, const char *oid)
{
    for (size_t i = 0; resp && i < resp->count; i++)
        if (strcmp(resp->objects[i].oid, oid) == 0)
            return &resp->objects[i];
    return NULL;
}

const char *hf_lfs_action_header(const hf_lfs_action *action, const char *name)
{
    for (size_t i = 0; action && i < action->header_count; i++)
        if (strcasecmp(action->headers[i].name, name) == 0)
            return action->headers[i].value;
    return NULL;
}

int hf_lfs_action_expired(const hf_lfs_action *action, time_t now, int margin_secs)
{
    return action->expires_at_epoch > 0 && (int64_t)now + margin_secs >= action->expires_at_epoch;
}

char **hf_lfs_action_header_list(const hf_lfs_action *action, const char *const *extra)
{
    size_t nextra = 0;
    while (extra && extra[nextra])
        nextra++;
    size_t n = nextra + (action ? action->header_count : 0);
    char **list = calloc(n + 1, sizeof(*list));
    if (!list)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < nextra; i++)
        if (!(list[k++] = strdup(extra[i])))
            goto fail;
    for (size_t i = 0; action && i < action->header_count; i++) {
        hf_buf b = HF_BUF_INIT;
        if (hf_buf_printf(&b, "%s: %s", action->headers[i].name, action->headers[i].value) < 0)
            goto fail;
        list[k++] = hf_buf_detach(&b);
    }
    return list;
fail:
    hf_lfs_headers_free(list);
    return NULL;
}

void hf_lfs_headers_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

int hf_lfs_action_plan(const hf_lfs_action *action, const char *oid, int64_t size, hf_multipart_plan *plan)
{
    hf_multipart_plan empty = HF_MULTIPART_PLAN_INIT;
    *plan = empty;
    if (size < 0)
        return hf_error_set(HF_EINVAL, "uploading %s: negative object size", oid);
    int rc = 0;
    for (size_t i = 0; rc == 0 && action && i < action->header_count; i++)
        rc = hf_multipart_plan_add(plan, action->headers[i].name, action->headers[i].value);
    if (rc == 0)
        rc = hf_multipart_plan_finish(plan, oid, (uint64_t)size);
    if (rc < 0)
        hf_multipart_plan_free(plan);
    return rc;
}

int hf_lfs_action_parts(const hf_lfs_action *action, int64_t size, const char ***urls, size_t *count,
                        uint64_t *chunk_size)
{
    *urls = NULL;
    *count = 0;
    *chunk_size = 0;
    hf_multipart_plan plan;
    int rc = hf_lfs_action_plan(action, "the object", size, &plan);
    if (rc < 0)
        return rc;
    if (!plan.multipart) {
        hf_multipart_plan_free(&plan);
        return 0;
    }
    if (plan.part_count == 0) {
        hf_multipart_plan_free(&plan);
        return hf_error_set(HF_EINVAL, "LFS multipart action for an empty object");
    }
    /* One allocation holding the pointer array and the strings, so the caller frees only the array. */
    size_t bytes = plan.part_count * sizeof(char *);
    for (size_t i = 0; i < plan.part_count; i++)
        bytes += strlen(plan.part_urls[i]) + 1;
    char **list = malloc(bytes);
    if (!list) {
        hf_multipart_plan_free(&plan);
        return hf_error_set(HF_ENOMEM, "LFS multipart action: out of memory");
    }
    char *text = (char *)(list + plan.part_count);
    for (size_t i = 0; i < plan.part_count; i++) {
        size_t n = strlen(plan.part_urls[i]) + 1;
        memcpy(text, plan.part_urls[i], n);
        list[i] = text;
        text += n;
    }
    *urls = (const char **)list;
    *count = plan.part_count;
    *chunk_size = plan.chunk_size;
    hf_multipart_plan_free(&plan);
    return 1;
}

/* ---- network ---- */

int hf_batch_send(hf_http_client *http, const hf_batch_request *req, hf_batch_response **out)
{
    *out = NULL;
    hf_buf body = HF_BUF_INIT;
    int rc = hf_batch_request_body(req, &body);
    if (rc < 0)
        return rc;
    const char *const headers[] = {"Accept: " BATCH_MEDIA_TYPE, "Content-Type: " BATCH_MEDIA_TYPE "; charset=utf-8",
                                   req->authorization, NULL};
    hf_http_request hr = HF_HTTP_REQUEST_INIT;
    hr.method = "POST";
    hr.url = req->url;
    hr.headers = headers;
    hr.bearer_token = req->token && req->token[0] && !req->authorization ? req->token : NULL;
    hr.body = body.ptr;
    hr.body_len = body.len;
    hr.max_response_bytes = BATCH_MAX_RESPONSE;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    hf_retry_policy policy = HF_RETRY_POLICY_INIT;
    time_t sent_at = time(NULL);
    rc = hf_http_send_retry(http, &hr, &policy, &resp);
    hf_buf_free(&body);
    if (rc < 0) {
        if (rc == HF_EAUTH)
            hf_error_prefix("LFS batch %s refused the credentials (check the token and its write access): ",
                            req->operation == HF_LFS_UPLOAD ? "upload" : "download");
        else
            hf_error_prefix("LFS batch %s: ", req->operation == HF_LFS_UPLOAD ? "upload" : "download");
        goto out;
    }
    /* git-lfs insists on a JSON media type; an HTML error page from a proxy is caught here. */
    const char *ct = resp.content_type ? resp.content_type : "";
    if (strncmp(ct, BATCH_MEDIA_TYPE, strlen(BATCH_MEDIA_TYPE)) != 0 && strncmp(ct, "application/json", 16) != 0) {
        rc = hf_error_set(HF_EINVAL, "LFS batch response: expected JSON, got Content-Type \"%.60s\"", ct);
        goto out;
    }
    rc = hf_batch_response_parse(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len, req->objects, req->count,
                                 sent_at);
out:
    hf_http_response_reset(&resp);
    return rc;
}

static int verify_post(hf_http_client *http, const hf_lfs_action *verify, const char *oid, int64_t size,
                       const char *token, const char *authorization)
{
    hf_buf body = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &body);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "oid", oid);
    hf_jw_kint(&w, "size", size);
    hf_jw_obj_end(&w);
    if (w.error) {
        hf_buf_free(&body);
        return hf_error_set(HF_ENOMEM, "LFS verify: out of memory");
    }
    /* The action's headers come after ours so that they can override them, as in git-lfs. */
    int own_auth = hf_lfs_action_header(verify, "Authorization") != NULL;
    const char *const base[] = {"Accept: " BATCH_MEDIA_TYPE, "Content-Type: " BATCH_MEDIA_TYPE,
                                own_auth ? NULL : authorization, NULL};
    char **headers = hf_lfs_action_header_list(verify, base);
    if (!headers) {
        hf_buf_free(&body);
        return hf_error_set(HF_ENOMEM, "LFS verify: out of memory");
    }
    hf_http_request hr = HF_HTTP_REQUEST_INIT;
    hr.method = "POST";
    hr.url = verify->href;
    hr.headers = (const char *const *)headers;
    hr.bearer_token = token && token[0] && !own_auth ? token : NULL;
    hr.body = body.ptr;
    hr.body_len = body.len;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    hf_retry_policy policy = HF_RETRY_POLICY_INIT;
    int rc = hf_http_send_retry(http, &hr, &policy, &resp);
    if (rc < 0)
        hf_error_prefix("LFS verify of %s failed: ", oid);
    hf_http_response_reset(&resp);
    hf_lfs_headers_free(headers);
    hf_buf_free(&body);
    return rc;
}

int hf_batch_verify(hf_http_client *http, const hf_lfs_action *verify, const char *oid, int64_t size,
                    const char *token)
{
    return verify_post(http, verify, oid, size, token, NULL);
}

int hf_batch_verify_auth(hf_http_client *http, const hf_lfs_action *verify, const char *oid, int64_t size,
                         const char *authorization)
{
    return verify_post(http, verify, oid, size, NULL, authorization);
}
