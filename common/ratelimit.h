/*
 * ratelimit.h: a bandwidth limit shared by every transfer of a process (HFGIT_MAX_RATE).
 *
 * The limit is on body bytes of file-slice transfers (part and object PUTs from a file, downloads into a
 * file): the HTTP client (http_io.c) reserves each piece before sending it, or after receiving it, and waits
 * until its slot comes. Small in-memory bodies (batch requests, completions) are not counted.
 *
 * One process-wide limiter (hf_rate_process) applies to every request; a request may name one more
 * (hf_http_request.rate_limit, e.g. a push's own limit), and then the stricter of the two rules. The clock is
 * a virtual one: each reservation of n bytes moves "next free time" forward by n / rate, so all threads
 * together stay at the rate however many transfers share it, and a transfer that waits does not bank
 * unused time beyond a short burst (BURST_MS in ratelimit.c).
 *
 * Thread-safety: every function may be called from any thread; limiters are internally locked. The process
 * limiter lives until exit.
 */
#ifndef HF_RATELIMIT_H
#define HF_RATELIMIT_H

#include <stdint.h>

typedef struct hf_rate_limiter hf_rate_limiter;

/* Parses a byte count or rate: digits, optionally one suffix k/K, m/M, g/G (powers of 1024, as curl's
 * --limit-rate). "0" is valid (for a rate: no limit).
 * Returns 0, or HF_EINVAL with a message naming the text. */
int hf_size_parse(const char *text, uint64_t *out);

/* The process limiter; its rate is HFGIT_MAX_RATE when the variable is set and valid (else unlimited)
 * until hf_rate_set changes it. Never NULL. */
hf_rate_limiter *hf_rate_process(void);

int hf_rate_limiter_new(hf_rate_limiter **out, uint64_t bytes_per_sec);
void hf_rate_limiter_free(hf_rate_limiter *l);

/* bytes_per_sec 0 = unlimited. */
void hf_rate_set(hf_rate_limiter *l, uint64_t bytes_per_sec);
uint64_t hf_rate_get(hf_rate_limiter *l);

/* Reserves n bytes at monotonic time now_ns; returns the monotonic time (ns) before which they must not
 * move, or 0 when they may move at once (also when l is NULL or unlimited). */
uint64_t hf_rate_reserve(hf_rate_limiter *l, uint64_t n, uint64_t now_ns);

/* How many bytes to move at most between two reservations at this rate (0 = no limit): small enough that
 * the limit holds over short windows, large enough to keep system calls few. */
uint64_t hf_rate_piece(hf_rate_limiter *l);

#endif
