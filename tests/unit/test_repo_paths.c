/* test_repo_paths.c: the pure helpers of repo/paths.c: joining a relative path under the working tree (no
 * escaping it) and scrubbing a secret from a text that a queued command keeps as its error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../repo/repo.h"

#include <string.h>

static void test_join(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(hf_path_join_checked("/w/repo/", "file.txt", out, sizeof(out)), 0);
    assert_string_equal(out, "/w/repo/file.txt");
    assert_int_equal(hf_path_join_checked("/w/repo", "a/b/c.bin", out, sizeof(out)), 0);
    assert_string_equal(out, "/w/repo/a/b/c.bin");
    /* names that merely contain dots are fine */
    assert_int_equal(hf_path_join_checked("/w/", "..a/b..", out, sizeof(out)), 0);
    assert_string_equal(out, "/w/..a/b..");
    assert_int_equal(hf_path_join_checked("/w/", "./x", out, sizeof(out)), 0);
}

static void test_join_refuses(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(hf_path_join_checked("/w/", "../x", out, sizeof(out)), HF_EINVAL);
    assert_int_equal(hf_path_join_checked("/w/", "a/../../x", out, sizeof(out)), HF_EINVAL);
    assert_int_equal(hf_path_join_checked("/w/", "a/..", out, sizeof(out)), HF_EINVAL);
    assert_int_equal(hf_path_join_checked("/w/", "/etc/passwd", out, sizeof(out)), HF_EINVAL);
    assert_int_equal(hf_path_join_checked("/w/", "", out, sizeof(out)), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "empty"));
    /* exactly fitting: "/w/" + 12 chars + NUL = 16 */
    assert_int_equal(hf_path_join_checked("/w/", "abcdefghijkl", out, sizeof(out)), 0);
    assert_int_equal(hf_path_join_checked("/w/", "abcdefghijklm", out, sizeof(out)), HF_EINVAL);
}

static void test_scrub(void **state)
{
    (void)state;
    hf_buf b = HF_BUF_INIT;
    hf_buf_puts(&b, "auth hf_secret failed; retry with hf_secret");
    hf_scrub_secret(&b, "hf_secret");
    assert_string_equal(b.ptr, "auth <token> failed; retry with <token>");
    hf_scrub_secret(&b, NULL); /* no token: unchanged */
    hf_scrub_secret(&b, "");
    assert_string_equal(b.ptr, "auth <token> failed; retry with <token>");
    hf_buf_free(&b);
    hf_buf_puts(&b, "nothing to hide");
    hf_scrub_secret(&b, "hf_secret");
    assert_string_equal(b.ptr, "nothing to hide");
    hf_buf_free(&b);
    hf_buf_puts(&b, "hf_secret");
    hf_scrub_secret(&b, "hf_secret");
    assert_string_equal(b.ptr, "<token>");
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_join), cmocka_unit_test(test_join_refuses),
                                       cmocka_unit_test(test_scrub)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
