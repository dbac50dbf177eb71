/* checkout.c: LFS download before checkout, and the checkout itself (the filter smudges from the store).
 * hf_repo_checkout downloads on a libgit2 handle of its own without the handle's lock (as hf_repo_pull), then
 * takes the lock to write the work tree. */
#include "repo.h"

#include "lfs_filter.h"
#include "lfs_scan.h"
#include "lfs_transfer.h"

#include "../common/error.h"
#include "../common/trace.h"

#include <string.h>

int hf_lfs_fetch_for_commit(hf_repo *repo, const git_oid *commit, const char *remote_url, const char *ref)
{
    hf_lfs_set set = HF_LFS_SET_INIT;
    int rc = hf_lfs_scan_commit_tree(repo->git, commit, &set);
    if (rc == 0 && set.count) {
        hf_lfs_xfer_options xo = HF_LFS_XFER_OPTIONS_INIT;
        xo.remote_url = remote_url;
        xo.ref = ref;
        xo.progress = repo->download_cb;
        xo.progress_payload = repo->download_payload;
        rc = hf_lfs_transfer(repo, HF_LFS_DOWNLOAD, &set, &xo);
    }
    hf_lfs_set_free(&set);
    return rc;
}

int hf_repo_checkout_tree(hf_repo *repo, const git_oid *commit, int force)
{
    git_commit *c = NULL;
    if (git_commit_lookup(&c, repo->git, commit) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read the commit to check out");
    git_checkout_options co;
    git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
    co.checkout_strategy = force ? GIT_CHECKOUT_FORCE : GIT_CHECKOUT_SAFE;
    hf_lfs_filter_missing_reset();
    int rc = 0;
    if (git_checkout_tree(repo->git, (const git_object *)c, &co) < 0)
        rc = hf_repo_git_error(HF_ERROR, "checkout failed");
    git_commit_free(c);
    /* libgit2 filtered with the attributes in place before the checkout: redo what the new ones make LFS */
    if (rc == 0)
        rc = hf_repo_lfs_smudge_missed(repo, NULL);
    size_t missing = hf_lfs_filter_missing();
    /* the caller's stderr is not the library's to write: the trace log (HFGIT_TRACE=1) says it, and
     * hf_repo_status / git lfs fsck show the pointers */
    if (rc == 0 && missing && !repo->skip_lfs_files)
        hf_trace("warning: %zu LFS file(s) left as pointers: their objects are not in %s", missing,
                 repo->lfs_dir.ptr);
    return rc;
}

/* Points HEAD at branch (refs/heads/<name>), creating it at `at` when missing, with origin as upstream when
 * the remote has it. */
static int switch_branch(hf_repo *r, const char *name, const git_oid *at, int track)
{
    hf_buf ref = HF_BUF_INIT;
    git_reference *created = NULL, *branch = NULL;
    int rc = 0;
    if (hf_buf_printf(&ref, "refs/heads/%s", name) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (git_reference_lookup(&branch, r->git, ref.ptr) < 0) {
        git_commit *c = NULL;
        if (git_commit_lookup(&c, r->git, at) < 0 || git_branch_create(&created, r->git, name, c, 0) < 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot create the branch");
        git_commit_free(c);
        hf_buf up = HF_BUF_INIT;
        if (rc == 0 && track && hf_buf_printf(&up, "origin/%s", name) == 0 &&
            git_branch_set_upstream(created, up.ptr) < 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot set the branch's upstream");
        hf_buf_free(&up);
    }
    if (rc == 0 && git_repository_set_head(r->git, ref.ptr) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot switch HEAD to the branch");
    git_reference_free(created);
    git_reference_free(branch);
    hf_buf_free(&ref);
    return rc;
}

int hf_repo_set_unborn_branch(hf_repo *r, const char *name)
{
    hf_buf ref = HF_BUF_INIT, key = HF_BUF_INIT, old = HF_BUF_INIT;
    git_reference *head = NULL, *set = NULL;
    git_config *cfg = NULL;
    int rc = 0;
    if (hf_buf_printf(&ref, "refs/heads/%s", name) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (!git_reference_is_valid_name(ref.ptr)) {
        rc = hf_error_set(HF_EINVAL, "\"%s\" is not a valid branch name", name);
        goto out;
    }
    /* the branch HEAD pointed to (libgit2's clone took init.defaultBranch, else master) */
    if (git_reference_lookup(&head, r->git, "HEAD") == 0 && git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
        strncmp(git_reference_symbolic_target(head), "refs/heads/", 11) == 0 &&
        hf_buf_puts(&old, git_reference_symbolic_target(head) + 11) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    if (git_reference_symbolic_create(&set, r->git, "HEAD", ref.ptr, 1, "hfgit: unborn branch") < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot point HEAD at the new branch");
        goto out;
    }
    if (git_repository_config(&cfg, r->git) < 0) {
        rc = hf_repo_git_error(HF_EIO, "cannot open the repository configuration");
        goto out;
    }
    /* the upstream libgit2's clone recorded for the old name moves to the new one (as git clone of an empty
     * repository records branch.main.*), so the first push and pull know where to go */
    int had_upstream = 0;
    if (old.len && strcmp(old.ptr, name) != 0) {
        static const char *const keys[] = {"remote", "merge"};
        for (size_t i = 0; i < 2; i++) {
            hf_buf_clear(&key);
            hf_buf_printf(&key, "branch.%s.%s", old.ptr, keys[i]);
            if (git_config_delete_entry(cfg, key.ptr) == 0)
                had_upstream = 1;
        }
        git_error_clear();
    }
    if (had_upstream) {
        hf_buf_clear(&key);
        hf_buf_printf(&key, "branch.%s.remote", name);
        int bad = git_config_set_string(cfg, key.ptr, "origin") < 0;
        hf_buf_clear(&key);
        hf_buf_printf(&key, "branch.%s.merge", name);
        if (bad || git_config_set_string(cfg, key.ptr, ref.ptr) < 0)
            rc = hf_repo_git_error(HF_EIO, "cannot record the branch's upstream");
    }
out:
    git_config_free(cfg);
    git_reference_free(set);
    git_reference_free(head);
    hf_buf_free(&ref);
    hf_buf_free(&key);
    hf_buf_free(&old);
    return rc;
}

int hf_repo_checkout_revision(hf_repo *r, const char *revision)
{
    return hf_repo_checkout_rev(r, revision, 1);
}

/* 1 when HEAD is (possibly unborn) refs/heads/<name>. */
static int is_current_branch(hf_repo *r, const char *name)
{
    git_reference *head = NULL;
    int yes = git_reference_lookup(&head, r->git, "HEAD") == 0 &&
              git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
              strncmp(git_reference_symbolic_target(head), "refs/heads/", 11) == 0 &&
              strcmp(git_reference_symbolic_target(head) + 11, name) == 0;
    git_reference_free(head);
    git_error_clear();
    return yes;
}

/* What revision names (as hf_repo_checkout documents): *kind 0 a local branch, 1 a branch of origin, 2 a tag
 * or commit, 3 a new branch at HEAD, 4 the unborn branch of a repository without commits; *target its commit
 * (not for 4). */
static int resolve_rev(hf_repo *r, const char *revision, int create_branch_ok, git_oid *target, int *kind_out)
{
    hf_buf name = HF_BUF_INIT;
    int rc = 0, kind = -1;
    if (hf_buf_printf(&name, "refs/heads/%s", revision) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (git_reference_name_to_id(target, r->git, name.ptr) == 0) {
        kind = 0;
    } else {
        hf_buf_clear(&name);
        hf_buf_printf(&name, "refs/remotes/origin/%s", revision);
        git_object *obj = NULL, *commit = NULL;
        if (git_reference_name_to_id(target, r->git, name.ptr) == 0) {
            kind = 1;
        } else if (git_revparse_single(&obj, r->git, revision) == 0 &&
                   git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0) {
            *target = *git_object_id(commit);
            kind = 2;
        } else if (git_repository_head_unborn(r->git) == 1) {
            /* no commit yet (an empty clone): the revision names the branch the first commit will make */
            if (!create_branch_ok && !is_current_branch(r, revision))
                rc = hf_error_set(HF_ENOTFOUND, "revision %s is not a branch of this repository, which has no "
                                                "commit yet (and creating a branch was not asked for)", revision);
            else
                kind = 4;
        } else if (!create_branch_ok) {
            rc = hf_error_set(HF_ENOTFOUND, "revision %s is not a branch, tag or commit here (and creating a branch "
                                            "was not asked for)", revision);
        } else if (git_reference_name_to_id(target, r->git, "HEAD") == 0) {
            kind = 3;
        } else {
            rc = hf_error_set(HF_ENOTFOUND, "revision %s not found, and there is no commit to branch from",
                              revision);
        }
        git_object_free(commit);
        git_object_free(obj);
    }
    git_error_clear();
    hf_buf_free(&name);
    *kind_out = kind;
    return rc;
}

int hf_repo_checkout_rev(hf_repo *r, const char *revision, int create_branch_ok)
{
    hf_buf url = HF_BUF_INIT;
    git_oid target;
    memset(&target, 0, sizeof(target));
    int kind = -1; /* as resolve_rev says */
    int rc = resolve_rev(r, revision, create_branch_ok, &target, &kind);
    if (rc == 0 && kind == 4) { /* nothing to check out: HEAD only names the branch to be */
        rc = hf_repo_set_unborn_branch(r, revision);
        goto out;
    }
    if (rc == 0 && kind != 3) {
        int have_remote = hf_repo_origin_url(r, "origin", &url) == 0;
        if (!have_remote)
            hf_error_clear(); /* no remote: the objects must be local already */
        if (have_remote && !r->skip_lfs_files)
            rc = hf_lfs_fetch_for_commit(r, &target, url.ptr, NULL);
        if (rc == 0)
            rc = hf_repo_checkout_tree(r, &target, 0);
    }
    if (rc == 0 && kind == 2 && git_repository_set_head_detached(r->git, &target) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot detach HEAD");
    if (rc == 0 && kind != 2)
        rc = switch_branch(r, revision, &target, kind == 1);
out:
    hf_buf_free(&url);
    return rc;
}

typedef struct prefetch {
    const char *revision;
    int create_branch_ok;
    hf_progress_cb cb; /* the caller's download progress, read under the lock */
    void *payload;
} prefetch;

/* The network part of a checkout, on a shadow (a libgit2 handle of its own) without the handle's lock:
 * resolves the revision and downloads the LFS objects its commit needs that are not in the store. What it
 * cannot resolve is left to the locked part, which says why. */
static int checkout_prefetch(hf_repo *shadow, void *payload)
{
    const prefetch *p = payload;
    hf_buf url = HF_BUF_INIT;
    git_oid target;
    memset(&target, 0, sizeof(target));
    int kind = -1, rc = resolve_rev(shadow, p->revision, p->create_branch_ok, &target, &kind);
    if (rc < 0) {
        hf_error_clear();
        return 0;
    }
    if (kind == 3 || kind == 4 || shadow->skip_lfs_files)
        return 0; /* nothing new to check out, or pointers wanted */
    if (hf_repo_origin_url(shadow, "origin", &url) == 0) {
        shadow->download_cb = p->cb;
        shadow->download_payload = p->payload;
        rc = hf_lfs_fetch_for_commit(shadow, &target, url.ptr, NULL);
    } else {
        hf_error_clear(); /* no remote: the objects must be local already */
    }
    hf_buf_free(&url);
    return rc;
}

int hf_repo_checkout_fetching_unlocked(hf_repo *repo, const char *revision, int create_branch_ok)
{
    prefetch p = {revision, create_branch_ok, NULL, NULL};
    hf_repo_lock(repo);
    p.cb = repo->download_cb;
    p.payload = repo->download_payload;
    hf_repo_unlock(repo);
    /* the bytes move without the lock; the locked part then finds the objects in the store (it downloads only
     * what is still missing: nothing, unless the revision moved meanwhile) and writes the work tree */
    int rc = hf_repo_with_own_git(repo, checkout_prefetch, &p);
    if (rc == 0) {
        hf_repo_lock(repo);
        rc = hf_repo_checkout_rev(repo, revision, create_branch_ok);
        hf_repo_unlock(repo);
    }
    return rc;
}

int hf_repo_checkout(hf_repo *repo, const char *revision, int create_branch_ok)
{
    if (!repo || !revision || !revision[0])
        return hf_error_set(HF_EINVAL, "hf_repo_checkout: no repository or revision");
    return hf_repo_checkout_fetching_unlocked(repo, revision, create_branch_ok);
}
