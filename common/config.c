/* config.c: token and endpoint lookup, Hub repo URLs and the LFS batch URL (see config.h). */
#include "config.h"
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_ENDPOINT "https://huggingface.co"
#define TOKEN_FILE_MAX 65536 /* a token is ~40 bytes; anything huge is not a token file */
#define REPO_PART_MAX 96     /* the Hub's limit on a namespace or a repo name */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Sets out to s[0..n) without surrounding whitespace. */
static int put_trimmed(hf_buf *out, const char *s, size_t n)
{
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    hf_buf_clear(out);
    return hf_buf_put(out, s, n);
}

static int token_check(const hf_buf *tok, const char *where)
{
    for (size_t i = 0; i < tok->len; i++) {
        unsigned char c = (unsigned char)tok->ptr[i];
        if (c <= ' ' || c == 0x7f)
            return hf_error_set(HF_EINVAL,
                                "the token from %s contains a space or control character at byte %zu; "
                                "it must be one word (run `hfgit login` again or fix the file)",
                                where, i);
    }
    return 0;
}

static const char *home_dir(void)
{
    const char *home = getenv("HOME");
    if (home && *home)
        return home;
    struct passwd pw, *res = NULL;
    static _Thread_local char pwbuf[1024];
    if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res && res->pw_dir)
        return res->pw_dir;
    return NULL;
}

/* The token file path huggingface_hub would use. */
static int token_path(hf_buf *path)
{
    const char *p = getenv("HF_TOKEN_PATH");
    if (p && *p)
        return hf_buf_puts(path, p);
    const char *hf_home = getenv("HF_HOME");
    if (hf_home && *hf_home)
        return hf_buf_printf(path, "%s/token", hf_home);
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg)
        return hf_buf_printf(path, "%s/huggingface/token", xdg);
    const char *home = home_dir();
    if (!home)
        return hf_error_set(HF_ENOTFOUND, "no token: HF_TOKEN is not set and neither HF_HOME nor HOME is "
                                          "set to find the token file");
    return hf_buf_printf(path, "%s/.cache/huggingface/token", home);
}

int hf_config_token_path(hf_buf *out)
{
    hf_buf_clear(out);
    return token_path(out);
}

static int read_small_file(const char *path, hf_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? HF_ENOTFOUND
                   : hf_error_set(HF_EIO, "cannot open token file %s: %s", path, strerror(errno));
    int rc = 0;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = hf_error_set(HF_EIO, "cannot read token file %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > TOKEN_FILE_MAX) {
            rc = hf_error_set(HF_EINVAL, "token file %s is larger than %d bytes: not a token file", path,
                              TOKEN_FILE_MAX);
            break;
        }
        if ((rc = hf_buf_put(out, chunk, (size_t)n)) != 0)
            break;
    }
    close(fd);
    return rc;
}

int hf_config_token(hf_buf *out)
{
    hf_buf_clear(out);
    const char *env = getenv("HF_TOKEN");
    if (env) {
        int rc = put_trimmed(out, env, strlen(env));
        if (rc)
            return rc;
        if (out->len) { /* an empty HF_TOKEN means "unset", as in huggingface_hub */
            if ((rc = token_check(out, "HF_TOKEN")) != 0) {
                explicit_bzero(out->ptr, out->cap);
                hf_buf_clear(out);
            }
            return rc;
        }
    }

    hf_buf path = HF_BUF_INIT, raw = HF_BUF_INIT;
    int rc = token_path(&path);
    if (rc == 0) {
        rc = read_small_file(path.ptr, &raw);
        if (rc == HF_ENOTFOUND)
            rc = hf_error_set(HF_ENOTFOUND, "no token: HF_TOKEN is not set and %s does not exist "
                                            "(set HF_TOKEN or run `hfgit login`)",
                              path.ptr);
    }
    if (rc == 0)
        rc = put_trimmed(out, raw.ptr ? raw.ptr : "", raw.len);
    if (rc == 0 && out->len == 0)
        rc = hf_error_set(HF_ENOTFOUND, "no token: HF_TOKEN is not set and %s is empty", path.ptr);
    if (rc == 0)
        rc = token_check(out, path.ptr);
    if (raw.ptr) /* the file held a secret: do not leave it in freed memory */
        explicit_bzero(raw.ptr, raw.cap);
    hf_buf_free(&raw);
    hf_buf_free(&path);
    if (rc) {
        if (out->ptr)
            explicit_bzero(out->ptr, out->cap);
        hf_buf_clear(out);
    }
    return rc;
}

