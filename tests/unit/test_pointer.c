/* test_pointer.c: LFS pointers byte-exact with git-lfs 3.3.0 (accepted forms, every rejection, oid checks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/error.h"
#include "../../common/pointer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OID "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
#define V1 "version https://git-lfs.github.com/spec/v1\n"
#define CANON V1 "oid sha256:" OID "\nsize 12345\n"

static int parse(const char *text, size_t len, hf_lfs_pointer *p, int *canonical)
{
    memset(p, 0x55, sizeof(*p));
    return hf_pointer_parse(p, text, len, canonical);
}

static void expect_pointer(const char *text, uint64_t size, int canonical)
{
    hf_lfs_pointer p;
    int canon = -1;
    int rc = parse(text, strlen(text), &p, &canon);
    if (rc) print_error("rejected [%s]: %s\n", text, hf_error_last_message());
    assert_int_equal(rc, 0);
    assert_string_equal(p.oid, OID);
    assert_int_equal(p.size, size);
    assert_int_equal(canon, canonical);
}

static void expect_rejected(const char *text, size_t len)
{
    hf_lfs_pointer p;
    int canon = -1;
    if (parse(text, len, &p, &canon) != HF_EINVAL) print_error("accepted [%.*s]\n", (int)len, text);
    assert_int_equal(hf_pointer_parse(&p, text, len, &canon), HF_EINVAL);
    assert_int_equal(canon, 0);
    assert_non_null(strstr(hf_error_last_message(), "not a Git LFS pointer"));
}

static void test_canonical_round_trip(void **state)
{
    hf_lfs_pointer p = {OID, 12345}, q;
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_pointer_format(&p, &b), 0);
    assert_string_equal(b.ptr, CANON);
    assert_int_equal(b.len, 130); /* the spec's example size for a 5-digit size */
    int canon = 0;
    assert_int_equal(hf_pointer_parse(&q, b.ptr, b.len, &canon), 0);
    assert_int_equal(canon, 1);
    assert_string_equal(q.oid, OID);
    assert_int_equal(q.size, 12345);
    assert_int_equal(hf_pointer_parse(&q, b.ptr, b.len, NULL), 0); /* canonical is optional */

    /* a 50 GB size and the largest git-lfs accepts */
    hf_buf_clear(&b);
    p.size = UINT64_C(53687091200);
    assert_int_equal(hf_pointer_format(&p, &b), 0);
    assert_int_equal(hf_pointer_parse(&q, b.ptr, b.len, &canon), 0);
    assert_int_equal(q.size, UINT64_C(53687091200));
    assert_int_equal(canon, 1);
    expect_pointer(V1 "oid sha256:" OID "\nsize 9223372036854775807\n", UINT64_C(9223372036854775807), 1);
    hf_buf_free(&b);
}

static void test_size_zero(void **state)
{
    hf_lfs_pointer p = {OID, 0}, q;
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_pointer_format(&p, &b), 0);
    assert_int_equal(b.len, 0); /* size 0 is the empty string */
    int canon = 0;
    assert_int_equal(hf_pointer_parse(&q, "", 0, &canon), 0);
    assert_int_equal(q.size, 0);
    assert_string_equal(q.oid, HF_LFS_EMPTY_OID);
    assert_int_equal(canon, 1);
    /* an explicit size-0 pointer is a pointer, but not the canonical encoding */
    expect_pointer(V1 "oid sha256:" OID "\nsize 0\n", 0, 0);
    expect_rejected("\n", 1); /* whitespace only is not the empty pointer */
    hf_buf_free(&b);
}

/* Forms git-lfs decodes although it would never write them. These and the rejections below agree with
 * `git lfs pointer --check --strict` of git-lfs 3.3.0 (checked on 3,000 generated variants). */
