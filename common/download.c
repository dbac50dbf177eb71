/*
 * download.c: one LFS object as parallel byte ranges, resumable, verified (see download.h).
 *
 * Shape: the calling thread opens (and locks) the record, learns which ranges are already on disk, starts
 * min(parallel, missing ranges) workers and waits. A worker takes the next missing range under the lock,
 * GETs it into its slice of the file (out_max = the range's length, so a server that ignores Range can never
 * write past the slice) and appends the range's index to the record once every byte is written. Then the
 * calling thread hashes the whole file. A server that answers 200 to a Range request stops the workers and
 * the object is fetched again as one plain GET.
 */
#include "download.h"

#include "digest.h"
#include "error.h"
#include "fsutil.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each range is one connection among up to 64, each usually capped by the server: 64 KiB per read is plenty,
 * and keeps 32 ranges in flight within the agent's 16 MiB RSS bar (the default 512 KiB would not). */
#define RANGE_RECV_BUFFER (64L * 1024)

enum { STOP_NONE, STOP_FAILED, STOP_CANCELLED, STOP_RANGE_IGNORED };

typedef struct dl_run {
    const hf_download_options *o;
    int fd, rec_fd;
    uint64_t range_size, count;
    unsigned char *done; /* range i is on disk (from the record, or finished in this run) */
    uint64_t *got;       /* bytes of range i seen so far in this run (clamped to the range) */
    pthread_mutex_t lock; /* guards everything below, done[], got[] and the progress callback */
    uint64_t next;       /* next range index to consider */
    uint64_t raw;        /* bytes on disk as far as this run knows: ranges found + bytes received */
    uint64_t reported;   /* bytes passed to the caller's callback: a high-water mark of raw */
    atomic_int stop;
    int rc;
    long http_status;
    char *message;       /* the first failure's text (error messages are per thread) */
} dl_run;

static uint64_t range_len(const dl_run *run, uint64_t i)
{
    uint64_t from = i * run->range_size;
    return run->o->size - from < run->range_size ? run->o->size - from : run->range_size;
}

static int run_stopped(dl_run *run)
{
    if (run->o->cancel && atomic_load(run->o->cancel)) {
        int expected = STOP_NONE;
        atomic_compare_exchange_strong(&run->stop, &expected, STOP_CANCELLED);
    }
    return atomic_load(&run->stop) != STOP_NONE;
}

/* Tells the caller about raw's growth past what it already heard. Call with the lock held. */
static void report_locked(dl_run *run)
{
    if (run->raw <= run->reported) return;
    uint64_t n = run->raw - run->reported;
    run->reported = run->raw;
    if (run->o->progress && run->o->progress(run->o->progress_ud, n, run->reported) != 0) {
        int expected = STOP_NONE;
        atomic_compare_exchange_strong(&run->stop, &expected, STOP_CANCELLED);
    }
}

static void run_fail(dl_run *run, int rc, int why)
{
    pthread_mutex_lock(&run->lock);
    if (run->rc == 0) {
        run->rc = rc;
        run->http_status = hf_error_last_http_status();
        run->message = strdup(hf_error_last_message());
    }
    pthread_mutex_unlock(&run->lock);
    int expected = STOP_NONE;
    atomic_compare_exchange_strong(&run->stop, &expected, why);
}

/* ---- one range ---- */

typedef struct dl_slice {
    dl_run *run;
    uint64_t index; /* UINT64_MAX: the whole object as one stream */
    uint64_t len;
} dl_slice;

/* hf_http_progress_cb: counts a range's new bytes (never past its length; the HTTP layer never repeats a
 * byte across tries) and answers whether to stop. Polled with 0 while nothing moves, so a range waiting
 * on a silent server or in a backoff stops soon after another fails. */
static int slice_progress(void *ud, uint64_t new_bytes)
{
    dl_slice *s = ud;
    dl_run *run = s->run;
    if (new_bytes) {
        pthread_mutex_lock(&run->lock);
        /* the stream's bytes are raw itself; a range's are counted in got[] and added to raw */
        uint64_t *got = s->index == UINT64_MAX ? &run->raw : &run->got[s->index];
        uint64_t room = *got < s->len ? s->len - *got : 0;
        uint64_t n = new_bytes < room ? new_bytes : room;
        *got += n;
        if (s->index != UINT64_MAX) run->raw += n;
        report_locked(run);
        pthread_mutex_unlock(&run->lock);
    }
    return run_stopped(run);
}

