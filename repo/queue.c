/*
 * queue.c: the per-repository command queue (huggingface_hub's command_queue, but ordered and honest).
 *
 * One worker thread per repository, started by the first command, runs the commands in submission order.
 * The queue's mutex guards the list, the counters and the condition variables only; it is never held while a
 * command runs, so hf_command_* and the counting functions answer at once. A command's status is written last
 * (release), after its error text, so a reader that sees a final status (acquire) sees the text too.
 *
 * Invariants (under mu): cmds[0..next) have been taken by the worker (the last of them is running when
 * `running`); cmds[next..count) wait, some perhaps already cancelled (final status, skipped when taken).
 * `finished` counts the commands the worker has finished or skipped since the start and `submitted` those ever
 * queued: both only grow, and since commands finish in order, "everything queued before me is done" is
 * `finished >= submitted-as-I-saw-it`, which survives hf_repo_commands_clear_done compacting the array.
 * `limited` counts the queued or running commands the bounded-queue limit applies to (pushes).
 *
 * Queued pushes and tag pushes (queue_push.c) use a git_repository of their own through a shadow hf_repo;
 * queued functions get the caller's handle and lock it through the public functions they call.
 */
#include "queue.h"

#include "../common/error.h"
#include "../common/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct hf_queue {
    pthread_mutex_t mu;
    pthread_cond_t work;   /* a command was queued, or stop */
    pthread_cond_t idle;   /* a command finished (or was cancelled), or room was made */
    pthread_t thread;
    hf_command **cmds;
    size_t count, cap, next;
    int running;           /* cmds[next - 1] is running */
    int stop;
    uint64_t submitted, finished;
    size_t limited;        /* queued or running commands that count against limit */
    size_t limit;          /* 0: unbounded */
    int limit_block;       /* 1: a push waits for room; 0: fails with HF_EBUSY */
    hf_command_done_cb done_cb; /* for commands queued from now on */
    void *done_payload;
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

int hf_command_cancel_requested(const hf_command *c)
{
    return c && atomic_load(&c->cancel);
}

int hf_command_commit_id(const hf_command *c, char out[41])
{
    if (!c || !out)
        return hf_error_set(HF_EINVAL, "hf_command_commit_id: no command or no place for the id");
    if (!c->commit_id[0])
        return hf_error_set(HF_ENOTFOUND, "command \"%s\" sends no commit", c->title);
    memcpy(out, c->commit_id, 41);
    return 0;
}

int hf_command_commit_url(const hf_command *c, char **out)
{
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_command_commit_url: no place for the URL");
    *out = NULL;
    if (!c)
        return hf_error_set(HF_EINVAL, "hf_command_commit_url: no command");
    if (!c->commit_url)
        return hf_error_set(HF_ENOTFOUND, "command \"%s\" sends no commit", c->title);
    if (!(*out = strdup(c->commit_url)))
        return hf_error_set(HF_ENOMEM, "out of memory");
    return 0;
}

static void command_free(hf_command *c)
{
    if (c->payload_free)
        c->payload_free(c->payload);
    free(c->title);
    free(c->error);
    free(c->commit_url);
    free(c);
}

/* Publishes an outcome: the error text first, then the status (release). */
static void command_finish(hf_command *c, int rc, const char *token)
{
    hf_buf msg = HF_BUF_INIT;
    if (rc < 0) {
        const char *m = hf_error_last_message();
        if (!m || !m[0] || hf_error_last_code() != rc)
            m = hf_error_code_name(rc);
        hf_buf_puts(&msg, m);
        hf_scrub_secret(&msg, token);
    }
    free(c->error);
    c->error = hf_buf_detach(&msg);
    hf_buf_free(&msg);
    if (!c->error)
        c->error = strdup("");
    atomic_store_explicit(&c->status, rc < 0 ? -rc : 0, memory_order_release);
}

/* Runs one command on the worker (or cleans up after one cancelled before it started), then its callback. */
static void run_command(hf_repo *r, hf_command *c, int skipped)
{
    if (skipped) {
        if (c->on_skip)
            c->on_skip(r, c->payload);
    } else {
        hf_error_clear();
        int rc = c->fn(r, c, c->payload);
        command_finish(c, rc, r->token);
    }
    if (c->done_cb)
        c->done_cb(c, c->done_payload);
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
        int skipped = hf_command_status(c) != -1; /* cancelled before it started */
        c->started = 1;
        q->running = 1;
        pthread_mutex_unlock(&q->mu);
        run_command(r, c, skipped);
        pthread_mutex_lock(&q->mu);
        q->running = 0;
        c->settled = 1;
        q->finished++;
        if (c->limited && !skipped)
            q->limited--; /* a cancelled one gave its place back when it was cancelled */
        pthread_cond_broadcast(&q->idle);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int hf_queue_on_worker(const hf_repo *r)
{
    return worker_of && worker_of == r->queue;
}

/* Creates the queue and starts its worker, once (r->lock serialises the callers). */
static int queue_get(hf_repo *r, hf_queue **out)
{
    hf_repo_lock(r);
    hf_queue *q = r->queue;
    int rc = 0;
    if (!q) {
        q = calloc(1, sizeof(*q));
        if (!q) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
            goto out;
        }
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->work, NULL);
        pthread_cond_init(&q->idle, NULL);
        q->limit_block = 1;
        r->queue = q;
        if (pthread_create(&q->thread, NULL, worker_main, r) != 0) {
            r->queue = NULL;
            pthread_cond_destroy(&q->work);
            pthread_cond_destroy(&q->idle);
            pthread_mutex_destroy(&q->mu);
            free(q);
            q = NULL;
            rc = hf_error_set(HF_ERROR, "cannot start the repository's worker thread");
        }
    }
