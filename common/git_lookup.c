/*
 * git_lookup.c: the LFS endpoint and credentials as git-lfs finds them (see git_lookup.h).
 */
#include "git_lookup.h"

#include "config.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX ((size_t)64 * 1024)

extern char **environ;

/* environ plus GIT_TERMINAL_PROMPT=0: a credential helper may answer, nobody is asked on a terminal (the
 * agent runs under git-lfs with no terminal of its own to speak of). */
static char **child_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof(char *));
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "GIT_TERMINAL_PROMPT=", 20) != 0) env[k++] = environ[i];
    env[k++] = (char *)"GIT_TERMINAL_PROMPT=0";
    env[k] = NULL;
    return env;
}

int hf_git_run(const char *const *argv, const char *input, hf_buf *out)
{
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    char **env = child_env();
    hf_buf_clear(out);
    if (!env || pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
        free(env);
        for (int i = 0; i < 2; i++) {
            if (in_pipe[i] >= 0) close(in_pipe[i]);
            if (out_pipe[i] >= 0) close(out_pipe[i]);
        }
        return hf_error_set(HF_EIO, "cannot run git: %s", strerror(errno));
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    /* stderr stays ours: git's own messages reach the user (git-lfs shows them under GIT_TRACE) */
    int rc = posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(in_pipe[0]);
    close(out_pipe[1]);
    if (rc != 0) {
        close(in_pipe[1]);
        close(out_pipe[0]);
        return hf_error_set(HF_EIO, "cannot run git: %s", strerror(rc));
    }
    /* the input is a few short lines: it fits in the pipe, so writing it all first cannot deadlock */
    size_t left = input ? strlen(input) : 0;
    const char *p = input;
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    while (left) {
        ssize_t w = write(in_pipe[1], p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        left -= (size_t)w;
    }
    close(in_pipe[1]);
    char buf[4096];
    for (;;) {
        ssize_t r = read(out_pipe[0], buf, sizeof(buf));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (out->len + (size_t)r <= OUTPUT_MAX) hf_buf_put(out, buf, (size_t)r);
    }
    close(out_pipe[0]);
    if (old != SIG_ERR) signal(SIGPIPE, old);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    explicit_bzero(buf, sizeof(buf));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static void chomp(hf_buf *b)
{
    while (b->len && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r'))
        b->ptr[--b->len] = '\0';
}

static int git_config(const char *key, hf_buf *out)
{
    const char *argv[] = {"git", "config", "--get", key, NULL};
    int st = hf_git_run(argv, NULL, out);
    chomp(out);
    return st == 0 && out->len ? 0 : -1;
}

static void append_lfs_path(hf_buf *out, const char *base)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    hf_buf_put(out, base, n);
    hf_buf_puts(out, n >= 4 && !memcmp(base + n - 4, ".git", 4) ? "/info/lfs" : ".git/info/lfs");
}

int hf_git_lfs_batch_url(const char *remote, hf_buf *out)
{
    hf_buf v = HF_BUF_INIT, key = HF_BUF_INIT;
    int rc = 0;
    hf_buf_clear(out);
    if (!remote || !*remote) remote = "origin";
    hf_buf_printf(&key, "remote.%s.lfsurl", remote);
    if (git_config("lfs.url", &v) == 0 || git_config(hf_buf_cstr(&key), &v) == 0) {
        size_t n = v.len;
        while (n && v.ptr[n - 1] == '/')
            n--;
        hf_buf_put(out, v.ptr, n);
        hf_buf_puts(out, "/objects/batch");
    } else {
        const char *argv[] = {"git", "ls-remote", "--get-url", remote, NULL};
        int st = hf_git_run(argv, NULL, &v);
        chomp(&v);
        /* ls-remote --get-url echoes a name it does not know: that is "no such remote" */
        if (st != 0 || !v.len || !strcmp(v.ptr, remote)) {
            rc = hf_error_set(HF_ENOTFOUND,
                              "no LFS endpoint: git knows no remote \"%s\" here (and neither "
                              "lfs.url nor remote.%s.lfsurl is set)",
                              remote, remote);
        } else if (strncmp(v.ptr, "http://", 7) && strncmp(v.ptr, "https://", 8)) {
            /* ssh and other remote forms: config.c knows git-lfs's mapping */
            rc = hf_lfs_batch_url(out, v.ptr);
        } else {
            hf_buf base = HF_BUF_INIT;
            append_lfs_path(&base, v.ptr);
            hf_buf_printf(out, "%s/objects/batch", hf_buf_cstr(&base));
            hf_buf_free(&base);
        }
    }
    hf_buf_free(&v);
    hf_buf_free(&key);
    return rc;
}

int hf_git_lfs_token(const char *url, hf_buf *out)
{
    hf_buf input = HF_BUF_INIT, got = HF_BUF_INIT;
    const char *argv[] = {"git", "credential", "fill", NULL};
    hf_buf_clear(out);
    hf_buf_printf(&input, "url=%s\n\n", url);
    int st = hf_git_run(argv, input.ptr, &got);
    hf_buf_free(&input);
    for (char *line = got.ptr; st == 0 && line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > 9 && !strncmp(line, "password=", 9)) {
            hf_buf_put(out, line + 9, n - 9);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (got.ptr) explicit_bzero(got.ptr, got.cap);
    hf_buf_free(&got);
    if (out->len) return 0;
    /* The Hugging Face token is for Hugging Face: a third-party LFS server never gets it. */
    if (!hf_url_is_hf_endpoint(url))
        return hf_error_set(HF_ENOTFOUND,
                            "no credentials for the LFS server %s: `git credential fill` gave none (the Hugging "
                            "Face token goes only to HF_ENDPOINT's host)",
                            url);
    int rc = hf_config_token(out);
    return rc ? hf_error_set(HF_ENOTFOUND,
                             "no credentials for the LFS server: `git credential fill` gave none and no "
                             "Hugging Face token is set (HF_TOKEN or `hfgit login`)")
              : 0;
}

void hf_git_secret_free(hf_buf *secret)
{
    if (secret->ptr) explicit_bzero(secret->ptr, secret->cap);
    hf_buf_free(secret);
}
