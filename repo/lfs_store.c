/* lfs_store.c: paths, temp files and atomic commits into .git/lfs (see lfs_store.h). */
#include "lfs_store.h"

#include "../common/digest.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hf_lfs_dir(hf_buf *out, const char *commondir)
{
    size_t n = strlen(commondir);
    hf_buf_clear(out);
    if (hf_buf_put(out, commondir, n) < 0 || (n && commondir[n - 1] != '/' && hf_buf_putc(out, '/') < 0) ||
        hf_buf_puts(out, "lfs") < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    return 0;
}

int hf_lfs_object_present(const char *lfs_dir, const char *oid, uint64_t size)
{
    hf_buf path = HF_BUF_INIT;
    struct stat st;
    int present = hf_lfs_object_path(&path, lfs_dir, oid) == 0 && stat(path.ptr, &st) == 0 && S_ISREG(st.st_mode) &&
                  (uint64_t)st.st_size == size;
    hf_buf_free(&path);
    return present;
}

int hf_lfs_temp_open(const char *lfs_dir, const char *sub, const char *prefix, hf_buf *path_out)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        unsigned char rnd[8];
        char hex[17];
        if (hf_random_bytes(rnd, sizeof(rnd)) < 0)
            return hf_error_set(HF_ERROR, "no random bytes for a temp file name");
        hf_hex_encode(rnd, sizeof(rnd), hex);
        hf_buf_clear(path_out);
        if (hf_buf_printf(path_out, "%s/%s/%s%s", lfs_dir, sub, prefix ? prefix : "", hex) < 0)
            return hf_error_set(HF_ENOMEM, "out of memory");
        int rc = hf_mkdir_parents(path_out->ptr, 0777);
        if (rc < 0)
            return rc;
        /* 0666 minus the umask, as git-lfs's TempFile + chmod gives. */
        int fd = open(path_out->ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return hf_error_set(HF_EIO, "cannot create %s: %s", path_out->ptr, strerror(errno));
    }
    return hf_error_set(HF_EIO, "cannot create a temp file in %s/%s", lfs_dir, sub);
}

int hf_lfs_object_commit(const char *lfs_dir, const char *tmp_path, const char *oid, uint64_t size)
{
    hf_buf path = HF_BUF_INIT;
    int rc = hf_lfs_object_path(&path, lfs_dir, oid);
    if (rc < 0)
        goto out;
    struct stat st;
    if (stat(path.ptr, &st) == 0) {
        /* Someone (git-lfs, another add) stored it already; identical content has the same oid. */
        if ((uint64_t)st.st_size != size)
            rc = hf_error_set(HF_EIO, "LFS object %s already exists with a different size (%lld, not %llu): "
                                      "files don't match; remove the corrupt object and add again",
                              path.ptr, (long long)st.st_size, (unsigned long long)size);
        goto out;
    }
    if ((rc = hf_mkdir_parents(path.ptr, 0777)) < 0)
        goto out;
    if (rename(tmp_path, path.ptr) < 0) {
        rc = hf_error_set(HF_EIO, "cannot move %s to %s: %s", tmp_path, path.ptr, strerror(errno));
        goto out;
    }
    hf_buf_free(&path);
    return 0;
out:
    unlink(tmp_path);
    hf_buf_free(&path);
    return rc;
}

int hf_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}
