/*
 * queue_push.c: the commands that talk to a remote (pushes of a branch, pushes of a tag) and the blocking
 * network calls that run the same way, so that no call holds the handle's lock while bytes move.
 *
 * What to send is decided under the handle's lock and pinned: a branch push's commit goes under
 * refs/hfgit/push/<pid>-<n> so later commits or checkouts do not change it (as the reference's `git push`
 * process, started at once, does). The sending runs without the lock, on a git_repository of its own (libgit2
 * objects must not be shared between threads; separate handles on one repository are fine) through a shadow
 * hf_repo, and waits only for `net` (one network operation per repository at a time). A blocking push first
 * waits for the commands queued before it, so the remote moves forward in the order the caller asked.
 */
#include "queue.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct push_job {
    hf_push_options opts;
    char *remote;
    char *branch;             /* branch push: the branch; NULL for a tag push */
    char *spec;               /* tag push: "refs/tags/x:refs/tags/x" */
    char *what;               /* tag push: the ref, for messages */
    char *tmp_ref;            /* branch push: the pinned commit's ref */
    char commit_id[41];
    char *commit_url;
    hf_command *cmd;          /* for progress and cancel; NULL when run by a blocking call */
    hf_progress_cb user_cb;
    void *user_payload;
} push_job;

static void push_job_free(void *p)
{
    push_job *j = p;
    if (!j)
        return;
    free(j->remote);
    free(j->branch);
    free(j->spec);
    free(j->what);
    free(j->tmp_ref);
    free(j->commit_url);
    free(j);
}

static int push_progress(uint64_t done, uint64_t total, void *payload)
{
    push_job *j = payload;
    hf_command_report_progress(j->cmd, done, total);
    if (hf_command_cancel_requested(j->cmd))
        return 1; /* the LFS upload stops; nothing of git is sent (push.c) */
    return j->user_cb ? j->user_cb(done, total, j->user_payload) : 0;
}

