/* lfs_scan.c: LFS pointers in a tree or a commit range (see lfs_scan.h). */
#include "lfs_scan.h"

#include "repo.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

void hf_lfs_set_free(hf_lfs_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->paths[i]);
    free(set->paths);
    free(set->items);
    memset(set, 0, sizeof(*set));
}

int hf_lfs_set_add(hf_lfs_set *set, const hf_lfs_pointer *p, const char *path)
{
    /* Linear dedup: pushes and checkouts carry tens to thousands of LFS files, not millions. */
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].oid, p->oid) == 0)
            return 0;
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        hf_lfs_pointer *items = realloc(set->items, cap * sizeof(*items));
        if (!items)
            return hf_error_set(HF_ENOMEM, "out of memory");
        set->items = items;
        char **paths = realloc(set->paths, cap * sizeof(*paths));
        if (!paths)
            return hf_error_set(HF_ENOMEM, "out of memory");
        set->paths = paths;
        set->cap = cap;
    }
    if (!(set->paths[set->count] = strdup(path ? path : "")))
        return hf_error_set(HF_ENOMEM, "out of memory");
    set->items[set->count++] = *p;
    return 0;
}

uint64_t hf_lfs_set_bytes(const hf_lfs_set *set)
{
    uint64_t total = 0;
    for (size_t i = 0; i < set->count; i++)
        total += set->items[i].size;
    return total;
}

/* Adds the blob when it is a non-empty pointer. Reads only the header of anything 1024 bytes or larger. */
static int consider_blob(git_repository *repo, git_odb *odb, const git_oid *id, const char *path, hf_lfs_set *out)
{
    size_t len;
    git_object_t type;
    if (git_odb_read_header(&len, &type, odb, id) < 0)
        return 0; /* not here (shallow or partial history): nothing to upload from it */
    if (type != GIT_OBJECT_BLOB || len == 0 || len >= HF_LFS_POINTER_MAX)
        return 0;
    git_blob *blob;
    if (git_blob_lookup(&blob, repo, id) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read a blob");
    hf_lfs_pointer p;
    int rc = 0;
    if (hf_pointer_parse(&p, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), NULL) == 0) {
        if (p.size > 0)
            rc = hf_lfs_set_add(out, &p, path);
    } else {
        hf_error_clear();
    }
    git_blob_free(blob);
    return rc;
}

typedef struct tree_walk_ctx {
    git_repository *repo;
    git_odb *odb;
    hf_lfs_set *out;
    int rc;
} tree_walk_ctx;

static int tree_cb(const char *root, const git_tree_entry *entry, void *payload)
{
    tree_walk_ctx *c = payload;
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB || git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK)
        return 0;
    hf_buf path = HF_BUF_INIT;
    if (hf_buf_printf(&path, "%s%s", root, git_tree_entry_name(entry)) < 0) {
        c->rc = hf_error_set(HF_ENOMEM, "out of memory");
        return -1;
    }
    c->rc = consider_blob(c->repo, c->odb, git_tree_entry_id(entry), path.ptr, c->out);
    hf_buf_free(&path);
    return c->rc < 0 ? -1 : 0;
}

static int scan_tree(git_repository *repo, git_odb *odb, git_tree *tree, hf_lfs_set *out)
{
    tree_walk_ctx c = {repo, odb, out, 0};
    if (git_tree_walk(tree, GIT_TREEWALK_PRE, tree_cb, &c) < 0 && c.rc == 0)
        return hf_repo_git_error(HF_ERROR, "cannot walk a tree");
    return c.rc;
}

int hf_lfs_scan_commit_tree(git_repository *repo, const git_oid *commit, hf_lfs_set *out)
{
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_odb *odb = NULL;
    int rc = 0;
    if (git_repository_odb(&odb, repo) < 0 || git_commit_lookup(&c, repo, commit) < 0 ||
        git_commit_tree(&tree, c) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot read the commit to check out");
    else
        rc = scan_tree(repo, odb, tree, out);
    git_tree_free(tree);
    git_commit_free(c);
    git_odb_free(odb);
    return rc;
}

/* The blobs a commit adds or changes against its first parent. */
static int scan_commit_delta(git_repository *repo, git_odb *odb, const git_oid *id, hf_lfs_set *out)
{
    git_commit *c = NULL, *parent = NULL;
    git_tree *tree = NULL, *ptree = NULL;
    git_diff *diff = NULL;
    int rc = 0;
    if (git_commit_lookup(&c, repo, id) < 0 || git_commit_tree(&tree, c) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot read a commit to push");
        goto out;
    }
    if (git_commit_parentcount(c) == 0) {
        rc = scan_tree(repo, odb, tree, out);
        goto out;
    }
    git_diff_options opts;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
    if (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&ptree, parent) < 0 ||
        git_diff_tree_to_tree(&diff, repo, ptree, tree, &opts) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot compare a commit with its parent");
        goto out;
    }
    size_t n = git_diff_num_deltas(diff);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        if (d->status == GIT_DELTA_DELETED || d->new_file.mode == GIT_FILEMODE_LINK ||
            d->new_file.mode == GIT_FILEMODE_COMMIT)
            continue;
        rc = consider_blob(repo, odb, &d->new_file.id, d->new_file.path, out);
    }
out:
    git_diff_free(diff);
    git_tree_free(ptree);
    git_tree_free(tree);
    git_commit_free(parent);
    git_commit_free(c);
    return rc;
}

int hf_lfs_scan_range(git_repository *repo, const git_oid *tips, size_t ntips, const git_oid *hidden,
                      size_t nhidden, hf_lfs_set *out)
{
    git_revwalk *walk = NULL;
    git_odb *odb = NULL;
    int rc = 0;
    if (git_repository_odb(&odb, repo) < 0 || git_revwalk_new(&walk, repo) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot walk the history");
        goto out;
    }
    for (size_t i = 0; i < ntips; i++)
        if (git_revwalk_push(walk, &tips[i]) < 0) {
            rc = hf_repo_git_error(HF_ERROR, "cannot walk from a commit to push");
            goto out;
        }
    /* Tips the remote has but we do not know are no boundary for us: skip them (as push.c does). */
    for (size_t i = 0; i < nhidden; i++)
        if (git_revwalk_hide(walk, &hidden[i]) < 0)
            git_error_clear();
    git_oid id;
    int w;
    while (rc == 0 && (w = git_revwalk_next(&id, walk)) == 0)
        rc = scan_commit_delta(repo, odb, &id, out);
    if (rc == 0 && w != GIT_ITEROVER)
        rc = hf_repo_git_error(HF_ERROR, "cannot walk the history");
out:
    git_revwalk_free(walk);
    git_odb_free(odb);
    return rc;
}
