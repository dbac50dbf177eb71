/* test_hub_parse.c: the hub's pure batch and completion body parsers (hub/lfs_parse.c): what is accepted, the
 * two refusal tiers, per-object errors, part list order, and that the client's writers (common/batch.c,
 * common/transfer.c) produce bodies the hub reads back unchanged. Also the inputs fuzz_hub_bodies found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The unit-test rule links only libhfcommon/libhfgit: the hub's parser comes in as source. */
#include "../../hub/lfs_parse.c"

#include "../../common/batch.h"
#include "../../common/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OID_A "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
#define OID_B "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static unsigned batch(const char *body, hub_batch_request *q, hf_buf *err)
{
    hf_buf_clear(err);
    return hub_batch_parse(body, strlen(body), q, err);
}

static unsigned complete(const char *body, hub_complete_request *q, hf_buf *err)
{
    hf_buf_clear(err);
    return hub_complete_parse(body, strlen(body), q, err);
}

static void assert_contains(const hf_buf *b, const char *needle)
{
    if (!strstr(hf_buf_cstr(b), needle)) fail_msg("\"%s\" lacks \"%s\"", hf_buf_cstr(b), needle);
}

static void test_batch_upload(void **state)
{
    (void)state;
    hub_batch_request q;
    hf_buf err = HF_BUF_INIT;
    assert_int_equal(batch("{\"operation\":\"upload\",\"objects\":[{\"oid\":\"" OID_A "\",\"size\":2621440},"
                           "{\"oid\":\"" OID_B "\",\"size\":\"12\"}],\"transfers\":[\"basic\",\"multipart\"],"
                           "\"ref\":{\"name\":\"refs/heads/main\"},\"hash_algo\":\"sha256\"}",
                           &q, &err),
                     0);
    assert_int_equal(q.operation, HUB_LFS_OP_UPLOAD);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.multipart, 1);
    assert_string_equal(q.ref, "refs/heads/main");
    assert_string_equal(q.objects[0].oid, OID_A);
    assert_int_equal(q.objects[0].size, 2621440);
    assert_int_equal(q.objects[0].code, 0);
    assert_int_equal(q.objects[1].size, 12); /* a numeric string, as before the split */
    assert_int_equal(q.objects[1].code, 0);
    hub_batch_request_free(&q);
    /* download: "multipart" means nothing; huggingface.js's "sha_256"; no transfers, no ref */
    assert_int_equal(batch("{\"operation\":\"download\",\"objects\":[],\"transfers\":[\"multipart\"],"
                           "\"hash_algo\":\"sha_256\",\"ref\":\"main\"}",
                           &q, &err),
                     0);
    assert_int_equal(q.operation, HUB_LFS_OP_DOWNLOAD);
    assert_int_equal(q.multipart, 0);
    assert_int_equal(q.count, 0);
    assert_null(q.ref);
    hub_batch_request_free(&q);
    /* transfers that is not an array advertises nothing */
    assert_int_equal(batch("{\"operation\":\"upload\",\"objects\":[],\"transfers\":\"multipart\"}", &q, &err),
                     0);
    assert_int_equal(q.multipart, 0);
    hub_batch_request_free(&q);
    hf_buf_free(&err);
}

static void test_batch_object_errors(void **state)
{
    (void)state;
    hub_batch_request q;
    hf_buf err = HF_BUF_INIT;
    assert_int_equal(
        batch("{\"operation\":\"upload\",\"objects\":[{\"oid\":\"" OID_A "\",\"size\":\"x\"},"
              "{\"oid\":\"../../etc/passwd\",\"size\":1},{\"oid\":\"4D7A214614AB2935C943F9E0FF69D22E"
              "ADBB8F32B1258DAAA5E2CA24D17E2393\",\"size\":1},{\"oid\":7,\"size\":1},"
              "{\"oid\":\"" OID_A "\",\"size\":-3},[],{\"oid\":\"" OID_A "0\",\"size\":1},"
              "{\"oid\":\"" OID_B "\",\"size\":0}]}",
              &q, &err),
        0);
    assert_int_equal(q.count, 8);
    assert_int_equal(q.objects[0].code, 422);
    assert_non_null(strstr(q.objects[0].msg, "must be an integer"));
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(q.objects[i].code, 422);
        assert_non_null(strstr(q.objects[i].msg, "Invalid object id"));
    }
    assert_null(q.objects[3].oid); /* not a string */
    assert_int_equal(q.objects[4].code, 422);
    assert_string_equal(q.objects[4].msg, "Invalid size -3");
    assert_int_equal(q.objects[5].code, 422); /* not an object: no size */
    assert_int_equal(q.objects[6].code, 422); /* 65 hex digits */
    assert_int_equal(q.objects[7].code, 0);
    hub_batch_request_free(&q);
    hf_buf_free(&err);
}

