/*
 * batch.h: the Git LFS batch API client (reference/git-lfs-3.3.0.md §7).
 *
 *   POST <repo url>.git/info/lfs/objects/batch
 *   {"operation":"upload","objects":[{"oid":…,"size":…}],"transfers":["basic","multipart"],
 *    "ref":{"name":"refs/heads/main"},"hash_algo":"sha256"}
 *
 * The response is decoded with the same rules as git-lfs 3.3.0, so a server git-lfs accepts is accepted here
 * and one it rejects is rejected with a message saying why: objects must be an array; each action an object
 * with a string href (http or https) and a header map of strings; expires_at an RFC 3339 string or null;
 * hash_algo, when present, "sha256"; an object that was not asked for is an error. Objects with an "error"
 * member carry its code and message; upload objects without actions are ones the server already has.
 *
 * Expiry: expires_in (seconds, preferred) or expires_at become an absolute deadline measured from the moment
 * the request was sent (hf_lfs_action.expires_at_epoch; 0 = none).
 *
 * The token goes only into the Authorization header of the batch and verify requests (as Bearer), never into
 * a message or a trace. Thread-safety: all functions are re-entrant; a response is owned by one thread.
 */
#ifndef HF_BATCH_H
#define HF_BATCH_H

#include "buf.h"
#include "http.h"
#include "transfer.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum hf_lfs_operation {
    HF_LFS_UPLOAD,
    HF_LFS_DOWNLOAD,
} hf_lfs_operation;

typedef struct hf_lfs_header {
    char *name;
    char *value;
} hf_lfs_header;

typedef struct hf_lfs_action {
    char *href;
    hf_lfs_header *headers;    /* in the order the server sent them */
    size_t header_count;
    int64_t expires_in;        /* seconds, -1 when absent */
    int64_t expires_at_epoch;  /* absolute deadline (epoch seconds) from expires_in or expires_at; 0 = none */
} hf_lfs_action;

typedef struct hf_batch_object {
    char oid[65];              /* 64 lowercase hex digits */
    int64_t size;
    int authenticated;         /* "authenticated": true: transfers need no credentials */
    int error_code;            /* object error: non-zero code (404, 410, 422, …); error_message set */
    char *error_message;
    hf_lfs_action *upload;     /* each NULL when absent */
    hf_lfs_action *download;
    hf_lfs_action *verify;
} hf_batch_object;

typedef struct hf_batch_response {
    char *transfer;            /* the adapter the server chose; "basic" when absent */
    hf_batch_object *objects;
    size_t count;
} hf_batch_response;

typedef struct hf_batch_item {
    const char *oid;
    int64_t size;
} hf_batch_item;

typedef struct hf_batch_request {
    const char *url;           /* the batch endpoint (config.h: hf_lfs_batch_url) */
    const char *token;         /* bearer token or NULL */
    hf_lfs_operation operation;
    const hf_batch_item *objects;
    size_t count;
    int multipart;             /* 1: advertise ["basic","multipart"], else ["basic"] */
    const char *ref;           /* "refs/heads/main", or NULL to send "ref":{} */
    const char *authorization; /* a whole "Authorization: ..." header line (git-lfs style Basic credentials
                                * from `git credential fill`) sent instead of the token, or NULL; never
                                * traced or put in a message */
} hf_batch_request;

#define HF_BATCH_REQUEST_INIT {NULL, NULL, HF_LFS_UPLOAD, NULL, 0, 1, NULL, NULL}

/* git-lfs asks for at most 100 objects per batch request; so do we. */
#define HF_BATCH_MAX_OBJECTS 100

/* Writes the request body (field order as git-lfs: operation, objects, transfers, ref, hash_algo). */
int hf_batch_request_body(const hf_batch_request *req, hf_buf *out);

/* Decodes a response body. requested/nrequested (may be 0) are the objects asked for: any other oid in the
 * answer is an error. sent_at is the epoch second the request was sent, the base for expires_in. */
int hf_batch_response_parse(hf_batch_response **out, const char *body, size_t len,
                            const hf_batch_item *requested, size_t nrequested, time_t sent_at);
void hf_batch_response_free(hf_batch_response *resp);

/* Finds an object of the response by oid, or NULL. */
const hf_batch_object *hf_batch_response_find(const hf_batch_response *resp, const char *oid);

/* Header value of an action by name (case-insensitive), or NULL. */
const char *hf_lfs_action_header(const hf_lfs_action *action, const char *name);

/* RFC 3339 time ("2016-11-10T15:29:07Z", fractions and offsets allowed) as epoch seconds; -1 when malformed. */
int64_t hf_rfc3339_epoch(const char *text);

/* 1 when the action expires within margin_secs of now. */
int hf_lfs_action_expired(const hf_lfs_action *action, time_t now, int margin_secs);

/* Builds the NULL-terminated "Name: value" list for an action's headers, appended after extra (may be NULL,
 * NULL-terminated). Free with hf_lfs_headers_free. NULL on out of memory. */
char **hf_lfs_action_header_list(const hf_lfs_action *action, const char *const *extra);
void hf_lfs_headers_free(char **list);

/* Hugging Face multipart: the upload action's header holds "chunk_size" (decimal string) and one presigned URL
 * per part under numeric keys ("00001", "1", …). Both functions apply the one part-plan rule set of
 * transfer.h (hf_multipart_plan_*: numeric sort, parts exactly 1..N with N == ceil(size / chunk_size), http(s)
 * URLs only, at most 10,000 parts; without chunk_size no part keys and every entry a valid HTTP header).
 *
 * hf_lfs_action_plan fills *plan (plan->multipart says which; free it with hf_multipart_plan_free; left
 * empty on error) and returns 0, or HF_EINVAL naming oid and what is wrong.
 * hf_lfs_action_parts fills *urls (part order; one allocation: free only the array), *count and *chunk_size.
 * Returns 1 when the action is multipart, 0 when it has no chunk_size (a plain PUT to href), or HF_EINVAL
 * naming what is wrong. */
int hf_lfs_action_plan(const hf_lfs_action *action, const char *oid, int64_t size, hf_multipart_plan *plan);
int hf_lfs_action_parts(const hf_lfs_action *action, int64_t size, const char ***urls, size_t *count,
                        uint64_t *chunk_size);

/* Sends the batch request (retrying transport errors, 5xx, 408, 429 under the http.h policy) and decodes the
 * answer. A 401/403 becomes HF_EAUTH ("check the token ..."), 404 HF_ENOTFOUND; the message names the URL
 * (without query) and the server's own message. */
int hf_batch_send(hf_http_client *http, const hf_batch_request *req, hf_batch_response **out);

/* POSTs {"oid","size"} to a verify action (git-lfs §7.8), with the token as Bearer unless the action supplies
 * its own Authorization header. 2xx is success; anything else is an error naming the object. */
int hf_batch_verify(hf_http_client *http, const hf_lfs_action *verify, const char *oid, int64_t size,
                    const char *token);
/* The same with a whole "Authorization: ..." header line (or NULL) instead of a bearer token. */
int hf_batch_verify_auth(hf_http_client *http, const hf_lfs_action *verify, const char *oid, int64_t size,
                         const char *authorization);

#endif