static int has_http_scheme(const char *url)
{
    return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

int hf_config_endpoint(hf_buf *out)
{
    hf_buf_clear(out);
    const char *env = getenv("HF_ENDPOINT");
    if (!env || !*env)
        return hf_buf_puts(out, DEFAULT_ENDPOINT);
    int rc = put_trimmed(out, env, strlen(env));
    if (rc)
        return rc;
    while (out->len && out->ptr[out->len - 1] == '/')
        out->ptr[--out->len] = '\0';
    if (!has_http_scheme(out->ptr)) {
        hf_buf_clear(out);
        return hf_error_set(HF_EINVAL, "HF_ENDPOINT must start with http:// or https://");
    }
    return 0;
}

/* "scheme://host:port" of an http(s) url, lower-cased, port always spelled out; -1 for anything else. */
static int url_origin(const char *url, hf_buf *out)
{
    hf_buf_clear(out);
    int tls = !strncasecmp(url, "https://", 8);
    if (!tls && strncasecmp(url, "http://", 7)) return -1;
    const char *h = url + (tls ? 8 : 7);
    size_t n = strcspn(h, "/?#");
    const char *at = memchr(h, '@', n);
    if (at) { /* credentials in the URL are not part of where it goes */
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    const char *bracket = h[0] == '[' ? memchr(h, ']', n) : NULL;
    const char *colon = memchr(bracket ? bracket : h, ':', n - (size_t)((bracket ? bracket : h) - h));
    size_t hl = colon ? (size_t)(colon - h) : n;
    if (hl == 0) return -1;
    if (hf_buf_puts(out, tls ? "https://" : "http://")) return -1;
    for (size_t i = 0; i < hl; i++)
        if (hf_buf_putc(out, (char)tolower((unsigned char)h[i]))) return -1;
    if (colon && (size_t)(colon - h) + 1 < n)
        return hf_buf_putc(out, ':') || hf_buf_put(out, colon + 1, n - hl - 1) ? -1 : 0;
    return hf_buf_puts(out, tls ? ":443" : ":80") ? -1 : 0;
}

int hf_url_is_hf_endpoint(const char *url)
{
    hf_buf ep = HF_BUF_INIT, a = HF_BUF_INIT, b = HF_BUF_INIT;
    int same = url && hf_config_endpoint(&ep) == 0 && url_origin(url, &a) == 0 && url_origin(ep.ptr, &b) == 0 &&
               strcmp(a.ptr, b.ptr) == 0;
    hf_buf_free(&ep);
    hf_buf_free(&a);
    hf_buf_free(&b);
    return same;
}

static int id_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static int id_part_check(const char *id, const char *part, size_t n, const char *what)
{
    if (n == 0)
        return hf_error_set(HF_EINVAL, "invalid repo id '%s': empty %s (expected namespace/name)", id, what);
    if (n > REPO_PART_MAX)
        return hf_error_set(HF_EINVAL, "invalid repo id '%s': %s longer than %d characters", id, what,
                            REPO_PART_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!id_char_ok(part[i]))
            return hf_error_set(HF_EINVAL,
                                "invalid repo id '%s': %s may only contain letters, digits, '_', '-' and '.'",
                                id, what);
        if (i + 1 < n && (part[i] == '-' || part[i] == '.') && part[i + 1] == part[i])
            return hf_error_set(HF_EINVAL, "invalid repo id '%s': '--' and '..' are not allowed", id);
    }
    if (part[0] == '-' || part[0] == '.' || part[n - 1] == '-' || part[n - 1] == '.')
        return hf_error_set(HF_EINVAL, "invalid repo id '%s': %s must not start or end with '-' or '.'", id,
                            what);
    return 0;
}

int hf_repo_id_validate(const char *repo_id)
{
    if (!repo_id)
        return hf_error_set(HF_EINVAL, "no repo id given (expected namespace/name)");
    const char *slash = strchr(repo_id, '/');
    if (!slash)
        return hf_error_set(HF_EINVAL, "invalid repo id '%s': expected namespace/name", repo_id);
    if (strchr(slash + 1, '/'))
        return hf_error_set(HF_EINVAL, "invalid repo id '%s': more than one '/' (expected namespace/name)",
                            repo_id);
    int rc = id_part_check(repo_id, repo_id, (size_t)(slash - repo_id), "namespace");
    return rc ? rc : id_part_check(repo_id, slash + 1, strlen(slash + 1), "name");
}

int hf_repo_url(hf_buf *out, const char *endpoint, const char *repo_type, const char *repo_id)
{
    hf_buf_clear(out);
    const char *prefix;
    if (!repo_type || !*repo_type || !strcmp(repo_type, "model"))
        prefix = "";
    else if (!strcmp(repo_type, "dataset"))
        prefix = "datasets/";
    else if (!strcmp(repo_type, "space"))
        prefix = "spaces/";
    else
        return hf_error_set(HF_EINVAL, "unknown repo type '%s' (use model, dataset or space)", repo_type);
    if (!endpoint || !has_http_scheme(endpoint))
        return hf_error_set(HF_EINVAL, "endpoint '%s' must start with http:// or https://",
                            endpoint ? endpoint : "(null)");
    int rc = hf_repo_id_validate(repo_id);
    if (rc)
        return rc;
    size_t n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/')
        n--;
    if ((rc = hf_buf_put(out, endpoint, n)) != 0)
        return rc;
    return hf_buf_printf(out, "/%s%s", prefix, repo_id);
}

int hf_url_strip_credentials(hf_buf *out, const char *url)
{
    hf_buf_clear(out);
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end)
        return hf_buf_puts(out, url);
    const char *auth = scheme_end + 3;
    size_t auth_len = strcspn(auth, "/?#");
    /* The last '@' of the authority ends the user info (a password may itself contain '@' unescaped). */
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return hf_buf_puts(out, url);
    int rc = hf_buf_put(out, url, (size_t)(auth - url));
    return rc ? rc : hf_buf_puts(out, at + 1);
}