static void test_batch_refusals(void **state)
{
    (void)state;
    hub_batch_request q;
    hf_buf err = HF_BUF_INIT;
    /* envelope tier: answered before authorization */
    assert_int_equal(batch("{\"operation\":\"upload\"", &q, &err), 422);
    assert_int_equal(q.operation, HUB_LFS_OP_NONE);
    assert_contains(&err, "not valid JSON");
    assert_int_equal(batch("{\"operation\":\"delete\",\"objects\":[]}", &q, &err), 422);
    assert_int_equal(q.operation, HUB_LFS_OP_NONE);
    assert_contains(&err, "operation");
    assert_int_equal(batch("[\"upload\"]", &q, &err), 422);
    assert_int_equal(q.operation, HUB_LFS_OP_NONE);
    /* the rest: after authorization, with the operation known */
    assert_int_equal(batch("{\"operation\":\"upload\",\"objects\":{}}", &q, &err), 422);
    assert_int_equal(q.operation, HUB_LFS_OP_UPLOAD);
    assert_contains(&err, "\"objects\" must be an array");
    assert_int_equal(batch("{\"operation\":\"download\",\"objects\":[],\"hash_algo\":\"md5\"}", &q, &err),
                     409);
    assert_int_equal(q.operation, HUB_LFS_OP_DOWNLOAD);
    assert_contains(&err, "hash algorithm");
    assert_int_equal(batch("{\"operation\":\"download\",\"objects\":[],\"hash_algo\":null}", &q, &err), 409);
    assert_null(q.objects);
    hub_batch_request_free(&q);
    hf_buf_free(&err);
}

static void test_complete_ok(void **state)
{
    (void)state;
    hub_complete_request q;
    hf_buf err = HF_BUF_INIT;
    assert_int_equal(complete("{\"oid\":\"" OID_A "\",\"parts\":[{\"partNumber\":1,\"etag\":\"\\\"abc\\\"\"},"
                              "{\"etag\":\"e2\",\"partNumber\":\"2\"}]}",
                              &q, &err),
                     0);
    assert_string_equal(q.oid, OID_A);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.parts[0].number, 1);
    assert_string_equal(q.parts[0].etag, "\"abc\"");
    assert_int_equal(q.parts[1].number, 2);
    assert_string_equal(q.parts[1].etag, "e2");
    hub_complete_request_free(&q);
    assert_int_equal(complete("{\"oid\":\"" OID_B "\",\"parts\":[]}", &q, &err), 0);
    assert_int_equal(q.count, 0);
    hub_complete_request_free(&q);
    hf_buf_free(&err);
}

