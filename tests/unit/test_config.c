/* test_config.c: token and endpoint lookup (huggingface_hub rules), Hub repo URLs for each type, repo id
 * validation and the LFS batch URL derivation of git-lfs §7.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/config.h"
#include "../../common/git_lookup.h"
#include "../../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hfgit-test-config.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    unsetenv("HF_TOKEN");
    unsetenv("HF_TOKEN_PATH");
    unsetenv("HF_ENDPOINT");
    unsetenv("XDG_CACHE_HOME");
    setenv("HF_HOME", tmpdir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/home/.cache/huggingface/token", tmpdir);
    unlink(path);
    const char *dirs[] = {"/home/.cache/huggingface", "/home/.cache", "/home"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", tmpdir, dirs[i]);
        rmdir(path);
    }
    rmdir(tmpdir);
    return 0;
}

static void test_token_from_env(void **state)
{
    (void)state;
    hf_buf tok = HF_BUF_INIT;
    setenv("HF_TOKEN", "  hf_envtoken123\n", 1);
    assert_int_equal(hf_config_token(&tok), 0);
    assert_string_equal(tok.ptr, "hf_envtoken123");

    /* HF_TOKEN wins over the file */
    char path[256];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    write_file(path, "hf_filetoken");
    assert_int_equal(hf_config_token(&tok), 0);
    assert_string_equal(tok.ptr, "hf_envtoken123");

    /* an empty HF_TOKEN counts as unset */
    setenv("HF_TOKEN", "", 1);
    assert_int_equal(hf_config_token(&tok), 0);
    assert_string_equal(tok.ptr, "hf_filetoken");

    /* a token with a line break inside would inject a header: refused, and not echoed */
    setenv("HF_TOKEN", "hf_abc\r\nX-Evil: 1", 1);
    assert_int_equal(hf_config_token(&tok), HF_EINVAL);
    assert_null(strstr(hf_error_last_message(), "hf_abc"));
    assert_int_equal(tok.len, 0);

    unsetenv("HF_TOKEN");
    unlink(path);
    hf_buf_free(&tok);
}

static void test_token_from_file(void **state)
{
    (void)state;
    hf_buf tok = HF_BUF_INIT;
    char path[256];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    write_file(path, "\n  hf_secretfromfile \t\r\n\n");
    assert_int_equal(hf_config_token(&tok), 0);
    assert_string_equal(tok.ptr, "hf_secretfromfile");
    assert_int_equal(tok.len, strlen("hf_secretfromfile"));

    /* HF_TOKEN_PATH overrides the location, as in huggingface_hub */
    char other[256];
    snprintf(other, sizeof(other), "%s/token", tmpdir);
    setenv("HF_TOKEN_PATH", other, 1);
    assert_int_equal(hf_config_token(&tok), 0);
    assert_string_equal(tok.ptr, "hf_secretfromfile");
    unsetenv("HF_TOKEN_PATH");

    /* whitespace-only file: no token */
    write_file(path, " \n\t\n");
    assert_int_equal(hf_config_token(&tok), HF_ENOTFOUND);
    assert_non_null(strstr(hf_error_last_message(), "empty"));

    /* default HF_HOME is $HOME/.cache/huggingface */
    unsetenv("HF_HOME");
    char home[128], dir[192];
    snprintf(home, sizeof(home), "%s/home", tmpdir);
    mkdir(home, 0700);
    snprintf(dir, sizeof(dir), "%s/.cache", home);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/.cache/huggingface", home);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/token", dir);
    write_file(path, "hf_homedefault\n");
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", home, 1);
    assert_int_equal(hf_config_token(&tok), 0);
    assert_string_equal(tok.ptr, "hf_homedefault");
    if (old_home)
        setenv("HOME", old_home, 1);
    else
        unsetenv("HOME");
    free(old_home);
    setenv("HF_HOME", tmpdir, 1);
    hf_buf_free(&tok);
}

static void test_token_missing(void **state)
{
    (void)state;
    hf_buf tok = HF_BUF_INIT;
    hf_buf_puts(&tok, "stale");
    char path[256];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    unlink(path);
    assert_int_equal(hf_config_token(&tok), HF_ENOTFOUND);
    assert_int_equal(tok.len, 0);
    /* the message names the file looked at and the fix */
    assert_non_null(strstr(hf_error_last_message(), path));
    assert_non_null(strstr(hf_error_last_message(), "HF_TOKEN"));
    hf_buf_free(&tok);
}

