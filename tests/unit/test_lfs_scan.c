/* test_lfs_scan.c: which LFS objects a push uploads and a checkout needs (no network): pointers reachable from
 * the pushed commits and not from what the remote has; whole trees for checkouts; non-pointers, empty
 * pointers and big pointer-like blobs ignored; duplicates counted once. Uses the public add/commit API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/error.h"
#include "hfgit.h"

#include "../../common/digest.h"
#include "../../repo/lfs_scan.h"
#include "../../repo/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char dir[64];
    hf_repo *repo;
} fixture;

static void write_file(const fixture *f, const char *rel, const char *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void commit_all(fixture *f, const char *msg, git_oid *out)
{
    char hex[41];
    assert_int_equal(hf_repo_add(f->repo, ".", 0), 0);
    if (hf_repo_commit_id(f->repo, msg, hex) != 0)
        fail_msg("commit: %s", hf_error_last_message());
    assert_int_equal(git_oid_fromstr(out, hex), 0);
}

static int has_oid_of(const hf_lfs_set *set, const char *content)
{
    char oid[65];
    hf_sha256_hex(content, strlen(content), oid);
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].oid, oid) == 0)
            return 1;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/hfgit-scan-XXXXXX");
    git_repository *g = NULL;
    if (!mkdtemp(f->dir) || hf_init() < 0 || git_repository_init(&g, f->dir, 0) < 0)
        return -1;
    git_repository_free(g);
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    o.git_user = "t";
    o.git_email = "t@hfgit.invalid";
    o.token = "";
    if (hf_repo_open(&f->repo, f->dir, &o) < 0)
        return -1;
    write_file(f, ".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n", 42);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hf_repo_free(f->repo);
    hf_shutdown();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void test_scan(void **state)
{
    fixture *f = *state;
    git_repository *g = NULL;
    assert_int_equal(git_repository_open(&g, f->dir), 0);
    git_oid c1, c2, c3;

    write_file(f, "a.bin", "content A\n", 10);
    write_file(f, "a-copy.bin", "content A\n", 10); /* same object twice */
    write_file(f, "empty.bin", "", 0);               /* no pointer at all */
    write_file(f, "notes.txt", "text\n", 5);
    commit_all(f, "one", &c1);

    write_file(f, "b.bin", "content B\n", 10);
    write_file(f, "a.bin", "content A2\n", 11); /* changed */
    /* a pointer-looking text file of 1024+ bytes is not a pointer */
    char big[1100];
    int n = snprintf(big, sizeof(big),
                     "version https://git-lfs.github.com/spec/v1\noid sha256:%064d\nsize 5\n", 7);
    memset(big + n, '\n', sizeof(big) - (size_t)n);
    write_file(f, "big.txt", big, sizeof(big));
    commit_all(f, "two", &c2);

    hf_lfs_set set = HF_LFS_SET_INIT;
    /* everything from the root: A, A2, B (A once, though at two paths) */
    assert_int_equal(hf_lfs_scan_range(g, &c2, 1, NULL, 0, &set), 0);
    assert_int_equal(set.count, 3);
    assert_true(has_oid_of(&set, "content A\n"));
    assert_true(has_oid_of(&set, "content A2\n"));
    assert_true(has_oid_of(&set, "content B\n"));
    assert_int_equal(hf_lfs_set_bytes(&set), 10 + 11 + 10);
    hf_lfs_set_free(&set);

    /* the remote has c1: only what c2 added or changed */
    assert_int_equal(hf_lfs_scan_range(g, &c2, 1, &c1, 1, &set), 0);
    assert_int_equal(set.count, 2);
    assert_false(has_oid_of(&set, "content A\n"));
    hf_lfs_set_free(&set);

    /* an unknown hidden tip is tolerated */
    git_oid unknown;
    git_oid_fromstr(&unknown, "1234567890123456789012345678901234567890");
    assert_int_equal(hf_lfs_scan_range(g, &c2, 1, &unknown, 1, &set), 0);
    assert_int_equal(set.count, 3);
    hf_lfs_set_free(&set);

    /* the remote is up to date: nothing */
    assert_int_equal(hf_lfs_scan_range(g, &c2, 1, &c2, 1, &set), 0);
    assert_int_equal(set.count, 0);
    hf_lfs_set_free(&set);

    /* a checkout of c2 needs the objects of its tree: A (copy), A2, B */
    assert_int_equal(hf_lfs_scan_commit_tree(g, &c2, &set), 0);
    assert_int_equal(set.count, 3);
    hf_lfs_set_free(&set);

    /* deleting files uploads nothing */
    write_file(f, "x.txt", "x\n", 2);
    remove(strcat(strcpy(big, f->dir), "/b.bin"));
    commit_all(f, "three", &c3);
    assert_int_equal(hf_lfs_scan_range(g, &c3, 1, &c2, 1, &set), 0);
    assert_int_equal(set.count, 0);
    hf_lfs_set_free(&set);
    git_repository_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
