/*
 * fsutil.c: mkdir -p, and write-behind (see fsutil.h).
 *
 * mkdir -p: Each prefix of the path that ends at a '/' is made in turn; EEXIST is not a failure
 * (another process may be making the same folder at the same moment), and a component that exists but is not
 * a folder shows at the next mkdir as ENOTDIR, naming the path up to it.
 */
#include "fsutil.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

/* mkdir -p of the folder named by the first len bytes of path (len > 0). */
static int mkdir_prefix(const char *path, size_t len, mode_t mode)
{
    char *p = strndup(path, len);
    if (!p) return hf_error_set(HF_ENOMEM, "out of memory");
    int rc = 0, err = 0;
    /* from p + 1: the root of an absolute path is not ours to make */
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            err = errno;
            rc = hf_error_set(HF_EIO, "cannot create directory %s: %s", p, strerror(err));
        }
        *s = c;
        if (c == '\0') break;
    }
    free(p);
    if (rc) errno = err; /* hf_error_set and free may have changed it */
    return rc;
}

int hf_mkdir_p(const char *path, mode_t mode)
{
    if (!path || !*path) return hf_error_set(HF_EINVAL, "invalid directory name (empty)");
    return mkdir_prefix(path, strlen(path), mode);
}

int hf_mkdir_parents(const char *path, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    return slash && slash > path ? mkdir_prefix(path, (size_t)(slash - path), mode) : 0;
}

void hf_write_behind_init(hf_write_behind *wb, int fd)
{
    wb->fd = fd;
    wb->written = 0;
    wb->flushed = 0;
}

void hf_write_behind_add(hf_write_behind *wb, size_t len)
{
    wb->written += len;
#ifdef SYNC_FILE_RANGE_WRITE
    const uint64_t w = HF_WRITE_BEHIND_WINDOW;
    /* Two whole windows past the last waited-for offset: start the newer, wait for the older (the pattern that
     * keeps the disk busy without letting dirty pages pile up). */
    while (wb->written - wb->flushed >= 2 * w) {
        (void)sync_file_range(wb->fd, (off_t)(wb->flushed + w), (off_t)w, SYNC_FILE_RANGE_WRITE);
        (void)sync_file_range(wb->fd, (off_t)wb->flushed, (off_t)w,
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        wb->flushed += w;
    }
#endif
}
