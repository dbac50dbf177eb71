/* test_part_journal.c: the finished-parts record that lets a killed push resume (issue 11): what identifies
 * an upload across fresh signatures, records read back, a torn last record ignored (and the next one still
 * readable), another upload's journal replaced, removal on completion, a journal held by another upload of
 * the same object left alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/part_journal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OID "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
#define N 5

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hfgit-journal.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void free_etags(char **e)
{
    for (int i = 0; i < N; i++) {
        free(e[i]);
        e[i] = NULL;
    }
}

static void test_identity_ignores_signatures(void **state)
{
    (void)state;
    char a[65], b[65], c[65], d[65];
    hf_upload_identity("http://h/__complete/u/m/ID1?exp=100&sig=aaa", "http://h/__part/ID1/1?exp=100&sig=aaa",
                       a);
    hf_upload_identity("http://h/__complete/u/m/ID1?exp=200&sig=bbb", "http://h/__part/ID1/1?exp=200&sig=bbb",
                       b);
    hf_upload_identity("http://h/__complete/u/m/ID2?exp=100&sig=aaa", "http://h/__part/ID2/1?exp=100&sig=aaa",
                       c);
    /* S3: the upload id is a query parameter and must count; the signature must not */
    hf_upload_identity("https://s3/b/k?uploadId=X1&X-Amz-Signature=s1&X-Amz-Expires=900",
                       "https://s3/b/k?partNumber=1&uploadId=X1&X-Amz-Date=1&X-Amz-Signature=s1", d);
    assert_int_equal(strlen(a), 64);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    char e[65], f[65];
    hf_upload_identity("https://s3/b/k?uploadId=X1&X-Amz-Signature=s2&X-Amz-Expires=900",
                       "https://s3/b/k?partNumber=1&uploadId=X1&X-Amz-Date=2&X-Amz-Signature=s2", e);
    hf_upload_identity("https://s3/b/k?uploadId=X2&X-Amz-Signature=s2&X-Amz-Expires=900",
                       "https://s3/b/k?partNumber=1&uploadId=X2&X-Amz-Date=2&X-Amz-Signature=s2", f);
    assert_string_equal(d, e);
    assert_string_not_equal(d, f);
}

static void test_records_survive_and_torn_tail_ignored(void **state)
{
    (void)state;
    char *etags[N] = {0};
    size_t found = 9;
    hf_part_journal *j;
    char id[65];
    hf_upload_identity("http://h/c/ID", "http://h/p/ID/1", id);
    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, id, etags, N, &found), 0);
    assert_int_equal(found, 0);
    assert_int_equal(hf_part_journal_add(j, 2, "\"e2 with \\\"quotes\\\"\""), 0);
    assert_int_equal(hf_part_journal_add(j, 4, "\"e4\""), 0);
    hf_part_journal_close(j, 0);

    /* a crash in the middle of the next record: half a line at the end */
    char path[160];
    snprintf(path, sizeof(path), "%s/hfgit-parts-%s", dir, OID);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "part 5 2265", 11), 11);
    close(fd);

    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, id, etags, N, &found), 0);
    assert_int_equal(found, 2);
    assert_null(etags[0]);
    assert_string_equal(etags[1], "\"e2 with \\\"quotes\\\"\"");
    assert_string_equal(etags[3], "\"e4\"");
    assert_null(etags[4]);
    /* the next record after a torn one starts on its own line and is read back */
    assert_int_equal(hf_part_journal_add(j, 5, "\"e5\""), 0);
    hf_part_journal_close(j, 0);
    free_etags(etags);
    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, id, etags, N, &found), 0);
    assert_int_equal(found, 3);
    assert_string_equal(etags[4], "\"e5\"");
    free_etags(etags);

    /* a flipped byte in a record fails its check: that part is simply sent again */
    hf_part_journal_close(j, 0);
    FILE *f = fopen(path, "r+");
    char text[1024];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    char *rec = strstr(text, "part 4 ");
    assert_non_null(rec);
    rec[8] = rec[8] == '2' ? '3' : '2';
    rewind(f);
    fwrite(text, 1, n, f);
    fclose(f);
    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, id, etags, N, &found), 0);
    assert_int_equal(found, 2);
    assert_null(etags[3]);
    free_etags(etags);

    /* another upload of the same object: the old records do not apply and are dropped */
    hf_part_journal_close(j, 0);
    char other[65];
    hf_upload_identity("http://h/c/OTHER", "http://h/p/OTHER/1", other);
    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, other, etags, N, &found), 0);
    assert_int_equal(found, 0);
    hf_part_journal_close(j, 0);
    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, id, etags, N, &found), 0);
    assert_int_equal(found, 0); /* replaced, not kept aside */
    /* a reset (restart on a new upload) empties it too; closing with remove deletes the file */
    assert_int_equal(hf_part_journal_add(j, 1, "\"e1\""), 0);
    assert_int_equal(hf_part_journal_reset(j, other), 0);
    hf_part_journal_close(j, 0);
    assert_int_equal(hf_part_journal_open(&j, dir, OID, 100, 20, other, etags, N, &found), 0);
    assert_int_equal(found, 0);
    hf_part_journal_close(j, 1);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
}

