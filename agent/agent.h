/*
 * agent.h: internals of git-lfs-hfmultipart, the git-lfs custom transfer agent (design.md §2).
 *
 * main.c    options, the stdin loop: init / upload / terminate (one request at a time, as git-lfs sends them)
 * upload.c  one upload request: parse it, run the transfer engine (common/transfer.h), report progress
 * output.c  protocol lines on stdout: one line per message, written whole and flushed, serialised between
 *           the engine's worker threads and the main thread
 *
 * Nothing but protocol lines ever goes to stdout; diagnostics go to stderr (git-lfs shows them under
 * GIT_TRACE=1).
 */
#ifndef HF_AGENT_H
#define HF_AGENT_H

#include "../common/http.h"
#include "../common/json.h"

#include <stdint.h>

typedef struct agent_config {
    int parallel;          /* part PUTs in flight per object */
    hf_retry_policy retry; /* for part PUTs, single PUTs and the completion POST */
} agent_config;

/* Error codes in complete/init errors. git-lfs never interprets them; an HTTP status is used when there was
 * one, so that "[403] ..." reads naturally in git's output. */
#define AGENT_ECODE_GENERIC 2
#define AGENT_ECODE_REQUEST 22 /* malformed request line */
#define AGENT_ECODE_INIT 32    /* the code the reference agent uses for a refused init */

/* Writes one JSON value as a line and flushes it. Thread-safe. -1 when stdout is gone (git-lfs died). */
int agent_emit(const hf_buf *json);
int agent_emit_progress(const char *oid, uint64_t bytes_so_far, uint64_t bytes_since_last);
/* message NULL: success. */
int agent_emit_complete(const char *oid, int code, const char *message);
int agent_emit_init_reply(int code, const char *message);
/* 1 once a write to stdout failed. */
int agent_stdout_gone(void);

/* Handles one {"event":"upload",...} request (token 0 of *doc): exactly one complete line, after progress.
 * Frees *doc (and sets it NULL) as soon as the request is read, so that a request with thousands of part URLs
 * is not held twice in memory during the upload. */
void agent_upload(const agent_config *cfg, hf_json **doc);

#endif
