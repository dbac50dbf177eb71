/* cmd_clone.c: `hfgit clone REPO [DIR]`: hf_repo_open with clone_from (LFS files downloaded natively). */
#include "cli.h"
#include "progress.h"

#include "../common/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: hfgit clone [options] REPO [DIR]\n"
    "\n"
    "Clones a Hub repository and downloads its LFS files (in parallel, SHA-256 checked) without git-lfs,\n"
    "showing download progress on a terminal.\n"
    "REPO is a repo id (\"ns/name\", \"datasets/ns/name\", \"spaces/ns/name\") resolved against "
    "HF_ENDPOINT,\n"
    "or a full URL. DIR defaults to the repository's name. The token is never written to .git/config.\n"
    "\n"
    "  --repo-type TYPE   model (default), dataset or space, for a bare \"ns/name\"\n"
    "  --revision REV     branch, tag or commit to check out (a missing branch is created)\n"
    "  --skip-lfs         leave LFS files as pointer files\n"
    "  -q, --quiet / -v, --verbose\n";

/* The last path element of a repo id or URL, without ".git": the default directory. */
static char *default_dir(const char *repo)
{
    size_t n = strlen(repo);
    while (n && repo[n - 1] == '/')
        n--;
    size_t start = n;
    while (start && repo[start - 1] != '/')
        start--;
    if (n - start > 4 && strncmp(repo + n - 4, ".git", 4) == 0) n -= 4;
    return n > start ? strndup(repo + start, n - start) : NULL;
}

/* A malformed repo id or type is a usage error (2), as for every command, before anything is created. */
static int check_repo(const char *repo, const char *repo_type)
{
    static const char *const prefixes[] = {"datasets/", "spaces/", "models/"};
    if (repo_type && strcmp(repo_type, "model") != 0 && strcmp(repo_type, "dataset") != 0 &&
        strcmp(repo_type, "space") != 0)
        return hf_cli_usage_error("clone", "--repo-type must be model, dataset or space, not \"%s\"",
                                  repo_type);
    if (strncmp(repo, "http://", 7) == 0 || strncmp(repo, "https://", 8) == 0) return -1;
    for (size_t i = 0; i < 3; i++)
        if (strncmp(repo, prefixes[i], strlen(prefixes[i])) == 0) {
            repo += strlen(prefixes[i]);
            break;
        }
    if (hf_repo_id_validate(repo) < 0)
        return hf_cli_usage_error("clone", "bad REPO: %s (or give an http(s):// URL)",
                                  hf_error_last_message());
    return -1;
}

int hf_cli_clone(int argc, char **argv)
{
    const char *repo_type = NULL, *revision = NULL;
    int skip_lfs = 0;
    const hf_cli_opt opts[] = {{"repo-type", 0, HF_CLI_OPT_STRING, &repo_type},
                               {"revision", 0, HF_CLI_OPT_STRING, &revision},
                               {"skip-lfs", 0, HF_CLI_OPT_FLAG, &skip_lfs},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"clone", help, opts, 1, 2, NULL, 0};
    int rc = hf_cli_parse(&a, argc, argv);
    if (rc >= 0) goto out_args;
    if ((rc = check_repo(a.pos[0], repo_type)) >= 0) goto out_args;
    char *dir = a.npos > 1 ? strdup(a.pos[1]) : default_dir(a.pos[0]);
    if (!dir) {
        rc = hf_cli_usage_error("clone", "cannot tell a directory name from \"%s\"; give DIR", a.pos[0]);
        goto out_args;
    }
    if ((rc = hf_init()) < 0) {
        rc = hf_cli_fail("clone", rc);
        goto out_dir;
    }
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    o.clone_from = a.pos[0];
    o.repo_type = repo_type;
    o.revision = revision;
    o.skip_lfs_files = skip_lfs;
    hf_cli_progress prog;
    hf_cli_progress_init(&prog, "Downloading LFS objects");
    o.download_progress = hf_cli_progress_cb;
    o.download_progress_payload = &prog;
    hf_repo *repo = NULL;
    hf_cli_say("Cloning %s into %s\n", a.pos[0], dir);
    rc = hf_repo_open(&repo, dir, &o);
    hf_cli_progress_end(&prog);
    if (repo) (void)hf_repo_set_progress(repo, HF_PROGRESS_DOWNLOAD, NULL, NULL); /* prog goes out of scope */
    if (rc < 0)
        rc = hf_cli_fail("clone", rc);
    else
        hf_cli_say("Done: %s\n", hf_repo_workdir(repo));
    hf_repo_free(repo);
    hf_shutdown();
out_dir:
    free(dir);
out_args:
    free(a.pos);
    return rc;
}
