/*
 * lib_train.c: libhfgit used the way a training loop uses it (issue 16), public API only, for
 * tests/integration/t_lib_train.sh and bench/train_loop.sh. Prints "key value" lines; exits 0 when every
 * expectation it checks itself held (else 1, with "FAIL ..." lines). DIR must be a clone already.
 *
 *   lib_train latency DIR          (hub capped at 1 MB/s) queues a push of an 8 MiB file; while it uploads,
 *                                  times is_clean, add, commit, queueing a second push and add_tag with a
 *                                  remote; checks callbacks, commit ids/URLs and the tag after the wait
 *   lib_train cancel DIR           (hub capped) queues a slow push and a second one, cancels the second
 *                                  before it starts; prints the commit each push sends; per-command
 *                                  completion callbacks (own payloads, also when cancelled) beside the
 *                                  repository's
 *   lib_train stall DIR            (hub knob git_push_stall_secs set) a queued push; prints its status,
 *                                  error and how long it took to fail
 *   lib_train bounded DIR          (hub capped) limit 1 without blocking: the second queued push is HF_EBUSY
 *   lib_train checkout-setup DIR   pushes a branch "big" with an 8 MiB LFS file, goes back to main
 *   lib_train checkout DIR         (hub capped, store emptied) checks out "big" on a second thread; times
 *                                  is_clean and head_hash while it downloads
 *   lib_train loop DIR STEPS MIB [--blocking] [--quiet]
 *                                  STEPS steps of a training loop: rewrite a MIB MiB file (changing bytes),
 *                                  add, commit, queue a push with auto_lfs_prune (or push blocking and
 *                                  prune every 5th step), clear finished records; the main thread's longest
 *                                  stall (commit, queueing the push, clear, the blocking run's prune: all but
 *                                  writing and hashing the checkpoint, the loop's own work), the longest add,
 *                                  RSS at step 10 and at the end
 */
#include "hfgit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond, ...)                                                                                          \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            printf("FAIL ");                                                                                   \
            printf(__VA_ARGS__);                                                                               \
            printf("\n");                                                                                      \
            failures++;                                                                                        \
        }                                                                                                      \
    } while (0)

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Peak-free current RSS in KiB (VmRSS). */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

