/* batch.c: LFS batch API requests, action helpers and the verify call (see batch.h; decoding: batch_decode.c). */
#include "batch.h"

#include "error.h"
#include "json.h"
#include "pointer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BATCH_MEDIA_TYPE "application/vnd.git-lfs+json"
/* Multipart answers carry one presigned URL per part (up to 10,000 per object), so answers can be large. */
#define BATCH_MAX_RESPONSE ((size_t)256 << 20)
#define HF_LFS_MAX_PARTS 10000

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

/* A decimal of 1..19 digits (leading zeros allowed, as in "00001") into *v; -1 otherwise. */
static int parse_decimal(const char *s, uint64_t *v)
{
    size_t n = strlen(s);
    if (n == 0 || n > 19)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int hf_lfs_action_parts(const hf_lfs_action *action, int64_t size, const char ***urls, size_t *count,
                        uint64_t *chunk_size)
{
    *urls = NULL;
    *count = 0;
    *chunk_size = 0;
    const char *cs = hf_lfs_action_header(action, "chunk_size");
    if (!cs)
        return 0;
    uint64_t chunk;
    if (parse_decimal(cs, &chunk) < 0 || chunk == 0)
        return hf_error_set(HF_EINVAL, "LFS multipart action: chunk_size \"%.30s\" is not a positive integer", cs);
    if (size <= 0)
        return hf_error_set(HF_EINVAL, "LFS multipart action for an empty object");
    uint64_t want = ((uint64_t)size + chunk - 1) / chunk;
    if (want > HF_LFS_MAX_PARTS)
        return hf_error_set(HF_EINVAL, "LFS multipart action: %llu parts of %llu bytes exceed the limit of %d",
                            (unsigned long long)want, (unsigned long long)chunk, HF_LFS_MAX_PARTS);
    size_t nparts = 0;
    for (size_t i = 0; i < action->header_count; i++) {
        uint64_t k;
        if (parse_decimal(action->headers[i].name, &k) == 0)
            nparts++;
    }
    if (nparts != want)
        return hf_error_set(HF_EINVAL,
                            "LFS multipart action: %zu part URLs for %lld bytes in chunks of %llu (expected %llu)",
                            nparts, (long long)size, (unsigned long long)chunk, (unsigned long long)want);
    const char **list = calloc(want ? want : 1, sizeof(*list));
    if (!list)
        return hf_error_set(HF_ENOMEM, "LFS multipart action: out of memory");
    for (size_t i = 0; i < action->header_count; i++) {
        uint64_t k;
        if (parse_decimal(action->headers[i].name, &k) < 0)
            continue;
        const char *u = action->headers[i].value;
        if (k < 1 || k > want || list[k - 1] ||
            (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)) {
            free(list);
            return hf_error_set(HF_EINVAL, "LFS multipart action: part key \"%.20s\" is out of range, repeated or "
                                           "has no http(s) URL", action->headers[i].name);
        }
        list[k - 1] = u;
    }
    *urls = list;
    *count = (size_t)want;
    *chunk_size = chunk;
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
    static const char *const headers[] = {"Accept: " BATCH_MEDIA_TYPE,
                                          "Content-Type: " BATCH_MEDIA_TYPE "; charset=utf-8", NULL};
    hf_http_request hr = HF_HTTP_REQUEST_INIT;
    hr.method = "POST";
    hr.url = req->url;
    hr.headers = headers;
    hr.bearer_token = req->token && req->token[0] ? req->token : NULL;
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

int hf_batch_verify(hf_http_client *http, const hf_lfs_action *verify, const char *oid, int64_t size,
                    const char *token)
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
    static const char *const base[] = {"Accept: " BATCH_MEDIA_TYPE, "Content-Type: " BATCH_MEDIA_TYPE, NULL};
    char **headers = hf_lfs_action_header_list(verify, base);
    if (!headers) {
        hf_buf_free(&body);
        return hf_error_set(HF_ENOMEM, "LFS verify: out of memory");
    }
    hf_http_request hr = HF_HTTP_REQUEST_INIT;
    hr.method = "POST";
    hr.url = verify->href;
    hr.headers = (const char *const *)headers;
    hr.bearer_token = token && token[0] && !hf_lfs_action_header(verify, "Authorization") ? token : NULL;
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
