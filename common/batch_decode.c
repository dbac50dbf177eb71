/* batch_decode.c: decoding LFS batch API responses with git-lfs 3.3.0's rules (see batch.h, git-lfs §7.3). */
#include "batch.h"

#include "error.h"
#include "json.h"
#include "pointer.h"
#include "transfer.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void action_free(hf_lfs_action *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->header_count; i++) {
        free(a->headers[i].name);
        free(a->headers[i].value);
    }
    free(a->headers);
    free(a->href);
    free(a);
}

void hf_batch_response_free(hf_batch_response *resp)
{
    if (!resp)
        return;
    for (size_t i = 0; i < resp->count; i++) {
        hf_batch_object *o = &resp->objects[i];
        free(o->error_message);
        action_free(o->upload);
        action_free(o->download);
        action_free(o->verify);
    }
    free(resp->objects);
    free(resp->transfer);
    free(resp);
}

static int two_digits(const char *s, int *v)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* RFC 3339 "2016-11-10T15:29:07Z", "…07.123+01:00" -> epoch seconds. -1 when malformed. */
int64_t hf_rfc3339_epoch(const char *s)
{
    int y1, y2, mo, d, h, mi, sec;
    size_t n = strlen(s);
    if (n < 20 || two_digits(s, &y1) || two_digits(s + 2, &y2) || s[4] != '-' || two_digits(s + 5, &mo) ||
        s[7] != '-' || two_digits(s + 8, &d) || (s[10] != 'T' && s[10] != 't') || two_digits(s + 11, &h) ||
        s[13] != ':' || two_digits(s + 14, &mi) || s[16] != ':' || two_digits(s + 17, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (two_digits(p + 1, &oh) || p[3] != ':' || two_digits(p + 4, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y1 * 100 + y2 - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm) - off;
}

/* An http(s) URL without control characters: Go's url.Parse (git-lfs) refuses those, and a CR/LF would let
 * the server inject request lines (fuzz_batch_response found a "\n" passing through). */
static int href_ok(const char *href)
{
    if (!hf_transfer_url_ok(href)) return 0;
    for (const unsigned char *p = (const unsigned char *)href; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

static int parse_action(const hf_json *doc, int tok, const char *name, const char *oid, time_t sent_at,
                        hf_lfs_action **out)
{
    *out = NULL;
    if (hf_json_type_of(doc, tok) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL, "LFS batch response: action \"%s\" of object %s is not an object", name, oid);
    hf_lfs_action *a = calloc(1, sizeof(*a));
    if (!a)
        return hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
    a->expires_in = -1;
    int rc = 0;
    int href = hf_json_get(doc, tok, "href");
    a->href = hf_json_strdup(doc, href);
    if (!href_ok(a->href)) {
        rc = hf_error_set(HF_EINVAL, "LFS batch response: action \"%s\" of object %s has no http(s) href", name,
                          oid);
        goto out;
    }
    int hdr = hf_json_get(doc, tok, "header");
    if (hdr >= 0 && hf_json_type_of(doc, hdr) != HF_JSON_NULL) {
        if (hf_json_type_of(doc, hdr) != HF_JSON_OBJECT) {
            rc = hf_error_set(HF_EINVAL, "LFS batch response: header of action \"%s\" (object %s) is not an object",
                              name, oid);
            goto out;
        }
        int n = hf_json_count(doc, hdr);
        a->headers = calloc(n ? (size_t)n : 1, sizeof(*a->headers));
        if (!a->headers) {
            rc = hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
            goto out;
        }
        for (int i = 0; i < n; i++) {
            int key;
            int val = hf_json_member(doc, hdr, i, &key);
            /* git-lfs decodes header as map[string]string: a non-string value fails the whole batch. */
            if (hf_json_type_of(doc, val) != HF_JSON_STRING) {
                rc = hf_error_set(HF_EINVAL,
                                  "LFS batch response: header values of action \"%s\" (object %s) must be strings",
                                  name, oid);
                goto out;
            }
            hf_lfs_header *h = &a->headers[a->header_count];
            h->name = hf_json_strdup(doc, key);
            h->value = hf_json_strdup(doc, val);
            a->header_count++;
            if (!h->name || !h->value) {
                rc = hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
                goto out;
            }
            /* A header name or value with CR/LF would let the server inject request lines. */
            if (strpbrk(h->name, "\r\n:") || strpbrk(h->value, "\r\n") || !h->name[0]) {
                rc = hf_error_set(HF_EINVAL, "LFS batch response: invalid header in action \"%s\" (object %s)",
                                  name, oid);
                goto out;
            }
        }
    }
    int ein = hf_json_get(doc, tok, "expires_in");
    if (ein >= 0 && hf_json_type_of(doc, ein) != HF_JSON_NULL) {
        if (hf_json_type_of(doc, ein) != HF_JSON_NUMBER || hf_json_int64(doc, ein, &a->expires_in) < 0) {
            rc = hf_error_set(HF_EINVAL, "LFS batch response: expires_in of action \"%s\" (object %s) is not an integer",
                              name, oid);
            goto out;
        }
    }
    int eat = hf_json_get(doc, tok, "expires_at");
    int64_t at = 0;
    if (eat >= 0 && hf_json_type_of(doc, eat) != HF_JSON_NULL) {
        char *s = hf_json_strdup(doc, eat);
        at = s ? hf_rfc3339_epoch(s) : -1;
        /* Go's zero time, which git-lfs itself sends, means "no expiry". */
        if (s && strncmp(s, "0001-01-01T00:00:00", 19) == 0)
            at = 0;
        free(s);
        if (at < 0) {
            rc = hf_error_set(HF_EINVAL, "LFS batch response: expires_at of action \"%s\" (object %s) is not an RFC 3339 time",
                              name, oid);
            goto out;
        }
    }
    /* expires_in wins over expires_at, as in git-lfs; a non-positive expires_in means "not set" there. */
    if (a->expires_in > 0) /* saturating: a huge expires_in (fuzz_batch_response) means "never" */
        a->expires_at_epoch =
            a->expires_in > INT64_MAX - (int64_t)sent_at ? INT64_MAX : (int64_t)sent_at + a->expires_in;
    else if (at > 0)
        a->expires_at_epoch = at;
out:
    if (rc < 0) {
        action_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int parse_object(const hf_json *doc, int tok, size_t idx, time_t sent_at, hf_batch_object *o)
{
    if (hf_json_type_of(doc, tok) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL, "LFS batch response: objects[%zu] is not an object", idx);
    hf_buf oid = HF_BUF_INIT;
    int t = hf_json_get(doc, tok, "oid");
    if (hf_json_str(doc, t, &oid) < 0 || oid.len != 64 || !hf_oid_valid(oid.ptr)) {
        hf_buf_free(&oid);
        return hf_error_set(HF_EINVAL, "LFS batch response: objects[%zu] has no valid sha256 oid", idx);
    }
    memcpy(o->oid, oid.ptr, 65);
    hf_buf_free(&oid);
    t = hf_json_get(doc, tok, "size");
    if (t >= 0 && (hf_json_type_of(doc, t) != HF_JSON_NUMBER || hf_json_int64(doc, t, &o->size) < 0))
        return hf_error_set(HF_EINVAL, "LFS batch response: object %s has an invalid size", o->oid);
    t = hf_json_get(doc, tok, "authenticated");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL && hf_json_bool(doc, t, &o->authenticated) < 0)
        return hf_error_set(HF_EINVAL, "LFS batch response: object %s: authenticated is not a boolean", o->oid);

    int err = hf_json_get(doc, tok, "error");
    if (err >= 0 && hf_json_type_of(doc, err) != HF_JSON_NULL) {
        int64_t code = 0;
        if (hf_json_type_of(doc, err) != HF_JSON_OBJECT || hf_json_get_int64(doc, err, "code", &code) < 0)
            return hf_error_set(HF_EINVAL, "LFS batch response: object %s has a malformed error", o->oid);
        /* Any code outside 1..INT_MAX becomes -1: truncating 4294967296 to an int gave 0, which read as "no
         * error" (an upload the server claims to have), found by fuzz_batch_response. */
        o->error_code = code > 0 && code <= INT_MAX ? (int)code : -1;
        o->error_message = hf_json_get_strdup(doc, err, "message");
        if (!o->error_message)
            o->error_message = strdup("(no message)");
        return o->error_message ? 0 : hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
    }
    if (o->size < 0) {
        o->error_code = 422;
        o->error_message = strdup("invalid size (negative)");
        return o->error_message ? 0 : hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
    }

    int acts = hf_json_get(doc, tok, "actions");
    if (acts < 0 || hf_json_type_of(doc, acts) == HF_JSON_NULL)
        acts = hf_json_get(doc, tok, "_links"); /* the deprecated name git-lfs still accepts */
    if (acts < 0 || hf_json_type_of(doc, acts) == HF_JSON_NULL)
        return 0;
    if (hf_json_type_of(doc, acts) != HF_JSON_OBJECT)
        return hf_error_set(HF_EINVAL, "LFS batch response: actions of object %s is not an object", o->oid);
    int n = hf_json_count(doc, acts);
    for (int i = 0; i < n; i++) {
        int key;
        int val = hf_json_member(doc, acts, i, &key);
        hf_lfs_action **slot = NULL;
        if (hf_json_str_eq(doc, key, "upload"))
            slot = &o->upload;
        else if (hf_json_str_eq(doc, key, "download"))
            slot = &o->download;
        else if (hf_json_str_eq(doc, key, "verify"))
            slot = &o->verify;
        if (!slot) {
            /* Unknown actions are allowed but must still be objects (git-lfs decodes map[string]*Action). */
            if (hf_json_type_of(doc, val) != HF_JSON_OBJECT && hf_json_type_of(doc, val) != HF_JSON_NULL)
                return hf_error_set(HF_EINVAL, "LFS batch response: an action of object %s is not an object",
                                    o->oid);
            continue;
        }
        if (hf_json_type_of(doc, val) == HF_JSON_NULL)
            continue;
        action_free(*slot); /* a repeated key: the last one wins, as in Go */
        *slot = NULL;
        const char *nm = slot == &o->upload ? "upload" : slot == &o->download ? "download" : "verify";
        int rc = parse_action(doc, val, nm, o->oid, sent_at, slot);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int hf_batch_response_parse(hf_batch_response **out, const char *body, size_t len,
                            const hf_batch_item *requested, size_t nrequested, time_t sent_at)
{
    *out = NULL;
    hf_json *doc = NULL;
    int rc = hf_json_parse(&doc, body, len);
    if (rc < 0)
        return hf_error_prefix("LFS batch response: ");
    hf_batch_response *r = calloc(1, sizeof(*r));
    if (!r) {
        hf_json_free(doc);
        return hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
    }
    if (hf_json_type_of(doc, 0) != HF_JSON_OBJECT) {
        rc = hf_error_set(HF_EINVAL, "LFS batch response: not a JSON object");
        goto out;
    }
    int t = hf_json_get(doc, 0, "hash_algo");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL && !hf_json_str_eq(doc, t, "sha256")) {
        rc = hf_error_set(HF_EINVAL, "LFS batch response: unsupported hash algorithm (only sha256 is known)");
        goto out;
    }
    t = hf_json_get(doc, 0, "transfer");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL) {
        r->transfer = hf_json_strdup(doc, t);
        if (!r->transfer) {
            rc = hf_error_set(HF_EINVAL, "LFS batch response: transfer is not a string");
            goto out;
        }
    }
    if (!r->transfer || !r->transfer[0]) {
        free(r->transfer);
        r->transfer = strdup("basic");
        if (!r->transfer) {
            rc = hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
            goto out;
        }
    }
    int objs = hf_json_get(doc, 0, "objects");
    if (hf_json_type_of(doc, objs) != HF_JSON_ARRAY) {
        rc = hf_error_set(HF_EINVAL, "LFS batch response: \"objects\" is missing or not an array");
        goto out;
    }
    int n = hf_json_count(doc, objs);
    r->objects = calloc(n ? (size_t)n : 1, sizeof(*r->objects));
    if (!r->objects) {
        rc = hf_error_set(HF_ENOMEM, "LFS batch response: out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        hf_batch_object *o = &r->objects[r->count++];
        rc = parse_object(doc, hf_json_at(doc, objs, i), (size_t)i, sent_at, o);
        if (rc < 0)
            goto out;
        if (nrequested) {
            size_t k = 0;
            while (k < nrequested && strcmp(requested[k].oid, o->oid) != 0)
                k++;
            if (k == nrequested) {
                rc = hf_error_set(HF_EINVAL, "LFS batch response: [%s] the server returned an unknown OID", o->oid);
                goto out;
            }
        }
    }
out:
    hf_json_free(doc);
    if (rc < 0) {
        hf_batch_response_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

