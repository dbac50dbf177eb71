/* test_batch.c: the LFS batch API client's pure parts: request bodies, response decoding (incl. hostile
 * answers) and the Hugging Face multipart action layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/batch.h"
#include "../../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OID_A "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
#define OID_B "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define OID_C "0000000000000000000000000000000000000000000000000000000000000001"

static const hf_batch_item ITEMS[] = {{OID_A, 12345}, {OID_B, 1}, {OID_C, 7}};

static hf_batch_response *parse_ok(const char *json)
{
    hf_batch_response *r = NULL;
    int rc = hf_batch_response_parse(&r, json, strlen(json), ITEMS, 3, 1000);
    if (rc != 0)
        fail_msg("parse failed: %s", hf_error_last_message());
    return r;
}

static void parse_fails(const char *json, const char *needle)
{
    hf_batch_response *r = (hf_batch_response *)1;
    int rc = hf_batch_response_parse(&r, json, strlen(json), ITEMS, 3, 1000);
    assert_true(rc < 0);
    assert_null(r);
    if (needle && !strstr(hf_error_last_message(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", hf_error_last_message(), needle);
}

static void test_request_body_upload(void **state)
{
    (void)state;
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.objects = ITEMS;
    req.count = 1;
    req.ref = "refs/heads/main";
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_batch_request_body(&req, &b), 0);
    assert_string_equal(b.ptr, "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"" OID_A "\",\"size\":12345}],"
                               "\"transfers\":[\"basic\",\"multipart\"],\"ref\":{\"name\":\"refs/heads/main\"},"
                               "\"hash_algo\":\"sha256\"}");
    hf_buf_free(&b);
}

static void test_request_body_download_no_ref(void **state)
{
    (void)state;
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.operation = HF_LFS_DOWNLOAD;
    req.objects = ITEMS;
    req.count = 2;
    req.multipart = 0;
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_batch_request_body(&req, &b), 0);
    assert_string_equal(b.ptr, "{\"operation\":\"download\",\"objects\":[{\"oid\":\"" OID_A "\",\"size\":12345},"
                               "{\"oid\":\"" OID_B "\",\"size\":1}],\"transfers\":[\"basic\"],\"ref\":{},"
                               "\"hash_algo\":\"sha256\"}");
    hf_buf_free(&b);
}

static void test_request_body_rejects_bad_oid(void **state)
{
    (void)state;
    hf_batch_item bad[] = {{"4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393", 1}};
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.objects = bad;
    req.count = 1;
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_batch_request_body(&req, &b), HF_EINVAL);
    hf_batch_item neg[] = {{OID_A, -1}};
    req.objects = neg;
    assert_int_equal(hf_batch_request_body(&req, &b), HF_EINVAL);
    hf_buf_free(&b);
}

static void test_response_full(void **state)
{
    (void)state;
    const char *json =
        "{\"transfer\":\"multipart\",\"objects\":["
        "{\"oid\":\"" OID_A "\",\"size\":12345,\"authenticated\":true,\"actions\":{"
        "\"upload\":{\"href\":\"https://s3.example/up?a=1\\u0026b=2\",\"header\":{\"chunk_size\":\"5000\","
        "\"00001\":\"https://s3/p1\",\"00002\":\"https://s3/p2\",\"00003\":\"https://s3/p3\"},\"expires_in\":60},"
        "\"verify\":{\"href\":\"http://hub/verify\",\"header\":{\"Authorization\":\"Basic x\"},"
        "\"expires_at\":\"2016-11-10T15:29:07Z\"}}},"
        "{\"oid\":\"" OID_B "\",\"size\":1,\"error\":{\"code\":404,\"message\":\"Object does not exist\"}},"
        "{\"oid\":\"" OID_C "\",\"size\":7}"
        "],\"hash_algo\":\"sha256\"}";
    hf_batch_response *r = parse_ok(json);
    assert_string_equal(r->transfer, "multipart");
    assert_int_equal(r->count, 3);
    const hf_batch_object *a = hf_batch_response_find(r, OID_A);
    assert_non_null(a);
    assert_int_equal(a->size, 12345);
    assert_true(a->authenticated);
    assert_int_equal(a->error_code, 0);
    assert_non_null(a->upload);
    assert_null(a->download);
    assert_string_equal(a->upload->href, "https://s3.example/up?a=1&b=2");
    assert_int_equal(a->upload->expires_in, 60);
    assert_int_equal(a->upload->expires_at_epoch, 1060);
    assert_string_equal(hf_lfs_action_header(a->upload, "CHUNK_SIZE"), "5000");
    assert_non_null(a->verify);
    assert_int_equal(a->verify->expires_at_epoch, 1478791747);
    assert_true(hf_lfs_action_expired(a->upload, 1056, 5));
    assert_false(hf_lfs_action_expired(a->upload, 1054, 5));

    const char **urls;
    size_t n;
    uint64_t chunk;
    assert_int_equal(hf_lfs_action_parts(a->upload, a->size, &urls, &n, &chunk), 1);
    assert_int_equal(n, 3);
    assert_int_equal(chunk, 5000);
    assert_string_equal(urls[0], "https://s3/p1");
    assert_string_equal(urls[2], "https://s3/p3");
    free(urls);

    const hf_batch_object *b = hf_batch_response_find(r, OID_B);
    assert_int_equal(b->error_code, 404);
    assert_string_equal(b->error_message, "Object does not exist");
    assert_null(b->upload);
    const hf_batch_object *c = hf_batch_response_find(r, OID_C);
    assert_int_equal(c->error_code, 0);
    assert_null(c->upload); /* the server already has it */
    assert_null(hf_batch_response_find(r, "nope"));
    hf_batch_response_free(r);
}

