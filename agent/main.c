/*
 * main.c: git-lfs-hfmultipart, a git-lfs custom transfer agent for Hugging Face-style multipart uploads.
 *
 * git-lfs starts it (sh -c "<path> <args>"), writes one JSON request per line on stdin and reads the replies
 * on stdout (reference/git-lfs-3.3.0.md §4). Requests come strictly one at a time: init, then uploads, then
 * terminate (or just EOF). A bad request gets an error reply and the process keeps serving: git-lfs never
 * retries what an agent reports, and a dead agent only shows the user a bare "EOF".
 */
#include "agent.h"

#include "../common/error.h"
#include "../common/pointer.h"
#include "../common/ratelimit.h"
#include "../common/trace.h"

#include <ctype.h>
#include <malloc.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define AGENT_NAME "git-lfs-hfmultipart"
#define LINE_BUFFER_KEEP ((size_t)64 * 1024) /* a line buffer up to this size is reused for the next line */

static const char usage_text[] =
    "usage: " AGENT_NAME " [--parallel N] [--download-parallel N] [--max-rate RATE]\n"
    "\n"
    "A git-lfs custom transfer agent for Hugging Face-style Hubs. Uploads go up in parts (the Hub's\n"
    "\"multipart\" transfer), downloads come down as byte ranges, both in parallel, each piece retried on\n"
    "network errors and 5xx, with exact progress; a killed download resumes from .git/lfs/incomplete.\n"
    "git-lfs starts it during `git push`, `git lfs fetch/pull`, `git checkout` and `git clone`; you do not\n"
    "run it yourself. Enable it in a repository (or with --global, for every repository and clone) with\n"
    "\n"
    "    hfgit lfs-enable-largefiles PATH\n"
    "\n"
    "`hfgit lfs-enable-largefiles --help` lists the git config keys it sets and how to undo them.\n"
    "When git-lfs sends no action (lfs.standalonetransferagent), the agent runs the LFS batch API itself:\n"
    "endpoint from lfs.url / remote.<name>.lfsurl / the remote URL, credentials from `git credential fill`.\n"
    "\n"
    "options:\n"
    "  --parallel N            parts uploaded at once per file (default 8; env HFGIT_MULTIPART_PARALLEL)\n"
    "  --download-parallel N   ranges downloaded at once per file (default 16; env HFGIT_DOWNLOAD_PARALLEL;\n"
    "                          range size: HFGIT_DOWNLOAD_RANGE_SIZE, default 16 MiB)\n"
    "  --max-rate RATE         bandwidth for all transfers of this process, bytes per second with k/M/G\n"
    "                          (powers of 1024, as curl --limit-rate; env HFGIT_MAX_RATE). git-lfs may start\n"
    "                          several agent processes (lfs.concurrenttransfers): each has its own limit\n"
    "  --help                  this text\n"
    "  --version               print the version\n"
    "\n"
    "environment: HFGIT_MULTIPART_PARALLEL, HFGIT_DOWNLOAD_PARALLEL, HFGIT_DOWNLOAD_RANGE_SIZE,\n"
    "HFGIT_MAX_RATE, HFGIT_AGENT_MAX_LINE, HFGIT_RETRY_MAX_ATTEMPTS, HFGIT_RETRY_BASE_MS,\n"
    "HFGIT_RETRY_MAX_DELAY_MS, HFGIT_RETRY_MAX_TOTAL_MS, HFGIT_TRACE=1 (diagnostics on stderr,\n"
    "shown by git-lfs under GIT_TRACE=1)\n";

static int parse_parallel(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > HF_MULTIPART_MAX_PARALLEL) return -1;
    *out = (int)v;
    return 0;
}

static void handle_init(const agent_request *req)
{
    agent_refresh_set_remote(req->remote);
    if (req->operation == AGENT_OP_UPLOAD || req->operation == AGENT_OP_DOWNLOAD) {
        agent_standalone_set_remote(req->remote); /* for requests that come without an action */
        agent_emit_init_reply(0, NULL);
    } else {
        agent_emit_init_reply(AGENT_ECODE_INIT,
                              AGENT_NAME ": init has no operation \"upload\" or \"download\"");
    }
}

/* Answers one parsed request; returns 1 when the agent should exit (terminate). Every request but terminate
 * gets exactly one reply: init its init reply, anything else exactly one complete line (after progress, for
 * uploads). rc is the parse result. */
