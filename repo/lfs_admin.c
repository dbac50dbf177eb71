/*
 * lfs_admin.c: LFS housekeeping: lfs_track / lfs_untrack of patterns or of literal file names (.gitattributes
 * lines, as git lfs track/untrack and track --filename), lfs_enable_largefiles (configuration for the git CLI),
 * lfs_prune (free the store of objects the remote has).
 *
 * Prune is deliberately narrower than `git lfs prune`: an object goes only when a commit reachable from a
 * remote-tracking branch refers to it (it was pushed), and nothing local still needs it: HEAD's tree, the
 * index, or a commit not yet on the remote.
 */
#include "repo.h"

#include "lfs_scan.h"

#include "attrs.h"

#include "../common/error.h"
#include "../common/pointer.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int (*attrs_edit_fn)(hf_buf *content, const char *pattern);

static int edit_attrs(hf_repo *r, const char *const *patterns, size_t count, attrs_edit_fn edit, const char *what)
{
    hf_buf path = HF_BUF_INIT, content = HF_BUF_INIT;
    int rc = hf_buf_printf(&path, "%s.gitattributes", r->workdir) < 0 ? hf_error_set(HF_ENOMEM, "out of memory")
                                                                       : hf_read_file(path.ptr, &content);
    int changed = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (!patterns[i] || !patterns[i][0] || strpbrk(patterns[i], "\n\r")) {
            rc = hf_error_set(HF_EINVAL, "%s: invalid pattern \"%s\" (empty, or a line break: a .gitattributes "
                              "pattern is one line)", what, patterns[i] ? patterns[i] : "");
            break;
        }
        int n = edit(&content, patterns[i]);
        if (n < 0)
            rc = n;
        else
            changed += n;
    }
    if (rc == 0 && changed)
        rc = hf_repo_write_attrs(r, &content);
    hf_buf_free(&path);
    hf_buf_free(&content);
    return rc < 0 ? rc : changed;
}

/* The four public track / untrack calls: the same checks and lock around edit_attrs, named for the caller. */
static int locked_edit(hf_repo *r, const char *const *items, size_t count, attrs_edit_fn edit,
                       const char *what)
{
    if (!r || (count && !items))
        return hf_error_set(HF_EINVAL, "%s: no repository, or no list of names", what);
    hf_repo_lock(r);
    int rc = edit_attrs(r, items, count, edit, what);
    hf_repo_unlock(r);
    return rc;
}

int hf_repo_lfs_track(hf_repo *repo, const char *const *patterns, size_t count)
{
    return locked_edit(repo, patterns, count, hf_attrs_track, "hf_repo_lfs_track");
}

int hf_repo_lfs_track_filenames(hf_repo *repo, const char *const *paths, size_t count)
{
    return locked_edit(repo, paths, count, hf_attrs_track_filename, "hf_repo_lfs_track_filenames");
}

int hf_repo_lfs_untrack(hf_repo *repo, const char *const *patterns, size_t count)
{
    return locked_edit(repo, patterns, count, hf_attrs_untrack, "hf_repo_lfs_untrack");
}

int hf_repo_lfs_untrack_filenames(hf_repo *repo, const char *const *paths, size_t count)
{
    return locked_edit(repo, paths, count, hf_attrs_untrack_filename, "hf_repo_lfs_untrack_filenames");
}

int hf_repo_lfs_enable_largefiles(hf_repo *repo)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_lfs_enable_largefiles: no repository");
    static const char *const kv[][2] = {{"lfs.customtransfer.multipart.path", "git-lfs-hfmultipart"},
                                        {"lfs.customtransfer.multipart.args", ""},
                                        {"lfs.customtransfer.multipart.direction", "upload"}};
    git_config *cfg = NULL;
    int rc = 0;
    hf_repo_lock(repo);
    if (git_repository_config(&cfg, repo->git) < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot open the repository configuration");
    for (size_t i = 0; rc == 0 && i < sizeof(kv) / sizeof(kv[0]); i++)
        if (git_config_set_string(cfg, kv[i][0], kv[i][1]) < 0)
            rc = hf_repo_git_error(HF_EIO, "cannot write the repository configuration");
    git_config_free(cfg);
    hf_repo_unlock(repo);
    return rc;
}

