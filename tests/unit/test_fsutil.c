/* test_fsutil.c: hf_mkdir_p and hf_mkdir_parents, the one mkdir -p the library, CLI and hub share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/buf.h"
#include "../../common/error.h"
#include "../../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static int setup(void **state)
{
    snprintf(root, sizeof(root), "%s", "/tmp/test_fsutil.XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    hf_buf cmd = HF_BUF_INIT;
    hf_buf_printf(&cmd, "rm -rf '%s'", root);
    int rc = system(cmd.ptr);
    hf_buf_free(&cmd);
    return rc;
}

static const char *at(hf_buf *b, const char *rel)
{
    hf_buf_clear(b);
    hf_buf_printf(b, "%s/%s", root, rel);
    return b->ptr;
}

static int is_dir(const char *path, mode_t *mode)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) return 0;
    if (mode) *mode = st.st_mode & 07777;
    return 1;
}

static void test_makes_every_level_and_again(void **state)
{
    hf_buf p = HF_BUF_INIT;
    assert_int_equal(hf_mkdir_p(at(&p, "a/b/c"), 0777), 0);
    assert_true(is_dir(at(&p, "a/b/c"), NULL));
    assert_int_equal(hf_mkdir_p(at(&p, "a/b/c"), 0777), 0);   /* already there is not a failure */
    assert_int_equal(hf_mkdir_p(at(&p, "a//b/d/"), 0777), 0); /* doubled and trailing slashes */
    assert_true(is_dir(at(&p, "a/b/d"), NULL));
    hf_buf_free(&p);
}

static void test_parents_leave_the_last_component(void **state)
{
    hf_buf p = HF_BUF_INIT;
    assert_int_equal(hf_mkdir_parents(at(&p, "x/y/file.bin"), 0777), 0);
    assert_true(is_dir(at(&p, "x/y"), NULL));
    assert_int_equal(access(at(&p, "x/y/file.bin"), F_OK), -1);
    assert_int_equal(hf_mkdir_parents("no-slash-here", 0777), 0); /* the current folder: nothing to make */
    assert_int_equal(access("no-slash-here", F_OK), -1);
    hf_buf_free(&p);
}

/* cmd_login's 0700 (the folders hold a token) applies to the folders it makes, not to those already there. */
static void test_mode_applies_to_new_folders_only(void **state)
{
    hf_buf p = HF_BUF_INIT;
    mode_t old = umask(022), m = 0;
    assert_int_equal(mkdir(at(&p, "open"), 0755), 0);
    assert_int_equal(hf_mkdir_parents(at(&p, "open/secret/token"), 0700), 0);
    assert_true(is_dir(at(&p, "open"), &m));
    assert_int_equal(m, 0755);
    assert_true(is_dir(at(&p, "open/secret"), &m));
    assert_int_equal(m, 0700);
    umask(old);
    hf_buf_free(&p);
}

/* A file where a folder should be: HF_EIO, a message naming the path that failed, errno for the hub. */
static void test_a_file_in_the_way_is_named(void **state)
{
    hf_buf p = HF_BUF_INIT, want = HF_BUF_INIT;
    int fd = open(at(&p, "plain"), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    errno = 0;
    assert_int_equal(hf_mkdir_p(at(&p, "plain/sub/deeper"), 0777), HF_EIO);
    assert_int_equal(errno, ENOTDIR);
    hf_buf_printf(&want, "cannot create directory %s/plain/sub: ", root);
    assert_non_null(strstr(hf_error_last_message(), want.ptr));
    assert_int_equal(hf_mkdir_parents(at(&p, "plain/sub/f"), 0777), HF_EIO);
    assert_non_null(strstr(hf_error_last_message(), want.ptr));
    hf_buf_free(&p);
    hf_buf_free(&want);
}

static void test_empty_name_is_refused(void **state)
{
    assert_int_equal(hf_mkdir_p("", 0777), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "invalid directory name"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_makes_every_level_and_again),
        cmocka_unit_test(test_parents_leave_the_last_component),
        cmocka_unit_test(test_mode_applies_to_new_folders_only),
        cmocka_unit_test(test_a_file_in_the_way_is_named),
        cmocka_unit_test(test_empty_name_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
