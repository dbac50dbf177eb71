/* clang-format off: the file map is a list and must stay one */
/*
 * agent.h: internals of git-lfs-hfmultipart, the git-lfs custom transfer agent (design.md §2).
 *
 *   main.c     options, the stdin loop: init / upload / terminate (one request at a time, as git-lfs
 *              sends them)
 *   line.c     one request line from stdin, with a bound on memory (AGENT_MAX_LINE)
 *   request.c  one line into an agent_request, checked (pure: no I/O; fuzzed and unit-tested)
 *   upload.c   one upload request: run the transfer engine (common/transfer.h), report progress
 *   refresh.c  fresh part URLs when they expire: the batch API again, endpoint and credentials as
 *              git-lfs finds them
 *   output.c   protocol lines: formatted in memory (pure), written whole and flushed, serialised between
 *              the engine's worker threads and the main thread
 *
 * Nothing but protocol lines ever goes to the protocol descriptor; diagnostics go to stderr (git-lfs shows
 * them under GIT_TRACE=1). agent_output_init moves the real stdout aside and points descriptor 1 at stderr,
 * so a stray printf from any library cannot corrupt the protocol.
 */
/* clang-format on */
#ifndef HF_AGENT_H
#define HF_AGENT_H

#include "../common/batch.h"
#include "../common/http.h"
#include "../common/json.h"
#include "../common/transfer.h"

#include <stdint.h>
#include <stdio.h>

typedef struct agent_config {
    int parallel;          /* part PUTs in flight per object */
    int download_parallel; /* ranges in flight per downloaded object (0: HFGIT_DOWNLOAD_PARALLEL or 16) */
    hf_retry_policy retry; /* for part PUTs, single PUTs and the completion POST */
    uint64_t max_line;     /* longest request line served (AGENT_MAX_LINE, HFGIT_AGENT_MAX_LINE) */
} agent_config;

/* Error codes in complete/init errors. git-lfs never interprets them; an HTTP status is used when there was
 * one, so that "[403] ..." reads naturally in git's output. */
#define AGENT_ECODE_GENERIC 2
#define AGENT_ECODE_REQUEST 22 /* malformed request line */
#define AGENT_ECODE_INIT 32    /* the code the reference agent uses for a refused init */

typedef enum agent_event {
    AGENT_EV_OTHER,
    AGENT_EV_INIT,
    AGENT_EV_UPLOAD,
    AGENT_EV_DOWNLOAD,
    AGENT_EV_TERMINATE
} agent_event;
typedef enum agent_operation { AGENT_OP_NONE, AGENT_OP_UPLOAD, AGENT_OP_DOWNLOAD } agent_operation;

/* One request line, as far as it could be read. */
typedef struct agent_request {
    agent_event event;
    agent_operation operation; /* init only */
    char *oid;                 /* as sent (any string), or scanned from an unparsable line; or NULL */
    int64_t size;              /* upload/download: >= 0 once read, else -1 */
    char *path, *href;         /* path: upload only; href NULL in standalone mode */
    char *remote;              /* init: the remote's name (or URL) being pushed to or fetched from, or NULL */
    int64_t expires_at;        /* upload: the action's expiry (epoch seconds; expires_in counts from now), 0 */
    hf_multipart_plan plan;    /* the action's header map, sorted and checked (download: headers only) */
    int standalone;            /* upload/download: "action" was null (lfs.standalonetransferagent): the
                                * agent runs the batch API itself (standalone.c) */
} agent_request;

#define AGENT_REQUEST_INIT                                                                                   \
    {                                                                                                        \
        AGENT_EV_OTHER, AGENT_OP_NONE, NULL, -1, NULL, NULL, NULL, 0, HF_MULTIPART_PLAN_INIT, 0             \
    }

/* Parses and checks one line (without its newline). 0: *req is a valid init, terminate, upload (oid of 64
 * lowercase hex, size, path, href, a plan whose parts are numbered 1..N with N == ceil(size/chunk_size) <=
 * 10,000) or download (oid, size, href and headers); with "action": null (standalone mode) there is no href
 * and no plan, and req->standalone is 1. Otherwise a negative hf_error_code with the message for the error reply, and *req holds what
 * could be read. Always call agent_request_free. Pure and thread-safe. */
int agent_request_parse(agent_request *req, const char *line, size_t len);
/* The same without copying the line: line is a malloc'd block of at least len + 2 bytes, taken over (and
 * freed) by the call, so a 10 MB line is not held twice while it is parsed. */
int agent_request_parse_owned(agent_request *req, char *line, size_t len);
void agent_request_free(agent_request *req);
/* For a line that will not be parsed (too long): *req becomes empty but for the oid found in the line (the
 * "oid":"<64 hex>" member), so the error reply names the object git-lfs waits for. */
void agent_request_parse_oid(agent_request *req, const char *line, size_t len);

