/*
 * add.c: hf_repo_add. Walks the working tree itself instead of using git_index_add_all or status, because
 * both ask libgit2 to hash "maybe modified" files, which reads a whole file into memory (libgit2 notes §2.2).
 * Here a file is re-staged when its stat data differs from its index entry (or it is racily clean), and
 * staging goes through git_index_add_bypath, which streams through the lfs filter and records the real stat
 * data, so a later status does not re-read it.
 */
#include "repo.h"

#include "attrs.h"
#include "lfs_filter.h"
#include "lfs_store.h"

#include "../common/error.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct path_list {
    char **items;
    size_t count, cap;
} path_list;

static int list_push(path_list *l, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return hf_error_set(HF_ENOMEM, "out of memory");
        l->items = items;
        l->cap = cap;
    }
    if (!(l->items[l->count] = strdup(s)))
        return hf_error_set(HF_ENOMEM, "out of memory");
    l->count++;
    return 0;
}

static void list_free(path_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
}

typedef struct add_ctx {
    hf_repo *repo;
    git_index *index;
    git_pathspec *ps;         /* NULL: everything */
    struct timespec index_mtime;
    path_list changed;        /* untracked or modified, not ignored */
    path_list deleted;        /* in the index, gone from the working tree */
    size_t matched;           /* index entries and untracked, not ignored files the pathspec matched */
} add_ctx;

static int matches(const add_ctx *c, const char *rel)
{
    return !c->ps || git_pathspec_matches_path(c->ps, 0, rel);
}

/* Same file as the index entry says? Size is compared truncated to 32 bits, as the index stores it; an entry
 * not older than the index file is "racily clean" and re-staged, as git does. */
static int entry_fresh(const add_ctx *c, const git_index_entry *e, const struct stat *st)
{
    if (e->file_size != (uint32_t)st->st_size || e->mtime.seconds != (int32_t)st->st_mtim.tv_sec ||
        e->mtime.nanoseconds != (uint32_t)st->st_mtim.tv_nsec || e->ino != (uint32_t)st->st_ino)
        return 0;
    if ((e->mode == GIT_FILEMODE_BLOB_EXECUTABLE) != (S_ISREG(st->st_mode) && (st->st_mode & 0111)))
        return 0;
    if (S_ISLNK(st->st_mode) != (e->mode == GIT_FILEMODE_LINK))
        return 0;
    if (e->mtime.seconds > (int32_t)c->index_mtime.tv_sec ||
        (e->mtime.seconds == (int32_t)c->index_mtime.tv_sec &&
         e->mtime.nanoseconds >= (uint32_t)c->index_mtime.tv_nsec))
        return 0;
    return 1;
}

/* 1 when the directory dir (absolute path) holds a `.git` (a directory, or a file as in submodules and
 * worktrees): the working tree of a nested repository, which huggingface_hub and git do not add as files. */
static int is_nested_repo(hf_buf *dir)
{
    size_t len = dir->len;
    struct stat st;
    int nested = hf_buf_puts(dir, "/.git") == 0 && lstat(dir->ptr, &st) == 0;
    dir->len = len;
    dir->ptr[len] = '\0';
    return nested;
}

