/* upload_files.c: choosing, copying and deleting the files of an upload (upload.h). */
#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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
    if (include && include->count && !match_any(include, rel)) return 0;
    return !match_any(exclude, rel);
}

int hf_upload_make_parents(const char *path)
{
    char *p = strdup(path);
    int rc = p ? 0 : hf_error_set(HF_ENOMEM, "out of memory");
    for (char *s = p ? strchr(p + 1, '/') : NULL; s && rc == 0; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            rc = hf_error_set(HF_EIO, "cannot create directory %s: %s", p, strerror(errno));
        *s = '/';
    }
    free(p);
    return rc;
}

int hf_upload_copy_file(const char *src, const char *dest)
{
    struct stat st, have;
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
    if (in < 0 || fstat(in, &st) < 0) {
        rc = hf_error_set(HF_EIO, "cannot read %s: %s", src, strerror(errno));
        goto out;
    }
    /* the copy carries the source's mtime, so an unchanged file from the last upload is neither copied nor,
     * its index stat data matching, hashed again (rsync's size + mtime rule, to the nanosecond) */
    if (lstat(dest, &have) == 0 && S_ISREG(have.st_mode) && have.st_size == st.st_size &&
        have.st_mtim.tv_sec == st.st_mtim.tv_sec && have.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
        (have.st_mode & 0777) == (st.st_mode & 0777)) {
        rc = 1;
        goto out;
    }
    /* a symbolic link in the repository is replaced, never written through (it may point anywhere) */
    if (lstat(dest, &have) == 0 && S_ISLNK(have.st_mode) && unlink(dest) < 0) {
        rc = hf_error_set(HF_EIO, "cannot replace the link %s: %s", dest, strerror(errno));
        goto out;
    }
    if ((rc = hf_upload_make_parents(dest)) < 0) goto out;
    out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0777);
    if (out < 0 || fchmod(out, st.st_mode & 0777) < 0) {
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
        goto out;
    }
    /* copy_file_range lets the kernel copy (or reflink) without a trip through user space */
    off_t left = st.st_size;
    int fallback = 0;
    while (left > 0 && !fallback) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
            fallback = 1;
        else if (n <= 0) {
            rc = hf_error_set(HF_EIO, "cannot copy %s to %s: %s", src, dest,
                              n ? strerror(errno) : "file shrank");
            goto out;
        } else
            left -= n;
    }
    char buf[1 << 16];
    ssize_t n;
    while (fallback && left > 0 && (n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            rc = hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
            goto out;
        }
        left -= n;
    }
    if (left > 0) rc = hf_error_set(HF_EIO, "cannot read all of %s: %s", src, strerror(errno));
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (rc == 0 && futimens(out, times) < 0)
        rc = hf_error_set(HF_EIO, "cannot set the time of %s: %s", dest, strerror(errno));
out:
    if (in >= 0) close(in);
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", dest, strerror(errno));
    return rc;
}

static int skipped_dir(const char *rel, const char *name)
{
    size_t n = strlen(rel);
    return strcmp(name, ".git") == 0 || strcmp(rel, ".cache/huggingface") == 0 ||
           (n > 19 && strcmp(rel + n - 19, "/.cache/huggingface") == 0);
}

typedef struct walk_ctx {
    const char *src, *dest;
    const hf_cli_list *include, *exclude, *delete_patterns;
    const char *keep; /* delete: the path (relative to src) never deleted, or NULL */
    size_t count, unchanged;
} walk_ctx;

/* Visits the files below src/rel (rel "" or ending in '/'), copying (dest set) or deleting (dest NULL). */
static int walk(walk_ctx *w, const char *rel)
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
         * submodule links (".git" files or folders) stay out; a symbolic link to a folder is not followed
         * (it could loop), one to a file is uploaded as that file's content */
        if (lstat(a.ptr, &lst) < 0 || stat(a.ptr, &st) < 0 || strcmp(de->d_name, ".git") == 0 ||
            !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) || (S_ISLNK(lst.st_mode) && S_ISDIR(st.st_mode)))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (skipped_dir(r.ptr, de->d_name)) continue;
            hf_buf_putc(&r, '/');
            rc = walk(w, r.ptr);
        } else if (w->dest && hf_upload_selected(r.ptr, w->include, w->exclude)) {
            hf_buf_clear(&b);
            hf_buf_printf(&b, "%s/%s", w->dest, r.ptr);
            if ((rc = hf_upload_copy_file(a.ptr, b.ptr)) >= 0) {
                w->count++;
                w->unchanged += (size_t)rc;
                rc = 0;
            }
        } else if (!w->dest && match_any(w->delete_patterns, r.ptr) &&
                   !(w->keep && strcmp(r.ptr, w->keep) == 0)) {
            if (unlink(a.ptr) < 0)
                rc = hf_error_set(HF_EIO, "cannot delete %s: %s", a.ptr, strerror(errno));
            else
                w->count++;
        }
    }
    if (d) (void)closedir(d);
    hf_buf_free(&dir);
    hf_buf_free(&r);
    hf_buf_free(&a);
    hf_buf_free(&b);
    return rc;
}

int hf_upload_copy_tree(const char *src, const char *dest, const hf_cli_list *include,
                        const hf_cli_list *exclude, size_t *count, size_t *unchanged)
{
    walk_ctx w = {src, dest, include, exclude, NULL, NULL, 0, 0};
    int rc = walk(&w, "");
    *count = w.count;
    *unchanged = w.unchanged;
    return rc;
}

int hf_upload_delete(const char *workdir, const char *path_in_repo, const hf_cli_list *patterns,
                     size_t *count)
{
    hf_buf base = HF_BUF_INIT;
    struct stat st;
    int rc = 0;
    *count = 0;
    hf_buf_printf(&base, "%s%s", workdir, path_in_repo);
    /* the walk skips ".git" entries, so the repository's own .git is never touched */
    if (stat(base.ptr, &st) == 0 && S_ISDIR(st.st_mode)) {
        walk_ctx w = {base.ptr, NULL, NULL, NULL, patterns, *path_in_repo ? NULL : ".gitattributes", 0, 0};
        rc = walk(&w, "");
        *count = w.count;
    }
    hf_buf_free(&base);
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
