/* test_http_policy.c: the pure parts of the HTTP client: which statuses are retried, backoff growth, cap and
 * jitter bounds, Retry-After parsing (seconds, the three HTTP date forms, junk), URL redaction and the
 * one-line excerpt of a server's error body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/error.h"
#include "../../common/http.h"

#include <string.h>

static void test_retriable_statuses(void **state)
{
    (void)state;
    const long yes[] = {0, 408, 429, 500, 502, 503, 504, 599};
    const long no[] = {200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 410, 413, 416, 422, 600};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(hf_http_status_retriable(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(hf_http_status_retriable(no[i]));

    assert_int_equal(hf_http_status_error(401), HF_EAUTH);
    assert_int_equal(hf_http_status_error(403), HF_EAUTH);
    assert_int_equal(hf_http_status_error(404), HF_ENOTFOUND);
    assert_int_equal(hf_http_status_error(500), HF_EHTTP);
    assert_int_equal(hf_http_status_error(422), HF_EHTTP);
    assert_int_equal(hf_http_status_error(0), HF_ENET);
}

static void test_backoff_growth_and_cap(void **state)
{
    (void)state;
    hf_retry_policy p = {6, 500, 20000, 600000};
    /* rnd at its maximum gives the top of the window: base * 2^(attempt-1), capped */
    assert_int_equal(hf_http_backoff_ms(&p, 1, UINT32_MAX), 500);
    assert_int_equal(hf_http_backoff_ms(&p, 2, UINT32_MAX), 1000);
    assert_int_equal(hf_http_backoff_ms(&p, 3, UINT32_MAX), 2000);
    assert_int_equal(hf_http_backoff_ms(&p, 6, UINT32_MAX), 16000);
    assert_int_equal(hf_http_backoff_ms(&p, 7, UINT32_MAX), 20000);
    assert_int_equal(hf_http_backoff_ms(&p, 1000, UINT32_MAX), 20000); /* no overflow for silly attempts */
    assert_int_equal(hf_http_backoff_ms(&p, 1 << 30, UINT32_MAX), 20000);
    /* rnd 0 gives the floor: base/2 */
    assert_int_equal(hf_http_backoff_ms(&p, 1, 0), 250);
    assert_int_equal(hf_http_backoff_ms(&p, 9, 0), 250);

    hf_retry_policy big = {6, 4000000000u, 4100000000u, 0};
    assert_int_equal(hf_http_backoff_ms(&big, 5, UINT32_MAX), 4100000000u); /* 64-bit math, no wrap */

    hf_retry_policy small_cap = {6, 1000, 300, 0}; /* cap below base/2: the cap wins */
    assert_int_equal(hf_http_backoff_ms(&small_cap, 1, 0), 300);
    assert_int_equal(hf_http_backoff_ms(&small_cap, 3, UINT32_MAX), 300);

    hf_retry_policy zero = {6, 0, 20000, 0};
    assert_int_equal(hf_http_backoff_ms(&zero, 4, UINT32_MAX), 0);
}

static void test_backoff_jitter_bounds(void **state)
{
    (void)state;
    hf_retry_policy p = {6, 500, 20000, 600000};
    uint32_t x = 12345;
    unsigned lo_seen = UINT32_MAX, hi_seen = 0;
    for (int i = 0; i < 20000; i++) {
        x = x * 1664525u + 1013904223u; /* LCG: deterministic spread over the whole rnd range */
        int attempt = 1 + i % 8;
        unsigned d = hf_http_backoff_ms(&p, attempt, x);
        unsigned top = 500u << (attempt - 1);
        if (top > 20000)
            top = 20000;
        assert_true(d >= 250);
        assert_true(d <= top);
        if (attempt == 4) {
            lo_seen = d < lo_seen ? d : lo_seen;
            hi_seen = d > hi_seen ? d : hi_seen;
        }
    }
    /* full jitter: attempt 4 (window 250..4000) really uses most of its window */
    assert_true(lo_seen < 600);
    assert_true(hi_seen > 3600);
    /* monotonic in rnd */
    assert_true(hf_http_backoff_ms(&p, 3, 1000) <= hf_http_backoff_ms(&p, 3, 2000000000u));
}

static void test_retry_after_seconds(void **state)
{
    (void)state;
    assert_int_equal(hf_http_parse_retry_after("0", 1000), 0);
    assert_int_equal(hf_http_parse_retry_after("1", 1000), 1000);
    assert_int_equal(hf_http_parse_retry_after("120", 1000), 120000);
    assert_int_equal(hf_http_parse_retry_after("  7 \r\n", 1000), 7000);
    /* absurdly large values saturate rather than overflow */
    assert_true(hf_http_parse_retry_after("99999999999999999999999999", 0) > 1000L * 1000 * 1000);
}

static void test_retry_after_dates(void **state)
{
    (void)state;
    const long t = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(hf_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t), 0);
    assert_int_equal(hf_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30), 30000);
    assert_int_equal(hf_http_parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", t), 60000);
    assert_int_equal(hf_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 3600), 0); /* past: now */
    assert_int_equal(hf_http_parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", t), 10000);   /* RFC 850 */
    assert_int_equal(hf_http_parse_retry_after("Sun Nov  6 08:49:39 1994", t), 2000);           /* asctime */
    assert_int_equal(hf_http_parse_retry_after("Wed, 01 Jan 2031 00:00:00 GMT", 1924991998), 2000);
}