/* "Range: bytes=a-b" followed by the action's headers, NULL-terminated (pointers into extra/range). */
static const char **range_headers(const char *const *extra, const char *range)
{
    size_t n = 0;
    while (extra && extra[n])
        n++;
    const char **list = calloc(n + 2, sizeof(*list));
    if (!list) return NULL;
    size_t k = 0;
    if (range) list[k++] = range;
    for (size_t i = 0; i < n; i++)
        list[k++] = extra[i];
    return list;
}

/* GETs bytes [from, from+len) (the whole object when whole != 0) into the file. 0, STOP_RANGE_IGNORED
 * (positive) when the server answered a Range request with 200, or a negative hf_error_code. */
static int get_slice(dl_run *run, hf_http_client *http, dl_slice *s, uint64_t from, int whole)
{
    const hf_download_options *o = run->o;
    char range[80];
    snprintf(range, sizeof(range), "Range: bytes=%llu-%llu", (unsigned long long)from,
             (unsigned long long)(from + s->len - 1));
    const char **headers = range_headers(o->headers, whole ? NULL : range);
    if (!headers) return hf_error_set(HF_ENOMEM, "out of memory");
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = o->url;
    req.headers = headers;
    req.bearer_token = o->bearer_token;
    req.out_fd = run->fd;
    req.out_offset = from;
    req.out_max = s->len ? s->len : 1; /* 0 would mean "no limit" */
    req.progress = slice_progress;
    req.progress_ud = s;
    req.recv_buffer = RANGE_RECV_BUFFER;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    int rc = hf_http_send_retry(http, &req, &o->retry, &resp);
    if (!whole && resp.status == 200 && (rc == 0 || rc == HF_EINVAL)) {
        hf_trace("download: %s: the server answered 200 to a Range request: one stream instead", o->oid);
        rc = STOP_RANGE_IGNORED;
    } else if (rc == 0 && !whole && !hf_download_content_range_ok(resp.content_range, from, from + s->len - 1,
                                                                  o->size)) {
        rc = hf_error_set(HF_EHTTP, "asked for bytes %llu-%llu of %llu, the server sent Content-Range \"%.80s\"",
                          (unsigned long long)from, (unsigned long long)(from + s->len - 1),
                          (unsigned long long)o->size, resp.content_range ? resp.content_range : "(none)");
    } else if (rc == 0 && whole && resp.status == 206 &&
               !hf_download_content_range_ok(resp.content_range, 0, o->size - 1, o->size)) {
        rc = hf_error_set(HF_EHTTP, "asked for the whole object, the server sent only Content-Range \"%.80s\"",
                          resp.content_range ? resp.content_range : "(none)");
    }
    hf_http_response_reset(&resp);
    free(headers);
    return rc;
}

/* Appends "<index>\n" to the record once the range's bytes are all written: a crash between the two leaves
 * a range that is fetched again, never one that is believed done and is not. */
static int record_done(dl_run *run, uint64_t i)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)i);
    if (write(run->rec_fd, line, (size_t)n) != n)
        return hf_error_set(HF_EIO, "cannot update the download record of %s: %s", run->o->oid, strerror(errno));
    return 0;
}

static void *worker(void *arg)
{
    dl_run *run = arg;
    hf_http_client *http = NULL;
    if (hf_http_client_new(&http) < 0) {
        run_fail(run, hf_error_last_code(), STOP_FAILED);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&run->lock);
        while (run->next < run->count && run->done[run->next])
            run->next++;
        uint64_t i = run->next < run->count ? run->next++ : UINT64_MAX;
        pthread_mutex_unlock(&run->lock);
        if (i == UINT64_MAX || run_stopped(run)) break;
        dl_slice s = {run, i, range_len(run, i)};
        uint64_t from = i * run->range_size;
        int rc = get_slice(run, http, &s, from, 0);
        if (rc == STOP_RANGE_IGNORED) {
            int expected = STOP_NONE;
            atomic_compare_exchange_strong(&run->stop, &expected, STOP_RANGE_IGNORED);
            break;
        }
        if (rc == HF_ECANCELLED) break; /* stopped on purpose: run->stop already says why */
        if (rc == 0) rc = record_done(run, i);
        if (rc < 0) {
            hf_error_prefix("range %llu of %llu (bytes %llu-%llu): ", (unsigned long long)i + 1,
                            (unsigned long long)run->count, (unsigned long long)from,
                            (unsigned long long)(from + s.len - 1));
            run_fail(run, rc, STOP_FAILED);
            break;
        }
        pthread_mutex_lock(&run->lock);
        run->done[i] = 1;
        run->raw += s.len - run->got[i]; /* top up: the range is exactly its length, whatever was counted */
        run->got[i] = s.len;
        report_locked(run);
        pthread_mutex_unlock(&run->lock);
    }
    hf_http_client_free(http);
    return NULL;
}

