/* test_hfgit_header.c: the public header stands alone and its copy of the error codes matches the library's
 * (common/error.h): every public code's name, as the library spells it, is the name of the constant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hfgit.h" /* and nothing else of the library: what an outside program sees */

#include <string.h>

#define CODE(c) {c, #c}

static void test_error_codes_match_the_library(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
    } codes[] = {CODE(HF_OK),       CODE(HF_ERROR),    CODE(HF_ENOMEM),    CODE(HF_EINVAL),   CODE(HF_EIO),
                 CODE(HF_EHTTP),    CODE(HF_ENET),     CODE(HF_EAUTH),     CODE(HF_ENOTFOUND), CODE(HF_EEXISTS),
                 CODE(HF_ENOCHANGES), CODE(HF_ECANCELLED), CODE(HF_EEXPIRED)};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_string_equal(hf_error_code_name(codes[i].code), codes[i].name);
}

static void test_init_options_and_version(void **state)
{
    (void)state;
    assert_int_equal(hf_init(), 0);
    assert_int_equal(hf_init(), 0); /* reference-counted */
    hf_shutdown();
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    assert_int_equal(o.version, HF_REPO_OPTIONS_VERSION);
    assert_null(o.clone_from);
    assert_int_equal(o.skip_lfs_files, 0);
    hf_push_options p = HF_PUSH_OPTIONS_INIT;
    assert_int_equal(p.multipart, 1);
    assert_int_equal(p.set_upstream, 1);
    o.version = 99;
    hf_repo *r = (hf_repo *)1;
    assert_int_equal(hf_repo_open(&r, "/nonexistent", &o), HF_EINVAL);
    assert_null(r);
    assert_non_null(strstr(hf_error_last_message(), "HF_REPO_OPTIONS_INIT"));
    /* version 2 added the progress fields at the end, NULL by default; a version 1 caller still works */
    hf_repo_options o2 = HF_REPO_OPTIONS_INIT;
    assert_true(HF_REPO_OPTIONS_VERSION >= 2);
    assert_null(o2.download_progress);
    assert_null(o2.download_progress_payload);
    assert_null(o2.hash_progress);
    assert_null(o2.hash_progress_payload);
    o2.version = 1;
    assert_int_equal(hf_repo_open(&r, "", &o2), HF_EINVAL);
    assert_null(strstr(hf_error_last_message(), "version"));
    assert_int_equal(hf_repo_set_progress(NULL, HF_PROGRESS_HASH, NULL, NULL), HF_EINVAL);
    hf_status st = {(hf_status_entry *)1, 1};
    assert_int_equal(hf_repo_status(NULL, &st), HF_EINVAL);
    assert_int_equal(st.count, 0);
    hf_status_dispose(&st);
    hf_status_dispose(NULL);
    assert_true(strlen(hf_version()) > 0);
    hf_shutdown();
}

/* The options of the queue / commit context API have the documented defaults, and the NULL-tolerant
 * accessors do not crash. */
static void test_commit_options_and_null_handles(void **state)
{
    (void)state;
    hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
    assert_int_equal(co.version, HF_COMMIT_OPTIONS_VERSION);
    assert_null(co.branch);
    assert_int_equal(co.track_large_files, 1);
    assert_int_equal(co.blocking, 1);
    assert_int_equal(co.auto_lfs_prune, 0);
    assert_null(co.result);
    assert_null(co.on_done); /* version 3: a queued push's own completion callback, none by default */
    assert_null(co.on_done_payload);
    assert_true(HF_COMMIT_OPTIONS_VERSION >= 3);
    hf_push_options p = HF_PUSH_OPTIONS_INIT;
    assert_int_equal(p.auto_lfs_prune, 0);
    assert_int_equal(p.version, HF_PUSH_OPTIONS_VERSION);
    assert_true(HF_PUSH_OPTIONS_VERSION >= 2);
    assert_null(p.on_done);
    assert_null(p.on_done_payload);
    hf_command *cmd = (hf_command *)1;
    assert_int_equal(hf_repo_enqueue_with_callback(NULL, "t", NULL, NULL, NULL, NULL, &cmd), HF_EINVAL);
    assert_null(cmd);
    assert_int_equal(hf_command_status(NULL), -HF_EINVAL); /* in the documented range: failed */
    assert_int_equal(hf_command_is_done(NULL), 0);
    assert_int_equal(hf_command_failed(NULL), 0);
    assert_string_equal(hf_command_error(NULL), "");
    assert_int_equal(hf_repo_command_count(NULL), 0);
    assert_int_equal(hf_repo_commands_in_progress(NULL, NULL, 0), 0);
    assert_int_equal(hf_repo_wait_for_commands(NULL), HF_EINVAL);
    hf_commit_ctx *ctx = (hf_commit_ctx *)1;
    assert_int_equal(hf_commit_begin(&ctx, NULL, "m", NULL), HF_EINVAL);
    assert_null(ctx);
    assert_int_equal(hf_commit_end(NULL, 0, NULL), HF_EINVAL);
    /* the block macro with a begin that fails: the body does not run, the result says why */
    int rc = 0, ran = 0;
    co.result = &rc;
    HF_REPO_COMMIT(NULL, "m", &co)
    {
        ran = 1;
    }
    assert_int_equal(ran, 0);
    assert_int_equal(rc, HF_EINVAL);
    hf_strarray arr = {NULL, 0};
    hf_strarray_dispose(&arr);
    assert_int_equal(hf_error_set(HF_EIO, "custom %d", 7), HF_EIO);
    assert_string_equal(hf_error_last_message(), "custom 7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_codes_match_the_library),
        cmocka_unit_test(test_init_options_and_version),
        cmocka_unit_test(test_commit_options_and_null_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
