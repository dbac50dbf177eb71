/*
 * proc.h: running git from the hub's connection threads.
 *
 * posix_spawn, not fork: the hub is multi-threaded, and the child must start with a clean signal state
 * (main.c blocks SIGTERM/SIGINT in every thread and ignores SIGPIPE; git and its hooks need both back to
 * default). The child's environment is the few variables git and hooks need (PATH, HOME, locale, ...:
 * proc.c's list) from the hub's, plus the caller's extras: no token, no GIT_DIR.
 *
 * Thread-safety: all functions may be called from any thread at the same time. Every descriptor the hub opens
 * for a child is O_CLOEXEC, so a child spawned by one thread never inherits another thread's pipe ends.
 */
#ifndef HF_HUB_PROC_H
#define HF_HUB_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* A NULL-terminated environment: the inherited variables of the hub's environ not set in extra, then
 * extra ("NAME=value" strings, NULL-terminated, may be NULL). Free with hub_env_free. NULL when out of
 * memory. */
char **hub_env_build(const char *const *extra);
void hub_env_free(char **env);

/* Starts argv[0] (searched in PATH) with stdin from in_fd and stdout to out_fd (-1: /dev/null), stderr
 * inherited, in a new process group (so the whole CGI tree can be stopped), default signal mask and
 * dispositions. env NULL = hub_env_build(NULL). 0 and *pid, or -1 with errno. */
int hub_spawn(pid_t *pid, char *const argv[], char *const env[], int in_fd, int out_fd);

/* Runs argv to completion (stdin and stdout /dev/null); returns its exit status (0 = success), or -1 when it
 * could not be started or died of a signal. */
int hub_run(char *const argv[]);

/* Runs argv to completion with stdin from in_fd (-1: /dev/null) and env (NULL: hub_env_build(NULL)); the
 * first line of its stdout (up to outsz - 1 bytes, newline dropped) in out. Its exit status as hub_run. For
 * commands with a short answer (git hash-object, mktree, commit-tree). */
int hub_run_capture(char *const argv[], char *const env[], int in_fd, char *out, size_t outsz);

#endif
