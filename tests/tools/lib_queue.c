/*
 * lib_queue.c: scenarios for the command queue and the commit context of libhfgit (public API only), for
 * tests/integration/t_lib_queue.sh and t_lib_commit.sh. Each prints what it saw as "key value" lines and
 * exits 0 when every expectation it can check itself held (else 1, with "FAIL ..." lines).
 *
 *   lib_queue pushes     DIR N      N rounds of write/add/commit/queued push while a second thread polls the
 *                                   commands and reads the repository; prints "commit <i> <sha>" and statuses
 *   lib_queue badtoken   DIR        (HF_TOKEN is wrong) a queued push, then a failing and a succeeding queued
 *                                   function: prints each status and error
 *   lib_queue slowfree   DIR SECS   queues a function sleeping SECS, frees the repo at once: prints the wait
 *   lib_queue ctxend     DIR        hf_commit_end's command_out: non-blocking (the queued push, its
 *                                   commit), blocking and failed-body contexts (NULL)
 *   lib_queue commit     DIR MSG [--fail] [--branch B] [--nonblocking] [--no-track] [--prune]
 *                                   HF_REPO_COMMIT whose body writes <MSG-as-file>.txt (and fails with --fail)
 *
 * The clone is opened with clone_from NULL (DIR must be a clone already). LIB_REPO_USER/LIB_REPO_EMAIL as in
 * lib_repo.
 */
#include "hfgit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
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

