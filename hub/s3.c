/*
 * s3.c: the S3 calls hfgit-hub needs, every one a SigV4 presigned (query-authenticated) URL, so clients and
 * the hub sign the same way and no header but Host (and Content-Length, where a size is bound) is signed. See
 * s3.h.
 */
#include "s3.h"

#include "../common/digest.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HFGIT_VERSION
#define HFGIT_VERSION "dev"
#endif

#define MAX_RESPONSE (1u << 20)

static void uri_encode(hf_buf *out, const char *s, int keep_slash)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
            hf_buf_put(out, (const char *)&c, 1);
        else
            hf_buf_printf(out, "%%%02X", c);
    }
}

void s3_query_escape(hf_buf *out, const char *s)
{
    uri_encode(out, s, 0);
}

static int hmac(const void *key, size_t klen, const char *msg, unsigned char *out)
{
    return hf_hmac_sha256(key, klen, msg, strlen(msg), out);
}

int s3_presign(const s3_config *s3, const char *method, const char *key, const char *query,
               int64_t content_length, long lifetime, hf_buf *out)
{
    char date[9], stamp[17];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (lifetime > 604800) lifetime = 604800; /* SigV4's range: 1 s to 7 days (S3 refuses X-Amz-Expires=0) */
    if (lifetime < 1) lifetime = 1;
    hf_buf path = HF_BUF_INIT, cred = HF_BUF_INIT, q = HF_BUF_INIT, canon = HF_BUF_INIT, sts = HF_BUF_INIT;
    hf_buf scope = HF_BUF_INIT, secret = HF_BUF_INIT;
    int rc = -1;
    hf_buf_puts(&path, "/");
    uri_encode(&path, s3->bucket, 0);
    if (key) {
        hf_buf_puts(&path, "/");
        uri_encode(&path, key, 1);
    }
    hf_buf_printf(&scope, "%s/%s/s3/aws4_request", date, s3->region);
    hf_buf_printf(&cred, "%s/%s", s3->access_key, hf_buf_cstr(&scope));
    const char *signed_headers = content_length >= 0 ? "content-length;host" : "host";
    /* Query parameters sorted by name (byte order): the X-Amz-* ones sort before the lowercase ones. */
    hf_buf_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
    uri_encode(&q, hf_buf_cstr(&cred), 0);
    hf_buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=", stamp, lifetime);
    uri_encode(&q, signed_headers, 0);
    if (query && *query) hf_buf_printf(&q, "&%s", query);
    hf_buf_printf(&canon, "%s\n%s\n%s\n", method, hf_buf_cstr(&path), hf_buf_cstr(&q));
    if (content_length >= 0) hf_buf_printf(&canon, "content-length:%" PRId64 "\n", content_length);
    hf_buf_printf(&canon, "host:%s\n\n%s\nUNSIGNED-PAYLOAD", s3->host, signed_headers);
    char canon_hex[HF_SHA256_HEX_LEN + 1], sig_hex[HF_SHA256_HEX_LEN + 1];
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hf_buf_printf(&secret, "AWS4%s", s3->secret_key);
    if (hf_sha256_hex(canon.ptr, canon.len, canon_hex) ||
        hf_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, hf_buf_cstr(&scope), canon_hex) ||
        hmac(secret.ptr, secret.len, date, k1) || hmac(k1, 32, s3->region, k2) || hmac(k2, 32, "s3", k3) ||
        hmac(k3, 32, "aws4_request", k4) || hf_hmac_sha256(k4, 32, sts.ptr, sts.len, sig))
        goto out;
    hf_hex_encode(sig, sizeof(sig), sig_hex);
    rc = hf_buf_printf(out, "%s%s?%s&X-Amz-Signature=%s", s3->endpoint, hf_buf_cstr(&path), hf_buf_cstr(&q),
                       sig_hex);
out:
    hf_buf_free(&path);
    hf_buf_free(&cred);
    hf_buf_free(&q);
    hf_buf_free(&canon);
    hf_buf_free(&sts);
    hf_buf_free(&scope);
    if (secret.ptr) memset(secret.ptr, 0, secret.len);
    hf_buf_free(&secret);
    return rc ? -1 : 0;
}

/* ---- the hub's own calls ---- */

typedef struct sink {
    hf_buf *body;    /* collects up to MAX_RESPONSE, or */
    hf_digest *hash; /* hashes everything */
    uint64_t n;
} sink;

static size_t on_write(char *data, size_t size, size_t nmemb, void *cls)
{
    sink *s = cls;
    size_t len = size * nmemb;
    s->n += len;
    if (s->hash) return hf_digest_update(s->hash, data, len) ? 0 : len;
    if (s->body->len + len > MAX_RESPONSE) return 0;
    return hf_buf_put(s->body, data, len) ? 0 : len;
}

