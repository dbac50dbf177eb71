/* lfs_parse.c: decoding and validating batch and completion bodies for the hub (see lfs_parse.h). */
#include "lfs_parse.h"

#include "../common/error.h"
#include "../common/json.h"
#include "../common/pointer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_BAD_REQUEST 400
#define HTTP_CONFLICT 409
#define HTTP_UNPROCESSABLE 422

static unsigned refuse(hf_buf *err, unsigned status, const char *msg)
{
    hf_buf_puts(err, msg);
    return status;
}

static int advertises(const hf_json *doc, const char *name)
{
    int arr = hf_json_get(doc, 0, "transfers"); /* not an array: advertises nothing, as git-lfs's "basic" */
    for (int i = 0; i < hf_json_count(doc, arr); i++)
        if (hf_json_str_eq(doc, hf_json_at(doc, arr, i), name)) return 1;
    return 0;
}

/* The per-object checks that need no disk; a failure is that object's own 422, not the batch's. */
static int batch_object(const hf_json *doc, int tok, hub_batch_object *o)
{
    int t = hf_json_get(doc, tok, "oid");
    if (hf_json_type_of(doc, t) == HF_JSON_STRING && !(o->oid = hf_json_strdup(doc, t))) return -1;
    if (hf_json_get_int64(doc, tok, "size", &o->size)) {
        o->size = 0;
        snprintf(o->msg, sizeof(o->msg), "Invalid size: \"size\" must be an integer");
    } else if (!o->oid || !hf_oid_valid(o->oid)) {
        snprintf(o->msg, sizeof(o->msg),
                 "Invalid object id: an LFS oid is 64 lowercase hexadecimal digits (sha256)");
    } else if (o->size < 0) {
        snprintf(o->msg, sizeof(o->msg), "Invalid size %" PRId64, o->size);
    } else {
        return 0;
    }
    o->code = HTTP_UNPROCESSABLE;
    return 0;
}

unsigned hub_batch_parse(const char *body, size_t len, hub_batch_request *out, hf_buf *err)
{
    memset(out, 0, sizeof(*out));
    hf_json *doc = NULL;
    if (hf_json_parse(&doc, body, len)) {
        hf_buf_printf(err, "batch request is not valid JSON: %s", hf_error_last_message());
        return HTTP_UNPROCESSABLE;
    }
    unsigned status = 0;
    int op = hf_json_get(doc, 0, "operation"), objs = hf_json_get(doc, 0, "objects");
    int halgo = hf_json_get(doc, 0, "hash_algo");
    if (hf_json_str_eq(doc, op, "upload"))
        out->operation = HUB_LFS_OP_UPLOAD;
    else if (hf_json_str_eq(doc, op, "download"))
        out->operation = HUB_LFS_OP_DOWNLOAD;
    else {
        status = refuse(err, HTTP_UNPROCESSABLE, "operation must be \"upload\" or \"download\"");
        goto out;
    }
    if (hf_json_type_of(doc, objs) != HF_JSON_ARRAY) {
        status = refuse(err, HTTP_UNPROCESSABLE, "\"objects\" must be an array");
        goto out;
    }
    /* huggingface.js spells it "sha_256". Present but null is refused too (git-lfs never sends that). */
    if (halgo >= 0 && !hf_json_str_eq(doc, halgo, "sha256") && !hf_json_str_eq(doc, halgo, "sha_256")) {
        status = refuse(err, HTTP_CONFLICT, "unsupported hash algorithm: only sha256 is supported");
        goto out;
    }
    int ref = hf_json_get(doc, 0, "ref");
    if (hf_json_type_of(doc, ref) == HF_JSON_OBJECT) {
        int name = hf_json_get(doc, ref, "name");
        if (hf_json_type_of(doc, name) == HF_JSON_STRING && !(out->ref = hf_json_strdup(doc, name))) goto oom;
    }
    out->multipart = out->operation == HUB_LFS_OP_UPLOAD && advertises(doc, "multipart");
    int n = hf_json_count(doc, objs);
    out->objects = calloc((size_t)n + 1, sizeof(*out->objects));
    if (!out->objects) goto oom;
    for (int i = 0; i < n; i++) {
        if (batch_object(doc, hf_json_at(doc, objs, i), &out->objects[i])) goto oom;
        out->count++;
    }
    goto out;
oom:
    status = refuse(err, 500, "out of memory");
out:
    hf_json_free(doc);
    return status;
}