static void test_endpoint(void **state)
{
    (void)state;
    hf_buf ep = HF_BUF_INIT;
    unsetenv("HF_ENDPOINT");
    assert_int_equal(hf_config_endpoint(&ep), 0);
    assert_string_equal(ep.ptr, "https://huggingface.co");

    setenv("HF_ENDPOINT", "http://127.0.0.1:5000/", 1);
    assert_int_equal(hf_config_endpoint(&ep), 0);
    assert_string_equal(ep.ptr, "http://127.0.0.1:5000");

    setenv("HF_ENDPOINT", " https://hub-ci.huggingface.co// \n", 1);
    assert_int_equal(hf_config_endpoint(&ep), 0);
    assert_string_equal(ep.ptr, "https://hub-ci.huggingface.co");

    setenv("HF_ENDPOINT", "", 1);
    assert_int_equal(hf_config_endpoint(&ep), 0);
    assert_string_equal(ep.ptr, "https://huggingface.co");

    setenv("HF_ENDPOINT", "huggingface.co", 1);
    assert_int_equal(hf_config_endpoint(&ep), HF_EINVAL);
    unsetenv("HF_ENDPOINT");
    hf_buf_free(&ep);
}

static void check_repo_url(const char *endpoint, const char *type, const char *id, const char *want)
{
    hf_buf out = HF_BUF_INIT;
    int rc = hf_repo_url(&out, endpoint, type, id);
    if (rc != 0)
        fail_msg("hf_repo_url(%s, %s, %s): %s", endpoint, type ? type : "NULL", id, hf_error_last_message());
    assert_string_equal(out.ptr, want);
    hf_buf_free(&out);
}

static void test_repo_urls(void **state)
{
    (void)state;
    const char *ep = "https://huggingface.co";
    check_repo_url(ep, NULL, "gpt2-org/gpt2", "https://huggingface.co/gpt2-org/gpt2");
    check_repo_url(ep, "", "user/model", "https://huggingface.co/user/model");
    check_repo_url(ep, "model", "user/model", "https://huggingface.co/user/model");
    check_repo_url(ep, "dataset", "user/data_set.v2", "https://huggingface.co/datasets/user/data_set.v2");
    check_repo_url(ep, "space", "user/my-space", "https://huggingface.co/spaces/user/my-space");
    check_repo_url("http://127.0.0.1:5000/", "dataset", "ns/x", "http://127.0.0.1:5000/datasets/ns/x");

    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_repo_url(&out, ep, "datasets", "user/x"), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "datasets"));
    assert_int_equal(hf_repo_url(&out, ep, "Model", "user/x"), HF_EINVAL);
    assert_int_equal(hf_repo_url(&out, "huggingface.co", NULL, "user/x"), HF_EINVAL);
    assert_int_equal(out.len, 0);
    hf_buf_free(&out);
}

static void test_bad_repo_ids(void **state)
{
    (void)state;
    const char *bad[] = {"",      "name",    "/name", "ns/",     "ns/a/b",  "ns//a",    "-ns/a",
                         "ns/a-", ".ns/a",   "ns/a.", "n--s/a",  "ns/a..b", "ns/a b",   "ns/a?x",
                         "ns/é",  "ns/a\nb", "../a",  "ns/a#b",  "ns/a:b",  "ns\\a/b", NULL};
    hf_buf out = HF_BUF_INIT;
    for (size_t i = 0; bad[i]; i++) {
        if (hf_repo_id_validate(bad[i]) != HF_EINVAL)
            fail_msg("repo id '%s' should be rejected", bad[i]);
        assert_int_equal(hf_repo_url(&out, "https://huggingface.co", NULL, bad[i]), HF_EINVAL);
    }
    assert_int_equal(hf_repo_id_validate(NULL), HF_EINVAL);
    char long_id[128];
    memset(long_id, 'a', sizeof(long_id));
    long_id[0] = 'n', long_id[1] = 's', long_id[2] = '/';
    long_id[3 + 97] = '\0'; /* 97-character name */
    assert_int_equal(hf_repo_id_validate(long_id), HF_EINVAL);
    long_id[3 + 96] = '\0'; /* 96 is the limit */
    assert_int_equal(hf_repo_id_validate(long_id), 0);

    const char *good[] = {"a/b", "User_1/Model.v2-final", "ns/A-b_c.d", "0/9", NULL};
    for (size_t i = 0; good[i]; i++) {
        if (hf_repo_id_validate(good[i]) != 0)
            fail_msg("repo id '%s' should be accepted: %s", good[i], hf_error_last_message());
    }
    hf_buf_free(&out);
}

static void check_batch(const char *remote, const char *want)
{
    hf_buf out = HF_BUF_INIT;
    int rc = hf_lfs_batch_url(&out, remote);
    if (rc != 0)
        fail_msg("hf_lfs_batch_url(%s): %s", remote, hf_error_last_message());
    assert_string_equal(out.ptr, want);
    hf_buf_free(&out);
}

