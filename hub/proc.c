/*
 * proc.c: posix_spawn of git with a clean signal state and a filtered environment (see proc.h).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What a child may inherit from the hub's environment: what git and a shell hook need to run (and the
 * sanitizers' settings, for tests). Nothing else: the hub's own secrets (HFGIT_HUB_TOKEN, cloud credentials)
 * never reach http-backend or a hook, and a stray GIT_DIR cannot point git at the wrong repository. */
static const char *const INHERITED[] = {"PATH",
                                        "HOME",
                                        "LANG",
                                        "LC_ALL",
                                        "LC_CTYPE",
                                        "LC_MESSAGES",
                                        "TZ",
                                        "TMPDIR",
                                        "USER",
                                        "LOGNAME",
                                        "LD_LIBRARY_PATH",
                                        "ASAN_OPTIONS",
                                        "LSAN_OPTIONS",
                                        "UBSAN_OPTIONS",
                                        "TSAN_OPTIONS",
                                        "HFGIT_TRACE",
                                        NULL};

static int name_in(const char *var, const char *const *extra)
{
    size_t n = strcspn(var, "=");
    for (; extra && *extra; extra++)
        if (strncmp(*extra, var, n) == 0 && (*extra)[n] == '=') return 1;
    return 0;
}

char **hub_env_build(const char *const *extra)
{
    size_t n = 0, k = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    for (const char *const *x = extra; x && *x; x++)
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    if (!env) return NULL;
    for (char **e = environ; e && *e; e++) {
        size_t len = strcspn(*e, "=");
        int keep = 0;
        for (const char *const *in = INHERITED; *in && !keep; in++)
            keep = strlen(*in) == len && strncmp(*e, *in, len) == 0;
        if (!keep || name_in(*e, extra)) continue;
        if (!(env[k++] = strdup(*e))) goto oom;
    }
    for (const char *const *x = extra; x && *x; x++)
        if (!(env[k++] = strdup(*x))) goto oom;
    return env;
oom:
    hub_env_free(env);
    return NULL;
}

void hub_env_free(char **env)
{
    if (!env) return;
    for (char **e = env; *e; e++)
        free(*e);
    free(env);
}

int hub_spawn(pid_t *pid, char *const argv[], char *const env[], int in_fd, int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    char **own_env = NULL;
    int rc;

    if (!env && !(env = own_env = hub_env_build(NULL))) {
        errno = ENOMEM;
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    rc = posix_spawnp(pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    hub_env_free(own_env);
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}

int hub_run(char *const argv[])
{
    pid_t pid;
    int status;
    if (hub_spawn(&pid, argv, NULL, -1, -1)) return -1;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int hub_run_capture(char *const argv[], char *const env[], int in_fd, char *out, size_t outsz)
{
    int p[2];
    pid_t pid;
    int status;
    if (pipe2(p, O_CLOEXEC)) return -1;
    int rc = hub_spawn(&pid, argv, env, in_fd, p[1]);
    close(p[1]);
    if (rc) {
        close(p[0]);
        return -1;
    }
    size_t len = 0;
    char sink[256];
    /* Read everything (a child blocked on a full pipe would never exit), keep the start. */
    for (;;) {
        char *dst = sink;
        size_t room = sizeof(sink);
        if (len + 1 < outsz) {
            dst = out + len;
            room = outsz - 1 - len;
        }
        ssize_t n = read(p[0], dst, room);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (dst != sink) len += (size_t)n;
    }
    close(p[0]);
    out[len] = '\0';
    out[strcspn(out, "\n")] = '\0';
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
