/* upload_files.c: choosing, copying and deleting the files of an upload (upload.h). */
#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int match_one(const char *pattern, const char *rel)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '/') { /* "folder/" means everything below it */
        hf_buf p = HF_BUF_INIT;
        hf_buf_printf(&p, "%s*", pattern);
        int m = fnmatch(hf_buf_cstr(&p), rel, 0) == 0;
        hf_buf_free(&p);
        return m;
    }
    return fnmatch(pattern, rel, 0) == 0;
}

static int match_any(const hf_cli_list *l, const char *rel)
{
    for (size_t i = 0; l && i < l->count; i++)
        if (match_one(l->items[i], rel)) return 1;
    return 0;
}

int hf_upload_selected(const char *rel, const hf_cli_list *include, const hf_cli_list *exclude)
{
    /* "--include" with no pattern selects nothing, as huggingface-cli's allow_patterns=[] does */
    if (include && (include->count || include->given) && !match_any(include, rel)) return 0;
    return !match_any(exclude, rel);
}

/* Why a component of a path in the repository cannot be used: a symbolic link (named with its target), or
 * something else that is not a folder. */
static int refuse_component(int dirfd, const char *name, const hf_buf *shown, const char *root)
{
    struct stat st;
    char target[512];
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        return hf_error_set(
            HF_EINVAL,
            "%s is a symbolic link in the repository (to %s): hfgit upload never writes or "
            "deletes through a link the repository holds. Upload to another path, or remove the "
            "link from the repository first (clone in %s)",
            shown->ptr, n > 0 ? target : "?", root);
    }
    return hf_error_set(HF_EINVAL, "%s is not a folder in the repository (clone in %s)", shown->ptr, root);
}

/* Opens the folder rel below root ("" for root itself), one component at a time with O_NOFOLLOW, so a
 * symbolic link anywhere on the way (the repository's content comes from the remote: "out -> /home/me") is
 * refused instead of followed; missing folders are created when create is set, else HF_ENOTFOUND is returned
 * without a message. Returns the folder's descriptor or a negative hf_error_code. */
static int open_dir_below(const char *root, const char *rel, int create)
{
    hf_buf shown = HF_BUF_INIT;
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        hf_buf_free(&shown);
        return hf_error_set(HF_EIO, "cannot open %s: %s", root, strerror(errno));
    }
    for (const char *c = rel; *c && fd >= 0;) {
        size_t n = strcspn(c, "/");
        char name[NAME_MAX + 1];
        if (n > NAME_MAX) {
            close(fd);
            fd = hf_error_set(HF_EINVAL, "a path component of %s is too long", rel);
            break;
        }
        memcpy(name, c, n);
        name[n] = '\0';
        c += n + (c[n] == '/');
        if (n == 0 || strcmp(name, ".") == 0) continue;
        hf_buf_printf(&shown, "%s%s", shown.len ? "/" : "", name);
        if (strcmp(name, "..") == 0) {
            close(fd);
            fd = hf_error_set(HF_EINVAL, "%s leaves the repository", rel);
            break;
        }
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), reported = 0;
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, name, 0777) < 0 && errno != EEXIST) {
                next = hf_error_set(HF_EIO, "cannot create folder %s in %s: %s", shown.ptr, root,
                                    strerror(errno));
                reported = 1;
            } else {
                next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
        }
        if (next < 0 && !reported) {
            if (errno == ENOENT && !create)
                next = HF_ENOTFOUND;
            else if (errno == ELOOP || errno == ENOTDIR)
                next = refuse_component(fd, name, &shown, root);
            else
                next = hf_error_set(HF_EIO, "cannot open %s in %s: %s", shown.ptr, root, strerror(errno));
        }
        close(fd);
        fd = next;
    }
    hf_buf_free(&shown);
    return fd;
}

/* Splits rel at its last '/': the folder part goes to dir (without the '/'), the name is returned. */
static const char *split_last(const char *rel, hf_buf *dir)
{
    const char *slash = strrchr(rel, '/');
    hf_buf_clear(dir);
    if (!slash) return rel;
    hf_buf_put(dir, rel, (size_t)(slash - rel));
    return slash + 1;
}

