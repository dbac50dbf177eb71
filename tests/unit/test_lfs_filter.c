/* test_lfs_filter.c: the native "lfs" filter through libgit2 (no network): clean into the store, canonical
 * pointers, pass-through of pointers and empty files, smudge from the store, missing objects left as pointers,
 * and index stat data that keeps status from re-reading a cleaned file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hfgit.h"

#include "../../common/buf.h"
#include "../../common/digest.h"
#include "../../common/pointer.h"
#include "../../repo/lfs_filter.h"

#include <git2.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELLO_OID "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

typedef struct fixture {
    char dir[64];
    git_repository *repo;
    git_index *index;
} fixture;

static void path_in(const fixture *f, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->dir, rel);
}

static void write_file(const fixture *f, const char *rel, const void *data, size_t len)
{
    char p[512];
    path_in(f, rel, p, sizeof(p));
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Deterministic pseudo-random content (xorshift), so the test knows nothing is compressible or textual. */
static char *random_bytes(size_t n, uint64_t seed)
{
    char *b = malloc(n);
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (char)(x >> 24);
    }
    return b;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/hfgit-filter-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    if (hf_init() < 0 || git_repository_init(&f->repo, f->dir, 0) < 0 || git_repository_index(&f->index, f->repo) < 0)
        return -1;
    const char *attrs = "*.bin filter=lfs diff=lfs merge=lfs -text\n";
    write_file(f, ".gitattributes", attrs, strlen(attrs));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    git_index_free(f->index);
    git_repository_free(f->repo);
    hf_shutdown();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Adds rel and returns the staged blob's content (caller frees) and the index entry. */
