/*
 * push_file.c: publish one (large) file to a Hub repository with libhfgit, no git binary involved.
 *
 *   push_file REPO LOCAL_DIR SOURCE [NAME_IN_REPO]
 *
 * REPO is a URL or a repo id (resolved against HF_ENDPOINT); the token comes from HF_TOKEN or the token file.
 * Clones REPO into LOCAL_DIR (or opens the existing clone), copies SOURCE into it, adds it with automatic LFS
 * tracking (files >= 10 MiB go to LFS; above the repo's multipart threshold the upload is multipart), commits
 * and pushes, printing upload progress.
 *
 * Build: cc push_file.c $(pkg-config --cflags --libs hfgit)
 */
#define _GNU_SOURCE /* copy_file_range */
#include <hfgit.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_progress(uint64_t done, uint64_t total, void *payload)
{
    double *last = payload;
    double t = now();
    if (t - *last >= 0.5 || done == total) {
        fprintf(stderr, "  uploading: %6.1f / %.1f MiB\n", (double)done / 1048576.0, (double)total / 1048576.0);
        *last = t;
    }
    return 0; /* non-zero would cancel the push */
}

/* Streams src into dst in the kernel (no user-space buffer, whatever the file size). */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY), out = -1, rc = -1;
    struct stat st;
    if (in < 0 || fstat(in, &st) || (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        goto done;
    for (off_t left = st.st_size; left > 0;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n <= 0)
            goto done;
        left -= n;
    }
    rc = 0;
done:
    if (rc)
        perror(dst);
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out))
        rc = -1;
    return rc;
}

static int fail(const char *what)
{
    fprintf(stderr, "push_file: %s: %s\n", what, hf_error_last_message());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s REPO LOCAL_DIR SOURCE [NAME_IN_REPO]\n", argv[0]);
        return 2;
    }
    const char *name = argc > 4 ? argv[4] : strrchr(argv[3], '/') ? strrchr(argv[3], '/') + 1 : argv[3];
    if (hf_init() < 0)
        return fail("init");

    hf_repo *repo = NULL;
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.clone_from = argv[1];
    if (hf_repo_open(&repo, argv[2], &opts) < 0)
        return fail("open");

    char dst[4096];
    snprintf(dst, sizeof(dst), "%s/%s", hf_repo_workdir(repo), name);
    if (copy_file(argv[3], dst))
        return 1;

    int rc = 0;
    double t0 = now(), last = 0;
    if (hf_repo_add(repo, name, 1) < 0) {
        rc = fail("add");
    } else if (hf_repo_commit(repo, "Add file with the libhfgit C API") < 0) {
        rc = fail("commit");
    } else {
        hf_push_options po = HF_PUSH_OPTIONS_INIT;
        po.progress = on_progress;
        po.progress_payload = &last;
        if (hf_repo_push(repo, &po, NULL) < 0)
            rc = fail("push");
    }
    if (rc == 0)
        printf("pushed %s in %.1f s (add + commit + push)\n", name, now() - t0);
    hf_repo_free(repo);
    hf_shutdown();
    return rc;
}
