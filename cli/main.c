/*
 * main.c: `hfgit`, subcommand dispatch (see cli.h). To add a command: write cmd_<name>.c with its run
 * function, declare it in cli.h, and add one line to the table below.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const hf_cli_command commands[] = {
    {"clone", hf_cli_clone, "clone a Hub repository, downloading its LFS files"},
    {"pull", hf_cli_pull, "fetch and fast-forward the current branch, with its LFS files"},
    {"add", hf_cli_add, "stage files, LFS-tracking large and binary ones automatically"},
    {"commit", hf_cli_commit, "commit the staged changes"},
    {"push", hf_cli_push, "upload LFS objects (multipart for large files), then push the branch"},
    {"status", hf_cli_status, "show the branch and changed files"},
    {"track", hf_cli_track, "track patterns with Git LFS (.gitattributes)"},
    {"untrack", hf_cli_untrack, "stop tracking patterns with Git LFS"},
    {"upload", hf_cli_upload, "upload a file or folder to a Hub repository in one commit"},
    {"upload-large-folder", hf_cli_upload_large_folder,
     "upload a huge folder resumably: parallel hashing, commits in chunks, status every 60 s"},
    {"install-hooks", hf_cli_install_hooks, "install the pre-push hook (10 MiB rule), chaining to git-lfs's"},
    {"lfs-enable-largefiles", hf_cli_lfs_enable_largefiles,
     "configure a repository so that `git push` uploads large LFS files in parallel parts"},
    {"login", hf_cli_login, "check a token against the hub and save it ($HF_HOME/token, mode 0600)"},
    {"whoami", hf_cli_whoami, "print the user the hub knows the token by, and the endpoint"},
    {"logout", hf_cli_logout, "remove the saved token"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *to)
{
    (void)fprintf(to, "usage: hfgit [--quiet | --verbose] <command> [options] [args]\n"
                      "       hfgit --help | --version | help config | help <command>\n"
                      "\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        (void)fprintf(to, "  %-24s %s\n", commands[i].name, commands[i].summary);
    (void)fprintf(
        to,
        "\n`hfgit <command> --help` describes one command; `hfgit help config` the environment\n"
        "(HF_TOKEN, HF_HOME, HF_ENDPOINT, ...). -q/--quiet prints errors only; -v/--verbose adds the\n"
        "library's trace (HFGIT_TRACE=1). Progress is shown only when stderr is a terminal.\n\n%s",
        hf_cli_exit_help);
}

static const hf_cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0) return &commands[i];
    return NULL;
}

/* `hfgit help [config | COMMAND]` */
static int help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "config") == 0) {
        (void)fputs(hf_cli_config_help, stdout);
        return 0;
    }
    const hf_cli_command *c = find(argv[1]);
    if (!c) {
        (void)fprintf(stderr, "hfgit help: no command \"%s\"; run `hfgit --help` for the list\n", argv[1]);
        return HF_CLI_EXIT_USAGE;
    }
    char *sub[] = {argv[1], "--help", NULL};
    return c->run(2, sub);
}

int main(int argc, char **argv)
{
    int i = 1;
    /* global verbosity flags before the command */
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            hf_cli_set_verbosity(-1);
        else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
            hf_cli_set_verbosity(1);
        else
            break;
    }
    if (i >= argc) {
        usage(stderr);
        return HF_CLI_EXIT_USAGE;
    }
    const char *cmd = argv[i];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) return help(argc - i, argv + i);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        (void)printf("hfgit %s (libhfgit %s)\n", HFGIT_VERSION, hf_version());
        return 0;
    }
    const hf_cli_command *c = find(cmd);
    if (c) return c->run(argc - i, argv + i);
    (void)fprintf(stderr, "hfgit: unknown command \"%s\"; run `hfgit --help` for the list of commands\n",
                  cmd);
    return HF_CLI_EXIT_USAGE;
}