static char *add_and_get_blob(fixture *f, const char *rel, size_t *len, const git_index_entry **entry)
{
    if (git_index_add_bypath(f->index, rel) < 0)
        fail_msg("add %s: %s", rel, git_error_last()->message);
    const git_index_entry *e = git_index_get_bypath(f->index, rel, 0);
    assert_non_null(e);
    git_blob *blob;
    assert_int_equal(git_blob_lookup(&blob, f->repo, &e->id), 0);
    *len = (size_t)git_blob_rawsize(blob);
    char *out = malloc(*len + 1);
    memcpy(out, git_blob_rawcontent(blob), *len);
    out[*len] = '\0';
    git_blob_free(blob);
    if (entry)
        *entry = e;
    return out;
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_clean_large_file(void **state)
{
    fixture *f = *state;
    size_t n = 3 * 1024 * 1024 + 17;
    char *data = random_bytes(n, 42);
    write_file(f, "big.bin", data, n);
    char want_oid[65], path[512];
    assert_int_equal(hf_sha256_hex(data, n, want_oid), 0);

    size_t len;
    const git_index_entry *e;
    char *blob = add_and_get_blob(f, "big.bin", &len, &e);
    char want[256];
    snprintf(want, sizeof(want), "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %zu\n", want_oid, n);
    assert_string_equal(blob, want);
    /* the index records the working file's size, not the pointer's: status will not re-hash it */
    assert_int_equal(e->file_size, n);

    /* the object is in the sharded store, byte-identical; the temp dir is empty again */
    snprintf(path, sizeof(path), "%s/.git/lfs/objects/%.2s/%.2s/%s", f->dir, want_oid, want_oid + 2, want_oid);
    size_t olen;
    char *obj = read_file(path, &olen);
    assert_non_null(obj);
    assert_int_equal(olen, n);
    assert_memory_equal(obj, data, n);
    snprintf(path, sizeof(path), "%s/.git/lfs/tmp", f->dir);
    assert_int_equal(count_dir(path), 0);

    unsigned int flags = 0;
    assert_int_equal(git_status_file(&flags, f->repo, "big.bin"), 0);
    assert_int_equal(flags, GIT_STATUS_INDEX_NEW);

    /* adding the same content again (another name) reuses the object */
    write_file(f, "copy.bin", data, n);
    free(add_and_get_blob(f, "copy.bin", &len, NULL));
    free(blob);
    free(obj);
    free(data);
}

static void test_clean_small_empty_and_pointer(void **state)
{
    fixture *f = *state;
    size_t len;
    /* small files are still LFS objects, as with git-lfs */
    write_file(f, "hello.bin", "hello\n", 6);
    char *blob = add_and_get_blob(f, "hello.bin", &len, NULL);
    assert_string_equal(blob, "version https://git-lfs.github.com/spec/v1\noid sha256:" HELLO_OID "\nsize 6\n");
    free(blob);

    /* an empty file is an empty blob and creates no object */
    write_file(f, "empty.bin", "", 0);
    blob = add_and_get_blob(f, "empty.bin", &len, NULL);
    assert_int_equal(len, 0);
    free(blob);
    char path[512];
    snprintf(path, sizeof(path), "%s/.git/lfs/objects/e3", f->dir);
    assert_int_equal(count_dir(path), 0);

    /* a file that already is a pointer (even a non-canonical one) passes through verbatim, no object made */
    const char *ptr = "version https://git-lfs.github.com/spec/v1\r\noid sha256:"
                      "1111111111111111111111111111111111111111111111111111111111111111\r\nsize 12345\r\n";
    write_file(f, "ptr.bin", ptr, strlen(ptr));
    blob = add_and_get_blob(f, "ptr.bin", &len, NULL);
    assert_int_equal(len, strlen(ptr));
    assert_memory_equal(blob, ptr, len);
    free(blob);
    snprintf(path, sizeof(path), "%s/.git/lfs/objects/11", f->dir);
    assert_int_equal(count_dir(path), 0);

    /* an untracked path is not filtered */
    write_file(f, "notes.txt", "hello\n", 6);
    blob = add_and_get_blob(f, "notes.txt", &len, NULL);
    assert_string_equal(blob, "hello\n");
    free(blob);
}

static void checkout_paths(fixture *f, const char *rel)
{
    git_checkout_options co;
    git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
    co.checkout_strategy = GIT_CHECKOUT_FORCE;
    char *paths[] = {(char *)rel};
    co.paths.strings = paths;
    co.paths.count = 1;
    if (git_checkout_index(f->repo, f->index, &co) < 0)
        fail_msg("checkout %s: %s", rel, git_error_last()->message);
}

static void test_smudge(void **state)
{
    fixture *f = *state;
    size_t n = 2 * 1024 * 1024 + 5, len;
    char *data = random_bytes(n, 7);
    write_file(f, "w.bin", data, n);
    char *blob = add_and_get_blob(f, "w.bin", &len, NULL);
    free(blob);
    char path[512], oid[65];
    path_in(f, "w.bin", path, sizeof(path));
    unlink(path);

    /* object present: the checkout writes the content */
    hf_lfs_filter_missing_reset();
    checkout_paths(f, "w.bin");
    char *got = read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, n);
    assert_memory_equal(got, data, n);
    free(got);
    assert_int_equal(hf_lfs_filter_missing(), 0);

    /* object missing: the pointer is written and counted */
    assert_int_equal(hf_sha256_hex(data, n, oid), 0);
    char obj[512];
    snprintf(obj, sizeof(obj), "%s/.git/lfs/objects/%.2s/%.2s/%s", f->dir, oid, oid + 2, oid);
    assert_int_equal(unlink(obj), 0);
    unlink(path);
    checkout_paths(f, "w.bin");
    got = read_file(path, &len);
    assert_non_null(got);
    assert_true(len < 200);
    assert_non_null(strstr(got, oid));
    free(got);
    assert_int_equal(hf_lfs_filter_missing(), 1);

    /* a tracked path whose blob is not a pointer (committed before tracking) passes through */
    char *big = random_bytes(5000, 3);
    git_oid id;
    assert_int_equal(git_blob_create_from_buffer(&id, f->repo, big, 5000), 0);
    git_index_entry e;
    memset(&e, 0, sizeof(e));
    e.mode = GIT_FILEMODE_BLOB;
    e.path = "raw.bin";
    e.id = id;
    assert_int_equal(git_index_add(f->index, &e), 0);
    checkout_paths(f, "raw.bin");
    path_in(f, "raw.bin", path, sizeof(path));
    got = read_file(path, &len);
    assert_int_equal(len, 5000);
    assert_memory_equal(got, big, 5000);
    free(got);
    free(big);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_large_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_small_empty_and_pointer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smudge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