static void test_response_defaults(void **state)
{
    (void)state;
    hf_batch_response *r = parse_ok("{\"objects\":[]}");
    assert_string_equal(r->transfer, "basic");
    assert_int_equal(r->count, 0);
    hf_batch_response_free(r);
    /* _links is the deprecated name of actions; null values and zero time are "absent". */
    r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"_links\":{\"download\":{\"href\":\"http://x/\","
                 "\"header\":null,\"expires_at\":\"0001-01-01T00:00:00Z\",\"expires_in\":0}}}],\"hash_algo\":null}");
    assert_non_null(r->objects[0].download);
    assert_int_equal(r->objects[0].download->expires_at_epoch, 0);
    assert_int_equal(r->objects[0].download->header_count, 0);
    hf_batch_response_free(r);
    /* expires_at with an offset and fractional seconds */
    r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"download\":{\"href\":\"http://x/\","
                 "\"expires_at\":\"2016-11-10T16:29:07.5+01:00\"}}}]}");
    assert_int_equal(r->objects[0].download->expires_at_epoch, 1478791747);
    hf_batch_response_free(r);
}

static void test_response_negative_size_is_object_error(void **state)
{
    (void)state;
    hf_batch_response *r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":-5,"
                                    "\"actions\":{\"upload\":{\"href\":\"http://x\"}}}]}");
    assert_int_equal(r->objects[0].error_code, 422);
    assert_null(r->objects[0].upload);
    hf_batch_response_free(r);
}

static void test_response_hostile(void **state)
{
    (void)state;
    parse_fails("", NULL);
    parse_fails("not json", NULL);
    parse_fails("{\"objects\":[", NULL);
    parse_fails("[]", "not a JSON object");
    parse_fails("{}", "objects");
    parse_fails("{\"objects\":{}}", "objects");
    parse_fails("{\"objects\":[1]}", "objects[0]");
    parse_fails("{\"objects\":[{\"size\":1}]}", "oid");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "x\",\"size\":1}]}", "oid");
    parse_fails("{\"objects\":[{\"oid\":\"4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393\"}]}",
                "oid");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":\"12\"}]}", "size");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":99999999999999999999999}]}", "size");
    parse_fails("{\"objects\":[],\"hash_algo\":\"md5\"}", "hash algorithm");
    parse_fails("{\"objects\":[],\"transfer\":5}", "transfer");
    /* the unrequested oid check */
    parse_fails("{\"objects\":[{\"oid\":\"1111111111111111111111111111111111111111111111111111111111111111\","
                "\"size\":1}]}",
                "unknown OID");
    /* the giftless proposal's parts array breaks git-lfs's decoder; it breaks ours too */
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"parts\":[]}}]}", "not an object");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":[]}]}", "actions");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":\"http://x\"}}]}",
                "upload");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{}}}]}", "href");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"file:///etc\"}}}]}",
                "href");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"header\":{\"chunk_size\":5000}}}}]}",
                "strings");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"header\":[]}}}]}",
                "header");
    /* header injection */
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"header\":{\"X\":\"a\\r\\nEvil: 1\"}}}}]}",
                "invalid header");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"header\":{\"\":\"a\"}}}}]}",
                "invalid header");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"expires_at\":\"\"}}}]}",
                "RFC 3339");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"expires_at\":\"2016-13-10T15:29:07Z\"}}}]}",
                "RFC 3339");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":\"http://x\","
                "\"expires_in\":\"60\"}}}]}",
                "expires_in");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"error\":\"boom\"}]}", "error");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"authenticated\":\"yes\"}]}", "authenticated");
    /* embedded NUL bytes and trailing garbage */
    hf_batch_response *r = NULL;
    assert_true(hf_batch_response_parse(&r, "{\"objects\":[]}\0x", 16, NULL, 0, 0) < 0);
    assert_true(hf_batch_response_parse(&r, "{\"objects\":[]} {}", 17, NULL, 0, 0) < 0);
}

