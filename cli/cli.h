/*
 * cli.h: the `hfgit` command line. main.c dispatches argv[1] to one command; each command lives in its own
 * file (cmd_<name>.c) and is listed once in the table in main.c.
 *
 * A command gets argv with argv[0] = its own name, prints results on stdout and errors on stderr
 * ("hfgit <command>: ..."), and returns the process exit status (HF_CLI_EXIT_* below, listed in
 * `hfgit --help`).
 *
 * Thread-safety: the CLI is single-threaded except for progress callbacks, which the library calls from its
 * transfer threads one at a time (progress.h). The verbosity is set once, before a command runs.
 */
#ifndef HF_CLI_H
#define HF_CLI_H

/* error.h before hfgit.h: both define the error codes under one guard and only error.h declares the setters.
 */
#include "../common/error.h"

#include "hfgit.h"

#include "../common/buf.h"

#include <stddef.h>

typedef struct hf_cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `hfgit --help` */
} hf_cli_command;

/* Exit statuses, the same for every command. */
enum {
    HF_CLI_EXIT_OK = 0,
    HF_CLI_EXIT_FAILED = 1,    /* the operation failed (I/O, server error, rejected push, ...) */
    HF_CLI_EXIT_USAGE = 2,     /* bad command line: unknown command or option, missing or invalid argument */
    HF_CLI_EXIT_AUTH = 3,      /* no token, or the server refused it (HF_EAUTH) */
    HF_CLI_EXIT_NOTFOUND = 4,  /* repository, revision, path or program not found (HF_ENOTFOUND) */
    HF_CLI_EXIT_NOCHANGES = 5, /* `commit`: nothing to commit (HF_ENOCHANGES) */
    HF_CLI_EXIT_NETWORK = 6,   /* the server could not be reached (HF_ENET) */
};

/* The exit-status table and the configuration text, shared by `hfgit --help` and `hfgit help config`. */
extern const char hf_cli_exit_help[];
extern const char hf_cli_config_help[];

/* The commands (one file each, two for track/untrack). */
int hf_cli_lfs_enable_largefiles(int argc, char **argv);
int hf_cli_clone(int argc, char **argv);
int hf_cli_pull(int argc, char **argv);
int hf_cli_add(int argc, char **argv);
int hf_cli_commit(int argc, char **argv);
int hf_cli_push(int argc, char **argv);
int hf_cli_status(int argc, char **argv);
int hf_cli_track(int argc, char **argv);
int hf_cli_untrack(int argc, char **argv);
int hf_cli_install_hooks(int argc, char **argv);
int hf_cli_upload(int argc, char **argv);
int hf_cli_upload_large_folder(int argc, char **argv);
int hf_cli_login(int argc, char **argv);
int hf_cli_whoami(int argc, char **argv);
int hf_cli_logout(int argc, char **argv);

/* Installs git-hooks/pre-push into the repository whose working tree is workdir (trailing '/'), per the
 * contract at the top of that hook (cmd_install_hooks.c): 0 or a negative hf_error_code with a message.
 * Prints what it did unless quiet. For `install-hooks` and `lfs-enable-largefiles`. */
int hf_cli_install_pre_push(const char *workdir);

/* Absolute path of a program installed next to the running hfgit binary (/proc/self/exe), else found on
 * PATH. Returns a malloc'd path or NULL with an hf_error message. */
char *hf_cli_find_sibling_program(const char *name);

/* ---- verbosity and errors (args.c) ---- */

/* -1 quiet (errors only), 0 normal, 1 verbose (also turns on the library's trace, HFGIT_TRACE=1). */
void hf_cli_set_verbosity(int level);
int hf_cli_verbosity(void);
/* Prints on stdout unless quiet. */
void hf_cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints on stderr unless quiet: notes about work in progress, keeping stdout for the result. */
void hf_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The exit status for a negative hf_error_code (0 for 0). */
int hf_cli_exit_code(int code);
/* Prints "hfgit <cmd>: <the library's last message>" (plus a hint for HF_EAUTH) and returns the exit status
 * for code. */
int hf_cli_fail(const char *cmd, int code);
/* Prints "hfgit <cmd>: <message>" and "run `hfgit <cmd> --help`" on stderr; returns HF_CLI_EXIT_USAGE. */
int hf_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- option parsing (args.c) ---- */

#define HF_CLI_LIST_MAX 64

typedef struct hf_cli_list {
    const char *items[HF_CLI_LIST_MAX];
    size_t count;
    int given; /* the option was on the command line, perhaps with no value ("--include" alone) */
} hf_cli_list;

typedef enum { HF_CLI_OPT_FLAG, HF_CLI_OPT_STRING, HF_CLI_OPT_LIST } hf_cli_opt_kind;

/* One option: "--name" (and "-c" when short_name is set). FLAG sets *(int *)value = 1; STRING takes the next
 * argument or "--name=value" into *(const char **)value; LIST appends to *(hf_cli_list *)value every
 * following argument up to the next one starting with '-' (as argparse's nargs="*"), or the one value of
 * "--name=value"; it may be repeated. */
typedef struct hf_cli_opt {
    const char *name;
    char short_name;
    hf_cli_opt_kind kind;
    void *value;
} hf_cli_opt;

typedef struct hf_cli_args {
    const char *cmd;        /* for messages: "clone" */
    const char *help;       /* printed by --help */
    const hf_cli_opt *opts; /* ends with {NULL} */
    int min_pos, max_pos;   /* positional arguments wanted (max_pos -1: any number) */
    const char **pos;       /* out: positional arguments (pointers into argv), npos of them */
    int npos;
} hf_cli_args;

/* Parses argv[1..]; --help/-h, --quiet/-q and --verbose/-v are understood by every command, and "--" ends
 * the options. Returns -1 when the command should run, else the exit status to return at once (0 after
 * --help, HF_CLI_EXIT_USAGE after a message). a->pos is allocated with room for argc entries: free it. */
int hf_cli_parse(hf_cli_args *a, int argc, char **argv);

/* ---- opening repositories (open.c) ---- */

/* hf_init, changes to dir when set (like `git -C dir`), then opens the repository whose working tree contains
 * the current directory, searching upwards like git. prefix (may be NULL) receives the current directory
 * relative to the working tree ("" or "sub/dir/"), for turning command-line paths into repository paths. On
 * failure prints the error and returns the exit status (positive); 0 on success. Pair with hf_cli_close. */
int hf_cli_open(const char *cmd, hf_repo **out, const char *dir, hf_buf *prefix);
void hf_cli_close(hf_repo *repo);

#endif
