/*
 * pull.c: hf_repo_pull: fetch the upstream, download the LFS objects of its tip, then fast-forward (or rebase
 * local commits onto it). The objects are in the store before any checkout runs, so the filter's smudge only
 * copies from disk (libgit2 notes §2.6 item 3). A pull that would need a merge is refused, tree untouched.
 * hf_repo_pull fetches and downloads on a libgit2 handle of its own without the handle's lock (other threads
 * go on meanwhile), then takes the lock for the local part: comparing, downloading whatever is still missing
 * (nothing, unless the upstream moved again) and checking out.
 */
#include "repo.h"
#include "pull.h"

#include "../common/error.h"

#include <string.h>

typedef struct upstream {
    hf_buf branch;    /* local branch short name */
    hf_buf local_ref; /* refs/heads/<branch> */
    hf_buf remote;    /* remote name */
    hf_buf merge;     /* the remote's ref, refs/heads/<x> */
    hf_buf tracking;  /* refs/remotes/<remote>/<x> */
} upstream;

static void upstream_free(upstream *u)
{
    hf_buf_free(&u->branch);
    hf_buf_free(&u->local_ref);
    hf_buf_free(&u->remote);
    hf_buf_free(&u->merge);
    hf_buf_free(&u->tracking);
}

/* The branch's configured upstream, else origin's branch of the same name. */
static int find_upstream(hf_repo *r, upstream *u)
{
    git_reference *head = NULL;
    int rc = git_repository_head(&head, r->git);
    const char *name = NULL;
    if (rc == GIT_EUNBORNBRANCH) {
        /* an empty clone whose remote got commits since: HEAD names the branch to create */
        if (git_reference_lookup(&head, r->git, "HEAD") < 0)
            return hf_repo_git_error(HF_ERROR, "cannot read HEAD");
        name = git_reference_symbolic_target(head);
        rc = name && strncmp(name, "refs/heads/", 11) == 0 ? 0 : -1;
        if (rc == 0)
            name += 11;
    } else if (rc == 0) {
        name = git_reference_is_branch(head) ? git_reference_shorthand(head) : NULL;
    }
    if (rc < 0 || !name) {
        git_reference_free(head);
        return hf_error_set(HF_EINVAL, "cannot pull: HEAD is not on a branch");
    }
    int err = hf_buf_puts(&u->branch, name) | hf_buf_printf(&u->local_ref, "refs/heads/%s", name);
    git_reference_free(head);
    git_buf b = GIT_BUF_INIT;
    if (git_branch_upstream_remote(&b, r->git, u->local_ref.ptr) == 0)
        err |= hf_buf_puts(&u->remote, b.ptr);
    else
        err |= hf_buf_puts(&u->remote, "origin");
    git_buf_dispose(&b);
    if (git_branch_upstream_merge(&b, r->git, u->local_ref.ptr) == 0)
        err |= hf_buf_puts(&u->merge, b.ptr);
    else
        err |= hf_buf_puts(&u->merge, u->local_ref.ptr);
    git_buf_dispose(&b);
    git_error_clear();
    if (strncmp(u->merge.ptr, "refs/heads/", 11) != 0)
        return hf_error_set(HF_EINVAL, "cannot pull: the upstream %s is not a branch", u->merge.ptr);
    err |= hf_buf_printf(&u->tracking, "refs/remotes/%s/%s", u->remote.ptr, u->merge.ptr + 11);
    return err ? hf_error_set(HF_ENOMEM, "out of memory") : 0;
}

static int fetch(hf_repo *r, const upstream *u, const char *url)
{
    git_remote *remote = NULL;
    if (hf_remote_open(&remote, r->git, u->remote.ptr) < 0)
        return hf_error_prefix("cannot pull: ");
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    hf_cred_state cred = {r, 0, 0};
    fo.callbacks.credentials = hf_repo_credentials_cb;
    fo.callbacks.payload = &cred;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_AUTO; /* what the named remote would do (remote.c) */
    int rc = 0;
    pthread_mutex_lock(r->net); /* a queued push updates the same remote-tracking refs */
    int fetched;
    for (int attempt = 1;
         (fetched = git_remote_fetch(remote, NULL, &fo, "pull")) < 0 && hf_git_retry_server_error(attempt, &cred);
         attempt++)
        cred.attempts = 0;
    if (fetched < 0)
        rc = hf_repo_git_net_error(&cred, "fetch failed", url);
    pthread_mutex_unlock(r->net);
    git_remote_free(remote);
    return rc;
}

