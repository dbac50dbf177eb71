/*
 * lib_scheduler.c: the commit scheduler (hf_scheduler_*) on the public API only, for t_lib_scheduler.
 *
 *   lib_scheduler writers CLONE FOLDER SECONDS LINES [EVERY_MINUTES]
 *       opens CLONE (an existing clone), starts a scheduler of FOLDER into "logs/" every EVERY_MINUTES
 *       (default 0.02), and runs two writer threads for SECONDS, each appending LINES/2 JSON lines to its own
 *       file (FOLDER/w0.jsonl, FOLDER/w1.jsonl) under hf_scheduler_lock. Each line is written in two write()
 *       calls, so a snapshot taken outside the lock would cut lines. Then hf_scheduler_stop. Prints
 *       "lines N", "errors_seen N" (ticks that failed, polled with hf_scheduler_last_error), "stop RC".
 *   lib_scheduler trigger CLONE FOLDER
 *       starts a scheduler (every 60 minutes, ignoring *.tmp) and prints the result codes of: a trigger, a
 *       second trigger with nothing new, a trigger after appending to a file, and stop: "trigger RC" lines.
 *
 *   lib_scheduler grow CLONE FOLDER MIB ROUNDS
 *       starts a scheduler (every 60 minutes) of FOLDER into "big/"; ROUNDS times appends MIB MiB of binary
 *       data to FOLDER/big.bin (1 MiB writes under the lock) and triggers a commit; prints "trigger RC" each
 *       time and "stop RC" at the end. Memory must not grow with the file (the test measures peak RSS).
 *
 *   lib_scheduler steps CLONE FOLDER PATH_IN_REPO STEP...
 *       starts a scheduler (every 60 minutes) of FOLDER into PATH_IN_REPO and runs the steps in order:
 *       "trigger" and "stop" print "trigger RC" / "stop RC"; "sh:COMMAND" runs COMMAND with system() (to change
 *       files, or hold the clone's index.lock, between two ticks). Exits 0 when every step ran.
 *
 * The token and endpoint come from HF_TOKEN / HF_ENDPOINT; the author from LIB_REPO_USER / LIB_REPO_EMAIL.
 */
#include "hfgit.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct writer {
    hf_scheduler *s;
    const char *folder;
    int id;
    long lines;
    double seconds;
    int rc;
} writer;

static double now_secs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    char path[4096];
    snprintf(path, sizeof(path), "%s/w%d.jsonl", w->folder, w->id);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) {
        w->rc = 1;
        return NULL;
    }
    double start = now_secs();
    for (long i = 0; i < w->lines; i++) {
        char line[256];
        int n = snprintf(line, sizeof(line), "{\"writer\": %d, \"seq\": %ld, \"pad\": \"%040ld\"}\n", w->id, i, i);
        hf_scheduler_lock(w->s);
        /* two writes under the lock: only a snapshot taken while we hold it could see half a line */
        int rc = write_all(fd, line, (size_t)n / 2) | write_all(fd, line + n / 2, (size_t)n - (size_t)n / 2);
        hf_scheduler_unlock(w->s);
        if (rc < 0) {
            w->rc = 1;
            break;
        }
        /* spread the lines over the run */
        double due = start + w->seconds * (double)(i + 1) / (double)w->lines;
        double left = due - now_secs();
        if (left > 0)
            usleep((useconds_t)(left * 1e6));
    }
    close(fd);
    return NULL;
}

static int open_repo(hf_repo **repo, const char *dir)
{
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    o.git_user = getenv("LIB_REPO_USER");
    o.git_email = getenv("LIB_REPO_EMAIL");
    if (hf_repo_open(repo, dir, &o) < 0) {
        fprintf(stderr, "open: %s\n", hf_error_last_message());
        return 1;
    }
    return 0;
}

static int run_writers(const char *clone, const char *folder, double seconds, long lines, double every)
{
    hf_repo *repo;
    if (open_repo(&repo, clone))
        return 1;
    hf_scheduler_options so = HF_SCHEDULER_OPTIONS_INIT;
    so.path_in_repo = "logs";
    so.every_minutes = every;
    hf_scheduler *s;
    if (hf_scheduler_start(&s, repo, folder, &so) < 0) {
        fprintf(stderr, "start: %s\n", hf_error_last_message());
        hf_repo_free(repo);
        return 1;
    }
    writer w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (writer){s, folder, i, lines / 2, seconds, 0};
        pthread_create(&t[i], NULL, writer_main, &w[i]);
    }
    /* poll the last tick's outcome while the writers run: counts the failed ticks (hub stopped) */
    int errors = 0, was_error = 0;
    double end = now_secs() + seconds;
    while (now_secs() < end) {
        char msg[512];
        int rc = hf_scheduler_last_error(s, msg, sizeof(msg));
        if (rc < 0 && !was_error) {
            errors++;
            printf("error_seen %d %s\n", rc, msg);
        }
        was_error = rc < 0;
        usleep(50000);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int rc = hf_scheduler_stop(s);
    printf("lines %ld\nerrors_seen %d\nstop %d%s%s\n", w[0].lines + w[1].lines, errors, rc, rc ? " " : "",
           rc ? hf_error_last_message() : "");
    hf_scheduler_free(s);
    hf_repo_free(repo);
    return w[0].rc || w[1].rc || rc;
}

