/*
 * lib_repo.c: a small program on the public API only (include/hfgit.h), for integration tests of libhfgit.
 *
 *   lib_repo open   DIR [CLONE_FROM] [--skip-lfs] [--revision REV]
 *                                                   clone (or open an existing clone of CLONE_FROM)
 *   lib_repo add    DIR PATHSPEC [--auto]           stage, with auto LFS tracking when --auto
 *   lib_repo commit DIR MESSAGE                     exit 10 when there was nothing to commit
 *   lib_repo push   DIR [--no-multipart]
 *   lib_repo pull   DIR [--rebase]
 *   lib_repo status DIR                             prints "clean" or "dirty"
 *
 * The token comes from the usual places (HF_TOKEN, the token file); HF_ENDPOINT resolves repo ids.
 * git_user/git_email come from LIB_REPO_USER/LIB_REPO_EMAIL when set; LIB_REPO_PROGRESS=1 prints push progress,
 * LIB_REPO_CANCEL=1 makes the progress callback cancel the push. On failure the library's message goes to
 * stderr and the exit status is the negated hf_error_code (so HF_ENOCHANGES is 10).
 */
#include "hfgit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return 1;
    return 0;
}

static int progress(uint64_t done, uint64_t total, void *payload)
{
    (void)payload;
    if (getenv("LIB_REPO_PROGRESS"))
        fprintf(stderr, "progress %llu/%llu\n", (unsigned long long)done, (unsigned long long)total);
    /* LIB_REPO_CANCEL=1 cancels the push from the first progress report */
    return getenv("LIB_REPO_CANCEL") ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lib_repo open|add|commit|push|pull DIR [ARGS]\n");
        return 2;
    }
    const char *cmd = argv[1], *dir = argv[2];
    if (hf_init() < 0) {
        fprintf(stderr, "lib_repo: hf_init: %s\n", hf_error_last_message());
        return 1;
    }
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.git_user = getenv("LIB_REPO_USER");
    opts.git_email = getenv("LIB_REPO_EMAIL");
    if (strcmp(cmd, "open") == 0) {
        opts.clone_from = argc > 3 && argv[3][0] != '-' ? argv[3] : NULL;
        opts.skip_lfs_files = has_flag(argc, argv, "--skip-lfs");
        for (int i = 3; i + 1 < argc; i++)
            if (strcmp(argv[i], "--revision") == 0)
                opts.revision = argv[i + 1];
    }
    hf_repo *repo = NULL;
    int rc = hf_repo_open(&repo, dir, &opts);
    if (rc == 0) {
        if (strcmp(cmd, "open") == 0) {
            rc = 0;
        } else if (strcmp(cmd, "add") == 0 && argc > 3) {
            rc = hf_repo_add(repo, argv[3], has_flag(argc, argv, "--auto"));
        } else if (strcmp(cmd, "commit") == 0 && argc > 3) {
            char id[41];
            rc = hf_repo_commit_id(repo, argv[3], id);
            if (rc == 0)
                printf("%s\n", id);
        } else if (strcmp(cmd, "push") == 0) {
            hf_push_options po = HF_PUSH_OPTIONS_INIT;
            po.multipart = !has_flag(argc, argv, "--no-multipart");
            po.progress = progress;
            rc = hf_repo_push(repo, &po, NULL);
        } else if (strcmp(cmd, "status") == 0) {
            rc = hf_repo_is_clean(repo);
            if (rc >= 0) {
                printf("%s\n", rc ? "clean" : "dirty");
                rc = 0;
            }
        } else if (strcmp(cmd, "pull") == 0) {
            rc = hf_repo_pull(repo, has_flag(argc, argv, "--rebase"));
        } else {
            fprintf(stderr, "lib_repo: unknown command or missing argument: %s\n", cmd);
            rc = -2;
        }
    }
    if (rc < 0 && rc != -2)
        fprintf(stderr, "lib_repo %s: %s (%s)\n", cmd, hf_error_last_message(), hf_error_code_name(rc));
    hf_repo_free(repo);
    hf_shutdown();
    return rc < 0 ? -rc : 0;
}