/* --- prune ------------------------------------------------------------------------------------------------- */

typedef struct oid_list {
    git_oid *ids;
    size_t count, cap;
} oid_list;

static int oid_push(oid_list *l, const git_oid *id)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        git_oid *ids = realloc(l->ids, cap * sizeof(*ids));
        if (!ids)
            return hf_error_set(HF_ENOMEM, "out of memory");
        l->ids = ids;
        l->cap = cap;
    }
    l->ids[l->count++] = *id;
    return 0;
}

/* The tips of local branches (and HEAD) and of remote-tracking branches. */
static int branch_tips(hf_repo *r, oid_list *local, oid_list *remote)
{
    git_reference_iterator *it = NULL;
    git_reference *ref = NULL;
    git_oid head;
    int rc = 0;
    if (git_reference_name_to_id(&head, r->git, "HEAD") == 0)
        rc = oid_push(local, &head);
    git_error_clear();
    if (rc == 0 && git_reference_iterator_new(&it, r->git) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot list the references");
    while (rc == 0 && git_reference_next(&ref, it) == 0) {
        git_reference *resolved = NULL;
        if ((git_reference_is_branch(ref) || git_reference_is_remote(ref)) &&
            git_reference_resolve(&resolved, ref) == 0 && git_reference_target(resolved))
            rc = oid_push(git_reference_is_remote(ref) ? remote : local, git_reference_target(resolved));
        git_reference_free(resolved);
        git_reference_free(ref);
    }
    git_error_clear();
    git_reference_iterator_free(it);
    return rc;
}

/* The LFS pointers among the index's small blobs (staged but maybe not committed). */
static int index_pointers(hf_repo *r, hf_lfs_set *out)
{
    git_index *index = NULL;
    if (git_repository_index(&index, r->git) < 0 || git_index_read(index, 0) < 0) {
        git_index_free(index);
        return hf_repo_git_error(HF_EIO, "cannot read the index");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < git_index_entrycount(index); i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        git_blob *blob = NULL;
        if (e->file_size >= 1024 || git_blob_lookup(&blob, r->git, &e->id) < 0) {
            git_error_clear();
            continue;
        }
        hf_lfs_pointer p;
        if (hf_pointer_parse(&p, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), NULL) == 0 && p.size)
            rc = hf_lfs_set_add(out, &p, e->path);
        hf_error_clear();
        git_blob_free(blob);
    }
    git_index_free(index);
    return rc;
}

static int in_set(const hf_lfs_set *s, const char *oid)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].oid, oid) == 0)
            return 1;
    return 0;
}

