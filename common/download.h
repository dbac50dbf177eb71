/*
 * download.h: fetching one LFS object fast and resumably, shared by the library (repo/) and the git-lfs
 * agent (agent/).
 *
 * An object larger than one range is fetched as N byte ranges in parallel (HTTP Range: bytes=a-b). Each
 * answer must be a 206 whose Content-Range names exactly the range asked for; its body is written with
 * pwrite into a temp file at the range's offset. Object stores and CDNs cap each connection (10-100 MB/s),
 * so N connections move about N times as fast. A server that ignores Range and answers 200 makes the engine
 * stop the ranges and fetch the whole object as one stream instead. Objects of at most one range are one
 * plain GET (the library runs several of those at once).
 *
 * Files, in `dir` (the repository's .git/lfs/incomplete, so the final rename stays on one file system):
 *   <oid>.hfdl         the object being assembled, at its full size from the start (sparse); once verified
 *                      it is renamed to "<oid>.<random>.hfdl" while the record is still locked, and that
 *                      name is returned: a process that was waiting for the lock starts <oid>.hfdl afresh
 *                      and must not truncate a file another caller is about to move into the store. An
 *                      object of one range goes to "<oid>.<random>.hfdl" directly, and has no record
 *   <oid>.hfdl.ranges  the record of finished ranges: a header line "hfgit-ranges 1 <size> <range_size>",
 *                      then one line "<index>" per range whose bytes are all written
 * A killed download resumes on the next run from what the record lists (same size and range size; anything
 * else starts over). At the end the whole file is hashed: a mismatch (a corrupted range, a stale record)
 * removes both files and fails, so nothing unverified ever reaches the store. The record is locked (flock)
 * while a process works on it: a second process fetching the same object waits for the first.
 *
 * Retries: each range goes through hf_http_send_retry under opts->retry on its own, so one flaky range is
 * retried without touching the others; the first range that fails for good stops the rest.
 *
 * Progress: the callback gets new bytes and the running total, never above the size and never counting a
 * byte twice (a retried range, a range answered 200, a resumed range). Ranges found on disk at the start are
 * reported at once. Calls are serialised by the engine; they come from worker threads.
 *
 * Environment (read by hf_download_options_from_env, for the agent and the library's defaults):
 *   HFGIT_DOWNLOAD_PARALLEL    ranges in flight per object (1..64, default 16)
 *   HFGIT_DOWNLOAD_RANGE_SIZE  bytes per range (>= 64 KiB, default 16 MiB)
 *
 * Thread-safety: each call is independent and may run on any thread; hf_http_global_init() must have run.
 */
#ifndef HF_DOWNLOAD_H
#define HF_DOWNLOAD_H

#include "buf.h"
#include "http.h"
#include "transfer.h"

#include <stdatomic.h>
#include <stdint.h>

#define HF_DOWNLOAD_DEFAULT_PARALLEL 16
#define HF_DOWNLOAD_MAX_PARALLEL 64
#define HF_DOWNLOAD_DEFAULT_RANGE_SIZE ((uint64_t)16 * 1024 * 1024)
#define HF_DOWNLOAD_MIN_RANGE_SIZE ((uint64_t)64 * 1024)

typedef struct hf_download_options {
    const char *url;            /* the download action's href (http or https) */
    const char *const *headers; /* "Name: value" lines from the action, or NULL */
    const char *bearer_token;   /* only for the library's own endpoints; NULL for presigned hrefs */
    const char *oid;            /* sha256 hex: the file must hash to it */
    uint64_t size;              /* the object's size */
    const char *dir;            /* where the temp file and the record go (created when missing) */
    int parallel;               /* ranges in flight; <= 0: HF_DOWNLOAD_DEFAULT_PARALLEL */
    uint64_t range_size;        /* 0: HF_DOWNLOAD_DEFAULT_RANGE_SIZE */
    hf_retry_policy retry;
    hf_transfer_progress_cb progress; /* or NULL */
    void *progress_ud;
    const atomic_int *cancel; /* or NULL; set non-zero from any thread to stop (HF_ECANCELLED) */
    int trust_caller_hash; /* 1: skip the final SHA-256 because the caller hashes the file before it uses it
                            * (git-lfs does for what an agent hands it); the size is still checked */
    const char *store_path; /* or NULL: the object's place in the store. A multi-range download that finds a
                             * file of the right size there once it holds the record's lock (another process
                             * fetched it meanwhile) fetches nothing and returns 0 with path_out empty */
} hf_download_options;

#define HF_DOWNLOAD_OPTIONS_INIT                                                                             \
    {                                                                                                        \
        NULL, NULL, NULL, NULL, 0, NULL, 0, 0, HF_RETRY_POLICY_INIT, NULL, NULL, NULL, 0, NULL               \
    }

/* Overrides parallel and range_size from HFGIT_DOWNLOAD_PARALLEL / HFGIT_DOWNLOAD_RANGE_SIZE when they are
 * set and valid (bad values are ignored: the defaults are safe). */
void hf_download_options_from_env(hf_download_options *o);

/* Fetches the object. On success (0) path_out holds the temp file's path (see above): complete, of the right size, hashing
 * to oid; the record is gone. (Empty when store_path was found in place: there is nothing to move.) The caller renames the file into the store (or hands it to git-lfs). On
 * failure a negative hf_error_code with a message naming the object, the range and the server's answer;
 * the record and the partial file stay for a resume unless what is on disk is known to be wrong. */
int hf_download_object(const hf_download_options *opts, hf_buf *path_out);

/* ---- pure helpers (download_plan.c, unit-tested) ---- */

/* Number of ranges for size bytes in ranges of range_size (at least 1, even for size 0). */
uint64_t hf_download_range_count(uint64_t size, uint64_t range_size);

/* 1 when a Content-Range value ("bytes a-b/size", case-insensitive unit, optional spaces) names exactly
 * bytes from..to (inclusive) of an object of `size` bytes; 0 otherwise ("*" for the size is refused: the
 * engine knows the size and a server that does not is not trusted with a range). */
int hf_download_content_range_ok(const char *value, uint64_t from, uint64_t to, uint64_t size);

/* The record's header line (without newline) into out. */
int hf_download_record_header(hf_buf *out, uint64_t size, uint64_t range_size);

/* Reads a record's text: when its header matches size and range_size, sets done[i] = 1 for each listed
 * index below count and returns the number of distinct ranges marked; a record with another header (or
 * none) returns -1 and marks nothing. Lines that are not an index in range (e.g. a line cut by a crash)
 * are ignored. */
long hf_download_record_parse(const char *text, size_t len, uint64_t size, uint64_t range_size,
                              unsigned char *done, uint64_t count);

#endif