static int handle_request(const agent_config *cfg, const agent_request *req, int rc)
{
    /* Release git-lfs's worker gate before anything slow happens (upload.c says why). Sent for a request
     * that names a valid object even when the rest of it is bad: it is the object git-lfs waits for. */
    if ((req->event == AGENT_EV_UPLOAD || req->event == AGENT_EV_DOWNLOAD) && req->size > 0 &&
        hf_oid_valid(req->oid))
        agent_emit_progress(req->oid, 1, 0);
    if (rc != 0) {
        fprintf(stderr, AGENT_NAME ": %s\n", hf_error_last_message());
        agent_emit_complete(req->oid ? req->oid : "", AGENT_ECODE_REQUEST, hf_error_last_message());
    } else if (req->event == AGENT_EV_TERMINATE) {
        return 1;
    } else if (req->event == AGENT_EV_INIT) {
        handle_init(req);
    } else if (req->event == AGENT_EV_DOWNLOAD) {
        agent_download(cfg, req);
    } else {
        agent_upload(cfg, req);
    }
    return 0;
}

/* A line longer than the limit: not parsed (that is what the limit protects), but the object git-lfs waits
 * for, found near the start of the line, gets an error saying what happened and what to do. */
static int refuse_long_line(agent_request *req, const hf_buf *line, uint64_t dropped, uint64_t max)
{
    agent_request_parse_oid(req, line->ptr, line->len);
    return hf_error_set(HF_EINVAL,
                        "the request line is %llu bytes, over this agent's limit of %llu bytes (about 10 MiB "
                        "are needed for 10,000 part URLs); raise HFGIT_AGENT_MAX_LINE, or push with larger "
                        "parts (fewer part URLs)",
                        (unsigned long long)(line->len + dropped), (unsigned long long)max);
}

/* For HFGIT_TRACE=1 and the benchmark: CPU time and peak memory of this process. VmHWM is per address space
 * (ru_maxrss would include whatever the process was before exec). */
static void trace_usage(void)
{
    struct rusage ru;
    char line[256];
    long hwm_kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &hwm_kib) == 1) break;
    if (f) fclose(f);
    getrusage(RUSAGE_SELF, &ru);
    hf_trace("agent: exiting; cpu %ld.%03ld s user %ld.%03ld s sys; peak RSS (VmHWM) %ld KiB",
             (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec / 1000, (long)ru.ru_stime.tv_sec,
             (long)ru.ru_stime.tv_usec / 1000, hwm_kib);
}

/* The protocol loop: one line at a time (at most max_line bytes kept), until terminate, EOF, or git-lfs
 * closing our stdout. The line buffer is this loop's: it is released here after a huge request was parsed
 * (the request holds its own copies), so it does not sit beside the upload. */
static int serve(const agent_config *cfg)
{
    hf_buf line = HF_BUF_INIT;
    uint64_t dropped;
    int n, quit = 0;

    while (!quit && (n = agent_line_read(stdin, &line, cfg->max_line, &dropped)) > 0) {
        size_t len = line.len;
        while (len && isspace((unsigned char)line.ptr[len - 1]))
            line.ptr[--len] = '\0';
        line.len = len;
        if (len == 0 && !dropped) continue; /* blank lines carry no request: nothing to answer */
        agent_request req = AGENT_REQUEST_INIT;
        int rc;
        if (dropped) {
            rc = refuse_long_line(&req, &line, dropped, cfg->max_line);
        } else if (line.cap > LINE_BUFFER_KEEP) {
            /* a big line (thousands of part URLs) goes to the parser without a copy; the request keeps
             * what it needs and the text is freed before the upload starts */
            rc = hf_buf_grow(&line, 1); /* the parser needs len + 2 bytes */
            rc = rc ? rc : agent_request_parse_owned(&req, hf_buf_detach(&line), len);
        } else {
            rc = agent_request_parse(&req, line.ptr, len);
        }
        quit = handle_request(cfg, &req, rc) || agent_stdout_gone();
        agent_request_free(&req);
    }
    if (n < 0 && !quit) fprintf(stderr, AGENT_NAME ": reading a request failed: %s\n", strerror(errno));
    hf_buf_free(&line);
    if (hf_trace_enabled()) trace_usage();
    return 0;
}

