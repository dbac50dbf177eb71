/* cmd_add.c: `hfgit add` and `hfgit commit`: staging with auto LFS tracking, and committing the index. */
#include "cli.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char add_help[] =
    "usage: hfgit add [options] PATHSPEC...\n"
    "\n"
    "Stages files (\".\" for everything; paths and globs relative to the current directory), honouring\n"
    ".gitignore and including deletions. Files of 10 MiB or more and binary files that are not LFS-tracked\n"
    "yet get a line in .gitattributes first (as huggingface_hub's auto-tracking does); LFS files are hashed\n"
    "and stored under .git/lfs/objects in constant memory.\n"
    "\n"
    "  --no-auto-track    do not add .gitattributes lines (files already tracked still go to LFS)\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static const char commit_help[] =
    "usage: hfgit commit -m MESSAGE [options]\n"
    "\n"
    "Commits the index on the current branch and prints the new commit id. The author is user.name and\n"
    "user.email from the git configuration. Nothing to commit is exit status 5.\n"
    "\n"
    "  -m, --message MSG  the commit message (required)\n"
    "  -a, --all          first stage everything, as `hfgit add .` does\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

/* The pathspec relative to the working tree: the current directory's prefix joined with arg. */
static void repo_path(hf_buf *out, const hf_buf *prefix, const char *arg)
{
    hf_buf_clear(out);
    if (strcmp(arg, ".") == 0 || strcmp(arg, "./") == 0)
        hf_buf_puts(out, prefix->len ? prefix->ptr : ".");
    else
        hf_buf_printf(out, "%s%s", prefix->ptr ? prefix->ptr : "",
                      strncmp(arg, "./", 2) == 0 ? arg + 2 : arg);
    /* "sub/" as a pathspec means the directory; libgit2 pathspecs want it without the slash */
    while (out->len > 1 && out->ptr[out->len - 1] == '/')
        out->ptr[--out->len] = '\0';
}

int hf_cli_add(int argc, char **argv)
{
    const char *dir = NULL;
    int no_auto = 0;
    const hf_cli_opt opts[] = {{"no-auto-track", 0, HF_CLI_OPT_FLAG, &no_auto},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"add", add_help, opts, 1, -1, NULL, 0};
    hf_repo *repo = NULL;
    hf_buf prefix = HF_BUF_INIT, path = HF_BUF_INIT;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0 || (rc = hf_cli_open("add", &repo, dir, &prefix)) != 0) goto out;
    for (int i = 0; i < a.npos && rc == 0; i++) {
        repo_path(&path, &prefix, a.pos[i]);
        if (hf_cli_verbosity() > 0) (void)fprintf(stderr, "hfgit add: staging %s\n", path.ptr);
        /* hashing progress on a terminal (large files are hashed into the LFS store while staged) */
        hf_cli_progress prog;
        hf_cli_progress_init(&prog, "Hashing");
        (void)hf_repo_set_progress(repo, HF_PROGRESS_HASH, hf_cli_progress_cb, &prog);
        int err = hf_repo_add(repo, path.ptr, !no_auto);
        (void)hf_repo_set_progress(repo, HF_PROGRESS_HASH, NULL, NULL);
        hf_cli_progress_end(&prog);
        if (err < 0) rc = hf_cli_fail("add", err);
    }
    hf_cli_close(repo);
out:
    hf_buf_free(&prefix);
    hf_buf_free(&path);
    free(a.pos);
    return rc;
}

int hf_cli_commit(int argc, char **argv)
{
    const char *dir = NULL, *message = NULL;
    int all = 0;
    const hf_cli_opt opts[] = {{"message", 'm', HF_CLI_OPT_STRING, &message},
                               {"all", 'a', HF_CLI_OPT_FLAG, &all},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"commit", commit_help, opts, 0, 0, NULL, 0};
    hf_repo *repo = NULL;
    char id[41];
    int rc = hf_cli_parse(&a, argc, argv);
    free(a.pos);
    if (rc >= 0) return rc;
    if (!message || !*message)
        return hf_cli_usage_error("commit", "a commit message is required (-m MESSAGE)");
    if ((rc = hf_cli_open("commit", &repo, dir, NULL)) != 0) return rc;
    rc = all ? hf_repo_add(repo, ".", 1) : 0;
    if (rc == 0 && (rc = hf_repo_commit_id(repo, message, id)) == HF_ENOCHANGES) {
        (void)fprintf(stderr, "hfgit commit: nothing to commit (stage changes with `hfgit add`)\n");
        rc = HF_CLI_EXIT_NOCHANGES;
    } else if (rc < 0) {
        rc = hf_cli_fail("commit", rc);
    } else {
        hf_cli_say("%s\n", id);
    }
    hf_cli_close(repo);
    return rc;
}
