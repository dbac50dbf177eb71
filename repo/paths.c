/* paths.c: small pure helpers: joining a path under the working tree, scrubbing a secret from a text. */
#include "repo.h"

#include "../common/error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int hf_path_join_checked(const char *workdir, const char *rel, char *out, size_t size)
{
    if (!workdir || !rel || !rel[0] || !out)
        return hf_error_set(HF_EINVAL, "hf_repo_path: empty path");
    if (rel[0] == '/')
        return hf_error_set(HF_EINVAL, "hf_repo_path: %s is absolute; give a path relative to the working tree",
                            rel);
    /* a ".." component could leave the working tree */
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return hf_error_set(HF_EINVAL, "hf_repo_path: %s leaves the working tree (\"..\")", rel);
        p += n;
        while (*p == '/')
            p++;
    }
    size_t wl = strlen(workdir), rl = strlen(rel);
    int slash = wl && workdir[wl - 1] != '/';
    if (wl + (size_t)slash + rl + 1 > size)
        return hf_error_set(HF_EINVAL, "hf_repo_path: %zu bytes are too few for %s%s%s", size, workdir,
                            slash ? "/" : "", rel);
    memcpy(out, workdir, wl);
    if (slash)
        out[wl++] = '/';
    memcpy(out + wl, rel, rl);
    out[wl + rl] = '\0';
    return 0;
}

int hf_repo_path(const hf_repo *repo, const char *relative, char *out, size_t size)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_path: no repository");
    return hf_path_join_checked(repo->workdir, relative, out, size);
}

void hf_scrub_secret(hf_buf *buf, const char *secret)
{
    static const char mask[] = "<token>";
    size_t sl = secret ? strlen(secret) : 0;
    if (!sl || !buf->ptr)
        return;
    hf_buf out = HF_BUF_INIT;
    const char *p = buf->ptr, *hit;
    int found = 0;
    while ((hit = strstr(p, secret))) {
        found = 1;
        hf_buf_put(&out, p, (size_t)(hit - p));
        hf_buf_puts(&out, mask);
        p = hit + sl;
    }
    if (!found)
        return;
    hf_buf_puts(&out, p);
    /* the original text held the secret: wipe it before giving the memory back */
    memset(buf->ptr, 0, buf->len);
    hf_buf_free(buf);
    *buf = out;
}

int hf_path_refuse_links(const char *root, const char *rel, int include_last)
{
    hf_buf p = HF_BUF_INIT;
    struct stat st;
    int rc = 0;
    size_t len = strlen(rel);
    for (size_t i = 1; rc == 0 && i <= len; i++) {
        if (i < len ? rel[i] != '/' : !include_last)
            continue;
        hf_buf_clear(&p);
        const char *sep = *root && root[strlen(root) - 1] != '/' ? "/" : "";
        if (hf_buf_printf(&p, "%s%s%.*s", root, sep, (int)i, rel) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if (lstat(p.ptr, &st) == 0 && S_ISLNK(st.st_mode))
            rc = hf_error_set(HF_EINVAL, "%.*s is a symbolic link in the work tree: %s is not written or "
                                         "deleted through it", (int)i, rel, rel);
    }
    hf_buf_free(&p);
    return rc;
}