int main(int argc, char **argv)
{
    agent_config cfg = {HF_MULTIPART_DEFAULT_PARALLEL, 0, HF_RETRY_POLICY_INIT, AGENT_MAX_LINE};
    const char *env = getenv("HFGIT_MULTIPART_PARALLEL");

    const char *max_line = getenv("HFGIT_AGENT_MAX_LINE");
    if (max_line && *max_line && hf_size_parse(max_line, &cfg.max_line) != 0)
        fprintf(stderr, AGENT_NAME ": ignoring HFGIT_AGENT_MAX_LINE=%.20s (want bytes, k/M/G suffixes)\n",
                max_line);
    const char *rate_env = getenv("HFGIT_MAX_RATE");
    uint64_t rate_unused;
    if (rate_env && *rate_env && hf_size_parse(rate_env, &rate_unused) != 0)
        fprintf(stderr, AGENT_NAME ": ignoring HFGIT_MAX_RATE: %s\n", hf_error_last_message());
    if (env && *env && parse_parallel(env, &cfg.parallel) != 0)
        fprintf(stderr, AGENT_NAME ": ignoring HFGIT_MULTIPART_PARALLEL=%.20s (want 1..%d)\n", env,
                HF_MULTIPART_MAX_PARALLEL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf(AGENT_NAME " %s\n", HFGIT_VERSION);
            return 0;
        } else if (strcmp(a, "--parallel") == 0 || strncmp(a, "--parallel=", 11) == 0) {
            const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : "");
            if (parse_parallel(v, &cfg.parallel) != 0) {
                fprintf(stderr, AGENT_NAME ": --parallel wants a number from 1 to %d\n",
                        HF_MULTIPART_MAX_PARALLEL);
                return 2;
            }
        } else if (strcmp(a, "--download-parallel") == 0 || strncmp(a, "--download-parallel=", 20) == 0) {
            const char *v = a[19] == '=' ? a + 20 : (i + 1 < argc ? argv[++i] : "");
            if (parse_parallel(v, &cfg.download_parallel) != 0) {
                fprintf(stderr, AGENT_NAME ": --download-parallel wants a number from 1 to %d\n",
                        HF_MULTIPART_MAX_PARALLEL);
                return 2;
            }
        } else if (strcmp(a, "--max-rate") == 0 || strncmp(a, "--max-rate=", 11) == 0) {
            const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : "");
            uint64_t rate;
            if (hf_size_parse(v, &rate) != 0) {
                fprintf(stderr, AGENT_NAME ": --max-rate: %s\n", hf_error_last_message());
                return 2;
            }
            hf_rate_set(hf_rate_process(), rate);
        } else if (strcmp(a, "lfs-multipart-upload") == 0) {
            /* huggingface_hub's args value: accepted so a config written by `hf lfs-enable-largefiles`
             * with only the path changed still works. */
        } else {
            fprintf(stderr, AGENT_NAME ": unknown argument \"%s\"\n%s", a, usage_text);
            return 2;
        }
    }
    hf_retry_policy_from_env(&cfg.retry);

    if (isatty(STDIN_FILENO)) {
        fprintf(stderr,
                AGENT_NAME ": this program speaks the git-lfs custom transfer protocol on stdin/stdout;\n"
                           "git-lfs starts it during `git push`. To use it, run\n"
                           "    hfgit lfs-enable-largefiles /path/to/your/repo\n"
                           "then push as usual. `" AGENT_NAME " --help` says more.\n");
        return 2;
    }
    /* One malloc arena per transfer thread (glibc's default) costs RSS for nothing: the threads allocate
     * little. Two keep a 32-range download within the 16 MiB bar. */
    mallopt(M_ARENA_MAX, 2);
    /* git-lfs may go away mid-upload: a write to the closed pipe must fail (and stop us), not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (agent_output_init() != 0)
        fprintf(stderr, AGENT_NAME ": cannot move stdout aside (%s); continuing on it\n", strerror(errno));
    if (hf_http_global_init() != 0) {
        fprintf(stderr, AGENT_NAME ": %s\n", hf_error_last_message());
        return 1;
    }
    hf_trace("agent: started, %d parts at once, %d attempts per request, max rate %llu bytes/s (0: none)",
             cfg.parallel, cfg.retry.max_attempts, (unsigned long long)hf_rate_get(hf_rate_process()));
    return serve(&cfg);
}
