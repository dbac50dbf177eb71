/*
 * sign.c: presigned-style URLs and the key that signs them.
 *
 * A URL is base_url + path + "?exp=<unix seconds>[&size=<bytes>]&sig=<hex>", where sig is
 * HMAC-SHA256(hub key, "hfgit-v2\n<METHOD>\n<path>\n<exp>\n<size or ->"). The method is signed so that a
 * download URL cannot be used to PUT (S3 signs the method too); the size is signed for PUTs so that a body
 * larger than the batch announced is refused before a byte of it is read. The expiry is fixed when the URL is
 * issued, as with S3. HEAD is checked as GET (a HEAD is a GET without the body).
 *
 * The key lives in <root>/hub.key (32 random bytes, mode 0600), so signed URLs and open multipart uploads
 * survive a restart of the hub (a client resumes an upload with the URLs it has, or re-batches for the same
 * upload). Deleting the file revokes every URL at the next start. Two hubs starting on one root at once agree
 * on one key: the file appears by link(), which fails for the loser, who then reads the winner's.
 *
 * Paths handed to hub_sign_url are made of [A-Za-z0-9._/-] only, so the path MHD hands back (percent-decoded)
 * is byte for byte the one that was signed. Thread-safe: the key is read-only after start-up.
 */
#include "hub.h"

#include "../common/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int compute(const hub *h, const char *method, const char *path, const char *exp, const char *size,
                   char *hex)
{
    hf_buf msg = HF_BUF_INIT;
    int rc = hf_buf_printf(&msg, "hfgit-v2\n%s\n%s\n%s\n%s", method, path, exp, size ? size : "-");
    if (rc == 0) rc = hf_hmac_sha256_hex(h->hmac_key, sizeof(h->hmac_key), msg.ptr, msg.len, hex);
    hf_buf_free(&msg);
    return rc;
}

int hub_sign_url(hub *h, const char *method, const char *path, int64_t size, long lifetime, hf_buf *out_url)
{
    char exp[32], sz[32], hex[HF_SHA256_HEX_LEN + 1];
    snprintf(exp, sizeof(exp), "%" PRId64, (int64_t)time(NULL) + (int64_t)lifetime);
    snprintf(sz, sizeof(sz), "%" PRId64, size);
    int rc = compute(h, method, path, exp, size >= 0 ? sz : NULL, hex);
    if (rc) return rc;
    if (size >= 0)
        return hf_buf_printf(out_url, "%s%s?exp=%s&size=%s&sig=%s", h->base_url, path, exp, sz, hex);
    return hf_buf_printf(out_url, "%s%s?exp=%s&sig=%s", h->base_url, path, exp, hex);
}

static int digits(const char *s, size_t max)
{
    return s && *s && strlen(s) <= max && strspn(s, "0123456789") == strlen(s);
}

int hub_check_signature(hub_req *r, int64_t *signed_size)
{
    const char *exp = hub_query(r, "exp"), *sig = hub_query(r, "sig"), *size = hub_query(r, "size");
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    *signed_size = -1;
    if (!digits(exp, 18) || (size && !digits(size, 18)) || !sig || strlen(sig) != HF_SHA256_HEX_LEN)
        return -1;
    char hex[HF_SHA256_HEX_LEN + 1];
    if (compute(r->h, method, r->path, exp, size, hex) || !hf_consttime_eq(hex, sig, HF_SHA256_HEX_LEN))
        return -1;
    /* Checked after the signature, so the expiry itself is known to be the one we issued. */
    if (strtoll(exp, NULL, 10) < (long long)time(NULL)) return -2;
    if (size) *signed_size = strtoll(size, NULL, 10);
    return 0;
}

static int read_key(const char *path, unsigned char *key, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 ? read(fd, key, len) : -1;
    if (n >= 0 && (st.st_mode & 077)) {
        /* Anyone who can read the key can forge URLs: take the access back, and say so. */
        fprintf(stderr, "hfgit-hub: warning: %s was readable by others; mode set to 0600\n", path);
        if (fchmod(fd, 0600)) n = -1;
    }
    close(fd);
    if (n != (ssize_t)len || st.st_size != (off_t)len) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int hub_key_load(hub *h)
{
    hf_buf path = HF_BUF_INIT, tmp = HF_BUF_INIT;
    int rc = -1;
    if (hf_buf_printf(&path, "%s/hub.key", h->root) || hf_buf_printf(&tmp, "%s/tmp/hub.key.XXXXXX", h->root))
        goto out;
    if (read_key(path.ptr, h->hmac_key, sizeof(h->hmac_key)) == 0) {
        rc = 0;
        goto out;
    }
    if (errno != ENOENT) {
        fprintf(stderr, "hfgit-hub: cannot use the signing key %s: %s (remove it to make a new one)\n",
                path.ptr, errno == EINVAL ? "not a 32-byte key file" : strerror(errno));
        goto out;
    }
    /* A key that is not random would make every URL forgeable: no key, no hub. */
    if (hf_random_bytes(h->hmac_key, sizeof(h->hmac_key))) {
        fprintf(stderr, "hfgit-hub: cannot make a signing key: no random bytes from OpenSSL; not starting\n");
        goto out;
    }
    int fd = mkostemp(tmp.ptr, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) goto fail;
    ssize_t n = write(fd, h->hmac_key, sizeof(h->hmac_key));
    int bad = n != (ssize_t)sizeof(h->hmac_key) || fsync(fd);
    if (close(fd) || bad) {
        unlink(tmp.ptr);
        goto fail;
    }
    if (link(tmp.ptr, path.ptr) == 0)
        rc = 0;
    else if (errno == EEXIST) /* another hub made it first: use that one */
        rc = read_key(path.ptr, h->hmac_key, sizeof(h->hmac_key));
    unlink(tmp.ptr);
    if (rc == 0) goto out;
fail:
    fprintf(stderr, "hfgit-hub: cannot write the signing key %s: %s\n", path.ptr, strerror(errno));
out:
    hf_buf_free(&path);
    hf_buf_free(&tmp);
    return rc;
}
