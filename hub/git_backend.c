/*
 * git_backend.c: git smart HTTP (and the dumb read paths) through `git http-backend` as a CGI.
 *
 * Nothing is held in memory: a request body is spooled to an unlinked temp file under <root>/tmp as it
 * arrives, and that file becomes the CGI's stdin once the body is complete (no pipe to keep fed while the
 * CGI's own output blocks: no deadlock). The CGI's stdout is a pipe; its header block is parsed here and the
 * rest is streamed to the client by MHD's content reader, 64 KiB at a time. The child is reaped when MHD
 * frees the response (killed first, with its whole process group, if the client went away mid-stream).
 *
 * Auth: reads of public repos are anonymous, of private ones need the hub token (hub_read_refusal); the
 * receive-pack service (advertisement and POST) always needs it.
 */
#include "hub.h"
#include "lfs.h"
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CGI_HEADER_MAX ((size_t)64 * 1024)
#define GIT_FETCH_BODY_MAX ((uint64_t)10 << 20) /* http-backend's own limit (http.maxRequestBuffer) */
#define GIT_PUSH_BODY_MAX ((uint64_t)16 << 30)  /* a push's pack: authenticated, but not unbounded */
#define CGI_BLOCK ((size_t)64 * 1024)

typedef struct git_req {
    hub_repo repo;
    int body_fd; /* spooled request body; -1 when the request has none */
    uint64_t body_len;
    uint64_t body_max; /* a longer body is refused with 413 (and not stored) */
    int too_large;
    int spool_errno;  /* first write error: answered with 507 or 500 once the body is in */
    int authed;       /* the request carried the hub token */
    unsigned refused; /* 404 or 401, answered once the body is in */
} git_req;

/* Counts a push refused by pre-receive (the hook cannot reach the stats): receive-pack's report says
 * "ng <ref> pre-receive hook declined", and the phrase may be split across two reads of the CGI's output. A
 * byte-at-a-time matcher keeps how much of it the output ended with. No proper prefix of the phrase occurs
 * inside it again ('h' only starts it), so on a mismatch the match restarts from nothing, or from the 'h'. */
static const char DECLINED[] = "hook declined";

typedef struct phrase_watch {
    size_t matched; /* bytes of DECLINED at the end of what was seen */
    int found;
} phrase_watch;

static void phrase_scan(phrase_watch *w, const char *data, size_t n)
{
    for (size_t i = 0; i < n && !w->found; i++) {
        if (data[i] == DECLINED[w->matched])
            w->matched++;
        else
            w->matched = data[i] == DECLINED[0] ? 1 : 0;
        w->found = w->matched == sizeof(DECLINED) - 1;
    }
}

/* The running CGI, owned by the MHD response (freed in its free callback). */
typedef struct cgi_out {
    int fd;
    pid_t pid;
    char *pending; /* body bytes that arrived with the header block */
    size_t pending_len, pending_off;
    int eof;       /* the whole output went out: the CGI is finishing, not to be killed */
    uint64_t size; /* Content-Length from the CGI, or MHD_SIZE_UNKNOWN */
    hub *h;        /* set for receive-pack POSTs: their report is watched for a declined hook */
    phrase_watch declined;
} cgi_out;

static void watch_declined(cgi_out *c, const char *data, size_t n)
{
    if (!c->h || c->declined.found) return;
    phrase_scan(&c->declined, data, n);
    if (c->declined.found) atomic_fetch_add(&c->h->stats.pushes_rejected, 1);
}

/* A 500 is a hub fault the client cannot explain (git shows only the status): say it in the hub's log too. */
static enum MHD_Result fail(hub_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum MHD_Result fail(hub_req *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)fprintf(stderr, "hfgit-hub: %s %s: %s\n", r->method, r->path, msg);
    return hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", msg);
}

static int is_git_path(const char *rest)
{
    return strcmp(rest, "/info/refs") == 0 || strcmp(rest, "/git-upload-pack") == 0 ||
           strcmp(rest, "/git-receive-pack") == 0 || strcmp(rest, "/HEAD") == 0 ||
           strncmp(rest, "/objects/", 9) == 0;
}