static int copy_bytes(int in, int out, off_t size, const char *src, const char *dest)
{
    /* copy_file_range lets the kernel copy (or reflink) without a trip through user space */
    off_t left = size;
    int fallback = 0;
    while (left > 0 && !fallback) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
            fallback = 1;
        else if (n <= 0)
            return hf_error_set(HF_EIO, "cannot copy %s to %s: %s", src, dest,
                                n ? strerror(errno) : "file shrank");
        else
            left -= n;
    }
    char buf[1 << 16];
    ssize_t n;
    while (fallback && left > 0 && (n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n)
            return hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
        left -= n;
    }
    if (left > 0) return hf_error_set(HF_EIO, "cannot read all of %s: %s", src, strerror(errno));
    return 0;
}

int hf_upload_copy_file(const char *src, const char *root, const char *rel)
{
    struct stat st, have;
    hf_buf dir = HF_BUF_INIT;
    const char *name = split_last(rel, &dir);
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, dirfd = -1, rc = 0;
    if (in < 0 || fstat(in, &st) < 0) {
        rc = hf_error_set(HF_EIO, "cannot read %s: %s", src, strerror(errno));
        goto out;
    }
    if ((dirfd = open_dir_below(root, hf_buf_cstr(&dir), 1)) < 0) {
        rc = dirfd;
        goto out;
    }
    int exists = fstatat(dirfd, name, &have, AT_SYMLINK_NOFOLLOW) == 0;
    /* the copy carries the source's mtime, so an unchanged file from the last upload is neither copied nor,
     * its index stat data matching, hashed again (rsync's size + mtime rule, to the nanosecond) */
    if (exists && S_ISREG(have.st_mode) && have.st_size == st.st_size &&
        have.st_mtim.tv_sec == st.st_mtim.tv_sec && have.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
        (have.st_mode & 0777) == (st.st_mode & 0777)) {
        rc = 1;
        goto out;
    }
    /* a symbolic link at this path is replaced, never written through (it may point anywhere) */
    if (exists && S_ISLNK(have.st_mode) && unlinkat(dirfd, name, 0) < 0) {
        rc = hf_error_set(HF_EIO, "cannot replace the link %s: %s", rel, strerror(errno));
        goto out;
    }
    out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0777);
    if (out < 0 || fchmod(out, st.st_mode & 0777) < 0) {
        rc = hf_error_set(HF_EIO, "cannot write %s in %s: %s", rel, root, strerror(errno));
        goto out;
    }
    if ((rc = copy_bytes(in, out, st.st_size, src, rel)) < 0) goto out;
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (futimens(out, times) < 0)
        rc = hf_error_set(HF_EIO, "cannot set the time of %s: %s", rel, strerror(errno));
out:
    if (in >= 0) close(in);
    if (dirfd >= 0) close(dirfd);
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", rel, strerror(errno));
    hf_buf_free(&dir);
    return rc;
}

static int skipped_dir(const char *rel, const char *name)
{
    size_t n = strlen(rel);
    return strcmp(name, ".git") == 0 || strcmp(rel, ".cache/huggingface") == 0 ||
           (n > 19 && strcmp(rel + n - 19, "/.cache/huggingface") == 0);
}

typedef struct copy_ctx {
    const char *src;   /* the local folder */
    const char *root;  /* the cache clone's working tree */
    const char *under; /* PATH_IN_REPO, "" for the root */
    const hf_cli_list *include, *exclude;
    size_t count, unchanged;
} copy_ctx;

/* Copies the selected files below src/rel (rel "" or ending in '/') to root/under/rel. The local folder is
 * the user's own: a link to a file there is uploaded as the file; a link to a folder is not followed (it
 * could loop). The destination side is opened without following links (hf_upload_copy_file). */
