/* test_buf.c: hf_buf (growth, NUL termination, printf, detach) and the thread-local error state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/buf.h"
#include "../../common/error.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_empty_buffer(void **state)
{
    hf_buf b = HF_BUF_INIT;
    assert_string_equal(hf_buf_cstr(&b), "");
    hf_buf_clear(&b); /* on a never-used buffer */
    assert_int_equal(b.len, 0);
    char *s = hf_buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    hf_buf_free(&b);
    hf_buf_free(&b); /* twice is harmless */
    assert_null(b.ptr);
    assert_int_equal(hf_buf_put(&b, NULL, 0), 0); /* an empty put still gives a terminated buffer */
    assert_non_null(b.ptr);
    assert_int_equal(b.ptr[0], '\0');
    hf_buf_free(&b);
}

static void test_put_and_grow(void **state)
{
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_buf_puts(&b, "abc"), 0);
    assert_int_equal(hf_buf_putc(&b, 'd'), 0);
    assert_int_equal(hf_buf_put(&b, "e\0f", 3), 0); /* binary data, NUL included */
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.ptr, "abcde\0f", 8);
    assert_true(b.cap > b.len);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(hf_buf_putc(&b, (char)('0' + i % 10)), 0);
    assert_int_equal(b.len, 100007);
    assert_int_equal(b.ptr[b.len], '\0');
    assert_int_equal(b.ptr[7], '0');
    assert_int_equal(b.ptr[100006], '9');
    size_t cap = b.cap;
    hf_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap); /* keeps memory */
    assert_string_equal(hf_buf_cstr(&b), "");
    assert_int_equal(hf_buf_grow(&b, 10), 0);
    assert_int_equal(b.cap, cap);
    hf_buf_free(&b);
}

/* Sizes that wrap size_t must fail cleanly, never "succeed" with a tiny buffer. */
static void test_grow_overflow(void **state)
{
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_buf_grow(&b, SIZE_MAX), HF_ENOMEM);
    assert_int_equal(hf_buf_grow(&b, SIZE_MAX - 1), HF_ENOMEM);
    assert_int_equal(hf_buf_puts(&b, "xy"), 0);
    assert_int_equal(hf_buf_grow(&b, SIZE_MAX - 2), HF_ENOMEM);
    assert_int_equal(hf_buf_grow(&b, SIZE_MAX - 3), HF_ENOMEM);
    assert_int_equal(hf_buf_put(&b, "z", SIZE_MAX - 2), HF_ENOMEM);
    assert_string_equal(b.ptr, "xy"); /* unchanged after the failure */
    assert_int_equal(b.len, 2);
    hf_buf_free(&b);
}

static void test_printf(void **state)
{
    hf_buf b = HF_BUF_INIT;
    assert_int_equal(hf_buf_printf(&b, "%s=%d", "n", 42), 0);
    assert_int_equal(hf_buf_printf(&b, "%s", ""), 0);
    assert_int_equal(hf_buf_printf(&b, ";%05d", 7), 0);
    assert_string_equal(b.ptr, "n=42;00007");
    assert_int_equal(b.len, 10);
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(hf_buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 10 + 2 + 4999);
    assert_int_equal(b.ptr[b.len - 1], ']');
    assert_int_equal(b.ptr[b.len], '\0');
    char *s = hf_buf_detach(&b);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(strncmp(s, "n=42;00007[xxx", 14), 0);
    free(s);
}

static void test_error_state(void **state)
{
    hf_error_clear();
    assert_string_equal(hf_error_last_message(), "");
    assert_int_equal(hf_error_last_code(), 0);
    assert_int_equal(hf_error_set(HF_EIO, "cannot open %s", "a.bin"), HF_EIO);
    assert_string_equal(hf_error_last_message(), "cannot open a.bin");
    assert_int_equal(hf_error_last_code(), HF_EIO);
    assert_int_equal(hf_error_last_http_status(), 0);
    assert_int_equal(hf_error_set_http(HF_EHTTP, 503, "server said %s", "busy"), HF_EHTTP);
    assert_int_equal(hf_error_last_http_status(), 503);
    assert_int_equal(hf_error_prefix("uploading %s: ", "m.bin"), HF_EHTTP);
    assert_string_equal(hf_error_last_message(), "uploading m.bin: server said busy");
    assert_int_equal(hf_error_last_http_status(), 503);
    assert_int_equal(hf_error_set(HF_EINVAL, "x"), HF_EINVAL);
    assert_int_equal(hf_error_last_http_status(), 0); /* a plain error forgets the status */
    assert_string_equal(hf_error_code_name(HF_EINVAL), "HF_EINVAL");
    assert_string_equal(hf_error_code_name(HF_EEXPIRED), "HF_EEXPIRED");
    assert_string_equal(hf_error_code_name(-99), "HF_E?");
    hf_error_clear();
    assert_int_equal(hf_error_last_code(), 0);
}

/* Wrapping the previous message is a common pattern: it must not read the message while overwriting it. */
static void test_error_wraps_itself(void **state)
{
    hf_error_set(HF_ENET, "connection reset");
    hf_error_set(HF_EIO, "part 3: %s", hf_error_last_message());
    assert_string_equal(hf_error_last_message(), "part 3: connection reset");
    hf_error_set_http(HF_EHTTP, 500, "retry: %s", hf_error_last_message());
    assert_string_equal(hf_error_last_message(), "retry: part 3: connection reset");
    hf_error_prefix("[%s] ", hf_error_last_message());
    assert_string_equal(hf_error_last_message(),
                        "[retry: part 3: connection reset] retry: part 3: connection reset");
}

static void test_error_truncates(void **state)
{
    char big[5000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hf_error_set(HF_ERROR, "%s", big);
    size_t n = strlen(hf_error_last_message());
    assert_true(n > 1000 && n < sizeof(big) - 1);
    hf_error_prefix("%s", big);
    assert_int_equal(strlen(hf_error_last_message()), n);
}

static void *other_thread(void *arg)
{
    hf_error_set(HF_EAUTH, "other thread");
    return NULL;
}

static void test_error_thread_local(void **state)
{
    hf_error_set(HF_EIO, "this thread");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(hf_error_last_message(), "this thread");
    assert_int_equal(hf_error_last_code(), HF_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_buffer),    cmocka_unit_test(test_put_and_grow),
        cmocka_unit_test(test_grow_overflow),   cmocka_unit_test(test_printf),
        cmocka_unit_test(test_error_state),     cmocka_unit_test(test_error_wraps_itself),
        cmocka_unit_test(test_error_truncates), cmocka_unit_test(test_error_thread_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