static int write_file(hf_repo *repo, const char *rel, const char *text, size_t random_bytes)
{
    char path[4096];
    if (hf_repo_path(repo, rel, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs(text, f);
    if (random_bytes) {
        FILE *u = fopen("/dev/urandom", "rb");
        char buf[65536];
        for (size_t left = random_bytes; u && left;) {
            size_t n = left < sizeof(buf) ? left : sizeof(buf);
            if (fread(buf, 1, n, u) != n)
                break;
            fwrite(buf, 1, n, f);
            left -= n;
        }
        if (u)
            fclose(u);
    }
    return fclose(f);
}

/* --- pushes: acceptance 1 and the TSan workload ------------------------------------------------------------ */

typedef struct poller {
    hf_repo *repo;
    atomic_int stop;
    long polls;
    uint64_t max_total;
    int saw_partial; /* a command was seen with 0 < done < total: bytes reported while it ran */
} poller;

/* Reads everything a caller may read while commands run: accessors, counters, and repository queries. */
static void *poll_main(void *arg)
{
    poller *p = arg;
    while (!atomic_load(&p->stop)) {
        size_t n = hf_repo_command_count(p->repo);
        for (size_t i = 0; i < n; i++) {
            hf_command *c = hf_repo_command_at(p->repo, i);
            uint64_t done, total;
            hf_command_progress(c, &done, &total);
            if (total > p->max_total)
                p->max_total = total;
            if (done > 0 && done < total && hf_command_status(c) == -1)
                p->saw_partial = 1;
            (void)hf_command_status(c);
            (void)hf_command_title(c);
            (void)hf_command_error(c);
        }
        (void)hf_repo_commands_in_progress(p->repo, NULL, 0);
        char sha[41];
        (void)hf_repo_head_hash(p->repo, sha);
        (void)hf_repo_is_clean(p->repo);
        p->polls++;
        usleep(2000);
    }
    return NULL;
}

/* The progress callback of the queued push with the big file: the command's own counters must say the same
 * while it runs. */
typedef struct watch {
    hf_command *_Atomic cmd; /* set once hf_repo_push returned */
    atomic_int mid_calls;    /* callbacks with 0 < done < total */
    atomic_int matched;      /* ... where the command was running and reported exactly these numbers */
} watch;

static int watch_progress(uint64_t done, uint64_t total, void *payload)
{
    watch *w = payload;
    hf_command *c = atomic_load(&w->cmd);
    if (done > 0 && done < total) {
        atomic_fetch_add(&w->mid_calls, 1);
        uint64_t cd, ct;
        hf_command_progress(c, &cd, &ct);
        if (c && hf_command_status(c) == -1 && cd == done && ct == total)
            atomic_fetch_add(&w->matched, 1);
    }
    return 0;
}

static int scenario_pushes(hf_repo *repo, int n)
{
    watch w;
    atomic_init(&w.cmd, NULL);
    atomic_init(&w.mid_calls, 0);
    atomic_init(&w.matched, 0);
    poller p = {repo, 0, 0, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, poll_main, &p);
    hf_command **cmds = calloc((size_t)n, sizeof(*cmds));
    for (int i = 1; i <= n; i++) {
        char name[64], text[64], msg[64], sha[41];
        snprintf(name, sizeof(name), "round%d.txt", i);
        snprintf(text, sizeof(text), "round %d\n", i);
        snprintf(msg, sizeof(msg), "round %d", i);
        /* round 2 carries a 3 MiB binary file, so its push moves LFS bytes and reports progress */
        EXPECT(write_file(repo, name, text, 0) == 0, "write %s", name);
        if (i == 2)
            EXPECT(write_file(repo, "weights.bin", "", 3u << 20) == 0, "write weights.bin");
        EXPECT(hf_repo_add(repo, ".", 1) == 0, "add %d: %s", i, hf_error_last_message());
        EXPECT(hf_repo_commit_id(repo, msg, sha) == 0, "commit %d: %s", i, hf_error_last_message());
        printf("commit %d %s\n", i, sha);
        hf_push_options po = HF_PUSH_OPTIONS_INIT;
        if (i == 2) {
            po.progress = watch_progress;
            po.progress_payload = &w;
        }
        EXPECT(hf_repo_push(repo, &po, &cmds[i - 1]) == 0, "queue push %d: %s", i, hf_error_last_message());
        if (i == 2)
            atomic_store(&w.cmd, cmds[1]);
        int st = hf_command_status(cmds[i - 1]);
        printf("queued %d status %d\n", i, st);
        EXPECT(st == -1, "push %d: status right after queueing is %d, not -1", i, st);
        EXPECT(!hf_command_is_done(cmds[i - 1]), "push %d done at once", i);
    }
    size_t in_progress = hf_repo_commands_in_progress(repo, NULL, 0);
    printf("in_progress_before_wait %zu\n", in_progress);
    int failed = hf_repo_wait_for_commands(repo);
    printf("wait %d\n", failed);
    EXPECT(failed == 0, "wait_for_commands reports %d failed", failed);
    EXPECT(hf_repo_commands_in_progress(repo, NULL, 0) == 0, "commands still in progress after the wait");
    for (int i = 0; i < n; i++) {
        uint64_t done, total;
        hf_command_progress(cmds[i], &done, &total);
        printf("push %d status %d title %s progress %llu/%llu error \"%s\"\n", i + 1, hf_command_status(cmds[i]),
               hf_command_title(cmds[i]), (unsigned long long)done, (unsigned long long)total,
               hf_command_error(cmds[i]));
        EXPECT(hf_command_status(cmds[i]) == 0, "push %d status %d", i + 1, hf_command_status(cmds[i]));
        EXPECT(strcmp(hf_command_title(cmds[i]), "push") == 0, "title %s", hf_command_title(cmds[i]));
        EXPECT(done == total, "push %d progress %llu/%llu", i + 1, (unsigned long long)done,
               (unsigned long long)total);
    }
    atomic_store(&p.stop, 1);
    pthread_join(th, NULL);
    printf("polls %ld max_total %llu saw_partial %d\n", p.polls, (unsigned long long)p.max_total, p.saw_partial);
    printf("mid_progress_calls %d matched %d\n", atomic_load(&w.mid_calls), atomic_load(&w.matched));
    EXPECT(atomic_load(&w.matched) > 0 && atomic_load(&w.matched) == atomic_load(&w.mid_calls),
           "the command's progress did not follow the upload while it ran");
    EXPECT(p.max_total >= (3u << 20), "no command reported the 3 MiB upload (max total %llu)",
           (unsigned long long)p.max_total);
    free(cmds);
    return 0;
}

/* --- badtoken: acceptance 2 -------------------------------------------------------------------------------- */

static int fail_eio(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo;
    (void)cmd;
    (void)payload;
    return hf_error_set(HF_EIO, "the disk said no");
}

static int touch_marker(hf_repo *repo, hf_command *cmd, void *payload)
{
    hf_command_report_progress(cmd, 1, 1);
    /* a queued function may use the repository like any thread */
    char sha[41];
    if (hf_repo_head_hash(repo, sha) < 0)
        return hf_error_last_code();
    return write_file(repo, (const char *)payload, sha, 0) == 0 ? 0 : HF_EIO;
}

static int scenario_badtoken(hf_repo *repo)
{
    const char *bad = getenv("HF_TOKEN");
    hf_command *push = NULL, *eio = NULL, *marker = NULL;
    EXPECT(write_file(repo, "bad.txt", "bad token\n", 0) == 0, "write");
    EXPECT(hf_repo_add(repo, ".", 1) == 0 && hf_repo_commit(repo, "with a bad token") == 0, "commit: %s",
           hf_error_last_message());
    EXPECT(hf_repo_push(repo, NULL, &push) == 0, "queue: %s", hf_error_last_message());
    EXPECT(hf_repo_enqueue(repo, "eio", fail_eio, NULL, &eio) == 0, "enqueue eio");
    EXPECT(hf_repo_enqueue(repo, "marker", touch_marker, "marker.txt", &marker) == 0, "enqueue marker");
    printf("queued status %d %d %d\n", hf_command_status(push), hf_command_status(eio), hf_command_status(marker));
    int failed = hf_repo_wait_for_commands(repo);
    printf("wait %d\n", failed);
    printf("push status %d failed %d error \"%s\"\n", hf_command_status(push), hf_command_failed(push),
           hf_command_error(push));
    printf("eio status %d error \"%s\"\n", hf_command_status(eio), hf_command_error(eio));
    printf("marker status %d error \"%s\"\n", hf_command_status(marker), hf_command_error(marker));
    hf_command *list[4];
    size_t nf = hf_repo_commands_failed(repo, list, 4);
    printf("failed_count %zu first %s\n", nf, nf ? hf_command_title(list[0]) : "-");
    EXPECT(failed == 2 && nf == 2, "two failures expected, got %d/%zu", failed, nf);
    EXPECT(hf_command_status(push) > 0, "push status %d", hf_command_status(push));
    EXPECT(hf_command_status(eio) == -HF_EIO, "eio status %d", hf_command_status(eio));
    EXPECT(hf_command_status(marker) == 0, "marker status %d", hf_command_status(marker));
    EXPECT(!bad || !bad[0] || !strstr(hf_command_error(push), bad), "the token is in the error text");
    return 0;
}

/* --- slowfree ---------------------------------------------------------------------------------------------- */

static int sleeper(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)cmd;
    sleep((unsigned)(long)payload);
    return write_file(repo, "slept.txt", "slept\n", 0) == 0 ? 0 : HF_EIO;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- commit context: acceptance 3 -------------------------------------------------------------------------- */

/* hf_commit_end's command_out: a non-blocking context gives the queued push, whose commit is the one just
 * made (and opts->command, the older way, the same pointer); a blocking one and a failed body give NULL. */
typedef struct ctx_cb {
    atomic_int calls;
    atomic_int status;
    hf_command *_Atomic seen;
} ctx_cb;

static void on_ctx_done(hf_command *cmd, void *payload)
{
    ctx_cb *c = payload;
    atomic_store(&c->status, hf_command_status(cmd));
    atomic_store(&c->seen, cmd);
    atomic_fetch_add(&c->calls, 1);
}

static int scenario_ctxend(hf_repo *repo)
{
    hf_command *via_opts = (hf_command *)&via_opts, *out = (hf_command *)&out;
    ctx_cb cb = {0};
    hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
    co.blocking = 0;
    co.command = &via_opts;
    co.on_done = on_ctx_done; /* the queued push's own completion callback */
    co.on_done_payload = &cb;
    hf_commit_ctx *ctx = NULL;
    EXPECT(hf_commit_begin(&ctx, repo, "ctxend queued", &co) == 0, "begin: %s", hf_error_last_message());
    EXPECT(write_file(repo, "ctxend.txt", "queued\n", 0) == 0, "write");
    int rc = hf_commit_end(ctx, 0, &out);
    char head[41] = "", sent[41] = "";
    EXPECT(hf_repo_head_hash(repo, head) == 0, "head");
    int idrc = out ? hf_command_commit_id(out, sent) : -99;
    printf("queued_end rc %d command %s same_as_opts %d status %d\n", rc, out ? "set" : "NULL",
           out == via_opts, out ? hf_command_status(out) : -99);
    printf("queued_commit %s head %s\n", sent, head);
    EXPECT(rc == 0 && out && out == via_opts, "end: rc %d, command_out %p, opts->command %p", rc, (void *)out,
           (void *)via_opts);
    EXPECT(idrc == 0 && strcmp(sent, head) == 0, "the queued push sends %s, not the commit made, %s", sent,
           head);
    EXPECT(hf_command_wait(out) == 0, "the queued push: %s", hf_command_error(out));
    printf("queued_status_after_wait %d title %s\n", hf_command_status(out), hf_command_title(out));
    (void)hf_repo_wait_for_commands(repo); /* every callback has returned after it */
    printf("ctx_callback calls %d status %d same_command %d\n", atomic_load(&cb.calls),
           atomic_load(&cb.status), atomic_load(&cb.seen) == out);
    EXPECT(atomic_load(&cb.calls) == 1 && atomic_load(&cb.seen) == out, "the context's on_done: %d calls",
           atomic_load(&cb.calls));

    /* blocking: pushed before end returns, nothing queued */
    co.blocking = 1;
    co.command = NULL;
    out = (hf_command *)&out;
    EXPECT(hf_commit_begin(&ctx, repo, "ctxend blocking", &co) == 0, "begin 2: %s", hf_error_last_message());
    EXPECT(write_file(repo, "ctxend.txt", "blocking\n", 0) == 0, "write 2");
    rc = hf_commit_end(ctx, 0, &out);
    printf("blocking_end rc %d command %s\n", rc, out ? "set" : "NULL");
    EXPECT(rc == 0 && out == NULL, "blocking end: rc %d command %p", rc, (void *)out);
    EXPECT(atomic_load(&cb.calls) == 1, "a blocking context called on_done (%d calls)",
           atomic_load(&cb.calls));

    /* older options structs are still accepted: hf_commit_options version 2 (no on_done), hf_push_options
     * version 1 (no on_done) */
    /* each old struct is allocated at exactly its old size, so a read past it is an ASan error; a queued
     * push (the case where on_done would be read) */
    hf_command *v2cmd = NULL;
    hf_commit_options full2 = co;
    full2.version = 2;
    full2.blocking = 0;
    full2.command = &v2cmd;
    void *co2 = malloc(offsetof(hf_commit_options, on_done));
    memcpy(co2, &full2, offsetof(hf_commit_options, on_done));
    EXPECT(hf_commit_begin(&ctx, repo, "ctxend v2", co2) == 0, "begin with version 2: %s",
           hf_error_last_message());
    EXPECT(write_file(repo, "ctxend.txt", "version 2\n", 0) == 0, "write v2");
    EXPECT(hf_commit_end(ctx, 0, NULL) == 0, "end with version 2: %s", hf_error_last_message());
    free(co2);
    EXPECT(v2cmd && hf_command_wait(v2cmd) == 0, "the version 2 context's queued push");
    (void)hf_repo_wait_for_commands(repo);
    EXPECT(atomic_load(&cb.calls) == 1, "a version 2 context called on_done (%d calls)", atomic_load(&cb.calls));
    hf_push_options init = HF_PUSH_OPTIONS_INIT;
    init.version = 1;
    void *old = malloc(offsetof(hf_push_options, on_done));
    memcpy(old, &init, offsetof(hf_push_options, on_done));
    rc = hf_repo_push(repo, old, NULL);
    free(old);
    printf("v1_push_options rc %d\n", rc);
    EXPECT(rc == 0, "a version 1 hf_push_options: %s", hf_error_last_message());

    /* a failed body: nothing queued */
    co.blocking = 0;
    out = (hf_command *)&out;
    EXPECT(hf_commit_begin(&ctx, repo, "ctxend failed", &co) == 0, "begin 3: %s", hf_error_last_message());
    rc = hf_commit_end(ctx, 5, &out);
    printf("failed_end rc %d command %s\n", rc, out ? "set" : "NULL");
    EXPECT(rc == HF_ECANCELLED && out == NULL, "failed body: rc %d command %p", rc, (void *)out);
    /* no context at all: command_out still cleared */
    out = (hf_command *)&out;
    EXPECT(hf_commit_end(NULL, 0, &out) == HF_EINVAL && out == NULL, "end(NULL) clears command_out");
    return 0;
}

static int scenario_commit(hf_repo *repo, const char *msg, int fail, const char *branch, int nonblocking,
                           int track, int prune)
{
    int rc = 12345;
    hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
    co.result = &rc;
    co.branch = branch;
    co.blocking = !nonblocking;
    co.track_large_files = track;
    co.auto_lfs_prune = prune;
    int body_ran = 0;
    HF_REPO_COMMIT(repo, msg, &co)
    {
        body_ran = 1;
        char name[256];
        snprintf(name, sizeof(name), "%s.txt", msg);
        for (char *c = name; *c; c++)
            if (*c == ' ' || *c == '/')
                *c = '_';
        if (write_file(repo, name, msg, 0) < 0)
            HF_COMMIT_FAIL(-1);
        if (fail)
            HF_COMMIT_FAIL(3);
    }
    printf("body_ran %d\nresult %d\nmessage %s\n", body_ran, rc, rc < 0 ? hf_error_last_message() : "");
    if (nonblocking) {
        size_t n = hf_repo_command_count(repo);
        hf_command *last = n ? hf_repo_command_at(repo, n - 1) : NULL;
        printf("queued %zu last_status %d\n", n, last ? hf_command_status(last) : -99);
        printf("wait %d\n", hf_repo_wait_for_commands(repo));
        printf("last_status_after_wait %d\n", last ? hf_command_status(last) : -99);
    }
    return rc < 0 ? -rc : 0;
}

static atomic_int cb_entered, cb_returned;

static int nothing(hf_repo *repo, hf_command *cmd, void *payload)
{
    (void)repo, (void)cmd, (void)payload;
    return 0;
}

static void slow_done(hf_command *cmd, void *payload)
{
    (void)cmd, (void)payload;
    atomic_store(&cb_entered, 1);
    usleep(300000);
    atomic_store(&cb_returned, 1);
}

/* hf_command_wait returns after the command's own callback has returned (its payload may be freed then). */
static int scenario_cbwait(hf_repo *repo)
{
    hf_command *c = NULL;
    EXPECT(hf_repo_enqueue_with_callback(repo, "cbwait", nothing, NULL, slow_done, NULL, &c) == 0, "enqueue");
    while (!atomic_load(&cb_entered))
        usleep(1000);
    int st = hf_command_wait(c);
    printf("cbwait status %d callback_returned %d\n", st, atomic_load(&cb_returned));
    EXPECT(st == 0 && atomic_load(&cb_returned) == 1, "hf_command_wait returned %d before the callback did", st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lib_queue pushes|badtoken|slowfree|cbwait|ctxend|commit DIR [ARGS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *cmd = argv[1], *dir = argv[2];
    if (hf_init() < 0)
        return 1;
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.git_user = getenv("LIB_REPO_USER");
    opts.git_email = getenv("LIB_REPO_EMAIL");
    hf_repo *repo = NULL;
    if (hf_repo_open(&repo, dir, &opts) < 0) {
        fprintf(stderr, "lib_queue: %s\n", hf_error_last_message());
        hf_shutdown();
        return 1;
    }
    int rc = 0;
    if (strcmp(cmd, "pushes") == 0 && argc > 3) {
        rc = scenario_pushes(repo, atoi(argv[3]));
    } else if (strcmp(cmd, "badtoken") == 0) {
        rc = scenario_badtoken(repo);
    } else if (strcmp(cmd, "slowfree") == 0 && argc > 3) {
        long secs = atol(argv[3]);
        hf_command *c = NULL;
        EXPECT(hf_repo_enqueue(repo, "sleeper", sleeper, (void *)secs, &c) == 0, "enqueue");
        double t0 = now_s();
        hf_repo_free(repo); /* waits for the sleeper */
        repo = NULL;
        printf("free_waited %.1f\n", now_s() - t0);
    } else if (strcmp(cmd, "cbwait") == 0) {
        rc = scenario_cbwait(repo);
    } else if (strcmp(cmd, "ctxend") == 0) {
        rc = scenario_ctxend(repo);
    } else if (strcmp(cmd, "commit") == 0 && argc > 3) {
        const char *branch = NULL;
        int fail = 0, nonblocking = 0, track = 1, prune = 0;
        for (int i = 4; i < argc; i++) {
            if (strcmp(argv[i], "--fail") == 0)
                fail = 1;
            else if (strcmp(argv[i], "--nonblocking") == 0)
                nonblocking = 1;
            else if (strcmp(argv[i], "--no-track") == 0)
                track = 0;
            else if (strcmp(argv[i], "--prune") == 0)
                prune = 1;
            else if (strcmp(argv[i], "--branch") == 0 && i + 1 < argc)
                branch = argv[++i];
        }
        rc = scenario_commit(repo, argv[3], fail, branch, nonblocking, track, prune);
    } else {
        fprintf(stderr, "lib_queue: unknown scenario %s\n", cmd);
        rc = 2;
    }
    hf_repo_free(repo);
    hf_shutdown();
    if (failures)
        return 1;
    return rc;
}
