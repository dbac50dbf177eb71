/*
 * fsutil.h: mkdir -p and write-behind, written once for every part (library, CLI, hub). Internal: not part of the public API
 * (no HF_EXTERN, so libhfgit.so does not export it; tests/integration/t_lib_abi.sh checks).
 */
#ifndef HF_FSUTIL_H
#define HF_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates path and each missing folder on the way to it with mode (less the umask); folders already there are
 * kept as they are, whatever their mode. 0, or HF_EIO with a message naming the folder that could not be made
 * (errno is left as mkdir set it, for callers that report in their own way); HF_EINVAL for an empty path. */
int hf_mkdir_p(const char *path, mode_t mode);

/* The same for the folders of path, not its last component: the place a file is about to be written. A path
 * without a '/' needs no folder: 0. */
int hf_mkdir_parents(const char *path, mode_t mode);

/* Write-behind for a large file written front to back (a copy into the LFS store): the kernel is asked to write
 * each window of HF_WRITE_BEHIND_WINDOW bytes to disk as soon as the next one starts, and the writer waits for
 * the window before, so at most about two windows of the file are dirty in memory at any time. Without it a
 * 64 MiB copy leaves 64 MiB of dirty pages that the kernel flushes later, all at once, and every file operation
 * of the process meanwhile (the rename that updates a branch, on ext4) waits behind that flush: the training
 * loop's stall of issue 16. The copy itself then runs at the disk's speed, which is the honest cost of writing.
 * Best effort: where the system has no sync_file_range (not Linux) or the file system ignores it (tmpfs) it
 * does nothing; errors are not reported here (a failed write-back shows at the write or the close). */
#define HF_WRITE_BEHIND_WINDOW ((uint64_t)8 << 20)

typedef struct hf_write_behind {
    int fd;
    uint64_t written; /* bytes written to fd so far, from offset 0 */
    uint64_t flushed; /* bytes before this offset are written back (waited for) */
} hf_write_behind;

void hf_write_behind_init(hf_write_behind *wb, int fd);

/* Records that len more bytes were written at the end of the file and starts or waits for write-back as above. */
void hf_write_behind_add(hf_write_behind *wb, size_t len);

#endif
