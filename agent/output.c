/*
 * output.c: protocol lines (see agent.h).
 *
 * git-lfs reads each line with ReadString('\n') and parses it alone, so a line must never be split by
 * another thread's line: every message is built in memory and written with write(2) under one mutex.
 * stdio is not used for the protocol at all, and descriptor 1 itself points at stderr once
 * agent_output_init has run, so nothing (a library banner, a stray printf) can reach git-lfs.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = STDOUT_FILENO; /* set once by agent_output_init, before any thread starts */
static atomic_int out_gone;

int agent_output_init(void)
{
    int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return -1;
    if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        close(fd);
        return -1;
    }
    out_fd = fd;
    return 0;
}

int agent_stdout_gone(void)
{
    return atomic_load(&out_gone);
}

int agent_emit(const hf_buf *json)
{
    int rc = 0;
    hf_buf line = HF_BUF_INIT;
    /* The newline goes in the same buffer so the line leaves in one write. */
    if (hf_buf_put(&line, json->ptr ? json->ptr : "", json->len) != 0 || hf_buf_putc(&line, '\n') != 0) {
        hf_buf_free(&line);
        return -1;
    }
    pthread_mutex_lock(&out_lock);
    size_t off = 0;
    while (!atomic_load(&out_gone) && off < line.len) {
        ssize_t n = write(out_fd, line.ptr + off, line.len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            atomic_store(&out_gone, 1);
        else
            off += (size_t)n;
    }
    rc = off == line.len ? 0 : -1;
    pthread_mutex_unlock(&out_lock);
    hf_buf_free(&line);
    return rc;
}

int agent_format_progress(hf_buf *out, const char *oid, uint64_t bytes_so_far, uint64_t bytes_since_last)
{
    hf_jw w;
    hf_jw_init(&w, out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "event", "progress");
    hf_jw_kstr(&w, "oid", oid);
    hf_jw_key(&w, "bytesSoFar");
    hf_jw_uint(&w, bytes_so_far);
    hf_jw_key(&w, "bytesSinceLast");
    hf_jw_uint(&w, bytes_since_last);
    hf_jw_obj_end(&w);
    return w.error ? -1 : 0;
}

static void write_error(hf_jw *w, int code, const char *message)
{
    hf_jw_key(w, "error");
    hf_jw_obj_begin(w);
    hf_jw_kint(w, "code", code);
    hf_jw_kstr(w, "message", message);
    hf_jw_obj_end(w);
}

int agent_format_complete(hf_buf *out, const char *oid, int code, const char *message)
{
    hf_jw w;
    hf_jw_init(&w, out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "event", "complete");
    hf_jw_kstr(&w, "oid", oid ? oid : "");
    if (message) write_error(&w, code, message);
    hf_jw_obj_end(&w);
    return w.error ? -1 : 0;
}

int agent_format_complete_path(hf_buf *out, const char *oid, const char *path)
{
    hf_jw w;
    hf_jw_init(&w, out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "event", "complete");
    hf_jw_kstr(&w, "oid", oid);
    hf_jw_kstr(&w, "path", path);
    hf_jw_obj_end(&w);
    return w.error ? -1 : 0;
}

int agent_format_init_reply(hf_buf *out, int code, const char *message)
{
    hf_jw w;
    hf_jw_init(&w, out);
    hf_jw_obj_begin(&w);
    if (message) write_error(&w, code, message);
    hf_jw_obj_end(&w);
    return w.error ? -1 : 0;
}

int agent_emit_progress(const char *oid, uint64_t bytes_so_far, uint64_t bytes_since_last)
{
    hf_buf b = HF_BUF_INIT;
    int rc = agent_format_progress(&b, oid, bytes_so_far, bytes_since_last) ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}

int agent_emit_complete(const char *oid, int code, const char *message)
{
    hf_buf b = HF_BUF_INIT;
    int rc = agent_format_complete(&b, oid, code, message) ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}

int agent_emit_complete_path(const char *oid, const char *path)
{
    hf_buf b = HF_BUF_INIT;
    int rc = agent_format_complete_path(&b, oid, path) ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}

int agent_emit_init_reply(int code, const char *message)
{
    hf_buf b = HF_BUF_INIT;
    int rc = agent_format_init_reply(&b, code, message) ? -1 : agent_emit(&b);
    hf_buf_free(&b);
    return rc;
}
