/*
 * output.c: protocol lines on stdout (see agent.h).
 *
 * git-lfs reads each line with ReadString('\n') and parses it alone, so a line must never be split by
 * another thread's line: every message is built in memory and written with write(2) under one mutex.
 * stdio is not used for stdout at all, so nothing (a library banner, a stray printf) can sit in a buffer.
 */
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int out_gone;

int agent_stdout_gone(void)
{
    return atomic_load(&out_gone);
}

int agent_emit(const hf_buf *json)
{
    int rc = 0;
    pthread_mutex_lock(&out_lock);
    if (atomic_load(&out_gone)) {
        rc = -1;
    } else {
        /* The newline goes in the same buffer so the line leaves in one piece. */
        hf_buf line = HF_BUF_INIT;
        if (hf_buf_put(&line, json->ptr ? json->ptr : "", json->len) != 0 || hf_buf_putc(&line, '\n') != 0) {
            rc = -1;
        } else {
            size_t off = 0;
            while (off < line.len) {
                ssize_t n = write(STDOUT_FILENO, line.ptr + off, line.len - off);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    atomic_store(&out_gone, 1);
                    rc = -1;
                    break;
                }
                off += (size_t)n;
            }
        }
        hf_buf_free(&line);
    }
    pthread_mutex_unlock(&out_lock);
    return rc;
}

int agent_emit_progress(const char *oid, uint64_t bytes_so_far, uint64_t bytes_since_last)
{
    hf_buf b = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &b);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "event", "progress");
    hf_jw_kstr(&w, "oid", oid);
    hf_jw_key(&w, "bytesSoFar");
    hf_jw_uint(&w, bytes_so_far);
    hf_jw_key(&w, "bytesSinceLast");
    hf_jw_uint(&w, bytes_since_last);
    hf_jw_obj_end(&w);
    int rc = w.error ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}

static void write_error(hf_jw *w, int code, const char *message)
{
    hf_jw_key(w, "error");
    hf_jw_obj_begin(w);
    hf_jw_kint(w, "code", code);
    hf_jw_kstr(w, "message", message);
    hf_jw_obj_end(w);
}

int agent_emit_complete(const char *oid, int code, const char *message)
{
    hf_buf b = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &b);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "event", "complete");
    hf_jw_kstr(&w, "oid", oid ? oid : "");
    if (message) write_error(&w, code, message);
    hf_jw_obj_end(&w);
    int rc = w.error ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}

int agent_emit_init_reply(int code, const char *message)
{
    hf_buf b = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &b);
    hf_jw_obj_begin(&w);
    if (message) write_error(&w, code, message);
    hf_jw_obj_end(&w);
    int rc = w.error ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}