void hub_batch_request_free(hub_batch_request *req)
{
    for (size_t i = 0; req->objects && i < req->count; i++)
        free(req->objects[i].oid);
    free(req->objects);
    free(req->ref);
    memset(req, 0, sizeof(*req));
}

/* parts[i] must be part i + 1 with a string etag. 0, or 400 with err filled. */
static unsigned complete_part(const hf_json *doc, int el, int i, hub_complete_part *p, hf_buf *err)
{
    int64_t num = 0;
    int n = i + 1;
    int etag = hf_json_get(doc, el, "etag");
    if (hf_json_get_int64(doc, el, "partNumber", &num) || hf_json_type_of(doc, etag) != HF_JSON_STRING) {
        hf_buf_printf(err, "parts[%d] needs an integer \"partNumber\" and a string \"etag\"", i);
        return HTTP_BAD_REQUEST;
    }
    if (num > n) {
        hf_buf_printf(err, "part %d missing from the completion (parts[%d] is part %" PRId64 ")", n, i, num);
        return HTTP_BAD_REQUEST;
    }
    if (num != n) {
        hf_buf_printf(err, "part numbers must be 1..N, each once and in order: parts[%d] is %" PRId64, i,
                      num);
        return HTTP_BAD_REQUEST;
    }
    p->number = (uint64_t)n;
    if (!(p->etag = hf_json_strdup(doc, etag))) return refuse(err, 500, "out of memory");
    return 0;
}

unsigned hub_complete_parse(const char *body, size_t len, hub_complete_request *out, hf_buf *err)
{
    memset(out, 0, sizeof(*out));
    hf_json *doc = NULL;
    if (hf_json_parse(&doc, body, len)) {
        hf_buf_printf(err, "completion body is not JSON: %s", hf_error_last_message());
        return HTTP_BAD_REQUEST;
    }
    unsigned status = 0;
    int oid = hf_json_get(doc, 0, "oid"), parts = hf_json_get(doc, 0, "parts");
    hf_buf s = HF_BUF_INIT;
    if (hf_json_str(doc, oid, &s) || s.len != 64 || !hf_oid_valid(s.ptr) ||
        hf_json_type_of(doc, parts) != HF_JSON_ARRAY) {
        status = refuse(err, HTTP_BAD_REQUEST,
                        "completion body must be {\"oid\":<sha256>,\"parts\":[{\"partNumber\",\"etag\"}]}");
        goto out;
    }
    int count = hf_json_count(doc, parts);
    if (count > HUB_LFS_MAX_PARTS) {
        hf_buf_printf(err, "%d parts listed: an upload has at most %d", count, HUB_LFS_MAX_PARTS);
        status = HTTP_BAD_REQUEST;
    } else if (!(out->parts = calloc((size_t)count + 1, sizeof(*out->parts)))) {
        status = refuse(err, 500, "out of memory");
    }
    for (int i = 0; !status && i < count; i++) {
        status = complete_part(doc, hf_json_at(doc, parts, i), i, &out->parts[i], err);
        if (!status) out->count++;
    }
    memcpy(out->oid, s.ptr, 65); /* set even on a part-tier refusal: it tells the tiers apart */
out:
    hf_buf_free(&s);
    hf_json_free(doc);
    return status;
}

void hub_complete_request_free(hub_complete_request *req)
{
    for (size_t i = 0; req->parts && i < req->count; i++)
        free(req->parts[i].etag);
    free(req->parts);
    memset(req, 0, sizeof(*req));
}