/* Writes rel with `mib` MiB whose bytes depend on seed (so every step is a new LFS object). */
static int write_blob(hf_repo *repo, const char *rel, size_t mib, unsigned seed)
{
    char path[4096];
    if (hf_repo_path(repo, rel, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static unsigned char block[1 << 16];
    for (size_t i = 0; i < mib * 16; i++) {
        unsigned x = seed * 2654435761u + (unsigned)i * 40503u;
        for (size_t j = 0; j < sizeof(block); j += 4) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            memcpy(block + j, &x, 4);
        }
        if (fwrite(block, 1, sizeof(block), f) != sizeof(block)) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}

static int write_text(hf_repo *repo, const char *rel, const char *text)
{
    char path[4096];
    if (hf_repo_path(repo, rel, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static atomic_int callbacks;
static atomic_int callback_before_final; /* a callback saw status -1: must stay 0 */

static void on_done(hf_command *cmd, void *payload)
{
    (void)payload;
    if (hf_command_status(cmd) == -1)
        atomic_fetch_add(&callback_before_final, 1);
    atomic_fetch_add(&callbacks, 1);
}

/* A command's own completion callback (hf_push_options.on_done, hf_repo_enqueue_with_callback): each command
 * gets one of these as its payload, so a call with the wrong payload shows as the wrong command. */
typedef struct own_cb {
    atomic_int calls;
    atomic_int status;        /* the status the callback saw */
    hf_command *_Atomic seen; /* the command it was called with */
} own_cb;

static void on_own_done(hf_command *cmd, void *payload)
{
    own_cb *o = payload;
    atomic_store(&o->status, hf_command_status(cmd));
    atomic_store(&o->seen, cmd);
    atomic_fetch_add(&o->calls, 1);
}

static int noop_fn(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo;
    (void)cmd;
    (void)payload;
    return 0;
}

/* Prints and checks one own callback: called once, with its command, after the final status `want`. */
static void check_own(const char *name, own_cb *o, hf_command *cmd, int want)
{
    int calls = atomic_load(&o->calls), st = atomic_load(&o->status);
    int same = atomic_load(&o->seen) == cmd;
    printf("own_callback %s calls %d status %d same_command %d\n", name, calls, st, same);
    EXPECT(calls == 1 && same && st == want, "%s: %d calls, status %d (want %d), same command %d", name,
           calls, st, want, same);
}

/* Waits until c has moved LFS bytes (its upload runs), at most 30 s. */
static void wait_uploading(hf_command *c)
{
    for (int i = 0; i < 3000; i++) {
        uint64_t done, total;
        hf_command_progress(c, &done, &total);
        if (done > 0 || hf_command_is_done(c))
            return;
        usleep(10000);
    }
}

/* A second thread in network calls that must wait for the running push (one network operation per
 * repository at a time): a pull and a remote tag check. They must not hold the handle meanwhile. */
typedef struct net_caller {
    hf_repo *repo;
    double pull_ms, tag_ms;
    int pull_rc, tag_rc;
} net_caller;

static void *net_main(void *arg)
{
    net_caller *n = arg;
    double t0 = now_ms();
    n->pull_rc = hf_repo_pull(n->repo, 0);
    n->pull_ms = now_ms() - t0;
    t0 = now_ms();
    n->tag_rc = hf_repo_tag_exists(n->repo, "nope", "origin");
    n->tag_ms = now_ms() - t0;
    return NULL;
}

#define TIMED(label, expr)                                                                                     \
    do {                                                                                                       \
        double t0_ = now_ms();                                                                                 \
        int rc_ = (expr);                                                                                      \
        double ms_ = now_ms() - t0_;                                                                           \
        printf("%s_ms %.1f rc %d\n", label, ms_, rc_);                                                         \
        EXPECT(rc_ >= 0, "%s: %s", label, hf_error_last_message());                                            \
        if (ms_ > max_ms)                                                                                      \
            max_ms = ms_;                                                                                      \
    } while (0)

static int scenario_latency(hf_repo *repo)
{
    double max_ms = 0;
    hf_command *first = NULL, *second = NULL;
    char head1[41], head2[41], id[41];
    EXPECT(hf_repo_set_command_callback(repo, on_done, NULL) == 0, "set callback");
    EXPECT(write_blob(repo, "weights.bin", 8, 1) == 0, "write weights");
    EXPECT(hf_repo_add(repo, ".", 1) == 0, "add: %s", hf_error_last_message());
    EXPECT(hf_repo_commit_id(repo, "step 1", head1) == 0, "commit: %s", hf_error_last_message());
    EXPECT(hf_repo_push(repo, NULL, &first) == 0, "queue push 1: %s", hf_error_last_message());
    wait_uploading(first);
    printf("uploading %d\n", !hf_command_is_done(first));
    EXPECT(!hf_command_is_done(first), "the first push finished before the timed calls (cap not set?)");
    net_caller nc = {repo, 0, 0, 0, 0};
    pthread_t net_thread;
    pthread_create(&net_thread, NULL, net_main, &nc);
    usleep(200000); /* let it reach the network wait */
    TIMED("is_clean", hf_repo_is_clean(repo));
    EXPECT(write_text(repo, "log.txt", "step 2\n") == 0, "write log");
    TIMED("add", hf_repo_add(repo, ".", 1));
    TIMED("commit", hf_repo_commit_id(repo, "step 2", head2));
    TIMED("queue_push", hf_repo_push(repo, NULL, &second));
    TIMED("add_tag", hf_repo_add_tag(repo, "step-100", NULL, "origin"));
    TIMED("head_hash", hf_repo_head_hash(repo, id));
    printf("still_uploading %d\n", !hf_command_is_done(first));
    pthread_join(net_thread, NULL);
    /* they waited for the push (seconds at 1 MB/s) while the calls above went through */
    printf("pull_waited_ms %.1f rc %d tag_exists_ms %.1f rc %d\n", nc.pull_ms, nc.pull_rc, nc.tag_ms, nc.tag_rc);
    EXPECT(nc.pull_rc == 0 && nc.tag_rc == 0, "pull %d / tag_exists %d on the other thread", nc.pull_rc, nc.tag_rc);
    printf("max_call_ms %.1f\n", max_ms);
    /* the commit each queued push sends, and its page */
    EXPECT(hf_command_commit_id(first, id) == 0 && strcmp(id, head1) == 0, "push 1 sends %s, not %s", id, head1);
    EXPECT(hf_command_commit_id(second, id) == 0 && strcmp(id, head2) == 0, "push 2 sends %s, not %s", id, head2);
    char *url = NULL;
    EXPECT(hf_command_commit_url(second, &url) == 0 && url && strstr(url, head2), "commit url %s",
           url ? url : "(none)");
    printf("commit_url %s\n", url ? url : "");
    free(url);
    size_t queued = hf_repo_command_count(repo);
    hf_command *tag = hf_repo_command_at(repo, queued - 1);
    printf("tag_command %s\n", hf_command_title(tag));
    int failed = hf_repo_wait_for_commands_timeout(repo, 120000);
    printf("wait %d\n", failed);
    EXPECT(failed == 0, "wait_for_commands: %d (%s)", failed, hf_error_last_message());
    size_t n = hf_repo_command_count(repo);
    for (size_t i = 0; i < n; i++) {
        hf_command *c = hf_repo_command_at(repo, i);
        printf("command %zu %s status %d error \"%s\"\n", i, hf_command_title(c), hf_command_status(c),
               hf_command_error(c));
    }
    printf("commands %zu callbacks %d before_final %d\n", n, atomic_load(&callbacks),
           atomic_load(&callback_before_final));
    EXPECT((size_t)atomic_load(&callbacks) == n, "%d callbacks for %zu commands", atomic_load(&callbacks), n);
    EXPECT(atomic_load(&callback_before_final) == 0, "a callback ran before the status was final");
    printf("head2 %s\n", head2);
    size_t cleared = hf_repo_commands_clear_done(repo);
    printf("cleared %zu left %zu\n", cleared, hf_repo_command_count(repo));
    EXPECT(cleared == n && hf_repo_command_count(repo) == 0, "clear_done freed %zu of %zu", cleared, n);
    return 0;
}

static int scenario_cancel(hf_repo *repo)
{
    hf_command *slow = NULL, *later = NULL, *fn_cmd = NULL, *fn_cancelled = NULL, *plain = NULL;
    own_cb cb_slow = {0}, cb_later = {0}, cb_fn = {0}, cb_fn_cancelled = {0};
    char head1[41], head2[41];
    /* the repository's callback: only for commands without their own */
    EXPECT(hf_repo_set_command_callback(repo, on_done, NULL) == 0, "set callback");
    EXPECT(write_blob(repo, "big.bin", 4, 7) == 0, "write big");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit_id(repo, "slow", head1) == 0, "commit 1");
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    po.on_done = on_own_done;
    po.on_done_payload = &cb_slow;
    EXPECT(hf_repo_push(repo, &po, &slow) == 0, "queue 1: %s", hf_error_last_message());
    EXPECT(write_text(repo, "later.txt", "later\n") == 0, "write later");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit_id(repo, "later", head2) == 0, "commit 2");
    po.on_done_payload = &cb_later;
    EXPECT(hf_repo_push(repo, &po, &later) == 0, "queue 2: %s", hf_error_last_message());
    /* queued functions: one with its own callback, one cancelled before it starts, one with the repo's */
    EXPECT(hf_repo_enqueue_with_callback(repo, "own", noop_fn, NULL, on_own_done, &cb_fn, &fn_cmd) == 0,
           "enqueue");
    EXPECT(hf_repo_enqueue_with_callback(repo, "own, cancelled", noop_fn, NULL, on_own_done, &cb_fn_cancelled,
                                         &fn_cancelled) == 0,
           "enqueue 2");
    EXPECT(hf_repo_enqueue(repo, "plain", noop_fn, NULL, &plain) == 0, "enqueue plain");
    int rc = hf_command_cancel(later);
    printf("cancel_rc %d status_at_once %d\n", rc, hf_command_status(later));
    EXPECT(rc == 0 && hf_command_status(later) == -HF_ECANCELLED, "cancel before start: rc %d status %d", rc,
           hf_command_status(later));
    EXPECT(hf_command_cancel(later) == HF_EINVAL, "cancelling twice is HF_EINVAL");
    EXPECT(hf_command_cancel(fn_cancelled) == 0, "cancel the queued function before it starts");
    int failed = hf_repo_wait_for_commands(repo);
    printf("wait %d slow %d later %d error \"%s\"\n", failed, hf_command_status(slow), hf_command_status(later),
           hf_command_error(later));
    check_own("slow_push", &cb_slow, slow, 0);
    check_own("cancelled_push", &cb_later, later, -HF_ECANCELLED);
    check_own("function", &cb_fn, fn_cmd, 0);
    check_own("cancelled_function", &cb_fn_cancelled, fn_cancelled, -HF_ECANCELLED);
    /* the repository's callback: the plain function only, not the four with their own */
    printf("callbacks %d\n", atomic_load(&callbacks));
    EXPECT(atomic_load(&callbacks) == 1, "%d repository callbacks for 1 command without its own",
           atomic_load(&callbacks));
    printf("sent %s\nnot_sent %s\n", head1, head2);
    return 0;
}

static int scenario_stall(hf_repo *repo)
{
    hf_command *c = NULL;
    EXPECT(write_text(repo, "stall.txt", "stall\n") == 0, "write");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit(repo, "stall") == 0, "commit");
    double t0 = now_ms();
    EXPECT(hf_repo_push(repo, NULL, &c) == 0, "queue: %s", hf_error_last_message());
    int w = hf_repo_wait_for_commands_timeout(repo, 300000);
    printf("wait %d status %d seconds %.1f\n", w, hf_command_status(c), (now_ms() - t0) / 1000);
    printf("error %s\n", hf_command_error(c));
    return 0;
}

static int scenario_bounded(hf_repo *repo)
{
    hf_command *a = NULL, *b = NULL;
    EXPECT(hf_repo_set_queue_limit(repo, 1, 0) == 0, "limit");
    EXPECT(write_blob(repo, "bounded.bin", 3, 9) == 0, "write");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit(repo, "bounded 1") == 0, "commit 1");
    EXPECT(hf_repo_push(repo, NULL, &a) == 0, "queue 1: %s", hf_error_last_message());
    EXPECT(write_text(repo, "b.txt", "b\n") == 0, "write b");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit(repo, "bounded 2") == 0, "commit 2");
    double t0 = now_ms();
    int rc = hf_repo_push(repo, NULL, &b);
    printf("second_rc %d ms %.1f message %s\n", rc, now_ms() - t0, hf_error_last_message());
    EXPECT(rc == HF_EBUSY && b == NULL, "the second push: %d", rc);
    /* blocking mode: the same push waits for room instead, then goes */
    EXPECT(hf_repo_set_queue_limit(repo, 1, 1) == 0, "limit, blocking");
    rc = hf_repo_push(repo, NULL, &b);
    printf("blocking_rc %d first_done %d\n", rc, hf_command_is_done(a));
    EXPECT(rc == 0 && hf_command_is_done(a), "a blocking limit waits for the first push: rc %d", rc);
    EXPECT(hf_repo_wait_for_commands(repo) == 0, "wait");
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int scenario_loop(hf_repo *repo, int steps, size_t mib, int blocking, int quiet)
{
    double *stalls = calloc((size_t)steps, sizeof(double)); /* each step's, for the median and the 99th */
    int nstalls = 0;
    EXPECT(stalls != NULL, "out of memory");
    if (!stalls)
        return 1;
    double worst = 0, worst_add = 0, worst_commit = 0, worst_commit_cpu = 0, worst_queue = 0, worst_prune = 0;
    double t_start = now_ms();
    long rss10 = -1, rss_end = -1;
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    /* a queued push prunes what it pushed on the worker thread, as a training loop should ask; the blocking
     * run prunes on the caller's thread every 5th step (its stall is not the one measured) */
    po.auto_lfs_prune = !blocking;
    for (int i = 1; i <= steps; i++) {
        char msg[64];
        snprintf(msg, sizeof(msg), "checkpoint %d", i);
        /* the "training": writing the checkpoint is the loop's own work, not a stall */
        EXPECT(write_blob(repo, "model.bin", mib, (unsigned)i) == 0, "write step %d", i);
        double ta = now_ms();
        int rc = hf_repo_add(repo, ".", 1); /* hashing the checkpoint: CPU work proportional to its size */
        double t0 = now_ms();
        if (t0 - ta > worst_add)
            worst_add = t0 - ta;
        double c0 = cpu_ms();
        if (rc == 0)
            rc = hf_repo_commit(repo, msg);
        double commit_cpu = cpu_ms() - c0;
        hf_command *c = NULL;
        double tq = now_ms();
        if (rc == 0)
            rc = hf_repo_push(repo, &po, blocking ? NULL : &c);
        double tq_end = now_ms();
        /* records of finished pushes and the store's already-pushed objects go, so nothing accumulates */
        if (!blocking)
            (void)hf_repo_commands_clear_done(repo);
        size_t removed = 0;
        double tp = now_ms();
        if (rc == 0 && blocking && i % 5 == 0)
            rc = hf_repo_lfs_prune(repo, &removed, NULL);
        double t1 = now_ms();
        if (tq - t0 > worst_commit) {
            worst_commit = tq - t0;
            worst_commit_cpu = commit_cpu;
        }
        worst_queue = tq_end - tq > worst_queue ? tq_end - tq : worst_queue;
        worst_prune = t1 - tp > worst_prune ? t1 - tp : worst_prune;
        EXPECT(rc == 0, "step %d: %s", i, hf_error_last_message());
        if (rc < 0)
            break;
        /* a blocking push is the stall being compared against, so only queued runs count their calls */
        double stall = blocking ? (t1 - t0) - (tq_end - tq) : t1 - t0;
        if (stall > worst)
            worst = stall;
        stalls[nstalls++] = stall;
        if (!quiet)
            printf("step %d call_ms %.1f\n", i, stall);
        if (i == 10)
            rss10 = rss_kib();
    }
    int failed = hf_repo_wait_for_commands(repo);
    (void)hf_repo_commands_clear_done(repo);
    (void)hf_repo_lfs_prune(repo, NULL, NULL);
    rss_end = rss_kib();
    printf("steps %d mib %zu mode %s\n", steps, mib, blocking ? "blocking" : "queued");
    printf("longest_stall_ms %.1f\n", worst);
    qsort(stalls, (size_t)nstalls, sizeof(double), cmp_double);
    printf("stall_p50_ms %.1f stall_p99_ms %.1f\n", nstalls ? stalls[nstalls / 2] : 0.0,
           nstalls ? stalls[(nstalls * 99) / 100 < nstalls ? (nstalls * 99) / 100 : nstalls - 1] : 0.0);
    free(stalls);
    printf("longest_add_ms %.1f\n", worst_add);
    printf("longest_commit_ms %.1f longest_push_call_ms %.1f longest_prune_ms %.1f\n", worst_commit, worst_queue,
           worst_prune);
    /* CPU time of this thread during that commit: far below its wall time means it waited (a lock, the disk, or
     * no free core on a loaded machine), not that it had more work */
    printf("longest_commit_cpu_ms %.1f\n", worst_commit_cpu);
    printf("rss_kib_step10 %ld\nrss_kib_end %ld\n", rss10, rss_end);
    printf("total_s %.1f\n", (now_ms() - t_start) / 1000);
    printf("failed %d\n", failed);
    EXPECT(failed == 0, "%d pushes failed", failed);
    return 0;
}

/* --- checkout: the LFS download runs without the handle's lock ------------------------------------------ */

/* Setup (hub uncapped): a branch "big" with an 8 MiB LFS file, pushed; back on main. The test then empties
 * the store, so checking out "big" has to download the object. */
static int scenario_checkout_setup(hf_repo *repo)
{
    char id[41];
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    EXPECT(write_text(repo, "base.txt", "base\n") == 0, "write base");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit(repo, "base") == 0, "commit base: %s",
           hf_error_last_message());
    EXPECT(hf_repo_push(repo, NULL, NULL) == 0, "push main: %s", hf_error_last_message());
    EXPECT(hf_repo_checkout(repo, "big", 1) == 0, "new branch big: %s", hf_error_last_message());
    EXPECT(write_blob(repo, "big.bin", 8, 11) == 0, "write big");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit_id(repo, "big", id) == 0, "commit big: %s",
           hf_error_last_message());
    po.branch = "big";
    EXPECT(hf_repo_push(repo, &po, NULL) == 0, "push big: %s", hf_error_last_message());
    EXPECT(hf_repo_checkout(repo, "main", 0) == 0, "back to main: %s", hf_error_last_message());
    printf("big_commit %s\n", id);
    return 0;
}

