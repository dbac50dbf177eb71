/* test_api_nulls.c: every public entry point takes NULL pointers without crashing: a function returning an
 * error code answers HF_EINVAL with a message naming it, the accessors answer their documented "nothing"
 * (hf_repo_open(NULL, ...) used to write through the NULL out pointer). Only hfgit.h is included: what a
 * program sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hfgit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EINVAL_NAMED(call, name)                                                                             \
    do {                                                                                                     \
        assert_int_equal((call), HF_EINVAL);                                                                 \
        assert_non_null(strstr(hf_error_last_message(), (name)));                                            \
    } while (0)

static void test_repo_functions(void **state)
{
    (void)state;
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    EINVAL_NAMED(hf_repo_open(NULL, "/tmp/x", &o), "hf_repo_open");
    hf_repo *r = (hf_repo *)1;
    EINVAL_NAMED(hf_repo_open(&r, NULL, &o), "hf_repo_open");
    assert_null(r);
    EINVAL_NAMED(hf_repo_add(NULL, ".", 1), "hf_repo_add");
    EINVAL_NAMED(hf_repo_commit(NULL, "m"), "hf_repo_commit");
    char id[41];
    EINVAL_NAMED(hf_repo_commit_id(NULL, "m", id), "hf_repo_commit");
    EINVAL_NAMED(hf_repo_is_clean(NULL), "hf_repo_is_clean");
    hf_command *cmd = (hf_command *)1;
    EINVAL_NAMED(hf_repo_push(NULL, NULL, &cmd), "hf_repo_push");
    assert_null(cmd);
    EINVAL_NAMED(hf_repo_pull(NULL, 0), "hf_repo_pull");
    EINVAL_NAMED(hf_repo_set_progress(NULL, HF_PROGRESS_HASH, NULL, NULL), "hf_repo_set_progress");
    assert_null(hf_repo_workdir(NULL));
    hf_repo_free(NULL);
    char path[64];
    EINVAL_NAMED(hf_repo_path(NULL, "a", path, sizeof path), "hf_repo_path");
    cmd = (hf_command *)1;
    EINVAL_NAMED(hf_repo_push_to_hub(NULL, "m", 1, 1, 0, &cmd), "hf_repo_push_to_hub");
    assert_null(cmd);
    char *s = (char *)1;
    EINVAL_NAMED(hf_repo_current_branch(NULL, &s), "hf_repo_current_branch");
    EINVAL_NAMED(hf_repo_current_branch(NULL, NULL), "hf_repo_current_branch");
    EINVAL_NAMED(hf_repo_head_hash(NULL, id), "hf_repo_head_hash");
    EINVAL_NAMED(hf_repo_remote_url(NULL, NULL), "hf_repo_remote_url");
    EINVAL_NAMED(hf_repo_head_commit_url(NULL, NULL), "hf_repo_head_commit_url");
    hf_status st;
    EINVAL_NAMED(hf_repo_status(NULL, &st), "hf_repo_status");
    EINVAL_NAMED(hf_repo_status(NULL, NULL), "hf_repo_status");
    hf_status_dispose(NULL);
    hf_strarray arr;
    EINVAL_NAMED(hf_repo_list_deleted_files(NULL, &arr), "hf_repo_list_deleted_files");
    hf_strarray_dispose(NULL);
    EINVAL_NAMED(hf_repo_checkout(NULL, "main", 1), "hf_repo_checkout");
    EINVAL_NAMED(hf_repo_tag_exists(NULL, "v1", NULL), "hf_repo_tag_exists");
    EINVAL_NAMED(hf_repo_add_tag(NULL, "v1", NULL, NULL), "hf_repo_add_tag");
    EINVAL_NAMED(hf_repo_delete_tag(NULL, "v1", NULL), "hf_repo_delete_tag");
    const char *pats[] = {"*.bin"};
    EINVAL_NAMED(hf_repo_lfs_track(NULL, pats, 1), "hf_repo_lfs_track");
    EINVAL_NAMED(hf_repo_lfs_track_filenames(NULL, pats, 1), "hf_repo_lfs_track_filenames");
    EINVAL_NAMED(hf_repo_lfs_untrack(NULL, pats, 1), "hf_repo_lfs_untrack");
    EINVAL_NAMED(hf_repo_lfs_untrack_filenames(NULL, pats, 1), "hf_repo_lfs_untrack_filenames");
    EINVAL_NAMED(hf_repo_lfs_prune(NULL, NULL, NULL), "hf_repo_lfs_prune");
    EINVAL_NAMED(hf_repo_lfs_enable_largefiles(NULL), "hf_repo_lfs_enable_largefiles");
}

static int never(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo;
    (void)cmd;
    (void)payload;
    return 0;
}

static void test_queue_and_commit_functions(void **state)
{
    (void)state;
    /* NULL is no command: status is a failure in the documented range, it is neither done nor failed */
    assert_int_equal(hf_command_status(NULL), -HF_EINVAL);
    assert_int_equal(hf_command_is_done(NULL), 0);
    assert_int_equal(hf_command_failed(NULL), 0);
    assert_string_equal(hf_command_error(NULL), "");
    assert_string_equal(hf_command_title(NULL), "");
    uint64_t d = 1, t = 1;
    hf_command_progress(NULL, &d, &t);
    assert_true(d == 0 && t == 0);
    hf_command_progress(NULL, NULL, NULL);
    hf_command_report_progress(NULL, 1, 2);
    EINVAL_NAMED(hf_command_wait(NULL), "hf_command_wait");
    hf_command *cmd = (hf_command *)1;
    EINVAL_NAMED(hf_repo_enqueue(NULL, "t", never, NULL, &cmd), "hf_repo_enqueue");
    assert_null(cmd);
    assert_int_equal(hf_repo_commands_failed(NULL, NULL, 0), 0);
    assert_int_equal(hf_repo_commands_in_progress(NULL, NULL, 0), 0);
    assert_int_equal(hf_repo_command_count(NULL), 0);
    assert_null(hf_repo_command_at(NULL, 0));
    EINVAL_NAMED(hf_repo_wait_for_commands(NULL), "hf_repo_wait_for_commands");
    hf_commit_ctx *ctx = (hf_commit_ctx *)1;
    EINVAL_NAMED(hf_commit_begin(&ctx, NULL, "m", NULL), "hf_commit_begin");
    assert_null(ctx);
    EINVAL_NAMED(hf_commit_begin(NULL, NULL, "m", NULL), "hf_commit_begin");
    EINVAL_NAMED(hf_commit_end(NULL, 0, NULL), "hf_commit_end");
    int result = 0;
    hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
    co.result = &result;
    hf_commit_block b = hf_commit_block_begin(NULL, "m", &co);
    assert_int_equal(b.state, 2); /* the body would not run */
    assert_int_equal(result, HF_EINVAL);
    hf_commit_block_end(NULL);
    /* the queue's controls and commit operations */
    assert_int_equal(hf_repo_wait_for_commands_timeout(NULL, 10), HF_EINVAL);
    assert_int_equal(hf_repo_set_command_callback(NULL, NULL, NULL), HF_EINVAL);
    assert_int_equal(hf_command_cancel(NULL), HF_EINVAL);
    char id[41];
    assert_int_equal(hf_command_commit_id(NULL, id), HF_EINVAL);
    assert_int_equal(hf_command_commit_id(NULL, NULL), HF_EINVAL);
    char *url = (char *)1;
    assert_int_equal(hf_command_commit_url(NULL, &url), HF_EINVAL);
    assert_int_equal(hf_command_commit_url(NULL, NULL), HF_EINVAL);
    assert_int_equal(hf_repo_set_queue_limit(NULL, 1, 1), HF_EINVAL);
    assert_int_equal(hf_repo_commands_clear_done(NULL), 0);
    assert_int_equal(hf_repo_preupload_lfs(NULL, NULL, 0), HF_EINVAL);
    assert_int_equal(hf_repo_preupload_lfs_file(NULL, "f", NULL, 1, NULL, NULL), HF_EINVAL);
    cmd = (hf_command *)1;
    assert_int_equal(hf_repo_create_commit(NULL, NULL, 0, "m", NULL, &cmd), HF_EINVAL);
    /* the scheduler */
    hf_scheduler *s = (hf_scheduler *)1;
    assert_true(hf_scheduler_start(&s, NULL, "/tmp", NULL) < 0);
    assert_null(s);
    assert_true(hf_scheduler_start(NULL, NULL, NULL, NULL) < 0);
    hf_scheduler_lock(NULL);
    hf_scheduler_unlock(NULL);
    assert_int_equal(hf_scheduler_trigger(NULL), HF_EINVAL);
    assert_int_equal(hf_scheduler_stop(NULL), HF_EINVAL);
    char buf[8];
    assert_int_equal(hf_scheduler_last_error(NULL, buf, sizeof buf), HF_EINVAL);
    hf_scheduler_free(NULL);
}