static int run_ranges(dl_run *run, uint64_t missing)
{
    int n = run->o->parallel > 0 ? run->o->parallel : HF_DOWNLOAD_DEFAULT_PARALLEL;
    if (n > HF_DOWNLOAD_MAX_PARALLEL) n = HF_DOWNLOAD_MAX_PARALLEL;
    if ((uint64_t)n > missing) n = (int)missing;
    pthread_t threads[HF_DOWNLOAD_MAX_PARALLEL];
    int started = 0;
    for (; started < n; started++)
        if (pthread_create(&threads[started], NULL, worker, run) != 0) break;
    if (started == 0 && n > 0) worker(run); /* no threads to be had: one range at a time, here */
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (run->rc < 0) return hf_error_set_http(run->rc, run->http_status, "%s", run->message);
    if (atomic_load(&run->stop) == STOP_CANCELLED) return hf_error_set(HF_ECANCELLED, "cancelled");
    return atomic_load(&run->stop) == STOP_RANGE_IGNORED ? STOP_RANGE_IGNORED : 0;
}

/* The whole object as one plain GET into the file from offset 0 (small objects, and servers without
 * Range). Progress continues from the high-water mark: bytes already reported are not reported again. */
static int run_stream(dl_run *run)
{
    hf_http_client *http = NULL;
    int rc = hf_http_client_new(&http);
    if (rc < 0) return rc;
    atomic_store(&run->stop, STOP_NONE);
    pthread_mutex_lock(&run->lock);
    run->raw = 0;
    pthread_mutex_unlock(&run->lock);
    dl_slice s = {run, UINT64_MAX, run->o->size};
    rc = get_slice(run, http, &s, 0, 1);
    hf_http_client_free(http);
    if (rc == 0) {
        pthread_mutex_lock(&run->lock);
        run->raw = run->o->size;
        report_locked(run);
        pthread_mutex_unlock(&run->lock);
    }
    return rc;
}

/* ---- files ---- */

/* Opens and locks the record, waiting for another process that holds it. The record may have been
 * finished and removed by that process while we waited: then the lock is on a dead file, so open again. */
static int record_open_locked(const char *path)
{
    for (;;) {
        int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (fd < 0) return hf_error_set(HF_EIO, "cannot open %s: %s", path, strerror(errno));
        struct stat a, b;
        if (flock(fd, LOCK_EX) != 0 || fstat(fd, &a) != 0) {
            int err = errno;
            close(fd);
            return hf_error_set(HF_EIO, "cannot lock %s: %s", path, strerror(err));
        }
        if (stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) return fd;
        close(fd);
    }
}

/* Reads the record into run->done (all zero when it belongs to another size or range size, or is new) and
 * leaves a valid header in it. Returns the number of ranges already on disk, or a negative error. */
static long record_load(dl_run *run, const char *data_path)
{
    hf_buf text = HF_BUF_INIT, head = HF_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    off_t off = 0;
    while ((n = pread(run->rec_fd, chunk, sizeof(chunk), off)) > 0) {
        if (hf_buf_put(&text, chunk, (size_t)n) != 0) break;
        off += n;
    }
    long marked = hf_download_record_parse(hf_buf_cstr(&text), text.len, run->o->size, run->range_size,
                                           run->done, run->count);
    struct stat st;
    if (marked > 0 && (stat(data_path, &st) != 0 || (uint64_t)st.st_size != run->o->size)) {
        memset(run->done, 0, run->count); /* the record outlived its data: start over */
        marked = -1;
    }
    int rc = 0;
    if (marked < 0) {
        rc = hf_download_record_header(&head, run->o->size, run->range_size) || hf_buf_putc(&head, '\n');
        if (rc == 0 && (ftruncate(run->rec_fd, 0) != 0 ||
                        write(run->rec_fd, head.ptr, head.len) != (ssize_t)head.len))
            rc = -1;
        marked = 0;
    }
    hf_buf_free(&text);
    hf_buf_free(&head);
    return rc ? hf_error_set(HF_EIO, "cannot write the download record of %s: %s", run->o->oid,
                             strerror(errno))
              : marked;
}