static atomic_int download_started;

static int on_download(uint64_t done, uint64_t total, void *payload)
{
    (void)total;
    (void)payload;
    if (done > 0)
        atomic_store(&download_started, 1);
    return 0;
}

typedef struct checkout_caller {
    hf_repo *repo;
    atomic_int finished;
    int rc;
    double ms;
    char message[512];
} checkout_caller;

static void *checkout_main(void *arg)
{
    checkout_caller *c = arg;
    double t0 = now_ms();
    c->rc = hf_repo_checkout(c->repo, "big", 0);
    c->ms = now_ms() - t0;
    snprintf(c->message, sizeof(c->message), "%s", c->rc < 0 ? hf_error_last_message() : "");
    atomic_store(&c->finished, 1);
    return NULL;
}

/* (hub capped, the store emptied) one thread checks out "big", downloading 8 MiB; meanwhile is_clean and
 * head_hash on this thread are timed. */
static int scenario_checkout(hf_repo *repo)
{
    double max_ms = 0;
    char id[41];
    EXPECT(hf_repo_set_progress(repo, HF_PROGRESS_DOWNLOAD, on_download, NULL) == 0, "set progress");
    checkout_caller cc = {.repo = repo};
    atomic_init(&cc.finished, 0);
    pthread_t th;
    pthread_create(&th, NULL, checkout_main, &cc);
    for (int i = 0; i < 3000 && !atomic_load(&download_started) && !atomic_load(&cc.finished); i++)
        usleep(10000);
    printf("downloading %d\n", atomic_load(&download_started) && !atomic_load(&cc.finished));
    EXPECT(!atomic_load(&cc.finished), "the checkout finished before the timed calls (cap not set?)");
    TIMED("is_clean", hf_repo_is_clean(repo));
    TIMED("head_hash", hf_repo_head_hash(repo, id));
    TIMED("status_is_clean_again", hf_repo_is_clean(repo));
    printf("still_downloading %d\n", !atomic_load(&cc.finished));
    printf("head_during %s\n", id);
    pthread_join(th, NULL);
    printf("checkout_rc %d ms %.1f message %s\n", cc.rc, cc.ms, cc.message);
    EXPECT(cc.rc == 0, "checkout big: %s", cc.message);
    EXPECT(hf_repo_head_hash(repo, id) == 0, "head after");
    printf("head_after %s\n", id);
    printf("max_call_ms %.1f\n", max_ms);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: lib_train latency|cancel|stall|bounded|checkout-setup|checkout|loop DIR [...]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *cmd = argv[1], *dir = argv[2];
    if (hf_init() < 0) {
        fprintf(stderr, "lib_train: %s\n", hf_error_last_message());
        return 1;
    }
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.git_user = getenv("LIB_REPO_USER");
    opts.git_email = getenv("LIB_REPO_EMAIL");
    hf_repo *repo = NULL;
    if (hf_repo_open(&repo, dir, &opts) < 0) {
        fprintf(stderr, "lib_train: %s\n", hf_error_last_message());
        hf_shutdown();
        return 1;
    }
    int rc = 0;
    if (strcmp(cmd, "latency") == 0)
        rc = scenario_latency(repo);
    else if (strcmp(cmd, "cancel") == 0)
        rc = scenario_cancel(repo);
    else if (strcmp(cmd, "stall") == 0)
        rc = scenario_stall(repo);
    else if (strcmp(cmd, "bounded") == 0)
        rc = scenario_bounded(repo);
    else if (strcmp(cmd, "checkout-setup") == 0)
        rc = scenario_checkout_setup(repo);
    else if (strcmp(cmd, "checkout") == 0)
        rc = scenario_checkout(repo);
    else if (strcmp(cmd, "loop") == 0 && argc > 4) {
        int blocking = 0, quiet = 0;
        for (int i = 5; i < argc; i++) {
            blocking |= strcmp(argv[i], "--blocking") == 0;
            quiet |= strcmp(argv[i], "--quiet") == 0;
        }
        rc = scenario_loop(repo, atoi(argv[3]), (size_t)atol(argv[4]), blocking, quiet);
    } else {
        fprintf(stderr, "lib_train: unknown scenario %s\n", cmd);
        rc = 2;
    }
    hf_repo_free(repo);
    hf_shutdown();
    return failures ? 1 : rc;
}
