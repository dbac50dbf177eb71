/*
 * queue.c: the per-repository command queue (huggingface_hub's command_queue, but ordered and honest).
 *
 * One worker thread per repository, started by the first command, runs the commands in submission order.
 * The queue's mutex guards the list and the condition variables only; it is never held while a command runs,
 * so hf_command_* and the counting functions answer at once. A command's status is written last (release),
 * after its error text, so a reader that sees a final status (acquire) sees the text too.
 *
 * Queued pushes use a git_repository opened by the worker (libgit2 objects must not be shared between
 * threads, separate handles on one repository are fine) through a shadow hf_repo; queued functions get the
 * caller's handle and lock it through the public functions they call like any other thread.
 */
#include "repo.h"

#include "../common/error.h"
#include "../common/trace.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hf_command {
    char *title;
    hf_command_fn fn;
    void *payload;
    void (*payload_free)(void *);
    _Atomic int status;  /* -1 queued or running, 0 done, > 0 failed */
    char *error;         /* set before status becomes final; "" when none */
    _Atomic uint64_t done, total;
    struct hf_queue *queue;
};

typedef struct hf_queue {
    pthread_mutex_t mu;
    pthread_cond_t work;   /* a command was queued, or stop */
    pthread_cond_t idle;   /* a command finished */
    pthread_t thread;
    hf_command **cmds;
    size_t count, cap, next; /* cmds[next..count) are waiting */
    int running;             /* a command is running */
    int stop;
} hf_queue;

/* No command (NULL): a failure with HF_EINVAL's number, in the documented range (> 0), so that a loop
 * waiting for -1 to change ends; no command is neither done nor failed. */
int hf_command_status(const hf_command *c)
{
    if (!c)
        return -hf_error_set(HF_EINVAL, "hf_command_status: no command");
    return atomic_load_explicit(&c->status, memory_order_acquire);
}

int hf_command_is_done(const hf_command *c)
{
    return c && hf_command_status(c) != -1;
}

int hf_command_failed(const hf_command *c)
{
    return c && hf_command_status(c) > 0;
}

const char *hf_command_error(const hf_command *c)
{
    return c && hf_command_status(c) > 0 ? c->error : "";
}

const char *hf_command_title(const hf_command *c)
{
    return c ? c->title : "";
}

void hf_command_progress(const hf_command *c, uint64_t *done, uint64_t *total)
{
    if (done)
        *done = c ? atomic_load(&c->done) : 0;
    if (total)
        *total = c ? atomic_load(&c->total) : 0;
}

void hf_command_report_progress(hf_command *c, uint64_t done, uint64_t total)
{
    if (!c)
        return;
    atomic_store(&c->total, total);
    atomic_store(&c->done, done);
}

static void command_free(hf_command *c)
{
    if (c->payload_free)
        c->payload_free(c->payload);
    free(c->title);
    free(c->error);
    free(c);
}

/* Runs one command on the worker and publishes its outcome. */
static void run_command(hf_repo *r, hf_command *c)
{
    hf_error_clear();
    int rc = c->fn(r, c, c->payload);
    hf_buf msg = HF_BUF_INIT;
    if (rc < 0) {
        const char *m = hf_error_last_message();
        if (!m || !m[0] || hf_error_last_code() != rc)
            m = hf_error_code_name(rc);
        hf_buf_puts(&msg, m);
        hf_scrub_secret(&msg, r->token);
    }
    c->error = hf_buf_detach(&msg);
    hf_buf_free(&msg);
    if (!c->error)
        c->error = strdup("");
    atomic_store_explicit(&c->status, rc < 0 ? -rc : 0, memory_order_release);
}

/* The queue whose worker this thread is (NULL on other threads): tells a queued function's wait apart. */
static _Thread_local hf_queue *worker_of;

