/*
 * lfs_transfer.h: moving a set of LFS objects between the local store and the server: batch API requests of
 * up to 100 objects, then the transfers in parallel (a few objects at once; a multipart object also sends
 * several parts at once through common/transfer.c).
 *
 * upload:   objects the server already has (no actions) are skipped, also when they are not in the local
 *           store (a copied pointer, a clone with skip_lfs_files); one it asks for that is not here fails the
 *           push, naming the file; basic = one PUT, multipart = parts + completion;
 *           then the verify action when there is one. An action about to expire is refreshed with a new
 *           batch request for that object; so are multipart URLs that expire mid-upload (the engine asks),
 *           and finished parts are journalled in .git/lfs/tmp so a killed push resumes.
 * download: objects already in the store are skipped; each is fetched into .git/lfs/incomplete, its size
 *           and SHA-256 are checked, and it is renamed into the store.
 *
 * The token goes to the batch and verify requests only, never to transfer hrefs (presigned URLs).
 * Thread-safety: one call per hf_repo at a time; the call starts and joins its own threads.
 */
#ifndef HF_REPO_LFS_TRANSFER_H
#define HF_REPO_LFS_TRANSFER_H

#include "lfs_scan.h"
#include "repo.h"

#include "../common/batch.h"

typedef struct hf_lfs_xfer_options {
    const char *remote_url;   /* the git remote URL; the batch URL is derived from it */
    const char *ref;          /* "refs/heads/main" or NULL */
    int multipart;            /* advertise multipart (uploads) */
    int workers;              /* objects in flight; <= 0: 8 */
    hf_progress_cb progress;
    void *progress_payload;
    uint64_t max_rate;        /* bytes per second for these transfers together; 0: only the process limit */
} hf_lfs_xfer_options;

#define HF_LFS_XFER_OPTIONS_INIT {NULL, NULL, 1, 0, NULL, NULL, 0}

int hf_lfs_transfer(hf_repo *repo, hf_lfs_operation op, const hf_lfs_set *set, const hf_lfs_xfer_options *opts);

#endif
