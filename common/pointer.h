/*
 * pointer.h: Git LFS pointer files, byte-exact with git-lfs 3.3.0 (lfs/pointer.go).
 *
 * Canonical form (the only one written):
 *   version https://git-lfs.github.com/spec/v1\n
 *   oid sha256:<64 lowercase hex>\n
 *   size <decimal>\n
 * and a size-0 object is the empty string.
 *
 * Thread-safety: all functions are pure and thread-safe.
 */
#ifndef HF_POINTER_H
#define HF_POINTER_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* A blob or file of this many bytes or more is never a pointer (git-lfs blobSizeCutoff). */
#define HF_LFS_POINTER_MAX 1024
/* SHA-256 of no bytes: the oid of the empty object (git-lfs never stores it). */
#define HF_LFS_EMPTY_OID "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct hf_lfs_pointer {
    char oid[65]; /* 64 lowercase hex + NUL */
    uint64_t size;
} hf_lfs_pointer;

/*
 * Decodes len bytes as git-lfs does. 0 when they are a pointer, else HF_EINVAL with the reason ("not a
 * pointer: ..."); out is only written on success. Accepted as git-lfs accepts: surrounding whitespace, CRLF
 * line ends, empty lines, the legacy hawser/git-media version URLs, ext-<digit>-<name> extension lines
 * (checked, then dropped: this struct does not carry them), size with leading zeros or '+'. Empty input is
 * the size-0 pointer (oid HF_LFS_EMPTY_OID). canonical (may be NULL) gets 1 when the bytes are exactly what
 * hf_pointer_format writes for the result, else 0.
 */
int hf_pointer_parse(hf_lfs_pointer *out, const void *data, size_t len, int *canonical);

/* Appends the canonical pointer text to out (nothing at all for size 0). HF_EINVAL for a bad oid. */
int hf_pointer_format(const hf_lfs_pointer *p, hf_buf *out);

/* 1 when s is exactly 64 lowercase hex digits followed by NUL. Guards every oid that becomes a path. */
int hf_oid_valid(const char *s);

/* Appends "<lfs_dir>/objects/<oid[0:2]>/<oid[2:4]>/<oid>" to out; HF_EINVAL for an invalid oid. */
int hf_lfs_object_path(hf_buf *out, const char *lfs_dir, const char *oid);

#endif
