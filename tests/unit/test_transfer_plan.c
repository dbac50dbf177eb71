/* test_transfer_plan.c: the pure parts of the transfer engine (common/transfer.h): part plans from action
 * headers, part counts, the completion body, the retry policy from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/error.h"
#include "../../common/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *oid = "4e7baf6274501f2acf44158e8568b42f714f7c230ff1a0a1cc5807df48de9e63";

static void test_part_count(void **state)
{
    assert_int_equal(hf_multipart_part_count(0, 5), 0);
    assert_int_equal(hf_multipart_part_count(1, 5), 1);
    assert_int_equal(hf_multipart_part_count(5, 5), 1);
    assert_int_equal(hf_multipart_part_count(6, 5), 2);
    assert_int_equal(hf_multipart_part_count(5905580032ULL, 536870912ULL), 11);
    assert_int_equal(hf_multipart_part_count(10, 0), 0);
}

/* Keys arrive sorted as strings; unpadded numbers must still come out in numeric order. */
static void test_numeric_sort(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    const char *keys[] = {"1", "10", "11", "2", "3", "4", "5", "6", "7", "8", "9"};
    char url[64];
    for (size_t i = 0; i < 11; i++) {
        snprintf(url, sizeof(url), "http://s3/part?n=%s", keys[i]);
        assert_int_equal(hf_multipart_plan_add(&p, keys[i], url), 0);
    }
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "10"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 105), 0);
    assert_true(p.multipart);
    assert_int_equal(p.chunk_size, 10);
    assert_int_equal(p.part_count, 11);
    for (size_t i = 0; i < 11; i++) {
        snprintf(url, sizeof(url), "http://s3/part?n=%zu", i + 1);
        assert_string_equal(p.part_urls[i], url);
    }
    assert_int_equal(p.header_count, 0);
    hf_multipart_plan_free(&p);
}

static void test_count_mismatch(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    assert_int_equal(hf_multipart_plan_add(&p, "00001", "http://a"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "10"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 11), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "need 2"));
    hf_multipart_plan_free(&p);
}

static void test_bad_inputs(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "12a"), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "0"), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "99999999999999999999999"), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "0", "http://a"), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "00000", "http://a"), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "1234567890", "http://a"), HF_EINVAL); /* 10 digits */
    assert_int_equal(hf_multipart_plan_add(&p, "1", ""), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "1", "file:///home/u/.bashrc"), HF_EINVAL);
    assert_int_equal(hf_multipart_plan_add(&p, "1", "ftp://h/x"), HF_EINVAL);
    hf_multipart_plan_free(&p);

    /* a header that cannot be sent is refused for a single PUT ... */
    assert_int_equal(hf_multipart_plan_add(&p, "X-Evil", "a\r\nInjected: 1"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 20), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "X-Evil"));
    hf_multipart_plan_free(&p);
    assert_int_equal(hf_multipart_plan_add(&p, "Bad Name", "v"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 20), HF_EINVAL);
    hf_multipart_plan_free(&p);

    /* duplicate part numbers written differently */
    assert_int_equal(hf_multipart_plan_add(&p, "1", "http://a"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "01", "http://b"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "10"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 20), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "twice"));
    hf_multipart_plan_free(&p);

    /* part URLs without chunk_size */
    assert_int_equal(hf_multipart_plan_add(&p, "00001", "http://a"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 20), HF_EINVAL);
    hf_multipart_plan_free(&p);
}

/* Part keys: leading zeros are padding; non-digit keys are ignored in a multipart action, even ones that
 * could not be HTTP headers (they arrive before chunk_size: "X-..." < "chunk_size" bytewise). */
static void test_part_keys(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    assert_int_equal(hf_multipart_plan_add(&p, "0000000002", "http://b"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "1", "http://a"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "X-Ignored Key", "x\r\ny"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "-3", "http://c"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "10"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 20), 0);
    assert_int_equal(p.part_count, 2);
    assert_string_equal(p.part_urls[0], "http://a");
    assert_string_equal(p.part_urls[1], "http://b");
    hf_multipart_plan_free(&p);
}

/* Parts 1, 2, 4 for a 3-part object: the count matches, but part 3 is missing (its ETag would be part 4's).
 */
static void test_part_gap(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    assert_int_equal(hf_multipart_plan_add(&p, "00001", "http://a"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "00002", "http://b"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "00004", "http://d"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "10"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 30), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "no URL for part 3"));
    hf_multipart_plan_free(&p);

    assert_int_equal(hf_multipart_plan_add(&p, "99999", "http://z"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "10"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 5), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "no URL for part 1"));
    hf_multipart_plan_free(&p);
}

