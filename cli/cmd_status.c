/*
 * cmd_status.c: `hfgit status`, in the format of `git status --short --branch`, with LFS files marked.
 *
 * Uses libgit2's status with the same options as hf_repo_is_clean; after hf_init the lfs filter is
 * registered, and thanks to the stat data hf_repo_add records, unchanged large files are not re-read.
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

static char index_char(unsigned s)
{
    if (s & GIT_STATUS_INDEX_NEW) return 'A';
    if (s & GIT_STATUS_INDEX_MODIFIED) return 'M';
    if (s & GIT_STATUS_INDEX_DELETED) return 'D';
    if (s & GIT_STATUS_INDEX_RENAMED) return 'R';
    if (s & GIT_STATUS_INDEX_TYPECHANGE) return 'T';
    return ' ';
}

static char worktree_char(unsigned s)
{
    if (s & GIT_STATUS_WT_MODIFIED) return 'M';
    if (s & GIT_STATUS_WT_DELETED) return 'D';
    if (s & GIT_STATUS_WT_RENAMED) return 'R';
    if (s & GIT_STATUS_WT_TYPECHANGE) return 'T';
    return ' ';
}

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

static int is_lfs(git_repository *git, const char *path)
{
    const char *v = NULL;
    return git_attr_get(&v, git, 0, path, "filter") == 0 && v && strcmp(v, "lfs") == 0;
}

int hf_cli_status(int argc, char **argv)
{
    const char *dir = NULL;
    const hf_cli_opt opts[] = {{"directory", 'C', HF_CLI_OPT_STRING, &dir}, {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"status", help, opts, 0, 0, NULL, 0};
    hf_repo *repo = NULL;
    git_repository *git = NULL;
    git_status_list *list = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    free(a.pos);
    if (rc >= 0 || (rc = hf_cli_open("status", &repo, dir, NULL)) != 0) return rc;
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_SORT_CASE_SENSITIVELY;
    if (git_repository_open(&git, hf_repo_workdir(repo)) < 0 || git_status_list_new(&list, git, &so) < 0) {
        const git_error *e = git_error_last();
        (void)fprintf(stderr, "hfgit status: cannot read the status: %s\n", e ? e->message : "unknown error");
        rc = HF_CLI_EXIT_FAILED;
        goto out;
    }
    size_t n = git_status_list_entrycount(list);
    rc = n ? 1 : 0;
    if (hf_cli_verbosity() < 0) goto out;
    print_branch(git);
    for (size_t i = 0; i < n; i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const git_diff_delta *d = e->head_to_index ? e->head_to_index : e->index_to_workdir;
        const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
        if (e->status & GIT_STATUS_WT_NEW)
            (void)printf("?? %s", path);
        else
            (void)printf("%c%c %s", index_char(e->status), worktree_char(e->status), path);
        (void)printf("%s\n", is_lfs(git, path) ? "  [lfs]" : "");
    }
    if (n == 0) (void)printf("clean\n");
    rc = 0; /* with output, a dirty tree is not a failure */
out:
    git_status_list_free(list);
    git_repository_free(git);
    hf_cli_close(repo);
    return rc;
}
