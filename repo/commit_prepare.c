/*
 * commit_prepare.c: checking operation paths and storing an ADD's content (commit_ops.h). LFS content is
 * hashed while it is written into .git/lfs/tmp and renamed into the store, exactly what the lfs filter does
 * for hf_repo_add, but straight from the caller's file or buffer: no copy in the work tree first.
 */
#include "commit_ops.h"

#include "attrs.h"
#include "lfs_store.h"

#include "../common/digest.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK ((size_t)1 << 20)

int hf_commit_op_describe(const hf_commit_op *op, size_t i, hf_buf *out)
{
    static const char *const names[] = {"ADD", "DELETE", "COPY"};
    const char *name = (unsigned)op->kind < 3 ? names[op->kind] : "unknown";
    const char *dst = op->path_in_repo ? op->path_in_repo : "(no path)";
    hf_buf_clear(out);
    int rc = op->kind == HF_COMMIT_OP_COPY
                 ? hf_buf_printf(out, "operation %zu (COPY %s -> %s)", i + 1,
                                 op->src_path_in_repo ? op->src_path_in_repo : "(no source)", dst)
                 : hf_buf_printf(out, "operation %zu (%s %s)", i + 1, name, dst);
    return rc < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : 0;
}

int hf_commit_path_check(const char *path, int folder, hf_buf *out)
{
    hf_buf_clear(out);
    if (!path || !path[0])
        return hf_error_set(HF_EINVAL, "no path_in_repo");
    if (path[0] == '/')
        return hf_error_set(HF_EINVAL, "%s is absolute: give a path relative to the repository root", path);
    size_t n = strlen(path);
    if (path[n - 1] == '/') {
        if (!folder)
            return hf_error_set(HF_EINVAL, "%s ends with '/': a file path is needed here", path);
        n--;
    }
    if (hf_buf_put(out, path, n) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    for (const char *p = out->ptr; p && *p != '\0';) {
        size_t len = strcspn(p, "/");
        if (len == 0 || (len == 1 && p[0] == '.'))
            return hf_error_set(HF_EINVAL, "%s has an empty or \".\" component", path);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return hf_error_set(HF_EINVAL, "%s leaves the repository (\"..\")", path);
        if (len == 4 && strncasecmp(p, ".git", 4) == 0)
            return hf_error_set(HF_EINVAL, "%s is inside .git, which no commit may hold", path);
        p += len;
        if (*p == '/')
            p++;
    }
    if (out->len == 0)
        return hf_error_set(HF_EINVAL, "%s names the repository root", path);
    return 0;
}

int hf_commit_path_lfs_tracked(hf_repo *r, const char *path)
{
    const char *value = NULL;
    if (git_attr_get(&value, r->git, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") < 0) {
        git_error_clear();
        return 0;
    }
    return git_attr_value(value) == GIT_ATTR_VALUE_STRING && strcmp(value, "lfs") == 0;
}

/* The content of an ADD, from its file or its buffer, read in order once or twice (sniff, then store). */
typedef struct source {
    const hf_commit_op *op;
    int fd;             /* -1: memory */
    uint64_t size;
    char *chunk;        /* COPY_CHUNK bytes for file reads */
} source;

/* Reads up to want bytes at off (files) or points into the buffer. 0 at the end; negative on error. */
static ssize_t source_read(source *s, uint64_t off, size_t want, const char **out)
{
    if (s->fd < 0) {
        uint64_t left = s->size - off;
        size_t n = left < want ? (size_t)left : want;
        *out = (const char *)s->op->data + off;
        return (ssize_t)n;
    }
    if (want > COPY_CHUNK)
        want = COPY_CHUNK;
    ssize_t n;
    do
        n = pread(s->fd, s->chunk, want, (off_t)off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return hf_error_set(HF_EIO, "cannot read %s: %s", s->op->local_path, strerror(errno));
    *out = s->chunk;
    return n;
}

/* huggingface_hub's rule, as hf_repo_add applies it: tracked, >= 10 MiB, or a non-text byte in the first
 * 10 MiB. An empty file is never LFS (git-lfs keeps it empty). */
static int wants_lfs(hf_repo *r, const char *path, source *s, int *out)
{
    *out = 0;
    if (s->size == 0 || strcmp(path, ".gitattributes") == 0)
        return 0;
    if (hf_commit_path_lfs_tracked(r, path) || s->size >= HF_AUTO_TRACK_SIZE) {
        *out = 1;
        return 0;
    }
    for (uint64_t off = 0; off < s->size && off < HF_BINARY_SNIFF_SIZE && !*out;) {
        const char *p;
        ssize_t n = source_read(s, off, COPY_CHUNK, &p);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        *out = hf_is_binary(p, (size_t)n);
        off += (uint64_t)n;
    }
    return 0;
}

/* Hashes the content into a temp file of the store and renames it into objects/. */
static int store_lfs(hf_repo *r, source *s, char oid[65], uint64_t *out_size)
{
    hf_buf tmp = HF_BUF_INIT;
    hf_digest *d = NULL;
    int fd = hf_lfs_temp_open(r->lfs_dir.ptr, "tmp", "commit-", &tmp);
    if (fd < 0) {
        hf_buf_free(&tmp);
        return fd;
    }
    int rc = hf_digest_new(&d, HF_DIGEST_SHA256);
    uint64_t off = 0;
    hf_write_behind wb;
    hf_write_behind_init(&wb, fd); /* fsutil.h: why */
    while (rc == 0) {
        const char *p;
        ssize_t n = source_read(s, off, COPY_CHUNK, &p);
        if (n <= 0) {
            rc = (int)n;
            break;
        }
        if ((rc = hf_digest_update(d, p, (size_t)n)) < 0)
            break;
        if (hf_write_all(fd, p, (size_t)n) < 0)
            rc = hf_error_set(HF_EIO, "cannot write %s: %s", tmp.ptr, strerror(errno));
        hf_write_behind_add(&wb, (size_t)n);
        off += (uint64_t)n;
    }
    if (close(fd) < 0 && rc == 0)
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", tmp.ptr, strerror(errno));
    if (rc == 0)
        rc = hf_digest_final_hex(d, oid);
    if (rc == 0)
        rc = hf_lfs_object_commit(r->lfs_dir.ptr, tmp.ptr, oid, off); /* removes tmp on failure */
    else
        unlink(tmp.ptr);
    hf_digest_free(d);
    hf_buf_free(&tmp);
    *out_size = off;
    return rc;
}

static int store_blob(hf_repo *r, source *s, char oid[65])
{
    git_oid id;
    int rc = s->fd < 0 ? git_blob_create_from_buffer(&id, r->git, s->op->data ? s->op->data : "", s->size)
                       : git_blob_create_from_disk(&id, r->git, s->op->local_path);
    if (rc < 0)
        return hf_repo_git_error(HF_EIO, "cannot store the content in the git object database");
    git_oid_tostr(oid, 41, &id);
    return 0;
}

int hf_commit_op_prepare(hf_repo *r, hf_commit_op *op)
{
    if (op->kind != HF_COMMIT_OP_ADD || op->prepared)
        return 0;
    hf_buf path = HF_BUF_INIT;
    int rc = hf_commit_path_check(op->path_in_repo, 0, &path);
    source s = {op, -1, op->size, NULL};
    if (rc == 0 && op->local_path) {
        struct stat st;
        s.fd = open(op->local_path, O_RDONLY | O_CLOEXEC);
        if (s.fd < 0 || fstat(s.fd, &st) < 0)
            rc = hf_error_set(errno == ENOENT ? HF_ENOTFOUND : HF_EIO, "cannot read %s: %s", op->local_path,
                              strerror(errno));
        else if (!S_ISREG(st.st_mode))
            rc = hf_error_set(HF_EINVAL, "%s is not a regular file", op->local_path);
        else if (!(s.chunk = malloc(COPY_CHUNK)))
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        if (rc == 0) {
            s.size = (uint64_t)st.st_size;
            op->executable = (st.st_mode & 0111) != 0;
        }
    } else if (rc == 0 && !op->data && op->size) {
        rc = hf_error_set(HF_EINVAL, "neither local_path nor data is set");
    }
    int lfs = 0;
    uint64_t size = s.size;
    char oid[65] = "";
    if (rc == 0 && (rc = wants_lfs(r, path.ptr, &s, &lfs)) == 0)
        rc = lfs ? store_lfs(r, &s, oid, &size) : store_blob(r, &s, oid);
    if (s.fd >= 0)
        close(s.fd);
    free(s.chunk);
    hf_buf_free(&path);
    if (rc < 0)
        return rc;
    op->lfs = lfs;
    op->lfs_size = size;
    memcpy(op->oid, oid, sizeof(oid));
    op->prepared = 1;
    op->data = NULL; /* the caller may free its buffer: we never read it again */
    return 0;
}

int hf_commit_op_blob(hf_repo *r, const hf_commit_op *op, git_oid *out)
{
    if (!op->lfs)
        return git_oid_fromstr(out, op->oid) < 0 ? hf_error_set(HF_EINVAL, "bad blob id %s", op->oid) : 0;
    hf_lfs_pointer p;
    hf_buf text = HF_BUF_INIT;
    memcpy(p.oid, op->oid, sizeof(p.oid));
    p.size = op->lfs_size;
    int rc = hf_pointer_format(&p, &text);
    if (rc == 0 && git_blob_create_from_buffer(out, r->git, hf_buf_cstr(&text), text.len) < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot store an LFS pointer");
    hf_buf_free(&text);
    return rc;
}
