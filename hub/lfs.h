/*
 * lfs.h: the LFS side of hfgit-hub, shared between lfs.c (routing, refusals, paths), lfs_sink.c (request
 * bodies streamed to files), lfs_batch.c, lfs_object.c (basic object PUT/GET, verify), lfs_multipart.c
 * (upload meta, part PUT) and lfs_complete.c (completion). Parsing and validating batch and completion bodies
 * is the pure lfs_parse.c (lfs_parse.h), which the handlers call first. Not installed.
 *
 * URLs the hub hands out, all signed (sign.c); <repo> is "ns/name", "datasets/ns/name" or "spaces/ns/name":
 *   PUT  /__object/<repo>/<oid>          basic upload (S3-like: an Authorization header is refused)
 *   GET  /__object/<repo>/<oid>          download, one Range allowed (S3-like)
 *   POST /__verify/<repo>                verify {oid,size} (a Hub endpoint: Authorization tolerated)
 *   PUT  /__part/<upload id>/<n>         multipart part n (S3-like; ETag = quoted MD5)
 *   POST /__complete/<repo>/<upload id>  completion (S3-like; the repo in the path keeps a retried
 *                                        completion idempotent once the upload dir is gone)
 * Signed URLs live outside the repo's LFS URL so git-lfs's per-URL access mode (lfs.<url>.access, a prefix
 * match) never attaches credentials to them.
 *
 * Thread-safety: every function works on its own request; shared state is the hub's (knobs under knobs_lock,
 * stats atomics) and the file system, where objects and parts appear by rename() only.
 */
#ifndef HF_HUB_LFS_H
#define HF_HUB_LFS_H

#include "hub.h"

#include "../common/digest.h"
#include "lfs_parse.h"

#include <stdint.h>

#define LFS_MEDIA_TYPE "application/vnd.git-lfs+json"
#define LFS_MAX_OBJECT_SIZE 50000000000ull /* the Hub's 50 GB per file */
#define LFS_MAX_PARTS HUB_LFS_MAX_PARTS
#define LFS_MAX_PART_SIZE (5ull << 30) /* S3: 5 GiB per part */
#define LFS_S3_MIN_PART_SIZE (5ull << 20) /* S3: every part but the last is 5 MiB or more */
#define LFS_UPLOAD_ID_LEN 32           /* hex characters */

/* ---- lfs.c: helpers ---- */

/* Checks a signed, S3-like URL: Authorization header (400, counted), signature over this method and path
 * (403), expiry (403). Returns 0 when the request may go on (*signed_size: the body size the URL was signed
 * for, -1 when none), else 1 having refused it (hub_refuse). allow_auth: 1 for Hub endpoints. */
int lfs_check_signed(hub_req *r, int allow_auth, int64_t *signed_size);
/* S3 storage: the object's key in the store when <git_dir>/lfs/s3/<oid> names one (0), else -1. */
int lfs_s3_key(const char *git_dir, const char *oid, hf_buf *key);
/* <git_dir>/lfs/objects/aa/bb/<oid> */
int lfs_object_path(const char *git_dir, const char *oid, hf_buf *out);
/* 1 when oid is 64 lowercase hex digits. */
int lfs_oid_ok(const char *oid);
/* The repo's multipart threshold: <git_dir>/hfgit-hub-threshold, else the hub's default. */
uint64_t lfs_repo_threshold(const hub *h, const char *git_dir);
/* Content-Length as a number: 0, or -1 when absent or malformed. */
int lfs_content_length(hub_req *r, uint64_t *out);
/* Answers a failed write of errno err: 507 InsufficientStorage when the disk is full (ENOSPC, EDQUOT, EFBIG;
 * counted in stats.disk_full), which clients retry later, else 500. what: "storing part 3", ... */
enum MHD_Result lfs_respond_io_error(hub_req *r, int err, const char *what);
int lfs_out_of_space(int err);
/* Atomically updates a peak counter. */
void lfs_stat_peak(atomic_long *peak, long value);

/* ---- lfs_sink.c: a request body streamed into a temp file, hashed on the way ---- */
typedef struct lfs_hasher lfs_hasher; /* helper thread hashing large bodies (lfs_sink.c) */
typedef struct lfs_sink {
    int fd;
    char *tmp_path; /* NULL once renamed or removed */
    hf_digest *digest;
    lfs_hasher *hasher; /* NULL: hashed inline */
    uint64_t expected;  /* bytes announced by Content-Length */
    uint64_t received;
    uint64_t throttle_t0, throttle_bytes;
    int overflow; /* more bytes than announced */
    int io_error; /* errno of a failed write */
} lfs_sink;