static void test_batch_urls(void **state)
{
    (void)state;
    /* git-lfs §7.1: the example, a trailing '/', a remote already ending in .git */
    check_batch("https://huggingface.co/user/model",
                "https://huggingface.co/user/model.git/info/lfs/objects/batch");
    check_batch("https://huggingface.co/user/model/",
                "https://huggingface.co/user/model.git/info/lfs/objects/batch");
    check_batch("https://huggingface.co/user/model.git",
                "https://huggingface.co/user/model.git/info/lfs/objects/batch");
    check_batch("https://huggingface.co/user/model.git/",
                "https://huggingface.co/user/model.git/info/lfs/objects/batch");
    check_batch("http://127.0.0.1:5000/datasets/ns/d",
                "http://127.0.0.1:5000/datasets/ns/d.git/info/lfs/objects/batch");
    /* credentials never reach the batch URL */
    check_batch("https://user:hf_secret@huggingface.co/user/model",
                "https://huggingface.co/user/model.git/info/lfs/objects/batch");
    /* SSH remotes map to https on the same host */
    check_batch("git@hf.co:user/model.git", "https://hf.co/user/model.git/info/lfs/objects/batch");
    check_batch("ssh://git@hf.co:2222/user/model", "https://hf.co/user/model.git/info/lfs/objects/batch");

    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_lfs_batch_url(&out, "/srv/repos/model.git"), HF_EINVAL);
    assert_int_equal(hf_lfs_batch_url(&out, "file:///srv/repos/model.git"), HF_EINVAL);
    assert_int_equal(hf_lfs_batch_url(&out, "./a/b:c"), HF_EINVAL);
    assert_int_equal(hf_lfs_batch_url(&out, NULL), HF_EINVAL);
    hf_buf_free(&out);
}

static void test_strip_credentials(void **state)
{
    (void)state;
    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_url_strip_credentials(&out, "https://user:hf_tok@huggingface.co/a/b"), 0);
    assert_string_equal(out.ptr, "https://huggingface.co/a/b");
    assert_int_equal(hf_url_strip_credentials(&out, "https://hf_tok@huggingface.co"), 0);
    assert_string_equal(out.ptr, "https://huggingface.co");
    assert_int_equal(hf_url_strip_credentials(&out, "https://u:p@ss@host:8080/x?y=1"), 0);
    assert_string_equal(out.ptr, "https://host:8080/x?y=1");
    assert_int_equal(hf_url_strip_credentials(&out, "https://huggingface.co/a@b"), 0);
    assert_string_equal(out.ptr, "https://huggingface.co/a@b");
    assert_int_equal(hf_url_strip_credentials(&out, "not a url"), 0);
    assert_string_equal(out.ptr, "not a url");
    hf_buf_free(&out);
}

/* The HF token goes only to the HF endpoint's origin (scheme, host, port): never to a third-party server. */
static void test_token_scope(void **state)
{
    (void)state;
    assert_true(hf_url_is_hf_endpoint("https://huggingface.co/alice/m.git/info/lfs/objects/batch"));
    assert_true(hf_url_is_hf_endpoint("https://HuggingFace.co:443/alice/m"));
    assert_true(hf_url_is_hf_endpoint("https://user:pw@huggingface.co/alice/m"));
    assert_false(hf_url_is_hf_endpoint("http://huggingface.co/alice/m"));              /* scheme */
    assert_false(hf_url_is_hf_endpoint("https://huggingface.co:8443/alice/m"));        /* port */
    assert_false(hf_url_is_hf_endpoint("https://huggingface.co.evil.example/x"));      /* host */
    assert_false(hf_url_is_hf_endpoint("https://evil.example/@huggingface.co/x"));     /* '@' in the path */
    assert_false(hf_url_is_hf_endpoint("https://lfs.example.com/alice/m.git/info/lfs"));
    assert_false(hf_url_is_hf_endpoint("ssh://huggingface.co/alice/m"));
    assert_false(hf_url_is_hf_endpoint(NULL));
    setenv("HF_ENDPOINT", "http://127.0.0.1:5000/", 1);
    assert_true(hf_url_is_hf_endpoint("http://127.0.0.1:5000/alice/m.git/info/lfs/objects/batch"));
    assert_false(hf_url_is_hf_endpoint("http://127.0.0.1:5001/alice/m.git/info/lfs/objects/batch"));
    assert_false(hf_url_is_hf_endpoint("http://127.0.0.1/alice/m"));

    /* the agent's credential lookup: `git credential fill` has nothing (no helper, no prompt), so the HF token
     * is the fallback, for the endpoint's host only */
    setenv("HF_TOKEN", "hf_scoped_secret", 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_TERMINAL_PROMPT", "0", 1);
    unsetenv("GIT_ASKPASS");
    unsetenv("SSH_ASKPASS");
    hf_buf tok = HF_BUF_INIT;
    assert_int_equal(hf_git_lfs_token("http://127.0.0.1:5000/alice/m.git/info/lfs/objects/batch", &tok), 0);
    assert_string_equal(hf_buf_cstr(&tok), "hf_scoped_secret");
    assert_int_equal(hf_git_lfs_token("http://127.0.0.1:5001/alice/m.git/info/lfs/objects/batch", &tok),
                     HF_ENOTFOUND);
    assert_int_equal(tok.len, 0);
    hf_git_secret_free(&tok);
    unsetenv("HF_TOKEN");
    unsetenv("HF_ENDPOINT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_from_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint, setup, teardown),
        cmocka_unit_test(test_repo_urls),
        cmocka_unit_test(test_bad_repo_ids),
        cmocka_unit_test(test_batch_urls),
        cmocka_unit_test(test_strip_credentials),
        cmocka_unit_test(test_token_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
