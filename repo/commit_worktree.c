/*
 * commit_worktree.c: the work tree and index after hf_repo_create_commit (commit_ops.h).
 *
 * Content comes from the object databases, never from the caller's buffers: a git blob as stored, an LFS
 * pointer as its object from .git/lfs/objects (streamed; the pointer itself when the object is not here,
 * as a clone with skip_lfs_files leaves it). Temp files live under .git/ so that a path that is a file now
 * and a folder in the commit (or the reverse) can be handled after the deletions, and renames stay on one
 * file system.
 */
#include "commit_ops.h"

#include "lfs_store.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hf_touched_add(hf_touched_list *l, const char *path, int in_place)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].path, path) == 0) {
            l->items[i].in_place = in_place; /* the last operation on a path decides */
            return 0;
        }
    if (l->count == l->cap || !l->items) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        hf_touched *items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return hf_error_set(HF_ENOMEM, "out of memory");
        l->items = items;
        l->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return hf_error_set(HF_ENOMEM, "out of memory");
    l->items[l->count++] = (hf_touched){copy, in_place, NULL};
    return 0;
}

void hf_touched_free(hf_touched_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].path);
        free(l->items[i].tmp);
    }
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

static int copy_fd(int in, int out, const char *what)
{
    char *buf = malloc((size_t)1 << 20);
    if (!buf)
        return hf_error_set(HF_ENOMEM, "out of memory");
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, (size_t)1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = hf_error_set(HF_EIO, "cannot read %s: %s", what, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (hf_write_all(out, buf, (size_t)n) < 0) {
            rc = hf_error_set(HF_EIO, "cannot write the new copy of %s: %s", what, strerror(errno));
            break;
        }
    }
    free(buf);
    return rc;
}

/* Writes the content of blob id (an LFS pointer: its object when present) to fd. */
static int write_content(hf_repo *r, const git_oid *id, int fd, const char *path)
{
    git_blob *blob = NULL;
    if (git_blob_lookup(&blob, r->git, id) < 0)
        return hf_repo_git_error(HF_EIO, "cannot read a blob of the new commit");
    const void *raw = git_blob_rawcontent(blob);
    size_t len = (size_t)git_blob_rawsize(blob);
    hf_lfs_pointer p;
    hf_buf obj = HF_BUF_INIT;
    int rc = 0;
    if (len < HF_LFS_POINTER_MAX && hf_pointer_parse(&p, raw, len, NULL) == 0 && p.size > 0 &&
        hf_lfs_object_present(r->lfs_dir.ptr, p.oid, p.size) && hf_lfs_object_path(&obj, r->lfs_dir.ptr, p.oid) == 0) {
        int in = open(obj.ptr, O_RDONLY | O_CLOEXEC);
        if (in < 0)
            rc = hf_error_set(HF_EIO, "cannot read %s: %s", obj.ptr, strerror(errno));
        else {
            rc = copy_fd(in, fd, path);
            close(in);
        }
    } else {
        hf_error_clear();
        if (hf_write_all(fd, raw, len) < 0)
            rc = hf_error_set(HF_EIO, "cannot write the new copy of %s: %s", path, strerror(errno));
    }
    hf_buf_free(&obj);
    git_blob_free(blob);
    return rc;
}

int hf_worktree_prepare(hf_repo *r, git_index *final, hf_touched_list *l)
{
    hf_buf dir = HF_BUF_INIT;
    int rc = 0;
    if (hf_buf_printf(&dir, "%shfgit-commit", git_repository_path(r->git)) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (mkdir(dir.ptr, 0777) < 0 && errno != EEXIST)
        rc = hf_error_set(HF_EIO, "cannot create %s: %s", dir.ptr, strerror(errno));
    for (size_t i = 0; rc == 0 && i < l->count; i++) {
        hf_touched *t = &l->items[i];
        const git_index_entry *e = git_index_get_bypath(final, t->path, 0);
        if (!e || t->in_place)
            continue;
        hf_buf tmp = HF_BUF_INIT;
        if (hf_buf_printf(&tmp, "%s/new-%zu-%ld", dir.ptr, i, (long)getpid()) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
        t->tmp = hf_buf_detach(&tmp);
        int fd = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      e->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666);
        if (fd < 0) {
            rc = hf_error_set(HF_EIO, "cannot create %s: %s", t->tmp, strerror(errno));
            break;
        }
        rc = write_content(r, &e->id, fd, t->path);
        if (close(fd) < 0 && rc == 0)
            rc = hf_error_set(HF_EIO, "cannot write %s: %s", t->tmp, strerror(errno));
    }
    hf_buf_free(&dir);
    if (rc < 0)
        hf_worktree_abort(l);
    return rc;
}

void hf_worktree_abort(hf_touched_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].tmp) {
            unlink(l->items[i].tmp);
            free(l->items[i].tmp);
            l->items[i].tmp = NULL;
        }
}

