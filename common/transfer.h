/*
 * transfer.h: the LFS transfer engine shared by the git-lfs agent (agent/) and the library (repo/).
 *
 * hf_multipart_upload  Hugging Face-style multipart upload: PUT each part of a file to its presigned URL,
 *                      several parts at once, then POST the completion {"oid", "parts":[{partNumber, etag}]}.
 * hf_single_put        one PUT of a whole file to an action href (basic transfer, or a multipart action that
 *                      came without chunk_size).
 *
 * Bodies are streamed from the file with pread (through http.h file-slice bodies): memory stays constant
 * whatever the file or part size, and offsets past 4 GiB are fine. Every request goes through
 * hf_http_send_retry, so transport errors, 5xx, 408 and 429 are retried under the caller's policy; the bytes
 * of a retried part are never reported twice.
 *
 * Progress: the callback receives the number of new bytes and the running total. Over a successful call the
 * new bytes sum to exactly `size`, and the last call has total == size. It is called from worker threads, but
 * never concurrently (the engine holds its lock), so the callback needs no locking of its own.
 *
 * Stopping: the first failed part, the cancel flag or a non-zero progress return stops the other parts within
 * about a second, even while they wait on a silent server or sleep before a retry (http.h polls the engine).
 * The completion POST waits up to an hour for its answer (the Hub hashes the whole object first) and stays
 * cancellable meanwhile.
 *
 * Errors name the object, the part (number, byte range), the HTTP status and the server's message; a 403 on a
 * presigned URL says that the URL has probably expired. No token is ever sent to a presigned URL (part PUTs
 * and the completion POST carry no Authorization header).
 *
 * Thread-safety: each call is independent and may run on any thread; hf_http_global_init() must have run.
 */
#ifndef HF_TRANSFER_H
#define HF_TRANSFER_H

#include "http.h"
#include "ratelimit.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* new_bytes: bytes moved since the previous call; total: bytes moved so far (never above the size).
 * Return non-zero to cancel the transfer (the call then fails with HF_ECANCELLED). */
typedef int (*hf_transfer_progress_cb)(void *ud, uint64_t new_bytes, uint64_t total);

/* S3 limits: parts are at most 5 GiB and at most 10,000 per object. */
#define HF_MULTIPART_MAX_PARTS 10000
#define HF_MULTIPART_DEFAULT_PARALLEL 8
#define HF_MULTIPART_MAX_PARALLEL 64

typedef struct hf_multipart_fresh hf_multipart_fresh; /* below, after the part plan */

/* Asks the server again (a batch request for this one object) when URLs expired. Returns 0 with *out
 * filled, 1 when the server has the object already (no upload action: nothing left to do), or a negative
 * hf_error_code with a message. Called from the engine's threads, never two at once. */
typedef int (*hf_multipart_refresh_cb)(void *ud, hf_multipart_fresh *out);

typedef struct hf_multipart_options {
    const char *path;             /* the file to upload (opened read-only) ... */
    int fd;                       /* ... or an already open descriptor when >= 0 (path then only names it) */
    const char *oid;              /* sha256 hex, sent in the completion body and named in messages */
    uint64_t size;                /* object size; the file must be exactly this long */
    uint64_t chunk_size;          /* part i covers [i*chunk_size, min((i+1)*chunk_size, size)) */
    const char *const *part_urls; /* presigned PUT URLs in part order (part_urls[0] is part 1) */
    size_t part_count;            /* must equal ceil(size / chunk_size) */
    const char *complete_url;     /* completion href */
    const char *const *complete_headers; /* extra "Name: value" lines for the completion POST, or NULL */
    int parallel;                        /* parts in flight at once; <= 0: HFGIT_MULTIPART_PARALLEL, else
                                            HF_MULTIPART_DEFAULT_PARALLEL */
    hf_retry_policy retry;
    hf_transfer_progress_cb progress; /* or NULL */
    void *progress_ud;
    const atomic_int *cancel; /* or NULL; set non-zero from any thread to stop (HF_ECANCELLED) */
    /* resume, expiry and bandwidth (issue 11) */
    const char *journal_dir;         /* keep the part journal here (part_journal.h; .git/lfs/tmp), or NULL */
    int64_t expires_at;              /* epoch seconds the part URLs are good until; 0 = unknown */
    hf_multipart_refresh_cb refresh; /* or NULL: an expired URL is then a final error */
    void *refresh_ud;
    hf_rate_limiter *rate_limit; /* or NULL: a limit on top of the process one (ratelimit.h) */
} hf_multipart_options;

