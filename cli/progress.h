/*
 * progress.h: one-line progress on a terminal: "Uploading LFS objects  42% 1.2 GiB / 2.9 GiB  310 MiB/s  ETA
 * 0:06".
 *
 * Drawn on stderr only when stderr is a TTY and the CLI is not --quiet; otherwise every call is a no-op, so
 * piped output and logs stay clean. Redrawn at most 10 times a second; the rate is the average since the
 * first report. hf_cli_progress_cb has the hf_progress_cb signature, so it plugs into the library directly.
 *
 * Thread-safety: one hf_cli_progress may be fed from any thread, but not from two at once (the library never
 * runs two progress callbacks at once).
 */
#ifndef HF_CLI_PROGRESS_H
#define HF_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hf_cli_progress {
    const char *label;
    int enabled;
    int drawn;          /* a line is on the screen (needs a final newline) */
    double start, last; /* seconds, monotonic */
    uint64_t done, total;
    uint64_t shown; /* done as last drawn */
} hf_cli_progress;

/* enabled: 1 when stderr is a terminal and the CLI is not quiet. */
void hf_cli_progress_init(hf_cli_progress *p, const char *label);
/* payload is the hf_cli_progress. Always returns 0 (never cancels). */
int hf_cli_progress_cb(uint64_t done, uint64_t total, void *payload);
/* Draws the final state and ends the line (when anything was drawn). */
void hf_cli_progress_end(hf_cli_progress *p);

/* "1.5 GiB", "812 KiB", "17 B" into out. */
void hf_cli_format_bytes(char *out, size_t n, double bytes);

#endif
