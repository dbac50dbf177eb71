/*
 * s3.h: LFS storage on an S3-compatible object store (--lfs-storage s3://BUCKET[/PREFIX]): SigV4 presigned
 * URLs for clients (UploadPart, GetObject) and for the hub's own calls (CreateMultipartUpload,
 * CompleteMultipartUpload, GetObject to hash, DeleteObject, HeadBucket), path-style addressing.
 *
 * What lives where: multipart uploads go straight to the store, as uploads/<id>'s S3 upload to the key
 * <prefix>/staging/<upload id>; a completed object whose SHA-256 matches stays under that key, and the repo
 * gets <git_dir>/lfs/objects/aa/bb/<oid> as a sparse file of the object's size (what the batch API, verify
 * and the pre-receive hook look at) plus <git_dir>/lfs/s3/<oid> naming the key (downloads are presigned GETs
 * of it). A bad object is deleted from the store. A basic upload is a presigned PUT to
 * <prefix>/staging/b<id>, checked the same way by the verify action (lfs_object.c), whose URL names that id.
 *
 * Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (never logged). Thread-safe: the config is read-only
 * after s3_open; each call makes its own curl handle.
 */
#ifndef HF_HUB_S3_H
#define HF_HUB_S3_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct s3_config {
    char *endpoint;                 /* "http://127.0.0.1:4568", no trailing slash */
    char *host;                     /* "127.0.0.1:4568" (the signed Host header) */
    char *region, *bucket, *prefix; /* prefix: "" or "models/" (ends in '/') */
    char *access_key, *secret_key;
} s3_config;

/* Parses the flags and the environment; checks the bucket exists. 0, or -1 having said why on stderr. */
int s3_open(s3_config *s3, const char *url, const char *endpoint, const char *region);
void s3_close(s3_config *s3);

/* Appends s percent-encoded as SigV4 wants a query value (everything but A-Za-z0-9-_.~). */
void s3_query_escape(hf_buf *out, const char *s);
/* The key of an upload's object: <prefix>staging/<upload id>. */
int s3_staging_key(const s3_config *s3, const char *upload_id, hf_buf *out);

/* A presigned URL for method on key; query: extra "name=value&..." (sorted by name, values URL-safe) or NULL;
 * content_length >= 0 binds the body size (signed Content-Length header). */
int s3_presign(const s3_config *s3, const char *method, const char *key, const char *query,
               int64_t content_length, long lifetime, hf_buf *out);

/* CreateMultipartUpload: the store's upload id in id (size idsz). 0 or -1 with msg. */
int s3_multipart_create(const s3_config *s3, const char *key, char *id, size_t idsz, hf_buf *msg);
/* CompleteMultipartUpload with the client's ETags (etags[i] is part i+1's). Returns 0, or the HTTP status to
 * answer the client with (400 for the store's refusals of the part list) and msg. */
unsigned s3_multipart_complete(const s3_config *s3, const char *key, const char *id, const char *const *etags,
                               size_t count, hf_buf *msg);
/* Streams the object back and hashes it: its SHA-256 (65 bytes) and size. 0 or -1 with msg. */
int s3_object_sha256(const s3_config *s3, const char *key, char *hex, uint64_t *size, hf_buf *msg);
int s3_delete(const s3_config *s3, const char *key);
/* AbortMultipartUpload: the store drops the parts of an upload that will not complete. */
int s3_multipart_abort(const s3_config *s3, const char *key, const char *id);

#endif
