/*
 * status_list.c: hf_repo_status, `git status --short` without reading big files into memory.
 *
 * libgit2's status compares the index with the working tree by re-hashing every file whose stat data
 * changed, and it hashes filtered files by reading them whole into memory and running the filter on the
 * buffer (design §4 pitfall): a modified 10 GB LFS file would cost 10 GB of RAM. So only HEAD-vs-index comes
 * from libgit2 (GIT_STATUS_SHOW_INDEX_ONLY reads no working file); index-vs-working-tree is done here: a
 * file whose stat data matches its index entry (and is not racily clean) is unchanged; otherwise an LFS file
 * is hashed as the clean filter would store it (SHA-256 streamed from disk, then the pointer's blob id), and
 * any other file through git_repository_hashfile (small by the Hub's 10 MiB rule for non-LFS files).
 * Nothing is written: neither the index nor the LFS store.
 */
#include "repo.h"

#include "../common/digest.h"
#include "../common/error.h"
#include "../common/pointer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct status_ctx {
    hf_repo *repo;
    git_index *index;
    struct timespec index_mtime;
    hf_status *out;
    size_t cap;
} status_ctx;

static int path_is_lfs(git_repository *git, const char *path)
{
    const char *v = NULL;
    if (git_attr_get(&v, git, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") < 0) {
        git_error_clear();
        return 0;
    }
    return git_attr_value(v) == GIT_ATTR_VALUE_STRING && strcmp(v, "lfs") == 0;
}

/* The entry for path: with search, an existing one (HEAD-vs-index and index-vs-worktree changes of one path
 * share a line, "AM"), else a new one at the end (untracked files get their own line, as in git, where a
 * path can be both "D " and "??"). Entries are sorted at the end. */
static hf_status_entry *entry_for(status_ctx *c, const char *path, int search)
{
    for (size_t i = search ? c->out->count : 0; i-- > 0;)
        if (strcmp(c->out->entries[i].path, path) == 0)
            return &c->out->entries[i];
    if (c->out->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        hf_status_entry *grown = realloc(c->out->entries, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        c->out->entries = grown;
        c->cap = cap;
    }
    hf_status_entry *e = &c->out->entries[c->out->count];
    if (!(e->path = strdup(path)))
        return NULL;
    e->index_status = ' ';
    e->worktree_status = ' ';
    e->lfs = path_is_lfs(c->repo->git, path);
    c->out->count++;
    return e;
}

static int set_status(status_ctx *c, const char *path, char index_status, char worktree_status)
{
    hf_status_entry *e = entry_for(c, path, worktree_status != '?');
    if (!e)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (index_status)
        e->index_status = index_status;
    if (worktree_status)
        e->worktree_status = worktree_status;
    return 0;
}

/* The blob id the lfs clean filter would give the file: small pointers and empty files as they are, anything
 * else the canonical pointer of its streamed SHA-256. */
static int lfs_blob_id(git_oid *out, const char *full)
{
    char small[HF_LFS_POINTER_MAX];
    struct stat st;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int rc = hf_error_set(HF_EIO, "cannot read %s: %s", full, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    ssize_t n = 0;
    if (st.st_size < (off_t)sizeof(small))
        while ((n = pread(fd, small, sizeof(small), 0)) < 0 && errno == EINTR)
            ;
    close(fd);
    hf_lfs_pointer p;
    if (n > 0 && n < (ssize_t)sizeof(small) && hf_pointer_parse(&p, small, (size_t)n, NULL) == 0)
        return git_odb_hash(out, small, (size_t)n, GIT_OBJECT_BLOB) < 0 ? hf_repo_git_error(HF_ERROR, "hash") : 0;
    hf_error_clear();
    if (st.st_size == 0)
        return git_odb_hash(out, "", 0, GIT_OBJECT_BLOB) < 0 ? hf_repo_git_error(HF_ERROR, "hash") : 0;
    int rc = hf_sha256_file(full, p.oid, &p.size);
    hf_buf text = HF_BUF_INIT;
    if (rc == 0 && (rc = hf_pointer_format(&p, &text)) == 0 &&
        git_odb_hash(out, text.ptr, text.len, GIT_OBJECT_BLOB) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot hash a pointer");
    hf_buf_free(&text);
    return rc;
}

/* Stat data as the index records it, not older than the index file (else "racily clean": look closer). */
static int stat_fresh(const status_ctx *c, const git_index_entry *e, const struct stat *st)
{
    if (e->file_size != (uint32_t)st->st_size || e->mtime.seconds != (int32_t)st->st_mtim.tv_sec ||
        e->mtime.nanoseconds != (uint32_t)st->st_mtim.tv_nsec || e->ino != (uint32_t)st->st_ino)
        return 0;
    return e->mtime.seconds < (int32_t)c->index_mtime.tv_sec ||
           (e->mtime.seconds == (int32_t)c->index_mtime.tv_sec &&
            e->mtime.nanoseconds < (uint32_t)c->index_mtime.tv_nsec);
}

/* ' ' unchanged, 'M' modified, 'T' type changed, or a negative error. */
static int compare_entry(status_ctx *c, const git_index_entry *e, const char *full, const struct stat *st)
{
    int is_link = S_ISLNK(st->st_mode);
    if (is_link != (e->mode == GIT_FILEMODE_LINK))
        return 'T';
    if (!is_link && (e->mode == GIT_FILEMODE_BLOB_EXECUTABLE) != ((st->st_mode & 0111) != 0))
        return 'M';
    if (stat_fresh(c, e, st))
        return ' ';
    git_oid id;
    int rc = 0;
    if (is_link) {
        char target[4096];
        ssize_t n = readlink(full, target, sizeof(target));
        if (n < 0 || git_odb_hash(&id, target, (size_t)n, GIT_OBJECT_BLOB) < 0)
            rc = hf_error_set(HF_EIO, "cannot read the link %s", full);
    } else if (path_is_lfs(c->repo->git, e->path)) {
        rc = lfs_blob_id(&id, full);
    } else if (git_repository_hashfile(&id, c->repo->git, full, GIT_OBJECT_BLOB, e->path) < 0) {
        rc = hf_repo_git_error(HF_EIO, "cannot hash a file");
        hf_error_prefix("%s: ", e->path);
    }
    if (rc < 0)
        return rc;
    return git_oid_equal(&id, &e->id) ? ' ' : 'M';
}

static int is_nested_repo(const char *dir)
{
    hf_buf git = HF_BUF_INIT;
    struct stat st;
    int nested = hf_buf_printf(&git, "%s/.git", dir) == 0 && lstat(git.ptr, &st) == 0;
    hf_buf_free(&git);
    return nested;
}

/* Untracked files (not ignored) under rel; nested repositories are skipped as hf_repo_add skips them. */
static int walk_untracked(status_ctx *c, hf_buf *rel)
{
    hf_buf abs = HF_BUF_INIT;
    if (hf_buf_printf(&abs, "%s%s", c->repo->workdir, hf_buf_cstr(rel)) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    DIR *d = opendir(abs.ptr);
    hf_buf_free(&abs);
    if (!d)
        return 0; /* vanished, or unreadable: nothing to list */
    int rc = 0;
    size_t base = rel->len;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
            continue;
        rel->len = base;
        hf_buf full = HF_BUF_INIT;
        struct stat st;
        if (hf_buf_puts(rel, de->d_name) < 0 || hf_buf_printf(&full, "%s%s", c->repo->workdir, rel->ptr) < 0) {
            hf_buf_free(&full);
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
        int ignored = 0, there = lstat(full.ptr, &st) == 0, nested = there && S_ISDIR(st.st_mode) &&
                                                                   is_nested_repo(full.ptr);
        hf_buf_free(&full);
        if (!there || nested)
            continue;
        if (S_ISDIR(st.st_mode)) {
            size_t pos;
            if (hf_buf_putc(rel, '/') < 0) {
                rc = hf_error_set(HF_ENOMEM, "out of memory");
                break;
            }
            git_ignore_path_is_ignored(&ignored, c->repo->git, rel->ptr);
            if (!ignored || git_index_find_prefix(&pos, c->index, rel->ptr) == 0)
                rc = walk_untracked(c, rel);
        } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && !git_index_get_bypath(c->index, rel->ptr, 0)) {
            git_ignore_path_is_ignored(&ignored, c->repo->git, rel->ptr);
            if (!ignored)
                rc = set_status(c, rel->ptr, 0, '?');
        }
    }
    rel->len = base;
    if (rel->ptr)
        rel->ptr[base] = '\0';
    closedir(d);
    return rc;
}

/* Index against the working tree: modified, type-changed and deleted files. */
static int worktree_changes(status_ctx *c)
{
    size_t n = git_index_entrycount(c->index);
    hf_buf full = HF_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const git_index_entry *e = git_index_get_byindex(c->index, i);
        if (GIT_INDEX_ENTRY_STAGE(e) != 0 || e->mode == GIT_FILEMODE_COMMIT)
            continue;
        struct stat st;
        hf_buf_clear(&full);
        if (hf_buf_printf(&full, "%s%s", c->repo->workdir, e->path) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        } else if (lstat(full.ptr, &st) < 0 || S_ISDIR(st.st_mode)) {
            rc = set_status(c, e->path, 0, 'D');
        } else {
            int s = compare_entry(c, e, full.ptr, &st);
            rc = s < 0 ? s : s == ' ' ? 0 : set_status(c, e->path, 0, (char)s);
        }
    }
    hf_buf_free(&full);
    return rc;
}

static char index_char(unsigned s)
{
    if (s & GIT_STATUS_INDEX_NEW)
        return 'A';
    if (s & GIT_STATUS_INDEX_MODIFIED)
        return 'M';
    if (s & GIT_STATUS_INDEX_DELETED)
        return 'D';
    if (s & GIT_STATUS_INDEX_RENAMED)
        return 'R';
    if (s & GIT_STATUS_INDEX_TYPECHANGE)
        return 'T';
    return 0;
}

/* HEAD against the index, from libgit2 (reads no working file). */
static int index_changes(status_ctx *c)
{
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_ONLY;
    so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list *list = NULL;
    if (git_status_list_new(&list, c->repo->git, &so) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot compare the index with HEAD");
    int rc = 0;
    size_t n = git_status_list_entrycount(list);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const git_diff_delta *d = e->head_to_index;
        char ch = index_char(e->status);
        if (d && ch)
            rc = set_status(c, d->new_file.path ? d->new_file.path : d->old_file.path, ch, 0);
    }
    git_status_list_free(list);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const hf_status_entry *)a)->path, ((const hf_status_entry *)b)->path);
}

