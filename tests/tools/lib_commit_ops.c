/*
 * lib_commit_ops.c: hf_repo_create_commit and hf_repo_preupload_lfs on the public API only, for
 * t_lib_commit_ops.
 *
 *   lib_commit_ops commit CLONE MESSAGE OP...     one commit with these operations, pushed (blocking):
 *       add:PATH=FILE          ADD from a file
 *       mem:PATH=BYTES:SEED    ADD from memory: BYTES pseudo-random bytes (binary), freed right after the call
 *       text:PATH=TEXT         ADD from memory, text
 *       del:PATH               DELETE (a folder with a trailing '/')
 *       copy:SRC=DST           COPY at HEAD
 *     prints "rc N" (and the message on failure); exits with -N. LIB_OPS_BRANCH sets the options' branch;
 *     LIB_OPS_QUEUED=1 queues the push and prints "queued status S", then "push status S ERROR" after waiting.
 *   lib_commit_ops shards CLONE COUNT MIB [WAIT_FILE]
 *       generates COUNT shards of MIB MiB in memory one at a time, pre-uploads each alone and frees it (checking
 *       that data became NULL), prints "shard I OID" and the peak RSS so far; with WAIT_FILE prints
 *       "preuploaded" and waits for that file to exist; then one commit of all shards. Prints "peak_kib N"
 *       after the first shard and at the end, and "rc N".
 *
 * The token and endpoint come from HF_TOKEN / HF_ENDPOINT; the author from LIB_REPO_USER / LIB_REPO_EMAIL.
 */
#include "hfgit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *random_bytes(size_t n, uint64_t seed)
{
    unsigned char *p = malloc(n ? n : 1);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; p && i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
    return p;
}

static long peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static int open_repo(hf_repo **repo, const char *dir)
{
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    o.git_user = getenv("LIB_REPO_USER");
    o.git_email = getenv("LIB_REPO_EMAIL");
    if (hf_repo_open(repo, dir, &o) < 0) {
        fprintf(stderr, "open: %s\n", hf_error_last_message());
        return -1;
    }
    return 0;
}

/* Parses "kind:A=B" into op; buffers allocated here go to *owned (freed by the caller). */
static int parse_op(char *arg, hf_commit_op *op, void **owned)
{
    hf_commit_op init = HF_COMMIT_OP_INIT;
    *op = init;
    char *colon = strchr(arg, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    char *a = colon + 1, *eq = strchr(a, '=');
    if (eq)
        *eq = '\0';
    const char *b = eq ? eq + 1 : NULL;
    op->path_in_repo = a;
    if (!strcmp(arg, "add") && b) {
        op->local_path = b;
    } else if (!strcmp(arg, "mem") && b) {
        size_t n = strtoull(b, NULL, 10);
        const char *seed = strchr(b, ':');
        *owned = random_bytes(n, seed ? strtoull(seed + 1, NULL, 10) : 1);
        op->data = *owned;
        op->size = n;
    } else if (!strcmp(arg, "text") && b) {
        op->data = b;
        op->size = strlen(b);
    } else if (!strcmp(arg, "del")) {
        op->kind = HF_COMMIT_OP_DELETE;
    } else if (!strcmp(arg, "copy") && b) {
        op->kind = HF_COMMIT_OP_COPY;
        op->src_path_in_repo = a;
        op->path_in_repo = b;
    } else {
        return -1;
    }
    return 0;
}

static int run_commit(const char *dir, const char *message, int nops, char **args)
{
    hf_repo *repo;
    if (open_repo(&repo, dir) < 0)
        return 1;
    hf_commit_op *ops = calloc((size_t)nops, sizeof(*ops));
    void **owned = calloc((size_t)nops, sizeof(*owned));
    int rc = 0;
    for (int i = 0; i < nops && rc == 0; i++)
        if (parse_op(args[i], &ops[i], &owned[i]) < 0) {
            fprintf(stderr, "bad operation %s\n", args[i]);
            rc = HF_EINVAL;
        }
    hf_create_commit_options co = HF_CREATE_COMMIT_OPTIONS_INIT;
    co.branch = getenv("LIB_OPS_BRANCH");
    hf_command *cmd = NULL;
    if (rc == 0)
        rc = hf_repo_create_commit(repo, ops, (size_t)nops, message, &co, getenv("LIB_OPS_QUEUED") ? &cmd : NULL);
    printf("rc %d%s%s\n", rc, rc ? " " : "", rc ? hf_error_last_message() : "");
    if (cmd) {
        printf("queued status %d\n", hf_command_status(cmd));
        int st = hf_command_wait(cmd);
        printf("push status %d %s\n", st, hf_command_error(cmd));
        rc = st ? -st : 0;
    }
    for (int i = 0; i < nops; i++) {
        if (ops[i].kind == HF_COMMIT_OP_ADD && rc == 0)
            printf("op %d %s lfs %d oid %s data %s\n", i + 1, ops[i].path_in_repo, ops[i].lfs, ops[i].oid,
                   ops[i].data ? "kept" : "null");
        free(owned[i]);
    }
    free(ops);
    free(owned);
    hf_repo_free(repo);
    return -rc;
}

static int run_shards(const char *dir, int count, size_t mib, const char *wait_file)
{
    hf_repo *repo;
    if (open_repo(&repo, dir) < 0)
        return 1;
    hf_commit_op *ops = calloc((size_t)count, sizeof(*ops));
    char (*names)[64] = calloc((size_t)count, sizeof(*names));
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        hf_commit_op init = HF_COMMIT_OP_INIT;
        ops[i] = init;
        snprintf(names[i], sizeof(names[i]), "shards/shard-%03d.bin", i);
        void *buf = random_bytes(mib << 20, (uint64_t)i + 100);
        ops[i].path_in_repo = names[i];
        ops[i].data = buf;
        ops[i].size = mib << 20;
        rc = hf_repo_preupload_lfs(repo, &ops[i], 1);
        if (rc == 0 && ops[i].data) {
            fprintf(stderr, "shard %d: data is still set after pre-upload\n", i);
            rc = -1;
        }
        free(buf); /* at once: the library keeps no reference */
        if (rc == 0)
            printf("shard %d %s lfs %d uploaded %d\n", i, ops[i].oid, ops[i].lfs, ops[i].uploaded);
        if (i == 0)
            printf("peak_first_kib %ld\n", peak_kib());
    }
    if (rc == 0 && wait_file) {
        printf("preuploaded\n");
        fflush(stdout);
        while (access(wait_file, F_OK) != 0)
            usleep(50000);
    }
    if (rc == 0)
        rc = hf_repo_create_commit(repo, ops, (size_t)count, "shards", NULL, NULL);
    printf("peak_kib %ld\nrc %d%s%s\n", peak_kib(), rc, rc ? " " : "", rc ? hf_error_last_message() : "");
    free(ops);
    free(names);
    hf_repo_free(repo);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (hf_init() < 0)
        return 1;
    int rc = 2;
    if (argc >= 4 && strcmp(argv[1], "commit") == 0)
        rc = run_commit(argv[2], argv[3], argc - 4, argv + 4);
    else if (argc >= 5 && strcmp(argv[1], "shards") == 0)
        rc = run_shards(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10), argc > 5 ? argv[5] : NULL);
    else
        fprintf(stderr, "usage: lib_commit_ops commit CLONE MESSAGE OP... | shards CLONE COUNT MIB [WAIT_FILE]\n");
    hf_shutdown();
    return rc;
}
