/* tags.c: tag_exists / add_tag / delete_tag, locally and on a remote (huggingface_hub §3.4). Remote checks are
 * an ls-remote (connect, read the advertisement); remote changes are pushes of refs/tags/<name>. */
#include "repo.h"

#include "../common/error.h"

#include <string.h>

static int tag_ref(hf_buf *out, const char *name)
{
    if (!name || !name[0])
        return hf_error_set(HF_EINVAL, "no tag name given");
    if (hf_buf_printf(out, "refs/tags/%s", name) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    int valid = 0;
    if (git_reference_name_is_valid(&valid, out->ptr) < 0 || !valid)
        return hf_error_set(HF_EINVAL, "\"%s\" is not a valid tag name", name);
    return 0;
}

static int local_exists(hf_repo *r, const char *ref)
{
    git_reference *found = NULL;
    int rc = git_reference_lookup(&found, r->git, ref);
    git_reference_free(found);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return 0;
    }
    return rc < 0 ? hf_repo_git_error(HF_ERROR, "cannot read the tags") : 1;
}

/* `git ls-remote <remote> <ref>`: 1 when the remote advertises ref. */
static int remote_exists(hf_repo *r, const char *remote_name, const char *ref)
{
    if (!ref)
        return hf_error_set(HF_EINVAL, "no tag name given");
    git_remote *remote = NULL;
    if (git_remote_lookup(&remote, r->git, remote_name) < 0)
        return hf_repo_git_error(HF_ENOTFOUND, "no such remote");
    git_remote_callbacks cb;
    git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
    hf_cred_state cred = {r, 0, 0};
    cb.credentials = hf_repo_credentials_cb;
    cb.payload = &cred;
    const git_remote_head **heads = NULL;
    size_t n = 0;
    int rc = 0;
    pthread_mutex_lock(r->net);
    if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0 ||
        git_remote_ls(&heads, &n, remote) < 0) {
        rc = hf_repo_git_net_error(&cred, "cannot list the remote's refs", remote_name);
        hf_error_prefix("%s: ", remote_name);
    }
    for (size_t i = 0; rc == 0 && heads && i < n; i++)
        if (heads[i]->name && strcmp(heads[i]->name, ref) == 0)
            rc = 1;
    git_remote_disconnect(remote);
    pthread_mutex_unlock(r->net);
    git_remote_free(remote);
    return rc;
}

int hf_repo_tag_exists(hf_repo *repo, const char *name, const char *remote)
{
    if (!repo || !name || !name[0])
        return hf_error_set(HF_EINVAL, "hf_repo_tag_exists: no repository or tag name");
    hf_buf ref = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = tag_ref(&ref, name);
    if (rc == 0)
        rc = remote ? remote_exists(repo, remote, ref.ptr) : local_exists(repo, ref.ptr);
    hf_repo_unlock(repo);
    hf_buf_free(&ref);
    return rc;
}

static int push_ref(hf_repo *r, const char *remote, const char *spec, const char *what)
{
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    const char *specs[] = {spec};
    return hf_repo_push_refspecs(r, remote, specs, 1, &po, what);
}

static int add_tag_unlocked(hf_repo *r, const char *name, const char *ref, const char *message, const char *remote)
{
    git_object *head = NULL;
    git_signature *sig = NULL;
    hf_buf spec = HF_BUF_INIT;
    git_oid id;
    int rc = local_exists(r, ref);
    if (rc > 0)
        rc = hf_error_set(HF_EEXISTS, "tag %s already exists; delete it first", name);
    if (rc < 0)
        goto out;
    if (git_revparse_single(&head, r->git, "HEAD^{commit}") < 0) {
        rc = hf_repo_git_error(HF_ENOTFOUND, "nothing to tag: HEAD has no commit");
        goto out;
    }
    if (message) {
        if ((rc = hf_repo_signature(r, &sig)) < 0)
            goto out;
        if (git_tag_create(&id, r->git, name, head, sig, message, 0) < 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot create the tag");
    } else if (git_tag_create_lightweight(&id, r->git, name, head, 0) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot create the tag");
    }
    if (rc == 0 && remote) {
        if (hf_buf_printf(&spec, "%s:%s", ref, ref) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else
            rc = push_ref(r, remote, spec.ptr, ref);
    }
out:
    hf_buf_free(&spec);
    git_signature_free(sig);
    git_object_free(head);
    return rc;
}

int hf_repo_add_tag(hf_repo *repo, const char *name, const char *message, const char *remote)
{
    if (!repo || !name || !name[0])
        return hf_error_set(HF_EINVAL, "hf_repo_add_tag: no repository or tag name");
    hf_buf ref = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = tag_ref(&ref, name);
    if (rc == 0)
        rc = add_tag_unlocked(repo, name, ref.ptr, message, remote);
    hf_repo_unlock(repo);
    hf_buf_free(&ref);
    return rc;
}

static int delete_tag_unlocked(hf_repo *r, const char *name, const char *ref, const char *remote)
{
    int rc = local_exists(r, ref);
    if (rc > 0 && git_tag_delete(r->git, name) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot delete the local tag");
    if (rc < 0 || !remote)
        return rc < 0 ? rc : 0;
    if ((rc = remote_exists(r, remote, ref)) <= 0)
        return rc;
    hf_buf spec = HF_BUF_INIT;
    rc = hf_buf_printf(&spec, ":%s", ref) < 0 ? hf_error_set(HF_ENOMEM, "out of memory")
                                              : push_ref(r, remote, spec.ptr, ref);
    hf_buf_free(&spec);
    return rc;
}

int hf_repo_delete_tag(hf_repo *repo, const char *name, const char *remote)
{
    if (!repo || !name || !name[0])
        return hf_error_set(HF_EINVAL, "hf_repo_delete_tag: no repository or tag name");
    hf_buf ref = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = tag_ref(&ref, name);
    if (rc == 0)
        rc = delete_tag_unlocked(repo, name, ref.ptr, remote);
    hf_repo_unlock(repo);
    hf_buf_free(&ref);
    return rc;
}
