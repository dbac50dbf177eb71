/* test_queue.c: the command queue without a network: queued functions on a local repository run in
 * submission order on one worker thread, each keeps its own status and error, a failure does not stop the
 * next, waits and counts agree, and a function cannot wait for itself. Run under TSan by
 * `make BUILD=build-tsan SAN=thread build-tsan/tests/test_queue` + `BUILD=build-tsan TESTS=test_queue`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hfgit.h"

#include <git2.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct order {
    pthread_mutex_t mu;
    int seen[64];
    int n;
    pthread_t threads[64];
} order;

typedef struct job {
    order *o;
    int id;
    int rc;
} job;

static int record(hf_repo *repo, hf_command *cmd, void *payload)
{
    job *j = payload;
    usleep(2000); /* long enough for the caller to queue more meanwhile */
    pthread_mutex_lock(&j->o->mu);
    j->o->threads[j->o->n] = pthread_self();
    j->o->seen[j->o->n++] = j->id;
    pthread_mutex_unlock(&j->o->mu);
    hf_command_report_progress(cmd, (uint64_t)j->id, 100);
    char sha[41];
    (void)hf_repo_head_hash(repo, sha); /* a queued function may call the API: it locks like any thread */
    if (j->rc < 0)
        return hf_error_set(j->rc, "job %d failed on purpose", j->id);
    return 0;
}

static int waits_for_itself(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)payload;
    int rc = hf_repo_wait_for_commands(repo);
    int rc2 = hf_command_wait(cmd);
    return rc == HF_EINVAL && rc2 == HF_EINVAL ? 0 : hf_error_set(HF_ERROR, "waiting for itself was allowed");
}

static hf_repo *open_temp_repo(char *dir)
{
    strcpy(dir, "/tmp/hfgit-test-queue.XXXXXX");
    assert_non_null(mkdtemp(dir));
    git_repository *g = NULL;
    assert_int_equal(git_repository_init(&g, dir, 0), 0);
    git_repository_free(g);
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    o.token = "hf_unit_secret";
    hf_repo *r = NULL;
    assert_int_equal(hf_repo_open(&r, dir, &o), 0);
    return r;
}

static void remove_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* --- queue controls (issue 16) --- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    int started;
} gate;

/* Runs until the gate opens, or until cancelled (its own safe point). */
static int gated(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo;
    gate *g = payload;
    pthread_mutex_lock(&g->mu);
    g->started = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open && !hf_command_cancel_requested(cmd)) {
        pthread_mutex_unlock(&g->mu);
        usleep(1000);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return hf_command_cancel_requested(cmd) ? hf_error_set(HF_ECANCELLED, "stopped at a safe point") : 0;
}

static int count_runs(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo;
    (void)cmd;
    __atomic_add_fetch((int *)payload, 1, __ATOMIC_SEQ_CST);
    return 0;
}

typedef struct calls {
    pthread_mutex_t mu;
    int n;
    int saw_running;     /* a callback saw status -1 */
    hf_command *seen[16];
} calls;

static void on_done(hf_command *cmd, void *payload)
{
    calls *c = payload;
    pthread_mutex_lock(&c->mu);
    if (hf_command_status(cmd) == -1)
        c->saw_running = 1;
    if (c->n < 16)
        c->seen[c->n] = cmd;
    c->n++;
    pthread_mutex_unlock(&c->mu);
}

static void test_cancel_callback_timeout_clear(void **state)
{
    (void)state;
    char dir[64];
    hf_repo *r = open_temp_repo(dir);
    calls cb = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {0}};
    assert_int_equal(hf_repo_set_command_callback(r, on_done, &cb), 0);
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    int runs = 0;
    hf_command *running = NULL, *waiting = NULL, *last = NULL;
    assert_int_equal(hf_repo_enqueue(r, "gated", gated, &g, &running), 0);
    assert_int_equal(hf_repo_enqueue(r, "never", count_runs, &runs, &waiting), 0);
    assert_int_equal(hf_repo_enqueue(r, "after", count_runs, &runs, &last), 0);
    pthread_mutex_lock(&g.mu);
    while (!g.started)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    /* a timed wait while the first runs: HF_ETIMEOUT, nothing changes */
    assert_int_equal(hf_repo_wait_for_commands_timeout(r, 50), HF_ETIMEOUT);
    assert_int_equal(hf_command_status(running), -1);
    /* not started: cancelled at once, never runs; running: asked to stop */
    assert_int_equal(hf_command_cancel(waiting), 0);
    assert_int_equal(hf_command_status(waiting), -HF_ECANCELLED);
    assert_int_equal(hf_command_cancel(waiting), HF_EINVAL);
    assert_int_equal(hf_command_cancel_requested(running), 0);
    assert_int_equal(hf_command_cancel(running), 1);
    assert_int_equal(hf_repo_wait_for_commands_timeout(r, 30000), 2); /* the cancelled two */
    assert_int_equal(hf_command_status(running), -HF_ECANCELLED);
    assert_int_equal(hf_command_status(last), 0);
    assert_int_equal(runs, 1); /* "after" ran, "never" did not */
    /* one callback per command, in order, after the status was final, all before the wait returned */
    assert_int_equal(cb.n, 3);
    assert_int_equal(cb.saw_running, 0);
    assert_ptr_equal(cb.seen[0], running);
    assert_ptr_equal(cb.seen[1], waiting);
    assert_ptr_equal(cb.seen[2], last);
    /* queued functions send no commit */
    char id[41];
    assert_int_equal(hf_command_commit_id(last, id), HF_ENOTFOUND);
    /* finished records go */
    assert_int_equal(hf_repo_commands_clear_done(r), 3);
    assert_int_equal(hf_repo_command_count(r), 0);
    assert_int_equal(hf_repo_commands_failed(r, NULL, 0), 0);
    assert_int_equal(hf_repo_enqueue(r, "again", count_runs, &runs, &last), 0);
    assert_int_equal(hf_repo_wait_for_commands(r), 0);
    assert_int_equal(runs, 2);
    assert_int_equal(hf_repo_command_count(r), 1);
    hf_repo_free(r);
    remove_dir(dir);
}

