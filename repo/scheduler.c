/*
 * scheduler.c: hf_scheduler_* (huggingface_hub's CommitScheduler on git + LFS).
 *
 * A background thread runs a tick every every_minutes: snapshot the folder under the writers' lock
 * (folder_sync.h), copy what grew into the clone without it, stage that subtree (hf_repo_add with
 * auto-tracking, so big files go to LFS), commit, and push (blocking the scheduler's thread only: a push
 * holds no handle lock while bytes move, so the caller's threads keep using the repository). A failed tick
 * (hub down) is remembered and retried at the next one: its commit stays local and the next push sends it
 * with whatever came after, so nothing is lost and no commit is empty.
 *
 * Ticks are serialised by tick_mu: the thread's, hf_scheduler_trigger's and the last one of hf_scheduler_stop
 * never overlap. `mu` guards the stop flag and the last error only, never held during a tick.
 */
#include "repo.h"

#include "folder_sync.h"

#include "../common/error.h"
#include "../common/trace.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct hf_scheduler {
    hf_repo *repo;
    char *folder;        /* absolute, no trailing '/' */
    char *path_in_repo;  /* "" for the root, else without leading or trailing '/' */
    char *message;
    char **allow, **ignore; /* NULL-terminated copies, or NULL */
    double period_secs;
    int in_place;        /* the folder is the clone's own path_in_repo: nothing to copy */

    pthread_mutex_t writers; /* hf_scheduler_lock */

    pthread_mutex_t tick_mu; /* one tick at a time; guards the fields below */
    hf_sync_list copied;     /* what the clone holds of each file */
    int uncommitted;         /* the clone may hold copies no commit has yet (a commit failed, or a copy from
                                an earlier run was adopted): commit before saying "nothing new" */
    int unpushed;            /* a commit of ours is not on the remote yet */

    pthread_mutex_t mu;      /* guards the fields below */
    pthread_cond_t wake;
    int stop, started, joined;
    pthread_t thread;
    int last_rc;
    char *last_error;
};

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int strv_dup(char ***out, const char *const *v)
{
    *out = NULL;
    if (!v)
        return 0;
    size_t n = 0;
    while (v[n])
        n++;
    char **copy = calloc(n + 1, sizeof(*copy));
    if (!copy)
        return hf_error_set(HF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(v[i]))) {
            strv_free(copy);
            return hf_error_set(HF_ENOMEM, "out of memory");
        }
    *out = copy;
    return 0;
}

/* Pushes the current branch, blocking this (the scheduler's) thread only: a blocking push holds no handle
 * lock while bytes move, and leaves no command record behind (a week of ticks would pile them up). */
static int push_now(hf_scheduler *s)
{
    return hf_repo_push(s->repo, NULL, NULL);
}

/* Stages the scheduler's subtree and commits it; HF_ENOCHANGES when the clone had nothing new. */
static int commit_copies(hf_scheduler *s)
{
    int rc = hf_repo_add(s->repo, s->path_in_repo[0] ? s->path_in_repo : ".", 1);
    if (rc == 0)
        rc = hf_repo_commit(s->repo, s->message);
    return rc;
}

/* One scheduled commit: 0 (committed and pushed, or an earlier commit pushed now), HF_ENOCHANGES, or the
 * failure. The caller holds tick_mu. */
