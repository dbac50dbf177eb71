/* cmd_track.c: `hfgit track` and `hfgit untrack`: the filter=lfs lines of .gitattributes (git lfs track). */
#include "cli.h"

/* the escaping rules live with the library's .gitattributes code, so the CLI and auto-tracking agree */
#include "../repo/attrs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char track_help[] =
    "usage: hfgit track [options] [PATTERN...]\n"
    "       hfgit track --filename PATH...\n"
    "\n"
    "Adds `PATTERN filter=lfs diff=lfs merge=lfs -text` to the .gitattributes at the root of the working "
    "tree\n"
    "for each pattern not tracked yet, as `git lfs track` does: patterns are relative to the root "
    "(\"*.bin\",\n"
    "\"weights/*.safetensors\"), a space is written [[:space:]] and a '#' \\# so that the line means what "
    "was\n"
    "typed. Files matching them are stored in LFS the next time they are added. Without a pattern, lists "
    "the\n"
    "tracked patterns.\n"
    "\n"
    "  --filename         each argument is one file's path (relative to the root), not a pattern: '*', '?',\n"
    "                     '[', ']', '#', spaces, tabs and '\\' are escaped so that the line matches exactly\n"
    "                     that file, as `git lfs track --filename` does (\"model[0].bin\" -> "
    "model\\[0\\].bin)\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static const char untrack_help[] =
    "usage: hfgit untrack [options] PATTERN...\n"
    "\n"
    "Removes the filter=lfs lines of each pattern from the root .gitattributes (git lfs untrack; a\n"
    "pattern is escaped as `hfgit track` writes it). Files already committed stay in LFS until re-staged\n"
    "(`git rm --cached PATH` then `hfgit add PATH`).\n"
    "\n"
    "  --filename         each argument is a literal file name, as for `hfgit track --filename`\n"
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

/* The lines' patterns: PATTERNs escaped as git lfs track / untrack escape them (space, '#'), or with
 * --filename the literal file names escaped as git lfs track --filename does. */
static int escape_all(const hf_cli_args *a, int filename, hf_buf *bufs, const char **out)
{
    for (int i = 0; i < a->npos; i++) {
        int rc = filename ? hf_attrs_escape_filename(a->pos[i], &bufs[i])
                          : hf_attrs_escape_pattern(a->pos[i], &bufs[i]);
        if (rc < 0) return rc;
        out[i] = hf_buf_cstr(&bufs[i]);
    }
    return 0;
}

static int run(int argc, char **argv, int track)
{
    const char *cmd = track ? "track" : "untrack", *dir = NULL;
    int filename = 0;
    const hf_cli_opt opts[] = {{"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {"filename", 0, HF_CLI_OPT_FLAG, &filename},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {cmd, track ? track_help : untrack_help, opts, track ? 0 : 1, -1, NULL, 0};
    hf_repo *repo = NULL;
    hf_buf *bufs = NULL;
    const char **patterns = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out;
    if (filename && a.npos == 0) {
        rc = hf_cli_usage_error(cmd, "--filename needs at least one PATH");
        goto out;
    }
    if ((rc = hf_cli_open(cmd, &repo, dir, NULL)) != 0) goto out;
    if (a.npos == 0) {
        rc = list_tracked(repo);
        hf_cli_close(repo);
        goto out;
    }
    bufs = calloc((size_t)a.npos, sizeof(*bufs));
    patterns = calloc((size_t)a.npos, sizeof(*patterns));
    int n = !bufs || !patterns ? hf_error_set(HF_ENOMEM, "out of memory")
                               : escape_all(&a, filename, bufs, patterns);
    if (n == 0)
        n = track ? hf_repo_lfs_track(repo, patterns, (size_t)a.npos)
                  : hf_repo_lfs_untrack(repo, patterns, (size_t)a.npos);
    if (n < 0) {
        rc = hf_cli_fail(cmd, n);
    } else {
        for (int i = 0; i < a.npos; i++)
            hf_cli_say("%s \"%s\"%s%s%s\n", track ? "Tracking" : "Untracking", a.pos[i],
                       strcmp(a.pos[i], patterns[i]) ? " (written " : "",
                       strcmp(a.pos[i], patterns[i]) ? patterns[i] : "",
                       strcmp(a.pos[i], patterns[i]) ? ")" : "");
        hf_cli_say("%d line(s) %s .gitattributes\n", n, track ? "added to" : "removed from");
        rc = 0;
    }
    hf_cli_close(repo);
out:
    for (int i = 0; bufs && i < a.npos; i++)
        hf_buf_free(&bufs[i]);
    free(bufs);
    free(patterns);
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