/* Removes the now empty folders above rel (as git does after removing a file). */
static void prune_dirs(const char *workdir, const char *rel)
{
    hf_buf p = HF_BUF_INIT;
    if (hf_buf_printf(&p, "%s%s", workdir, rel) < 0)
        return;
    size_t base = strlen(workdir);
    char *slash;
    while ((slash = strrchr(p.ptr + base, '/')) != NULL) {
        *slash = '\0';
        if (rmdir(p.ptr) < 0)
            break;
    }
    hf_buf_free(&p);
}

/* An index entry for path as the work tree now has it: the commit's blob and mode with the file's stat data,
 * so status and add see it as clean without reading it. */
static int stage(git_index *index, const git_index_entry *e, const char *full)
{
    struct stat st;
    git_index_entry n;
    memset(&n, 0, sizeof(n));
    n.path = e->path;
    n.id = e->id;
    n.mode = e->mode;
    if (lstat(full, &st) == 0) {
        n.ctime.seconds = (int32_t)st.st_ctim.tv_sec;
        n.ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
        n.mtime.seconds = (int32_t)st.st_mtim.tv_sec;
        n.mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
        n.dev = (uint32_t)st.st_dev;
        n.ino = (uint32_t)st.st_ino;
        n.uid = st.st_uid;
        n.gid = st.st_gid;
        n.file_size = (uint32_t)st.st_size;
    }
    return git_index_add(index, &n) < 0 ? hf_repo_git_error(HF_EIO, "cannot stage a file of the commit") : 0;
}

int hf_worktree_finish(hf_repo *r, git_index *final, hf_touched_list *l)
{
    hf_buf full = HF_BUF_INIT;
    git_index *index = NULL;
    int rc = 0;
    /* deletions first: a deleted file may be where a new folder goes */
    for (size_t i = 0; rc == 0 && i < l->count; i++) {
        if (git_index_get_bypath(final, l->items[i].path, 0))
            continue;
        hf_buf_clear(&full);
        if (hf_buf_printf(&full, "%s%s", r->workdir, l->items[i].path) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if ((rc = hf_path_refuse_links(r->workdir, l->items[i].path, 0)) < 0)
            break;
        else if (unlink(full.ptr) < 0 && errno != ENOENT && errno != ENOTDIR)
            rc = hf_error_set(HF_EIO, "cannot remove %s: %s", full.ptr, strerror(errno));
        else
            prune_dirs(r->workdir, l->items[i].path);
    }
    for (size_t i = 0; rc == 0 && i < l->count; i++) {
        hf_touched *t = &l->items[i];
        if (!t->tmp)
            continue;
        hf_buf_clear(&full);
        if (hf_buf_printf(&full, "%s%s", r->workdir, t->path) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if ((rc = hf_path_refuse_links(r->workdir, t->path, 0)) == 0 &&
                 (rc = hf_mkdir_parents(full.ptr, 0777)) == 0 && rename(t->tmp, full.ptr) < 0)
            rc = hf_error_set(HF_EIO, "cannot move the new %s into place: %s", full.ptr, strerror(errno));
        if (rc == 0) {
            free(t->tmp);
            t->tmp = NULL;
        }
    }
    if (rc == 0 && (git_repository_index(&index, r->git) < 0 || git_index_read(index, 0) < 0))
        rc = hf_repo_git_error(HF_EIO, "cannot read the index");
    for (size_t i = 0; rc == 0 && i < l->count; i++) {
        const git_index_entry *e = git_index_get_bypath(final, l->items[i].path, 0);
        hf_buf_clear(&full);
        if (!e) {
            git_index_remove(index, l->items[i].path, 0); /* not staged: nothing to remove */
            continue;
        }
        rc = hf_buf_printf(&full, "%s%s", r->workdir, e->path) < 0 ? hf_error_set(HF_ENOMEM, "out of memory")
                                                                  : stage(index, e, full.ptr);
    }
    if (rc == 0 && git_index_write(index) < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot write the index");
    git_index_free(index);
    hf_buf_free(&full);
    hf_worktree_abort(l);
    return rc;
}