/* One call: method on a presigned URL for key (NULL: the bucket) with query, body (may be NULL). Returns the
 * HTTP status (0: no answer; curl's error in msg). */
static long call(const s3_config *s3, const char *method, const char *key, const char *query,
                 const char *body, sink *out, hf_buf *msg)
{
    hf_buf url = HF_BUF_INIT;
    long status = 0;
    CURL *h = curl_easy_init();
    if (!h || s3_presign(s3, method, key, query, -1, 300, &url)) {
        hf_buf_printf(msg, "out of memory");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, url.ptr);
    /* the store's logs (and the tests' fault proxy) tell the hub's calls from its clients' presigned ones */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hfgit-hub/" HFGIT_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
    /* a store that stops sending (or stops reading) must not hold a completion thread forever; S3 keeps a long
     * CompleteMultipartUpload alive with whitespace, so "under 1 byte/s for 2 minutes" only catches a stall */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    }
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK)
        hf_buf_printf(msg, "%s %s: %s", method, s3->endpoint, curl_easy_strerror(cc));
    else
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
out:
    if (h) curl_easy_cleanup(h);
    hf_buf_free(&url);
    return status;
}

/* The text of <tag>...</tag> in xml, or "" (size n). */
static void xml_text(const char *xml, const char *tag, char *out, size_t n)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = xml ? strstr(xml, open) : NULL, *b = a ? strstr(a, close) : NULL;
    out[0] = '\0';
    if (a && b) snprintf(out, n, "%.*s", (int)(b - a - (ptrdiff_t)strlen(open)), a + strlen(open));
}

static void store_error(hf_buf *msg, const char *what, long status, const hf_buf *body)
{
    char code[128], text[512];
    xml_text(hf_buf_cstr(body), "Code", code, sizeof(code));
    xml_text(hf_buf_cstr(body), "Message", text, sizeof(text));
    hf_buf_printf(msg, "%s: the object store answered %ld%s%s%s%s", what, status, code[0] ? " " : "", code,
                  text[0] ? ": " : "", text);
}

int s3_multipart_create(const s3_config *s3, const char *key, char *id, size_t idsz, hf_buf *msg)
{
    hf_buf body = HF_BUF_INIT;
    sink s = {&body, NULL, 0};
    long st = call(s3, "POST", key, "uploads=", NULL, &s, msg);
    xml_text(hf_buf_cstr(&body), "UploadId", id, idsz);
    int rc = st == 200 && id[0] ? 0 : -1;
    if (rc && st) store_error(msg, "CreateMultipartUpload", st, &body);
    hf_buf_free(&body);
    return rc;
}

/* Appends s as XML character data: the client's ETags go into the CompleteMultipartUpload body, and one with
 * '&' or '<' would otherwise make it malformed (or add elements of the client's). */
static void xml_escape(hf_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            hf_buf_puts(out, "&amp;");
        else if (*s == '<')
            hf_buf_puts(out, "&lt;");
        else if (*s == '>')
            hf_buf_puts(out, "&gt;");
        else
            hf_buf_put(out, s, 1);
    }
}

unsigned s3_multipart_complete(const s3_config *s3, const char *key, const char *id, const char *const *etags,
                               size_t count, hf_buf *msg)
{
    hf_buf xml = HF_BUF_INIT, body = HF_BUF_INIT, q = HF_BUF_INIT;
    sink s = {&body, NULL, 0};
    hf_buf_puts(&xml, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < count; i++) {
        hf_buf_printf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        xml_escape(&xml, etags[i]);
        hf_buf_puts(&xml, "</ETag></Part>");
    }
    hf_buf_puts(&xml, "</CompleteMultipartUpload>");
    hf_buf_puts(&q, "uploadId=");
    uri_encode(&q, id, 0);
    long st = call(s3, "POST", key, hf_buf_cstr(&q), hf_buf_cstr(&xml), &s, msg);
    /* S3 may answer 200 and put the error in the body (a failure after the headers went out). */
    unsigned rc = 0;
    if (st != 200 || strstr(hf_buf_cstr(&body), "<Error>")) {
        if (st) store_error(msg, "CompleteMultipartUpload", st, &body);
        rc = st >= 400 && st < 500 ? 400 : 502;
    }
    hf_buf_free(&xml);
    hf_buf_free(&body);
    hf_buf_free(&q);
    return rc;
}

