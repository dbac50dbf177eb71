/*
 * cmd_login.c: `hfgit login`, `hfgit whoami` and `hfgit logout`, huggingface-cli's token commands.
 *
 * The token lives in the file huggingface_hub uses (common/config.h: HF_TOKEN_PATH, else $HF_HOME/token), so
 * that hfgit, git-lfs-hfmultipart and huggingface_hub share one login. A token is checked against the hub's
 * GET /api/whoami-v2 before it is saved: a mistyped token is refused at login rather than at the first push.
 * The file is written to a temporary file of mode 0600 in the same folder and renamed over the old one, so a
 * crash leaves either the old or the new token, never half of one, and no other user can read it at any time.
 * The token itself never reaches stdout, stderr or a message.
 */
#include "cli.h"

#include "../common/config.h"
#include "../common/fsutil.h"
#include "../common/http.h"
#include "../common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const char login_help[] =
    "usage: hfgit login [--token TOKEN]\n"
    "\n"
    "Checks a token against the hub (GET <endpoint>/api/whoami-v2) and saves it in the token file\n"
    "($HF_TOKEN_PATH, else $HF_HOME/token, HF_HOME defaulting to ~/.cache/huggingface), mode 0600, replaced\n"
    "atomically. Without --token the token is read from the terminal without echo, or from the first line of\n"
    "stdin when stdin is not a terminal (`hfgit login < file`): prefer that to --token, which other users can\n"
    "see in the process list. A token the hub refuses exits 3 and saves nothing. The endpoint is HF_ENDPOINT\n"
    "(default https://huggingface.co).\n"
    "\n"
    "  --token TOKEN      the token to save\n";

static const char whoami_help[] = "usage: hfgit whoami\n"
                                  "\n"
                                  "Prints the user the hub knows the token by (HF_TOKEN, else the token file)\n"
                                  "and the endpoint asked, never the token. Exits 3 when there is no token or\n"
                                  "the hub refuses it.\n";

static const char logout_help[] = "usage: hfgit logout\n"
                                  "\n"
                                  "Removes the token file written by `hfgit login`. HF_TOKEN, when set, still\n"
                                  "wins over the file: unset it too.\n";

/* 1 when HF_TOKEN is set and not empty: it wins over the token file. */
static int env_token_set(void)
{
    const char *v = getenv("HF_TOKEN");
    return v && *v;
}

/* Wipes and frees a buffer that held a token. */
static void token_free(hf_buf *b)
{
    if (b->ptr) explicit_bzero(b->ptr, b->cap);
    hf_buf_free(b);
}

/* GET /api/whoami-v2 with the token; *name receives the "name" member (malloc'd). HF_EAUTH when the hub
 * refuses the token, HF_ENET when it cannot be reached, HF_EHTTP/HF_ENOTFOUND for other answers. */
static int whoami_request(const char *endpoint, const char *token, char **name)
{
    hf_buf url = HF_BUF_INIT, excerpt = HF_BUF_INIT;
    hf_http_client *http = NULL;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    hf_json *doc = NULL;
    static const char *const headers[] = {"Accept: application/json", NULL};
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    *name = NULL;
    hf_buf_printf(&url, "%s/api/whoami-v2", endpoint);
    req.method = "GET";
    req.url = url.ptr;
    req.headers = headers;
    req.bearer_token = token;
    int rc = hf_http_client_new(&http);
    if (rc == 0 && (rc = hf_http_send(http, &req, &resp)) < 0) hf_error_prefix("%s: ", url.ptr);
    if (rc < 0) goto out;
    hf_http_error_excerpt(resp.body.ptr, resp.body.len, 200, &excerpt);
    if (resp.status == 401 || resp.status == 403) {
        rc = hf_error_set_http(HF_EAUTH, resp.status, "the hub at %s refused the token: HTTP %ld \"%s\"",
                               endpoint, resp.status, hf_buf_cstr(&excerpt));
    } else if (resp.status != 200) {
        rc = hf_error_set_http(hf_http_status_error(resp.status), resp.status, "%s: HTTP %ld \"%s\"", url.ptr,
                               resp.status, hf_buf_cstr(&excerpt));
    } else if (hf_json_parse(&doc, hf_buf_cstr(&resp.body), resp.body.len) < 0 ||
               !(*name = hf_json_strdup(doc, hf_json_get(doc, 0, "name")))) {
        rc = hf_error_set(HF_EINVAL, "%s answered without a user name: \"%s\"", url.ptr, hf_buf_cstr(&excerpt));
    }
out:
    hf_json_free(doc);
    hf_http_response_reset(&resp);
    hf_http_client_free(http);
    hf_buf_free(&url);
    hf_buf_free(&excerpt);
    return rc;
}

