/*
 * commit_ctx.c: the commit context (huggingface_hub's `with repo.commit(...)`, §3.7) and push_to_hub (§3.8).
 *
 * Differences from the reference, on purpose: a failed body adds, commits and pushes nothing (the reference
 * pushes whatever the body wrote before it raised), and nothing changes the process's working directory
 * (hf_repo_path builds paths instead). The handle's lock is held during the local parts of begin and end (not
 * during the body, so the body may call any function on the repository), never while the pull or push moves
 * bytes.
 */
#include "repo.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

struct hf_commit_ctx {
    hf_repo *repo;
    char *message;
    hf_commit_options opts;
};

/* 1 when the current branch has an upstream whose remote-tracking ref exists, 0 when not (also unborn),
 * HF_EINVAL on a detached HEAD. */
static int tracked_upstream(hf_repo *r)
{
    git_reference *head = NULL, *up = NULL;
    int rc = git_repository_head(&head, r->git);
    if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
        git_error_clear();
        return 0;
    }
    if (rc < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read HEAD");
    if (!git_reference_is_branch(head)) {
        git_reference_free(head);
        return hf_error_set(HF_EINVAL, "no branch checked out (HEAD is detached): pass hf_commit_options.branch "
                                       "or check out a branch first");
    }
    /* refs/remotes/<remote>/<branch> from branch.<b>.remote/merge, as pull.c finds it: git_branch_upstream
     * would call git_remote_lookup, which leaks in libgit2 1.5 (remote.c), once per commit scope */
    git_buf remote = GIT_BUF_INIT, merge = GIT_BUF_INIT;
    hf_buf tracking = HF_BUF_INIT;
    const char *name = git_reference_name(head);
    rc = git_branch_upstream_remote(&remote, r->git, name) == 0 && git_branch_upstream_merge(&merge, r->git, name) == 0 &&
         strncmp(merge.ptr, "refs/heads/", 11) == 0 &&
         hf_buf_printf(&tracking, "refs/remotes/%s/%s", remote.ptr, merge.ptr + 11) == 0 &&
         git_reference_lookup(&up, r->git, tracking.ptr) == 0;
    git_error_clear();
    git_buf_dispose(&remote);
    git_buf_dispose(&merge);
    hf_buf_free(&tracking);
    git_reference_free(up);
    git_reference_free(head);
    return rc;
}

