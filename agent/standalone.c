/*
 * standalone.c: the batch API run by the agent itself, for lfs.standalonetransferagent (see agent.h).
 *
 * git-lfs hands an object to a custom agent only when the server's batch answer names that agent, and
 * servers (huggingface.co among them) answer "basic" for downloads. In standalone mode git-lfs skips the
 * batch API and sends "action": null; then the agent must find the endpoint and the credentials as git-lfs
 * would (reference/git-lfs-3.3.0.md §7.1, §7.6):
 *   endpoint     lfs.pushurl (uploads), lfs.url, remote.<r>.lfspushurl (uploads), remote.<r>.lfsurl, each
 *                from git config, then from the work tree's .lfsconfig; else the remote's URL
 *                (remote.<r>.pushurl for uploads, remote.<r>.url; or the remote itself when git-lfs
 *                named a URL) + ".git/info/lfs"
 *   credentials  none at first (git-lfs's default access mode); after a 401, `git credential fill` for the
 *                endpoint's protocol and host, sent as Basic; `approve` once accepted, `reject` when
 *                refused. They live in this process only, and are never printed or traced.
 * git runs as a child with argv (no shell, common/git_lookup.h), so a remote name cannot inject anything.
 * (refresh.c looks up the same endpoint for expired part URLs with a bearer token; this file follows
 * git-lfs's 401-then-Basic flow, which works with any LFS server.)
 */
#include "agent.h"

#include "../common/config.h"
#include "../common/error.h"
#include "../common/git_lookup.h"
#include "../common/trace.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *g_remote;          /* from init; "origin" when git-lfs named none */
static hf_buf g_auth;           /* "Authorization: Basic ..." once filled, else empty */
static hf_buf g_cred;           /* the `git credential fill` answer, for approve/reject */
static int g_approved;

void agent_standalone_set_remote(const char *remote)
{
    free(g_remote);
    g_remote = remote && *remote ? strdup(remote) : NULL;
}

const char *agent_standalone_authorization(void)
{
    return g_auth.len ? g_auth.ptr : NULL;
}

/* One config value (trimmed) into out; 0 when set and not empty. file: NULL for git's own config. */
static int git_config(const char *key, const char *file, hf_buf *out)
{
    const char *argv_plain[] = {"git", "config", "--get", key, NULL};
    const char *argv_file[] = {"git", "config", "--file", file, "--get", key, NULL};
    if (hf_git_run(file ? argv_file : argv_plain, NULL, out) != 0) return -1;
    while (out->len && (out->ptr[out->len - 1] == '\n' || out->ptr[out->len - 1] == '\r'))
        out->ptr[--out->len] = '\0';
    return out->len ? 0 : -1;
}

/* <work tree>/.lfsconfig, or empty when not in a work tree. */
static void lfsconfig_path(hf_buf *out)
{
    const char *argv[] = {"git", "rev-parse", "--show-toplevel", NULL};
    if (hf_git_run(argv, NULL, out) != 0) {
        hf_buf_clear(out);
        return;
    }
    while (out->len && out->ptr[out->len - 1] == '\n')
        out->ptr[--out->len] = '\0';
    if (out->len) hf_buf_puts(out, "/.lfsconfig");
}

