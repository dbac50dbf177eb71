/*
 * digest.h: SHA-256 and MD5 (streaming and one-shot), HMAC-SHA256, hex, constant-time compare, random bytes.
 * All on OpenSSL 3 EVP; SHA-256 uses the CPU's SHA extensions when present.
 *
 * Thread-safety: every function is thread-safe; an hf_digest handle belongs to one thread at a time.
 */
#ifndef HF_DIGEST_H
#define HF_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define HF_SHA256_HEX_LEN 64 /* hex buffers need HEX_LEN + 1 bytes for the NUL */
#define HF_MD5_HEX_LEN 32
#define HF_DIGEST_MAX_SIZE 32 /* raw bytes of the largest digest (SHA-256) */

typedef enum hf_digest_type { HF_DIGEST_SHA256 = 1, HF_DIGEST_MD5 } hf_digest_type;

typedef struct hf_digest hf_digest;

/* 0, HF_EINVAL (unknown type) or HF_ENOMEM/HF_ERROR; *out is NULL on failure. */
int hf_digest_new(hf_digest **out, hf_digest_type type);
int hf_digest_update(hf_digest *d, const void *data, size_t len);
/* Writes the lowercase hex digest and a NUL (65 bytes for SHA-256, 33 for MD5), then resets d so it can
 * hash a new message. */
int hf_digest_final_hex(hf_digest *d, char *hex);
/* Same with raw bytes: md needs HF_DIGEST_MAX_SIZE bytes; *md_len (may be NULL) gets 32 or 16. */
int hf_digest_final(hf_digest *d, unsigned char *md, size_t *md_len);
void hf_digest_free(hf_digest *d);

/* hex gets 65 bytes. */
int hf_sha256_hex(const void *data, size_t len, char *hex);
/* Streams the file through SHA-256 with a 1 MiB buffer (memory does not grow with the file). size may be
 * NULL. HF_EIO naming the path on failure. */
int hf_sha256_file(const char *path, char *hex, uint64_t *size);
/* HMAC-SHA256; hex gets 65 bytes, md gets 32. */
int hf_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len, char *hex);
int hf_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char *md);

/* 1 when the len bytes at a and b are equal, else 0; time does not depend on where they differ. */
int hf_consttime_eq(const void *a, const void *b, size_t len);
/* Cryptographically strong random bytes (RAND_bytes). 0 or HF_ERROR. */
int hf_random_bytes(void *buf, size_t len);
/* Lowercase hex of len bytes into hex (2*len + 1 bytes, NUL-terminated). */
void hf_hex_encode(const void *data, size_t len, char *hex);

#endif
