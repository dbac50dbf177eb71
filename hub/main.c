/*
 * main.c: hfgit-hub command line: parse flags, prepare the root, listen, serve until SIGTERM/SIGINT.
 */
#include "hub.h"
#include "lfs.h"
#include "s3.h"

#include "../common/digest.h"
#include "../common/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_THRESHOLD (5ull * 1000 * 1000 * 1000) /* the Hub's: 5 GB */
#define DEFAULT_CHUNK (512ull << 20)

static void usage(FILE *f)
{
    fputs("usage: hfgit-hub --root DIR [--listen 127.0.0.1:PORT] [--token T] [options]\n"
          "\n"
          "A local Hugging Face Hub-compatible server: git smart HTTP, the LFS batch API with Hub-style\n"
          "multipart uploads, the Hub's push rules, and fault knobs for testing.\n"
          "\n"
          "  --root DIR                 where repositories, LFS objects and uploads live (created if missing)\n"
          "  --listen ADDR:PORT         default 127.0.0.1:8080; port 0 picks a free port\n"
          "  --token-file FILE          file whose first line is the token required for push, LFS\n"
          "                             upload and private repos (default: $HFGIT_HUB_TOKEN; without\n"
          "                             one, writes are open to anyone who can connect)\n"
          "  --token T                  the token itself (visible in `ps`: prefer --token-file)\n"
          "  --user NAME                the token's user (GET /api/whoami-v2; default \"user\")\n"
          "  --multipart-threshold N    objects of N bytes or more use multipart (default 5000000000)\n"
          "  --chunk-size N             multipart part size (default 536870912; on S3 storage at\n"
          "                             least 5242880, S3's minimum)\n"
          "  --hooks-dir DIR            hooks installed into created repos (default: git-hooks next to the binary)\n"
          "  --tls-cert FILE --tls-key FILE   serve HTTPS with this PEM certificate (chain) and key\n"
          "  --lfs-storage s3://BUCKET[/PREFIX]\n"
          "                             LFS objects in an S3-compatible store (credentials:\n"
          "                             AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); default: local disk\n"
          "  --s3-endpoint URL          the store's URL (path-style addressing), e.g. http://127.0.0.1:4568\n"
          "  --s3-region R              default us-east-1\n"
          "  --empty-repos              create repos empty (default: with the Hub's first commit, main\n"
          "                             holding a .gitattributes of its default LFS patterns)\n"
          "fault knobs (also settable at run time: POST /__knobs with the token):\n"
          "  --bandwidth-cap BYTES/S    cap each connection's body transfer rate\n"
          "  --fail-part N:K            answer 500 to part N, K times\n"
          "  --fail-complete K          answer 500 to the next K completions\n"
          "  --drop-part N:K            drop the connection halfway through part N, K times\n"
          "  --url-lifetime SECS        lifetime of signed object and part URLs (default 3600)\n"
          "  --upload-max-age SECS      open multipart uploads untouched this long are removed; completion\n"
          "                             URLs live as long (default 86400)\n"
          "  (run time only) git_push_stall_secs: git pushes get no answer for that long\n"
          "  (run time only) new_upload_per_batch=1: every batch opens a new multipart upload\n"
          "  (run time only) expire_object_times=K: the next K whole-object upload PUTs get 403\n"
          "                             \"Request has expired\", as for an expired presigned URL\n"
          "  --help, --version\n"
          "\n"
          "Prints \"hfgit-hub: listening on URL\" when ready; GET /__stats returns counters as JSON.\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_pair(const char *s, int *a, int *b)
{
    return sscanf(s, "%d:%d", a, b) == 2 && *a > 0 && *b >= 0 ? 0 : -1;
}

static int listen_on(const char *spec, int *out_fd, unsigned *out_port)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(host))
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128) ||
        getsockname(fd, (struct sockaddr *)&sa, &len)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *out_fd = fd;
    *out_port = ntohs(sa.sin_port);
    return 0;
}

static char *default_hooks_dir(void)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *dir = dirname(exe);
    static const char *const rel[] = {"/../git-hooks", "/../share/hfgit/git-hooks"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(cand, sizeof(cand), "%s%s/pre-receive", dir, rel[i]);
        if (access(cand, X_OK) == 0) {
            snprintf(cand, sizeof(cand), "%s%s", dir, rel[i]);
            return realpath(cand, NULL);
        }
    }
    return NULL;
}