/* The batch URL for op, found as git-lfs finds its endpoint. */
static int find_batch_url(hf_lfs_operation op, hf_buf *batch_url)
{
    const char *remote = g_remote ? g_remote : "origin";
    int up = op == HF_LFS_UPLOAD;
    hf_buf key = HF_BUF_INIT, val = HF_BUF_INIT, lfsconfig = HF_BUF_INIT;
    int rc = -1;
    lfsconfig_path(&lfsconfig);
    /* endpoint keys in git-lfs's order; the remote-named ones only for a remote name, not a URL */
    const char *keys[] = {up ? "lfs.pushurl" : NULL, "lfs.url", up ? "lfspushurl" : NULL, "lfsurl"};
    for (size_t i = 0; i < 4 && rc != 0; i++) {
        if (!keys[i]) continue;
        hf_buf_clear(&key);
        if (i < 2)
            hf_buf_puts(&key, keys[i]);
        else
            hf_buf_printf(&key, "remote.%s.%s", remote, keys[i]);
        if (git_config(key.ptr, NULL, &val) == 0 ||
            (lfsconfig.len && access(lfsconfig.ptr, R_OK) == 0 && git_config(key.ptr, lfsconfig.ptr, &val) == 0))
            rc = 0;
    }
    if (rc == 0) { /* an endpoint: the batch URL is <endpoint>/objects/batch */
        hf_buf_clear(batch_url);
        rc = hf_buf_printf(batch_url, "%s%sobjects/batch", val.ptr, val.ptr[val.len - 1] == '/' ? "" : "/");
    } else {
        if (strstr(remote, "://")) {
            hf_buf_clear(&val);
            rc = hf_buf_puts(&val, remote);
        } else {
            hf_buf_clear(&key);
            hf_buf_printf(&key, "remote.%s.%s", remote, up ? "pushurl" : "url");
            rc = git_config(key.ptr, NULL, &val);
            if (rc != 0 && up) {
                hf_buf_clear(&key);
                hf_buf_printf(&key, "remote.%s.url", remote);
                rc = git_config(key.ptr, NULL, &val);
            }
        }
        rc = rc != 0 ? hf_error_set(HF_ENOTFOUND,
                                    "no LFS endpoint: the remote \"%s\" has no URL and lfs.url is not set", remote)
                     : hf_lfs_batch_url(batch_url, val.ptr);
    }
    hf_buf_free(&key);
    hf_buf_free(&val);
    hf_buf_free(&lfsconfig);
    return rc;
}

/* "protocol=…\nhost=…\n" for url (its scheme and authority without user info). */
static int credential_query(const char *url, hf_buf *out)
{
    const char *sep = strstr(url, "://");
    if (!sep) return -1;
    const char *host = sep + 3, *end = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(end - host));
    if (at) host = at + 1;
    hf_buf_clear(out);
    return hf_buf_printf(out, "protocol=%.*s\nhost=%.*s\n", (int)(sep - url), url, (int)(end - host), host);
}

static void credential_forget(void)
{
    if (g_auth.len) memset(g_auth.ptr, 0, g_auth.len);
    if (g_cred.len) memset(g_cred.ptr, 0, g_cred.len);
    hf_buf_clear(&g_auth);
    hf_buf_clear(&g_cred);
    g_approved = 0;
}

/* `git credential approve|reject` with what fill answered. */
static void credential_tell(const char *verb)
{
    hf_buf in = HF_BUF_INIT, out = HF_BUF_INIT;
    const char *argv[] = {"git", "credential", verb, NULL};
    if (hf_buf_printf(&in, "%s\n", hf_buf_cstr(&g_cred)) == 0) hf_git_run(argv, in.ptr, &out);
    if (in.len) memset(in.ptr, 0, in.len);
    hf_buf_free(&in);
    hf_buf_free(&out);
}

/* Fills g_auth from `git credential fill` for url. */
static int credential_fill(const char *url)
{
    hf_buf query = HF_BUF_INIT, ans = HF_BUF_INIT, pair = HF_BUF_INIT;
    const char *argv[] = {"git", "credential", "fill", NULL};
    credential_forget();
    int rc = credential_query(url, &query) == 0 && hf_buf_putc(&query, '\n') == 0 ? hf_git_run(argv, query.ptr, &ans) : -1;
    const char *user = NULL, *pass = NULL;
    size_t ulen = 0, plen = 0;
    for (const char *p = hf_buf_cstr(&ans); rc == 0 && *p;) {
        size_t n = strcspn(p, "\n");
        if (!strncmp(p, "username=", 9)) user = p + 9, ulen = n - 9;
        if (!strncmp(p, "password=", 9)) pass = p + 9, plen = n - 9;
        p += n + (p[n] == '\n');
    }
    if (rc == 0 && pass) {
        hf_buf_printf(&pair, "%.*s:%.*s", (int)ulen, user ? user : "", (int)plen, pass);
        unsigned char *b64 = malloc(4 * (pair.len / 3 + 1) + 1);
        if (b64) {
            EVP_EncodeBlock(b64, (const unsigned char *)pair.ptr, (int)pair.len);
            hf_buf_printf(&g_auth, "Authorization: Basic %s", (const char *)b64);
            memset(b64, 0, strlen((const char *)b64));
            free(b64);
        }
        /* approve/reject want the whole description back: protocol, host, username, password */
        hf_buf_put(&g_cred, ans.ptr, ans.len);
    }
    if (pair.len) memset(pair.ptr, 0, pair.len);
    if (ans.len) memset(ans.ptr, 0, ans.len);
    hf_buf_free(&pair);
    hf_buf_free(&ans);
    hf_buf_free(&query);
    return g_auth.len ? 0 : -1;
}

