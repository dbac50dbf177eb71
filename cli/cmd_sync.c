/* cmd_sync.c: `hfgit pull` and `hfgit push`, the two commands that talk to the remote of an existing clone.
 */
#include "cli.h"

#include "../common/ratelimit.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>

static const char pull_help[] =
    "usage: hfgit pull [options]\n"
    "\n"
    "Fetches the current branch's upstream, downloads the LFS files its new commits need and fast-forwards\n"
    "the branch and working tree. A pull that would need a merge fails and leaves the tree unchanged.\n"
    "Shows download progress on a terminal.\n"
    "\n"
    "  --rebase           rebase local commits on top of the upstream instead\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static const char push_help[] =
    "usage: hfgit push [options]\n"
    "\n"
    "Pushes the current branch to the same name on origin: first the LFS objects the remote lacks (batch "
    "API;\n"
    "the Hub's multipart transfer for large files, parts in parallel with retries), then the git objects. A\n"
    "ref the server rejects is an error carrying its message. Shows upload progress on a terminal.\n"
    "\n"
    "  --remote NAME      remote to push to (default origin)\n"
    "  --branch NAME      local branch to push (default: the current one)\n"
    "  --no-multipart     do not offer the multipart transfer (large files are then refused by the Hub)\n"
    "  --max-rate RATE    LFS upload bandwidth, bytes per second (k/M/G: powers of 1024); env HFGIT_MAX_RATE\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

int hf_cli_pull(int argc, char **argv)
{
    const char *dir = NULL;
    int rebase = 0;
    const hf_cli_opt opts[] = {{"rebase", 0, HF_CLI_OPT_FLAG, &rebase},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"pull", pull_help, opts, 0, 0, NULL, 0};
    hf_repo *repo = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    free(a.pos);
    if (rc >= 0 || (rc = hf_cli_open("pull", &repo, dir, NULL)) != 0) return rc;
    hf_cli_progress prog;
    hf_cli_progress_init(&prog, "Downloading LFS objects");
    (void)hf_repo_set_progress(repo, HF_PROGRESS_DOWNLOAD, hf_cli_progress_cb, &prog);
    rc = hf_repo_pull(repo, rebase);
    (void)hf_repo_set_progress(repo, HF_PROGRESS_DOWNLOAD, NULL, NULL);
    hf_cli_progress_end(&prog);
    rc = rc < 0 ? hf_cli_fail("pull", rc) : 0;
    if (rc == 0) hf_cli_say("Pulled: up to date with the upstream branch\n");
    hf_cli_close(repo);
    return rc;
}

int hf_cli_push(int argc, char **argv)
{
    const char *dir = NULL, *remote = NULL, *branch = NULL, *max_rate = NULL;
    uint64_t rate = 0;
    int no_multipart = 0;
    const hf_cli_opt opts[] = {{"remote", 0, HF_CLI_OPT_STRING, &remote},
                               {"max-rate", 0, HF_CLI_OPT_STRING, &max_rate},
                               {"branch", 0, HF_CLI_OPT_STRING, &branch},
                               {"no-multipart", 0, HF_CLI_OPT_FLAG, &no_multipart},
                               {"directory", 'C', HF_CLI_OPT_STRING, &dir},
                               {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"push", push_help, opts, 0, 0, NULL, 0};
    hf_repo *repo = NULL;
    int rc = hf_cli_parse(&a, argc, argv);
    free(a.pos);
    if (rc < 0 && max_rate && hf_size_parse(max_rate, &rate) != 0)
        return hf_cli_usage_error("push", "--max-rate: %s", hf_error_last_message());
    if (rc >= 0 || (rc = hf_cli_open("push", &repo, dir, NULL)) != 0) return rc;
    hf_cli_progress prog;
    hf_cli_progress_init(&prog, "Uploading LFS objects");
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    po.remote = remote;
    po.branch = branch;
    po.multipart = !no_multipart;
    po.max_rate = rate;
    po.progress = hf_cli_progress_cb;
    po.progress_payload = &prog;
    rc = hf_repo_push(repo, &po, NULL);
    hf_cli_progress_end(&prog);
    rc = rc < 0 ? hf_cli_fail("push", rc) : 0;
    if (rc == 0) hf_cli_say("Pushed to %s\n", remote ? remote : "origin");
    hf_cli_close(repo);
    return rc;
}