/* The terminal's settings while echo is off, for the signal handler: Ctrl-C at the prompt must not leave the
 * user's shell without echo. */
static struct termios saved_tty;

static void restore_tty(int sig)
{
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty); /* async-signal-safe */
    (void)signal(sig, SIG_DFL);
    (void)raise(sig);
}

/* One line from stdin into tok; on a terminal with echo off and a prompt on stderr. */
static int read_token(hf_buf *tok)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        saved_tty = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)fputs("Token (input is hidden): ", stderr);
        (void)fflush(stderr);
        (void)signal(SIGINT, restore_tty);
        (void)signal(SIGTERM, restore_tty);
        (void)signal(SIGHUP, restore_tty);
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        (void)signal(SIGINT, SIG_DFL);
        (void)signal(SIGTERM, SIG_DFL);
        (void)signal(SIGHUP, SIG_DFL);
        (void)fputc('\n', stderr);
    }
    int rc = 0;
    if (n > 0) hf_buf_put(tok, line, (size_t)n);
    while (tok->len && (tok->ptr[tok->len - 1] == '\n' || tok->ptr[tok->len - 1] == '\r' ||
                        tok->ptr[tok->len - 1] == ' ' || tok->ptr[tok->len - 1] == '\t'))
        tok->ptr[--tok->len] = '\0';
    if (tok->len == 0) rc = hf_error_set(HF_EINVAL, "no token given (empty input)");
    for (size_t i = 0; rc == 0 && i < tok->len; i++)
        if ((unsigned char)tok->ptr[i] <= ' ' || tok->ptr[i] == 0x7f)
            rc = hf_error_set(HF_EINVAL, "the token contains a space or control character at byte %zu", i);
    if (line) explicit_bzero(line, cap);
    free(line);
    return rc;
}

/* The endpoint (HF_ENDPOINT or the default) into endpoint, then who the token belongs to there: the one round
 * trip login and whoami share. */
static int ask_whoami(hf_buf *endpoint, const char *token, char **name)
{
    int rc = hf_config_endpoint(endpoint);
    return rc < 0 ? rc : whoami_request(endpoint->ptr, token, name);
}

/* Writes the token to path: a 0600 temporary file in the same folder, synced, renamed over path. */
static int save_token(const char *path, const hf_buf *tok)
{
    hf_buf tmp = HF_BUF_INIT;
    /* 0700 for the folders it creates: they hold a secret */
    int rc = hf_mkdir_parents(path, 0700), fd = -1;
    if (rc < 0) goto out;
    hf_buf_printf(&tmp, "%s.tmp-XXXXXX", path);
    if ((fd = mkstemp(tmp.ptr)) < 0) { /* mkstemp creates it 0600 */
        rc = hf_error_set(HF_EIO, "cannot create a file next to %s: %s", path, strerror(errno));
        goto out;
    }
    ssize_t n = write(fd, tok->ptr, tok->len);
    int failed = n != (ssize_t)tok->len || fchmod(fd, 0600) < 0 || fsync(fd) < 0;
    int err = failed ? (errno ? errno : EIO) : 0;
    /* close exactly once, whichever step failed (a failed close still releases the descriptor) */
    if (close(fd) < 0 && !failed) {
        failed = 1;
        err = errno;
    }
    fd = -1;
    if (failed) {
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", tmp.ptr, strerror(err));
        (void)unlink(tmp.ptr);
        goto out;
    }
    if (rename(tmp.ptr, path) < 0) {
        rc = hf_error_set(HF_EIO, "cannot rename %s to %s: %s", tmp.ptr, path, strerror(errno));
        (void)unlink(tmp.ptr);
    }
out:
    if (fd >= 0) {
        close(fd);
        (void)unlink(tmp.ptr);
    }
    hf_buf_free(&tmp);
    return rc;
}

