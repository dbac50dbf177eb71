/*
 * push.c: hf_repo_push. libgit2 runs no hooks, so the pre-push LFS upload happens in push_negotiation: after
 * the connection and the ref advertisement, before any git object is packed (libgit2 notes §2.3, §2.4). The
 * objects to upload are the LFS pointers reachable from the pushed commits and not from anything the remote
 * advertised (git-lfs §11). A ref the server rejects does not fail git_remote_push, so push_update_reference
 * records it and the push fails with the server's words.
 */
#include "queue.h"

#include "lfs_scan.h"
#include "lfs_transfer.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct push_ctx {
    hf_repo *repo;
    git_remote *remote;
    const hf_push_options *opts;
    const char *remote_url;
    hf_cred_state cred;
    int lfs_rc;              /* the LFS step's failure, if any */
    hf_buf rejected;         /* "refs/heads/x: reason" of refused refs */
    hf_buf remote_text;      /* what the server printed ("remote: ..."), for the rejection message */
    int negotiated;          /* push_negotiation ran: the ref advertisement was read */
} push_ctx;

#define REMOTE_TEXT_MAX 4096

/* Keeps the server's sideband text (a hook's explanation of a rejection) as one line, control characters
 * turned into spaces, up to REMOTE_TEXT_MAX bytes. */
static int sideband(const char *str, int len, void *payload)
{
    push_ctx *ctx = payload;
    for (int i = 0; i < len && ctx->remote_text.len < REMOTE_TEXT_MAX; i++) {
        char c = str[i];
        if ((unsigned char)c < 0x20 || c == 0x7f)
            c = ' ';
        if (c == ' ' && (ctx->remote_text.len == 0 || ctx->remote_text.ptr[ctx->remote_text.len - 1] == ' '))
            continue;
        hf_buf_putc(&ctx->remote_text, c);
    }
    return 0;
}

static int push_negotiation(const git_push_update **updates, size_t len, void *payload)
{
    push_ctx *ctx = payload;
    ctx->negotiated = 1;
    git_oid *tips = calloc(len ? len : 1, sizeof(*tips));
    const git_remote_head **heads = NULL;
    size_t nheads = 0;
    git_oid *hidden = NULL;
    hf_lfs_set set = HF_LFS_SET_INIT;
    size_t ntips = 0, nhidden = 0;
    const char *ref = NULL;
    int rc = 0;
    /* the remote is connected: git_remote_ls answers from the advertisement, no new connection */
    if (git_remote_ls(&heads, &nheads, ctx->remote) < 0)
        nheads = 0;
    hidden = calloc(len + nheads + 1, sizeof(*hidden));
    if (!tips || !hidden) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        if (git_oid_is_zero(&updates[i]->dst))
            continue; /* a deletion needs no LFS objects */
        tips[ntips++] = updates[i]->dst;
        if (!ref)
            ref = updates[i]->dst_refname;
        if (!git_oid_is_zero(&updates[i]->src))
            hidden[nhidden++] = updates[i]->src;
    }
    for (size_t i = 0; i < nheads; i++)
        hidden[nhidden++] = heads[i]->oid;
    if (ntips && (rc = hf_lfs_scan_range(ctx->repo->git, tips, ntips, hidden, nhidden, &set)) == 0 && set.count) {
        hf_lfs_xfer_options xo = HF_LFS_XFER_OPTIONS_INIT;
        xo.remote_url = ctx->remote_url;
        xo.ref = ref;
        xo.multipart = ctx->opts->multipart;
        xo.progress = ctx->opts->progress;
        xo.progress_payload = ctx->opts->progress_payload;
        xo.max_rate = ctx->opts->max_rate;
        rc = hf_lfs_transfer(ctx->repo, HF_LFS_UPLOAD, &set, &xo);
    }
    /* the last safe point: after this the pack is sent and the ref moves */
    if (rc == 0 && hf_command_cancel_requested(ctx->repo->cmd))
        rc = hf_error_set(HF_ECANCELLED, "cancelled (hf_command_cancel) before any git object was sent");