int agent_standalone_batch(hf_lfs_operation op, const char *oid, int64_t size, hf_batch_response **out,
                           const hf_batch_object **obj)
{
    hf_buf url = HF_BUF_INIT;
    hf_http_client *http = NULL;
    *out = NULL;
    *obj = NULL;
    int rc = find_batch_url(op, &url);
    if (rc == 0) rc = hf_http_client_new(&http);
    hf_batch_item item = {oid, size};
    hf_batch_request req = HF_BATCH_REQUEST_INIT;
    req.url = url.ptr;
    req.operation = op;
    req.objects = &item;
    req.count = 1;
    req.multipart = op == HF_LFS_UPLOAD; /* the Hub hands out part URLs for large uploads */
    for (int round = 0; rc == 0 && round < 2; round++) {
        req.authorization = agent_standalone_authorization();
        rc = hf_batch_send(http, &req, out);
        if (rc == 0) {
            if (g_auth.len && !g_approved) {
                credential_tell("approve");
                g_approved = 1;
            }
            break;
        }
        if (rc != HF_EAUTH || hf_error_last_http_status() != 401 || round == 1) break;
        /* 401: credentials as git-lfs finds them, then once more */
        if (g_auth.len) credential_tell("reject");
        hf_trace("agent: %s: the LFS server wants credentials; asking `git credential fill`", oid);
        if (credential_fill(url.ptr) != 0) {
            rc = hf_error_set_http(HF_EAUTH, 401,
                                   "the LFS server asks for credentials and `git credential fill` gave none "
                                   "(set up a credential helper with your token)");
            break;
        }
        hf_batch_response_free(*out);
        *out = NULL;
        rc = 0;
    }
    if (rc == HF_EAUTH && g_auth.len && hf_error_last_http_status() == 401) {
        credential_tell("reject");
        credential_forget();
    }
    if (rc == 0) {
        *obj = hf_batch_response_find(*out, oid);
        if (!*obj)
            rc = hf_error_set(HF_EINVAL, "the LFS server did not answer for %s", oid);
        else if ((*obj)->error_code)
            rc = hf_error_set_http((*obj)->error_code == 404 ? HF_ENOTFOUND : HF_EHTTP, (*obj)->error_code,
                                   "the LFS server refused %s: [%d] %s", oid, (*obj)->error_code,
                                   (*obj)->error_message);
        else if (op == HF_LFS_DOWNLOAD && !(*obj)->download)
            rc = hf_error_set(HF_ENOTFOUND, "the LFS server offers no download of %s", oid);
    }
    if (rc < 0) {
        hf_buf redacted = HF_BUF_INIT;
        hf_http_redact_url(url.ptr ? url.ptr : "", &redacted);
        hf_error_prefix("standalone %s via %s: ", op == HF_LFS_UPLOAD ? "upload" : "download",
                        hf_buf_cstr(&redacted));
        hf_buf_free(&redacted);
        hf_batch_response_free(*out);
        *out = NULL;
        *obj = NULL;
    }
    hf_http_client_free(http);
    hf_buf_free(&url);
    return rc;
}

int agent_incomplete_dir(hf_buf *out)
{
    const char *argv[] = {"git", "rev-parse", "--git-common-dir", NULL};
    hf_buf dir = HF_BUF_INIT;
    int rc = hf_git_run(argv, NULL, &dir);
    while (dir.len && dir.ptr[dir.len - 1] == '\n')
        dir.ptr[--dir.len] = '\0';
    char *abs = rc == 0 && dir.len ? realpath(dir.ptr, NULL) : NULL;
    hf_buf_free(&dir);
    if (!abs)
        return hf_error_set(HF_ENOTFOUND, "cannot find the git directory of %s (git rev-parse --git-common-dir)",
                            "the current folder");
    hf_buf_clear(out);
    rc = hf_buf_printf(out, "%s/lfs/incomplete", abs);
    free(abs);
    return rc;
}
