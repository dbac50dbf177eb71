/* test_digest.c: SHA-256/MD5 against known vectors, streaming vs one-shot, files vs sha256sum, HMAC RFC 4231.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/digest.h"
#include "../../common/error.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_known_vectors(void **state)
{
    char hex[65];
    assert_int_equal(hf_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, SHA_EMPTY);
    assert_int_equal(hf_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, SHA_ABC);

    hf_digest *d;
    assert_int_equal(hf_digest_new(&d, HF_DIGEST_MD5), 0);
    assert_int_equal(hf_digest_final_hex(d, hex), 0);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    assert_int_equal(hf_digest_update(d, "abc", 3), 0); /* final reset the handle */
    assert_int_equal(hf_digest_final_hex(d, hex), 0);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    hf_digest_free(d);

    /* FIPS 180-2: one million 'a' */
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    assert_int_equal(hf_sha256_hex(a, 1000000, hex), 0);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);

    unsigned char md[HF_DIGEST_MAX_SIZE];
    size_t n = 0;
    assert_int_equal(hf_digest_new(&d, HF_DIGEST_SHA256), 0);
    assert_int_equal(hf_digest_update(d, "ab", 2), 0);
    assert_int_equal(hf_digest_update(d, "c", 1), 0);
    assert_int_equal(hf_digest_final(d, md, &n), 0);
    assert_int_equal(n, 32);
    hf_hex_encode(md, n, hex);
    assert_string_equal(hex, SHA_ABC);
    hf_digest_free(d);
    hf_digest_free(NULL);
    assert_int_equal(hf_digest_new(&d, (hf_digest_type)99), HF_EINVAL);
    assert_null(d);
}

/* 5 MiB + 3 bytes fed in chunks of odd, growing sizes must hash like the one-shot call. */
static void test_streaming_matches_one_shot(void **state)
{
    size_t len = (5u << 20) + 3;
    unsigned char *buf = malloc(len);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    for (int type = HF_DIGEST_SHA256; type <= HF_DIGEST_MD5; type++) {
        char one[65], streamed[65];
        hf_digest *d;
        assert_int_equal(hf_digest_new(&d, (hf_digest_type)type), 0);
        assert_int_equal(hf_digest_update(d, buf, len), 0);
        assert_int_equal(hf_digest_final_hex(d, one), 0);
        size_t off = 0, chunk = 1;
        while (off < len) {
            size_t n = chunk < len - off ? chunk : len - off;
            assert_int_equal(hf_digest_update(d, buf + off, n), 0);
            off += n;
            chunk = chunk * 3 + 7; /* 1, 10, 37, 118, ... crosses every block boundary pattern */
            if (chunk > 1000003) chunk = 13;
        }
        assert_int_equal(hf_digest_update(d, NULL, 0), 0);
        assert_int_equal(hf_digest_final_hex(d, streamed), 0);
        assert_string_equal(one, streamed);
        assert_int_equal(strlen(one), type == HF_DIGEST_SHA256 ? 64 : 32);
        if (type == HF_DIGEST_SHA256) {
            char direct[65];
            hf_sha256_hex(buf, len, direct);
            assert_string_equal(direct, one);
        }
        hf_digest_free(d);
    }
    free(buf);
}

static void test_file_matches_sha256sum(void **state)
{
    char path[] = "/tmp/hfgit-test-digest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = (3u << 20) + 12345; /* several 1 MiB reads plus a partial one */
    unsigned char *buf = malloc(len);
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
    free(buf);

    char hex[65], want[65] = {0}, cmd[128];
    uint64_t size = 0;
    assert_int_equal(hf_sha256_file(path, hex, &size), 0);
    assert_int_equal(size, len);
    snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%64s", want), 1);
    pclose(p);
    assert_string_equal(hex, want);

    /* empty file */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    assert_int_equal(hf_sha256_file(path, hex, NULL), 0);
    assert_string_equal(hex, SHA_EMPTY);
    unlink(path);

    /* failures name the path */
    assert_int_equal(hf_sha256_file(path, hex, &size), HF_EIO);
    assert_non_null(strstr(hf_error_last_message(), path));
    assert_int_equal(hf_sha256_file("/tmp", hex, &size), HF_EIO);
    assert_non_null(strstr(hf_error_last_message(), "/tmp"));
}

static void test_hmac_rfc4231(void **state)
{
    unsigned char k20[20], k25[25], k131[131], d50[50];
    char hex[65];
    memset(k20, 0x0b, sizeof(k20));
    assert_int_equal(hf_hmac_sha256_hex(k20, 20, "Hi There", 8, hex), 0);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_int_equal(hf_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex), 0);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k20, 0xaa, sizeof(k20));
    memset(d50, 0xdd, sizeof(d50));
    assert_int_equal(hf_hmac_sha256_hex(k20, 20, d50, 50, hex), 0);
    assert_string_equal(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++)
        k25[i] = (unsigned char)(i + 1);
    memset(d50, 0xcd, sizeof(d50));
    assert_int_equal(hf_hmac_sha256_hex(k25, 25, d50, 50, hex), 0);
    assert_string_equal(hex, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(k131, 0xaa, sizeof(k131));
    const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(hf_hmac_sha256_hex(k131, 131, t6, strlen(t6), hex), 0);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *t7 = "This is a test using a larger than block-size key and a larger than block-size data. "
                     "The key needs to be hashed before being used by the HMAC algorithm.";
    unsigned char md[32];
    assert_int_equal(hf_hmac_sha256(k131, 131, t7, strlen(t7), md), 0);
    hf_hex_encode(md, 32, hex);
    assert_string_equal(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    /* an empty key is allowed */
    assert_int_equal(hf_hmac_sha256_hex(NULL, 0, "", 0, hex), 0);
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_helpers(void **state)
{
    char hex[9];
    hf_hex_encode("\x00\x01\xab\xff", 4, hex);
    assert_string_equal(hex, "0001abff");
    hf_hex_encode("", 0, hex);
    assert_string_equal(hex, "");

    assert_true(hf_consttime_eq("abcdef", "abcdef", 6));
    assert_false(hf_consttime_eq("abcdef", "abcdeg", 6));
    assert_false(hf_consttime_eq("xbcdef", "abcdef", 6));
    assert_true(hf_consttime_eq("a", "b", 0));

    unsigned char r1[32] = {0}, r2[32] = {0}, zero[32] = {0};
    assert_int_equal(hf_random_bytes(r1, sizeof(r1)), 0);
    assert_int_equal(hf_random_bytes(r2, sizeof(r2)), 0);
    assert_memory_not_equal(r1, zero, 32);
    assert_memory_not_equal(r1, r2, 32);
    assert_int_equal(hf_random_bytes(r1, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_streaming_matches_one_shot),
        cmocka_unit_test(test_file_matches_sha256sum),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
