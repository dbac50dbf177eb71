/*
 * cmd_status.c: `hfgit status`, in the format of `git status --short --branch`, with LFS files marked.
 *
 * Uses hf_repo_status: files whose stat data matches the index are not read, and a modified LFS file is
 * hashed by streaming it (libgit2's status would read it whole into memory). The branch line comes from
 * libgit2 directly.
 */
#include "cli.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: hfgit status [options]\n"
    "\n"
    "Shows the branch, how far it is ahead of or behind its upstream, and the changed files, one per line\n"
    "as `git status --short --branch` prints them (XY PATH: X the index, Y the working tree; ?? untracked),\n"
    "with \"  [lfs]\" after files stored in Git LFS. Prints \"clean\" when nothing changed.\n"
    "\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet        print nothing; the exit status says it: 0 clean, 1 changes\n"
    "  -v, --verbose\n";

static void print_branch(git_repository *git)
{
    git_reference *head = NULL, *up = NULL;
    if (git_repository_head(&head, git) < 0) {
        (void)printf("## No commits yet\n");
        return;
    }
    if (!git_reference_is_branch(head)) {
        (void)printf("## HEAD (no branch)\n");
    } else {
        (void)printf("## %s", git_reference_shorthand(head));
        if (git_branch_upstream(&up, head) == 0) {
            size_t ahead = 0, behind = 0;
            (void)printf("...%s", git_reference_shorthand(up));
            if (git_graph_ahead_behind(&ahead, &behind, git, git_reference_target(head),
                                       git_reference_target(up)) == 0 &&
                (ahead || behind)) {
                (void)printf(" [");
                if (ahead) printf("ahead %zu%s", ahead, behind ? ", " : "");
                if (behind) printf("behind %zu", behind);
                (void)printf("]");
            }
        }
        (void)printf("\n");
    }
    git_reference_free(up);
    git_reference_free(head);
}

/* Prints path as `git status --short` does (quote_path with core.quotePath): in double quotes with C escapes
 * when it holds a control character, '"', '\\', a space or (unless quote_high is 0) a byte of 0x80 or more,
 * so a name with a newline stays one entry. */
static void print_path(const char *path, int quote_high)
{
    int quote = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && !quote; p++)
        quote = *p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == ' ' || (*p >= 0x80 && quote_high);
    if (!quote) {
        (void)fputs(path, stdout);
        return;
    }
    (void)putchar('"');
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p >= 7 && *p <= 13)
            (void)printf("\\%c", "abtnvfr"[*p - 7]);
        else if (*p == '"' || *p == '\\')
            (void)printf("\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && quote_high))
            (void)printf("\\%03o", *p);
        else
            (void)putchar(*p);
    }
    (void)putchar('"');
}

int hf_cli_status(int argc, char **argv)
{
    const char *dir = NULL;
    const hf_cli_opt opts[] = {{"directory", 'C', HF_CLI_OPT_STRING, &dir}, {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"status", help, opts, 0, 0, NULL, 0};
    hf_repo *repo = NULL;
    git_repository *git = NULL;
    hf_status st = {NULL, 0};
    int rc = hf_cli_parse(&a, argc, argv);
    free(a.pos);
    if (rc >= 0 || (rc = hf_cli_open("status", &repo, dir, NULL)) != 0) return rc;
    if (git_repository_open(&git, hf_repo_workdir(repo)) < 0) {
        const git_error *e = git_error_last();
        (void)fprintf(stderr, "hfgit status: cannot open the repository: %s\n",
                      e ? e->message : "unknown error");
        rc = HF_CLI_EXIT_FAILED;
        goto out;
    }
    /* the library's status streams changed LFS files instead of reading them whole (libgit2's would) */
    if ((rc = hf_repo_status(repo, &st)) < 0) {
        rc = hf_cli_fail("status", rc);
        goto out;
    }
    rc = st.count ? 1 : 0;
    if (hf_cli_verbosity() < 0) goto out;
    print_branch(git);
    git_config *cfg = NULL;
    int quote_high = 1;
    if (git_repository_config_snapshot(&cfg, git) == 0 &&
        git_config_get_bool(&quote_high, cfg, "core.quotePath") < 0)
        quote_high = 1;
    git_config_free(cfg);
    for (size_t i = 0; i < st.count; i++) {
        const hf_status_entry *e = &st.entries[i];
        if (e->worktree_status == '?')
            (void)printf("?? ");
        else
            (void)printf("%c%c ", e->index_status, e->worktree_status);
        print_path(e->path, quote_high);
        (void)printf("%s\n", e->lfs ? "  [lfs]" : "");
    }
    if (st.count == 0) (void)printf("clean\n");
    rc = 0; /* with output, a dirty tree is not a failure */
out:
    hf_status_dispose(&st);
    git_repository_free(git);
    hf_cli_close(repo);
    return rc;
}