static void test_order_and_failures(void **state)
{
    (void)state;
    char dir[64];
    hf_repo *r = open_temp_repo(dir);
    assert_int_equal(hf_repo_command_count(r), 0);
    assert_int_equal(hf_repo_wait_for_commands(r), 0); /* nothing queued: returns at once */
    order o = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, {0}};
    enum { N = 20 };
    job jobs[N];
    hf_command *cmds[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (job){&o, i, i % 5 == 3 ? HF_EIO : 0};
        assert_int_equal(hf_repo_enqueue(r, i % 2 ? "odd" : "even", record, &jobs[i], &cmds[i]), 0);
    }
    assert_int_equal(hf_command_status(cmds[N - 1]), -1);
    assert_int_equal(hf_command_is_done(cmds[N - 1]), 0);
    assert_string_equal(hf_command_error(cmds[N - 1]), "");
    assert_true(hf_repo_commands_in_progress(r, NULL, 0) >= 1);
    assert_int_equal(hf_repo_wait_for_commands(r), 4); /* 3, 8, 13, 18 */
    assert_int_equal(hf_repo_commands_in_progress(r, NULL, 0), 0);
    assert_int_equal(o.n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(o.seen[i], i); /* submission order */
        assert_true(pthread_equal(o.threads[i], o.threads[0])); /* one worker */
        assert_false(pthread_equal(o.threads[i], pthread_self()));
        int want = i % 5 == 3 ? -HF_EIO : 0;
        assert_int_equal(hf_command_status(cmds[i]), want);
        assert_int_equal(hf_command_failed(cmds[i]), want > 0);
        assert_string_equal(hf_command_title(cmds[i]), i % 2 ? "odd" : "even");
        uint64_t done, total;
        hf_command_progress(cmds[i], &done, &total);
        assert_int_equal(done, (uint64_t)i);
        assert_int_equal(total, 100);
        if (want) {
            char msg[64];
            snprintf(msg, sizeof(msg), "job %d failed on purpose", i);
            assert_string_equal(hf_command_error(cmds[i]), msg);
        }
        assert_ptr_equal(hf_repo_command_at(r, (size_t)i), cmds[i]);
    }
    assert_null(hf_repo_command_at(r, N));
    hf_command *failed[8];
    assert_int_equal(hf_repo_commands_failed(r, failed, 2), 4);
    assert_ptr_equal(failed[0], cmds[3]);
    assert_ptr_equal(failed[1], cmds[8]);
    assert_int_equal(hf_command_wait(cmds[0]), 0);
    /* more work after a wait: the same worker carries on */
    hf_command *self = NULL;
    assert_int_equal(hf_repo_enqueue(r, "self", waits_for_itself, NULL, &self), 0);
    assert_int_equal(hf_command_wait(self), 0);
    hf_repo_free(r);
    remove_dir(dir);
}

static int leaks_token(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo;
    (void)cmd;
    (void)payload;
    return hf_error_set(HF_EAUTH, "server said: bad credentials hf_unit_secret");
}

static void test_error_never_holds_the_token(void **state)
{
    (void)state;
    char dir[64];
    hf_repo *r = open_temp_repo(dir);
    hf_command *c = NULL;
    assert_int_equal(hf_repo_enqueue(r, NULL, leaks_token, NULL, &c), 0);
    assert_int_equal(hf_command_wait(c), -HF_EAUTH);
    assert_string_equal(hf_command_title(c), "command");
    assert_string_equal(hf_command_error(c), "server said: bad credentials <token>");
    hf_repo_free(r);
    remove_dir(dir);
}

/* Several threads queue at once and read everything while the worker runs. */
typedef struct hammer {
    hf_repo *r;
    order *o;
    job jobs[10];
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    for (int i = 0; i < 10; i++) {
        hf_command *c = NULL;
        h->jobs[i] = (job){h->o, i, 0};
        hf_repo_enqueue(h->r, "h", record, &h->jobs[i], &c);
        (void)hf_command_status(c);
        (void)hf_repo_commands_failed(h->r, NULL, 0);
        (void)hf_repo_is_clean(h->r);
    }
    return NULL;
}

static void test_threads_queue_at_once(void **state)
{
    (void)state;
    char dir[64];
    hf_repo *r = open_temp_repo(dir);
    order o = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, {0}};
    hammer h[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        h[i].r = r;
        h[i].o = &o;
        pthread_create(&th[i], NULL, hammer_main, &h[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    hf_repo_free(r); /* waits for all 40 */
    assert_int_equal(o.n, 40);
    remove_dir(dir);
}

static int setup(void **state)
{
    (void)state;
    return hf_init();
}

static int teardown(void **state)
{
    (void)state;
    hf_shutdown();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_order_and_failures),
                                       cmocka_unit_test(test_error_never_holds_the_token),
                                       cmocka_unit_test(test_threads_queue_at_once),
                                       cmocka_unit_test(test_cancel_callback_timeout_clear)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