int hf_cli_login(int argc, char **argv)
{
    const char *given = NULL;
    const hf_cli_opt opts[] = {{"token", 0, HF_CLI_OPT_STRING, &given}, {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"login", login_help, opts, 0, 0, NULL, 0};
    hf_buf tok = HF_BUF_INIT, endpoint = HF_BUF_INIT, path = HF_BUF_INIT;
    char *name = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out;
    if ((rc = hf_init()) < 0) {
        rc = hf_cli_fail("login", rc);
        goto out;
    }
    if (given) {
        hf_buf_puts(&tok, given);
        /* --token shows in `ps` and /proc/<pid>/cmdline for as long as the whoami round trip takes: blank our
         * copy of it there now (a short window remains; stdin has none). */
        memset((char *)given, 'x', strlen(given));
    }
    if ((given ? (tok.len ? 0 : hf_error_set(HF_EINVAL, "--token is empty")) : read_token(&tok)) < 0) {
        (void)fprintf(stderr, "hfgit login: %s; nothing was saved\n", hf_error_last_message());
        rc = HF_CLI_EXIT_USAGE;
    } else if ((rc = hf_config_token_path(&path)) < 0 || (rc = ask_whoami(&endpoint, tok.ptr, &name)) < 0 ||
               (rc = save_token(path.ptr, &tok)) < 0) {
        (void)fprintf(stderr, "hfgit login: %s; nothing was saved\n", hf_error_last_message());
        rc = hf_cli_exit_code(rc);
    } else {
        hf_cli_say("Logged in as %s at %s; token saved to %s\n", name, endpoint.ptr, path.ptr);
        if (env_token_set())
            hf_cli_note("hfgit login: note: HF_TOKEN is set and wins over the saved token\n");
        rc = 0;
    }
    hf_shutdown();
out:
    free(name);
    token_free(&tok);
    hf_buf_free(&endpoint);
    hf_buf_free(&path);
    free(a.pos);
    return rc;
}

int hf_cli_whoami(int argc, char **argv)
{
    const hf_cli_opt opts[] = {{NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"whoami", whoami_help, opts, 0, 0, NULL, 0};
    hf_buf tok = HF_BUF_INIT, endpoint = HF_BUF_INIT;
    char *name = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out;
    if ((rc = hf_init()) < 0) {
        rc = hf_cli_fail("whoami", rc);
        goto out;
    }
    rc = hf_config_token(&tok);
    if (rc == HF_ENOTFOUND) {
        (void)fprintf(stderr, "hfgit whoami: not logged in (%s)\n", hf_error_last_message());
        rc = HF_CLI_EXIT_AUTH;
    } else if (rc < 0 || (rc = ask_whoami(&endpoint, tok.ptr, &name)) < 0) {
        rc = hf_cli_fail("whoami", rc);
    } else {
        (void)printf("%s\nendpoint: %s\n", name, endpoint.ptr);
        rc = 0;
    }
    hf_shutdown();
out:
    free(name);
    token_free(&tok);
    hf_buf_free(&endpoint);
    free(a.pos);
    return rc;
}

int hf_cli_logout(int argc, char **argv)
{
    const hf_cli_opt opts[] = {{NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"logout", logout_help, opts, 0, 0, NULL, 0};
    hf_buf path = HF_BUF_INIT;
    int removed = 0, rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out;
    if ((rc = hf_config_token_path(&path)) < 0) {
        rc = hf_cli_fail("logout", rc);
    } else if ((removed = unlink(path.ptr) == 0) == 0 && errno != ENOENT) {
        (void)fprintf(stderr, "hfgit logout: cannot remove %s: %s\n", path.ptr, strerror(errno));
        rc = HF_CLI_EXIT_FAILED;
    } else {
        hf_cli_say(removed ? "Logged out: removed %s\n" : "Not logged in (no %s)\n", path.ptr);
        if (env_token_set())
            hf_cli_note("hfgit logout: note: HF_TOKEN is still set in the environment and still used\n");
        rc = 0;
    }
out:
    hf_buf_free(&path);
    free(a.pos);
    return rc;
}