static void *worker_main(void *arg)
{
    hf_repo *r = arg;
    hf_queue *q = r->queue;
    worker_of = q;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->next == q->count && !q->stop)
            pthread_cond_wait(&q->work, &q->mu);
        if (q->next == q->count)
            break; /* stop, and nothing left */
        hf_command *c = q->cmds[q->next++];
        q->running = 1;
        pthread_mutex_unlock(&q->mu);
        run_command(r, c);
        pthread_mutex_lock(&q->mu);
        q->running = 0;
        pthread_cond_broadcast(&q->idle);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int hf_queue_on_worker(const hf_repo *r)
{
    return worker_of && worker_of == r->queue;
}

/* Creates the queue and starts its worker. Called with r->lock held (so no two callers race to create it). */
static int queue_start(hf_repo *r)
{
    hf_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return hf_error_set(HF_ENOMEM, "out of memory");
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->idle, NULL);
    r->queue = q;
    if (pthread_create(&q->thread, NULL, worker_main, r) != 0) {
        r->queue = NULL;
        pthread_cond_destroy(&q->work);
        pthread_cond_destroy(&q->idle);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return hf_error_set(HF_ERROR, "cannot start the repository's worker thread");
    }
    return 0;
}

/* Queues a command; payload_free (may be NULL) frees payload when the repository is freed. */
static int enqueue(hf_repo *r, const char *title, hf_command_fn fn, void *payload, void (*payload_free)(void *),
                   hf_command **out)
{
    hf_command *c = calloc(1, sizeof(*c));
    if (!c || !(c->title = strdup(title ? title : "command"))) {
        free(c);
        if (payload_free)
            payload_free(payload);
        return hf_error_set(HF_ENOMEM, "out of memory");
    }
    c->fn = fn;
    c->payload = payload;
    c->payload_free = payload_free;
    atomic_init(&c->status, -1);
    atomic_init(&c->done, 0);
    atomic_init(&c->total, 0);
    hf_repo_lock(r);
    int rc = r->queue ? 0 : queue_start(r);
    if (rc == 0) {
        hf_queue *q = r->queue;
        pthread_mutex_lock(&q->mu);
        if (q->count == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 16;
            hf_command **cmds = realloc(q->cmds, cap * sizeof(hf_command *));
            if (!cmds)
                rc = hf_error_set(HF_ENOMEM, "out of memory");
            else {
                q->cmds = cmds;
                q->cap = cap;
            }
        }
        if (rc == 0) {
            c->queue = q;
            q->cmds[q->count++] = c;
            pthread_cond_signal(&q->work);
        }
        pthread_mutex_unlock(&q->mu);
    }
    hf_repo_unlock(r);
    if (rc < 0) {
        command_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

int hf_repo_enqueue(hf_repo *repo, const char *title, hf_command_fn fn, void *payload, hf_command **out)
{
    if (out)
        *out = NULL;
    if (!repo || !fn)
        return hf_error_set(HF_EINVAL, "hf_repo_enqueue: no repository or function");
    return enqueue(repo, title, fn, payload, NULL, out);
}

/* --- queued pushes ----------------------------------------------------------------------------------------- */

typedef struct push_job {
    hf_push_options opts;
    char *remote;
    char *branch;
    char *tmp_ref;            /* refs/hfgit/push/<pid>-<n>: the commit to push, pinned when queued */
    hf_command *cmd;          /* for progress */
    hf_progress_cb user_cb;
    void *user_payload;
} push_job;

static void push_job_free(void *p)
{
    push_job *j = p;
    free(j->remote);
    free(j->branch);
    free(j->tmp_ref);
    free(j);
}

static int push_progress(uint64_t done, uint64_t total, void *payload)
{
    push_job *j = payload;
    hf_command_report_progress(j->cmd, done, total);
    return j->user_cb ? j->user_cb(done, total, j->user_payload) : 0;
}

static int run_push(hf_repo *r, hf_command *cmd, void *payload)
{
    push_job *j = payload;
    j->cmd = cmd;
    /* the worker's own libgit2 handle: the caller may be using r->git right now */
    git_repository *git = NULL;
    if (git_repository_open_ext(&git, r->workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
        return hf_repo_git_error(HF_ERROR, "the queued push cannot open the repository");
    hf_repo shadow;
    hf_repo_shadow(&shadow, r, git);
    int rc = hf_repo_push_branch(&shadow, &j->opts, j->branch, j->tmp_ref);
    if (rc == 0 && j->opts.auto_lfs_prune) {
        /* pruning deletes store files that an add on the caller's thread might be re-creating: take the lock */
        hf_repo_lock(r);
        rc = hf_repo_lfs_prune_unlocked(&shadow, NULL, NULL);
        hf_repo_unlock(r);
    }
    git_reference *pin = NULL;
    if (git_reference_lookup(&pin, git, j->tmp_ref) == 0)
        git_reference_delete(pin);
    git_reference_free(pin);
    git_error_clear();
    git_repository_free(git);
    return rc;
}

/* Pins the branch's current commit under a ref of our own, so that the push sends what was committed when it
 * was queued (as the reference's `git push` process, started at once, does), whatever happens to the branch
 * meanwhile. */
static int pin_commit(hf_repo *r, push_job *j) /* r->lock held */
{
    hf_buf name = HF_BUF_INIT, branch_ref = HF_BUF_INIT;
    git_oid tip;
    git_reference *pin = NULL;
    int rc = 0;
    if (hf_buf_printf(&branch_ref, "refs/heads/%s", j->branch) < 0 ||
        hf_buf_printf(&name, "refs/hfgit/push/%ld-%lu", (long)getpid(), ++r->pins) < 0)
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    else if (git_reference_name_to_id(&tip, r->git, branch_ref.ptr) < 0)
        rc = hf_repo_git_error(HF_EINVAL, "nothing to push");
    else if (git_reference_create(&pin, r->git, name.ptr, &tip, 1, "hfgit: queued push") < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot record the commit to push");
    if (rc == 0 && !(j->tmp_ref = hf_buf_detach(&name)))
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    if (rc < 0)
        hf_error_prefix("queueing a push of %s: ", j->branch);
    git_reference_free(pin);
    hf_buf_free(&name);
    hf_buf_free(&branch_ref);
    return rc;
}

int hf_queue_push(hf_repo *r, const hf_push_options *opts, hf_command **out)
{
    push_job *j = calloc(1, sizeof(*j));
    hf_buf branch = HF_BUF_INIT;
    if (!j)
        return hf_error_set(HF_ENOMEM, "out of memory");
    int rc = opts->branch ? hf_buf_puts(&branch, opts->branch) : hf_repo_head_branch(r, &branch);
    if (rc < 0) {
        free(j);
        hf_buf_free(&branch);
        return hf_error_last_code() < 0 ? hf_error_last_code() : HF_ENOMEM;
    }
    j->opts = *opts;
    j->branch = hf_buf_detach(&branch);
    j->remote = strdup(opts->remote ? opts->remote : "origin");
    if (!j->branch || !j->remote) {
        push_job_free(j);
        return hf_error_set(HF_ENOMEM, "out of memory");
    }
    if ((rc = pin_commit(r, j)) < 0) {
        push_job_free(j);
        return rc;
    }
    j->opts.remote = j->remote;
    j->opts.branch = j->branch;
    j->user_cb = opts->progress;
    j->user_payload = opts->progress_payload;
    j->opts.progress = push_progress;
    j->opts.progress_payload = j;
    char *pin = strdup(j->tmp_ref);
    rc = enqueue(r, "push", run_push, j, push_job_free, out);
    git_reference *ref = NULL;
    if (rc < 0 && pin && git_reference_lookup(&ref, r->git, pin) == 0)
        git_reference_delete(ref); /* never queued: nobody else will remove the pin */
    git_reference_free(ref);
    free(pin);
    return rc;
}

/* --- waiting ----------------------------------------------------------------------------------------------- */

static size_t collect(hf_repo *r, int want_failed, hf_command **out, size_t cap)
{
    hf_queue *q = r ? r->queue : NULL;
    size_t n = 0;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->count; i++) {
        int st = hf_command_status(q->cmds[i]);
        if (want_failed ? st > 0 : st == -1) {
            if (out && n < cap)
                out[n] = q->cmds[i];
            n++;
        }
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t hf_repo_commands_failed(hf_repo *repo, hf_command **out, size_t cap)
{
    return collect(repo, 1, out, cap);
}

size_t hf_repo_commands_in_progress(hf_repo *repo, hf_command **out, size_t cap)
{
    return collect(repo, 0, out, cap);
}

size_t hf_repo_command_count(hf_repo *repo)
{
    hf_queue *q = repo ? repo->queue : NULL;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->mu);
    size_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

hf_command *hf_repo_command_at(hf_repo *repo, size_t i)
{
    hf_queue *q = repo ? repo->queue : NULL;
    if (!q)
        return NULL;
    pthread_mutex_lock(&q->mu);
    hf_command *c = i < q->count ? q->cmds[i] : NULL;
    pthread_mutex_unlock(&q->mu);
    return c;
}

/* Waits (q->mu held) until nothing is queued or running. With notice,
 * traces what it waits for (HFGIT_TRACE) after 5 s, then every 10 s. */
static void wait_locked(hf_repo *r, hf_queue *q, int notice)
{
    time_t start = time(NULL), last = 0;
    for (;;) {
        if (q->next == q->count && !q->running)
            return;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&q->idle, &q->mu, &ts);
        time_t now = time(NULL);
        if (notice && now - start >= 5 && (!last || now - last >= 10)) {
            last = now;
            size_t waiting = q->count - q->next + (size_t)q->running;
            const char *first = q->cmds[q->next - (q->running ? 1 : 0)]->title;
            /* the caller's stderr is not the library's: the trace log (HFGIT_TRACE=1) says it */
            hf_trace("waiting for %zu queued command(s) of %s to finish before freeing it (%lds so far; the first "
                     "is \"%s\")",
                     waiting, r->workdir, (long)(now - start), first);
        }
    }
}

int hf_command_wait(hf_command *cmd)
{
    if (!cmd)
        return hf_error_set(HF_EINVAL, "hf_command_wait: no command");
    hf_queue *q = cmd->queue;
    if (worker_of == q)
        return hf_error_set(HF_EINVAL, "hf_command_wait called from a queued command: it could wait for itself");
    pthread_mutex_lock(&q->mu);
    while (hf_command_status(cmd) == -1)
        pthread_cond_wait(&q->idle, &q->mu);
    pthread_mutex_unlock(&q->mu);
    return hf_command_status(cmd);
}

int hf_repo_wait_for_commands(hf_repo *repo)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_wait_for_commands: no repository");
    hf_queue *q = repo->queue;
    if (!q)
        return 0;
    if (hf_queue_on_worker(repo))
        return hf_error_set(HF_EINVAL, "hf_repo_wait_for_commands called from a queued command: it would wait "
                                       "for itself");
    pthread_mutex_lock(&q->mu);
    wait_locked(repo, q, 0);
    pthread_mutex_unlock(&q->mu);
    return (int)hf_repo_commands_failed(repo, NULL, 0);
}

void hf_queue_shutdown(hf_repo *r)
{
    hf_queue *q = r->queue;
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    wait_locked(r, q, 1);
    q->stop = 1;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    for (size_t i = 0; i < q->count; i++)
        command_free(q->cmds[i]);
    free(q->cmds);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->idle);
    pthread_mutex_destroy(&q->mu);
    free(q);
    r->queue = NULL;
}
