/*
 * cmd_lfs_enable_largefiles.c: `hfgit lfs-enable-largefiles [--parallel N] [--uploads-only] [--global | PATH]`.
 *
 * Points git-lfs at git-lfs-hfmultipart, in the repository's own config (or the user's global config with
 * --global, so that clones get it too); the keys cannot come from .lfsconfig (reference/git-lfs-3.3.0.md §1):
 *   lfs.customtransfer.multipart.path       absolute path of the agent installed next to hfgit
 *   lfs.customtransfer.multipart.args       agent options ("" by default; overwrites huggingface_hub's
 *                                           "lfs-multipart-upload", which our agent would not need)
 *   lfs.customtransfer.multipart.direction  both (upload with --uploads-only)
 *   lfs.standalonetransferagent             multipart: git-lfs hands every transfer to the agent, which runs
 *                                           the batch API itself. Needed for downloads: servers (the Hub)
 *                                           answer "basic" for them, and git-lfs only gives a custom agent
 *                                           the objects of a batch answer that names it. (Unset with
 *                                           --uploads-only.)
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
    "usage: hfgit lfs-enable-largefiles [options] [PATH]\n"
    "       hfgit lfs-enable-largefiles --global [options]\n"
    "\n"
    "Configures the git repository at PATH (default: the current folder), or with --global your user's git\n"
    "config (every repository and every later `git clone`), so that git-lfs moves large files through\n"
    AGENT_PROGRAM ": uploads go up in parts (the Hub's \"multipart\" transfer), downloads come down as\n"
    "byte ranges in parallel (`git lfs fetch/pull`, `git checkout`, `git clone`), with retries, exact progress\n"
    "and resumable downloads. It sets:\n"
    "\n"
    "    lfs.customtransfer.multipart.path       the agent installed next to hfgit\n"
    "    lfs.customtransfer.multipart.args       agent options (--parallel)\n"
    "    lfs.customtransfer.multipart.direction  both (upload with --uploads-only)\n"
    "    lfs.standalonetransferagent             multipart: git-lfs hands every transfer to the agent, which\n"
    "                                            asks the LFS batch API itself (endpoint: lfs.url, else the\n"
    "                                            remote URL; credentials: `git credential fill`). Not set with\n"
    "                                            --uploads-only.\n"
    "\n"
    "and, for a repository, installs hfgit's pre-push hook (see `hfgit install-hooks --help`).\n"
    "`git push` needs git-lfs for this (a warning says so when it is not installed). Safe to run again.\n"
    "\n"
    "To undo (add --global for the global form; -C PATH for a repository elsewhere):\n"
    "    git config --unset lfs.standalonetransferagent\n"
    "    git config --remove-section lfs.customtransfer.multipart\n"
    "\n"
    "  --parallel N       parts uploaded at once per file (1 to 64, default 8)\n"
    "  --uploads-only     leave downloads to git-lfs (the setup of earlier versions)\n"
    "  --global           write to the global git config (~/.gitconfig) instead of a repository's\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

/* Opens the repository containing path; fails unless it has a work tree. Returns -1 or an exit status. */
static int open_work_tree(git_repository **repo, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        (void)fprintf(stderr, "hfgit lfs-enable-largefiles: %s is not a folder\n", path);
        return HF_CLI_EXIT_NOTFOUND;
    }
    if (git_repository_open_ext(repo, path, 0, NULL) != 0) {
        (void)fprintf(
            stderr,
            "hfgit lfs-enable-largefiles: %s is not in a git work tree (%s); clone or `git init` it "
            "first\n",
            path, git_msg());
        return HF_CLI_EXIT_NOTFOUND;
    }
    if (git_repository_is_bare(*repo)) {
        (void)fprintf(stderr,
                      "hfgit lfs-enable-largefiles: %s is a bare repository; large files are pushed from a "
                      "work tree\n",
                      path);
        return HF_CLI_EXIT_FAILED;
    }
    return -1;
}

static int set_key(git_config *cfg, const char *key, const char *value)
{
    if (git_config_set_string(cfg, key, value) != 0) {
        (void)fprintf(stderr, "hfgit lfs-enable-largefiles: cannot set %s: %s\n", key, git_msg());
        return HF_CLI_EXIT_FAILED;
    }
    hf_cli_say("  %s = %s\n", key, value);
    return -1;
}