static int walk(add_ctx *c, hf_buf *rel)
{
    hf_buf abs = HF_BUF_INIT;
    if (hf_buf_printf(&abs, "%s%s", c->repo->workdir, rel->ptr ? rel->ptr : "") < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    DIR *d = opendir(abs.ptr);
    if (!d) {
        int rc = hf_error_set(HF_EIO, "cannot read directory %s: %s", abs.ptr, strerror(errno));
        hf_buf_free(&abs);
        return rc;
    }
    int rc = 0;
    size_t base = rel->len;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
            continue;
        rel->len = base;
        if (hf_buf_puts(rel, de->d_name) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
        hf_buf full = HF_BUF_INIT;
        struct stat st;
        if (hf_buf_printf(&full, "%s%s", c->repo->workdir, rel->ptr) < 0 || lstat(full.ptr, &st) < 0) {
            hf_buf_free(&full);
            continue; /* vanished meanwhile */
        }
        int nested = S_ISDIR(st.st_mode) && is_nested_repo(&full);
        hf_buf_free(&full);
        if (nested)
            continue; /* another repository's files are not ours to stage (git would add a gitlink) */
        int ignored = 0;
        if (S_ISDIR(st.st_mode)) {
            if (hf_buf_putc(rel, '/') < 0) {
                rc = hf_error_set(HF_ENOMEM, "out of memory");
                break;
            }
            /* an ignored directory is only entered when it holds tracked files (they stay tracked) */
            git_ignore_path_is_ignored(&ignored, c->repo->git, rel->ptr);
            size_t pos;
            if (!ignored || git_index_find_prefix(&pos, c->index, rel->ptr) == 0)
                rc = walk(c, rel);
            continue;
        }
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
            continue;
        if (!matches(c, rel->ptr))
            continue;
        const git_index_entry *e = git_index_get_bypath(c->index, rel->ptr, 0);
        if (e) {
            if (!entry_fresh(c, e, &st))
                rc = list_push(&c->changed, rel->ptr);
            continue;
        }
        git_ignore_path_is_ignored(&ignored, c->repo->git, rel->ptr);
        if (!ignored) {
            c->matched++;
            rc = list_push(&c->changed, rel->ptr);
        }
    }
    rel->len = base;
    if (rel->ptr)
        rel->ptr[base] = '\0';
    closedir(d);
    hf_buf_free(&abs);
    return rc;
}

static int find_deleted(add_ctx *c)
{
    size_t n = git_index_entrycount(c->index);
    hf_buf full = HF_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const git_index_entry *e = git_index_get_byindex(c->index, i);
        if (GIT_INDEX_ENTRY_STAGE(e) != 0 || !matches(c, e->path))
            continue;
        c->matched++;
        struct stat st;
        hf_buf_clear(&full);
        if (hf_buf_printf(&full, "%s%s", c->repo->workdir, e->path) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if (lstat(full.ptr, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
            rc = list_push(&c->deleted, e->path);
    }
    hf_buf_free(&full);
    return rc;
}

static int is_lfs_tracked(hf_repo *r, const char *rel)
{
    const char *value = NULL;
    if (git_attr_get(&value, r->git, GIT_ATTR_CHECK_FILE_THEN_INDEX, rel, "filter") < 0)
        return 0;
    return git_attr_value(value) == GIT_ATTR_VALUE_STRING && strcmp(value, "lfs") == 0;
}

/* huggingface_hub §3.9: >= 10 MiB, else a non-text byte in the first 10 MiB. */
static int wants_lfs(hf_repo *r, const char *rel, int *out)
{
    hf_buf full = HF_BUF_INIT;
    struct stat st;
    *out = 0;
    if (hf_buf_printf(&full, "%s%s", r->workdir, rel) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    int rc = 0;
    if (lstat(full.ptr, &st) < 0 || !S_ISREG(st.st_mode))
        goto out;
    if ((uint64_t)st.st_size >= HF_AUTO_TRACK_SIZE) {
        *out = 1;
        goto out;
    }
    int fd = open(full.ptr, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = hf_error_set(HF_EIO, "cannot read %s: %s", full.ptr, strerror(errno));
        goto out;
    }
    char buf[65536];
    ssize_t n;
    size_t total = 0;
    while (!*out && total < HF_BINARY_SNIFF_SIZE && (n = read(fd, buf, sizeof(buf))) > 0) {
        *out = hf_is_binary(buf, (size_t)n);
        total += (size_t)n;
    }
    close(fd);
out:
    hf_buf_free(&full);
    return rc;
}

int hf_read_file(const char *path, hf_buf *out)
{
    /* O_NOFOLLOW: the work tree's content comes from the remote, and a .gitattributes that is a link
     * ("-> ~/.ssh/id_rsa") must not be read into the next commit; git ignores such a file too */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP ? 0
                                                 : hf_error_set(HF_EIO, "cannot read %s: %s", path, strerror(errno));
    char buf[8192];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (hf_buf_put(out, buf, (size_t)n) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            break;
        }
    if (n < 0)
        rc = hf_error_set(HF_EIO, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* Writes .gitattributes through a temp file and rename, so a crash never leaves half a file. */
int hf_repo_write_attrs(hf_repo *r, const hf_buf *content)
{
    hf_buf path = HF_BUF_INIT, tmp = HF_BUF_INIT;
    int rc = 0;
    if (hf_buf_printf(&path, "%s.gitattributes", r->workdir) < 0 ||
        hf_buf_printf(&tmp, "%s.gitattributes.hfgit-tmp", r->workdir) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    /* a fresh file: a ".gitattributes.hfgit-tmp" the remote's content put there (a link, say) is removed, and
     * O_EXCL never opens through one */
    (void)unlink(tmp.ptr);
    int fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || hf_write_all(fd, content->ptr ? content->ptr : "", content->len) < 0 || close(fd) < 0 ||
        rename(tmp.ptr, path.ptr) < 0) {
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", path.ptr, strerror(errno));
        unlink(tmp.ptr);
    }
out:
    hf_buf_free(&path);
    hf_buf_free(&tmp);
    return rc;
}

/* Adds track lines for the changed files that want LFS and drops the lines of deleted files. Returns 1 when
 * .gitattributes changed. */
static int auto_track(add_ctx *c)
{
    hf_buf path = HF_BUF_INIT, content = HF_BUF_INIT, pattern = HF_BUF_INIT;
    int rc = hf_buf_printf(&path, "%s.gitattributes", c->repo->workdir) < 0
                 ? hf_error_set(HF_ENOMEM, "out of memory")
                 : hf_read_file(path.ptr, &content);
    int changed = 0;
    for (size_t i = 0; rc == 0 && i < c->changed.count; i++) {
        const char *rel = c->changed.items[i];
        int want = 0;
        if (strcmp(rel, ".gitattributes") == 0 || is_lfs_tracked(c->repo, rel))
            continue;
        if ((rc = wants_lfs(c->repo, rel, &want)) < 0 || !want)
            continue;
        /* the escaped literal name, as `git lfs track --filename`: `model[0].bin` as written would be a
         * pattern matching model0.bin, not the file */
        if ((rc = hf_attrs_track_filename(&content, rel)) < 0)
            break;
        changed |= rc;
        rc = 0;
    }
    for (size_t i = 0; rc == 0 && i < c->deleted.count; i++) {
        if (strpbrk(c->deleted.items[i], "\n\r"))
            continue; /* no line can name it, so none was written */
        if ((rc = hf_attrs_escape_filename(c->deleted.items[i], &pattern)) < 0 ||
            (rc = hf_attrs_untrack(&content, pattern.ptr)) < 0)
            break;
        changed |= rc > 0;
        rc = 0;
    }
    if (rc == 0 && changed)
        rc = hf_repo_write_attrs(c->repo, &content);
    hf_buf_free(&path);
    hf_buf_free(&content);
    hf_buf_free(&pattern);
    return rc < 0 ? rc : changed;
}

/* Hashing progress (HF_PROGRESS_HASH): the bytes of the files being staged. The lfs filter reports what it
 * hashes as it goes (on this thread); each file is then counted whole, so the total comes out exact. */
typedef struct hash_progress {
    hf_progress_cb cb;
    void *payload;
    uint64_t done, total;
    int cancelled;
} hash_progress;

static int hash_report(hash_progress *h, uint64_t done)
{
    if (h->total == 0)
        return 0; /* nothing to hash: no report */
    if (done > h->total)
        done = h->total;
    if (done < h->done)
        return 0;
    h->done = done;
    if (h->cb(h->done, h->total, h->payload) != 0)
        h->cancelled = 1;
    return h->cancelled;
}

static int hash_step(void *ud, uint64_t bytes)
{
    hash_progress *h = ud;
    return hash_report(h, h->done + bytes);
}

static uint64_t file_size(const add_ctx *c, const char *rel)
{
    hf_buf full = HF_BUF_INIT;
    struct stat st;
    uint64_t size = 0;
    if (hf_buf_printf(&full, "%s%s", c->repo->workdir, rel) == 0 && lstat(full.ptr, &st) == 0)
        size = (uint64_t)st.st_size;
    hf_buf_free(&full);
    return size;
}

static int stage_files(add_ctx *c, int attrs_changed, hash_progress *h)
{
    uint64_t *sizes = NULL;
    if (h) {
        if (!(sizes = calloc(c->changed.count + 1, sizeof(*sizes))))
            return hf_error_set(HF_ENOMEM, "out of memory");
        for (size_t i = 0; i < c->changed.count; i++)
            h->total += sizes[i] = file_size(c, c->changed.items[i]);
        hf_lfs_filter_set_clean_progress(hash_step, h);
        hash_report(h, 0);
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->changed.count && !(h && h->cancelled); i++) {
        uint64_t end = h ? h->done + sizes[i] : 0;
        if (attrs_changed && strcmp(c->changed.items[i], ".gitattributes") == 0)
            ; /* staged first, below */
        else if (git_index_add_bypath(c->index, c->changed.items[i]) < 0 && !(h && h->cancelled)) {
            hf_repo_git_error(HF_ERROR, "cannot stage");
            rc = hf_error_prefix("%s: ", c->changed.items[i]);
        }
        if (h && !h->cancelled)
            hash_report(h, end);
    }
    if (h) {
        hf_lfs_filter_set_clean_progress(NULL, NULL);
        free(sizes);
        if (rc == 0 && h->cancelled) {
            git_index_read(c->index, 1); /* drop what was staged in memory: the index file is unchanged */
            rc = hf_error_set(HF_ECANCELLED, "hf_repo_add was cancelled by the progress callback; nothing was "
                                             "staged");
        }
    }
    return rc;
}

static int stage(add_ctx *c, int attrs_changed)
{
    /* .gitattributes first, so that the filter attributes of the new lines are what the index says too */
    if (attrs_changed && git_index_add_bypath(c->index, ".gitattributes") < 0)
        return hf_repo_git_error(HF_ERROR, "cannot stage .gitattributes");
    hash_progress h = {c->repo->hash_cb, c->repo->hash_payload, 0, 0, 0};
    int rc = stage_files(c, attrs_changed, h.cb ? &h : NULL);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < c->deleted.count; i++)
        if (git_index_remove_bypath(c->index, c->deleted.items[i]) < 0)
            return hf_repo_git_error(HF_ERROR, "cannot unstage a deleted file");
    if (git_index_write(c->index) < 0)
        return hf_repo_git_error(HF_EIO, "cannot write the index");
    return 0;
}

/* As git add: a pathspec is relative to the working tree ("./x" is x); an absolute one must lie inside it and
 * is made relative; one that leaves it is refused rather than silently matching nothing. *out points into
 * pathspec (NULL stays NULL: everything). */
static int relative_pathspec(const hf_repo *repo, const char *pathspec, const char **out)
{
    const char *spec = pathspec;
    *out = NULL;
    if (!spec)
        return 0;
    size_t wdlen = strlen(repo->workdir);
    if (spec[0] == '/') {
        if (strncmp(spec, repo->workdir, wdlen) == 0)
            spec += wdlen;
        else if (strlen(spec) + 1 == wdlen && strncmp(spec, repo->workdir, wdlen - 1) == 0)
            spec = ".";
        else
            return hf_error_set(HF_EINVAL, "hf_repo_add: '%s' is outside the repository %s", pathspec,
                                repo->workdir);
    }
    while (spec[0] == '.' && spec[1] == '/') {
        spec += 2;
        while (*spec == '/')
            spec++;
    }
    size_t n = strlen(spec);
    if (strcmp(spec, "..") == 0 || strncmp(spec, "../", 3) == 0 || strstr(spec, "/../") ||
        (n >= 3 && strcmp(spec + n - 3, "/..") == 0))
        return hf_error_set(HF_EINVAL, "hf_repo_add: '%s' is outside the repository %s (a pathspec is relative "
                                       "to the working tree and may not use ..)",
                            pathspec, repo->workdir);
    *out = spec;
    return 0;
}

static int add_unlocked(hf_repo *repo, const char *pathspec, int auto_lfs_track)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_add: no repository");
    add_ctx c = {repo, NULL, NULL, {0, 0}, {0}, {0}, 0};
    int rc = 0;
    const char *spec = NULL;
    if ((rc = relative_pathspec(repo, pathspec, &spec)) < 0)
        return rc;
    if (git_repository_index(&c.index, repo->git) < 0 || git_index_read(c.index, 0) < 0)
        return hf_repo_git_error(HF_EIO, "cannot read the index");
    if (spec && spec[0] && strcmp(spec, ".") != 0) {
        char *ps[] = {(char *)spec};
        git_strarray arr = {ps, 1};
        if (git_pathspec_new(&c.ps, &arr) < 0) {
            rc = hf_repo_git_error(HF_EINVAL, "invalid pathspec");
            goto out;
        }
    }
    hf_buf idx = HF_BUF_INIT, rel = HF_BUF_INIT;
    struct stat st;
    if (hf_buf_printf(&idx, "%sindex", git_repository_path(repo->git)) == 0 && stat(idx.ptr, &st) == 0)
        c.index_mtime = st.st_mtim;
    hf_buf_free(&idx);
    if ((rc = hf_buf_puts(&rel, "")) == 0 && (rc = walk(&c, &rel)) == 0)
        rc = find_deleted(&c);
    hf_buf_free(&rel);
    if (rc == 0 && c.ps && c.matched == 0) {
        rc = hf_error_set(HF_ENOTFOUND, "hf_repo_add: pathspec '%s' did not match any files (ignored files are "
                                        "not added)", pathspec);
        goto out;
    }
    int attrs_changed = 0;
    if (rc == 0 && auto_lfs_track)
        rc = attrs_changed = auto_track(&c);
    if (rc >= 0)
        rc = stage(&c, attrs_changed > 0);
out:
    list_free(&c.changed);
    list_free(&c.deleted);
    git_pathspec_free(c.ps);
    git_index_free(c.index);
    return rc < 0 ? rc : 0;
}

int hf_repo_add(hf_repo *repo, const char *pathspec, int auto_lfs_track)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_add: no repository");
    hf_repo_lock(repo);
    int rc = add_unlocked(repo, pathspec, auto_lfs_track);
    hf_repo_unlock(repo);
    return rc;
}
