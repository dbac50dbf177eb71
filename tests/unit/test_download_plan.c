/* test_download_plan.c: the pure parts of ranged downloads (common/download.h): range counts, the
 * Content-Range check that keeps a wrong slice out of the file, the resume record, the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/download.h"

#include <stdlib.h>
#include <string.h>

static void test_range_count(void **state)
{
    assert_int_equal(hf_download_range_count(0, 10), 1);
    assert_int_equal(hf_download_range_count(10, 10), 1);
    assert_int_equal(hf_download_range_count(11, 10), 2);
    assert_int_equal(hf_download_range_count(300ULL << 20, (300ULL << 20) / 8), 8);
    assert_int_equal(hf_download_range_count(50000000000ULL, 16ULL << 20), 2981);
}

static void test_content_range(void **state)
{
    assert_true(hf_download_content_range_ok("bytes 0-9/100", 0, 9, 100));
    assert_true(hf_download_content_range_ok("  Bytes 90-99/100 ", 90, 99, 100));
    /* another slice, another size, an unknown size, trailing junk, nothing: all refused */
    assert_false(hf_download_content_range_ok("bytes 10-19/100", 0, 9, 100));
    assert_false(hf_download_content_range_ok("bytes 0-9/101", 0, 9, 100));
    assert_false(hf_download_content_range_ok("bytes 0-9/*", 0, 9, 100));
    assert_false(hf_download_content_range_ok("bytes 0-9/100x", 0, 9, 100));
    assert_false(hf_download_content_range_ok("bytes 0-99999999999999999999999/100", 0, 9, 100));
    assert_false(hf_download_content_range_ok(NULL, 0, 9, 100));
    assert_false(hf_download_content_range_ok("items 0-9/100", 0, 9, 100));
}

static void test_record(void **state)
{
    hf_buf head = HF_BUF_INIT;
    assert_int_equal(hf_download_record_header(&head, 1000, 100), 0);
    assert_string_equal(head.ptr, "hfgit-ranges 1 1000 100");
    unsigned char done[10] = {0};
    /* 3 twice, an index out of range, junk, and a last line cut by a crash (no newline) */
    const char *text = "hfgit-ranges 1 1000 100\n3\n0\n3\n10\nx\n9";
    assert_int_equal(hf_download_record_parse(text, strlen(text), 1000, 100, done, 10), 2);
    assert_true(done[0] && done[3]);
    assert_false(done[9] || done[1]);
    /* a record for another size or range size is not used at all */
    memset(done, 0, sizeof(done));
    assert_int_equal(hf_download_record_parse(text, strlen(text), 1000, 200, done, 5), -1);
    assert_int_equal(hf_download_record_parse(text, strlen(text), 1001, 100, done, 11), -1);
    assert_int_equal(hf_download_record_parse("", 0, 1000, 100, done, 10), -1);
    assert_int_equal(hf_download_record_parse("hfgit-ranges 1 1000 1000\n1\n", 27, 1000, 100, done, 10), -1);
    for (size_t i = 0; i < sizeof(done); i++)
        assert_int_equal(done[i], 0);
    hf_buf_free(&head);
}

static void test_env(void **state)
{
    hf_download_options o = HF_DOWNLOAD_OPTIONS_INIT;
    setenv("HFGIT_DOWNLOAD_PARALLEL", "24", 1);
    setenv("HFGIT_DOWNLOAD_RANGE_SIZE", "1048576", 1);
    hf_download_options_from_env(&o);
    assert_int_equal(o.parallel, 24);
    assert_int_equal(o.range_size, 1048576);
    /* bad values are ignored: the defaults stay */
    hf_download_options d = HF_DOWNLOAD_OPTIONS_INIT;
    setenv("HFGIT_DOWNLOAD_PARALLEL", "65", 1);
    setenv("HFGIT_DOWNLOAD_RANGE_SIZE", "1000", 1);
    hf_download_options_from_env(&d);
    assert_int_equal(d.parallel, 0);
    assert_int_equal(d.range_size, 0);
    setenv("HFGIT_DOWNLOAD_PARALLEL", "8x", 1);
    hf_download_options_from_env(&d);
    assert_int_equal(d.parallel, 0);
    unsetenv("HFGIT_DOWNLOAD_PARALLEL");
    unsetenv("HFGIT_DOWNLOAD_RANGE_SIZE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_count),
        cmocka_unit_test(test_content_range),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