int hf_cli_lfs_enable_largefiles(int argc, char **argv)
{
    const char *parallel = NULL, *dir = NULL;
    int global = 0, uploads_only = 0;
    const hf_cli_opt opts[] = {{"parallel", 0, HF_CLI_OPT_STRING, &parallel},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {"global", 0, HF_CLI_OPT_FLAG, &global},
                               {"uploads-only", 0, HF_CLI_OPT_FLAG, &uploads_only},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"lfs-enable-largefiles", usage_text, opts, 0, 1, NULL, 0};
    git_repository *repo = NULL;
    git_config *all = NULL, *local = NULL;
    char *agent = NULL, *lfs = NULL;
    hf_buf args = HF_BUF_INIT, where = HF_BUF_INIT;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out_args;
    /* PATH as install-hooks takes it: default ".", below -C DIR when relative */
    const char *arg = a.npos ? a.pos[0] : ".";
    hf_buf_printf(&where, "%s%s%s", dir && arg[0] != '/' ? dir : "", dir && arg[0] != '/' ? "/" : "", arg);
    const char *path = where.ptr;
    if (parallel) {
        char *end;
        long v = strtol(parallel, &end, 10);
        if (!*parallel || *end || v < 1 || v > 64) {
            rc = hf_cli_usage_error("lfs-enable-largefiles",
                                    "--parallel wants a number from 1 to 64, not \"%s\"", parallel);
            goto out_args;
        }
        hf_buf_printf(&args, "--parallel %ld", v);
    }
    if (!(agent = hf_cli_find_sibling_program(AGENT_PROGRAM))) {
        rc = hf_cli_fail("lfs-enable-largefiles", hf_error_last_code());
        goto out_args;
    }
    if (global && a.npos) {
        rc = hf_cli_usage_error("lfs-enable-largefiles", "--global takes no PATH");
        goto out_args;
    }
    git_libgit2_init();
    if (!global && (rc = open_work_tree(&repo, path)) >= 0) goto out;
    if ((global ? git_config_open_default(&all) : git_repository_config(&all, repo)) != 0 ||
        git_config_open_level(&local, all, global ? GIT_CONFIG_LEVEL_GLOBAL : GIT_CONFIG_LEVEL_LOCAL) != 0) {
        (void)fprintf(stderr, "hfgit lfs-enable-largefiles: cannot open the %s config: %s\n",
                      global ? "global" : "repository's", git_msg());
        rc = HF_CLI_EXIT_FAILED;
        goto out;
    }
    if (global)
        hf_cli_say("Set in the global git config:\n");
    else
        hf_cli_say("Set in %sconfig:\n", git_repository_path(repo));
    if ((rc = set_key(local, "lfs.customtransfer.multipart.path", agent)) >= 0 ||
        (rc = set_key(local, "lfs.customtransfer.multipart.args", hf_buf_cstr(&args))) >= 0 ||
        (rc = set_key(local, "lfs.customtransfer.multipart.direction", uploads_only ? "upload" : "both")) >= 0 ||
        (!uploads_only && (rc = set_key(local, "lfs.standalonetransferagent", "multipart")) >= 0))
        goto out;
    if (uploads_only && git_config_delete_entry(local, "lfs.standalonetransferagent") == 0)
        hf_cli_say("  lfs.standalonetransferagent removed\n");
    hf_cli_say("Undo with: git config%s --unset lfs.standalonetransferagent; "
               "git config%s --remove-section lfs.customtransfer.multipart\n",
               global ? " --global" : "", global ? " --global" : "");
    if (global) {
        hf_cli_say("Global git config set up for largefiles\n");
        rc = 0;
        goto out;
    }
    /* The pre-push hook catches non-LFS files over 10 MiB before anything is uploaded (and chains to
     * git-lfs's). The agent setup above stands on its own, so a hook that cannot be installed is a warning.
     */
    if (hf_cli_install_pre_push(git_repository_workdir(repo)) < 0)
        (void)fprintf(stderr, "hfgit lfs-enable-largefiles: warning: pre-push hook not installed: %s\n",
                      hf_error_last_message());
    /* the settings are for git-lfs: without it `git push` sends LFS files as bare pointers (or fails) */
    if (!(lfs = hf_cli_find_sibling_program("git-lfs")))
        (void)fprintf(
            stderr,
            "hfgit lfs-enable-largefiles: warning: git-lfs is not installed, and `git push` needs it to "
            "upload LFS files (apt-get install git-lfs && git lfs install); `hfgit push` does not\n");
    hf_cli_say("Local repo set up for largefiles\n");
    rc = 0;
out:
    git_config_free(local);
    git_config_free(all);
    git_repository_free(repo);
    git_libgit2_shutdown();
out_args:
    free(agent);
    free(lfs);
    hf_buf_free(&args);
    hf_buf_free(&where);
    free(a.pos);
    return rc;
}
