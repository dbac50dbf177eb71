/*
 * round_trip.c: the whole life of a new model repository with libhfgit, written from hfgit.h alone.
 *
 *   round_trip publish LOCAL_DIR REPO_ID   clone the (empty) repository, write a 12 MiB and a 20 MiB binary
 *                                          and a README, add them (large and binary files go to LFS),
 *                                          commit and push
 *   round_trip pull LOCAL_DIR REPO_ID      open that clone again and pull what others pushed since
 *
 * Build and run (tests/integration/t_lib_fresh_machine.sh does, against hfgit-hub):
 *
 *     cc -o round_trip round_trip.c $(pkg-config --cflags --libs hfgit)
 *     HF_TOKEN=hf_... ./round_trip publish my-model user/my-model
 *
 * The token comes from HF_TOKEN or the token file; HF_ENDPOINT picks another hub. The binaries are
 * pseudo-random (incompressible, and binary, so they are LFS-tracked whatever their size). On failure the
 * library's message is printed and the exit status is the negated error code.
 */
#include <hfgit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes `size` pseudo-random bytes (xorshift64, seeded) to LOCAL_DIR/name. */
static int write_random(hf_repo *repo, const char *name, size_t size, uint64_t seed)
{
    char path[4096];
    if (hf_repo_path(repo, name, path, sizeof path) < 0)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static uint64_t block[8192];
    uint64_t x = seed;
    for (size_t done = 0; done < size;) {
        for (size_t i = 0; i < sizeof block / sizeof block[0]; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            block[i] = x;
        }
        size_t n = size - done < sizeof block ? size - done : sizeof block;
        if (fwrite(block, 1, n, f) != n) {
            fclose(f);
            return -1;
        }
        done += n;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int write_text(hf_repo *repo, const char *name, const char *text)
{
    char path[4096];
    FILE *f = hf_repo_path(repo, name, path, sizeof path) == 0 ? fopen(path, "w") : NULL;
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int publish(hf_repo *repo)
{
    if (write_random(repo, "weights-12m.bin", (size_t)12 << 20, 12) < 0 ||
        write_random(repo, "weights-20m.bin", (size_t)20 << 20, 20) < 0 ||
        write_text(repo, "README.md", "# round trip\n\nTwo binaries in LFS, this file in git.\n") < 0) {
        fprintf(stderr, "round_trip: cannot write the files into %s\n", hf_repo_workdir(repo));
        return HF_EIO;
    }
    char id[41];
    int rc = hf_repo_add(repo, ".", 1);
    if (rc == 0)
        rc = hf_repo_commit_id(repo, "Two binaries and a README", id);
    if (rc == 0)
        rc = hf_repo_push(repo, NULL, NULL);
    if (rc == 0) {
        char *branch = NULL;
        if (hf_repo_current_branch(repo, &branch) == 0)
            printf("pushed %s to %s\n", id, branch);
        free(branch);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "publish") != 0 && strcmp(argv[1], "pull") != 0)) {
        fprintf(stderr, "usage: %s publish|pull LOCAL_DIR REPO_ID\n", argv[0]);
        return 2;
    }
    int rc = hf_init();
    if (rc < 0) {
        fprintf(stderr, "round_trip: %s\n", hf_error_last_message());
        return -rc;
    }
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.clone_from = argv[3]; /* clones when LOCAL_DIR is missing or empty, else opens that clone */
    hf_repo *repo = NULL;
    rc = hf_repo_open(&repo, argv[2], &opts);
    if (rc == 0)
        rc = strcmp(argv[1], "publish") == 0 ? publish(repo) : hf_repo_pull(repo, 0);
    if (rc < 0)
        fprintf(stderr, "round_trip %s: %s (%s)\n", argv[1], hf_error_last_message(), hf_error_code_name(rc));
    hf_repo_free(repo);
    hf_shutdown();
    return rc < 0 ? -rc : 0;
}
