/*
 * remote_head.c: which branch an empty remote repository's HEAD names.
 *
 * libgit2 1.5 speaks git's protocol v0, where a repository without commits advertises no refs and no
 * capabilities at all, so its clone cannot know the remote's unborn HEAD and names the branch after the
 * user's init.defaultBranch (else master). Protocol v2's ls-refs answers "unborn HEAD symref-target:<ref>"
 * (git >= 2.31, what `git clone` uses): one stateless POST asks just that. Any failure (an old server, an
 * HTTP error, a malformed answer) means "the server does not say", and the caller falls back to main.
 */
#include "repo.h"

#include "../common/config.h"
#include "../common/error.h"
#include "../common/http.h"
#include "../common/trace.h"

#include <stdlib.h>
#include <string.h>

/* The ls-refs request in pkt-lines: command, delimiter, arguments, flush. */
static const char ls_refs_request[] = "0014command=ls-refs\n"
                                      "0001"
                                      "000csymrefs\n"
                                      "000bunborn\n"
                                      "0014ref-prefix HEAD\n"
                                      "0000";

int hf_remote_parse_ls_refs_head(const char *p, size_t len, hf_buf *out)
{
    const char *end = p + len;
    while (end - p >= 4) {
        char hex[5] = {p[0], p[1], p[2], p[3], 0};
        char *stop = NULL;
        long n = strtol(hex, &stop, 16);
        if (*stop || n < 0 || (n > 0 && n < 4) || n > end - p)
            return -1;
        if (n == 0)
            break; /* flush: the answer ends */
        const char *line = p + 4, *le = p + n;
        p = le;
        if (le > line && le[-1] == '\n')
            le--;
        /* "<oid> HEAD symref-target:..." or "unborn HEAD symref-target:..." */
        const char *sp = memchr(line, ' ', (size_t)(le - line));
        static const char head[] = " HEAD symref-target:refs/heads/";
        size_t hl = sizeof(head) - 1;
        if (!sp || (size_t)(le - sp) <= hl || memcmp(sp, head, hl) != 0)
            continue;
        const char *name = sp + hl, *ne = memchr(name, ' ', (size_t)(le - name));
        if (!ne)
            ne = le;
        hf_buf_clear(out);
        return hf_buf_put(out, name, (size_t)(ne - name)) < 0 ? -1 : 0;
    }
    return -1;
}

int hf_remote_unborn_head(const hf_repo *r, const char *url, hf_buf *out)
{
    hf_buf endpoint = HF_BUF_INIT;
    hf_http_client *http = NULL;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    static const char *const headers[] = {"Content-Type: application/x-git-upload-pack-request",
                                          "Accept: application/x-git-upload-pack-result", "Git-Protocol: version=2",
                                          NULL};
    int found = -1;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    if (hf_buf_put(&endpoint, url, n) == 0 && hf_buf_puts(&endpoint, "/git-upload-pack") == 0 &&
        hf_http_client_new(&http) == 0) {
        hf_http_request req = HF_HTTP_REQUEST_INIT;
        req.method = "POST";
        req.url = endpoint.ptr;
        req.headers = headers;
        req.body = ls_refs_request;
        req.body_len = sizeof(ls_refs_request) - 1;
        /* The token goes first only to the HF endpoint's host; another server sees the caller's own token
         * only once it asks for credentials (401), like git does, and never the user's HF_TOKEN. */
        req.bearer_token = hf_url_is_hf_endpoint(url) ? r->token : NULL;
        int sent = hf_http_send(http, &req, &resp);
        if (sent == 0 && resp.status == 401 && !req.bearer_token && (req.bearer_token = hf_repo_token_for(r, url))) {
            hf_http_response_reset(&resp);
            sent = hf_http_send(http, &req, &resp);
        }
        if (sent == 0 && resp.status == 200 && resp.body.len &&
            hf_remote_parse_ls_refs_head(resp.body.ptr, resp.body.len, out) == 0 && out->len)
            found = 0;
    }
    if (found == 0) {
        hf_buf name = HF_BUF_INIT;
        /* the branch name alone must make a valid refs/heads/<name> */
        if (hf_buf_printf(&name, "refs/heads/%s", out->ptr) < 0 || !git_reference_is_valid_name(name.ptr))
            found = -1;
        hf_buf_free(&name);
    }
    if (found < 0)
        hf_trace("the remote does not say which branch its HEAD names (protocol v2 ls-refs unborn)");
    hf_http_response_reset(&resp);
    hf_http_client_free(http);
    hf_buf_free(&endpoint);
    hf_error_clear();
    git_error_clear();
    return found;
}