out:
    hf_repo_unlock(r);
    *out = q;
    return rc;
}

int hf_queue_reserve(hf_repo *r)
{
    hf_queue *q;
    int rc = queue_get(r, &q);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&q->mu);
    if (q->limit && q->limited >= q->limit && (!q->limit_block || worker_of == q)) {
        size_t n = q->limited;
        pthread_mutex_unlock(&q->mu);
        return hf_error_set(HF_EBUSY, "the command queue of %s is full: %zu pushes are queued or running (limit "
                            "%zu); the link is slower than the pushes are made: push less often or wait "
                            "(hf_repo_wait_for_commands)", r->workdir, n, q->limit);
    }
    while (q->limit && q->limited >= q->limit)
        pthread_cond_wait(&q->idle, &q->mu);
    q->limited++;
    pthread_mutex_unlock(&q->mu);
    return 0;
}

void hf_queue_unreserve(hf_repo *r)
{
    hf_queue *q = r->queue;
    pthread_mutex_lock(&q->mu);
    q->limited--;
    pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->mu);
}

int hf_queue_add(hf_repo *r, const hf_queue_item *item, hf_command **out)
{
    hf_command *c = calloc(1, sizeof(*c));
    if (!c || !(c->title = strdup(item->title ? item->title : "command")) ||
        (item->commit_url && !(c->commit_url = strdup(item->commit_url)))) {
        if (c)
            free(c->title);
        free(c);
        if (item->payload_free)
            item->payload_free(item->payload);
        return hf_error_set(HF_ENOMEM, "out of memory");
    }
    c->fn = item->fn;
    c->payload = item->payload;
    c->payload_free = item->payload_free;
    c->on_skip = item->on_skip;
    c->limited = item->limited;
    if (item->commit_id)
        memcpy(c->commit_id, item->commit_id, 41);
    atomic_init(&c->status, -1);
    atomic_init(&c->done, 0);
    atomic_init(&c->total, 0);
    atomic_init(&c->cancel, 0);
    hf_queue *q;
    int rc = queue_get(r, &q);
    if (rc == 0) {
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
            /* its own callback, else the repository's as it is now (decided here, under mu) */
            c->done_cb = item->done_cb ? item->done_cb : q->done_cb;
            c->done_payload = item->done_cb ? item->done_payload : q->done_payload;
            q->cmds[q->count++] = c;
            q->submitted++;
            pthread_cond_signal(&q->work);
        }
        pthread_mutex_unlock(&q->mu);
    }
    if (rc < 0) {
        command_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

int hf_repo_enqueue_with_callback(hf_repo *repo, const char *title, hf_command_fn fn, void *payload,
                                  hf_command_done_cb on_done, void *on_done_payload, hf_command **out)
{
    if (out)
        *out = NULL;
    if (!repo || !fn)
        return hf_error_set(HF_EINVAL, "hf_repo_enqueue: no repository or function");
    hf_queue_item item = {title, fn, payload, NULL, NULL, 0, NULL, NULL,
                          on_done, on_done ? on_done_payload : NULL};
    return hf_queue_add(repo, &item, out);
}

int hf_repo_enqueue(hf_repo *repo, const char *title, hf_command_fn fn, void *payload, hf_command **out)
{
    return hf_repo_enqueue_with_callback(repo, title, fn, payload, NULL, NULL, out);
}

int hf_command_cancel(hf_command *c)
{
    if (!c)
        return hf_error_set(HF_EINVAL, "hf_command_cancel: no command");
    hf_queue *q = c->queue;
    int rc;
    pthread_mutex_lock(&q->mu);
    if (hf_command_status(c) != -1) {
        rc = hf_error_set(HF_EINVAL, "command \"%s\" has already finished", c->title);
    } else if (!c->started) {
        /* the worker skips it when it gets there; its place under the limit is free now */
        char *msg = strdup("cancelled before it started (hf_command_cancel): nothing was sent");
        if (msg) {
            free(c->error);
            c->error = msg;
        }
        atomic_store_explicit(&c->status, -HF_ECANCELLED, memory_order_release);
        if (c->limited)
            q->limited--;
        pthread_cond_broadcast(&q->idle);
        rc = 0;
    } else {
        atomic_store(&c->cancel, 1);
        rc = 1;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int hf_repo_set_command_callback(hf_repo *repo, hf_command_done_cb cb, void *payload)
{
    hf_queue *q;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_set_command_callback: no repository");
    int rc = queue_get(repo, &q);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&q->mu);
    q->done_cb = cb;
    q->done_payload = cb ? payload : NULL;
    pthread_mutex_unlock(&q->mu);
    return 0;
}

int hf_repo_set_queue_limit(hf_repo *repo, size_t max_pending, int block)
{
    hf_queue *q;
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_set_queue_limit: no repository");
    int rc = queue_get(repo, &q);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&q->mu);
    q->limit = max_pending;
    q->limit_block = block != 0;
    pthread_cond_broadcast(&q->idle); /* a larger limit makes room for waiting pushes */
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* --- listing ----------------------------------------------------------------------------------------------- */

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

size_t hf_repo_commands_clear_done(hf_repo *repo)
{
    hf_queue *q = repo ? repo->queue : NULL;
    size_t freed = 0, kept = 0;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->mu);
    /* only records the worker is done with: taken (index < next), not the running one */
    size_t done_upto = q->next - (q->running ? 1 : 0);
    for (size_t i = 0; i < q->count; i++) {
        hf_command *c = q->cmds[i];
        if (i < done_upto) {
            command_free(c);
            freed++;
        } else {
            q->cmds[kept++] = c;
        }
    }
    q->count = kept;
    q->next -= done_upto;
    pthread_mutex_unlock(&q->mu);
    return freed;
}

/* --- waiting ----------------------------------------------------------------------------------------------- */

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000L + (now.tv_nsec - start->tv_nsec) / 1000000L;
}

