/*
 * http_io.c: libcurl's callbacks during one try of the HTTP client (see http.h, http_internal.h).
 *
 * Bodies are read with pread from a file slice as curl asks for them, so memory stays flat whatever the part
 * size; a 2xx response body for out_fd is written with pwrite into its slice, anything else goes to memory
 * (capped) for the error message.
 *
 * Progress: the callbacks report only bytes beyond a high-water mark kept across the tries of one
 * hf_http_send_retry call, so a part that fails at 90% and is sent again is not counted twice, and the sum
 * reported equals the body size exactly once the request succeeds. While nothing moves, the callback is
 * polled with 0 (throttled to one call per POLL_MS) so that a stop asked for elsewhere (the transfer engine
 * cancelling the other parts after a first failure) ends a try that waits on a silent server.
 *
 * Stalls are detected in the same callback instead of with CURLOPT_LOW_SPEED_*, because the rule differs by
 * phase (http.h): bytes must flow while a body moves, but after the body is sent the server may think for
 * as long as the request's response_timeout_secs. curl calls the callback at least once a second.
 */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* curl rewinds the body when it must send it again within one try (a redirect, an auth round). */
int http_on_seek(void *ud, curl_off_t offset, int origin)
{
    xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->req->body_size)
        return CURL_SEEKFUNC_CANTSEEK;
    x->body_pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* Tells the progress callback about n new bytes (0: nothing new, only asking whether to stop). */
static int call_progress(xfer *x, uint64_t n)
{
    x->last_call_ms = http_now_ms();
    if (x->req->progress(x->req->progress_ud, n) != 0) {
        x->cancelled = 1;
        return 1;
    }
    return 0;
}

/* Waits for the slot of n body bytes under the process limit and the request's own (ratelimit.h), in
 * slices of POLL_MS that ask the progress callback whether to stop. The wait is the limit's doing, not the
 * server's: the stall window moves forward by as much. Returns 1 when told to stop. */
static int rate_wait(xfer *x, uint64_t n)
{
    uint64_t now = http_now_ns();
    uint64_t a = hf_rate_reserve(hf_rate_process(), n, now), b = hf_rate_reserve(x->req->rate_limit, n, now);
    uint64_t until = a > b ? a : b;
    if (!until)
        return 0;
    for (;;) {
        uint64_t t = http_now_ns();
        if (t >= until)
            break;
        uint64_t left = until - t, slice = (uint64_t)POLL_MS * 1000000u;
        struct timespec ts = {0, (long)(left < slice ? left : slice)};
        nanosleep(&ts, NULL);
        if (x->req->progress && call_progress(x, 0))
            return 1;
    }
    x->window_ms += (http_now_ns() - now) / 1000000u;
    return 0;
}

/* The most bytes to move before the next reservation (0: no limit applies). */
static uint64_t rate_piece(const xfer *x)
{
    uint64_t a = hf_rate_piece(hf_rate_process()), b = hf_rate_piece(x->req->rate_limit);
    return !a ? b : !b ? a : a < b ? a : b;
}

size_t http_on_read(char *dst, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    const hf_http_request *req = x->req;
    uint64_t left = req->body_size - x->body_pos, piece = rate_piece(x);
    size_t want = size * nitems;
    if (want > left)
        want = (size_t)left;
    if (piece && want > piece)
        want = (size_t)piece;
    if (want == 0)
        return 0;
    if (piece && rate_wait(x, want))
        return CURL_READFUNC_ABORT;
    for (;;) {
        ssize_t n = pread(req->body_fd, dst, want, (off_t)(req->body_offset + x->body_pos));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            x->io_errno = n < 0 ? errno : -1;
            return CURL_READFUNC_ABORT;
        }
        x->body_pos += (uint64_t)n;
        return (size_t)n;
    }
}

int http_report(xfer *x, uint64_t *mark, uint64_t now)
{
    if (!x->req->progress || now <= *mark) return 0;
    uint64_t delta = now - *mark;
    *mark = now;
    return call_progress(x, delta);
}

uint64_t http_body_length(const hf_http_request *req)
{
    return req->body_fd >= 0 ? req->body_size : req->body ? req->body_len : 0;
}