static void test_error_without_message(void **state)
{
    (void)state;
    hf_batch_response *r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"error\":{\"code\":410}}]}");
    assert_int_equal(r->objects[0].error_code, 410);
    assert_non_null(r->objects[0].error_message);
    hf_batch_response_free(r);
}

/* Inputs fuzz_batch_response (tests/fuzz/) found. */
static void test_fuzz_regressions(void **state)
{
    (void)state;
    /* A "\n" (or any control character) in an href passed the decoder and reached the engine. */
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"upload\":{\"href\":"
                "\"http://x/a\\n `evil\"}}}]}",
                "href");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"download\":{\"href\":"
                "\"https://x/\\u007f\"}}}]}",
                "href");
    parse_fails("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":1,\"actions\":{\"verify\":{\"href\":"
                "\"https://x/\\t\"}}}]}",
                "href");
    /* An error code of 2^32 truncated to 0: an object error that read as "the server has it". */
    hf_batch_response *r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":5,"
                                    "\"error\":{\"code\":4294967296,\"message\":\"m\"}},"
                                    "{\"oid\":\"" OID_B "\",\"size\":5,\"error\":{\"code\":-404}}]}");
    assert_int_equal(r->objects[0].error_code, -1);
    assert_string_equal(r->objects[0].error_message, "m");
    assert_int_equal(r->objects[1].error_code, -1);
    hf_batch_response_free(r);
    /* expires_in near INT64_MAX overflowed sent_at + expires_in (UBSan): now it saturates, never expiring. */
    r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":5,\"actions\":{\"upload\":{"
                 "\"href\":\"https://h/c\",\"expires_in\":9223372036854775807}}}]}");
    assert_true(r->objects[0].upload->expires_at_epoch == INT64_MAX);
    assert_int_equal(hf_lfs_action_expired(r->objects[0].upload, 2000000000, 60), 0);
    hf_batch_response_free(r);
    /* upper-case schemes are still http(s) (Go lower-cases them) */
    r = parse_ok("{\"objects\":[{\"oid\":\"" OID_A "\",\"size\":5,\"actions\":{\"download\":{"
                 "\"href\":\"HTTPS://h/o\"}}}]}");
    assert_string_equal(r->objects[0].download->href, "HTTPS://h/o");
    hf_batch_response_free(r);
}

static hf_lfs_action *make_action(hf_lfs_header *h, size_t n)
{
    static hf_lfs_action a;
    memset(&a, 0, sizeof(a));
    a.href = "https://hub/complete";
    a.headers = h;
    a.header_count = n;
    return &a;
}

