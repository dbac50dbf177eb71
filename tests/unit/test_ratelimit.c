/* test_ratelimit.c: the process bandwidth limit (issue 11): HFGIT_MAX_RATE's format, the virtual clock that
 * shares one rate between threads, the bounded burst after idle time, and the piece size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/error.h"
#include "../../common/ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEC 1000000000ull

static void test_size_parse(void **state)
{
    (void)state;
    uint64_t v = 1;
    assert_int_equal(hf_size_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(hf_size_parse("1500", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(hf_size_parse("10k", &v), 0); /* powers of 1024, as curl --limit-rate */
    assert_int_equal(v, 10240);
    assert_int_equal(hf_size_parse("10K", &v), 0);
    assert_int_equal(v, 10240);
    assert_int_equal(hf_size_parse("5M", &v), 0);
    assert_int_equal(v, 5ull << 20);
    assert_int_equal(hf_size_parse("2g", &v), 0);
    assert_int_equal(v, 2ull << 30);
    const char *bad[] = {
        "", "-1", "M", "10 M", "10MB", "1.5M", "10x", "99999999999999999999", "17179869184G"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        assert_int_equal(hf_size_parse(bad[i], &v), HF_EINVAL);
        assert_int_equal(v, 7); /* untouched on error */
        assert_non_null(strstr(hf_error_last_message(), "not a byte count"));
    }
    assert_int_equal(hf_size_parse(NULL, &v), HF_EINVAL);
}

static void test_reserve_virtual_clock(void **state)
{
    (void)state;
    hf_rate_limiter *l;
    assert_int_equal(hf_rate_limiter_new(&l, 1000), 0); /* 1000 bytes/s */
    uint64_t t = 100 * SEC;
    /* the first piece may go at once; each next one waits for the bytes before it */
    assert_int_equal(hf_rate_reserve(l, 500, t), 0);
    uint64_t w = hf_rate_reserve(l, 500, t);
    assert_true(w >= t + SEC / 2 - SEC / 20 - 1000 && w <= t + SEC / 2);
    w = hf_rate_reserve(l, 1000, t);
    assert_true(w >= t + SEC - SEC / 20 - 1000 && w <= t + SEC);
    /* after a long idle time only a short burst is allowed, not the whole idle time's worth */
    t += 60 * SEC;
    assert_int_equal(hf_rate_reserve(l, 100, t), 0); /* 100 ms of bytes, 50 ms of credit */
    assert_true(hf_rate_reserve(l, 1000, t) > t);
    /* unlimited: never waits */
    hf_rate_set(l, 0);
    assert_int_equal(hf_rate_reserve(l, 1ull << 40, t), 0);
    assert_int_equal(hf_rate_piece(l), 0);
    assert_int_equal(hf_rate_reserve(NULL, 10, t), 0);
    hf_rate_limiter_free(l);
}

static void test_piece_size(void **state)
{
    (void)state;
    hf_rate_limiter *l;
    assert_int_equal(hf_rate_limiter_new(&l, 100ull << 20), 0);
    assert_int_equal(hf_rate_piece(l), 64 * 1024); /* fast: capped */
    hf_rate_set(l, 200 * 1024);
    assert_int_equal(hf_rate_piece(l), 200 * 1024 / 20); /* 50 ms worth */
    hf_rate_set(l, 100);
    assert_int_equal(hf_rate_piece(l), 1024); /* never below 1 KiB */
    hf_rate_limiter_free(l);
}

/* Several threads sharing one limiter get the rate together, not each. */
typedef struct share {
    hf_rate_limiter *l;
    uint64_t t0, last;
} share;

static void *reserve_many(void *arg)
{
    share *s = arg;
    uint64_t last = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t w = hf_rate_reserve(s->l, 1000, s->t0);
        if (w > last) last = w;
    }
    s->last = last;
    return NULL;
}

static void test_shared_between_threads(void **state)
{
    (void)state;
    hf_rate_limiter *l;
    assert_int_equal(hf_rate_limiter_new(&l, 100000), 0);
    share s[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        s[i] = (share){l, 10 * SEC, 0};
        assert_int_equal(pthread_create(&t[i], NULL, reserve_many, &s[i]), 0);
    }
    uint64_t last = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        if (s[i].last > last) last = s[i].last;
    }
    /* 400 pieces of 1000 bytes at 100,000 bytes/s: the last one starts ~3.99 s after the first */
    assert_true(last >= 10 * SEC + 3 * SEC + 9 * SEC / 10 && last <= 10 * SEC + 4 * SEC);
    hf_rate_limiter_free(l);
}

static void test_process_limiter_from_env(void **state)
{
    (void)state;
    /* main() set HFGIT_MAX_RATE=3M before the first use */
    assert_int_equal(hf_rate_get(hf_rate_process()), 3ull << 20);
    hf_rate_limiter_free(hf_rate_process()); /* a no-op: the process limiter lives until exit */
    assert_int_equal(hf_rate_get(hf_rate_process()), 3ull << 20);
}

int main(void)
{
    setenv("HFGIT_MAX_RATE", "3M", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_parse),
        cmocka_unit_test(test_reserve_virtual_clock),
        cmocka_unit_test(test_piece_size),
        cmocka_unit_test(test_shared_between_threads),
        cmocka_unit_test(test_process_limiter_from_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