static void test_complete_refusals(void **state)
{
    (void)state;
    hub_complete_request q;
    hf_buf err = HF_BUF_INIT;
    /* envelope tier: no oid */
    static const char *const envelope[] = {
        "{\"oid\":",
        "{\"oid\":\"" OID_A "\"}",
        "{\"oid\":\"" OID_A "\",\"parts\":{}}",
        "{\"oid\":\"../x\",\"parts\":[]}",
        "{\"oid\":\"" OID_A "0\",\"parts\":[]}",
        "{\"parts\":[]}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(envelope) / sizeof(envelope[0]); i++) {
        assert_int_equal(complete(envelope[i], &q, &err), 400);
        assert_string_equal(q.oid, "");
        assert_true(err.len > 0);
    }
    /* part tier: oid known, the list is wrong */
    struct {
        const char *parts, *needle;
    } bad[] = {
        {"[{\"partNumber\":1,\"etag\":\"a\"},{\"partNumber\":3,\"etag\":\"c\"}]", "part 2 missing"},
        {"[{\"partNumber\":1,\"etag\":\"a\"},{\"partNumber\":1,\"etag\":\"a\"}]", "each once and in order"},
        {"[{\"partNumber\":2,\"etag\":\"a\"},{\"partNumber\":1,\"etag\":\"a\"}]", "part 1 missing"},
        {"[{\"partNumber\":0,\"etag\":\"a\"}]", "parts[0] is 0"},
        {"[{\"partNumber\":-1,\"etag\":\"a\"}]", "parts[0] is -1"},
        {"[{\"partNumber\":1,\"etag\":5}]", "string \"etag\""},
        {"[{\"partNumber\":1}]", "string \"etag\""},
        {"[{\"partNumber\":1.0,\"etag\":\"a\"}]", "integer \"partNumber\""},
        {"[{\"partNumber\":\"-1\",\"etag\":\"a\"}]", "integer \"partNumber\""},
        {"[1]", "parts[0]"},
        {"[{\"partNumber\":1,\"etag\":\"a\"},{\"partNumber\":99999999999999999999,\"etag\":\"a\"}]",
         "parts[1]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hf_buf body = HF_BUF_INIT;
        hf_buf_printf(&body, "{\"oid\":\"" OID_A "\",\"parts\":%s}", bad[i].parts);
        assert_int_equal(complete(body.ptr, &q, &err), 400);
        assert_string_equal(q.oid, OID_A);
        assert_contains(&err, bad[i].needle);
        hub_complete_request_free(&q);
        hf_buf_free(&body);
    }
    hf_buf_free(&err);
}

/* More than 10,000 parts is refused before anything is allocated per part. */
static void test_complete_too_many_parts(void **state)
{
    (void)state;
    hf_buf body = HF_BUF_INIT, err = HF_BUF_INIT;
    hub_complete_request q;
    hf_buf_puts(&body, "{\"oid\":\"" OID_A "\",\"parts\":[");
    for (int i = 1; i <= HUB_LFS_MAX_PARTS + 1; i++)
        hf_buf_printf(&body, "%s{\"partNumber\":%d,\"etag\":\"e\"}", i > 1 ? "," : "", i);
    hf_buf_puts(&body, "]}");
    assert_int_equal(hub_complete_parse(body.ptr, body.len, &q, &err), 400);
    assert_contains(&err, "at most 10000");
    assert_int_equal(q.count, 0);
    hub_complete_request_free(&q);
    hf_buf_free(&body);
    hf_buf_free(&err);
}

/* The client's request writers and the hub's parsers agree (the fuzzer checks this on every accepted body).
 */
static void test_round_trips(void **state)
{
    (void)state;
    static const hf_batch_item items[] = {{OID_A, 5368709120}, {OID_B, 0}};
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.objects = items;
    req.count = 2;
    req.ref = "refs/heads/\"main\"\n";
    hf_buf body = HF_BUF_INIT, err = HF_BUF_INIT;
    assert_int_equal(hf_batch_request_body(&req, &body), 0);
    hub_batch_request q;
    assert_int_equal(hub_batch_parse(body.ptr, body.len, &q, &err), 0);
    assert_int_equal(q.operation, HUB_LFS_OP_UPLOAD);
    assert_int_equal(q.multipart, 1);
    assert_string_equal(q.ref, req.ref);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.objects[0].size, 5368709120);
    assert_string_equal(q.objects[1].oid, OID_B);
    hub_batch_request_free(&q);

    static const char *const etags[] = {"\"0123456789abcdef0123456789abcdef\"", "W/\"x\\y\"", "\xc3\xa9"};
    hf_buf_clear(&body);
    assert_int_equal(hf_multipart_completion_body(&body, OID_A, etags, 3), 0);
    hub_complete_request c;
    assert_int_equal(hub_complete_parse(body.ptr, body.len, &c, &err), 0);
    assert_int_equal(c.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(c.parts[i].number, i + 1);
        assert_string_equal(c.parts[i].etag, etags[i]);
    }
    hub_complete_request_free(&c);
    hf_buf_free(&body);
    hf_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_upload),      cmocka_unit_test(test_batch_object_errors),
        cmocka_unit_test(test_batch_refusals),    cmocka_unit_test(test_complete_ok),
        cmocka_unit_test(test_complete_refusals), cmocka_unit_test(test_complete_too_many_parts),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
