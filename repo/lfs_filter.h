/*
 * lfs_filter.h: the native "lfs" filter for libgit2 (attribute filter=lfs, priority GIT_FILTER_DRIVER_PRIORITY,
 * so it runs first on clean and last on smudge, like git's driver filters).
 *
 * clean  (working file -> blob): the content is hashed while it is copied into .git/lfs/tmp, then renamed
 *        into .git/lfs/objects/aa/bb/<oid>; the blob is the canonical pointer. Input that already is a pointer
 *        (< 1024 bytes and parses) is passed through verbatim, an empty file stays empty: both create no
 *        object. Only 1 KiB is ever held in memory, whatever the file size. Clean never touches the network
 *        (libgit2 also runs it when status re-hashes a file).
 * smudge (blob -> working file): a pointer whose object is in the local store is replaced by the object,
 *        streamed in 1 MiB reads; a pointer whose object is missing is written as is (and counted, see
 *        hf_lfs_filter_missing), anything else passes through. No network: downloads happen before checkout.
 *
 * Thread-safety: register/unregister only during hf_init/hf_shutdown (libgit2's filter registry is not
 * thread-safe). The filter itself keeps no shared state; the missing-object counter is per thread.
 */
#ifndef HF_REPO_LFS_FILTER_H
#define HF_REPO_LFS_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define HF_LFS_FILTER_NAME "lfs"

/* Registers the filter with libgit2 (already registered counts as success). */
int hf_lfs_filter_register(void);
void hf_lfs_filter_unregister(void);

/* Pointers this thread's smudges left in place because the object was not in the store, since the last
 * reset. Checkout code resets it before and reads it after to report files left as pointers. */
size_t hf_lfs_filter_missing(void);
void hf_lfs_filter_missing_reset(void);

/* Hashing progress of this thread's cleans (hf_repo_add): fn(ud, bytes) after each chunk written to the
 * store (small pointer-sized inputs are not reported); a non-zero return fails the clean with HF_ECANCELLED.
 * NULL stops reporting. Thread-local, like the missing-object counter. */
typedef int (*hf_lfs_clean_progress_fn)(void *ud, uint64_t bytes);
void hf_lfs_filter_set_clean_progress(hf_lfs_clean_progress_fn fn, void *ud);

#endif