/* git-lfs maps SSH remotes to HTTPS on the same host: "git@host:path" and "ssh://[user@]host[:port]/path"
 * both become "https://host/path" (the port is an SSH port, so it is dropped). */
static int ssh_to_https(hf_buf *out, const char *url)
{
    const char *host, *path;
    size_t host_len;
    if (!strncmp(url, "ssh://", 6)) {
        host = url + 6;
        const char *slash = strchr(host, '/');
        if (!slash)
            return HF_EINVAL;
        const char *at = memchr(host, '@', (size_t)(slash - host));
        if (at)
            host = at + 1;
        host_len = strcspn(host, ":/");
        path = slash + 1;
    } else {
        const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
        if (!colon || (slash && slash < colon) || !strncmp(colon, "://", 3))
            return HF_EINVAL; /* "a/b:c" is a local path and "file://..." another scheme, not scp syntax */
        host = url;
        const char *at = memchr(url, '@', (size_t)(colon - url));
        if (at)
            host = at + 1;
        host_len = (size_t)(colon - host);
        path = colon + 1;
        while (*path == '/')
            path++;
    }
    if (host_len == 0 || !*path)
        return HF_EINVAL;
    return hf_buf_printf(out, "https://%.*s/%s", (int)host_len, host, path);
}

int hf_lfs_batch_url(hf_buf *out, const char *repo_url)
{
    hf_buf_clear(out);
    int rc;
    if (repo_url && has_http_scheme(repo_url))
        rc = hf_url_strip_credentials(out, repo_url);
    else if (!repo_url || (rc = ssh_to_https(out, repo_url)) == HF_EINVAL)
        return hf_error_set(HF_EINVAL,
                            "cannot derive the LFS endpoint of '%s': expected an http://, https:// "
                            "or SSH remote URL",
                            repo_url ? repo_url : "(null)");
    if (rc)
        return rc;
    /* A query or fragment has no place in a remote URL; drop it rather than append after it. */
    out->len = strcspn(out->ptr, "?#");
    out->ptr[out->len] = '\0';
    if (out->len && out->ptr[out->len - 1] == '/')
        out->ptr[--out->len] = '\0';
    int dotgit = out->len >= 4 && !strcmp(out->ptr + out->len - 4, ".git");
    return hf_buf_puts(out, dotgit ? "/info/lfs/objects/batch" : ".git/info/lfs/objects/batch");
}
