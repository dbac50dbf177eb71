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
#include "../common/trace.h"
#include "../common/transfer.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define AGENT_NAME "git-lfs-hfmultipart"
#define LINE_BUFFER_KEEP (64 * 1024)

static const char usage_text[] =
    "usage: " AGENT_NAME " [--parallel N]\n"
    "\n"
    "A git-lfs custom transfer agent that uploads large files to a Hugging Face-style Hub in parts:\n"
    "parts go up in parallel, each retried on network errors and 5xx, with exact progress.\n"
    "git-lfs starts it during `git push`; you do not run it yourself. Enable it in a repository with\n"
    "\n"
    "    hfgit lfs-enable-largefiles PATH\n"
    "\n"
    "which sets lfs.customtransfer.multipart.path/.args/.direction=upload in PATH's .git/config.\n"
    "\n"
    "options:\n"
    "  --parallel N   parts uploaded at once per file (default 8; env HFGIT_MULTIPART_PARALLEL)\n"
    "  --help         this text\n"
    "  --version      print the version\n"
    "\n"
    "environment: HFGIT_MULTIPART_PARALLEL, HFGIT_RETRY_MAX_ATTEMPTS, HFGIT_RETRY_BASE_MS,\n"
    "HFGIT_RETRY_MAX_DELAY_MS, HFGIT_RETRY_MAX_TOTAL_MS, HFGIT_TRACE=1 (diagnostics on stderr,\n"
    "shown by git-lfs under GIT_TRACE=1)\n";

static const char download_refusal[] = AGENT_NAME
    " only uploads (Hugging Face multipart transfers are for uploads; downloads use the basic "
    "transfer). Set lfs.customtransfer.multipart.direction=upload, as `hfgit lfs-enable-largefiles` "
    "does, so that git-lfs does not offer this agent for downloads.";

static int parse_parallel(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > HF_MULTIPART_MAX_PARALLEL) return -1;
    *out = (int)v;
    return 0;
}

/* Best effort for a line that is not valid JSON: find "oid":"<64 hex>" so the error reply names the object
 * git-lfs is waiting for (it fails that object with our message). Otherwise the reply has an empty oid, which
 * git-lfs also fails cleanly ("unexpected OID"). */
static void scan_oid(const char *line, char out[65])
{
    const char *p = line;
    out[0] = '\0';
    while ((p = strstr(p, "\"oid\"")) != NULL) {
        p += 5;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != ':') continue;
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '"') continue;
        p++;
        size_t n = 0;
        while (n < 64 && isxdigit((unsigned char)p[n]))
            n++;
        if (n == 64 && p[64] == '"') {
            memcpy(out, p, 64);
            out[64] = '\0';
            return;
        }
    }
}

static void reply_bad_line(const char *line, const char *why)
{
    char oid[65];
    scan_oid(line, oid);
    fprintf(stderr, AGENT_NAME ": %s\n", why);
    agent_emit_complete(oid, AGENT_ECODE_REQUEST, why);
}

static void handle_init(const hf_json *doc)
{
    int op = hf_json_get(doc, 0, "operation");
    if (hf_json_str_eq(doc, op, "upload")) {
        agent_emit_init_reply(0, NULL);
    } else if (hf_json_str_eq(doc, op, "download")) {
        fprintf(stderr, AGENT_NAME ": %s\n", download_refusal);
        agent_emit_init_reply(AGENT_ECODE_INIT, download_refusal);
    } else {
        agent_emit_init_reply(AGENT_ECODE_INIT,
                              AGENT_NAME ": init has no operation \"upload\" or \"download\"");
    }
}

/* Handles one line; returns 1 when the agent should exit (terminate). The parser keeps its own copy of the
 * text, so a line buffer that grew past LINE_BUFFER_KEEP for a huge request is released before the upload. */
static int handle_line(const agent_config *cfg, char **linep, size_t *capp, size_t len)
{
    hf_json *doc = NULL;
    hf_buf why = HF_BUF_INIT;
    int quit = 0;

    if (hf_json_parse(&doc, *linep, len) != 0 || hf_json_type_of(doc, 0) != HF_JSON_OBJECT) {
        hf_buf_printf(&why, "unreadable request line (%s)",
                      doc ? "not a JSON object" : hf_error_last_message());
        reply_bad_line(*linep, hf_buf_cstr(&why));
        goto out;
    }
    if (*capp > LINE_BUFFER_KEEP) {
        free(*linep);
        *linep = NULL;
        *capp = 0;
    }
    int ev = hf_json_get(doc, 0, "event");
    if (ev < 0) ev = hf_json_get(doc, 0, "type"); /* git-lfs before 2017 sent "type":"terminate" */
    if (hf_json_str_eq(doc, ev, "terminate")) {
        quit = 1;
    } else if (hf_json_str_eq(doc, ev, "init")) {
        handle_init(doc);
    } else if (hf_json_str_eq(doc, ev, "upload")) {
        agent_upload(cfg, &doc);
    } else {
        char *oid = hf_json_get_strdup(doc, 0, "oid");
        char *name = hf_json_strdup(doc, ev);
        if (name && strcmp(name, "download") == 0)
            hf_buf_puts(&why, download_refusal);
        else
            hf_buf_printf(&why, "unknown request event \"%.40s\"", name ? name : "(none)");
        fprintf(stderr, AGENT_NAME ": %s\n", hf_buf_cstr(&why));
        agent_emit_complete(oid ? oid : "", AGENT_ECODE_REQUEST, hf_buf_cstr(&why));
        free(oid);
        free(name);
    }
out:
    hf_json_free(doc);
    hf_buf_free(&why);
    return quit;
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

/* The protocol loop: lines of any length (getline), until terminate, EOF, or git-lfs closing our stdout. */
static int serve(const agent_config *cfg)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)n;
        while (len && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        if (len == 0) continue; /* blank lines carry no request: nothing to answer */
        if (memchr(line, '\0', len)) {
            reply_bad_line(line, "unreadable request line (contains a NUL byte)");
            continue;
        }
        if (handle_line(cfg, &line, &cap, len) || agent_stdout_gone()) break;
    }
    free(line);
    if (hf_trace_enabled()) trace_usage();
    return 0;
}

int main(int argc, char **argv)
{
    agent_config cfg = {HF_MULTIPART_DEFAULT_PARALLEL, HF_RETRY_POLICY_INIT};
    const char *env = getenv("HFGIT_MULTIPART_PARALLEL");

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
    /* git-lfs may go away mid-upload: a write to the closed pipe must fail (and stop us), not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (hf_http_global_init() != 0) {
        fprintf(stderr, AGENT_NAME ": %s\n", hf_error_last_message());
        return 1;
    }
    hf_trace("agent: started, %d parts at once, %d attempts per request", cfg.parallel,
             cfg.retry.max_attempts);
    return serve(&cfg);
}