int s3_object_sha256(const s3_config *s3, const char *key, char *hex, uint64_t *size, hf_buf *msg)
{
    hf_digest *d = NULL;
    if (hf_digest_new(&d, HF_DIGEST_SHA256)) return -1;
    hf_buf none = HF_BUF_INIT;
    sink s = {&none, d, 0};
    long st = call(s3, "GET", key, NULL, NULL, &s, msg);
    int rc = st == 200 && hf_digest_final_hex(d, hex) == 0 ? 0 : -1;
    if (rc && st) hf_buf_printf(msg, "reading the object back from the store: %ld", st);
    *size = s.n;
    hf_digest_free(d);
    return rc;
}

int s3_delete(const s3_config *s3, const char *key)
{
    hf_buf body = HF_BUF_INIT, msg = HF_BUF_INIT;
    sink s = {&body, NULL, 0};
    long st = call(s3, "DELETE", key, NULL, NULL, &s, &msg);
    hf_buf_free(&body);
    hf_buf_free(&msg);
    return st == 204 || st == 200 ? 0 : -1;
}

int s3_multipart_abort(const s3_config *s3, const char *key, const char *id)
{
    hf_buf body = HF_BUF_INIT, msg = HF_BUF_INIT, q = HF_BUF_INIT;
    sink s = {&body, NULL, 0};
    hf_buf_puts(&q, "uploadId=");
    uri_encode(&q, id, 0);
    long st = call(s3, "DELETE", key, hf_buf_cstr(&q), NULL, &s, &msg);
    hf_buf_free(&body);
    hf_buf_free(&msg);
    hf_buf_free(&q);
    return st == 204 || st == 200 || st == 404 ? 0 : -1;
}

int s3_staging_key(const s3_config *s3, const char *upload_id, hf_buf *out)
{
    return hf_buf_printf(out, "%sstaging/%s", s3->prefix, upload_id);
}

/* ---- set-up ---- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int s3_open(s3_config *s3, const char *url, const char *endpoint, const char *region)
{
    memset(s3, 0, sizeof(*s3));
    const char *b = url + 5, *slash = strchr(b, '/');
    if (strncmp(url, "s3://", 5) != 0 || !*b || slash == b) {
        fprintf(stderr, "hfgit-hub: --lfs-storage %s: expected s3://BUCKET[/PREFIX]\n", url);
        return -1;
    }
    s3->bucket = slash ? strndup(b, (size_t)(slash - b)) : strdup(b);
    hf_buf p = HF_BUF_INIT;
    if (slash && slash[1]) hf_buf_printf(&p, "%s%s", slash + 1, slash[strlen(slash) - 1] == '/' ? "" : "/");
    s3->prefix = p.len ? hf_buf_detach(&p) : strdup("");
    s3->region = strdup(region ? region : "us-east-1");
    hf_buf e = HF_BUF_INIT;
    if (endpoint)
        hf_buf_printf(&e, "%.*s", (int)(strlen(endpoint) - (endpoint[strlen(endpoint) - 1] == '/')),
                      endpoint);
    else
        hf_buf_printf(&e, "https://s3.%s.amazonaws.com", s3->region);
    s3->endpoint = hf_buf_detach(&e);
    const char *h = strstr(s3->endpoint, "://");
    s3->host = h ? strdup(h + 3) : NULL;
    s3->access_key = dup_or_null(getenv("AWS_ACCESS_KEY_ID"));
    s3->secret_key = dup_or_null(getenv("AWS_SECRET_ACCESS_KEY"));
    if (!s3->bucket || !s3->prefix || !s3->region || !s3->endpoint || !s3->host) {
        fprintf(stderr, "hfgit-hub: out of memory\n");
        return -1;
    }
    if (!s3->access_key || !s3->secret_key) {
        fprintf(stderr, "hfgit-hub: --lfs-storage s3://: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
        return -1;
    }
    hf_buf body = HF_BUF_INIT, msg = HF_BUF_INIT;
    sink s = {&body, NULL, 0};
    long st = call(s3, "HEAD", NULL, NULL, NULL, &s, &msg);
    if (st != 200) {
        if (st) store_error(&msg, "HeadBucket", st, &body);
        fprintf(stderr, "hfgit-hub: bucket %s at %s is not usable (%s)%s\n", s3->bucket, s3->endpoint,
                hf_buf_cstr(&msg), st == 404 ? ": create it first" : "");
    }
    hf_buf_free(&body);
    hf_buf_free(&msg);
    return st == 200 ? 0 : -1;
}

void s3_close(s3_config *s3)
{
    free(s3->endpoint);
    free(s3->host);
    free(s3->region);
    free(s3->bucket);
    free(s3->prefix);
    free(s3->access_key);
    if (s3->secret_key) memset(s3->secret_key, 0, strlen(s3->secret_key));
    free(s3->secret_key);
}