static void test_creates_missing_dir(void **state)
{
    (void)state;
    char sub[128], *etags[N] = {0};
    size_t found;
    hf_part_journal *j;
    snprintf(sub, sizeof(sub), "%s/tmp", dir);
    assert_int_equal(hf_part_journal_open(&j, sub, OID, 100, 20, "x", etags, N, &found), 0);
    hf_part_journal_close(j, 1);
}

/* A second upload of the same object while the first holds the journal (a library push next to a git push)
 * gets no journal: before the lock it replaced the first's header (another identity) and the first's records
 * were lost, or worse, landed under the second's header. */
static void test_second_open_while_held_gets_no_journal(void **state)
{
    (void)state;
    char *etags[N] = {0}, *other_etags[N] = {0};
    size_t found = 9;
    hf_part_journal *first, *second = (hf_part_journal *)1;
    assert_int_equal(hf_part_journal_open(&first, dir, OID, 100, 20, "id-first", etags, N, &found), 0);
    assert_non_null(first);
    assert_int_equal(hf_part_journal_add(first, 1, "\"e1\""), 0);
    found = 9;
    assert_int_equal(hf_part_journal_open(&second, dir, OID, 100, 20, "id-second", other_etags, N, &found), 0);
    assert_null(second);
    assert_int_equal(found, 0);
    /* the calls an upload makes on its journal all accept NULL */
    assert_int_equal(hf_part_journal_add(second, 2, "\"x2\""), 0);
    assert_int_equal(hf_part_journal_reset(second, "id-third"), 0);
    hf_part_journal_close(second, 1);
    assert_int_equal(hf_part_journal_add(first, 3, "\"e3\""), 0);
    hf_part_journal_close(first, 0);
    /* the first upload's records are intact and readable under its own header */
    assert_int_equal(hf_part_journal_open(&first, dir, OID, 100, 20, "id-first", etags, N, &found), 0);
    assert_non_null(first);
    assert_int_equal(found, 2);
    assert_string_equal(etags[0], "\"e1\"");
    assert_null(etags[1]);
    assert_string_equal(etags[2], "\"e3\"");
    /* released on close: the next upload gets the journal again */
    hf_part_journal_close(first, 1);
    free_etags(etags);
    assert_int_equal(hf_part_journal_open(&second, dir, OID, 100, 20, "id-second", other_etags, N, &found), 0);
    assert_non_null(second);
    hf_part_journal_close(second, 1);
    free_etags(other_etags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_ignores_signatures),
        cmocka_unit_test(test_records_survive_and_torn_tail_ignored),
        cmocka_unit_test(test_creates_missing_dir),
        cmocka_unit_test(test_second_open_while_held_gets_no_journal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