static int open_data(dl_run *run, const char *path, int fresh)
{
    run->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0666);
    if (run->fd < 0 || ftruncate(run->fd, (off_t)run->o->size) != 0)
        return hf_error_set(HF_EIO, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

/* Creates "<dir>/<oid>.<random>.hfdl" exclusively (0666 minus the umask, as git-lfs wants: the file keeps
 * its mode in the store) and returns its descriptor; path is replaced with the name. */
static int create_unique(const hf_download_options *o, hf_buf *path)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        unsigned char rnd[8];
        char hex[17];
        if (hf_random_bytes(rnd, sizeof(rnd)) < 0) return hf_error_set(HF_ERROR, "no random bytes for a file name");
        hf_hex_encode(rnd, sizeof(rnd), hex);
        hf_buf_clear(path);
        if (hf_buf_printf(path, "%s/%s.%s.hfdl", o->dir, o->oid, hex) < 0)
            return hf_error_set(HF_ENOMEM, "out of memory");
        int fd = open(path->ptr, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) return fd;
        if (errno != EEXIST) return hf_error_set(HF_EIO, "cannot create %s: %s", path->ptr, strerror(errno));
    }
    return hf_error_set(HF_EIO, "cannot create a temp file in %s", o->dir);
}

static int open_unique(dl_run *run, hf_buf *path)
{
    run->fd = create_unique(run->o, path);
    return run->fd < 0 ? run->fd : 0;
}

/* Moves the verified "<oid>.hfdl" to a name of its own; call with the record's lock held. Once the lock is
 * released, another process fetching the same object starts "<oid>.hfdl" afresh (truncating it): the file
 * handed to the caller must not be that one. data_path is replaced with the new name. */
static int claim_verified(const dl_run *run, hf_buf *data_path)
{
    hf_buf mine = HF_BUF_INIT;
    int fd = create_unique(run->o, &mine);
    int rc = fd < 0 ? fd : 0;
    if (fd >= 0) close(fd);
    if (rc == 0 && rename(data_path->ptr, mine.ptr) != 0) { /* replaces the empty placeholder */
        rc = hf_error_set(HF_EIO, "cannot move %s to %s: %s", data_path->ptr, mine.ptr, strerror(errno));
        unlink(mine.ptr);
    }
    if (rc == 0) {
        hf_buf tmp = *data_path;
        *data_path = mine;
        mine = tmp;
    }
    hf_buf_free(&mine);
    return rc;
}