static int append(const char *folder, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", folder, name);
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int run_trigger(const char *clone, const char *folder)
{
    hf_repo *repo;
    if (open_repo(&repo, clone))
        return 1;
    static const char *const ignore[] = {"*.tmp", NULL};
    hf_scheduler_options so = HF_SCHEDULER_OPTIONS_INIT;
    so.every_minutes = 60;
    so.path_in_repo = "feedback/";
    so.ignore_patterns = ignore;
    so.commit_message = "user feedback";
    hf_scheduler *s;
    if (hf_scheduler_start(&s, repo, folder, &so) < 0) {
        fprintf(stderr, "start: %s\n", hf_error_last_message());
        hf_repo_free(repo);
        return 1;
    }
    printf("trigger %d\n", hf_scheduler_trigger(s));
    printf("trigger %d\n", hf_scheduler_trigger(s));
    append(folder, "a.txt", "second line\n");
    append(folder, "scratch.tmp", "ignored\n");
    printf("trigger %d\n", hf_scheduler_trigger(s));
    printf("stop %d\n", hf_scheduler_stop(s));
    hf_scheduler_free(s);
    hf_repo_free(repo);
    return 0;
}

static int run_grow(const char *clone, const char *folder, int mib, int rounds)
{
    hf_repo *repo;
    if (open_repo(&repo, clone))
        return 1;
    hf_scheduler_options so = HF_SCHEDULER_OPTIONS_INIT;
    so.every_minutes = 60;
    so.path_in_repo = "big";
    hf_scheduler *s;
    if (hf_scheduler_start(&s, repo, folder, &so) < 0) {
        fprintf(stderr, "start: %s\n", hf_error_last_message());
        hf_repo_free(repo);
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/big.bin", folder);
    static char chunk[1 << 20];
    uint64_t x = 88172645463325252ull;
    int failed = 0;
    for (int r = 0; r < rounds; r++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        for (int m = 0; fd >= 0 && m < mib; m++) {
            for (size_t i = 0; i < sizeof(chunk); i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk[i] = (char)(x >> 24);
            }
            hf_scheduler_lock(s);
            failed |= write_all(fd, chunk, sizeof(chunk));
            hf_scheduler_unlock(s);
        }
        if (fd >= 0)
            close(fd);
        int rc = hf_scheduler_trigger(s);
        printf("trigger %d%s%s\n", rc, rc ? " " : "", rc ? hf_error_last_message() : "");
        failed |= rc != 0;
    }
    printf("stop %d\n", hf_scheduler_stop(s));
    hf_scheduler_free(s);
    hf_repo_free(repo);
    return failed ? 1 : 0;
}

static int run_steps(const char *clone, const char *folder, const char *dest, char **steps, int n)
{
    hf_repo *repo;
    if (open_repo(&repo, clone))
        return 1;
    hf_scheduler_options so = HF_SCHEDULER_OPTIONS_INIT;
    so.every_minutes = 60;
    so.path_in_repo = dest;
    hf_scheduler *s;
    if (hf_scheduler_start(&s, repo, folder, &so) < 0) {
        fprintf(stderr, "start: %s\n", hf_error_last_message());
        hf_repo_free(repo);
        return 1;
    }
    int failed = 0, stopped = 0;
    for (int i = 0; i < n; i++) {
        int rc;
        if (strcmp(steps[i], "trigger") == 0) {
            rc = hf_scheduler_trigger(s);
            printf("trigger %d%s%s\n", rc, rc ? " " : "", rc ? hf_error_last_message() : "");
        } else if (strcmp(steps[i], "stop") == 0) {
            rc = hf_scheduler_stop(s);
            printf("stop %d%s%s\n", rc, rc ? " " : "", rc ? hf_error_last_message() : "");
            stopped = 1;
        } else if (strncmp(steps[i], "sh:", 3) == 0) {
            fflush(stdout);
            failed |= system(steps[i] + 3) != 0;
        } else {
            fprintf(stderr, "unknown step %s\n", steps[i]);
            failed = 1;
        }
        fflush(stdout);
    }
    if (!stopped)
        hf_scheduler_stop(s);
    hf_scheduler_free(s);
    hf_repo_free(repo);
    return failed;
}

int main(int argc, char **argv)
{
    if (hf_init() < 0)
        return 1;
    int rc = 2;
    if (argc >= 6 && strcmp(argv[1], "writers") == 0)
        rc = run_writers(argv[2], argv[3], atof(argv[4]), atol(argv[5]), argc > 6 ? atof(argv[6]) : 0.02);
    else if (argc == 6 && strcmp(argv[1], "grow") == 0)
        rc = run_grow(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    else if (argc == 4 && strcmp(argv[1], "trigger") == 0)
        rc = run_trigger(argv[2], argv[3]);
    else if (argc >= 5 && strcmp(argv[1], "steps") == 0)
        rc = run_steps(argv[2], argv[3], argv[4], argv + 5, argc - 5);
    else
        fprintf(stderr, "usage: lib_scheduler writers CLONE FOLDER SECONDS LINES [EVERY] | trigger CLONE FOLDER | steps CLONE FOLDER PATH_IN_REPO STEP...\n");
    hf_shutdown();
    return rc;
}
