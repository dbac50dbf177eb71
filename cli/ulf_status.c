/*
 * ulf_status.c: the status block of upload-large-folder (ulf.h), as huggingface_hub prints it:
 *
 *   ---------- 2026-12-06 19:51:02 (0:01:00) ----------
 *   Files:   hashed 2006/2006 (240.3 MiB/240.3 MiB) | pre-uploaded: 5/6 (212.0 MiB/240.0 MiB) | ...
 *   Workers: hashing: 0 | pre-uploading: 1 (sending 12.0 MiB) | committing: 0 | waiting: 1
 *
 * on stderr every 60 seconds (HFGIT_ULF_STATUS_SECS) from its own thread, since a push can hold the main
 * thread for longer, and once more at the end with the final counts.
 */
#include "ulf.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct ulf_status {
    ulf_run *r;
    int off, ended;
    long interval;
    struct timespec start;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static void print_block(ulf_status *s)
{
    ulf_run *r = s->r;
    ulf_stats *st = &r->stats;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long el = (long)(now.tv_sec - s->start.tv_sec);
    time_t wall = time(NULL);
    struct tm tm;
    char when[32], a[32], b[32], c[32], d[32], e[32];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&wall, &tm));
    hf_cli_format_bytes(a, sizeof(a), (double)atomic_load(&st->hashed_bytes));
    hf_cli_format_bytes(b, sizeof(b), (double)r->total_bytes);
    uint64_t sending = atomic_load(&st->sending_bytes);
    char f[32];
    hf_cli_format_bytes(f, sizeof(f), (double)sending);
    uint64_t up = atomic_load(&st->uploaded_bytes) + sending;
    hf_cli_format_bytes(c, sizeof(c), (double)up);
    hf_cli_format_bytes(d, sizeof(d), (double)atomic_load(&st->lfs_bytes));
    hf_cli_format_bytes(e, sizeof(e), (double)atomic_load(&st->committed_bytes));
    int hashing = atomic_load(&st->hashing), uploading = atomic_load(&st->uploading);
    int committing = atomic_load(&st->committing);
    int waiting = r->workers - hashing - uploading; /* the workers with nothing left to take */
    (void)fprintf(stderr,
                  "---------- %s (%ld:%02ld:%02ld) ----------\n"
                  "Files:   hashed %llu/%zu (%s/%s) | pre-uploaded: %llu/%llu (%s/%s) | committed: %llu/%zu "
                  "(%s/%s) | ignored: %zu\n"
                  "Workers: hashing: %d | pre-uploading: %d (sending %s) | committing: %d | waiting: %d\n"
                  "---------------------------------------------------\n",
                  when, el / 3600, el / 60 % 60, el % 60, (unsigned long long)atomic_load(&st->hashed),
                  r->count, a, b, (unsigned long long)atomic_load(&st->uploaded),
                  (unsigned long long)atomic_load(&st->lfs), c, d,
                  (unsigned long long)atomic_load(&st->committed), r->count, e, b, r->ignored, hashing,
                  uploading, f, committing, waiting < 0 ? 0 : waiting);
}

static void *loop(void *arg)
{
    ulf_status *s = arg;
    pthread_mutex_lock(&s->lock);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!s->ended) {
        next.tv_sec += s->interval;
        while (!s->ended && pthread_cond_timedwait(&s->cond, &s->lock, &next) == 0) {
        }
        if (!s->ended) print_block(s);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int ulf_status_start(ulf_status **out, ulf_run *r, int off)
{
    ulf_status *s = calloc(1, sizeof(*s));
    if (!s) return hf_error_set(HF_ENOMEM, "out of memory");
    s->r = r;
    s->off = off;
    s->interval = 60;
    const char *env = getenv("HFGIT_ULF_STATUS_SECS");
    if (env && atol(env) > 0) s->interval = atol(env);
    clock_gettime(CLOCK_MONOTONIC, &s->start);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (!off && pthread_create(&s->thread, NULL, loop, s) != 0) s->off = 1;
    *out = s;
    return 0;
}

void ulf_status_stop(ulf_status *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->ended = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (!s->off) {
        pthread_join(s->thread, NULL);
        print_block(s);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
