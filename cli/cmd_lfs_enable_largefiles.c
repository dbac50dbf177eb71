/*
 * cmd_lfs_enable_largefiles.c: `hfgit lfs-enable-largefiles [--parallel N] PATH`.
 *
 * Points git-lfs at git-lfs-hfmultipart for the "multipart" transfer the Hub picks for large files, in the
 * repository's own config (the keys cannot come from .lfsconfig, reference/git-lfs-3.3.0.md §1):
 *   lfs.customtransfer.multipart.path       absolute path of the agent installed next to hfgit
 *   lfs.customtransfer.multipart.args       agent options ("" by default; overwrites huggingface_hub's
 *                                           "lfs-multipart-upload", which our agent would not need)
 *   lfs.customtransfer.multipart.direction  upload (the agent only uploads; downloads stay on basic)
 * Running it again sets the same values: it is idempotent. Written with libgit2, so no shell quoting issues.
 */
#include "cli.h"

#include "../common/buf.h"
#include "../common/error.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AGENT_PROGRAM "git-lfs-hfmultipart"

static const char usage_text[] =
    "usage: hfgit lfs-enable-largefiles [--parallel N] PATH\n"
    "\n"
    "Configures the git repository at PATH so that `git push` uploads LFS files the Hub wants in parts\n"
    "(its \"multipart\" transfer, used for large files) through " AGENT_PROGRAM ": parts go up in\n"
    "parallel with retries and exact progress. Sets lfs.customtransfer.multipart.{path,args,direction}\n"
    "in PATH's .git/config, and installs hfgit's pre-push hook (see `hfgit install-hooks --help`).\n"
    "Safe to run again.\n"
    "\n"
    "  --parallel N   parts uploaded at once per file (default 8)\n";

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "hfgit lfs-enable-largefiles: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

/* Opens the repository containing path; fails unless it has a work tree. */
static int open_work_tree(git_repository **repo, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return fail("%s is not a directory%s", path, "");
    if (git_repository_open_ext(repo, path, 0, NULL) != 0)
        return fail("%s is not a git work tree (%s); clone or `git init` it first", path, git_msg());
    if (git_repository_is_bare(*repo)) {
        git_repository_free(*repo);
        *repo = NULL;
        return fail("%s is a bare repository; large files are pushed from a work tree%s", path, "");
    }
    return 0;
}

static int set_key(git_config *cfg, const char *key, const char *value)
{
    if (git_config_set_string(cfg, key, value) != 0) return fail("cannot set %s: %s", key, git_msg());
    printf("  %s = %s\n", key, value);
    return 0;
}

int hf_cli_lfs_enable_largefiles(int argc, char **argv)
{
    const char *path = NULL, *parallel = NULL;
    git_repository *repo = NULL;
    git_config *all = NULL, *local = NULL;
    char *agent = NULL;
    hf_buf args = HF_BUF_INIT;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc) {
            parallel = argv[++i];
            char *end;
            long v = strtol(parallel, &end, 10);
            if (!*parallel || *end || v < 1 || v > 64) {
                fprintf(stderr, "hfgit lfs-enable-largefiles: --parallel wants a number from 1 to 64\n");
                return 2;
            }
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "hfgit lfs-enable-largefiles: unexpected argument \"%s\"\n%s", argv[i],
                    usage_text);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (!(agent = hf_cli_find_sibling_program(AGENT_PROGRAM)))
        return fail("%s%s", hf_error_last_message(), "");
    if (parallel) hf_buf_printf(&args, "--parallel %s", parallel);

    git_libgit2_init();
    if (open_work_tree(&repo, path) != 0) goto out;
    if (git_repository_config(&all, repo) != 0 ||
        git_config_open_level(&local, all, GIT_CONFIG_LEVEL_LOCAL) != 0) {
        fail("cannot open the repository's config: %s%s", git_msg(), "");
        goto out;
    }
    printf("Set in %sconfig:\n", git_repository_path(repo));
    if (set_key(local, "lfs.customtransfer.multipart.path", agent) ||
        set_key(local, "lfs.customtransfer.multipart.args", hf_buf_cstr(&args)) ||
        set_key(local, "lfs.customtransfer.multipart.direction", "upload"))
        goto out;
    /* The pre-push hook catches non-LFS files over 10 MiB before anything is uploaded (and chains to
     * git-lfs's). The agent setup above stands on its own, so a hook that cannot be installed is a warning. */
    if (hf_cli_install_pre_push(git_repository_workdir(repo)) < 0)
        fprintf(stderr, "hfgit lfs-enable-largefiles: warning: pre-push hook not installed: %s\n",
                hf_error_last_message());
    printf("Local repo set up for largefiles\n");
    rc = 0;
out:
    git_config_free(local);
    git_config_free(all);
    git_repository_free(repo);
    git_libgit2_shutdown();
    free(agent);
    hf_buf_free(&args);
    return rc;
}
