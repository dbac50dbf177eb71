/*
 * cli.h: the `hfgit` command line. main.c dispatches argv[1] to one command; each command lives in its own
 * file (cmd_<name>.c) and is listed once in the table in main.c.
 *
 * A command gets argv with argv[0] = its own name, prints results on stdout and errors on stderr
 * ("hfgit <command>: ..."), and returns the process exit status (0 ok, 1 failure, 2 usage error).
 */
#ifndef HF_CLI_H
#define HF_CLI_H

typedef struct hf_cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `hfgit --help` */
} hf_cli_command;

int hf_cli_lfs_enable_largefiles(int argc, char **argv);

/* Absolute path of a program installed next to the running hfgit binary (/proc/self/exe), else found on
 * PATH. Returns a malloc'd path or NULL with an hf_error message. */
char *hf_cli_find_sibling_program(const char *name);

#endif
