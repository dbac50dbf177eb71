/* progress.c: the one-line terminal progress display (progress.h). */
#include "progress.h"

#include "cli.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_INTERVAL 0.1 /* seconds */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void hf_cli_format_bytes(char *out, size_t n, double bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    (void)snprintf(out, n, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

void hf_cli_progress_init(hf_cli_progress *p, const char *label)
{
    p->label = label;
    p->enabled = hf_cli_verbosity() >= 0 && isatty(STDERR_FILENO);
    p->drawn = 0;
    p->start = p->last = 0;
    p->done = p->total = p->shown = 0;
}

static void draw(hf_cli_progress *p, double t)
{
    char done[32], total[32], rate[32], eta[32] = "";
    double elapsed = t - p->start;
    double bps = elapsed > 0.05 ? (double)p->done / elapsed : 0;
    hf_cli_format_bytes(done, sizeof(done), (double)p->done);
    hf_cli_format_bytes(total, sizeof(total), (double)p->total);
    hf_cli_format_bytes(rate, sizeof(rate), bps);
    if (bps > 0 && p->total > p->done) {
        unsigned long s = (unsigned long)((double)(p->total - p->done) / bps);
        (void)snprintf(eta, sizeof(eta), "  ETA %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    }
    int pct = p->total ? (int)(100.0 * (double)p->done / (double)p->total) : 100;
    /* \r and clear-to-end-of-line redraw in place; the whole line is one fprintf */
    (void)fprintf(stderr, "\r%s %3d%% %s / %s  %s/s%s\033[K", p->label, pct, done, total, rate, eta);
    (void)fflush(stderr);
    p->drawn = 1;
    p->shown = p->done;
}

int hf_cli_progress_cb(uint64_t done, uint64_t total, void *payload)
{
    hf_cli_progress *p = payload;
    if (!p || !p->enabled) return 0;
    double t = now_seconds();
    if (p->start == 0) p->start = t;
    p->done = done;
    p->total = total;
    if (t - p->last >= REDRAW_INTERVAL || done == total) {
        p->last = t;
        draw(p, t);
    }
    return 0;
}

void hf_cli_progress_end(hf_cli_progress *p)
{
    if (!p->enabled || !p->drawn) return;
    if (p->shown != p->done) /* otherwise the last line stands, with the rate of the transfer itself */
        draw(p, now_seconds());
    (void)fputc('\n', stderr);
    p->drawn = 0;
}