static int verify(const dl_run *run, const char *path)
{
    char got[HF_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    struct stat st;
    if (run->o->trust_caller_hash) { /* the caller hashes it anyway: a second pass would only cost time */
        if (stat(path, &st) != 0 || (uint64_t)st.st_size != run->o->size)
            return hf_error_set(HF_EIO, "the download of %s has the wrong size", run->o->oid);
        return 0;
    }
    int rc = hf_sha256_file(path, got, &size);
    if (rc < 0) return rc;
    if (size != run->o->size)
        return hf_error_set(HF_EIO, "the download of %s is %llu bytes, expected %llu", run->o->oid,
                            (unsigned long long)size, (unsigned long long)run->o->size);
    if (strcmp(got, run->o->oid) != 0)
        return hf_error_set(HF_EIO,
                            "the downloaded content of %s hashes to %s: it was corrupted in transit or on disk; "
                            "the partial download was removed, run the command again",
                            run->o->oid, got);
    return 0;
}

void hf_download_options_from_env(hf_download_options *o)
{
    const char *p = getenv("HFGIT_DOWNLOAD_PARALLEL"), *r = getenv("HFGIT_DOWNLOAD_RANGE_SIZE");
    char *end;
    if (p && *p) {
        long v = strtol(p, &end, 10);
        if (!*end && v >= 1 && v <= HF_DOWNLOAD_MAX_PARALLEL) o->parallel = (int)v;
    }
    if (r && *r) {
        unsigned long long v = strtoull(r, &end, 10);
        if (!*end && v >= HF_DOWNLOAD_MIN_RANGE_SIZE) o->range_size = v;
    }
}

static int download(dl_run *run, hf_buf *data_path, const char *rec_path)
{
    const hf_download_options *o = run->o;
    int rc;
    if (run->count == 1) {
        /* one plain GET into a file of its own (the same object may be fetched twice at once, e.g. for two
         * paths with the same content); no record: small objects are cheap to fetch again */
        rc = open_unique(run, data_path);
        if (rc == 0) rc = run_stream(run);
        if (rc == 0) rc = verify(run, data_path->ptr);
        if (rc < 0) unlink(data_path->ptr);
        return rc;
    }
    run->rec_fd = record_open_locked(rec_path);
    if (run->rec_fd < 0) return run->rec_fd;
    struct stat st;
    if (o->store_path && stat(o->store_path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == o->size) {
        /* another process fetched it while we waited for the lock: nothing to fetch, and what an earlier
         * run of ours left here is of no use any more */
        hf_trace("download: %s: already in the store, not fetched again", o->oid);
        unlink(data_path->ptr);
        unlink(rec_path);
        hf_buf_clear(data_path);
        pthread_mutex_lock(&run->lock);
        run->raw = o->size;
        report_locked(run);
        pthread_mutex_unlock(&run->lock);
        return 0;
    }
    long have = record_load(run, data_path->ptr);
    if (have < 0) return (int)have;
    rc = open_data(run, data_path->ptr, have == 0);
    if (rc < 0) return rc;
    for (uint64_t i = 0; i < run->count; i++)
        if (run->done[i]) run->raw += range_len(run, i);
    pthread_mutex_lock(&run->lock);
    report_locked(run); /* ranges found on disk count as moved: progress ends at exactly the size */
    pthread_mutex_unlock(&run->lock);
    hf_trace("download: %s: %llu bytes in %llu ranges of %llu, %ld already on disk", o->oid,
             (unsigned long long)o->size, (unsigned long long)run->count, (unsigned long long)run->range_size,
             have);
    rc = run_ranges(run, run->count - (uint64_t)have);
    if (rc == STOP_RANGE_IGNORED) {
        /* the ranges are void (the stream rewrites the file): an interrupted stream must not be resumed */
        if (ftruncate(run->rec_fd, 0) != 0) hf_trace("download: %s: cannot empty the record", o->oid);
        rc = run_stream(run);
    }
    if (rc == 0 && (rc = verify(run, data_path->ptr)) < 0) {
        unlink(data_path->ptr);
        unlink(rec_path);
    }
    if (rc == 0) rc = claim_verified(run, data_path); /* before the record goes and its lock is released */
    if (rc == 0) unlink(rec_path);
    return rc;
}

int hf_download_object(const hf_download_options *opts, hf_buf *path_out)
{
    if (!opts->url || !hf_transfer_url_ok(opts->url))
        return hf_error_set(HF_EINVAL, "the download URL of %s is not an http:// or https:// URL",
                            opts->oid ? opts->oid : "(no oid)");
    int rc = hf_mkdir_p(opts->dir, 0777);
    if (rc < 0) return rc;
    dl_run run;
    memset(&run, 0, sizeof(run));
    run.o = opts;
    run.fd = run.rec_fd = -1;
    run.range_size = opts->range_size ? opts->range_size : HF_DOWNLOAD_DEFAULT_RANGE_SIZE;
    run.count = hf_download_range_count(opts->size, run.range_size);
    run.done = calloc(run.count, 1);
    run.got = calloc(run.count, sizeof(*run.got));
    atomic_init(&run.stop, STOP_NONE);
    pthread_mutex_init(&run.lock, NULL);
    hf_buf data = HF_BUF_INIT, rec = HF_BUF_INIT;
    if (!run.done || !run.got || hf_buf_printf(&data, "%s/%s.hfdl", opts->dir, opts->oid) ||
        hf_buf_printf(&rec, "%s/%s.hfdl.ranges", opts->dir, opts->oid))
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    if (rc == 0) rc = download(&run, &data, rec.ptr);
    if (run.fd >= 0 && close(run.fd) != 0 && rc == 0)
        rc = hf_error_set(HF_EIO, "cannot write %s: %s", data.ptr, strerror(errno));
    if (run.rec_fd >= 0) close(run.rec_fd); /* releases the lock */
    if (rc == 0) {
        hf_buf_clear(path_out);
        rc = hf_buf_puts(path_out, data.ptr);
    }
    pthread_mutex_destroy(&run.lock);
    free(run.done);
    free(run.got);
    free(run.message);
    hf_buf_free(&data);
    hf_buf_free(&rec);
    return rc;
}
