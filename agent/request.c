/*
 * request.c: one protocol line from git-lfs into an agent_request, checked (see agent.h).
 *
 * Pure: no I/O, no threads, no globals; the fuzz target (tests/fuzz/fuzz_agent_line.c) and the unit test
 * (tests/unit/test_agent_request.c) call it directly. Everything a reply needs is copied out of the JSON
 * document, which is freed before returning: a request with thousands of part URLs is then held once in
 * memory (as the plan), not three times (line, document, plan) during the upload.
 *
 * On a bad line the request still carries whatever could be read (event, oid, size), so the caller can
 * answer git-lfs about the object it is waiting for.
 */
#include "agent.h"

#include "../common/error.h"
#include "../common/batch.h"
#include "../common/pointer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Best effort for a line that is not valid JSON: find "oid":"<64 hex>" so the error reply names the object
 * git-lfs is waiting for (it fails that object with our message). Otherwise the reply has an empty oid, which
 * git-lfs also fails cleanly ("unexpected OID"). */
static char *scan_oid(const char *line, size_t len)
{
    const char *p = line, *end = line + len;
    while ((p = memmem(p, (size_t)(end - p), "\"oid\"", 5)) != NULL) {
        p += 5;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end || *p != ':') continue;
        p++;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end || *p != '"') continue;
        p++;
        size_t n = 0;
        while (n < 64 && p + n < end && (isdigit((unsigned char)p[n]) || (p[n] >= 'a' && p[n] <= 'f')))
            n++;
        if (n == 64 && p + 64 < end && p[64] == '"') return strndup(p, 64);
    }
    return NULL;
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
            if (hf_json_int64(doc, val, &c) != 0 || c <= 0)
                rc = hf_error_set(HF_EINVAL, "the upload action's chunk_size is not a positive integer");
            else
                rc = hf_multipart_plan_set_chunk_size(plan, (uint64_t)c);
        } else {
            rc = hf_error_set(HF_EINVAL, "action.header.%.40s is not a string", key);
        }
        free(key);
        if (rc) return rc;
    }
    return 0;
}

/* The action: href and header. Standalone mode (lfs.standalonetransferagent) sends "action": null: then
 * the agent runs the batch API itself (standalone.c), so no href and no plan. `what` is "upload" or
 * "download", for messages. */
static int read_action(const hf_json *doc, agent_request *req, const char *what)
{
    int action = hf_json_get(doc, 0, "action");
    if (action < 0 || hf_json_type_of(doc, action) == HF_JSON_NULL) {
        req->standalone = 1;
        return 0;
    }
    if (hf_json_type_of(doc, action) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL, "the %s action is neither an object nor null", what);
    req->href = hf_json_get_strdup(doc, action, "href");
    int64_t secs;
    char *at = hf_json_get_strdup(doc, action, "expires_at");
    if (hf_json_get_int64(doc, action, "expires_in", &secs) == 0 && secs > 0)
        req->expires_at = (int64_t)time(NULL) + secs;
    else if (at && hf_rfc3339_epoch(at) > 0) /* git-lfs sends year 1 for "none" */
        req->expires_at = hf_rfc3339_epoch(at);
    free(at);
    if (!req->href || !*req->href) return hf_error_set(HF_EINVAL, "the %s action has no href", what);
    if (!hf_transfer_url_ok(req->href)) /* the URL itself may carry a signature: not in the message */
        return hf_error_set(HF_EINVAL, "the %s action's href is not an http:// or https:// URL", what);
    int header = hf_json_get(doc, action, "header");
    if (header < 0 || hf_json_type_of(doc, header) == HF_JSON_NULL) return 0;
    if (hf_json_type_of(doc, header) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL, "the %s action's header is not an object", what);
    return read_header(doc, header, &req->plan);
}

/* An upload or a download: oid, size, the action; uploads also a path. */
static int parse_transfer(const hf_json *doc, agent_request *req)
{
    const char *what = req->event == AGENT_EV_UPLOAD ? "upload" : "download";
    if (!req->oid || !hf_oid_valid(req->oid))
        return hf_error_set(HF_EINVAL, "the %s request has no valid oid (64 lowercase hex digits)", what);
    if (hf_json_get_int64(doc, 0, "size", &req->size) != 0 || req->size < 0) {
        req->size = -1;
        return hf_error_set(HF_EINVAL, "the %s request for %s has no valid size", what, req->oid);
    }
    if (req->event == AGENT_EV_UPLOAD) {
        req->path = hf_json_get_strdup(doc, 0, "path");
        if (!req->path || !*req->path)
            return hf_error_set(HF_EINVAL, "the upload request for %s has no path", req->oid);
    }
    if (read_action(doc, req, what) != 0) return hf_error_prefix("%s request for %s: ", what, req->oid);
    if (req->standalone) return 0;
    int rc = hf_multipart_plan_finish(&req->plan, req->oid, (uint64_t)req->size); /* names the oid */
    if (rc == 0 && req->event == AGENT_EV_DOWNLOAD && req->plan.multipart)
        rc = hf_error_set(HF_EINVAL, "download request for %s: the action has a chunk_size (part URLs are for "
                                     "uploads)", req->oid);
    return rc;
}