static int tick(hf_scheduler *s)
{
    hf_sync_list snap = HF_SYNC_LIST_INIT;
    size_t copied = 0;
    int rc = 0;
    if (!s->in_place) {
        /* the snapshot is the only step under the writers' lock: a line written under it is in or out whole */
        pthread_mutex_lock(&s->writers);
        rc = hf_sync_scan(s->folder, (const char *const *)s->allow, (const char *const *)s->ignore, &snap);
        pthread_mutex_unlock(&s->writers);
        hf_buf dest = HF_BUF_INIT;
        if (rc == 0 && hf_buf_printf(&dest, "%s%s", hf_repo_workdir(s->repo), s->path_in_repo) < 0)
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        if (rc == 0) /* path_in_repo itself may be a link the remote's content holds */
            rc = hf_path_refuse_links(hf_repo_workdir(s->repo), s->path_in_repo, 1);
        if (rc == 0)
            rc = hf_sync_copy(&s->copied, &snap, s->folder, dest.ptr, &copied);
        hf_buf_free(&dest);
        hf_sync_list_free(&snap);
    }
    if (copied)
        s->uncommitted = 1; /* state now says "in the clone": only a commit may clear this */
    if (rc < 0)
        return rc; /* nothing half-copied is committed: the next tick repairs the copy first */
    if (s->uncommitted || s->in_place) {
        /* a failed commit (index.lock held, disk full) leaves the copies uncommitted while state already
         * counts them: retry it every tick until it succeeds, or the data would never be committed */
        rc = commit_copies(s);
        if (rc == 0)
            s->unpushed = 1;
        else if (rc != HF_ENOCHANGES)
            return rc;
        s->uncommitted = 0;
    }
    if (!s->unpushed)
        return hf_error_set(HF_ENOCHANGES, "nothing new in %s since the last scheduled commit", s->folder);
    if ((rc = push_now(s)) < 0)
        return rc;
    s->unpushed = 0;
    return 0;
}

static int run_tick(hf_scheduler *s)
{
    pthread_mutex_lock(&s->tick_mu);
    int rc = tick(s);
    pthread_mutex_unlock(&s->tick_mu);
    pthread_mutex_lock(&s->mu);
    s->last_rc = rc == HF_ENOCHANGES ? 0 : rc;
    if (rc < 0 && rc != HF_ENOCHANGES) {
        free(s->last_error);
        s->last_error = strdup(hf_error_last_message());
    }
    pthread_mutex_unlock(&s->mu);
    if (rc < 0 && rc != HF_ENOCHANGES)
        hf_trace("scheduler for %s: %s (retrying at the next tick)", s->folder, hf_error_last_message());
    return rc;
}