static void git_req_free(hub_req *r)
{
    git_req *g = r->state;
    if (!g) return;
    if (g->body_fd >= 0) close(g->body_fd);
    hub_repo_clear(&g->repo);
    free(g);
    r->state = NULL;
}

/* Gives back the space of a body that will not be used (the file is unlinked already). */
static void release_spool(git_req *g)
{
    if (ftruncate(g->body_fd, 0) != 0 && !g->spool_errno) g->spool_errno = errno;
}

static int spool(hub_req *r, const char *data, size_t len)
{
    git_req *g = r->state;
    if (!g->too_large && g->body_len + len > g->body_max) {
        g->too_large = 1; /* discard the rest */
        release_spool(g);
    }
    while (len > 0 && !g->spool_errno && !g->too_large) {
        ssize_t n = write(g->body_fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            g->spool_errno = errno; /* keep reading and discarding; on_done answers */
            release_spool(g);
            break;
        }
        data += n;
        len -= (size_t)n;
        g->body_len += (uint64_t)n;
    }
    return 0;
}

/* ---- the CGI's output ---- */

static ssize_t cgi_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    cgi_out *c = cls;
    if (c->pending_off < c->pending_len) {
        size_t n = c->pending_len - c->pending_off;
        if (n > max) n = max;
        memcpy(buf, c->pending + c->pending_off, n);
        c->pending_off += n;
        watch_declined(c, buf, n);
        c->eof |= c->size != MHD_SIZE_UNKNOWN && pos + n >= c->size;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t n = read(c->fd, buf, max);
        if (n > 0) {
            watch_declined(c, buf, (size_t)n);
            c->eof |= c->size != MHD_SIZE_UNKNOWN && pos + (uint64_t)n >= c->size;
            return n;
        }
        if (n == 0) {
            c->eof = 1;
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (errno != EINTR) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static int reap(pid_t pid, int kill_first)
{
    int status = 0;
    if (kill_first) kill(-pid, SIGTERM); /* the whole group: http-backend, upload-pack, pack-objects */
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return status;
}

static void cgi_free(void *cls)
{
    cgi_out *c = cls;
    close(c->fd);
    int status = reap(c->pid, !c->eof);
    if (c->eof && status >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        (void)fprintf(stderr, "hfgit-hub: git http-backend exited with status %d\n",
                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    free(c->pending);
    free(c);
}

/* Reads the CGI header block (up to a blank line) into *hdr; what follows it stays in c->pending. The body
 * may arrive in the same read and is binary (a v0 ref advertisement holds NUL bytes), so the search is
 * memmem over the bytes, and only the header part must be text. */
static int read_header_block(cgi_out *c, hf_buf *hdr)
{
    char chunk[8192];
    for (;;) {
        char *end = hdr->len ? memmem(hdr->ptr, hdr->len, "\r\n\r\n", 4) : NULL;
        size_t skip = 4;
        char *lf = hdr->len ? memmem(hdr->ptr, hdr->len, "\n\n", 2) : NULL;
        if (lf && (!end || lf < end)) {
            end = lf;
            skip = 2;
        }
        if (end) {
            size_t head = (size_t)(end - hdr->ptr), body_at = head + skip;
            if (memchr(hdr->ptr, '\0', head)) return -1; /* not a CGI header block */
            c->pending_len = hdr->len - body_at;
            if (c->pending_len) {
                if (!(c->pending = malloc(c->pending_len))) return -1;
                memcpy(c->pending, hdr->ptr + body_at, c->pending_len);
            }
            hdr->len = head + skip / 2; /* keep the last header's line end */
            hdr->ptr[hdr->len] = '\0';
            return 0;
        }
        if (hdr->len >= CGI_HEADER_MAX) return -1;
        ssize_t n = read(c->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || hf_buf_put(hdr, chunk, (size_t)n)) return -1;
    }
}

static int header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && strncasecmp(line, name, k) == 0 && line[k] == ':';
}

/* Builds the response from the header block: Status and Content-Length are MHD's business, the rest is
 * copied. */
static enum MHD_Result queue_cgi_response(hub_req *r, cgi_out *c, const hf_buf *hdr)
{
    unsigned status = MHD_HTTP_OK;
    uint64_t size = MHD_SIZE_UNKNOWN;
    struct MHD_Response *resp = NULL;
    char *copy = strdup(hf_buf_cstr(hdr));
    if (!copy) goto fail;
    /* Content-Length first: it must be known when the response is created. */
    for (char *line = copy; *line;) {
        size_t n = strcspn(line, "\r\n");
        if (header_is(line, n, "Content-Length")) size = strtoull(line + 15, NULL, 10);
        line += n;
        line += strspn(line, "\r\n");
    }
    c->size = size;
    c->eof = size == 0; /* nothing to read: the reader will not be called */
    resp = MHD_create_response_from_callback(size, CGI_BLOCK, cgi_read, c, cgi_free);
    if (!resp) goto fail;
    c = NULL; /* owned by resp now */
    for (char *line = copy; *line;) {
        size_t n = strcspn(line, "\r\n");
        char *next = line + n + strspn(line + n, "\r\n");
        line[n] = '\0';
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            char *value = colon + 1 + strspn(colon + 1, " \t");
            if (strcasecmp(line, "Status") == 0) {
                unsigned s = (unsigned)strtoul(value, NULL, 10);
                if (s >= 100 && s < 600) status = s;
            } else if (strcasecmp(line, "Content-Length") != 0 &&
                       strcasecmp(line, "Transfer-Encoding") != 0 && strcasecmp(line, "Connection") != 0) {
                MHD_add_response_header(resp, line, value);
            }
        }
        line = next;
    }
    free(copy);
    enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp); /* frees the cgi_out now if queueing failed, else when the response is done */
    r->responded = 1;
    return rc;
fail:
    free(copy);
    if (c) cgi_free(c);
    return fail(r, "%s", "out of memory");
}

/* ---- running the CGI ---- */

static void remote_addr(hub_req *r, char *out, size_t n)
{
    (void)snprintf(out, n, "127.0.0.1");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, (socklen_t)n);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out, (socklen_t)n);
}