/* A real repository handle with NULL for every other pointer. */
static void test_null_arguments_of_a_real_repo(void **state)
{
    (void)state;
    char dir[] = "/tmp/hfgit-nulls.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "git init -q '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(hf_init(), 0);
    hf_repo *r = NULL;
    assert_int_equal(hf_repo_open(&r, dir, NULL), 0);
    char path[64], id[41];
    EINVAL_NAMED(hf_repo_commit(r, NULL), "hf_repo_commit");
    EINVAL_NAMED(hf_repo_commit_id(r, NULL, id), "hf_repo_commit");
    EINVAL_NAMED(hf_repo_path(r, NULL, path, sizeof path), "hf_repo_path");
    EINVAL_NAMED(hf_repo_path(r, "a", NULL, 10), "hf_repo_path");
    EINVAL_NAMED(hf_repo_current_branch(r, NULL), "hf_repo_current_branch");
    EINVAL_NAMED(hf_repo_head_hash(r, NULL), "hf_repo_head_hash");
    EINVAL_NAMED(hf_repo_remote_url(r, NULL), "hf_repo_remote_url");
    EINVAL_NAMED(hf_repo_head_commit_url(r, NULL), "hf_repo_head_commit_url");
    EINVAL_NAMED(hf_repo_status(r, NULL), "hf_repo_status");
    EINVAL_NAMED(hf_repo_list_deleted_files(r, NULL), "hf_repo_list_deleted_files");
    EINVAL_NAMED(hf_repo_checkout(r, NULL, 1), "hf_repo_checkout");
    EINVAL_NAMED(hf_repo_tag_exists(r, NULL, NULL), "hf_repo_tag_exists");
    EINVAL_NAMED(hf_repo_add_tag(r, NULL, NULL, NULL), "hf_repo_add_tag");
    EINVAL_NAMED(hf_repo_delete_tag(r, NULL, NULL), "hf_repo_delete_tag");
    EINVAL_NAMED(hf_repo_lfs_track(r, NULL, 1), "hf_repo_lfs_track");
    const char *nullpat[] = {NULL};
    EINVAL_NAMED(hf_repo_lfs_track(r, nullpat, 1), "hf_repo_lfs_track");
    EINVAL_NAMED(hf_repo_lfs_track_filenames(r, nullpat, 1), "hf_repo_lfs_track_filenames");
    EINVAL_NAMED(hf_repo_lfs_untrack(r, nullpat, 1), "hf_repo_lfs_untrack");
    EINVAL_NAMED(hf_repo_lfs_untrack_filenames(r, nullpat, 1), "hf_repo_lfs_untrack_filenames");
    assert_int_equal(hf_repo_lfs_prune(r, NULL, NULL), 0);
    EINVAL_NAMED(hf_repo_enqueue(r, "t", NULL, NULL, NULL), "hf_repo_enqueue");
    assert_int_equal(hf_repo_commands_failed(r, NULL, 5), 0);
    assert_null(hf_repo_command_at(r, 99));
    hf_commit_ctx *ctx = NULL;
    EINVAL_NAMED(hf_commit_begin(&ctx, r, NULL, NULL), "hf_commit_begin");
    assert_null(ctx);
    EINVAL_NAMED(hf_repo_push_to_hub(r, NULL, 1, 0, 0, NULL), "hf_repo_push_to_hub");
    hf_commit_op op = HF_COMMIT_OP_INIT;
    assert_int_equal(hf_repo_preupload_lfs(r, NULL, 1), HF_EINVAL);
    assert_int_equal(hf_repo_preupload_lfs(r, &op, 1), HF_EINVAL); /* an op without a path */
    static const char zero_oid[] = "0000000000000000000000000000000000000000000000000000000000000000";
    EINVAL_NAMED(hf_repo_preupload_lfs_file(r, NULL, zero_oid, 1, NULL, NULL), "hf_repo_preupload_lfs_file");
    EINVAL_NAMED(hf_repo_preupload_lfs_file(r, "f", "ABC", 1, NULL, NULL), "hf_repo_preupload_lfs_file");
    assert_int_equal(hf_repo_preupload_lfs_file(r, "/nonexistent/f", zero_oid, 1, NULL, NULL), HF_ENOTFOUND);
    assert_int_equal(hf_repo_create_commit(r, NULL, 1, "m", NULL, NULL), HF_EINVAL);
    assert_int_equal(hf_repo_create_commit(r, &op, 1, NULL, NULL, NULL), HF_EINVAL);
    assert_int_equal(hf_repo_create_commit(r, &op, 1, "m", NULL, NULL), HF_EINVAL);
    assert_int_equal(hf_command_commit_id(hf_repo_command_at(r, 0), NULL), HF_EINVAL);
    hf_scheduler *s = (hf_scheduler *)1;
    assert_true(hf_scheduler_start(&s, r, NULL, NULL) < 0);
    assert_null(s);
    hf_repo_free(r);
    hf_shutdown();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_misc(void **state)
{
    (void)state;
    assert_string_equal(hf_error_code_name(12345), hf_error_code_name(54321)); /* some fixed "unknown" */
    assert_non_null(hf_error_last_message());
    assert_non_null(hf_version());
    hf_shutdown(); /* without hf_init: nothing to undo */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repo_functions),
        cmocka_unit_test(test_queue_and_commit_functions),
        cmocka_unit_test(test_null_arguments_of_a_real_repo),
        cmocka_unit_test(test_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