/* The stall rule of http.h. Returns 1 (and sets stalled_secs) when the try must end. */
static int stall_check(xfer *x, uint64_t now, uint64_t up, uint64_t down)
{
    /* waiting: the whole body is out and no status line has come back yet */
    int phase = up >= http_body_length(x->req) && !x->got_status;
    uint64_t moved = up + down;
    if (phase != x->phase || moved < x->window_bytes) { /* new phase, or curl rewound the body */
        x->phase = phase;
        x->window_ms = now;
        x->window_bytes = moved;
        return 0;
    }
    long limit = phase && x->req->response_timeout_secs > 0 ? x->req->response_timeout_secs
                                                            : http_settings()->stall_secs;
    if (now - x->window_ms < (uint64_t)limit * 1000) return 0;
    if (phase || moved - x->window_bytes < (uint64_t)STALL_BYTES_PER_S * (uint64_t)limit) {
        x->stalled_secs = limit;
        return 1;
    }
    x->window_ms = now; /* enough moved in this window: start the next one */
    x->window_bytes = moved;
    return 0;
}

/* curl calls this as bytes move and, while nothing does, about once a second. */
int http_on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    xfer *x = ud;
    (void)dltotal;
    (void)ultotal;
    uint64_t up = ulnow > 0 ? (uint64_t)ulnow : 0, down = dlnow > 0 ? (uint64_t)dlnow : 0;
    if (up > x->seen_up || down > x->seen_down) /* any byte moving is progress for the retry budget */
        x->marks->alive_ms = http_now_ms();
    x->seen_up = up;
    x->seen_down = down;
    if (x->req->progress) {
        /* upload bytes are reported here; download bytes as they are written (write_file) */
        if (http_body_length(x->req) && up > x->marks->up) {
            if (http_report(x, &x->marks->up, up)) return 1;
        } else if (http_now_ms() - x->last_call_ms >= POLL_MS && call_progress(x, 0)) {
            return 1;
        }
    }
    return stall_check(x, http_now_ms(), up, down);
}

static size_t write_file(xfer *x, const char *data, size_t n)
{
    const hf_http_request *req = x->req;
    if (req->out_max && x->out_pos + n > req->out_max) {
        x->io_errno = -2;
        return 0;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = pwrite(req->out_fd, data + off, n - off, (off_t)(req->out_offset + x->out_pos));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            x->io_errno = w < 0 ? errno : EIO;
            return 0;
        }
        off += (size_t)w;
        x->out_pos += (uint64_t)w;
    }
    if (rate_piece(x) && rate_wait(x, n))
        return 0;
    return http_report(x, &x->marks->down, x->out_pos) ? 0 : n;
}

size_t http_on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->to_file < 0) {
        /* Only a 2xx body belongs in the file; an error page goes to memory for the message. */
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        x->to_file = x->req->out_fd >= 0 && code >= 200 && code <= 299;
    }
    if (x->to_file) return write_file(x, data, n);
    hf_buf *b = &x->resp->body;
    size_t room = b->len < x->max_response ? x->max_response - b->len : 0;
    if (room && hf_buf_put(b, data, n < room ? n : room) != 0) return 0;
    return n; /* the rest is drained and dropped */
}

static void set_field(char **field, const char *v, size_t n)
{
    free(*field);
    *field = strndup(v, n);
}

size_t http_on_header(char *data, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t n = size * nitems;
    hf_http_response *resp = x->resp;
    if (n >= 5 && !memcmp(data, "HTTP/", 5)) {
        x->got_status = 1; /* the server answered: from now on the stall rule is about bytes moving */
        x->marks->alive_ms = http_now_ms(); /* and the retry budget starts again from here */
        /* a new response (after 100 Continue or a redirect): forget the previous one's headers */
        free(resp->etag);
        free(resp->content_type);
        free(resp->location);
        free(resp->content_range);
        resp->etag = resp->content_type = resp->location = resp->content_range = NULL;
        resp->retry_after_ms = -1;
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon) return n;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
#define HEADER_IS(lit) (name_len == sizeof(lit) - 1 && !strncasecmp(data, lit, name_len))
    if (HEADER_IS("ETag"))
        set_field(&resp->etag, v, vlen); /* verbatim, quotes kept: S3 completion wants it so */
    else if (HEADER_IS("Content-Type"))
        set_field(&resp->content_type, v, vlen);
    else if (HEADER_IS("Location"))
        set_field(&resp->location, v, vlen);
    else if (HEADER_IS("Content-Range"))
        set_field(&resp->content_range, v, vlen);
    else if (HEADER_IS("Retry-After")) {
        char tmp[64];
        if (vlen < sizeof(tmp)) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            resp->retry_after_ms = hf_http_parse_retry_after(tmp, (long)time(NULL));
        }
    }
#undef HEADER_IS
    return n;
}