/* Pure formatting of the agent's lines (JSON, no newline), for the emitters and the tests. */
int agent_format_progress(hf_buf *out, const char *oid, uint64_t bytes_so_far, uint64_t bytes_since_last);
int agent_format_complete(hf_buf *out, const char *oid, int code, const char *message);
int agent_format_init_reply(hf_buf *out, int code, const char *message);
/* A successful download's complete line: {"event":"complete","oid":…,"path":…}. */
int agent_format_complete_path(hf_buf *out, const char *oid, const char *path);

/* Takes stdout as the protocol descriptor and points descriptor 1 at stderr. Call once, before threads. */
int agent_output_init(void);
/* Writes one JSON value as a line. Thread-safe. -1 when git-lfs has closed the pipe. */
int agent_emit(const hf_buf *json);
int agent_emit_progress(const char *oid, uint64_t bytes_so_far, uint64_t bytes_since_last);
/* message NULL: success. */
int agent_emit_complete(const char *oid, int code, const char *message);
int agent_emit_init_reply(int code, const char *message);
int agent_emit_complete_path(const char *oid, const char *path);
/* 1 once a write to stdout failed. */
int agent_stdout_gone(void);

/* The longest request line served (HFGIT_AGENT_MAX_LINE overrides it). 10,000 part URLs of 1 KB, S3's
 * maximum part count, take about 10 MiB; a longer line is answered with an error naming this limit. */
#define AGENT_MAX_LINE ((size_t)64 * 1024 * 1024)

/* Reads one line (with its newline, if any) into line, keeping at most max bytes: the rest of a longer line
 * is read and dropped, and *dropped says how many bytes were. 1: a line; 0: EOF; -1: read error or out of
 * memory. */
int agent_line_read(FILE *in, hf_buf *line, uint64_t max, uint64_t *dropped);

/* One upload's refreshes: the request, and the last fresh batch answer with an upload action (its verify
 * action names the upload it goes with: on S3 storage the hub publishes that upload's object at its verify,
 * while the first answer's verify, which git-lfs calls, names an upload that never happened). */
typedef struct agent_refresh_ctx {
    const agent_request *req;
    hf_batch_response *fresh;
    const hf_batch_object *fresh_obj;
} agent_refresh_ctx;

/* hf_multipart_refresh_cb for an upload request: a batch request for that one object to the LFS endpoint
 * of the remote named in init (git_lookup.h: as git-lfs finds it, credentials from `git credential fill`).
 * ud is an agent_refresh_ctx. agent_refresh_set_remote records init's remote ("origin" when none). */
int agent_refresh_upload(void *ud, hf_multipart_fresh *out);
void agent_refresh_set_remote(const char *remote);
/* After an upload that got fresh URLs: POSTs the fresh answer's verify action, with the credentials the
 * refresh used (unless "authenticated"), so the object is there when git-lfs verifies with its own action.
 * 0 when there was no fresh answer or it has no verify action. Frees the fresh answer. */
int agent_refresh_finish(agent_refresh_ctx *c, int rc);

/* Serves one valid upload request: progress lines, then exactly one complete line. */
void agent_upload(const agent_config *cfg, const agent_request *req);
/* Serves one valid download request the same way: ranged parallel GET into .git/lfs/incomplete (common/
 * download.h), `complete` with the file's path for git-lfs to check and move into its store (download.c). */
void agent_download(const agent_config *cfg, const agent_request *req);

/* Progress lines for one object, shared by uploads and downloads (upload.c says how they are paced). */
typedef struct agent_progress {
    const char *oid;
    uint64_t size;
    uint64_t pending; /* bytes moved but not yet reported */
    uint64_t last_ns;
} agent_progress;
void agent_progress_init(agent_progress *p, const char *oid, uint64_t size);
int agent_progress_cb(void *ud, uint64_t new_bytes, uint64_t total); /* an hf_transfer_progress_cb */
/* Reports an error for oid as its complete line (and on stderr). rc is the hf_error_code. */
void agent_complete_error(const char *oid, int rc);

/* ---- standalone mode (standalone.c): the batch API run by the agent ----
 * The endpoint as git-lfs finds it (lfs.pushurl for uploads, lfs.url, remote.<r>.lfspushurl / lfsurl, else
 * the remote's URL + .git/info/lfs); credentials from `git credential fill` after a 401, as git-lfs does
 * (approve on success, reject on a refusal; never printed). The remote comes from init. */
void agent_standalone_set_remote(const char *remote);
/* One batch request for one object: fills *out (free with hf_batch_response_free) and *obj (inside it), or
 * returns a negative hf_error_code with a message naming the endpoint and the server's answer. An object
 * error from the server is returned as an error too, and so is a download answer without a download
 * action. */
int agent_standalone_batch(hf_lfs_operation op, const char *oid, int64_t size, hf_batch_response **out,
                           const hf_batch_object **obj);
/* "Authorization: Basic ..." once credentials were filled, else NULL (for the verify action). */
const char *agent_standalone_authorization(void);
/* The absolute path of <git common dir>/lfs/incomplete for the current directory's repository. */
int agent_incomplete_dir(hf_buf *out);

#endif
