/* test_remote_head.c: reading the branch an empty remote's HEAD names from a protocol v2 ls-refs answer
 * (untrusted network input: malformed lengths and missing lines are "the server does not say"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../repo/repo.h"

#include <string.h>

/* One pkt-line: 4 hex digits of length (header included), then the line. */
static const char *pkt(hf_buf *b, const char *line)
{
    hf_buf_printf(b, "%04zx%s", strlen(line) + 4, line);
    return b->ptr;
}

static int parse(const char *answer, hf_buf *out)
{
    hf_buf_clear(out);
    return hf_remote_parse_ls_refs_head(answer, strlen(answer), out);
}

static void test_answers(void **state)
{
    (void)state;
    hf_buf b = HF_BUF_INIT;
    hf_buf a = HF_BUF_INIT;
    /* git 2.39's answer for an empty repository whose HEAD names main */
    pkt(&a, "unborn HEAD symref-target:refs/heads/main\n");
    hf_buf_puts(&a, "0000");
    assert_int_equal(parse(a.ptr, &b), 0);
    assert_string_equal(b.ptr, "main");
    /* a repository with commits: "<oid> HEAD symref-target:..." (other attributes may follow a space) */
    hf_buf_clear(&a);
    pkt(&a, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 HEAD symref-target:refs/heads/dev peeled:x\n");
    hf_buf_puts(&a, "0000");
    assert_int_equal(parse(a.ptr, &b), 0);
    assert_string_equal(b.ptr, "dev");
    /* no HEAD line: the server does not say */
    assert_int_equal(parse("0000", &b), -1);
    assert_int_equal(parse("", &b), -1);
    /* HEAD pointing outside refs/heads/ */
    hf_buf_clear(&a);
    pkt(&a, "unborn HEAD symref-target:refs/tags/v1\n");
    assert_int_equal(parse(a.ptr, &b), -1);
    /* malformed lengths: not hex, shorter than the header, past the end */
    assert_int_equal(parse("zz2eunborn HEAD symref-target:refs/heads/main\n0000", &b), -1);
    assert_int_equal(parse("0002", &b), -1);
    assert_int_equal(parse("0099unborn HEAD symref-target:refs/heads/main\n", &b), -1);
    /* a line without a space, then the real one; what follows the flush is not read */
    hf_buf_clear(&a);
    pkt(&a, "abcde");
    pkt(&a, "unborn HEAD symref-target:refs/heads/main\n");
    hf_buf_puts(&a, "0000");
    pkt(&a, "unborn HEAD symref-target:refs/heads/other\n");
    assert_int_equal(parse(a.ptr, &b), 0);
    assert_string_equal(b.ptr, "main");
    hf_buf_clear(&a);
    hf_buf_puts(&a, "0000");
    pkt(&a, "unborn HEAD symref-target:refs/heads/other\n");
    assert_int_equal(parse(a.ptr, &b), -1);
    hf_buf_free(&a);
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
