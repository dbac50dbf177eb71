/* tags.c: tag_exists / add_tag / delete_tag, locally and on a remote (huggingface_hub §3.4). Remote checks are
 * an ls-remote (connect, read the advertisement); remote changes are pushes of refs/tags/<name>. The local part
 * runs under the handle's lock, the remote part without it, on a libgit2 handle of its own (queue_push.c): a
 * tag pushed while commands are queued or running becomes a queued command itself, sent after them. */
#include "queue.h"

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
    if (hf_remote_open(&remote, r->git, remote_name) < 0)
        return hf_error_last_code();
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

/* A remote step run on a handle of its own: ls-remote, then (spec set) a push of spec when wanted. */
typedef struct remote_step {
    const char *remote;
    const char *ref;
    const char *spec;
    int push_if; /* push spec when the remote has ref (1) or always (-1) */
} remote_step;

static int push_ref(hf_repo *r, const char *remote, const char *spec, const char *what)
{
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    const char *specs[] = {spec};
    return hf_repo_push_refspecs(r, remote, specs, 1, &po, what);
}

static int run_remote_step(hf_repo *shadow, void *payload)
{
    const remote_step *s = payload;
    int rc = s->push_if < 0 ? 1 : remote_exists(shadow, s->remote, s->ref);
    if (rc > 0 && s->spec)
        rc = push_ref(shadow, s->remote, s->spec, s->ref);
    return rc;
}

int hf_repo_tag_exists(hf_repo *repo, const char *name, const char *remote)
{
    if (!repo || !name || !name[0])
        return hf_error_set(HF_EINVAL, "hf_repo_tag_exists: no repository or tag name");
    hf_buf ref = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = tag_ref(&ref, name);
    if (rc == 0 && !remote)
        rc = local_exists(repo, ref.ptr);
    hf_repo_unlock(repo);
    if (rc == 0 && remote) {
        remote_step s = {remote, ref.ptr, NULL, 0};
        rc = hf_repo_with_own_git(repo, run_remote_step, &s);
    }
    hf_buf_free(&ref);
    return rc;
}

/* Creates the local tag; *out_target gets the tagged commit. */
static int add_local_tag(hf_repo *r, const char *name, const char *ref, const char *message, git_oid *out_target)
{
    git_object *head = NULL;
    git_signature *sig = NULL;
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
    if (rc == 0)
        git_oid_cpy(out_target, git_object_id(head));
out:
    git_signature_free(sig);
    git_object_free(head);
    return rc;
}

int hf_repo_add_tag(hf_repo *repo, const char *name, const char *message, const char *remote)
{
    if (!repo || !name || !name[0])
        return hf_error_set(HF_EINVAL, "hf_repo_add_tag: no repository or tag name");
    hf_buf ref = HF_BUF_INIT, spec = HF_BUF_INIT;
    git_oid target;
    int queued = 0;
    hf_repo_lock(repo);
    int rc = tag_ref(&ref, name);
    if (rc == 0)
        rc = add_local_tag(repo, name, ref.ptr, message, &target);
    /* with pushes queued or running, the tag goes behind them (and this call returns at once) */
    if (rc == 0 && remote && hf_repo_commands_in_progress(repo, NULL, 0) > 0) {
        rc = hf_queue_tag_push(repo, remote, ref.ptr, &target, NULL);
        queued = 1;
    }
    hf_repo_unlock(repo);
    if (rc == 0 && remote && !queued) {
        if (hf_buf_printf(&spec, "%s:%s", ref.ptr, ref.ptr) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        } else {
            remote_step s = {remote, ref.ptr, spec.ptr, -1};
            rc = hf_repo_with_own_git(repo, run_remote_step, &s);
        }
    }
    hf_buf_free(&spec);
    hf_buf_free(&ref);
    return rc;
}

static int delete_local_tag(hf_repo *r, const char *name, const char *ref)
{
    int rc = local_exists(r, ref);
    if (rc > 0 && git_tag_delete(r->git, name) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot delete the local tag");
    return rc < 0 ? rc : 0;
}

int hf_repo_delete_tag(hf_repo *repo, const char *name, const char *remote)
{
    if (!repo || !name || !name[0])
        return hf_error_set(HF_EINVAL, "hf_repo_delete_tag: no repository or tag name");
    hf_buf ref = HF_BUF_INIT, spec = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = tag_ref(&ref, name);
    if (rc == 0)
        rc = delete_local_tag(repo, name, ref.ptr);
    hf_repo_unlock(repo);
    if (rc == 0 && remote) {
        /* after what is queued (a queued push of this very tag must not land after its deletion) */
        if (hf_buf_printf(&spec, ":%s", ref.ptr) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if ((rc = hf_queue_wait_earlier(repo)) == 0) {
            remote_step s = {remote, ref.ptr, spec.ptr, 1};
            rc = hf_repo_with_own_git(repo, run_remote_step, &s);
            rc = rc > 0 ? 0 : rc;
        }
    }
    hf_buf_free(&spec);
    hf_buf_free(&ref);
    return rc;
}
