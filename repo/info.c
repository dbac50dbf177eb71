/* info.c: what the repository is on: current branch, HEAD's id, the remote's URL and commit page, deleted
 * files (huggingface_hub §3.4: current_branch, git_head_hash, git_remote_url, git_head_commit_url,
 * list_deleted_files). */
#include "repo.h"

#include "../common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void hf_strarray_dispose(hf_strarray *arr)
{
    if (!arr)
        return;
    for (size_t i = 0; i < arr->count; i++)
        free(arr->strings[i]);
    free(arr->strings);
    arr->strings = NULL;
    arr->count = 0;
}

static int strarray_push(hf_strarray *arr, const char *s)
{
    char **grown = realloc(arr->strings, (arr->count + 1) * sizeof(*grown));
    if (!grown)
        return hf_error_set(HF_ENOMEM, "out of memory");
    arr->strings = grown;
    if (!(arr->strings[arr->count] = strdup(s)))
        return hf_error_set(HF_ENOMEM, "out of memory");
    arr->count++;
    return 0;
}

static int detach_to(hf_buf *b, char **out)
{
    *out = hf_buf_detach(b);
    hf_buf_free(b);
    return *out ? 0 : hf_error_set(HF_ENOMEM, "out of memory");
}

static int current_branch_unlocked(hf_repo *r, hf_buf *out)
{
    git_reference *head = NULL;
    int rc = 0;
    if (git_repository_head_detached(r->git) == 1)
        return hf_buf_puts(out, "HEAD") < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : 0;
    /* an unborn branch still has a name: HEAD's symbolic target */
    if (git_reference_lookup(&head, r->git, "HEAD") < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read HEAD");
    const char *target = git_reference_symbolic_target(head);
    if (!target || strncmp(target, "refs/heads/", 11) != 0)
        rc = hf_error_set(HF_ERROR, "HEAD points to %s, not a branch", target ? target : "nothing");
    else if (hf_buf_puts(out, target + 11) < 0)
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    git_reference_free(head);
    return rc;
}

int hf_repo_current_branch(hf_repo *repo, char **out)
{
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_repo_current_branch: no output");
    *out = NULL;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_current_branch: no repository");
    hf_buf b = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = current_branch_unlocked(repo, &b);
    hf_repo_unlock(repo);
    if (rc < 0) {
        hf_buf_free(&b);
        return rc;
    }
    return detach_to(&b, out);
}

static int head_hash_unlocked(hf_repo *r, char out[41])
{
    git_oid id;
    if (git_reference_name_to_id(&id, r->git, "HEAD") < 0) {
        git_error_clear();
        return hf_error_set(HF_ENOTFOUND, "HEAD has no commit yet in %s", r->workdir);
    }
    git_oid_tostr(out, 41, &id);
    return 0;
}

int hf_repo_head_hash(hf_repo *repo, char out[41])
{
    if (!repo || !out)
        return hf_error_set(HF_EINVAL, "hf_repo_head_hash: no repository or output");
    out[0] = '\0';
    hf_repo_lock(repo);
    int rc = head_hash_unlocked(repo, out);
    hf_repo_unlock(repo);
    return rc;
}

int hf_repo_remote_url(hf_repo *repo, char **out)
{
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_repo_remote_url: no output");
    *out = NULL;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_remote_url: no repository");
    hf_buf b = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = hf_repo_origin_url(repo, "origin", &b);
    hf_repo_unlock(repo);
    if (rc < 0) {
        hf_buf_free(&b);
        return rc;
    }
    return detach_to(&b, out);
}

int hf_repo_head_commit_url(hf_repo *repo, char **out)
{
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_repo_head_commit_url: no output");
    *out = NULL;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_head_commit_url: no repository");
    hf_buf b = HF_BUF_INIT;
    char sha[41];
    hf_repo_lock(repo);
    int rc = hf_repo_origin_url(repo, "origin", &b);
    if (rc == 0)
        rc = head_hash_unlocked(repo, sha);
    hf_repo_unlock(repo);
    if (rc == 0) {
        /* the reference strips one trailing '/'; a ".git" suffix would not name the hub's page either */
        while (b.len && b.ptr[b.len - 1] == '/')
            b.ptr[--b.len] = '\0';
        if (b.len > 4 && strcmp(b.ptr + b.len - 4, ".git") == 0)
            b.ptr[b.len -= 4] = '\0';
        if (hf_buf_printf(&b, "/commit/%s", sha) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
    }
    if (rc < 0) {
        hf_buf_free(&b);
        return rc;
    }
    return detach_to(&b, out);
}

/* Deleted in the index relative to HEAD (tree-to-index diff: no file is read), then index entries whose file
 * is gone from the working tree (lstat only). */
static int deleted_unlocked(hf_repo *r, hf_strarray *out)
{
    git_index *index = NULL;
    git_tree *tree = NULL;
    git_diff *diff = NULL;
    git_object *head = NULL;
    hf_buf full = HF_BUF_INIT;
    int rc = 0;
    if (git_repository_index(&index, r->git) < 0 || git_index_read(index, 0) < 0)
        return hf_repo_git_error(HF_EIO, "cannot read the index");
    if (git_revparse_single(&head, r->git, "HEAD^{tree}") == 0) {
        tree = (git_tree *)head;
        head = NULL;
        if (git_diff_tree_to_index(&diff, r->git, tree, index, NULL) < 0) {
            rc = hf_repo_git_error(HF_ERROR, "cannot compare the index with HEAD");
            goto out;
        }
        for (size_t i = 0; rc == 0 && i < git_diff_num_deltas(diff); i++) {
            const git_diff_delta *d = git_diff_get_delta(diff, i);
            if (d->status == GIT_DELTA_DELETED)
                rc = strarray_push(out, d->old_file.path);
        }
    }
    git_error_clear();
    for (size_t i = 0; rc == 0 && i < git_index_entrycount(index); i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        struct stat st;
        hf_buf_clear(&full);
        if (hf_buf_printf(&full, "%s%s", r->workdir, e->path) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if (lstat(full.ptr, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
            rc = strarray_push(out, e->path);
    }
out:
    hf_buf_free(&full);
    git_diff_free(diff);
    git_tree_free(tree);
    git_object_free(head);
    git_index_free(index);
    return rc;
}

int hf_repo_list_deleted_files(hf_repo *repo, hf_strarray *out)
{
    if (!repo || !out)
        return hf_error_set(HF_EINVAL, "hf_repo_list_deleted_files: no repository or output");
    out->strings = NULL;
    out->count = 0;
    hf_repo_lock(repo);
    int rc = deleted_unlocked(repo, out);
    hf_repo_unlock(repo);
    if (rc < 0)
        hf_strarray_dispose(out);
    return rc;
}
