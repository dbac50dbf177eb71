/*
 * fuzz_batch_response.c: libFuzzer target for the LFS batch response decoder (common/batch_decode.c) and the
 * action helpers built on it (common/batch.c: header lookup and list, expiry, the multipart plan).
 *
 * Oracles: no crash, leak, out-of-bounds read or undefined behaviour on any bytes; a refused body has a
 * message and leaves *out NULL; an accepted one holds only what the transfer engine can use as is: every oid
 * 64 lowercase hex and findable, an object error always with a message and never a code of 0 (that would read
 * as "the server has it"), sizes >= 0 for objects without error, every action href http(s), header names
 * non-empty without CR/LF/':' and values without CR/LF, expiry deadlines never before the request was sent
 * when given as expires_in. Upload actions that make a plan make one the engine can run: parts 1..N with
 * N == ceil(size / chunk_size) <= 10,000, each URL http(s), and hf_lfs_action_parts agrees with it. With a
 * list of requested objects, every oid in an accepted answer is one of them.
 */
#include "batch.h"

#include "error.h"
#include "pointer.h"
#include "transfer.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENT_AT ((time_t)1700000000)

/* The oids of the seeds, so that the requested-list path accepts some inputs. */
static const hf_batch_item REQUESTED[] = {
    {"4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393", 12345},
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
};

static void check_plan(const hf_lfs_action *a, const hf_batch_object *o)
{
    hf_multipart_plan plan;
    int rc = hf_lfs_action_plan(a, o->oid, o->size, &plan);
    const char **urls = NULL;
    size_t count = 0;
    uint64_t chunk = 0;
    int prc = hf_lfs_action_parts(a, o->size, &urls, &count, &chunk);
    if (rc < 0) {
        if (!*hf_error_last_message() || plan.part_urls || plan.headers || prc >= 0) abort();
        return;
    }
    if (rc != 0) abort();
    if (plan.multipart) {
        if (plan.chunk_size == 0 || plan.part_count > HF_MULTIPART_MAX_PARTS ||
            plan.part_count != hf_multipart_part_count((uint64_t)o->size, plan.chunk_size))
            abort();
        for (size_t i = 0; i < plan.part_count; i++)
            if (!hf_transfer_url_ok(plan.part_urls[i]) || plan.part_numbers[i] != i + 1) abort();
        /* hf_lfs_action_parts: the same plan, except that an empty object cannot go multipart */
        if (plan.part_count == 0 ? prc >= 0
                                 : prc != 1 || count != plan.part_count || chunk != plan.chunk_size)
            abort();
        for (size_t i = 0; prc == 1 && i < count; i++)
            if (strcmp(urls[i], plan.part_urls[i]) != 0) abort();
    } else {
        if (plan.part_count || prc != 0 || urls) abort();
        for (size_t i = 0; i < plan.header_count; i++)
            if (!plan.headers[i] || strpbrk(plan.headers[i], "\r\n") || !strchr(plan.headers[i], ':'))
                abort();
    }
    free(urls);
    hf_multipart_plan_free(&plan);
}

static void check_action(const hf_lfs_action *a, const hf_batch_object *o, int upload)
{
    if (!a) return;
    if (!a->href || !hf_transfer_url_ok(a->href)) abort();
    if (a->header_count && !a->headers) abort();
    for (size_t i = 0; i < a->header_count; i++) {
        const hf_lfs_header *h = &a->headers[i];
        if (!h->name || !h->value || !h->name[0] || strpbrk(h->name, "\r\n:") || strpbrk(h->value, "\r\n"))
            abort();
        if (!hf_lfs_action_header(a, h->name)) abort();
    }
    if (a->expires_in > 0 && a->expires_at_epoch < (int64_t)SENT_AT) abort();
    if (a->expires_at_epoch < 0) abort();
    (void)hf_lfs_action_expired(a, SENT_AT, 30);
    char **list = hf_lfs_action_header_list(a, NULL);
    if (!list) abort();
    for (size_t i = 0; i < a->header_count; i++)
        if (!list[i] || strpbrk(list[i], "\r\n")) abort();
    if (list[a->header_count]) abort();
    hf_lfs_headers_free(list);
    if (upload) check_plan(a, o);
}

static void check_response(const hf_batch_response *r, const hf_batch_item *req, size_t nreq)
{
    if (!r->transfer || !r->transfer[0] || (r->count && !r->objects)) abort();
    for (size_t i = 0; i < r->count; i++) {
        const hf_batch_object *o = &r->objects[i];
        if (!hf_oid_valid(o->oid) || !hf_batch_response_find(r, o->oid)) abort();
        if (nreq) {
            size_t k = 0;
            while (k < nreq && strcmp(req[k].oid, o->oid) != 0)
                k++;
            if (k == nreq) abort();
        }
        if ((o->error_code != 0) != (o->error_message != NULL)) abort();
        if (o->error_code) continue;
        if (o->size < 0) abort();
        check_action(o->upload, o, 1);
        check_action(o->download, o, 0);
        check_action(o->verify, o, 0);
    }
}

static void run(const uint8_t *data, size_t size, const hf_batch_item *req, size_t nreq)
{
    hf_batch_response *r = (hf_batch_response *)1;
    int rc = hf_batch_response_parse(&r, (const char *)data, size, req, nreq, SENT_AT);
    if (rc == 0) {
        if (!r) abort();
        check_response(r, req, nreq);
        hf_batch_response_free(r);
    } else if (rc > 0 || r || !*hf_error_last_message()) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, NULL, 0);
    run(data, size, REQUESTED, sizeof(REQUESTED) / sizeof(REQUESTED[0]));
    return 0;
}