/* Waits (q->mu held) until the worker finished `target` commands, at most timeout_ms (< 0: no limit). With
 * notice, traces what it waits for (HFGIT_TRACE) after 5 s, then every 10 s. Returns 0 or HF_ETIMEOUT. */
static int wait_finished(hf_repo *r, hf_queue *q, uint64_t target, long timeout_ms, int notice)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long last = 0;
    while (q->finished < target) {
        long waited = ms_since(&start);
        if (timeout_ms >= 0 && waited >= timeout_ms)
            return HF_ETIMEOUT;
        long slice = timeout_ms >= 0 && timeout_ms - waited < 1000 ? timeout_ms - waited : 1000;
        struct timespec ts;
        deadline_in(&ts, slice);
        pthread_cond_timedwait(&q->idle, &q->mu, &ts);
        waited = ms_since(&start);
        if (notice && waited >= 5000 && (!last || waited - last >= 10000) && q->next - (q->running ? 1 : 0) < q->count) {
            last = waited;
            size_t first = q->next - (q->running ? 1 : 0);
            /* the caller's stderr is not the library's: the trace log (HFGIT_TRACE=1) says it */
            hf_trace("waiting for %zu queued command(s) of %s to finish before freeing it (%lds so far; the first "
                     "is \"%s\")",
                     q->count - first, r->workdir, waited / 1000, q->cmds[first]->title);
        }
    }
    return 0;
}

int hf_queue_wait_earlier(hf_repo *r)
{
    hf_queue *q = r->queue;
    if (!q || worker_of == q)
        return 0; /* on the worker, everything earlier has finished */
    pthread_mutex_lock(&q->mu);
    int rc = wait_finished(r, q, q->submitted, -1, 0);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int hf_command_wait(hf_command *cmd)
{
    if (!cmd)
        return hf_error_set(HF_EINVAL, "hf_command_wait: no command");
    hf_queue *q = cmd->queue;
    if (worker_of == q)
        return hf_error_set(HF_EINVAL, "hf_command_wait called from a queued command: it could wait for itself");
    pthread_mutex_lock(&q->mu);
    /* the status is final before the callback runs: a caller freeing the callback's payload once this returns
     * must find the callback returned, so with a callback wait until the worker is done with the command
     * (for one cancelled before it started, until the worker reaches it) */
    while (hf_command_status(cmd) == -1 || (cmd->done_cb && !cmd->settled))
        pthread_cond_wait(&q->idle, &q->mu);
    pthread_mutex_unlock(&q->mu);
    return hf_command_status(cmd);
}

int hf_repo_wait_for_commands_timeout(hf_repo *repo, long timeout_ms)
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
    int rc = wait_finished(repo, q, q->submitted, timeout_ms, 0);
    size_t left = q->submitted - q->finished;
    pthread_mutex_unlock(&q->mu);
    if (rc < 0)
        return hf_error_set(HF_ETIMEOUT, "%zu queued command(s) of %s still queued or running after %ld ms", left,
                            repo->workdir, timeout_ms);
    return (int)hf_repo_commands_failed(repo, NULL, 0);
}

int hf_repo_wait_for_commands(hf_repo *repo)
{
    return hf_repo_wait_for_commands_timeout(repo, -1);
}

void hf_queue_shutdown(hf_repo *r)
{
    hf_queue *q = r->queue;
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    wait_finished(r, q, q->submitted, -1, 1);
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
