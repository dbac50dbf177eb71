/* test_agent_request.c: the agent's pure protocol code (agent/request.c, the formatters in agent/output.c):
 * request lines as git-lfs 3.3.0 writes them, bad ones, and reply lines that must stay one JSON line.
 * The agent's sources are not in a library, so they are compiled into this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../agent/output.c"
#include "../../agent/request.c"

#include "../../common/error.h"

#include <stdio.h>
#include <string.h>

#define OID "4e7baf6274501f2acf44158e8568b42f714f7c230ff1a0a1cc5807df48de9e63"

static int parse(agent_request *r, const char *line)
{
    return agent_request_parse(r, line, strlen(line));
}

static void test_init_and_terminate(void **state)
{
    agent_request r;
    assert_int_equal(parse(&r, "{\"event\":\"init\",\"operation\":\"upload\",\"remote\":\"origin\","
                               "\"concurrent\":true,\"concurrenttransfers\":8}"),
                     0);
    assert_int_equal(r.event, AGENT_EV_INIT);
    assert_int_equal(r.operation, AGENT_OP_UPLOAD);
    agent_request_free(&r);
    assert_int_equal(parse(&r, "{\"event\":\"init\",\"operation\":\"download\"}"), 0);
    assert_int_equal(r.operation, AGENT_OP_DOWNLOAD);
    agent_request_free(&r);
    assert_int_equal(parse(&r, "{\"event\":\"init\"}"), 0);
    assert_int_equal(r.operation, AGENT_OP_NONE);
    agent_request_free(&r);
    assert_int_equal(parse(&r, "{\"type\":\"terminate\"}"), 0);
    assert_int_equal(r.event, AGENT_EV_TERMINATE);
    agent_request_free(&r);
}

/* What git-lfs writes: sorted header keys, \u0026 in URLs; here also a size past 4 GiB and unpadded keys. */
static void test_upload_multipart(void **state)
{
    agent_request r;
    const char *line =
        "{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5905580032,\"path\":\"/r/.git/lfs/o\","
        "\"action\":{\"href\":\"http://h/c?a=1\\u0026b=2\",\"header\":{"
        "\"1\":\"http://s/1?x\\u0026y\",\"10\":\"http://s/10\",\"11\":\"http://s/11\","
        "\"2\":\"http://s/2\",\"3\":\"http://s/3\",\"4\":\"http://s/4\",\"5\":\"http://s/5\","
        "\"6\":\"http://s/6\",\"7\":\"http://s/7\",\"8\":\"http://s/8\",\"9\":\"http://s/9\","
        "\"chunk_size\":\"536870912\"},\"expires_at\":\"0001-01-01T00:00:00Z\"}}";
    assert_int_equal(parse(&r, line), 0);
    assert_int_equal(r.event, AGENT_EV_UPLOAD);
    assert_string_equal(r.oid, OID);
    assert_true(r.size == 5905580032LL);
    assert_string_equal(r.path, "/r/.git/lfs/o");
    assert_string_equal(r.href, "http://h/c?a=1&b=2");
    assert_true(r.plan.multipart);
    assert_int_equal(r.plan.part_count, 11);
    assert_string_equal(r.plan.part_urls[0], "http://s/1?x&y");
    assert_string_equal(r.plan.part_urls[1], "http://s/2");
    assert_string_equal(r.plan.part_urls[10], "http://s/11");
    agent_request_free(&r);
}

static void test_upload_single_put(void **state)
{
    agent_request r;
    assert_int_equal(parse(&r, "{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":0,\"path\":\"/p\","
                               "\"action\":{\"href\":\"http://h/o\",\"header\":{\"X-A\":\"1\"}}}"),
                     0);
    assert_false(r.plan.multipart);
    assert_int_equal(r.plan.header_count, 1);
    assert_string_equal(r.plan.headers[0], "X-A: 1");
    agent_request_free(&r);
}

/* Downloads: with an action (href + headers), and in standalone mode (action null or absent); uploads in
 * standalone mode too. The remote named by init is kept for the standalone batch. */
static void test_download_and_standalone(void **state)
{
    agent_request r;
    assert_int_equal(parse(&r, "{\"event\":\"download\",\"oid\":\"" OID "\",\"size\":7,"
                               "\"action\":{\"href\":\"http://h/o?a\\u0026b\",\"header\":{\"X-A\":\"1\"},"
                               "\"expires_at\":\"0001-01-01T00:00:00Z\"}}"),
                     0);
    assert_int_equal(r.event, AGENT_EV_DOWNLOAD);
    assert_false(r.standalone);
    assert_true(r.size == 7);
    assert_string_equal(r.href, "http://h/o?a&b");
    assert_int_equal(r.plan.header_count, 1);
    assert_string_equal(r.plan.headers[0], "X-A: 1");
    agent_request_free(&r);
    assert_int_equal(parse(&r, "{\"event\":\"download\",\"oid\":\"" OID "\",\"size\":7,\"action\":null}"), 0);
    assert_true(r.standalone);
    assert_null(r.href);
    agent_request_free(&r);
    assert_int_equal(parse(&r, "{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5,\"path\":\"/p\",\"action\":null}"),
                     0);
    assert_int_equal(r.event, AGENT_EV_UPLOAD);
    assert_true(r.standalone);
    assert_string_equal(r.path, "/p");
    agent_request_free(&r);
    assert_int_equal(parse(&r, "{\"event\":\"init\",\"operation\":\"download\",\"remote\":\"up\","
                               "\"concurrent\":true,\"concurrenttransfers\":8}"),
                     0);
    assert_int_equal(r.operation, AGENT_OP_DOWNLOAD);
    assert_string_equal(r.remote, "up");
    agent_request_free(&r);
}

