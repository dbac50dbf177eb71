/*
 * lfs_fixup.c: smudging the LFS files a checkout wrote as pointers because it read the old .gitattributes.
 *
 * libgit2 1.5 picks a file's filters from the attributes in the working tree first (then the index), and it
 * writes files in tree order, so when the commit being checked out adds a file AND the `.gitattributes` line
 * that makes it LFS, the file is written before the new `.gitattributes` (or with the old one in place) and
 * the lfs filter never runs on it: the working tree gets the pointer. git reads checkout attributes from the
 * index being checked out, so it smudges such files. To end up where git + git-lfs do, after every checkout
 * (clone, pull, rebase, checkout of a revision) the index is walked once more: an entry whose working file is
 * byte for byte its blob, the blob is an LFS pointer, the attributes now say filter=lfs and the object is in
 * the store is removed from the working tree and checked out again, this time through the filter.
 * Only files of fewer than 1024 bytes can be such pointers, so the walk costs an lstat per index entry.
 */
#include "repo.h"

#include "lfs_store.h"

#include "../common/error.h"
#include "../common/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_lfs_path(git_repository *git, const char *path)
{
    const char *value = NULL;
    if (git_attr_get(&value, git, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") < 0) {
        git_error_clear();
        return 0;
    }
    return git_attr_value(value) == GIT_ATTR_VALUE_STRING && strcmp(value, "lfs") == 0;
}

/* 1 when the working file is exactly the blob's bytes (len < HF_LFS_POINTER_MAX). */
static int file_equals(const char *path, const void *data, size_t len)
{
    char buf[HF_LFS_POINTER_MAX];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    return got == len && memcmp(buf, data, len) == 0;
}

/* 1 when the index entry's working file is an unsmudged pointer that should be smudged now. */
static int needs_smudge(hf_repo *r, git_odb *odb, const git_index_entry *e, hf_buf *full)
{
    if (GIT_INDEX_ENTRY_STAGE(e) != 0 || (e->mode != GIT_FILEMODE_BLOB && e->mode != GIT_FILEMODE_BLOB_EXECUTABLE))
        return 0;
    hf_buf_clear(full);
    if (hf_buf_printf(full, "%s%s", r->workdir, e->path) < 0)
        return 0;
    struct stat st;
    if (lstat(full->ptr, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size >= HF_LFS_POINTER_MAX)
        return 0;
    size_t len;
    git_object_t type;
    if (git_odb_read_header(&len, &type, odb, &e->id) < 0) {
        git_error_clear();
        return 0;
    }
    if (type != GIT_OBJECT_BLOB || len != (size_t)st.st_size)
        return 0;
    git_blob *blob = NULL;
    if (git_blob_lookup(&blob, r->git, &e->id) < 0) {
        git_error_clear();
        return 0;
    }
    hf_lfs_pointer p;
    const void *raw = git_blob_rawcontent(blob);
    int want = 0;
    if (hf_pointer_parse(&p, raw, len, NULL) < 0)
        hf_error_clear();
    else
        want = p.size > 0 && hf_lfs_object_present(r->lfs_dir.ptr, p.oid, p.size) &&
               file_equals(full->ptr, raw, len) && is_lfs_path(r->git, e->path);
    git_blob_free(blob);
    return want;
}

int hf_repo_lfs_smudge_missed(hf_repo *r, size_t *out_fixed)
{
    git_index *index = NULL;
    git_odb *odb = NULL;
    char **paths = NULL;
    size_t n = 0, cap = 0;
    hf_buf full = HF_BUF_INIT;
    int rc = 0;
    if (out_fixed)
        *out_fixed = 0;
    if (git_repository_index(&index, r->git) < 0 || git_repository_odb(&odb, r->git) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot read the index after the checkout");
        goto out;
    }
    size_t count = git_index_entrycount(index);
    for (size_t i = 0; i < count && rc == 0; i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        if (!e || !needs_smudge(r, odb, e, &full))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(paths, ncap * sizeof(*grown));
            if (!grown) {
                rc = hf_error_set(HF_ENOMEM, "out of memory");
                break;
            }
            paths = grown;
            cap = ncap;
        }
        if (!(paths[n] = strdup(e->path)))
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        else if (unlink(full.ptr) < 0) /* else checkout sees an unchanged file (index stat data) and skips it */
            rc = hf_error_set(HF_EIO, "cannot replace the LFS pointer %s with its content: %s", full.ptr,
                              strerror(errno));
        else
            n++;
    }
    if (n) {
        /* even after a failure above: the files removed so far must come back */
        git_checkout_options co;
        git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
        co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
        co.paths.strings = paths;
        co.paths.count = n;
        if (git_checkout_index(r->git, index, &co) < 0 && rc == 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot check out the LFS files of the new .gitattributes");
        else if (out_fixed)
            *out_fixed = n;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    hf_buf_free(&full);
    git_odb_free(odb);
    git_index_free(index);
    return rc;
}
