/*
 * transfer_internal.h: what transfer.c (single PUT, helpers) and multipart.c (the multipart engine) share.
 * Not for use outside common/.
 */
#ifndef HF_TRANSFER_INTERNAL_H
#define HF_TRANSFER_INTERNAL_H

#include "transfer.h"

#include <pthread.h>
#include <stdatomic.h>

/* The Hub answers the completion only after checking the whole object (it hashes up to 50 GB): the normal
 * stall limit would kill that wait and retry it. An hour covers 50 GB at ~15 MB/s of server-side hashing. */
#define COMPLETE_RESPONSE_TIMEOUT_SECS 3600L

/* Progress shared by all parts of one transfer. */
typedef struct xfer_meter {
    pthread_mutex_t lock;
    uint64_t size, done;
    hf_transfer_progress_cb cb;
    void *ud;
    const atomic_int *cancel;
    atomic_int stop; /* 1: a part failed, 2: cancelled by the caller or the callback, 3: nothing left to do */
} xfer_meter;

/* One body slice's share of the meter. *reported (bytes of this slice counted so far) is kept by the owner
 * across tries and restarts, and only changed under the meter's lock: a slice never counts more than len,
 * however often and by however many requests at once it is sent. */
typedef struct xfer_slice {
    xfer_meter *m;
    uint64_t len;
    uint64_t *reported;
    const atomic_uint *epoch_now; /* or NULL; when it no longer equals epoch, the request is abandoned */
    unsigned epoch;
} xfer_slice;

void xfer_meter_init(xfer_meter *m, uint64_t size, hf_transfer_progress_cb cb, void *ud,
                     const atomic_int *cancel);
int xfer_meter_stopped(xfer_meter *m);
void xfer_slice_add(xfer_slice *s, uint64_t n);
int xfer_slice_progress(void *ud, uint64_t new_bytes); /* hf_http_progress_cb over an xfer_slice */
/* Opens path (unless fd >= 0) and checks that the file is exactly size bytes long. */
int xfer_open_source(const char *path, int fd, const char *oid, uint64_t size, int *out_fd, int *owned);

#endif