static void test_retry_after_junk(void **state)
{
    (void)state;
    const char *junk[] = {"",
                          "   ",
                          "soon",
                          "-5",
                          "1.5",
                          "5s",
                          "0x10",
                          "Sun, 06 Nov 1994 08:49:37",     /* no GMT */
                          "Sun, 06 Nov 1994 08:49:37 PST", /* not GMT */
                          "Sun, 32 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Xyz, 06 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT trailing",
                          "Sun, 06 Nov 1994 08:49:37 GMT, 7"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        if (hf_http_parse_retry_after(junk[i], 784111777) != -1)
            fail_msg("'%s' should be unparsable", junk[i]);
    }
    assert_int_equal(hf_http_parse_retry_after(NULL, 0), -1);
}

static void check_redact(const char *url, const char *want)
{
    hf_buf out = HF_BUF_INIT;
    hf_buf_puts(&out, "old content");
    hf_http_redact_url(url, &out);
    assert_string_equal(hf_buf_cstr(&out), want);
    hf_buf_free(&out);
}

static void test_redact_url(void **state)
{
    (void)state;
    check_redact("https://s3.amazonaws.com/bucket/key?X-Amz-Signature=abc&X-Amz-Credential=xyz",
                 "https://s3.amazonaws.com/bucket/key");
    check_redact("http://127.0.0.1:5000/__part/abc/2?sig=deadbeef&exp=99",
                 "http://127.0.0.1:5000/__part/abc/2");
    check_redact("https://h/p#frag", "https://h/p");
    check_redact("https://h/p#frag?x", "https://h/p");
    check_redact("https://user:hf_secret@huggingface.co/a/b.git/info/lfs?x=1",
                 "https://huggingface.co/a/b.git/info/lfs");
    check_redact("https://hf_secret@huggingface.co", "https://huggingface.co");
    check_redact("https://huggingface.co/a@b/c", "https://huggingface.co/a@b/c"); /* '@' in the path stays */
    check_redact("https://huggingface.co/api/models", "https://huggingface.co/api/models");
    check_redact("", "");
}

static void check_excerpt(const char *body, size_t max, const char *want)
{
    hf_buf out = HF_BUF_INIT;
    hf_http_error_excerpt(body, strlen(body), max, &out);
    assert_string_equal(hf_buf_cstr(&out), want);
    assert_true(out.len <= max);
    hf_buf_free(&out);
}

static void test_error_excerpt(void **state)
{
    (void)state;
    /* git-lfs style and Hub style JSON */
    check_excerpt("{\"message\":\"Repository not found\",\"request_id\":\"x\"}", 200, "Repository not found");
    check_excerpt("  {\"error\":\"Invalid credentials in Authorization header\"}\n", 200,
                  "Invalid credentials in Authorization header");
    check_excerpt("{\"error\":{\"code\":403,\"message\":\"expired\"}}", 200, "expired");
    check_excerpt("{\"message\":\"line1\\nline2\\ttab\"}", 200, "line1 line2 tab"); /* escapes decoded */
    check_excerpt("{\"other\":1}", 200, "{\"other\":1}");                           /* no field: the text */
    check_excerpt("{not json", 200, "{not json");
    /* plain text, control characters and whitespace runs flattened */
    check_excerpt("injected failure", 200, "injected failure");
    check_excerpt("\r\n  bad\r\n\tgateway\x01\x7f  \n", 200, "bad gateway");
    check_excerpt("<html>\n<body>502 Bad Gateway</body>\n</html>\n", 200,
                  "<html> <body>502 Bad Gateway</body> </html>");
    /* long: cut with "..." and never longer than max */
    check_excerpt("abcdefghijklmnopqrstuvwxyz", 10, "abcdefg...");
    check_excerpt("abcdefghij", 10, "abcdefghij");
    check_excerpt("abcdefghijk", 10, "abcdefg...");
    /* a cut never splits a UTF-8 character: six é are 12 bytes; 7 bytes of room hold three of them */
    check_excerpt("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, "\xc3\xa9\xc3\xa9\xc3\xa9...");
    check_excerpt("", 10, "");
    check_excerpt("   \n\t ", 10, "");

    hf_buf out = HF_BUF_INIT;
    hf_http_error_excerpt(NULL, 0, 10, &out);
    assert_int_equal(out.len, 0);
    /* an embedded NUL is a control character, not the end of the body */
    hf_http_error_excerpt("a\0b", 3, 10, &out);
    assert_string_equal(hf_buf_cstr(&out), "a b");
    hf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retriable_statuses),  cmocka_unit_test(test_backoff_growth_and_cap),
        cmocka_unit_test(test_backoff_jitter_bounds), cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_dates),   cmocka_unit_test(test_retry_after_junk),
        cmocka_unit_test(test_redact_url),          cmocka_unit_test(test_error_excerpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
