/*
 * main.c: `hfgit`, subcommand dispatch (see cli.h). To add a command: write cmd_<name>.c with its run
 * function, declare it in cli.h, and add one line to the table below.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const hf_cli_command commands[] = {
    {"lfs-enable-largefiles", hf_cli_lfs_enable_largefiles,
     "configure a repository so that `git push` uploads large LFS files in parallel parts"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *to)
{
    fprintf(to, "usage: hfgit <command> [options] [args]\n"
                "       hfgit --help | --version\n"
                "\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(to, "  %-24s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\n`hfgit <command> --help` describes one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("hfgit %s\n", HFGIT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hfgit: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return 2;
}