/* Bad requests: an error, and what could be read is kept (the reply names the object). */
static void test_bad_uploads(void **state)
{
    static const struct {
        const char *line, *want;
        int64_t size;
    } cases[] = {
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5,\"action\":{\"href\":\"http://h\"}}",
         "no path", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5.0,\"path\":\"/p\"}", "no valid size", -1},
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":-1,\"path\":\"/p\"}", "no valid size", -1},
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":9223372036854775808,\"path\":\"/p\"}",
         "no valid size", -1},
        {"{\"event\":\"upload\",\"oid\":\"4E7B\",\"size\":5}", "no valid oid", -1},
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5,\"path\":\"/p\",\"action\":7}",
         "neither an object nor null", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"\"}}",
         "no href", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID
         "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":\"http://u\",\"chunk_size\":0}}}",
         "chunk_size is not a positive integer", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID
         "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":\"http://u\",\"chunk_size\":-5}}}",
         "chunk_size is not a positive integer", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID
         "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":\"http://u\",\"chunk_size\":\"5x\"}}}",
         "not a decimal number", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID
         "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":\"http://u\",\"chunk_size\":\"2\"}}}",
         "need 3", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID
         "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":7,\"chunk_size\":\"5\"}}}",
         "action.header.1 is not a string", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":"
         "\"file:///home/u/.bashrc\"}}",
         "href is not an http:// or https:// URL", 5},
        {"{\"event\":\"upload\",\"oid\":\"" OID
         "\",\"size\":5,\"path\":\"/p\",\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":\"file:///tmp/x\",\"chunk_size\":\"5\"}}}",
         "part 1: the URL is not an http:// or https:// URL", 5},
        {"{\"event\":\"download\",\"oid\":\"" OID "\",\"size\":5,\"action\":{\"href\":\"http://h\","
         "\"header\":{\"1\":\"http://s/1\",\"chunk_size\":\"5\"}}}",
         "part URLs are for uploads", 5},
        {"{\"event\":\"download\",\"oid\":\"" OID "\"}", "download request for " OID " has no valid size", -1},
        {"{\"event\":\"frobnicate\",\"oid\":\"" OID "\"}", "unknown request event \"frobnicate\"", -1},
        {"{\"oid\":\"" OID "\"}", "unknown request event \"(none)\"", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        agent_request r;
        assert_int_equal(parse(&r, cases[i].line), HF_EINVAL);
        if (!strstr(hf_error_last_message(), cases[i].want))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, hf_error_last_message(), cases[i].want);
        assert_true(r.size == cases[i].size);
        if (strstr(cases[i].line, OID)) assert_string_equal(r.oid, OID);
        agent_request_free(&r);
    }
}

/* Lines that are not JSON objects: the oid is scanned for, if it is there. */
static void test_unreadable_lines(void **state)
{
    agent_request r;
    assert_int_equal(parse(&r, "{\"event\":\"upload\",\"oid\" : \"" OID "\",\"size\":5,broken"), HF_EINVAL);
    assert_string_equal(r.oid, OID);
    assert_non_null(strstr(hf_error_last_message(), "unreadable request line"));
    agent_request_free(&r);
    assert_int_equal(parse(&r, "[1,2]"), HF_EINVAL);
    assert_null(r.oid);
    agent_request_free(&r);
    /* an oid cut short at the end of the line */
    assert_int_equal(parse(&r, "\"oid\":\"4e7baf6274501f2acf44158e8568b42f714f7c230ff1a0a1cc5807df48de9e6"),
                     HF_EINVAL);
    assert_null(r.oid);
    agent_request_free(&r);
    /* \u0000 would cut a path or URL short: the JSON reader refuses it */
    assert_int_equal(
        parse(&r, "{\"event\":\"upload\",\"oid\":\"" OID "\",\"path\":\"/etc/passwd\\u0000.bin\"}"),
        HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "unreadable request line"));
    agent_request_free(&r);
    char nul[] = "{\"event\":\"init\",\"x\":\"\0\"}";
    assert_int_equal(agent_request_parse(&r, nul, sizeof(nul) - 1), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "NUL"));
    agent_request_free(&r);
}

/* Replies are one JSON line whatever the message holds (newlines, quotes, control characters). */
static void test_reply_lines(void **state)
{
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(agent_format_complete(&b, OID, 500, "part 2: HTTP 500 \"boom\"\nsecond line\x01"), 0);
    assert_null(memchr(b.ptr, '\n', b.len));
    hf_json *doc;
    assert_int_equal(hf_json_parse(&doc, b.ptr, b.len), 0);
    int err = hf_json_get(doc, 0, "error");
    char *msg = hf_json_get_strdup(doc, err, "message");
    assert_string_equal(msg, "part 2: HTTP 500 \"boom\"\nsecond line\x01");
    free(msg);
    hf_json_free(doc);
    hf_buf_clear(&b);
    assert_int_equal(agent_format_progress(&b, OID, 5905580032ULL, 4294967296ULL), 0);
    assert_string_equal(hf_buf_cstr(&b), "{\"event\":\"progress\",\"oid\":\"" OID
                                         "\",\"bytesSoFar\":5905580032,\"bytesSinceLast\":4294967296}");
    hf_buf_clear(&b);
    assert_int_equal(agent_format_init_reply(&b, 0, NULL), 0);
    assert_string_equal(hf_buf_cstr(&b), "{}");
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_terminate), cmocka_unit_test(test_upload_multipart),
        cmocka_unit_test(test_upload_single_put),  cmocka_unit_test(test_bad_uploads),
        cmocka_unit_test(test_unreadable_lines),   cmocka_unit_test(test_reply_lines),
        cmocka_unit_test(test_download_and_standalone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
