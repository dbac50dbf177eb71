/*
 * git_stream.c: the socket stream libgit2 uses for the git smart-HTTP connection (plain HTTP, and under
 * TLS, which libgit2 layers on top of the registered standard stream), with stall detection.
 *
 * libgit2 1.5 waits on a socket forever: a push whose server stops answering hangs the worker and with it
 * hf_repo_free. This stream is libgit2's own plain socket stream plus one rule, the one LFS transfers follow
 * (common/http.h): a read or write that moves no byte for HFGIT_HTTP_STALL_SECS (default 60 s) fails with
 * a message saying so, and connecting gives up after 30 s. Registered by hf_init for the whole process.
 */
#include "git_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <git2/sys/stream.h>

#define CONNECT_TIMEOUT_MS 30000
#define STALL_SECS_DEFAULT 60L

typedef struct stall_stream {
    git_stream parent;
    char *host;
    char *port;
    int fd;
} stall_stream;

static long stall_secs(void)
{
    const char *v = getenv("HFGIT_HTTP_STALL_SECS");
    char *end = NULL;
    long s = v && *v ? strtol(v, &end, 10) : 0;
    return end && *end == '\0' && s >= 1 && s <= 86400 ? s : STALL_SECS_DEFAULT;
}

/* Waits until fd is ready for events; 0 ready, -1 after ms without (errno ETIMEDOUT) or on error. */
static int wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {fd, events, 0};
    for (;;) {
        int n = poll(&p, 1, ms);
        if (n > 0)
            return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

static int try_connect(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    int err = errno, soerr = 0;
    socklen_t len = sizeof(soerr);
    if (err == EINPROGRESS && wait_fd(fd, POLLOUT, CONNECT_TIMEOUT_MS) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
        return fd;
    err = err == EINPROGRESS ? (soerr ? soerr : errno) : err;
    close(fd);
    errno = err;
    return -1;
}

static int stream_connect(git_stream *s)
{
    stall_stream *st = (stall_stream *)s;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(st->host, st->port, &hints, &res);
    if (gai != 0) {
        git_error_set(GIT_ERROR_NET, "failed to resolve address for %s: %s", st->host, gai_strerror(gai));
        return -1;
    }
    int err = 0;
    for (const struct addrinfo *ai = res; ai && st->fd < 0; ai = ai->ai_next)
        if ((st->fd = try_connect(ai)) < 0)
            err = errno;
    freeaddrinfo(res);
    if (st->fd < 0) {
        git_error_set(GIT_ERROR_NET, "failed to connect to %s:%s: %s", st->host, st->port,
                      err == ETIMEDOUT ? "no answer within 30 s" : strerror(err));
        return -1;
    }
    return 0;
}

static void stalled(const stall_stream *st, const char *what)
{
    git_error_set(GIT_ERROR_NET,
                  "the git connection to %s stalled: nothing %s for %ld s (HFGIT_HTTP_STALL_SECS); the server "
                  "stopped answering, try again later",
                  st->host, what, stall_secs());
}

static ssize_t stream_read(git_stream *s, void *data, size_t len)
{
    stall_stream *st = (stall_stream *)s;
    for (;;) {
        ssize_t n = recv(st->fd, data, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            break;
        if (wait_fd(st->fd, POLLIN, (int)(stall_secs() * 1000)) < 0) {
            if (errno == ETIMEDOUT) {
                stalled(st, "received");
                return -1;
            }
            break;
        }
    }
    git_error_set(GIT_ERROR_NET, "error receiving data from %s: %s", st->host, strerror(errno));
    return -1;
}

static ssize_t stream_write(git_stream *s, const char *data, size_t len, int flags)
{
    stall_stream *st = (stall_stream *)s;
    (void)flags;
    for (;;) {
        ssize_t n = send(st->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            break;
        if (wait_fd(st->fd, POLLOUT, (int)(stall_secs() * 1000)) < 0) {
            if (errno == ETIMEDOUT) {
                stalled(st, "sent");
                return -1;
            }
            break;
        }
    }
    git_error_set(GIT_ERROR_NET, "error sending data to %s: %s", st->host, strerror(errno));
    return -1;
}

static int stream_close(git_stream *s)
{
    stall_stream *st = (stall_stream *)s;
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    return 0;
}

static void stream_free(git_stream *s)
{
    stall_stream *st = (stall_stream *)s;
    stream_close(s);
    free(st->host);
    free(st->port);
    free(st);
}

static int stream_new(git_stream **out, const char *host, const char *port)
{
    stall_stream *st = calloc(1, sizeof(*st));
    if (!st || !(st->host = strdup(host)) || !(st->port = strdup(port))) {
        if (st)
            free(st->host);
        free(st);
        git_error_set_oom();
        return -1;
    }
    st->fd = -1;
    st->parent.version = GIT_STREAM_VERSION;
    st->parent.connect = stream_connect;
    st->parent.read = stream_read;
    st->parent.write = stream_write;
    st->parent.close = stream_close;
    st->parent.free = stream_free;
    *out = &st->parent;
    return 0;
}

int hf_git_stream_register(void)
{
    git_stream_registration reg = {GIT_STREAM_VERSION, stream_new, NULL};
    return git_stream_register(GIT_STREAM_STANDARD, &reg);
}

void hf_git_stream_unregister(void)
{
    (void)git_stream_register(GIT_STREAM_STANDARD, NULL);
}
