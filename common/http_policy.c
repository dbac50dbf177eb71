/*
 * http_policy.c: the pure parts of the HTTP client (see http.h): which answers are retried, how long to wait,
 * how Retry-After is read, and how URLs and server messages are made fit for error texts.
 * No I/O here, so every function is unit-tested directly (tests/unit/test_http_policy.c).
 */
#include "http.h"
#include "error.h"
#include "json.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int hf_http_status_retriable(long status)
{
    /* 0 is a transport failure (reset, timeout, dropped mid-body). 408/429 and 5xx are "try again later". */
    return status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599);
}

int hf_http_status_error(long status)
{
    if (status == 401 || status == 403)
        return HF_EAUTH;
    if (status == 404)
        return HF_ENOTFOUND;
    return status == 0 ? HF_ENET : HF_EHTTP;
}

unsigned hf_http_backoff_ms(const hf_retry_policy *p, int attempt, uint32_t rnd)
{
    uint64_t base = p->base_delay_ms, cap = p->max_delay_ms;
    uint64_t d = base;
    /* base * 2^(attempt-1), saturating at cap without ever shifting past 63 bits */
    for (int i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    uint64_t lo = base / 2 < d ? base / 2 : d;
    /* Full jitter spreads parallel parts that failed together (one dropped connection, one throttled host)
     * across the whole window instead of letting them retry in lock-step; the floor keeps waits meaningful.
     */
    uint64_t span = d - lo;
    return (unsigned)(lo + (span * (uint64_t)rnd) / UINT32_MAX);
}

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++)
        if (!strcmp(m, month_names[i]))
            return i;
    return -1;
}

static int day_ok(const char *d, int long_form)
{
    static const char *const long_days[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                             "Thursday", "Friday", "Saturday"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(d, long_form ? long_days[i] : day_names[i]))
            return 1;
    return 0;
}

/* HTTP-date in its three forms (RFC 9110 §5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete
 * RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994". -1 when none matches. */
static long long parse_http_date(const char *v)
{
    char wd[16], mon[4];
    int day, year, hh, mm, ss, n = -1, form = 0; /* form: 1 IMF-fixdate, 2 RFC 850, 3 asctime */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(v, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd, &day, mon, &year, &hh, &mm, &ss,
               &n) == 7 &&
        n > 0 && v[n] == '\0' && day_ok(wd, 0))
        form = 1;
    else if (n = -1, sscanf(v, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wd, &day, mon, &year, &hh,
                            &mm, &ss, &n) == 7 &&
                         n > 0 && v[n] == '\0' && day_ok(wd, 1))
        form = 2;
    else if (n = -1, sscanf(v, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, mon, &day, &hh, &mm, &ss,
                            &year, &n) == 7 &&
                         n > 0 && v[n] == '\0' && day_ok(wd, 0))
        form = 3;
    if (!form) return -1;
    if (form == 2) /* RFC 9110: two-digit years more than 50 years ahead are in the past */
        year += year < 70 ? 2000 : 1900;
    int m = month_index(mon);
    if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970 || hh < 0 || mm < 0 ||
        ss < 0)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = m;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (long long)t;
}

long hf_http_parse_retry_after(const char *value, long now_epoch)
{
    if (!value)
        return -1;
    char v[64];
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' || value[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= sizeof(v))
        return -1;
    memcpy(v, value, n);
    v[n] = '\0';

    if (strspn(v, "0123456789") == n) {
        /* delta-seconds; absurd values saturate (max_total_ms decides whether to wait that long) */
        long long secs = 0;
        for (size_t i = 0; i < n && secs < LONG_MAX / 1000; i++)
            secs = secs * 10 + (v[i] - '0');
        return secs >= LONG_MAX / 1000 ? LONG_MAX / 1000 * 1000 : (long)(secs * 1000);
    }
    long long when = parse_http_date(v);
    if (when < 0)
        return -1;
    long long delta = when - (long long)now_epoch;
    if (delta <= 0)
        return 0; /* a date in the past means "now" */
    return delta >= LONG_MAX / 1000 ? LONG_MAX / 1000 * 1000 : (long)(delta * 1000);
}

void hf_http_redact_url(const char *url, hf_buf *out)
{
    hf_buf_clear(out);
    if (!url)
        return;
    size_t end = strcspn(url, "?#");
    const char *sep = strstr(url, "://");
    if (sep && (size_t)(sep - url) < end) {
        /* drop "user:password@" from the authority as well: it is a credential like the query string */
        const char *auth = sep + 3;
        size_t auth_len = strcspn(auth, "/?#");
        const char *at = NULL;
        for (size_t i = 0; i < auth_len; i++)
            if (auth[i] == '@')
                at = auth + i;
        if (at) {
            hf_buf_put(out, url, (size_t)(auth - url));
            hf_buf_put(out, at + 1, end - (size_t)(at + 1 - url));
            return;
        }
    }
    hf_buf_put(out, url, end);
}

/* Appends s[0..n) to out on one line: control characters and runs of whitespace become one space, and the
 * result is cut (at a UTF-8 character boundary, with "...") so that out grows by at most max bytes. */
static void put_one_line(hf_buf *out, const char *s, size_t n, size_t max)
{
    size_t start = out->len;
    int pending_space = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == ' ') {
            pending_space = out->len > start;
            continue;
        }
        if (pending_space)
            hf_buf_putc(out, ' ');
        pending_space = 0;
        hf_buf_putc(out, (char)c);
        if (out->len - start > max)
            break;
    }
    if (out->len - start <= max)
        return;
    size_t keep = max > 3 ? max - 3 : 0;
    while (keep > 0 && ((unsigned char)out->ptr[start + keep] & 0xC0) == 0x80)
        keep--; /* do not split a multi-byte character */
    out->len = start + keep;
    out->ptr[out->len] = '\0';
    if (max >= 3)
        hf_buf_puts(out, "...");
}

void hf_http_error_excerpt(const char *body, size_t len, size_t max, hf_buf *out)
{
    hf_buf_clear(out);
    if (!body || !len || !max)
        return;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i < len && body[i] == '{') {
        /* git-lfs servers send {"message": ...}; the Hub sends {"error": "..."}; some nest
         * {"error":{"message"}} */
        hf_json *doc = NULL;
        if (hf_json_parse(&doc, body, len) == 0) {
            hf_buf msg = HF_BUF_INIT;
            int tok = hf_json_get(doc, 0, "message");
            if (hf_json_type_of(doc, tok) != HF_JSON_STRING)
                tok = hf_json_get(doc, 0, "error");
            if (hf_json_type_of(doc, tok) == HF_JSON_OBJECT)
                tok = hf_json_get(doc, tok, "message");
            int found = hf_json_type_of(doc, tok) == HF_JSON_STRING && hf_json_str(doc, tok, &msg) == 0;
            if (found)
                put_one_line(out, msg.ptr ? msg.ptr : "", msg.len, max);
            hf_buf_free(&msg);
            hf_json_free(doc);
            if (found)
                return;
        }
    }
    put_one_line(out, body, len, max);
}
