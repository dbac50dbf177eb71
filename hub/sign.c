/*
 * sign.c: presigned-style URLs. A URL is base_url + path + "?exp=<unix seconds>&sig=<hex>", where sig is
 * HMAC-SHA256(hub key, "<path>\n<exp>"). The key is random per hub start, so URLs die with the hub; the
 * expiry is fixed when the URL is issued (knobs.url_lifetime_secs at that moment), as with S3.
 *
 * Paths handed to hub_sign_url are made of [A-Za-z0-9._/-] only, so the path MHD hands back (percent-decoded)
 * is byte for byte the one that was signed. Thread-safe: the key is read-only after start-up.
 */
#include "hub.h"

#include "../common/digest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int compute(const hub *h, const char *path, const char *exp, char *hex)
{
    hf_buf msg = HF_BUF_INIT;
    int rc = hf_buf_printf(&msg, "%s\n%s", path, exp);
    if (rc == 0) rc = hf_hmac_sha256_hex(h->hmac_key, sizeof(h->hmac_key), msg.ptr, msg.len, hex);
    hf_buf_free(&msg);
    return rc;
}

int hub_sign_url(hub *h, const char *path, hf_buf *out_url)
{
    pthread_mutex_lock(&h->knobs_lock);
    long lifetime = h->knobs.url_lifetime_secs;
    pthread_mutex_unlock(&h->knobs_lock);
    char exp[32], hex[HF_SHA256_HEX_LEN + 1];
    snprintf(exp, sizeof(exp), "%" PRId64, (int64_t)time(NULL) + (int64_t)lifetime);
    int rc = compute(h, path, exp, hex);
    if (rc) return rc;
    return hf_buf_printf(out_url, "%s%s?exp=%s&sig=%s", h->base_url, path, exp, hex);
}

int hub_check_signature(hub_req *r)
{
    const char *exp = hub_query(r, "exp"), *sig = hub_query(r, "sig");
    if (!exp || !sig || strlen(sig) != HF_SHA256_HEX_LEN || !*exp || strlen(exp) > 20 ||
        strspn(exp, "0123456789") != strlen(exp))
        return -1;
    char hex[HF_SHA256_HEX_LEN + 1];
    if (compute(r->h, r->path, exp, hex) || !hf_consttime_eq(hex, sig, HF_SHA256_HEX_LEN)) return -1;
    /* Checked after the signature, so the expiry itself is known to be the one we issued. */
    if (strtoll(exp, NULL, 10) < (long long)time(NULL)) return -2;
    return 0;
}
