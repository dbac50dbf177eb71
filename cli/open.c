/* open.c: opening the repository a command works on, found from a directory like git does (cli.h). */
#include "cli.h"

#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The working tree root containing dir (with a trailing '/'), via libgit2's discovery. */
static int discover_root(const char *dir, hf_buf *root)
{
    git_buf gitdir = {0};
    git_repository *git = NULL;
    int rc = HF_ENOTFOUND;
    if (git_repository_discover(&gitdir, dir, 0, NULL) == 0 && git_repository_open(&git, gitdir.ptr) == 0) {
        const char *wd = git_repository_workdir(git);
        if (wd) {
            hf_buf_clear(root);
            hf_buf_puts(root, wd);
            rc = 0;
        } else {
            hf_error_set(HF_EINVAL, "%s is a bare repository; hfgit works in a working tree", gitdir.ptr);
            rc = HF_EINVAL;
        }
    } else {
        hf_error_set(HF_ENOTFOUND, "%s is not inside a git repository; `hfgit clone REPO_ID` makes one", dir);
    }
    git_repository_free(git);
    git_buf_dispose(&gitdir);
    return rc;
}

/* prefix = realpath(cwd) relative to root, "" when cwd is outside the tree (paths are then used as given). */
static void cwd_prefix(const char *root, hf_buf *prefix)
{
    char cwd[PATH_MAX], real_root[PATH_MAX];
    hf_buf_clear(prefix);
    if (!getcwd(cwd, sizeof(cwd)) || !realpath(root, real_root)) return;
    size_t n = strlen(real_root);
    if (strncmp(cwd, real_root, n) != 0 || (cwd[n] != '/' && cwd[n] != '\0')) return;
    if (cwd[n] == '/' && cwd[n + 1]) hf_buf_printf(prefix, "%s/", cwd + n + 1);
}

int hf_cli_open(const char *cmd, hf_repo **out, const char *dir, hf_buf *prefix)
{
    hf_buf root = HF_BUF_INIT;
    int rc;
    *out = NULL;
    if ((rc = hf_init()) < 0) return hf_cli_fail(cmd, rc);
    /* -C DIR works as in git: as if started in DIR, so paths on the command line are relative to it */
    if (dir && chdir(dir) != 0) {
        (void)fprintf(stderr, "hfgit %s: cannot change to %s: %s\n", cmd, dir, strerror(errno));
        hf_shutdown();
        return HF_CLI_EXIT_NOTFOUND;
    }
    if ((rc = discover_root(".", &root)) == 0) {
        hf_repo_options opts = HF_REPO_OPTIONS_INIT;
        rc = hf_repo_open(out, hf_buf_cstr(&root), &opts);
    }
    if (rc == 0 && prefix) cwd_prefix(hf_buf_cstr(&root), prefix);
    hf_buf_free(&root);
    if (rc < 0) {
        hf_shutdown();
        return hf_cli_fail(cmd, rc);
    }
    return 0;
}

void hf_cli_close(hf_repo *repo)
{
    hf_repo_free(repo);
    hf_shutdown();
}