int hf_commit_begin(hf_commit_ctx **out, hf_repo *repo, const char *message, const hf_commit_options *opts)
{
    static const hf_commit_options defaults = HF_COMMIT_OPTIONS_INIT;
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_commit_begin: no place for the context");
    *out = NULL;
    if (!repo || !message)
        return hf_error_set(HF_EINVAL, "hf_commit_begin: no repository or message");
    if (!opts)
        opts = &defaults;
    if (opts->version != HF_COMMIT_OPTIONS_VERSION && opts->version != 1 && opts->version != 2)
        return hf_error_set(HF_EINVAL, "hf_commit_options: version %u is not %d (use HF_COMMIT_OPTIONS_INIT)",
                            opts->version, HF_COMMIT_OPTIONS_VERSION);
    hf_commit_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx || !(ctx->message = strdup(message))) {
        free(ctx);
        return hf_error_set(HF_ENOMEM, "out of memory");
    }
    ctx->repo = repo;
    if (opts->version < HF_COMMIT_OPTIONS_VERSION) { /* copy what the older version has, the rest default */
        hf_commit_options cur = HF_COMMIT_OPTIONS_INIT;
        cur.branch = opts->branch;
        cur.track_large_files = opts->track_large_files;
        cur.blocking = opts->blocking;
        cur.auto_lfs_prune = opts->auto_lfs_prune;
        cur.result = opts->result;
        if (opts->version >= 2)
            cur.command = opts->command;
        ctx->opts = cur;
    } else {
        ctx->opts = *opts;
    }
    ctx->opts.branch = NULL; /* only used here; the caller's string need not outlive begin */
    if (ctx->opts.command)
        *ctx->opts.command = NULL;
    /* the branch's LFS objects are downloaded without the handle's lock */
    int rc = opts->branch ? hf_repo_checkout_fetching_unlocked(repo, opts->branch, 1) : 0;
    if (rc < 0)
        hf_error_prefix("commit context: checking out %s: ", opts->branch);
    hf_repo_lock(repo);
    int up = rc < 0 ? rc : tracked_upstream(repo);
    if (up < 0)
        rc = up;
    /* our own queued pushes are about to move the remote: pulling now would race them for nothing */
    int pull = up > 0 && hf_repo_commands_in_progress(repo, NULL, 0) == 0;
    hf_repo_unlock(repo);
    if (pull && (rc = hf_repo_pull(repo, 1)) < 0) /* fetches without holding the lock */
        hf_error_prefix("commit context: pulling before the body runs: ");
    if (rc < 0) {
        free(ctx->message);
        free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

/* add, commit, push: the end of a successful body (the lock held for add and commit only). */
static int finish(hf_commit_ctx *ctx, hf_command **queued)
{
    hf_repo *r = ctx->repo;
    hf_repo_lock(r);
    int rc = hf_repo_add(r, ".", ctx->opts.track_large_files);
    if (rc == 0)
        rc = hf_repo_commit(r, ctx->message);
    if (rc == HF_ENOCHANGES) {
        hf_error_clear();
        rc = 0;
        /* nothing committed on an unborn branch: there is nothing to push either */
        if (git_repository_head_unborn(r->git) == 1)
            rc = 1;
    }
    hf_repo_unlock(r);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    po.auto_lfs_prune = ctx->opts.auto_lfs_prune;
    po.on_done = ctx->opts.on_done;
    po.on_done_payload = ctx->opts.on_done_payload;
    return hf_repo_push(r, &po, ctx->opts.blocking ? NULL : queued);
}

int hf_commit_end(hf_commit_ctx *ctx, int body_status, hf_command **command_out)
{
    if (command_out)
        *command_out = NULL;
    if (!ctx)
        return hf_error_set(HF_EINVAL, "hf_commit_end: no context (did hf_commit_begin fail?)");
    hf_repo *r = ctx->repo;
    int rc;
    if (body_status != 0) {
        rc = hf_error_set(HF_ECANCELLED,
                          "the body of commit \"%s\" failed (status %d): nothing was added, committed or pushed; "
                          "the working tree %s is as the body left it",
                          ctx->message, body_status, r->workdir);
    } else {
        hf_command *queued = NULL;
        rc = finish(ctx, &queued);
        if (rc < 0)
            hf_error_prefix("commit context \"%s\": ", ctx->message);
        if (ctx->opts.command)
            *ctx->opts.command = queued;
        if (command_out)
            *command_out = queued;
    }
    free(ctx->message);
    free(ctx);
    return rc;
}

hf_commit_block hf_commit_block_begin(hf_repo *repo, const char *message, const hf_commit_options *opts)
{
    hf_commit_block b = {NULL, 0, 0, opts ? opts->result : NULL};
    int rc = hf_commit_begin(&b.ctx, repo, message, opts);
    if (rc < 0) {
        b.state = 2; /* the body does not run */
        if (b.result)
            *b.result = rc;
    }
    return b;
}

void hf_commit_block_end(hf_commit_block *b)
{
    if (!b)
        return;
    int rc = hf_commit_end(b->ctx, b->body_status, NULL); /* opts->command gets the push */
    b->ctx = NULL;
    b->state = 2;
    if (b->result)
        *b->result = rc;
}

int hf_repo_push_to_hub(hf_repo *repo, const char *message, int blocking, int clean_ok, int auto_lfs_prune,
                        hf_command **out_cmd)
{
    if (out_cmd)
        *out_cmd = NULL;
    if (!repo || !message)
        return hf_error_set(HF_EINVAL, "hf_repo_push_to_hub: no repository or message");
    hf_repo_lock(repo);
    int rc = clean_ok ? hf_repo_is_clean(repo) : 0;
    if (rc == 1) {
        hf_repo_unlock(repo);
        return 0; /* the reference: "Repo currently clean. Ignoring push_to_hub" */
    }
    if (rc == 0 && (rc = hf_repo_add(repo, ".", 1)) == 0)
        rc = hf_repo_commit(repo, message);
    hf_repo_unlock(repo); /* the push moves bytes without it */
    if (rc < 0)
        return rc;
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    po.auto_lfs_prune = auto_lfs_prune;
    hf_command *cmd = NULL;
    rc = hf_repo_push(repo, &po, blocking ? NULL : &cmd);
    if (out_cmd)
        *out_cmd = cmd;
    return rc;
}
