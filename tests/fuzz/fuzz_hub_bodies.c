/*
 * fuzz_hub_bodies.c: libFuzzer target for the hub's batch and completion body parsers (hub/lfs_parse.c, built
 * in through fuzz_hub_bodies.flags). The first byte picks the parser (even: batch, odd: completion), the rest
 * is the body.
 *
 * Oracles: no crash, leak, out-of-bounds read or undefined behaviour on any bytes. Batch: an accepted request
 * has an operation; an object without its own error has a valid oid (it becomes a path) and a size >= 0; an
 * object error is a 422 with a message; "multipart" only for uploads; a refusal is 409/422 with a message,
 * in the envelope tier exactly when there is no operation. The valid objects, written back by the client's
 * request writer (common/batch.c), parse to the same objects. Completion: an accepted part list is 1..N in
 * order, N <= 10,000, every part with an ETag; a refusal is a 400 with a message and, in the part tier, the
 * valid oid. Written back by the engine's completion writer (common/transfer.c), it parses to the same list.
 */
#include "../../hub/lfs_parse.h"

#include "batch.h"
#include "pointer.h"
#include "transfer.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the valid objects back as a client would and checks that the hub reads the same request. */
static void batch_round_trip(const hub_batch_request *q)
{
    hf_batch_item *items = calloc(q->count + 1, sizeof(*items));
    size_t n = 0;
    if (!items) abort();
    for (size_t i = 0; i < q->count; i++)
        if (!q->objects[i].code) items[n++] = (hf_batch_item){q->objects[i].oid, q->objects[i].size};
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.operation = q->operation == HUB_LFS_OP_UPLOAD ? HF_LFS_UPLOAD : HF_LFS_DOWNLOAD;
    req.objects = items;
    req.count = n;
    req.multipart = q->multipart;
    req.ref = q->ref;
    hf_buf body = HF_BUF_INIT, err = HF_BUF_INIT;
    hub_batch_request back;
    if (hf_batch_request_body(&req, &body) != 0) abort();
    if (hub_batch_parse(body.ptr, body.len, &back, &err) != 0) abort();
    if (back.operation != q->operation || back.count != n || back.multipart != q->multipart) abort();
    if ((back.ref == NULL) != (q->ref == NULL) || (q->ref && strcmp(back.ref, q->ref) != 0)) abort();
    for (size_t i = 0; i < n; i++)
        if (back.objects[i].code || strcmp(back.objects[i].oid, items[i].oid) != 0 ||
            back.objects[i].size != items[i].size)
            abort();
    hub_batch_request_free(&back);
    hf_buf_free(&body);
    hf_buf_free(&err);
    free(items);
}

static void fuzz_batch(const char *body, size_t len)
{
    hub_batch_request q;
    hf_buf err = HF_BUF_INIT;
    unsigned st = hub_batch_parse(body, len, &q, &err);
    if (st) {
        if ((st != 409 && st != 422 && st != 500) || !err.len || (st != 500 && (q.count || q.objects)))
            abort();
        if (st == 409 && q.operation == HUB_LFS_OP_NONE) abort();
    } else {
        if (q.operation == HUB_LFS_OP_NONE || (q.count && !q.objects)) abort();
        if (q.multipart && q.operation != HUB_LFS_OP_UPLOAD) abort();
        for (size_t i = 0; i < q.count; i++) {
            const hub_batch_object *o = &q.objects[i];
            if (o->code == 0 && (!hf_oid_valid(o->oid) || o->size < 0)) abort();
            if (o->code != 0 && (o->code != 422 || !o->msg[0])) abort();
        }
        batch_round_trip(&q);
    }
    hub_batch_request_free(&q);
    hf_buf_free(&err);
}

static void complete_round_trip(const hub_complete_request *q)
{
    const char **etags = calloc(q->count + 1, sizeof(*etags));
    if (!etags) abort();
    for (size_t i = 0; i < q->count; i++)
        etags[i] = q->parts[i].etag;
    hf_buf body = HF_BUF_INIT, err = HF_BUF_INIT;
    hub_complete_request back;
    if (hf_multipart_completion_body(&body, q->oid, etags, q->count) != 0) abort();
    if (hub_complete_parse(body.ptr, body.len, &back, &err) != 0) abort();
    if (strcmp(back.oid, q->oid) != 0 || back.count != q->count) abort();
    for (size_t i = 0; i < q->count; i++)
        if (back.parts[i].number != i + 1 || strcmp(back.parts[i].etag, etags[i]) != 0) abort();
    hub_complete_request_free(&back);
    hf_buf_free(&body);
    hf_buf_free(&err);
    free(etags);
}

static void fuzz_complete(const char *body, size_t len)
{
    hub_complete_request q;
    hf_buf err = HF_BUF_INIT;
    unsigned st = hub_complete_parse(body, len, &q, &err);
    if (q.oid[0] && !hf_oid_valid(q.oid)) abort();
    if (st) {
        if ((st != 400 && st != 500) || !err.len) abort();
    } else {
        if (!q.oid[0] || q.count > HUB_LFS_MAX_PARTS || (q.count && !q.parts)) abort();
        for (size_t i = 0; i < q.count; i++)
            if (q.parts[i].number != i + 1 || !q.parts[i].etag) abort();
        complete_round_trip(&q);
    }
    hub_complete_request_free(&q);
    hf_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if (data[0] & 1)
        fuzz_complete((const char *)data + 1, size - 1);
    else
        fuzz_batch((const char *)data + 1, size - 1);
    return 0;
}