static int rebase_onto(hf_repo *r, git_annotated_commit *onto)
{
    git_rebase *rb = NULL;
    git_rebase_options ro;
    git_rebase_options_init(&ro, GIT_REBASE_OPTIONS_VERSION);
    ro.checkout_options.checkout_strategy = GIT_CHECKOUT_SAFE;
    git_signature *sig = NULL;
    int rc = 0;
    if (git_signature_default(&sig, r->git) < 0 &&
        git_signature_now(&sig, r->git_user ? r->git_user : "hfgit", r->git_email ? r->git_email : "hfgit@localhost") < 0)
        return hf_repo_git_error(HF_ERROR, "no committer for the rebase");
    if (git_rebase_init(&rb, r->git, NULL, onto, NULL, &ro) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot start the rebase (local changes in the way?)");
        goto out;
    }
    git_rebase_operation *op;
    int e;
    while ((e = git_rebase_next(&op, rb)) == 0) {
        git_index *index = NULL;
        int conflicts = git_repository_index(&index, r->git) == 0 && git_index_has_conflicts(index);
        git_index_free(index);
        git_oid id;
        if (conflicts) {
            rc = hf_error_set(HF_EINVAL, "cannot pull with rebase: a local commit conflicts with the upstream; "
                                         "the rebase was undone");
            break;
        }
        if ((e = git_rebase_commit(&id, rb, NULL, sig, NULL, NULL)) < 0 && e != GIT_EAPPLIED) {
            rc = hf_repo_git_error(HF_ERROR, "rebase failed");
            break;
        }
    }
    if (rc == 0 && e != GIT_ITEROVER)
        rc = hf_repo_git_error(HF_ERROR, "rebase failed");
    if (rc < 0)
        git_rebase_abort(rb);
    else if (git_rebase_finish(rb, sig) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot finish the rebase");
    else
        rc = hf_repo_lfs_smudge_missed(r, NULL); /* the rebase's checkouts read the old .gitattributes */
out:
    git_rebase_free(rb);
    git_signature_free(sig);
    return rc;
}

/* The network part: fetch the upstream and download the LFS objects of its tip. */
static int pull_fetch(hf_repo *repo, void *payload)
{
    (void)payload;
    upstream u = {HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT};
    hf_buf url = HF_BUF_INIT;
    git_oid tip;
    int rc = find_upstream(repo, &u);
    if (rc < 0 || (rc = hf_repo_origin_url(repo, u.remote.ptr, &url)) < 0 || (rc = fetch(repo, &u, url.ptr)) < 0)
        goto out;
    if (git_reference_name_to_id(&tip, repo->git, u.tracking.ptr) < 0)
        git_error_clear(); /* the remote has no such branch (yet): nothing to download */
    else if (!repo->skip_lfs_files)
        rc = hf_lfs_fetch_for_commit(repo, &tip, url.ptr, u.merge.ptr);
out:
    hf_buf_free(&url);
    upstream_free(&u);
    return rc;
}

/* The local part, after pull_fetch: compare, fast-forward or rebase (the handle's lock held). */
static int pull_apply(hf_repo *repo, int rebase)
{
    upstream u = {HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT};
    git_annotated_commit *target = NULL;
    git_reference *ref = NULL;
    hf_buf url = HF_BUF_INIT;
    git_oid tip;
    int rc = find_upstream(repo, &u);
    if (rc < 0 || (rc = hf_repo_origin_url(repo, u.remote.ptr, &url)) < 0)
        goto out;
    if (git_reference_name_to_id(&tip, repo->git, u.tracking.ptr) < 0) {
        git_error_clear();
        goto out; /* the remote has no such branch (yet): nothing to pull */
    }
    if (git_annotated_commit_lookup(&target, repo->git, &tip) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot read the fetched commit");
        goto out;
    }
    git_merge_analysis_t analysis;
    git_merge_preference_t pref;
    const git_annotated_commit *heads[1] = {target};
    if (git_merge_analysis(&analysis, &pref, repo->git, heads, 1) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot compare with the upstream");
        goto out;
    }
    if (analysis & GIT_MERGE_ANALYSIS_UP_TO_DATE)
        goto out;
    if (!(analysis & (GIT_MERGE_ANALYSIS_FASTFORWARD | GIT_MERGE_ANALYSIS_UNBORN)) && !rebase) {
        rc = hf_error_set(HF_EINVAL, "cannot pull: %s and %s have diverged and merging is not supported; pull "
                                     "with rebase, or merge with git",
                          u.branch.ptr, u.tracking.ptr);
        goto out;
    }
    /* objects first: every checkout below then smudges from the local store */
    if (!repo->skip_lfs_files && (rc = hf_lfs_fetch_for_commit(repo, &tip, url.ptr, u.merge.ptr)) < 0)
        goto out;
    if (analysis & (GIT_MERGE_ANALYSIS_FASTFORWARD | GIT_MERGE_ANALYSIS_UNBORN)) {
        if ((rc = hf_repo_checkout_tree(repo, &tip, 0)) < 0)
            goto out;
        if (git_reference_create(&ref, repo->git, u.local_ref.ptr, &tip, 1, "pull: fast-forward") < 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot move the branch");
        goto out;
    }
    rc = rebase_onto(repo, target);
out:
    git_reference_free(ref);
    git_annotated_commit_free(target);
    hf_buf_free(&url);
    upstream_free(&u);
    return rc;
}

int hf_repo_pull_unlocked(hf_repo *repo, int rebase)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_pull: no repository");
    int rc = pull_fetch(repo, NULL);
    return rc < 0 ? rc : pull_apply(repo, rebase);
}

/* pull_fetch on a shadow, with the caller's download progress. */
static int pull_fetch_shadow(hf_repo *shadow, void *payload)
{
    const hf_repo *r = payload;
    shadow->download_cb = r->download_cb;
    shadow->download_payload = r->download_payload;
    return pull_fetch(shadow, NULL);
}

int hf_repo_pull(hf_repo *repo, int rebase)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_pull: no repository");
    hf_repo settings; /* the progress callback as it is now, read under the lock */
    memset(&settings, 0, sizeof(settings));
    hf_repo_lock(repo);
    settings.download_cb = repo->download_cb;
    settings.download_payload = repo->download_payload;
    hf_repo_unlock(repo);
    int rc = hf_repo_with_own_git(repo, pull_fetch_shadow, &settings);
    if (rc == 0) {
        hf_repo_lock(repo);
        rc = pull_apply(repo, rebase);
        hf_repo_unlock(repo);
    }
    return rc;
}

