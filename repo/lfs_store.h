/*
 * lfs_store.h: the local LFS object store, laid out exactly as git-lfs 3.3.0 does (git-lfs §10) so that the
 * library, git-lfs and the git CLI share it:
 *
 *   <commondir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>   objects
 *   <commondir>/lfs/tmp/                                  clean temp files (then renamed into objects/)
 *   <commondir>/lfs/incomplete/                           download temp files
 *
 * Files are created 0666 and directories 0777, both minus the umask, as git-lfs does.
 * Thread-safety: all functions are re-entrant; concurrent writers of the same object are safe because an
 * object only appears through rename() of a complete, hashed file.
 */
#ifndef HF_REPO_LFS_STORE_H
#define HF_REPO_LFS_STORE_H

#include "../common/buf.h"

#include <stdint.h>

/* "<commondir>/lfs" (no trailing '/') for a git directory path as libgit2's git_repository_commondir gives it
 * (with a trailing '/'). */
int hf_lfs_dir(hf_buf *out, const char *commondir);

/* 1 when the object exists as a regular file of exactly size bytes, else 0. */
int hf_lfs_object_present(const char *lfs_dir, const char *oid, uint64_t size);

/* Creates and opens a new uniquely named file in <lfs_dir>/<sub> ("tmp" or "incomplete"), creating the
 * directory; its path goes to path_out. Returns the descriptor or a negative hf_error_code. */
int hf_lfs_temp_open(const char *lfs_dir, const char *sub, const char *prefix, hf_buf *path_out);

/* Moves the complete temp file tmp_path (size bytes, hashing to oid) into objects/. When the object already
 * exists with the same size the temp file is removed; with a different size it is an error (git-lfs: "Files
 * don't match"). On error the temp file is removed too. */
int hf_lfs_object_commit(const char *lfs_dir, const char *tmp_path, const char *oid, uint64_t size);

/* Writes all of len bytes (retrying short writes and EINTR). 0 or -1 with errno set. */
int hf_write_all(int fd, const void *data, size_t len);

#endif
