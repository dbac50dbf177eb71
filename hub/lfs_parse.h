/*
 * lfs_parse.h: the pure half of the hub's LFS request handling: decoding and validating batch and completion
 * bodies (reference/git-lfs-3.3.0.md §7, design.md §3). No I/O and no MHD: it depends on common/ only, so the
 * unit tests (tests/unit/test_hub_parse.c) and the fuzzer (tests/fuzz/fuzz_hub_bodies.c) drive it directly;
 * lfs_batch.c and lfs_complete.c add what needs the disk (stored objects, upload meta, parts).
 *
 * Both parsers return 0 or the HTTP status to answer with, the reason in err (appended). A refusal comes in
 * one of two tiers, because the handlers answer some refusals only after their own checks (authorization,
 * repository, upload), exactly as they did before the split:
 *   - envelope: the body is not JSON, or has no usable operation / oid. batch: out->operation is
 *     HUB_LFS_OP_NONE; completion: out->oid is "".
 *   - the rest: out->operation / out->oid are set and the error concerns the object list / part list.
 *
 * Thread-safety: re-entrant; a parsed request belongs to one thread.
 */
#ifndef HF_HUB_LFS_PARSE_H
#define HF_HUB_LFS_PARSE_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

#define HUB_LFS_MAX_PARTS 10000 /* S3's limit, and the hub's */

typedef enum hub_lfs_op {
    HUB_LFS_OP_NONE = 0, /* missing or unknown: the envelope was refused */
    HUB_LFS_OP_UPLOAD,
    HUB_LFS_OP_DOWNLOAD,
} hub_lfs_op;

typedef struct hub_batch_object {
    char *oid;     /* as sent; NULL when not a string. Valid (hf_oid_valid) whenever code == 0 */
    int64_t size;  /* >= 0 whenever code == 0 */
    unsigned code; /* 0, or the object error (422) to answer for this object alone */
    char msg[128]; /* the object error's message */
} hub_batch_object;

typedef struct hub_batch_request {
    hub_lfs_op operation;
    hub_batch_object *objects;
    size_t count;
    int multipart; /* "transfers" lists "multipart" */
    char *ref;     /* ref.name when it is a string, else NULL (informational: the hub keeps no ref locks) */
} hub_batch_request;

/* {"operation":"upload"|"download","objects":[{"oid","size"}...],"transfers":[...],"ref":{"name"},
 *  "hash_algo":"sha256"|"sha_256"(huggingface.js)}. Refusals: not JSON, or operation neither upload nor
 * download (422, envelope tier); objects not an array (422); hash_algo present and not sha256 (409). An
 * object with a size that is not an integer, an invalid oid or a negative size is not a refusal of the batch:
 * it gets its own 422 (code, msg). *out is always initialised; free it with hub_batch_request_free. */
unsigned hub_batch_parse(const char *body, size_t len, hub_batch_request *out, hf_buf *err);
void hub_batch_request_free(hub_batch_request *req);

typedef struct hub_complete_part {
    uint64_t number; /* parts[i].number == i + 1 in an accepted list */
    char *etag;      /* as sent (the quotes are part of an S3 ETag) */
} hub_complete_part;

typedef struct hub_complete_request {
    char oid[65]; /* "" when the envelope was refused */
    hub_complete_part *parts;
    size_t count; /* 0..HUB_LFS_MAX_PARTS */
} hub_complete_request;

/* {"oid":"<sha256>","parts":[{"partNumber":1,"etag":"\"<md5>\""},...]} -> 0 or 400. Envelope tier: not JSON,
 * oid not 64 lowercase hex, parts not an array. Part tier: an element without an integer partNumber and a
 * string etag, part numbers other than 1..N each once and in order, more than HUB_LFS_MAX_PARTS parts.
 * *out is always initialised; free it with hub_complete_request_free. */
unsigned hub_complete_parse(const char *body, size_t len, hub_complete_request *out, hf_buf *err);
void hub_complete_request_free(hub_complete_request *req);

#endif
