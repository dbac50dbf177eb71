/*
 * upload_every.c: `hfgit upload REPO_ID FOLDER [PATH_IN_REPO] --every MINUTES` (upload.h), the guide's
 * `huggingface-cli upload training-model logs/ --every=10`: the library's commit scheduler (hf_scheduler_*)
 * runs on the upload's cache clone until SIGINT or SIGTERM, then makes a last commit of what is pending and the
 * command exits 0.
 *
 * The signals are blocked in every thread (the mask is set before the scheduler and the queue start their
 * threads, which inherit it) and taken by the main thread with sigtimedwait: no handler runs in the middle of
 * a commit, and the last commit happens on an ordinary code path.
 */
#include "upload.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A NULL-terminated copy of the list's pointers (the strings stay in argv). */
static const char **null_terminated(const hf_cli_list *l)
{
    const char **v = calloc(l->count + 1, sizeof(*v));
    for (size_t i = 0; v && i < l->count; i++)
        v[i] = l->items[i];
    return v;
}

/* Prints a tick's failure once (the scheduler retries at the next tick, losing nothing). */
static void report(hf_scheduler *s, char *last, size_t size)
{
    char msg[1024];
    int rc = hf_scheduler_last_error(s, msg, sizeof(msg));
    if (rc == 0) {
        last[0] = '\0';
        return;
    }
    if (strcmp(msg, last) == 0) return;
    (void)fprintf(stderr, "hfgit upload: a scheduled commit failed (tried again at the next one): %s\n", msg);
    (void)snprintf(last, size, "%s", msg);
}

int hf_upload_every(hf_repo *repo, const hf_upload_every_options *o)
{
    sigset_t stop_signals, old;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old);
    const char **allow = o->include->count ? null_terminated(o->include) : NULL;
    const char **ignore = o->exclude->count ? null_terminated(o->exclude) : NULL;
    hf_scheduler_options so = HF_SCHEDULER_OPTIONS_INIT;
    so.path_in_repo = o->path_in_repo && *o->path_in_repo ? o->path_in_repo : NULL;
    so.every_minutes = o->every_minutes;
    so.allow_patterns = allow;
    so.ignore_patterns = ignore;
    so.commit_message = o->message;
    hf_scheduler *s = NULL;
    char last[1024] = "";
    int rc = (o->include->count && !allow) || (o->exclude->count && !ignore)
                 ? hf_error_set(HF_ENOMEM, "out of memory")
                 : hf_scheduler_start(&s, repo, o->folder, &so);
    if (rc == 0) {
        hf_cli_note("hfgit upload: committing %s every %g minutes; stop with Ctrl-C or SIGTERM (a last commit "
                    "of what is pending is made first)\n",
                    o->folder, o->every_minutes);
        struct timespec tick = {1, 0};
        int sig;
        while ((sig = sigtimedwait(&stop_signals, NULL, &tick)) < 0 && (errno == EAGAIN || errno == EINTR))
            report(s, last, sizeof(last));
        hf_cli_note("hfgit upload: %s: making the last commit\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        rc = hf_scheduler_stop(s);
        if (rc == HF_ENOCHANGES) rc = 0;
        /* the scheduler's pushes are queued commands: all of them are done before the clone goes */
        if (rc == 0 && hf_repo_wait_for_commands(repo) < 0)
            rc = hf_error_set(HF_ERROR, "waiting for the scheduled pushes failed");
    }
    hf_scheduler_free(s);
    free(allow);
    free(ignore);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
