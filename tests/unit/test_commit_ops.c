/* test_commit_ops.c: the pure parts of commit operations and of the scheduler's folder mirror: which
 * path_in_repo values an operation accepts (nothing outside the repository, nothing in .git), the NULL
 * checks of the public entry points, and the folder snapshot + copy (patterns, appended bytes only, never
 * past the snapshot, repair after a rewrite). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../repo/commit_ops.h"
#include "../../repo/folder_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_paths(void **state)
{
    (void)state;
    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_commit_path_check("a/b.bin", 0, &out), 0);
    assert_string_equal(out.ptr, "a/b.bin");
    assert_int_equal(hf_commit_path_check("logs/", 1, &out), 0);
    assert_string_equal(out.ptr, "logs");
    assert_int_equal(hf_commit_path_check(".gitattributes", 0, &out), 0);
    assert_int_equal(hf_commit_path_check("..a/b..", 0, &out), 0); /* dots inside names are fine */
    assert_int_equal(hf_commit_path_check(".github/x.yml", 0, &out), 0);
    static const char *const bad[] = {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", ".git",
                                      ".git/config", "sub/.GIT/hooks/pre-push", "a/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(hf_commit_path_check(bad[i], 0, &out), HF_EINVAL);
        assert_true(hf_error_last_message()[0] != '\0');
    }
    assert_int_equal(hf_commit_path_check(NULL, 0, &out), HF_EINVAL);
    assert_int_equal(hf_commit_path_check("/", 1, &out), HF_EINVAL); /* the root is no folder to delete */
    hf_buf_free(&out);
}

static void test_describe(void **state)
{
    (void)state;
    hf_buf out = HF_BUF_INIT;
    hf_commit_op op = HF_COMMIT_OP_INIT;
    op.kind = HF_COMMIT_OP_COPY;
    op.src_path_in_repo = "a.bin";
    op.path_in_repo = "b.bin";
    assert_int_equal(hf_commit_op_describe(&op, 2, &out), 0);
    assert_string_equal(out.ptr, "operation 3 (COPY a.bin -> b.bin)");
    op.kind = HF_COMMIT_OP_DELETE;
    op.path_in_repo = "old/";
    assert_int_equal(hf_commit_op_describe(&op, 0, &out), 0);
    assert_string_equal(out.ptr, "operation 1 (DELETE old/)");
    hf_buf_free(&out);
}

static void test_public_nulls(void **state)
{
    (void)state;
    hf_commit_op op = HF_COMMIT_OP_INIT;
    assert_int_equal(hf_repo_create_commit(NULL, &op, 1, "m", NULL, NULL), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "hf_repo_create_commit"));
    assert_int_equal(hf_repo_preupload_lfs(NULL, &op, 1), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "hf_repo_preupload_lfs"));
    hf_scheduler *s = (hf_scheduler *)1;
    assert_int_equal(hf_scheduler_start(&s, NULL, "/tmp", NULL), HF_EINVAL);
    assert_null(s);
    assert_int_equal(hf_scheduler_trigger(NULL), HF_EINVAL);
    assert_int_equal(hf_scheduler_stop(NULL), HF_EINVAL);
    assert_int_equal(hf_scheduler_last_error(NULL, NULL, 0), HF_EINVAL);
    hf_scheduler_lock(NULL);
    hf_scheduler_unlock(NULL);
    hf_scheduler_free(NULL);
}

/* --- folder_sync --- */

static char root[256];

static void put(const char *rel, const char *text, const char *mode)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/src/%s", root, rel);
    FILE *f = fopen(p, mode);
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *rel)
{
    static char buf[4096];
    char p[512];
    snprintf(p, sizeof(p), "%s/dst/%s", root, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup_dirs(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/hfgit-test-sync.XXXXXX");
    assert_non_null(mkdtemp(root));
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/src/sub/.git %s/src/deep/er", root, root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int teardown_dirs(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_sync(void **state)
{
    (void)state;
    char src[512], dst[512];
    snprintf(src, sizeof(src), "%s/src", root);
    snprintf(dst, sizeof(dst), "%s/dst", root);
    put("a.jsonl", "{\"n\": 1}\n", "w");
    put("deep/er/b.txt", "b\n", "w");
    put("skip.tmp", "tmp\n", "w");
    put("sub/.git/config", "[core]\n", "w");
    static const char *const ignore[] = {"*.tmp", NULL};
    hf_sync_list state_list = HF_SYNC_LIST_INIT, snap = HF_SYNC_LIST_INIT;
    size_t copied = 0;
    assert_int_equal(hf_sync_scan(src, NULL, ignore, &snap), 0);
    assert_int_equal(snap.count, 2); /* .git folders and ignored files are not listed */
    assert_string_equal(snap.files[0].rel, "a.jsonl");
    assert_string_equal(snap.files[1].rel, "deep/er/b.txt");
    /* bytes appended after the snapshot stay out of this copy */
    put("a.jsonl", "{\"n\": 2}\n", "a");
    assert_int_equal(hf_sync_copy(&state_list, &snap, src, dst, &copied), 0);
    assert_int_equal(copied, 2);
    assert_string_equal(get("a.jsonl"), "{\"n\": 1}\n");
    assert_string_equal(get("deep/er/b.txt"), "b\n");
    hf_sync_list_free(&snap);
    /* the next round appends only what grew */
    assert_int_equal(hf_sync_scan(src, NULL, ignore, &snap), 0);
    assert_int_equal(hf_sync_copy(&state_list, &snap, src, dst, &copied), 0);
    assert_int_equal(copied, 1);
    assert_string_equal(get("a.jsonl"), "{\"n\": 1}\n{\"n\": 2}\n");
    hf_sync_list_free(&snap);
    /* nothing new: nothing copied */
    assert_int_equal(hf_sync_scan(src, NULL, ignore, &snap), 0);
    assert_int_equal(hf_sync_copy(&state_list, &snap, src, dst, &copied), 0);
    assert_int_equal(copied, 0);
    hf_sync_list_free(&snap);
    /* a clone copy changed behind our back is copied whole again */
    char p[512];
    snprintf(p, sizeof(p), "%s/dst/a.jsonl", root);
    FILE *f = fopen(p, "w");
    fputs("garbage", f);
    fclose(f);
    put("a.jsonl", "{\"n\": 3}\n", "a");
    assert_int_equal(hf_sync_scan(src, NULL, ignore, &snap), 0);
    assert_int_equal(hf_sync_copy(&state_list, &snap, src, dst, &copied), 0);
    assert_string_equal(get("a.jsonl"), "{\"n\": 1}\n{\"n\": 2}\n{\"n\": 3}\n");
    hf_sync_list_free(&snap);
    /* allow patterns: only what matches; a folder pattern matches everything below it */
    static const char *const allow[] = {"deep/", NULL};
    assert_int_equal(hf_sync_scan(src, allow, NULL, &snap), 0);
    assert_int_equal(snap.count, 1);
    assert_string_equal(snap.files[0].rel, "deep/er/b.txt");
    hf_sync_list_free(&snap);
    hf_sync_list_free(&state_list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_public_nulls),
        cmocka_unit_test_setup_teardown(test_sync, setup_dirs, teardown_dirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
