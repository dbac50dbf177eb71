/* test_lfs_attrs.c: .gitattributes track/untrack editing as git-lfs does it, and the binary-file rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../repo/attrs.h"
#include "../../common/error.h"

#include <string.h>

static void set(hf_buf *b, const char *s)
{
    hf_buf_clear(b);
    hf_buf_puts(b, s);
}

static void test_escape(void **state)
{
    (void)state;
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_attrs_escape_pattern("dir/my model #1.bin", &b), 0);
    assert_string_equal(b.ptr, "dir/my[[:space:]]model[[:space:]]\\#1.bin");
    assert_int_equal(hf_attrs_escape_pattern("plain.bin", &b), 0);
    assert_string_equal(b.ptr, "plain.bin");
    hf_buf_free(&b);
}

/* `git lfs track --filename` (git-lfs 3.3.0): glob characters and '#' escaped, spaces as [[:space:]]; the
 * cases where git-lfs's line would miss the file are escaped too (tab, backslash, leading '!' or '"'). */
static void test_escape_filename(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"model[0].bin", "model\\[0\\].bin"},
        {"w*x?.bin", "w\\*x\\?.bin"},
        {"dir/my model #1.bin", "dir/my[[:space:]]model[[:space:]]\\#1.bin"},
        {"tab\tname", "tab[[:space:]]name"},
        {"back\\slash", "back\\\\slash"},
        {"!bang!", "\\!bang!"},
        {"\"q\"", "\\\"q\""},
        {"plain.bin", "plain.bin"},
    };
    hf_buf b = HF_BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(hf_attrs_escape_filename(cases[i][0], &b), 0);
        assert_string_equal(b.ptr, cases[i][1]);
    }
    assert_int_equal(hf_attrs_escape_filename("a\nb", &b), HF_EINVAL);
    assert_int_equal(hf_attrs_escape_filename("", &b), HF_EINVAL);
    hf_buf_clear(&b);
    assert_int_equal(hf_attrs_track_filename(&b, "m[1].bin"), 1);
    assert_string_equal(b.ptr, "m\\[1\\].bin filter=lfs diff=lfs merge=lfs -text\n");
    assert_int_equal(hf_attrs_track_filename(&b, "m[1].bin"), 0);
    hf_buf_free(&b);
}

static void test_track(void **state)
{
    (void)state;
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_attrs_track(&b, "big.bin"), 1);
    assert_string_equal(b.ptr, "big.bin filter=lfs diff=lfs merge=lfs -text\n");
    /* already tracked: unchanged */
    assert_int_equal(hf_attrs_track(&b, "big.bin"), 0);
    assert_int_equal(hf_attrs_track(&b, "big"), 1); /* a prefix of another pattern is another pattern */
    assert_string_equal(b.ptr, "big.bin filter=lfs diff=lfs merge=lfs -text\nbig filter=lfs diff=lfs merge=lfs -text\n");
    /* a missing final newline is added first; other lines are kept */
    set(&b, "*.txt text\r\n*.md -text");
    assert_int_equal(hf_attrs_track(&b, "a.bin"), 1);
    assert_string_equal(b.ptr, "*.txt text\r\n*.md -text\na.bin filter=lfs diff=lfs merge=lfs -text\n");
    /* a line naming the pattern without filter=lfs does not count as tracked */
    set(&b, "x.bin -text\n");
    assert_int_equal(hf_attrs_track(&b, "x.bin"), 1);
    /* CRLF files and tabs are recognised */
    set(&b, "y.bin\tfilter=lfs\r\n");
    assert_int_equal(hf_attrs_track(&b, "y.bin"), 0);
    set(&b, "y.bin filter=lfsx\n");
    assert_int_equal(hf_attrs_has_track(b.ptr, b.len, "y.bin"), 0);
    hf_buf_free(&b);
}

static void test_untrack(void **state)
{
    (void)state;
    hf_buf b = HF_BUF_INIT;
    set(&b, "*.txt text\ngone.bin filter=lfs diff=lfs merge=lfs -text\nkeep.bin filter=lfs diff=lfs merge=lfs -text\n"
            "gone.bin -diff\n");
    assert_int_equal(hf_attrs_untrack(&b, "gone.bin"), 1);
    assert_string_equal(b.ptr, "*.txt text\nkeep.bin filter=lfs diff=lfs merge=lfs -text\ngone.bin -diff\n");
    assert_int_equal(hf_attrs_untrack(&b, "nothere.bin"), 0);
    assert_int_equal(hf_attrs_untrack(&b, "keep.bi"), 0);
    /* the last line without a newline */
    set(&b, "a filter=lfs");
    assert_int_equal(hf_attrs_untrack(&b, "a"), 1);
    assert_int_equal(b.len, 0);
    assert_string_equal(hf_buf_cstr(&b), "");
    hf_buf_free(&b);
}

/* untrack by file name removes the escaped line track by file name wrote, not a glob that reads alike */
static void test_untrack_filename(void **state)
{
    (void)state;
    hf_buf b = HF_BUF_INIT;
    set(&b, "model[0].bin filter=lfs diff=lfs merge=lfs -text\n");
    assert_int_equal(hf_attrs_track_filename(&b, "model[0].bin"), 1);
    assert_int_equal(hf_attrs_untrack_filename(&b, "model[0].bin"), 1);
    assert_string_equal(b.ptr, "model[0].bin filter=lfs diff=lfs merge=lfs -text\n");
    assert_int_equal(hf_attrs_untrack_filename(&b, "model[0].bin"), 0);
    set(&b, "my[[:space:]]model[[:space:]]\\#1.bin filter=lfs diff=lfs merge=lfs -text\n");
    assert_int_equal(hf_attrs_untrack_filename(&b, "my model #1.bin"), 1);
    assert_int_equal(b.len, 0);
    assert_int_equal(hf_attrs_untrack_filename(&b, "a\nb"), HF_EINVAL);
    hf_buf_free(&b);
}

static void test_binary(void **state)
{
    (void)state;
    assert_false(hf_is_binary("hello\tworld\r\n\x1b[0m\x07\x08\x0c", 20));
    assert_false(hf_is_binary("caf\xc3\xa9 \xff", 7)); /* high bytes are text in this rule */
    assert_true(hf_is_binary("a\0b", 3));
    assert_true(hf_is_binary("a\x7f", 2));
    assert_true(hf_is_binary("\x01", 1));
    assert_true(hf_is_binary("\x0b", 1)); /* vertical tab is not in the set */
    assert_false(hf_is_binary("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_filename),
        cmocka_unit_test(test_track),
        cmocka_unit_test(test_untrack),
        cmocka_unit_test(test_untrack_filename),
        cmocka_unit_test(test_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