#define HF_MULTIPART_OPTIONS_INIT                                                                            \
    {                                                                                                        \
        NULL, -1, NULL, 0, 0, NULL, 0, NULL, NULL, 0, HF_RETRY_POLICY_INIT, NULL, NULL, NULL, NULL, 0, NULL, \
            NULL, NULL                                                                                       \
    }

/* Uploads every part (in parallel), then POSTs the completion. 0 on success, or a negative hf_error_code
 * with a message; hf_error_last_http_status() gives the status that ended it, when there was one.
 *
 * With journal_dir, finished parts are recorded and a later call for the same upload (same identity, see
 * part_journal.h) skips them; their bytes are reported as progress at the start. The journal is removed
 * when the upload completes. With refresh, a part refused with 403 (an expired presigned URL) or started
 * after expires_at makes the engine ask for fresh URLs: the same upload goes on with the parts not yet
 * done; a new upload restarts the object with every part left started at once (up to
 * HF_MULTIPART_MAX_PARALLEL), so that each starts while its fresh URL is valid (at most
 * HF_MULTIPART_MAX_RESTARTS times, then a final error that says the URLs expired and what to do). A completion refused because the server lost a part (400, 404,
 * 409, 422) drops the journal and sends every part again, once. Progress stays exact through all of it:
 * never backwards, and it sums to size. */
#define HF_MULTIPART_MAX_RESTARTS 3
int hf_multipart_upload(const hf_multipart_options *opts);

typedef struct hf_single_put_options {
    const char *path; /* the file to upload ... */
    int fd;           /* ... or an open descriptor when >= 0 */
    const char *oid;  /* for messages */
    uint64_t size;    /* the file must be exactly this long */
    const char *href;
    const char *const *headers; /* "Name: value" lines from the action, or NULL */
    const char *bearer_token;   /* only for the library's own endpoints; NULL for presigned hrefs */
    hf_retry_policy retry;
    hf_transfer_progress_cb progress;
    void *progress_ud;
    const atomic_int *cancel;
    hf_rate_limiter *rate_limit;     /* or NULL */
    hf_multipart_refresh_cb refresh; /* or NULL: a 403 (an expired presigned URL) is then a final error */
    void *refresh_ud;
} hf_single_put_options;

#define HF_SINGLE_PUT_OPTIONS_INIT                                                                           \
    {                                                                                                        \
        NULL, -1, NULL, 0, NULL, NULL, NULL, HF_RETRY_POLICY_INIT, NULL, NULL, NULL, NULL, NULL, NULL        \
    }

/* PUTs the whole file to href with the given headers. 0 or a negative hf_error_code with a message.
 *
 * With refresh, a PUT refused with 403 (the presigned URL expired, e.g. when retries after a dropped
 * connection start past its lifetime) asks for a fresh action: 1 (the server has the object now) ends the
 * call with success; a plain single-PUT plan is PUT again to its href with its headers; a multipart plan is
 * a final error (push again). At most HF_SINGLE_PUT_MAX_REFRESHES refreshes per call, then a final error
 * (HF_EEXPIRED) that says the URL expired and what to do. Progress stays exact: bytes sent again are not
 * counted twice, and the total never passes size. */