int hf_repo_with_own_git(hf_repo *r, int (*fn)(hf_repo *shadow, void *payload), void *payload)
{
    git_repository *git = NULL;
    if (git_repository_open_ext(&git, r->workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot open the repository for a network operation");
    hf_repo shadow;
    hf_repo_shadow(&shadow, r, git);
    int rc = fn(&shadow, payload);
    git_repository_free(git);
    return rc;
}

static void delete_pin(git_repository *git, const char *name)
{
    git_reference *pin = NULL;
    if (name && git_reference_lookup(&pin, git, name) == 0)
        git_reference_delete(pin);
    git_reference_free(pin);
    git_error_clear();
}

typedef struct run_ctx {
    hf_repo *real;
    push_job *job;
} run_ctx;

static int run_job_shadow(hf_repo *shadow, void *payload)
{
    run_ctx *x = payload;
    push_job *j = x->job;
    int rc;
    shadow->cmd = j->cmd;
    if (hf_command_cancel_requested(j->cmd)) {
        rc = hf_error_set(HF_ECANCELLED, "push of %s cancelled before it started: nothing was sent",
                          j->branch ? j->branch : j->what);
    } else if (j->branch) {
        rc = hf_repo_push_branch(shadow, &j->opts, j->branch, j->tmp_ref);
        if (rc == 0 && j->opts.auto_lfs_prune) {
            /* choosing what to remove races an add on the caller's thread re-creating an object: take the
             * lock for that, and delete the files after releasing it */
            hf_buf trash = HF_BUF_INIT;
            hf_repo_lock(x->real);
            rc = hf_repo_lfs_prune_unlocked(shadow, &trash, NULL, NULL);
            hf_repo_unlock(x->real);
            hf_repo_lfs_prune_empty_trash(shadow, &trash);
        }
    } else {
        const char *specs[] = {j->spec};
        rc = hf_repo_push_refspecs(shadow, j->remote, specs, 1, &j->opts, j->what);
    }
    delete_pin(shadow->git, j->tmp_ref);
    return rc;
}

static int run_job(hf_repo *r, hf_command *cmd, void *payload)
{
    push_job *j = payload;
    j->cmd = cmd;
    run_ctx x = {r, j};
    return hf_repo_with_own_git(r, run_job_shadow, &x);
}

static int drop_pin(hf_repo *shadow, void *payload)
{
    delete_pin(shadow->git, payload);
    return 0;
}

/* A push cancelled before it started: its pin goes, nothing else happened. */
static void skip_job(hf_repo *r, void *payload)
{
    push_job *j = payload;
    if (j->tmp_ref)
        (void)hf_repo_with_own_git(r, drop_pin, j->tmp_ref);
}

/* "<remote URL>/commit/<id>" (the hub's page of the commit), as hf_repo_head_commit_url builds it. */
static int commit_url(hf_repo *r, const char *remote, const char *id, char **out)
{
    hf_buf b = HF_BUF_INIT;
    int rc = hf_repo_origin_url(r, remote, &b);
    if (rc == 0) {
        while (b.len && b.ptr[b.len - 1] == '/')
            b.ptr[--b.len] = '\0';
        if (b.len > 4 && strcmp(b.ptr + b.len - 4, ".git") == 0)
            b.ptr[b.len -= 4] = '\0';
        if (hf_buf_printf(&b, "/commit/%s", id) < 0 || !(*out = hf_buf_detach(&b)))
            rc = hf_error_set(HF_ENOMEM, "out of memory");
    }
    hf_buf_free(&b);
    return rc;
}

/* Decides what a branch push sends and pins it (r->lock held). */
static int branch_job(hf_repo *r, const hf_push_options *opts, push_job **out)
{
    push_job *j = calloc(1, sizeof(*j));
    hf_buf branch = HF_BUF_INIT, name = HF_BUF_INIT, branch_ref = HF_BUF_INIT;
    git_reference *pin = NULL;
    git_oid tip;
    int rc = 0;
    *out = NULL;
    if (!j)
        return hf_error_set(HF_ENOMEM, "out of memory");
    j->opts = *opts;
    if (!opts->branch)
        rc = hf_repo_head_branch(r, &branch);
    else if (hf_buf_puts(&branch, opts->branch) < 0)
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    if (rc < 0)
        goto out;
    j->branch = hf_buf_detach(&branch);
    j->remote = strdup(opts->remote ? opts->remote : "origin");
    if (!j->branch || !j->remote || hf_buf_printf(&branch_ref, "refs/heads/%s", j->branch) < 0 ||
        hf_buf_printf(&name, "refs/hfgit/push/%ld-%lu", (long)getpid(), ++r->pins) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    if (git_reference_name_to_id(&tip, r->git, branch_ref.ptr) < 0) {
        rc = hf_repo_git_error(HF_EINVAL, "nothing to push");
        goto out;
    }
    git_oid_tostr(j->commit_id, sizeof(j->commit_id), &tip);
    if (commit_url(r, j->remote, j->commit_id, &j->commit_url) < 0) {
        hf_error_clear(); /* no URL to show is no reason to refuse the push; the push names the problem */
        j->commit_url = NULL;
    }
    if (git_reference_create(&pin, r->git, name.ptr, &tip, 1, "hfgit: queued push") < 0) {
        rc = hf_repo_git_error(HF_EIO, "cannot record the commit to push");
        hf_error_prefix("queueing a push of %s: ", j->branch);
        goto out;
    }
    if (!(j->tmp_ref = hf_buf_detach(&name))) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    j->opts.remote = j->remote;
    j->opts.branch = j->branch;
    j->user_cb = opts->progress;
    j->user_payload = opts->progress_payload;
    j->opts.progress = push_progress;
    j->opts.progress_payload = j;
out:
    if (rc < 0) {
        if (pin)
            git_reference_delete(pin);
        push_job_free(j);
    } else {
        *out = j;
    }
    git_reference_free(pin);
    hf_buf_free(&name);
    hf_buf_free(&branch);
    hf_buf_free(&branch_ref);
    return rc;
}

/* Queues job (r->lock held, a place reserved). */
static int queue_job(hf_repo *r, push_job *j, const char *title, hf_command **out)
{
    char *pin = j->tmp_ref ? strdup(j->tmp_ref) : NULL;
    hf_queue_item item = {title, run_job, j, push_job_free, skip_job, 1, j->commit_id, j->commit_url,
                          j->opts.on_done, j->opts.on_done_payload};
    int rc = hf_queue_add(r, &item, out); /* frees j on failure */
    if (rc < 0) {
        delete_pin(r->git, pin); /* never queued: nobody else will remove the pin */
        hf_queue_unreserve(r);
    }
    free(pin);
    return rc;
}

int hf_queue_push(hf_repo *r, const hf_push_options *opts, hf_command **out)
{
    int rc = hf_queue_reserve(r); /* may wait for room, holding no lock */
    if (rc < 0)
        return rc;
    push_job *j = NULL;
    /* pinning and queueing under one lock: two threads' pushes reach the queue in the order they pinned */
    hf_repo_lock(r);
    rc = branch_job(r, opts, &j);
    if (rc < 0 || !j)
        hf_queue_unreserve(r);
    else
        rc = queue_job(r, j, "push", out); /* owns j from here */
    hf_repo_unlock(r);
    return rc;
}

int hf_push_blocking(hf_repo *r, const hf_push_options *opts)
{
    push_job *j = NULL;
    hf_repo_lock(r);
    int rc = branch_job(r, opts, &j);
    hf_repo_unlock(r);
    if (rc < 0)
        return rc;
    j->user_cb = NULL; /* called directly: our wrapper only adds the command's bookkeeping */
    j->opts.progress = opts->progress;
    j->opts.progress_payload = opts->progress_payload;
    if ((rc = hf_queue_wait_earlier(r)) == 0)
        rc = run_job(r, NULL, j);
    push_job_free(j);
    return rc;
}

int hf_queue_tag_push(hf_repo *r, const char *remote, const char *ref, const git_oid *target, hf_command **out)
{
    push_job *j = calloc(1, sizeof(*j));
    hf_buf spec = HF_BUF_INIT;
    if (!j)
        return hf_error_set(HF_ENOMEM, "out of memory");
    hf_push_options defaults = HF_PUSH_OPTIONS_INIT;
    j->opts = defaults;
    if (hf_buf_printf(&spec, "%s:%s", ref, ref) < 0 || !(j->spec = hf_buf_detach(&spec)) ||
        !(j->what = strdup(ref)) || !(j->remote = strdup(remote))) {
        hf_buf_free(&spec);
        push_job_free(j);
        return hf_error_set(HF_ENOMEM, "out of memory");
    }
    j->opts.remote = j->remote;
    git_oid_tostr(j->commit_id, sizeof(j->commit_id), target);
    hf_buf title = HF_BUF_INIT;
    const char *t = hf_buf_printf(&title, "push %s", ref) == 0 ? title.ptr : "push tag";
    /* a tag push is small: it takes a place in the queue, never blocks the caller for one */
    hf_queue_item item = {t, run_job, j, push_job_free, NULL, 0, j->commit_id, NULL, NULL, NULL};
    int rc = hf_queue_add(r, &item, out);
    hf_buf_free(&title);
    /* hf_queue_add owns j: the command frees it, or hf_queue_add itself on failure */
    // cppcheck-suppress memleak
    return rc;
}