static int copy_walk(copy_ctx *w, const char *rel)
{
    hf_buf dir = HF_BUF_INIT, r = HF_BUF_INIT, a = HF_BUF_INIT, b = HF_BUF_INIT;
    hf_buf_printf(&dir, "%s/%s", w->src, rel);
    DIR *d = opendir(dir.ptr);
    int rc = d ? 0 : hf_error_set(HF_EIO, "cannot read folder %s: %s", dir.ptr, strerror(errno));
    struct dirent *de;
    while (rc == 0 && d && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        hf_buf_clear(&r);
        hf_buf_printf(&r, "%s%s", rel, de->d_name);
        hf_buf_clear(&a);
        hf_buf_printf(&a, "%s/%s", w->src, r.ptr);
        struct stat st, lst;
        /* dangling symbolic links and special files have nothing to upload; nested repositories and
         * submodule links (".git" files or folders) stay out */
        if (lstat(a.ptr, &lst) < 0 || stat(a.ptr, &st) < 0 || strcmp(de->d_name, ".git") == 0 ||
            !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) || (S_ISLNK(lst.st_mode) && S_ISDIR(st.st_mode)))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (skipped_dir(r.ptr, de->d_name)) continue;
            hf_buf_putc(&r, '/');
            rc = copy_walk(w, r.ptr);
        } else if (hf_upload_selected(r.ptr, w->include, w->exclude)) {
            hf_buf_clear(&b);
            hf_buf_printf(&b, "%s%s%s", w->under, *w->under ? "/" : "", r.ptr);
            if ((rc = hf_upload_copy_file(a.ptr, w->root, b.ptr)) >= 0) {
                w->count++;
                w->unchanged += (size_t)rc;
                rc = 0;
            }
        }
    }
    if (d) (void)closedir(d);
    hf_buf_free(&dir);
    hf_buf_free(&r);
    hf_buf_free(&a);
    hf_buf_free(&b);
    return rc;
}

int hf_upload_copy_tree(const char *src, const char *root, const char *path_in_repo,
                        const hf_cli_list *include, const hf_cli_list *exclude, size_t *count,
                        size_t *unchanged)
{
    copy_ctx w = {src, root, path_in_repo, include, exclude, 0, 0};
    int rc = copy_walk(&w, "");
    *count = w.count;
    *unchanged = w.unchanged;
    return rc;
}

typedef struct delete_ctx {
    const hf_cli_list *patterns;
    const char *keep; /* the path (relative to the base) never deleted, or NULL */
    size_t count;
} delete_ctx;

/* Deletes the matching entries below the open folder dirfd (rel: its path relative to the base, "" or ending
 * in '/'). Everything is reached through descriptors opened with O_NOFOLLOW: a symbolic link in the
 * repository is an entry like a file (deleted when it matches, the link itself), never a folder to go into.
 */
static int delete_walk(delete_ctx *w, int dirfd, const char *rel)
{
    hf_buf r = HF_BUF_INIT;
    int dup_fd = dup(dirfd), rc = 0;
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0) close(dup_fd);
        return hf_error_set(HF_EIO, "cannot read folder %s: %s", *rel ? rel : ".", strerror(errno));
    }
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, ".git") == 0 || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        hf_buf_clear(&r);
        hf_buf_printf(&r, "%s%s", rel, de->d_name);
        if (S_ISDIR(st.st_mode)) {
            if (skipped_dir(r.ptr, de->d_name)) continue;
            int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = hf_error_set(HF_EIO, "cannot open folder %s: %s", r.ptr, strerror(errno));
                break;
            }
            hf_buf_putc(&r, '/');
            rc = delete_walk(w, sub, r.ptr);
            close(sub);
        } else if (match_any(w->patterns, r.ptr) && !(w->keep && strcmp(r.ptr, w->keep) == 0)) {
            if (unlinkat(dirfd, de->d_name, 0) < 0)
                rc = hf_error_set(HF_EIO, "cannot delete %s: %s", r.ptr, strerror(errno));
            else
                w->count++;
        }
    }
    (void)closedir(d);
    hf_buf_free(&r);
    return rc;
}

int hf_upload_delete(const char *workdir, const char *path_in_repo, const hf_cli_list *patterns,
                     size_t *count)
{
    *count = 0;
    int fd = open_dir_below(workdir, path_in_repo, 0);
    if (fd == HF_ENOTFOUND) return 0; /* nothing there to delete */
    if (fd < 0) return fd;
    /* the walk skips ".git" entries, so the repository's own .git is never touched */
    delete_ctx w = {patterns, *path_in_repo ? NULL : ".gitattributes", 0};
    int rc = delete_walk(&w, fd, "");
    close(fd);
    *count = w.count;
    return rc;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

int hf_upload_remove_tree(const char *path)
{
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return hf_error_set(HF_EIO, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}