/* chunk_size edge cases: larger than the object (one part), sizes past 4 GiB, too many parts. */
static void test_chunk_edges(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    assert_int_equal(hf_multipart_plan_add(&p, "1", "http://a"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "18446744073709551615"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 5), 0);
    assert_int_equal(p.part_count, 1);
    hf_multipart_plan_free(&p);

    char key[16];
    for (int i = 1; i <= 11; i++) {
        snprintf(key, sizeof(key), "%05d", i);
        assert_int_equal(hf_multipart_plan_add(&p, key, "http://x"), 0);
    }
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "536870912"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 5905580032ULL), 0); /* 5.5 GiB */
    hf_multipart_plan_free(&p);

    for (int i = 1; i <= HF_MULTIPART_MAX_PARTS + 1; i++) {
        snprintf(key, sizeof(key), "%d", i);
        assert_int_equal(hf_multipart_plan_add(&p, key, "http://x"), 0);
    }
    assert_int_equal(hf_multipart_plan_add(&p, "chunk_size", "1"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, HF_MULTIPART_MAX_PARTS + 1), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "10000"));
    hf_multipart_plan_free(&p);
}

/* Without chunk_size every entry is an HTTP header for a single PUT. */
static void test_single_put_headers(void **state)
{
    hf_multipart_plan p = HF_MULTIPART_PLAN_INIT;
    assert_int_equal(hf_multipart_plan_add(&p, "Authorization", "Basic abc"), 0);
    assert_int_equal(hf_multipart_plan_add(&p, "X-Amz-Meta", "v: w"), 0);
    assert_int_equal(hf_multipart_plan_finish(&p, oid, 20), 0);
    assert_false(p.multipart);
    assert_int_equal(p.header_count, 2);
    assert_string_equal(p.headers[0], "Authorization: Basic abc");
    assert_string_equal(p.headers[1], "X-Amz-Meta: v: w");
    assert_null(p.headers[2]);
    hf_multipart_plan_free(&p);
}

static void test_url_ok(void **state)
{
    assert_true(hf_transfer_url_ok("http://h/x"));
    assert_true(hf_transfer_url_ok("HTTPS://h/x?a=1&b=2"));
    assert_false(hf_transfer_url_ok("file:///etc/passwd"));
    assert_false(hf_transfer_url_ok("gopher://h/"));
    assert_false(hf_transfer_url_ok("http:/h"));
    assert_false(hf_transfer_url_ok("http://h/\r\nX: 1"));
    assert_false(hf_transfer_url_ok(""));
    assert_false(hf_transfer_url_ok(NULL));
}

static void test_completion_body(void **state)
{
    hf_buf b = HF_BUF_INIT;
    const char *etags[] = {"\"abc\"", "\"d\\e\""};
    assert_int_equal(hf_multipart_completion_body(&b, "00ff", etags, 2), 0);
    assert_string_equal(b.ptr, "{\"oid\":\"00ff\",\"parts\":[{\"partNumber\":1,\"etag\":\"\\\"abc\\\"\"},"
                               "{\"partNumber\":2,\"etag\":\"\\\"d\\\\e\\\"\"}]}");
    hf_buf_free(&b);
}

static void test_retry_env(void **state)
{
    hf_retry_policy p = HF_RETRY_POLICY_INIT;
    setenv("HFGIT_RETRY_MAX_ATTEMPTS", "3", 1);
    setenv("HFGIT_RETRY_BASE_MS", "x", 1);
    hf_retry_policy_from_env(&p);
    assert_int_equal(p.max_attempts, 3);
    assert_int_equal(p.base_delay_ms, 500);
    setenv("HFGIT_RETRY_MAX_ATTEMPTS", "0", 1);
    hf_retry_policy_from_env(&p);
    assert_int_equal(p.max_attempts, 3);
    unsetenv("HFGIT_RETRY_MAX_ATTEMPTS");
    unsetenv("HFGIT_RETRY_BASE_MS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part_count),
        cmocka_unit_test(test_numeric_sort),
        cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_single_put_headers),
        cmocka_unit_test(test_completion_body),
        cmocka_unit_test(test_retry_env),
        cmocka_unit_test(test_part_keys),
        cmocka_unit_test(test_part_gap),
        cmocka_unit_test(test_chunk_edges),
        cmocka_unit_test(test_url_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