out:
    hf_lfs_set_free(&set);
    free(tips);
    free(hidden);
    if (rc < 0) {
        ctx->lfs_rc = rc;
        git_error_set_str(GIT_ERROR_NET, hf_error_last_message());
        return GIT_EUSER;
    }
    return 0;
}

static int push_update_reference(const char *refname, const char *status, void *payload)
{
    push_ctx *ctx = payload;
    if (status)
        hf_buf_printf(&ctx->rejected, "%s%s: %s", ctx->rejected.len ? "; " : "", refname, status);
    return 0;
}

static int push_credentials(git_credential **out, const char *url, const char *user, unsigned int allowed,
                            void *payload)
{
    push_ctx *ctx = payload;
    return hf_repo_credentials_cb(out, url, user, allowed, &ctx->cred);
}

int hf_repo_head_branch(hf_repo *r, hf_buf *out)
{
    git_reference *head = NULL;
    int rc = git_repository_head(&head, r->git);
    if (rc == GIT_EUNBORNBRANCH)
        return hf_error_set(HF_EINVAL, "nothing to push: the current branch has no commit yet");
    if (rc < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read HEAD");
    if (!git_reference_is_branch(head)) {
        git_reference_free(head);
        return hf_error_set(HF_EINVAL, "HEAD is detached: check out a branch before pushing");
    }
    rc = hf_buf_puts(out, git_reference_shorthand(head));
    git_reference_free(head);
    return rc < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : 0;
}

/* 1 when branch.<branch>.remote/merge already say remote and refs/heads/<branch>. */
static int upstream_is(hf_repo *r, const char *remote, const char *branch)
{
    git_buf b = GIT_BUF_INIT;
    hf_buf ref = HF_BUF_INIT;
    int same = 0;
    if (hf_buf_printf(&ref, "refs/heads/%s", branch) == 0 && git_branch_upstream_remote(&b, r->git, ref.ptr) == 0 &&
        strcmp(b.ptr, remote) == 0) {
        git_buf_dispose(&b);
        same = git_branch_upstream_merge(&b, r->git, ref.ptr) == 0 && strcmp(b.ptr, ref.ptr) == 0;
    }
    git_buf_dispose(&b);
    hf_buf_free(&ref);
    git_error_clear();
    return same;
}

static int set_upstream(hf_repo *r, const char *remote, const char *branch)
{
    git_config *cfg = NULL;
    hf_buf key = HF_BUF_INIT, val = HF_BUF_INIT;
    int rc = 0;
    /* the usual case writes nothing, so a queued push and the caller rarely both lock .git/config */
    if (upstream_is(r, remote, branch))
        return 0;
    if (git_repository_config(&cfg, r->git) < 0 || hf_buf_printf(&key, "branch.%s.remote", branch) < 0 ||
        git_config_set_string(cfg, key.ptr, remote) < 0 || (hf_buf_clear(&key), 0) ||
        hf_buf_printf(&key, "branch.%s.merge", branch) < 0 || hf_buf_printf(&val, "refs/heads/%s", branch) < 0 ||
        git_config_set_string(cfg, key.ptr, val.ptr) < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot record the upstream branch");
    git_config_free(cfg);
    hf_buf_free(&key);
    hf_buf_free(&val);
    return rc;
}

int hf_repo_push_refspecs(hf_repo *repo, const char *remote_name, const char **specs, size_t nspecs,
                          const hf_push_options *opts, const char *what)
{
    push_ctx ctx = {repo, NULL, opts, NULL, {repo, 0, 0}, 0, HF_BUF_INIT, HF_BUF_INIT, 0};
    hf_buf url = HF_BUF_INIT;
    int rc = hf_repo_origin_url(repo, remote_name, &url);
    if (rc < 0)
        goto out;
    if ((rc = hf_remote_open(&ctx.remote, repo->git, remote_name)) < 0)
        goto out;
    ctx.remote_url = url.ptr;
    git_push_options po;
    git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
    po.callbacks.credentials = push_credentials;
    po.callbacks.push_negotiation = push_negotiation;
    po.callbacks.push_update_reference = push_update_reference;
    po.callbacks.sideband_progress = sideband;
    po.callbacks.payload = &ctx;
    git_strarray arr = {(char **)specs, nspecs};
    /* one network operation per repository at a time: a queued push and the caller's pull or tag push both
     * update refs/remotes/... */
    pthread_mutex_lock(repo->net);
    int pushed = git_remote_push(ctx.remote, &arr, &po);
    /* A server error on the ref advertisement (before negotiation: nothing uploaded, nothing sent) is retried. */
    for (int attempt = 1; pushed < 0 && !ctx.negotiated && hf_git_retry_server_error(attempt, &ctx.cred); attempt++) {
        git_remote_free(ctx.remote);
        ctx.remote = NULL;
        if (hf_remote_open(&ctx.remote, repo->git, remote_name) < 0)
            break;
        ctx.cred.attempts = 0; /* the token was not refused: offer it again */
        pushed = git_remote_push(ctx.remote, &arr, &po);
    }
    pthread_mutex_unlock(repo->net);
    if (pushed < 0) {
        if (ctx.lfs_rc < 0) {
            rc = ctx.lfs_rc; /* its message is already set */
            hf_error_prefix("push of %s to %s stopped before sending any git object: ", what, url.ptr);
        } else {
            rc = hf_repo_git_net_error(&ctx.cred, "push failed", url.ptr);
            hf_error_prefix("pushing %s to %s: ", what, url.ptr);
        }
        goto out;
    }
    if (ctx.rejected.len)
        rc = hf_error_set(HF_EHTTP, "the server rejected the push to %s: %s%s%s", url.ptr, ctx.rejected.ptr,
                          ctx.remote_text.len ? "; the server said: " : "", hf_buf_cstr(&ctx.remote_text));
out:
    git_remote_free(ctx.remote);
    hf_buf_free(&ctx.rejected);
    hf_buf_free(&ctx.remote_text);
    hf_buf_free(&url);
    return rc;
}

int hf_repo_push_branch(hf_repo *repo, const hf_push_options *opts, const char *branch_name, const char *src_ref)
{
    const char *remote_name = opts->remote ? opts->remote : "origin";
    hf_buf branch = HF_BUF_INIT, refspec = HF_BUF_INIT;
    int rc = branch_name ? (hf_buf_puts(&branch, branch_name) < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : 0)
                         : hf_repo_head_branch(repo, &branch);
    if (rc < 0)
        goto out;
    if ((src_ref ? hf_buf_printf(&refspec, "%s:refs/heads/%s", src_ref, branch.ptr)
                 : hf_buf_printf(&refspec, "refs/heads/%s:refs/heads/%s", branch.ptr, branch.ptr)) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    const char *specs[] = {refspec.ptr};
    if ((rc = hf_repo_push_refspecs(repo, remote_name, specs, 1, opts, branch.ptr)) < 0)
        goto out;
    if (opts->set_upstream)
        rc = set_upstream(repo, remote_name, branch.ptr);
out:
    hf_buf_free(&branch);
    hf_buf_free(&refspec);
    return rc;
}

int hf_repo_push(hf_repo *repo, const hf_push_options *opts, hf_command **out)
{
    static const hf_push_options defaults = HF_PUSH_OPTIONS_INIT;
    if (out)
        *out = NULL;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_push: no repository");
    if (!opts)
        opts = &defaults;
    if (opts->version != HF_PUSH_OPTIONS_VERSION && opts->version != 1)
        return hf_error_set(HF_EINVAL, "hf_push_options: version %u is not %d (use HF_PUSH_OPTIONS_INIT)",
                            opts->version, HF_PUSH_OPTIONS_VERSION);
    hf_push_options v2 = HF_PUSH_OPTIONS_INIT;
    if (opts->version == 1) { /* no on_done: copy what version 1 has, the rest stays default */
        v2.remote = opts->remote;
        v2.branch = opts->branch;
        v2.set_upstream = opts->set_upstream;
        v2.multipart = opts->multipart;
        v2.progress = opts->progress;
        v2.progress_payload = opts->progress_payload;
        v2.auto_lfs_prune = opts->auto_lfs_prune;
        v2.max_rate = opts->max_rate;
        opts = &v2;
    }
    /* neither holds the handle's lock while bytes move (queue_push.c) */
    return out ? hf_queue_push(repo, opts, out) : hf_push_blocking(repo, opts);
}