void hf_status_dispose(hf_status *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++)
        free(st->entries[i].path);
    free(st->entries);
    st->entries = NULL;
    st->count = 0;
}

int hf_repo_status(hf_repo *repo, hf_status *out)
{
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_repo_status: no output");
    out->entries = NULL;
    out->count = 0;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_status: no repository");
    hf_repo_lock(repo);
    status_ctx c = {repo, NULL, {0, 0}, out, 0};
    hf_buf idx = HF_BUF_INIT, rel = HF_BUF_INIT;
    struct stat st;
    int rc = 0;
    if (git_repository_index(&c.index, repo->git) < 0 || git_index_read(c.index, 0) < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot read the index");
    else if (hf_buf_printf(&idx, "%sindex", git_repository_path(repo->git)) == 0 && stat(idx.ptr, &st) == 0)
        c.index_mtime = st.st_mtim;
    if (rc == 0)
        rc = index_changes(&c);
    if (rc == 0)
        rc = worktree_changes(&c);
    if (rc == 0)
        rc = walk_untracked(&c, &rel);
    if (rc == 0 && out->count)
        qsort(out->entries, out->count, sizeof(*out->entries), by_path);
    git_index_free(c.index);
    hf_buf_free(&idx);
    hf_buf_free(&rel);
    hf_repo_unlock(repo);
    if (rc < 0)
        hf_status_dispose(out);
    return rc;
}