static void test_tolerated_forms(void **state)
{
    expect_pointer("version https://git-lfs.github.com/spec/v1\r\noid sha256:" OID "\r\nsize 12345\r\n",
                   12345, 0);
    expect_pointer(V1 "oid sha256:" OID "\nsize 12345", 12345, 0); /* no final newline */
    expect_pointer("\n\n  " CANON "\n\n \t", 12345, 0);            /* surrounding white space */
    expect_pointer(CANON "\xc2\xa0\xe3\x80\x80", 12345, 0);        /* Unicode spaces trimmed too */
    expect_pointer("\v\f\xc2\x85\xe2\x80\x8a" CANON "\xe2\x80\xa9", 12345, 0); /* \v \f NEL U+200A U+2029 */
    expect_pointer(V1 "\n\noid sha256:" OID "\n\r\nsize 12345\n", 12345, 0);   /* empty lines skipped */
    expect_pointer("version https://hawser.github.com/spec/v1\noid sha256:" OID "\nsize 12345\n", 12345, 0);
    expect_pointer("version http://git-media.io/v/2\noid sha256:" OID "\nsize 12345\n", 12345, 0);
    expect_pointer(V1 "oid sha256:" OID "\nsize 0012345\n", 12345, 0); /* strconv.ParseInt */
    expect_pointer(V1 "oid sha256:" OID "\nsize +12345\n", 12345, 0);
    expect_pointer(V1 "oid sha256:" OID "\nsize -0\n", 0, 0);
    /* extensions: ext-<digit>-<name> anywhere before size, checked and dropped */
    expect_pointer(V1 "ext-0-foo sha256:" OID "\next-1-bar sha256:" OID "\noid sha256:" OID "\nsize 12345\n",
                   12345, 0);
    expect_pointer(V1 "oid sha256:" OID "\next-9-a_b sha256:" OID "\nsize 12345\n", 12345, 0);
    expect_pointer("ext-2-x sha256:" OID "\n" CANON, 12345, 0);
    expect_pointer(V1 "ext-3-a!b sha256:" OID "\next-4-_ sha256:" OID "\noid sha256:" OID "\nsize 12345\n",
                   12345, 0);                                            /* \w+ is a prefix match */
    expect_pointer(V1 "ext-0-foo sha256:bad\next-0-foo sha256:" OID "\n" /* same key: last value wins */
                      "oid sha256:" OID "\nsize 12345\n",
                   12345, 0);
}

