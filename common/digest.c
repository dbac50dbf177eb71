/* digest.c: hashing, HMAC and randomness on OpenSSL 3 EVP (see digest.h). */
#include "digest.h"
#include "error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Big enough that syscall overhead vanishes next to hashing, small enough to stay in L2/L3. */
#define HF_FILE_CHUNK (1u << 20)

struct hf_digest {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
};

void hf_hex_encode(const void *data, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[p[i] >> 4];
        hex[2 * i + 1] = digits[p[i] & 15];
    }
    hex[2 * len] = '\0';
}

int hf_digest_new(hf_digest **out, hf_digest_type type)
{
    *out = NULL;
    const EVP_MD *md = type == HF_DIGEST_SHA256 ? EVP_sha256() : type == HF_DIGEST_MD5 ? EVP_md5() : NULL;
    if (!md) return hf_error_set(HF_EINVAL, "unknown digest type %d", (int)type);
    hf_digest *d = calloc(1, sizeof(*d));
    if (!d || !(d->ctx = EVP_MD_CTX_new())) {
        free(d);
        return hf_error_set(HF_ENOMEM, "out of memory creating a digest");
    }
    d->md = md;
    if (!EVP_DigestInit_ex(d->ctx, md, NULL)) {
        hf_digest_free(d);
        return hf_error_set(HF_ERROR, "OpenSSL could not start a %s digest", EVP_MD_get0_name(md));
    }
    *out = d;
    return 0;
}

int hf_digest_update(hf_digest *d, const void *data, size_t len)
{
    if (len && !EVP_DigestUpdate(d->ctx, data, len))
        return hf_error_set(HF_ERROR, "OpenSSL digest update failed");
    return 0;
}

int hf_digest_final(hf_digest *d, unsigned char *md, size_t *md_len)
{
    unsigned int n = 0;
    if (!EVP_DigestFinal_ex(d->ctx, md, &n) || !EVP_DigestInit_ex(d->ctx, d->md, NULL))
        return hf_error_set(HF_ERROR, "OpenSSL digest final failed");
    if (md_len) *md_len = n;
    return 0;
}

int hf_digest_final_hex(hf_digest *d, char *hex)
{
    unsigned char md[HF_DIGEST_MAX_SIZE];
    size_t n;
    int rc = hf_digest_final(d, md, &n);
    if (rc) return rc;
    hf_hex_encode(md, n, hex);
    return 0;
}

void hf_digest_free(hf_digest *d)
{
    if (!d) return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}

int hf_sha256_hex(const void *data, size_t len, char *hex)
{
    unsigned char md[HF_DIGEST_MAX_SIZE];
    if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
        return hf_error_set(HF_ERROR, "OpenSSL SHA-256 failed");
    hf_hex_encode(md, 32, hex);
    return 0;
}

int hf_sha256_file(const char *path, char *hex, uint64_t *size)
{
    hf_digest *d = NULL;
    uint64_t total = 0;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hf_error_set(HF_EIO, "cannot open %s: %s", path, strerror(errno));
    char *buf = malloc(HF_FILE_CHUNK);
    if (!buf) {
        close(fd);
        return hf_error_set(HF_ENOMEM, "out of memory hashing %s", path);
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if ((rc = hf_digest_new(&d, HF_DIGEST_SHA256))) goto done;
    for (;;) {
        ssize_t n = read(fd, buf, HF_FILE_CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = hf_error_set(HF_EIO, "cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0) break;
        if ((rc = hf_digest_update(d, buf, (size_t)n))) goto done;
        total += (uint64_t)n;
    }
    if ((rc = hf_digest_final_hex(d, hex))) goto done;
    if (size) *size = total;
done:
    hf_digest_free(d);
    free(buf);
    close(fd);
    return rc;
}

int hf_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char *md)
{
    static const unsigned char no_key = 0; /* OpenSSL wants a non-NULL key even when it is empty */
    unsigned int n = 0;
    if (!key) key = &no_key;
    if (keylen > INT_MAX || !HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &n))
        return hf_error_set(HF_ERROR, "OpenSSL HMAC-SHA256 failed");
    return 0;
}

int hf_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len, char *hex)
{
    unsigned char md[HF_DIGEST_MAX_SIZE];
    int rc = hf_hmac_sha256(key, keylen, data, len, md);
    if (!rc) hf_hex_encode(md, 32, hex);
    return rc;
}

int hf_consttime_eq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int hf_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len) { /* RAND_bytes takes an int length */
        int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, n) != 1) return hf_error_set(HF_ERROR, "OpenSSL could not produce random bytes");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