static void test_parts(void **state)
{
    (void)state;
    const char **urls;
    size_t n;
    uint64_t chunk;
    /* numeric order, not string order: "10" after "9"; non-part headers ignored */
    hf_lfs_header h[12];
    char names[11][8], vals[11][32];
    for (int i = 0; i < 11; i++) {
        snprintf(names[i], sizeof(names[i]), "%d", 11 - i);
        snprintf(vals[i], sizeof(vals[i]), "https://s3/part%d", 11 - i);
        h[i].name = names[i];
        h[i].value = vals[i];
    }
    h[11].name = "chunk_size";
    h[11].value = "10";
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), 1);
    assert_int_equal(n, 11);
    assert_string_equal(urls[8], "https://s3/part9");
    assert_string_equal(urls[9], "https://s3/part10");
    free(urls);
    /* size needing one more part than given */
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 111, &urls, &n, &chunk), HF_EINVAL);
    /* size needing fewer */
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 100, &urls, &n, &chunk), HF_EINVAL);
    /* a gap: part 0 instead of part 1 */
    char zero[] = "0";
    h[10].name = zero;
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), HF_EINVAL);
    /* a duplicate: "00002" and "2" */
    char dup[] = "00002";
    h[10].name = dup;
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), HF_EINVAL);
    h[10].name = names[10];
    /* a part URL that is not http(s) */
    char bad[] = "ftp://x";
    h[3].value = bad;
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), HF_EINVAL);
    h[3].value = vals[3];
    /* chunk_size must be a positive decimal */
    char cs[] = "1e3";
    h[11].value = cs;
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), HF_EINVAL);
    char cz[] = "0";
    h[11].value = cz;
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), HF_EINVAL);
    /* too many parts for S3 */
    char c1[] = "1";
    h[11].value = c1;
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 20000, &urls, &n, &chunk), HF_EINVAL);
    /* a gap: parts 1..10 and 12 (count right, numbering wrong) */
    char twelve[] = "12";
    h[0].name = twelve; /* was "11" */
    h[11].value = "10";
    assert_int_equal(hf_lfs_action_parts(make_action(h, 12), 105, &urls, &n, &chunk), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "no URL for part 11"));
    assert_null(urls);
    h[0].name = names[0];
    /* no chunk_size: a plain PUT (every entry is a header) */
    hf_lfs_header plain[] = {{"X-Amz-Acl", "private"}, {"Content-Type", "application/octet-stream"}};
    assert_int_equal(hf_lfs_action_parts(make_action(plain, 2), 105, &urls, &n, &chunk), 0);
    assert_null(urls);
    assert_int_equal(n, 0);
    /* part URLs without chunk_size are refused rather than sent as headers named "1".."11" */
    assert_int_equal(hf_lfs_action_parts(make_action(h, 11), 105, &urls, &n, &chunk), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "no chunk_size"));
    assert_null(urls);
}

static void test_action_plan(void **state)
{
    (void)state;
    /* the plan form names the object and owns its copies of the URLs */
    hf_lfs_header h[] = {{"00002", "https://s3/b"}, {"00001", "https://s3/a"}, {"chunk_size", "5"}};
    hf_multipart_plan plan;
    assert_int_equal(hf_lfs_action_plan(make_action(h, 3), OID_A, 7, &plan), 0);
    assert_true(plan.multipart);
    assert_int_equal(plan.part_count, 2);
    assert_string_equal(plan.part_urls[0], "https://s3/a");
    assert_string_equal(plan.part_urls[1], "https://s3/b");
    hf_multipart_plan_free(&plan);
    assert_int_equal(hf_lfs_action_plan(make_action(h, 3), OID_A, 11, &plan), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), OID_A));
    assert_null(plan.part_urls);
}

static void test_header_list(void **state)
{
    (void)state;
    hf_lfs_header h[] = {{"X-A", "1"}, {"Content-Type", "text/x"}};
    const char *extra[] = {"Accept: y", NULL};
    char **list = hf_lfs_action_header_list(make_action(h, 2), extra);
    assert_non_null(list);
    assert_string_equal(list[0], "Accept: y");
    assert_string_equal(list[1], "X-A: 1");
    assert_string_equal(list[2], "Content-Type: text/x");
    assert_null(list[3]);
    hf_lfs_headers_free(list);
    list = hf_lfs_action_header_list(NULL, NULL);
    assert_non_null(list);
    assert_null(list[0]);
    hf_lfs_headers_free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_body_upload),
        cmocka_unit_test(test_request_body_download_no_ref),
        cmocka_unit_test(test_request_body_rejects_bad_oid),
        cmocka_unit_test(test_response_full),
        cmocka_unit_test(test_response_defaults),
        cmocka_unit_test(test_response_negative_size_is_object_error),
        cmocka_unit_test(test_response_hostile),
        cmocka_unit_test(test_error_without_message),
        cmocka_unit_test(test_fuzz_regressions),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_action_plan),
        cmocka_unit_test(test_header_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