#define HF_SINGLE_PUT_MAX_REFRESHES 2
int hf_single_put(const hf_single_put_options *opts);

/* ---- the part plan: what an upload action's header map means (transfer_plan.c) ----
 *
 * A Hub multipart action carries its part URLs in `header`: all-digit keys ("00001", "2", ...) are part
 * numbers (sorted numerically, whatever order they arrive in; they must be exactly 1..N), "chunk_size" is
 * the part size (a decimal string, or a number). Other keys are ignored. With no chunk_size the action is a
 * plain single PUT and every entry is an HTTP header.
 */
typedef struct hf_multipart_plan {
    int multipart; /* 1 when chunk_size was present */
    uint64_t chunk_size;
    char **part_urls; /* sorted by part number after hf_multipart_plan_finish */
    size_t part_count;
    char **headers; /* the other entries as "Name: value", NULL-terminated */
    size_t header_count;
    /* private */
    uint64_t *part_numbers;
    size_t part_cap, header_cap;
    char *bad_header; /* first entry that cannot be an HTTP header (refused only for a single PUT) */
} hf_multipart_plan;

#define HF_MULTIPART_PLAN_INIT                                                                               \
    {                                                                                                        \
        0, 0, NULL, 0, NULL, 0, NULL, 0, 0, NULL                                                             \
    }

/* Classifies one header entry. HF_EINVAL for a bad chunk_size, a part number of 0 or with more than 9
 * significant digits, or an empty part URL. */
int hf_multipart_plan_add(hf_multipart_plan *plan, const char *name, const char *value);
/* chunk_size given as a JSON number instead of a string. */
int hf_multipart_plan_set_chunk_size(hf_multipart_plan *plan, uint64_t chunk_size);
/* Sorts the parts and checks them against the object: count == ceil(size / chunk_size), part numbers exactly
 * 1..count, no part keys without chunk_size, at most HF_MULTIPART_MAX_PARTS; for a single PUT, every entry
 * can be sent as an HTTP header (no CR, LF, or ':' in the name). Messages name oid. */
int hf_multipart_plan_finish(hf_multipart_plan *plan, const char *oid, uint64_t size);
void hf_multipart_plan_free(hf_multipart_plan *plan);

/* A fresh upload action for the object, from a new batch request (hf_multipart_options.refresh). */
struct hf_multipart_fresh {
    hf_multipart_plan plan; /* chunk_size and part URLs (hf_multipart_plan_finish'ed) */
    char *complete_url;
    int64_t expires_at; /* epoch seconds the URLs are good until; 0 = not said */
};

#define HF_MULTIPART_FRESH_INIT                                                                              \
    {                                                                                                        \
        HF_MULTIPART_PLAN_INIT, NULL, 0                                                                      \
    }
void hf_multipart_fresh_free(hf_multipart_fresh *f);

/* Retry policy from the environment on top of *p: HFGIT_RETRY_MAX_ATTEMPTS, HFGIT_RETRY_BASE_MS,
 * HFGIT_RETRY_MAX_DELAY_MS, HFGIT_RETRY_MAX_TOTAL_MS (non-negative integers; bad values are ignored). */
void hf_retry_policy_from_env(hf_retry_policy *p);

/* ---- pure helpers (unit-testable) ---- */

/* 1 when url starts with http:// or https:// (any case). Transfer URLs come from the server, and libcurl
 * would just as well PUT to file:// (overwriting a local file) or other schemes: the engine and the plan
 * refuse anything else. */
int hf_transfer_url_ok(const char *url);

/* Number of parts for size bytes in chunks of chunk_size (ceil); 0 when chunk_size is 0. */
uint64_t hf_multipart_part_count(uint64_t size, uint64_t chunk_size);

/* Appends the completion body {"oid":"…","parts":[{"partNumber":1,"etag":"…"},…]} to out. */
int hf_multipart_completion_body(hf_buf *out, const char *oid, const char *const *etags, size_t count);

#endif
