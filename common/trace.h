/*
 * trace.h: opt-in diagnostic log on stderr (HFGIT_TRACE=1), in the spirit of GIT_TRACE.
 *
 * Each line reads "hfgit[<pid>:<tid>] <hh:mm:ss.uuuuuu>: <message>" and is written with one write(2), so
 * lines from parallel threads and from the several agent processes git-lfs starts never interleave mid-line.
 * HFGIT_TRACE is read once per process: "1", "true", "yes" or "on" enable it; unset, empty, "0" or anything
 * else leave it off. Callers never pass tokens or Authorization values to hf_trace (http.c traces redacted
 * URLs only).
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef HF_TRACE_H
#define HF_TRACE_H

/* 1 when HFGIT_TRACE enabled tracing; cheap after the first call (guard costly message building with it). */
int hf_trace_enabled(void);

/* Writes one trace line (a trailing newline is added; long lines are cut at 4 KiB). No-op when disabled. */
void hf_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
