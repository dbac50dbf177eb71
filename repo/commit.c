/* commit.c: hf_repo_commit: the index as a commit on the current branch (or an unborn one). */
#include "repo.h"

#include "../common/error.h"

#include <string.h>

int hf_repo_signature(hf_repo *r, git_signature **out)
{
    if (r->git_user || r->git_email) {
        git_config *cfg = NULL;
        git_buf name = GIT_BUF_INIT, email = GIT_BUF_INIT;
        /* one given, the other from the configuration */
        if (git_repository_config(&cfg, r->git) == 0) {
            if (!r->git_user)
                git_config_get_string_buf(&name, cfg, "user.name");
            if (!r->git_email)
                git_config_get_string_buf(&email, cfg, "user.email");
        }
        const char *n = r->git_user ? r->git_user : name.ptr;
        const char *e = r->git_email ? r->git_email : email.ptr;
        int rc = n && e && git_signature_now(out, n, e) == 0 ? 0 : -1;
        git_buf_dispose(&name);
        git_buf_dispose(&email);
        git_config_free(cfg);
        if (rc == 0)
            return 0;
    } else if (git_signature_default(out, r->git) == 0) {
        return 0;
    }
    return hf_error_set(HF_EINVAL, "no author for the commit: set hf_repo_options.git_user and git_email, or "
                                   "user.name and user.email in the git configuration");
}

static int commit_unlocked(hf_repo *repo, const char *message, char out_id[41])
{
    if (!repo || !message)
        return hf_error_set(HF_EINVAL, "hf_repo_commit: no repository or message");
    git_index *index = NULL;
    git_oid tree_id, commit_id;
    git_tree *tree = NULL;
    git_commit *parent = NULL;
    git_signature *sig = NULL;
    git_buf clean = GIT_BUF_INIT;
    int rc = 0;
    if (git_repository_index(&index, repo->git) < 0 || git_index_read(index, 0) < 0) {
        rc = hf_repo_git_error(HF_EIO, "cannot read the index");
        goto out;
    }
    if (git_index_has_conflicts(index)) {
        rc = hf_error_set(HF_EINVAL, "cannot commit: the index has unresolved conflicts");
        goto out;
    }
    if (git_index_write_tree(&tree_id, index) < 0) {
        rc = hf_repo_git_error(HF_EIO, "cannot write the tree");
        goto out;
    }
    int unborn = git_repository_head_unborn(repo->git);
    if (unborn < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot read HEAD");
        goto out;
    }
    if (!unborn) {
        git_oid head;
        if (git_reference_name_to_id(&head, repo->git, "HEAD") < 0 || git_commit_lookup(&parent, repo->git, &head) < 0) {
            rc = hf_repo_git_error(HF_ERROR, "cannot read the HEAD commit");
            goto out;
        }
        if (git_oid_equal(git_commit_tree_id(parent), &tree_id)) {
            rc = hf_error_set(HF_ENOCHANGES, "nothing to commit: the index matches HEAD (add files first)");
            goto out;
        }
    } else if (git_index_entrycount(index) == 0) {
        rc = hf_error_set(HF_ENOCHANGES, "nothing to commit: the index is empty (add files first)");
        goto out;
    }
    if ((rc = hf_repo_signature(repo, &sig)) < 0)
        goto out;
    if (git_tree_lookup(&tree, repo->git, &tree_id) < 0 || git_message_prettify(&clean, message, 0, '#') < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot prepare the commit");
        goto out;
    }
    const git_commit *parents[1] = {parent};
    if (git_commit_create(&commit_id, repo->git, "HEAD", sig, sig, NULL, clean.ptr, tree, parent ? 1 : 0,
                          parents) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot create the commit");
        goto out;
    }
    if (out_id)
        git_oid_tostr(out_id, 41, &commit_id);
out:
    git_buf_dispose(&clean);
    git_signature_free(sig);
    git_commit_free(parent);
    git_tree_free(tree);
    git_index_free(index);
    return rc;
}

int hf_repo_commit(hf_repo *repo, const char *message)
{
    return hf_repo_commit_id(repo, message, NULL);
}

int hf_repo_commit_id(hf_repo *repo, const char *message, char out_id[41])
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_commit: no repository");
    hf_repo_lock(repo);
    int rc = commit_unlocked(repo, message, out_id);
    hf_repo_unlock(repo);
    return rc;
}