/* The CGI's variables, each a "NAME=value" string of its own. */
typedef struct cgi_vars {
    char *v[16];
    size_t n;
    int err;
} cgi_vars;

static void var_add(cgi_vars *cv, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void var_add(cgi_vars *cv, const char *name, const char *fmt, ...)
{
    hf_buf b = HF_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int err = hf_buf_printf(&b, "%s=", name) || hf_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (err || cv->n + 1 >= sizeof(cv->v) / sizeof(cv->v[0])) {
        cv->err = 1;
        hf_buf_free(&b);
        return;
    }
    cv->v[cv->n++] = hf_buf_detach(&b);
}

static void var_opt(cgi_vars *cv, const char *name, const char *value)
{
    if (value) var_add(cv, name, "%s", value);
}

static char **cgi_env(hub_req *r, git_req *g)
{
    cgi_vars cv = {{0}, 0, 0};
    char addr[64];
    const char *service = hub_query(r, "service");
    remote_addr(r, addr, sizeof(addr));

    var_add(&cv, "GIT_PROJECT_ROOT", "%s/repos/%s/%s", r->h->root, g->repo.type, g->repo.ns);
    var_add(&cv, "PATH_INFO", "/%s.git%s", g->repo.name, g->repo.rest);
    /* Only the service argument matters to http-backend; anything odd in it is dropped, not passed on. */
    if (service && service[0] && strspn(service, "abcdefghijklmnopqrstuvwxyz-") == strlen(service))
        var_add(&cv, "QUERY_STRING", "service=%s", service);
    else
        var_add(&cv, "QUERY_STRING", "%s", "");
    var_add(&cv, "GIT_HTTP_EXPORT_ALL", "1");
    var_add(&cv, "GATEWAY_INTERFACE", "CGI/1.1");
    var_add(&cv, "REQUEST_METHOD", "%s", r->method);
    var_add(&cv, "REMOTE_ADDR", "%s", addr);
    if (g->body_fd >= 0) var_add(&cv, "CONTENT_LENGTH", "%llu", (unsigned long long)g->body_len);
    var_opt(&cv, "CONTENT_TYPE", hub_header(r, "Content-Type"));
    var_opt(&cv, "HTTP_CONTENT_ENCODING", hub_header(r, "Content-Encoding"));
    var_opt(&cv, "GIT_PROTOCOL", hub_header(r, "Git-Protocol"));
    if (g->authed) var_add(&cv, "REMOTE_USER", "hf");
    char **env = cv.err ? NULL : hub_env_build((const char *const *)cv.v);
    for (size_t i = 0; i < cv.n; i++)
        free(cv.v[i]);
    return env;
}

/* The git_push_stall_secs knob: the push's body has arrived and the hub goes silent, as a server that stops
 * answering. Checked every 100 ms, so setting the knob back to 0 ends the silence. Returns 1 when it stalled:
 * the push is then refused, never applied late behind the back of a client that gave up. */
static int stall_push(hub *h)
{
    for (long waited_ms = 0;; waited_ms += 100) {
        pthread_mutex_lock(&h->knobs_lock);
        long stall = h->knobs.git_push_stall_secs;
        pthread_mutex_unlock(&h->knobs_lock);
        if (stall <= 0 || waited_ms >= stall * 1000)
            return waited_ms > 0;
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
}

static enum MHD_Result run_cgi(hub_req *r)
{
    git_req *g = r->state;
    if (strcmp(g->repo.rest, "/git-receive-pack") == 0 && stall_push(r->h))
        return fail(r, "%s", "this push was held by the git_push_stall_secs knob and is not applied");
    if (g->too_large)
        return hub_respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %llu bytes",
                                 (unsigned long long)g->body_max);
    if (g->spool_errno) return lfs_respond_io_error(r, g->spool_errno, "storing the request body");
    if (g->body_fd >= 0 && lseek(g->body_fd, 0, SEEK_SET) < 0)
        return fail(r, "%s", "cannot rewind the request body");
    char **env = cgi_env(r, g);
    int p[2];
    if (!env || pipe2(p, O_CLOEXEC)) {
        hub_env_free(env);
        return fail(r, "cannot start git http-backend: %s", strerror(errno));
    }
    char *argv[] = {"git", "http-backend", NULL};
    pid_t pid;
    int rc = hub_spawn(&pid, argv, env, g->body_fd, p[1]);
    int spawn_errno = errno;
    hub_env_free(env);
    close(p[1]);
    if (rc) {
        close(p[0]);
        return fail(r, "cannot run git http-backend: %s", strerror(spawn_errno));
    }
    cgi_out *c = calloc(1, sizeof(*c));
    if (!c) {
        close(p[0]);
        reap(pid, 1);
        return fail(r, "%s", "out of memory");
    }
    c->fd = p[0];
    c->pid = pid;
    c->size = MHD_SIZE_UNKNOWN;
    if (strcmp(g->repo.rest, "/git-receive-pack") == 0) c->h = r->h;
    hf_buf hdr = HF_BUF_INIT;
    if (read_header_block(c, &hdr)) {
        hf_buf_free(&hdr);
        close(c->fd);
        int status = reap(c->pid, 1);
        free(c->pending);
        free(c);
        return fail(r, "git http-backend failed for %s/%s (exit status %d); see the hub's log", g->repo.ns,
                    g->repo.name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    enum MHD_Result res = queue_cgi_response(r, c, &hdr);
    hf_buf_free(&hdr);
    return res;
}

/* ---- route ---- */

static const char *repo_prefix(const hub_repo *repo)
{
    return strcmp(repo->type, "models") == 0     ? ""
           : strcmp(repo->type, "datasets") == 0 ? "datasets/"
                                                 : "spaces/";
}

static enum MHD_Result refuse(hub_req *r, const hub_repo *repo, unsigned status)
{
    if (status == MHD_HTTP_UNAUTHORIZED && hub_repo_private(repo) && !hub_authorized(r))
        return hub_respond_unauthorized(r, "Repository not found (or private: it needs the hub token)");
    if (status == MHD_HTTP_UNAUTHORIZED)
        return hub_respond_unauthorized(r,
                                        "Invalid credentials: pushing needs the hub token (Bearer, or Basic "
                                        "with the token as password)");
    return hub_respond_error(r, MHD_HTTP_NOT_FOUND, "Repository not found: %s%s/%s", repo_prefix(repo),
                             repo->ns, repo->name);
}

static int discard(hub_req *r, const char *data, size_t len)
{
    return 0;
}

/* A refused POST is answered once its body has been read: an answer queued before that makes MHD close the
 * socket with unread data, which the client may see as a reset instead of the answer. */
static enum MHD_Result refuse_later(hub_req *r)
{
    git_req *g = r->state;
    return refuse(r, &g->repo, g->refused);
}

int hub_route_git(hub_req *r)
{
    hub_repo repo;
    if (hub_repo_parse(r->h, r->path, &repo)) return 0;
    if (!is_git_path(repo.rest)) {
        hub_repo_clear(&repo);
        return 0;
    }
    atomic_fetch_add(&r->h->stats.requests_git, 1);
    const char *service = hub_query(r, "service");
    int post = strcmp(r->method, "POST") == 0;
    int push = strcmp(repo.rest, "/git-receive-pack") == 0 ||
               (strcmp(repo.rest, "/info/refs") == 0 && service && strcmp(service, "git-receive-pack") == 0);
    unsigned refused = hub_read_refusal(r, &repo);
    if (!refused && push && !hub_authorized(r)) refused = MHD_HTTP_UNAUTHORIZED;
    if (refused && !post) {
        refuse(r, &repo, refused);
        hub_repo_clear(&repo);
        return 1;
    }
    git_req *g = calloc(1, sizeof(*g));
    if (!g) {
        hub_repo_clear(&repo);
        fail(r, "%s", "out of memory");
        return 1;
    }
    g->repo = repo;
    g->body_fd = -1;
    g->authed = r->h->token && hub_authorized(r);
    g->refused = refused;
    r->state = g;
    r->on_free = git_req_free;
    if (refused) {
        r->on_data = discard;
        r->on_done = refuse_later;
        return 1;
    }
    r->on_done = run_cgi;
    /* Bodies are spooled to disk: bound them. A fetch's request lists wants and haves (http-backend refuses
     * over 10 MiB); a push carries a pack and needs the token. */
    g->body_max = push ? GIT_PUSH_BODY_MAX : GIT_FETCH_BODY_MAX;
    uint64_t announced;
    if (post && lfs_content_length(r, &announced) == 0 && announced > g->body_max) {
        /* Answered now: a client that sent Expect: 100-continue never sends the body. */
        hub_respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body of %llu bytes is over the %llu allowed",
                          (unsigned long long)announced, (unsigned long long)g->body_max);
        return 1;
    }
    if (post) {
        hf_buf tmpl = HF_BUF_INIT;
        if (hf_buf_printf(&tmpl, "%s/tmp/git-body-XXXXXX", r->h->root) ||
            (g->body_fd = mkostemp(tmpl.ptr, O_CLOEXEC)) < 0) {
            g->spool_errno = errno ? errno : ENOMEM; /* answered by run_cgi once the body is in */
            r->on_data = discard;
        } else {
            unlink(tmpl.ptr); /* gone when the descriptor closes, whatever happens */
            r->on_data = spool;
        }
        hf_buf_free(&tmpl);
    }
    return 1;
}
