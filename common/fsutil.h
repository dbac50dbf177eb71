/*
 * fsutil.h: mkdir -p, written once for every part (library, CLI, hub). Internal: not part of the public API
 * (no HF_EXTERN, so libhfgit.so does not export it; tests/integration/t_lib_abi.sh checks).
 */
#ifndef HF_FSUTIL_H
#define HF_FSUTIL_H

#include <sys/types.h>

/* Creates path and each missing folder on the way to it with mode (less the umask); folders already there are
 * kept as they are, whatever their mode. 0, or HF_EIO with a message naming the folder that could not be made
 * (errno is left as mkdir set it, for callers that report in their own way); HF_EINVAL for an empty path. */
int hf_mkdir_p(const char *path, mode_t mode);

/* The same for the folders of path, not its last component: the place a file is about to be written. A path
 * without a '/' needs no folder: 0. */
int hf_mkdir_parents(const char *path, mode_t mode);

#endif