/* A fresh trash folder <lfs>/tmp/prune-XXXXXX for the objects one prune removes. */
static int make_trash(hf_repo *r, hf_buf *trash)
{
    if (hf_buf_printf(trash, "%s/tmp", r->lfs_dir.ptr) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (mkdir(trash->ptr, 0777) < 0 && errno != EEXIST)
        return hf_error_set(HF_EIO, "lfs prune: cannot create %s: %s", trash->ptr, strerror(errno));
    if (hf_buf_puts(trash, "/prune-XXXXXX") < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (!mkdtemp(trash->ptr))
        return hf_error_set(HF_EIO, "lfs prune: cannot create a folder in %s/tmp: %s", r->lfs_dir.ptr,
                            strerror(errno));
    return 0;
}

int hf_repo_lfs_prune_unlocked(hf_repo *r, hf_buf *trash, size_t *out_removed, uint64_t *out_bytes)
{
    oid_list local = {0}, remote = {0};
    hf_lfs_set keep = HF_LFS_SET_INIT, pushed = HF_LFS_SET_INIT;
    hf_buf path = HF_BUF_INIT, aside = HF_BUF_INIT;
    size_t removed = 0;
    uint64_t bytes = 0;
    int rc = branch_tips(r, &local, &remote);
    if (rc < 0 || remote.count == 0)
        goto out; /* nothing is known to be on a remote */
    git_oid head;
    if (git_reference_name_to_id(&head, r->git, "HEAD") == 0)
        rc = hf_lfs_scan_commit_tree(r->git, &head, &keep);
    git_error_clear();
    if (rc == 0)
        rc = index_pointers(r, &keep);
    if (rc == 0 && local.count)
        rc = hf_lfs_scan_range(r->git, local.ids, local.count, remote.ids, remote.count, &keep);
    if (rc == 0)
        rc = hf_lfs_scan_range(r->git, remote.ids, remote.count, NULL, 0, &pushed);
    for (size_t i = 0; rc == 0 && i < pushed.count; i++) {
        const char *oid = pushed.items[i].oid;
        struct stat st;
        if (in_set(&keep, oid))
            continue;
        hf_buf_clear(&path);
        if ((rc = hf_lfs_object_path(&path, r->lfs_dir.ptr, oid)) < 0)
            break;
        if (stat(path.ptr, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!trash->ptr && (rc = make_trash(r, trash)) < 0)
            break;
        hf_buf_clear(&aside);
        if (hf_buf_printf(&aside, "%s/%s", trash->ptr, oid) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
        /* objects/ on another file system than tmp/ (a symbolic link): delete in place, under the lock */
        if (rename(path.ptr, aside.ptr) == 0 || (errno == EXDEV && unlink(path.ptr) == 0)) {
            removed++;
            bytes += (uint64_t)st.st_size;
        }
    }
out:
    if (out_removed)
        *out_removed = removed;
    if (out_bytes)
        *out_bytes = bytes;
    free(local.ids);
    free(remote.ids);
    hf_lfs_set_free(&keep);
    hf_lfs_set_free(&pushed);
    hf_buf_free(&path);
    hf_buf_free(&aside);
    return rc;
}

/* Deletes dir's files and dir itself (a prune's trash). */
static void remove_trash_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    hf_buf file = HF_BUF_INIT;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        hf_buf_clear(&file);
        if (hf_buf_printf(&file, "%s/%s", dir, de->d_name) == 0)
            (void)unlink(file.ptr);
    }
    closedir(d);
    hf_buf_free(&file);
    (void)rmdir(dir);
}

void hf_repo_lfs_prune_empty_trash(hf_repo *r, hf_buf *trash)
{
    /* also the trash of a prune killed before it got here: a prune-* folder untouched for 10 minutes (a
     * younger one may be another prune's, still filling) holds only removed objects */
    hf_buf tmp = HF_BUF_INIT, dir = HF_BUF_INIT;
    DIR *d = NULL;
    if (hf_buf_printf(&tmp, "%s/tmp", r->lfs_dir.ptr) == 0)
        d = opendir(tmp.ptr);
    struct dirent *de;
    time_t now = time(NULL);
    while (d && (de = readdir(d))) {
        struct stat st;
        if (strncmp(de->d_name, "prune-", 6) != 0)
            continue;
        hf_buf_clear(&dir);
        if (hf_buf_printf(&dir, "%s/%s", tmp.ptr, de->d_name) == 0 && stat(dir.ptr, &st) == 0 &&
            st.st_mtime < now - 600)
            remove_trash_dir(dir.ptr);
    }
    if (d)
        closedir(d);
    if (trash->ptr)
        remove_trash_dir(trash->ptr);
    hf_buf_free(&tmp);
    hf_buf_free(&dir);
    hf_buf_free(trash);
}

int hf_repo_lfs_prune(hf_repo *repo, size_t *out_removed, uint64_t *out_bytes)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_lfs_prune: no repository");
    hf_buf trash = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = hf_repo_lfs_prune_unlocked(repo, &trash, out_removed, out_bytes);
    hf_repo_unlock(repo);
    hf_repo_lfs_prune_empty_trash(repo, &trash);
    return rc;
}