static struct timespec deadline_after(double secs)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    time_t whole = (time_t)secs;
    t.tv_sec += whole;
    t.tv_nsec += (long)((secs - (double)whole) * 1e9);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void *scheduler_main(void *arg)
{
    hf_scheduler *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct timespec until = deadline_after(s->period_secs);
        int rc = 0;
        while (!s->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->wake, &s->mu, &until);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        run_tick(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* 1 when dir1 and dir2 name the same directory. */
static int same_dir(const char *dir1, const char *dir2)
{
    struct stat a, b;
    return stat(dir1, &a) == 0 && stat(dir2, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The options' path_in_repo without surrounding '/', checked to stay inside the work tree. */
static int normalize_path_in_repo(hf_scheduler *s, const char *p)
{
    while (p && *p == '/')
        p++;
    size_t n = p ? strlen(p) : 0;
    while (n && p[n - 1] == '/')
        n--;
    if (!(s->path_in_repo = strndup(p ? p : "", n)))
        return hf_error_set(HF_ENOMEM, "out of memory");
    char probe[PATH_MAX];
    if (n && hf_path_join_checked(hf_repo_workdir(s->repo), s->path_in_repo, probe, sizeof(probe)) < 0)
        return hf_error_prefix("hf_scheduler_start: path_in_repo: ");
    return 0;
}

static int init(hf_scheduler *s, const char *folder_path, const hf_scheduler_options *o)
{
    char abs[PATH_MAX];
    struct stat st;
    if (!realpath(folder_path, abs) || stat(abs, &st) < 0 || !S_ISDIR(st.st_mode))
        return hf_error_set(HF_ENOTFOUND, "hf_scheduler_start: %s is not a folder (%s); create it first",
                            folder_path, errno ? strerror(errno) : "not a directory");
    if (!(o->every_minutes > 0) || !(o->every_minutes < 1e9))
        return hf_error_set(HF_EINVAL, "hf_scheduler_start: every_minutes must be a positive number of minutes, "
                                       "not %g", o->every_minutes);
    s->period_secs = o->every_minutes * 60.0;
    int rc;
    if (!(s->folder = strdup(abs)) ||
        !(s->message = strdup(o->commit_message && o->commit_message[0] ? o->commit_message : "Scheduled commit")))
        return hf_error_set(HF_ENOMEM, "out of memory");
    if ((rc = normalize_path_in_repo(s, o->path_in_repo)) < 0 || (rc = strv_dup(&s->allow, o->allow_patterns)) < 0 ||
        (rc = strv_dup(&s->ignore, o->ignore_patterns)) < 0)
        return rc;
    hf_buf dest = HF_BUF_INIT;
    if (hf_buf_printf(&dest, "%s%s", hf_repo_workdir(s->repo), s->path_in_repo) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    s->in_place = same_dir(s->folder, dest.ptr);
    hf_buf_free(&dest);
    return 0;
}

int hf_scheduler_start(hf_scheduler **out, hf_repo *repo, const char *folder_path, const hf_scheduler_options *opts)
{
    static const hf_scheduler_options defaults = HF_SCHEDULER_OPTIONS_INIT;
    if (out)
        *out = NULL;
    if (!out || !repo || !folder_path)
        return hf_error_set(HF_EINVAL, "hf_scheduler_start: no scheduler pointer, repository or folder");
    if (!opts)
        opts = &defaults;
    if (opts->version != HF_SCHEDULER_OPTIONS_VERSION)
        return hf_error_set(HF_EINVAL, "hf_scheduler_options: version %u is not %d (use HF_SCHEDULER_OPTIONS_INIT)",
                            opts->version, HF_SCHEDULER_OPTIONS_VERSION);
    hf_scheduler *s = calloc(1, sizeof(*s));
    if (!s)
        return hf_error_set(HF_ENOMEM, "out of memory");
    s->repo = repo;
    s->uncommitted = 1; /* the first tick commits what an earlier run copied but could not commit */
    pthread_mutex_init(&s->writers, NULL);
    pthread_mutex_init(&s->tick_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    errno = 0;
    int rc = init(s, folder_path, opts);
    if (rc == 0 && pthread_create(&s->thread, NULL, scheduler_main, s) != 0)
        rc = hf_error_set(HF_ERROR, "hf_scheduler_start: cannot start the scheduler's thread");
    if (rc < 0) {
        hf_scheduler_free(s);
        return rc;
    }
    s->started = 1;
    *out = s;
    return 0;
}

void hf_scheduler_lock(hf_scheduler *s)
{
    if (s)
        pthread_mutex_lock(&s->writers);
}

void hf_scheduler_unlock(hf_scheduler *s)
{
    if (s)
        pthread_mutex_unlock(&s->writers);
}

int hf_scheduler_trigger(hf_scheduler *s)
{
    if (!s)
        return hf_error_set(HF_EINVAL, "hf_scheduler_trigger: no scheduler");
    return run_tick(s);
}

/* Ends the thread (at most once) and waits for a tick it is running. */
static void stop_thread(hf_scheduler *s)
{
    pthread_mutex_lock(&s->mu);
    int join = s->started && !s->joined;
    s->stop = 1;
    s->joined = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (join)
        pthread_join(s->thread, NULL);
}

int hf_scheduler_stop(hf_scheduler *s)
{
    if (!s)
        return hf_error_set(HF_EINVAL, "hf_scheduler_stop: no scheduler");
    stop_thread(s);
    int rc = run_tick(s); /* the last commit: what came since the last tick, and anything unpushed */
    return rc == HF_ENOCHANGES ? 0 : rc;
}

int hf_scheduler_last_error(hf_scheduler *s, char *buf, size_t size)
{
    if (!s)
        return HF_EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = s->last_rc;
    if (buf && size) {
        const char *m = rc < 0 && s->last_error ? s->last_error : "";
        size_t n = strlen(m) < size - 1 ? strlen(m) : size - 1;
        memcpy(buf, m, n);
        buf[n] = '\0';
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void hf_scheduler_free(hf_scheduler *s)
{
    if (!s)
        return;
    stop_thread(s);
    hf_sync_list_free(&s->copied);
    free(s->folder);
    free(s->path_in_repo);
    free(s->message);
    free(s->last_error);
    strv_free(s->allow);
    strv_free(s->ignore);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->tick_mu);
    pthread_mutex_destroy(&s->writers);
    free(s);
}
