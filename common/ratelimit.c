/*
 * ratelimit.c: the process-wide bandwidth limit (see ratelimit.h).
 *
 * Invariant: next_ns is the earliest time the next reserved byte may move. A reservation of n bytes takes
 * the slot [max(next_ns, now - burst), +n/rate) and returns its start. Idle time earns at most BURST_MS of
 * credit, so a transfer that was waiting for a server cannot then flood the link.
 */
#include "ratelimit.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BURST_MS 50
#define PIECE_MAX ((uint64_t)64 * 1024)
#define PIECE_MIN ((uint64_t)1024)

struct hf_rate_limiter {
    pthread_mutex_t lock;
    uint64_t rate; /* bytes per second; 0 = unlimited */
    uint64_t next_ns;
};

int hf_size_parse(const char *text, uint64_t *out)
{
    const char *s = text;
    if (!s || !isdigit((unsigned char)*s))
        return hf_error_set(HF_EINVAL, "\"%.40s\" is not a byte count (digits, optionally k, M or G)",
                            s ? s : "");
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        break;
    }
    if (errno || *end || v > (UINT64_MAX >> shift))
        return hf_error_set(HF_EINVAL, "\"%.40s\" is not a byte count (digits, optionally k, M or G)", s);
    *out = (uint64_t)v << shift;
    return 0;
}

static hf_rate_limiter process_limiter = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void process_init(void)
{
    const char *v = getenv("HFGIT_MAX_RATE");
    uint64_t rate;
    if (v && *v && hf_size_parse(v, &rate) == 0) process_limiter.rate = rate;
    /* a bad value is reported by the programs that read it for their options (agent, cli); the library
     * ignores it rather than fail every transfer */
}

hf_rate_limiter *hf_rate_process(void)
{
    pthread_once(&process_once, process_init);
    return &process_limiter;
}

int hf_rate_limiter_new(hf_rate_limiter **out, uint64_t bytes_per_sec)
{
    hf_rate_limiter *l = calloc(1, sizeof(*l));
    *out = NULL;
    if (!l) return hf_error_set(HF_ENOMEM, "out of memory creating a rate limiter");
    pthread_mutex_init(&l->lock, NULL);
    l->rate = bytes_per_sec;
    *out = l;
    return 0;
}

void hf_rate_limiter_free(hf_rate_limiter *l)
{
    if (!l || l == &process_limiter) return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void hf_rate_set(hf_rate_limiter *l, uint64_t bytes_per_sec)
{
    pthread_mutex_lock(&l->lock);
    l->rate = bytes_per_sec;
    l->next_ns = 0;
    pthread_mutex_unlock(&l->lock);
}

uint64_t hf_rate_get(hf_rate_limiter *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t r = l->rate;
    pthread_mutex_unlock(&l->lock);
    return r;
}

uint64_t hf_rate_reserve(hf_rate_limiter *l, uint64_t n, uint64_t now_ns)
{
    if (!l) return 0;
    pthread_mutex_lock(&l->lock);
    uint64_t start = 0;
    if (l->rate) {
        uint64_t burst = (uint64_t)BURST_MS * 1000000u;
        uint64_t earliest = now_ns > burst ? now_ns - burst : 0;
        if (l->next_ns < earliest) l->next_ns = earliest;
        start = l->next_ns;
        /* n / rate seconds in ns, without overflow for n up to 2^64 / 1e9 (pieces are far smaller) */
        l->next_ns += (uint64_t)((double)n * 1e9 / (double)l->rate);
    }
    pthread_mutex_unlock(&l->lock);
    return start > now_ns ? start : 0;
}

uint64_t hf_rate_piece(hf_rate_limiter *l)
{
    uint64_t r = l ? hf_rate_get(l) : 0;
    if (!r) return 0;
    uint64_t p = r / 20; /* 50 ms worth */
    return p > PIECE_MAX ? PIECE_MAX : p < PIECE_MIN ? PIECE_MIN : p;
}