static int parse_doc(const hf_json *doc, agent_request *req)
{
    int ev = hf_json_get(doc, 0, "event");
    if (ev < 0) ev = hf_json_get(doc, 0, "type"); /* git-lfs before 2017 sent "type":"terminate" */
    req->oid = hf_json_get_strdup(doc, 0, "oid");
    if (hf_json_str_eq(doc, ev, "terminate")) {
        req->event = AGENT_EV_TERMINATE;
    } else if (hf_json_str_eq(doc, ev, "init")) {
        int op = hf_json_get(doc, 0, "operation");
        req->event = AGENT_EV_INIT;
        req->remote = hf_json_get_strdup(doc, 0, "remote");
        req->operation = hf_json_str_eq(doc, op, "upload")     ? AGENT_OP_UPLOAD
                         : hf_json_str_eq(doc, op, "download") ? AGENT_OP_DOWNLOAD
                                                               : AGENT_OP_NONE;
    } else if (hf_json_str_eq(doc, ev, "upload") || hf_json_str_eq(doc, ev, "download")) {
        req->event = hf_json_str_eq(doc, ev, "upload") ? AGENT_EV_UPLOAD : AGENT_EV_DOWNLOAD;
        return parse_transfer(doc, req);
    } else {
        char *name = hf_json_strdup(doc, ev);
        hf_error_set(HF_EINVAL, "unknown request event \"%.40s\"", name ? name : "(none)");
        free(name);
        return HF_EINVAL;
    }
    return 0;
}

/* Parses text, which the JSON document takes over (see agent_request_parse_owned). */
static int parse_owned(agent_request *req, char *text, size_t len)
{
    hf_json *doc = NULL;
    agent_request empty = AGENT_REQUEST_INIT;
    int rc;

    *req = empty;
    hf_error_clear();
    if (memchr(text, '\0', len)) {
        req->oid = scan_oid(text, len);
        free(text);
        return hf_error_set(HF_EINVAL, "unreadable request line (contains a NUL byte)");
    }
    /* a bad line is scanned for its oid before the parser, which frees the text on failure, sees it */
    char *oid = scan_oid(text, len);
    if (hf_json_parse_owned(&doc, text, len) != 0 || hf_json_type_of(doc, 0) != HF_JSON_OBJECT) {
        rc = hf_error_set(HF_EINVAL, "unreadable request line (%s)",
                          doc ? "not a JSON object" : hf_error_last_message());
        req->oid = oid;
        oid = NULL;
    } else {
        rc = parse_doc(doc, req);
    }
    free(oid);
    hf_json_free(doc);
    return rc;
}

int agent_request_parse(agent_request *req, const char *line, size_t len)
{
    char *copy = malloc(len + 2);
    if (!copy) {
        agent_request empty = AGENT_REQUEST_INIT;
        *req = empty;
        return hf_error_set(HF_ENOMEM, "out of memory reading a request line of %zu bytes", len);
    }
    memcpy(copy, line, len);
    return parse_owned(req, copy, len);
}

int agent_request_parse_owned(agent_request *req, char *line, size_t len)
{
    return parse_owned(req, line, len);
}

void agent_request_parse_oid(agent_request *req, const char *line, size_t len)
{
    agent_request empty = AGENT_REQUEST_INIT;
    *req = empty;
    req->oid = scan_oid(line, len);
    if (req->oid && memmem(line, len, "\"upload\"", 8)) req->event = AGENT_EV_UPLOAD;
    else if (req->oid && memmem(line, len, "\"download\"", 10)) req->event = AGENT_EV_DOWNLOAD;
}

void agent_request_free(agent_request *req)
{
    free(req->oid);
    free(req->path);
    free(req->href);
    free(req->remote);
    hf_multipart_plan_free(&req->plan);
    agent_request empty = AGENT_REQUEST_INIT;
    *req = empty;
}