static void test_rejections(void **state)
{
    const char *bad[] = {
        "hello world\n",                                                     /* no marker */
        "version https://example.com/spec/v1\noid sha256:" OID "\nsize 1\n", /* no marker */
        "version https://git-lfs.github.com/spec/v2\noid sha256:" OID "\nsize 1\n",
        "version https://git-lfs.github.com/spec/v1 \noid sha256:" OID "\nsize 1\n", /* trailing space */
        "oid sha256:" OID "\n" V1 "size 12345\n",                                    /* wrong order */
        V1 "size 12345\noid sha256:" OID "\n",
        V1 "oid sha256:" OID "\n",                      /* missing size */
        V1 "size 12345\n",                              /* missing oid */
        "git-lfs\n",                                    /* marker, no space */
        V1 "foo bar\noid sha256:" OID "\nsize 12345\n", /* unknown key */
        V1 "oid sha256:" OID "\nsize 12345\nfoo bar\n", /* extra line */
        CANON "ext-0-foo sha256:" OID "\n",             /* extension after size is an extra line */
        CANON CANON,
        V1 "oid sha256:4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393\nsize 1\n",
        V1 "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e239\nsize 1\n",
        V1 "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e23933\nsize 1\n",
        V1 "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e239g\nsize 1\n",
        V1 "oid sha1:" OID "\nsize 1\n",
        V1 "oid " OID "\nsize 1\n",
        V1 "oid sha256:" OID " \nsize 1\n",
        V1 "oid sha256:" OID "\nsize -1\n",
        V1 "oid sha256:" OID "\nsize 12a\n",
        V1 "oid sha256:" OID "\nsize \n",
        V1 "oid sha256:" OID "\nsize  12\n",
        V1 "oid sha256:" OID "\nsize 1.5\n",
        V1 "oid sha256:" OID "\nsize 9223372036854775808\n",
        V1 "oid sha256:" OID "\nsize 99999999999999999999999\n",
        V1 "ext-10-foo sha256:" OID "\noid sha256:" OID "\nsize 1\n", /* two-digit priority */
        V1 "ext-1- sha256:" OID "\noid sha256:" OID "\nsize 1\n",     /* empty name */
        V1 "ext-1-foo sha256:xyz\noid sha256:" OID "\nsize 1\n",      /* bad extension oid */
        V1 "ext-1-foo sha256:" OID "\next-1-bar sha256:" OID "\noid sha256:" OID "\nsize 1\n", /* same prio */
        "VERSION https://git-lfs.github.com/spec/v1\noid sha256:" OID "\nsize 1\n",
        "version\thttps://git-lfs.github.com/spec/v1\noid sha256:" OID "\nsize 1\n",
        V1 "oid sha256:" OID "\rsize 1\n",     /* a lone CR is not a line end */
        "\xef\xbb\xbf" CANON,                  /* a BOM is not white space */
        "\xe2\x80\x8b" CANON,                  /* nor is U+200B */
        V1 "oid sha256:" OID "\r\r\nsize 1\n", /* only one CR is dropped */
        V1 "ext-a-x sha256:" OID "\noid sha256:" OID "\nsize 1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_rejected(bad[i], strlen(bad[i]));

    /* NUL bytes are data, never a terminator */
    char buf[200];
    memcpy(buf, CANON, sizeof(CANON));
    buf[sizeof(V1) - 1 + 20] = '\0'; /* inside the oid */
    expect_rejected(buf, sizeof(CANON) - 1);
    memcpy(buf, CANON, sizeof(CANON));
    buf[sizeof(CANON) - 1] = '\0'; /* NUL after the final newline */
    expect_rejected(buf, sizeof(CANON));
}

/* 1023 bytes may be a pointer; 1024 never is. */
static void test_size_gate(void **state)
{
    char buf[1100];
    memset(buf, ' ', sizeof(buf));
    memcpy(buf, CANON, sizeof(CANON) - 1);
    hf_lfs_pointer p;
    int canon = -1;
    assert_int_equal(hf_pointer_parse(&p, buf, 1023, &canon), 0);
    assert_int_equal(p.size, 12345);
    assert_int_equal(canon, 0);
    expect_rejected(buf, 1024);
    expect_rejected(buf, sizeof(buf));
}

static void test_oid_valid(void **state)
{
    assert_true(hf_oid_valid(OID));
    assert_true(hf_oid_valid(HF_LFS_EMPTY_OID));
    assert_false(hf_oid_valid(NULL));
    assert_false(hf_oid_valid(""));
    assert_false(hf_oid_valid("4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393"));
    assert_false(hf_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e239"));   /* 63 */
    assert_false(hf_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e23933")); /* 65 */
    assert_false(hf_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e239g"));
    assert_false(hf_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e239/"));
    assert_false(hf_oid_valid("../../../../../../../../../../../../../../../../../../etc/passwd0000"));
    char s[66];
    memcpy(s, OID, 65);
    s[10] = '\0';
    assert_false(hf_oid_valid(s)); /* embedded NUL */
    memcpy(s, OID, 65);
    s[64] = '\n';
    s[65] = '\0';
    assert_false(hf_oid_valid(s));
}

static void test_object_path(void **state)
{
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_lfs_object_path(&b, "/r/.git/lfs", OID), 0);
    assert_string_equal(b.ptr, "/r/.git/lfs/objects/4d/7a/" OID);
    hf_buf_clear(&b);
    assert_int_equal(hf_lfs_object_path(&b, "/r/.git/lfs/", OID), 0);
    assert_string_equal(b.ptr, "/r/.git/lfs/objects/4d/7a/" OID);
    hf_buf_clear(&b);
    assert_int_equal(hf_lfs_object_path(&b, "/r/.git/lfs", "../../etc/passwd"), HF_EINVAL);
    assert_int_equal(b.len, 0);
    hf_lfs_pointer p = {"not-an-oid", 5};
    assert_int_equal(hf_pointer_format(&p, &b), HF_EINVAL);
    assert_int_equal(b.len, 0);
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_round_trip),
        cmocka_unit_test(test_size_zero),
        cmocka_unit_test(test_tolerated_forms),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_size_gate),
        cmocka_unit_test(test_oid_valid),
        cmocka_unit_test(test_object_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
