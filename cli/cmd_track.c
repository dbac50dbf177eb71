/* cmd_track.c: `hfgit track` and `hfgit untrack`: the filter=lfs lines of .gitattributes (git lfs track). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char track_help[] =
    "usage: hfgit track [options] [PATTERN...]\n"
    "\n"
    "Adds `PATTERN filter=lfs diff=lfs merge=lfs -text` to the .gitattributes at the root of the working "
    "tree\n"
    "for each pattern not tracked yet, as `git lfs track` does (patterns are written as given, relative to "
    "the\n"
    "root: \"*.bin\", \"weights/*.safetensors\", \"data/big file.bin\"). Files matching them are stored in "
    "LFS\n"
    "the next time they are added. Without a pattern, lists the tracked patterns.\n"
    "\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static const char untrack_help[] =
    "usage: hfgit untrack [options] PATTERN...\n"
    "\n"
    "Removes the filter=lfs lines of each pattern from the root .gitattributes (git lfs untrack). Files\n"
    "already committed stay in LFS until re-staged (`git rm --cached PATH` then `hfgit add PATH`).\n"
    "\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

/* Prints the patterns of the filter=lfs lines of the root .gitattributes. */
static int list_tracked(hf_repo *repo)
{
    char path[4096], line[4096];
    if (hf_repo_path(repo, ".gitattributes", path, sizeof(path)) < 0)
        return hf_cli_fail("track", hf_error_last_code());
    FILE *f = fopen(path, "r");
    hf_cli_say("Listing tracked patterns\n");
    while (f && fgets(line, sizeof(line), f)) {
        char *end = strstr(line, " filter=lfs");
        if (end && line[0] != '#') {
            *end = '\0';
            hf_cli_say("    %s (.gitattributes)\n", line);
        }
    }
    if (f) (void)fclose(f);
    return 0;
}

static int run(int argc, char **argv, int track)
{
    const char *cmd = track ? "track" : "untrack", *dir = NULL;
    const hf_cli_opt opts[] = {{"directory", 'C', HF_CLI_OPT_STRING, &dir}, {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {cmd, track ? track_help : untrack_help, opts, track ? 0 : 1, -1, NULL, 0};
    hf_repo *repo = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0 || (rc = hf_cli_open(cmd, &repo, dir, NULL)) != 0) goto out;
    if (a.npos == 0) {
        rc = list_tracked(repo);
    } else {
        int n = track ? hf_repo_lfs_track(repo, a.pos, (size_t)a.npos)
                      : hf_repo_lfs_untrack(repo, a.pos, (size_t)a.npos);
        if (n < 0) {
            rc = hf_cli_fail(cmd, n);
        } else {
            for (int i = 0; i < a.npos; i++)
                hf_cli_say("%s \"%s\"\n", track ? "Tracking" : "Untracking", a.pos[i]);
            hf_cli_say("%d line(s) %s .gitattributes\n", n, track ? "added to" : "removed from");
        }
    }
    hf_cli_close(repo);
out:
    free(a.pos);
    return rc;
}

int hf_cli_track(int argc, char **argv)
{
    return run(argc, argv, 1);
}

int hf_cli_untrack(int argc, char **argv)
{
    return run(argc, argv, 0);
}