/* Under the handle's lock: origin's tip of branch (else of from) into *tip; 1 when found, 0 when neither. */
static int remote_tip(hf_repo *repo, const char *branch, const char *from, git_oid *tip)
{
    hf_buf ref = HF_BUF_INIT;
    int found = 0;
    for (int i = 0; i < 2 && !found; i++) {
        const char *name = i == 0 ? branch : from;
        if (!name) continue;
        hf_buf_clear(&ref);
        hf_buf_printf(&ref, "refs/remotes/origin/%s", name);
        found = git_reference_name_to_id(tip, repo->git, hf_buf_cstr(&ref)) == 0;
    }
    git_error_clear();
    hf_buf_free(&ref);
    return found;
}

int hf_repo_follow_remote_branch(hf_repo *repo, const char *branch, const char *from)
{
    if (!repo || !branch)
        return hf_error_set(HF_EINVAL, "hf_repo_follow_remote_branch: no repository or branch");
    upstream u = {HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT};
    hf_buf url = HF_BUF_INIT;
    git_reference *ref = NULL;
    git_oid tip, cur;
    int rc = hf_buf_puts(&u.remote, "origin") | hf_buf_printf(&u.local_ref, "refs/heads/%s", branch)
                 ? hf_error_set(HF_ENOMEM, "out of memory")
                 : 0;
    hf_repo_lock(repo);
    if (rc == 0 && (rc = hf_repo_origin_url(repo, u.remote.ptr, &url)) == 0) rc = fetch(repo, &u, url.ptr);
    if (rc < 0) goto out;
    if (remote_tip(repo, branch, from, &tip)) {
        int same =
            git_reference_name_to_id(&cur, repo->git, u.local_ref.ptr) == 0 && git_oid_equal(&cur, &tip);
        if (!same &&
            git_reference_create(&ref, repo->git, u.local_ref.ptr, &tip, 1, "hfgit: follow origin") < 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot move the branch to origin's tip");
    } else if (git_reference_lookup(&ref, repo->git, u.local_ref.ptr) == 0 && git_reference_delete(ref) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot drop the branch origin does not have");
    }
    git_error_clear();
    if (rc == 0 && git_repository_set_head(repo->git, u.local_ref.ptr) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot point HEAD at the branch");
out:
    hf_repo_unlock(repo);
    git_reference_free(ref);
    hf_buf_free(&url);
    upstream_free(&u);
    return rc;
}