static int mkdirs(const char *root)
{
    static const char *const sub[] = {"", "/repos", "/uploads", "/uploads/by-object", "/tmp"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", root, sub[i]);
        if (mkdir(p, 0777) && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* --token-file: the first line of FILE (a token on the command line would show in `ps`). */
static char *read_token_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    if (!f) {
        fprintf(stderr, "hfgit-hub: cannot read the token file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    int got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[got ? strcspn(line, "\r\n") : 0] = '\0';
    if (!line[0]) {
        fprintf(stderr, "hfgit-hub: the token file %s is empty (one line: the token)\n", path);
        return NULL;
    }
    return strdup(line);
}

/* --tls-cert / --tls-key: the whole PEM file, NUL-terminated, as libmicrohttpd takes it. */
static char *read_pem(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    hf_buf b = HF_BUF_INIT;
    char chunk[4096];
    size_t n;
    int bad = !f;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        bad |= hf_buf_put(&b, chunk, n) != 0 || b.len > (1u << 20);
    if (f && ferror(f)) bad = 1;
    if (f) fclose(f);
    if (bad || !strstr(hf_buf_cstr(&b), "-----BEGIN ")) {
        fprintf(stderr, "hfgit-hub: cannot use the TLS %s %s: %s\n", what, path,
                bad ? strerror(errno ? errno : EINVAL) : "not a PEM file");
        hf_buf_free(&b);
        return NULL;
    }
    return hf_buf_detach(&b);
}

/* Waits for SIGTERM/SIGINT, sweeping old uploads and temp files every `every` seconds meanwhile. */
static int serve_until_stopped(hub *h, const sigset_t *stop)
{
    long every = h->upload_max_age_secs / 2;
    if (every > 60) every = 60;
    if (every < 1) every = 1;
    for (;;) {
        struct timespec ts = {(time_t)every, 0};
        int sig = sigtimedwait(stop, NULL, &ts);
        if (sig > 0) return sig;
        if (errno == EAGAIN) lfs_uploads_sweep(h);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, 0, 'r'},          {"listen", required_argument, 0, 'l'},
        {"token", required_argument, 0, 't'},         {"multipart-threshold", required_argument, 0, 'm'},
        {"chunk-size", required_argument, 0, 'c'},    {"hooks-dir", required_argument, 0, 'k'},
        {"bandwidth-cap", required_argument, 0, 'b'}, {"fail-part", required_argument, 0, 'f'},
        {"fail-complete", required_argument, 0, 'F'}, {"drop-part", required_argument, 0, 'd'},
        {"url-lifetime", required_argument, 0, 'u'},  {"upload-max-age", required_argument, 0, 'A'},
        {"token-file", required_argument, 0, 'T'},    {"user", required_argument, 0, 'U'},
        {"empty-repos", no_argument, 0, 'E'},         {"tls-cert", required_argument, 0, 'C'},
        {"tls-key", required_argument, 0, 'K'},       {"lfs-storage", required_argument, 0, 'S'},
        {"s3-endpoint", required_argument, 0, 'P'},   {"s3-region", required_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},             {0, 0, 0, 0}};
    static hub h; /* lives for the whole process; static keeps it off the stack of the signal wait */
    const char *root = NULL, *listen_spec = "127.0.0.1:8080", *hooks = NULL, *token_file = NULL;
    const char *tls_cert = NULL, *tls_key = NULL, *storage = NULL, *s3_endpoint = NULL, *s3_region = NULL;
    static s3_config s3;
    const char *token = getenv("HFGIT_HUB_TOKEN");
    char *token_argv = NULL;
    h.user = "user";
    h.upload_max_age_secs = 86400;
    h.multipart_threshold = DEFAULT_THRESHOLD;
    h.chunk_size = DEFAULT_CHUNK;
    h.knobs.url_lifetime_secs = 3600;
    int c, opt = 0;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "", opts, &opt)) != -1) {
        int bad = 0;
        switch (c) {
        case 'r': root = optarg; break;
        case 'l': listen_spec = optarg; break;
        case 't': token = token_argv = optarg; break;
        case 'T': token_file = optarg; break;
        case 'E': h.empty_repos = 1; break;
        case 'C': tls_cert = optarg; break;
        case 'K': tls_key = optarg; break;
        case 'S': storage = optarg; break;
        case 'P': s3_endpoint = optarg; break;
        case 'R': s3_region = optarg; break;
        case 'U': bad = !*optarg || strlen(optarg) > 96; if (!bad) h.user = optarg; break;
        case 'A':
            bad = parse_u64(optarg, &v) || v == 0 || v > 10ULL * 365 * 86400;
            if (!bad) h.upload_max_age_secs = (long)v;
            break;
        case 'm': bad = parse_u64(optarg, &h.multipart_threshold) || h.multipart_threshold == 0; break;
        case 'c': bad = parse_u64(optarg, &h.chunk_size) || h.chunk_size == 0; break;
        case 'k': hooks = optarg; break;
        case 'b': bad = parse_u64(optarg, &h.knobs.bandwidth_cap); break;
        case 'f': bad = parse_pair(optarg, &h.knobs.fail_part_number, &h.knobs.fail_part_times); break;
        case 'F':
            bad = parse_u64(optarg, &v) || v > 1000000;
            if (!bad) h.knobs.fail_complete_times = (int)v; /* v is unset when parse_u64 failed */
            break;
        case 'd': bad = parse_pair(optarg, &h.knobs.drop_part_number, &h.knobs.drop_part_times); break;
        case 'u':
            bad = parse_u64(optarg, &v) || v > 10ULL * 365 * 86400;
            if (!bad) h.knobs.url_lifetime_secs = (long)v;
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("hfgit-hub %s\n", HFGIT_VERSION); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "hfgit-hub: bad value '%s' for --%s (see --help)\n", optarg, opts[opt].name);
            return 2;
        }
    }
    if (!root) {
        fputs("hfgit-hub: --root DIR is required (see --help)\n", stderr);
        return 2;
    }
    if (!tls_cert != !tls_key) {
        fputs("hfgit-hub: --tls-cert and --tls-key go together (see --help)\n", stderr);
        return 2;
    }
    if (tls_cert &&
        (!(h.tls_cert = read_pem(tls_cert, "certificate")) || !(h.tls_key = read_pem(tls_key, "key"))))
        return 2;
    h.token = token_file ? read_token_file(token_file) : token && *token ? strdup(token) : NULL;
    if (token_file && !h.token)
        return 2;
    /* A --token on the command line shows in `ps` and /proc/<pid>/cmdline: blank it there (a window remains
     * until now; --token-file has none). Children get a scrubbed environment anyway (proc.c). */
    if (token_argv) memset(token_argv, 'x', strlen(token_argv));
    unsetenv("HFGIT_HUB_TOKEN");
    if (mkdirs(root) || !(h.root = realpath(root, NULL))) {
        fprintf(stderr, "hfgit-hub: cannot create or use root %s: %s\n", root, strerror(errno));
        return 1;
    }
    if (hub_key_load(&h))
        return 1;
    if (storage && strcmp(storage, "local") != 0) {
        if (s3_open(&s3, storage, s3_endpoint, s3_region)) return 1;
        h.s3 = &s3;
        if (h.chunk_size < LFS_S3_MIN_PART_SIZE)
            fprintf(stderr, "hfgit-hub: --chunk-size %" PRIu64 " is under S3's minimum part size: parts are %llu\n",
                    h.chunk_size, LFS_S3_MIN_PART_SIZE);
    }
    lfs_uploads_sweep(&h);
    h.hooks_dir = hooks ? realpath(hooks, NULL) : default_hooks_dir();
    if (!h.hooks_dir)
        fputs("hfgit-hub: warning: no git-hooks/pre-receive found; pushes will not be checked (--hooks-dir)\n",
              stderr);
    if (!h.token)
        fputs("hfgit-hub: warning: no --token: anyone who can connect may push\n", stderr);
    pthread_mutex_init(&h.knobs_lock, NULL);
    hf_http_global_init();

    int fd;
    unsigned port;
    if (listen_on(listen_spec, &fd, &port)) {
        fprintf(stderr, "hfgit-hub: cannot listen on %s: %s\n", listen_spec, strerror(errno));
        return 1;
    }
    char host[64];
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(listen_spec, ':') - listen_spec), listen_spec);
    hf_buf url = HF_BUF_INIT;
    hf_buf_printf(&url, "%s://%s:%u", h.tls_cert ? "https" : "http", host, port);
    h.base_url = hf_buf_detach(&url);

    /* Block the stop signals before MHD starts its threads so only sigwait() below sees them;
     * CGI children get their own default mask back (git_backend.c). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (hub_server_start(&h, fd)) {
        fprintf(stderr, "hfgit-hub: cannot start the HTTP server%s\n",
                h.tls_cert ? " (is the TLS key the certificate's? see the messages above)" : "");
        return 1;
    }
    printf("hfgit-hub: listening on %s (root %s)\n", h.base_url, h.root);
    fflush(stdout);
    int sig = serve_until_stopped(&h, &stop);
    fprintf(stderr, "hfgit-hub: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    hub_server_stop(&h);
    close(fd);
    free(h.root);
    free(h.token);
    if (h.s3) s3_close(h.s3);
    free(h.tls_cert);
    free(h.tls_key);
    free(h.hooks_dir);
    free(h.base_url);
    return 0;
}