/* Opens a temp file in dir (same file system as the destination). type: HF_DIGEST_SHA256 or HF_DIGEST_MD5. */
int lfs_sink_open(lfs_sink *s, const char *dir, int digest_type, uint64_t expected);
/* Hashes and writes. A write error or more bytes than expected only set io_error / overflow (the caller
 * answers once the body is in). */
void lfs_sink_put(lfs_sink *s, const char *data, size_t len);
/* lfs_sink_put for request bodies: also throttles (bandwidth cap) and counts stats.bytes_received. Returns 0.
 */
int lfs_sink_write(hub *h, lfs_sink *s, const char *data, size_t len);
/* Waits for the hasher, closes (no fsync), digest into hex (65 bytes for SHA-256, 33 for MD5). 0 or -1
 * (errno). lfs_sink_commit renames the file to dest (creating its directory). */
int lfs_sink_finish(lfs_sink *s, char *hex);
int lfs_sink_commit(lfs_sink *s, const char *dest);
/* Removes the temp file if still there; frees everything. */
void lfs_sink_discard(lfs_sink *s);

/* ---- routes (each: 0 = not mine, 1 = handled) ---- */
int lfs_route_batch(hub_req *r, hub_repo *repo);      /* takes ownership of repo */
int lfs_route_object(hub_req *r, const char *tail);   /* tail: "<repo>/<oid>" */
int lfs_route_verify(hub_req *r, const char *tail);   /* tail: "<repo>" */
int lfs_route_part(hub_req *r, const char *tail);     /* tail: "<id>/<n>" */
int lfs_route_complete(hub_req *r, const char *tail); /* tail: "<repo>/<id>" */

/* ---- lfs_multipart.c: what the batch needs ---- */
typedef struct lfs_upload_meta {
    char *git_dir;
    char oid[65];
    uint64_t size, chunk, parts;
    char s3_upload[512]; /* S3 storage: the store's multipart upload id ("" on local disk) */
} lfs_upload_meta;

/* The part size for an object: the hub's chunk size, capped at 5 GiB and grown so that there are at most
 * 10,000 parts. */
uint64_t lfs_part_size(const hub *h, uint64_t size);
/* Creates uploads/<id>/meta for a new upload; id gets LFS_UPLOAD_ID_LEN + 1 bytes. */
int lfs_upload_create(hub *h, const lfs_upload_meta *m, char *id);
int lfs_upload_read(hub *h, const char *id, lfs_upload_meta *m);
void lfs_upload_meta_clear(lfs_upload_meta *m);
/* Locks uploads/<id> against other completions and part commits, in this process or another hub sharing the
 * root (flock on its meta). Returns a descriptor for lfs_upload_unlock, or -1 (errno ENOENT: no such upload,
 * or it was removed while we waited). lfs_upload_unlock(-1) does nothing. */
int lfs_upload_lock(hub *h, const char *id);
void lfs_upload_unlock(int fd);
/* Expected size of part n (1-based). */
uint64_t lfs_upload_part_size(const lfs_upload_meta *m, uint64_t n);

/* ---- lfs_uploads.c: open uploads found again by object, removed when done or old ---- */
/* The open upload of m's (git_dir, oid, size) with m's part size, or a new one: its id in id
 * (LFS_UPLOAD_ID_LEN + 1 bytes), *reused = 1 when it was open already. 0 or -1. */
int lfs_upload_open(hub *h, const lfs_upload_meta *m, char *id, int *reused);
/* Removes uploads/<id> and (m given) its index link. */
void lfs_upload_remove(hub *h, const char *id, const lfs_upload_meta *m);
/* Removes uploads untouched for h->upload_max_age_secs, dangling index links and stale temp files; returns
 * the number of uploads removed. Safe to run while requests are served. */
int lfs_uploads_sweep(hub *h);

/* S3 storage: records that the repo has m's object under key (<git_dir>/lfs/s3/<oid>, then a sparse file of
 * its size at the object path). 0 or -1 (errno). lfs_complete.c. */
int lfs_s3_publish(hub *h, const lfs_upload_meta *m, const char *key);

#endif
