/*
 * fuzz_agent_line.c: libFuzzer target for the agent's protocol line handler (agent/request.c), with the reply
 * formatters of agent/output.c. Built with the flags in fuzz_agent_line.flags.
 *
 * Oracles: no crash, leak or out-of-bounds read on any bytes; a request accepted as an upload is one the
 * engine can serve as is (valid oid, size, path, an http(s) href; a multipart plan with parts 1..N, N ==
 * ceil(size/chunk_size) <= 10,000, each with an http(s) URL; a single PUT's headers free of CR/LF); a refused
 * line has a message; the reply to it is exactly one line of JSON naming the same oid.
 */
#include "../../agent/agent.h"

#include "error.h"
#include "pointer.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plan(const agent_request *r)
{
    const hf_multipart_plan *p = &r->plan;
    if (!p->multipart) {
        if (p->part_count) abort();
        for (size_t i = 0; i < p->header_count; i++)
            if (!p->headers[i] || strpbrk(p->headers[i], "\r\n") || !strchr(p->headers[i], ':')) abort();
        return;
    }
    if (p->chunk_size == 0 || p->part_count > HF_MULTIPART_MAX_PARTS ||
        p->part_count != hf_multipart_part_count((uint64_t)r->size, p->chunk_size))
        abort();
    for (size_t i = 0; i < p->part_count; i++)
        if (!hf_transfer_url_ok(p->part_urls[i]) || p->part_numbers[i] != i + 1) abort();
}

/* The reply must be one line that git-lfs parses back to the same oid. */
static void check_reply(const char *oid, int code, const char *message)
{
    hf_buf b = HF_BUF_INIT;
    hf_json *doc = NULL;
    if (agent_format_complete(&b, oid, code, message) != 0) abort();
    if (memchr(b.ptr, '\n', b.len) || hf_json_parse(&doc, b.ptr, b.len) != 0) abort();
    if (!hf_json_str_eq(doc, hf_json_get(doc, 0, "oid"), oid ? oid : "")) abort();
    hf_json_free(doc);
    hf_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    agent_request r;
    int rc = agent_request_parse(&r, (const char *)data, size);
    if (rc == 0 && r.event == AGENT_EV_UPLOAD) {
        if (!hf_oid_valid(r.oid) || r.size < 0 || !r.path || !*r.path || !hf_transfer_url_ok(r.href)) abort();
        check_plan(&r);
        check_reply(r.oid, 0, NULL);
    } else if (rc != 0) {
        if (rc > 0 || !*hf_error_last_message()) abort();
        check_reply(r.oid, AGENT_ECODE_REQUEST, hf_error_last_message());
    }
    agent_request_free(&r);
    return 0;
}
