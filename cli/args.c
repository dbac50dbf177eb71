/* args.c: option parsing, verbosity, and turning library errors into messages and exit statuses (cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char hf_cli_exit_help[] = "exit status:\n"
                                "  0  success\n"
                                "  1  the operation failed (I/O error, server error, rejected push, ...)\n"
                                "  2  usage error: unknown command or option, missing or invalid argument\n"
                                "  3  authentication: no token, or the server refused it\n"
                                "  4  not found: repository, revision, path or program\n"
                                "  5  commit: nothing to commit\n"
                                "  6  network: the server could not be reached\n";

/* Set once from the command line before any work starts (main.c and hf_cli_parse). */
static int verbosity;

void hf_cli_set_verbosity(int level)
{
    verbosity = level;
    /* the library's own diagnostics (HTTP requests, transfers) go to stderr with --verbose */
    if (level > 0) setenv("HFGIT_TRACE", "1", 1);
}

int hf_cli_verbosity(void)
{
    return verbosity;
}

void hf_cli_say(const char *fmt, ...)
{
    if (verbosity < 0) return;
    va_list ap;
    va_start(ap, fmt);
    (void)vprintf(fmt, ap);
    va_end(ap);
    (void)fflush(stdout);
}

void hf_cli_note(const char *fmt, ...)
{
    if (verbosity < 0) return;
    va_list ap;
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int hf_cli_exit_code(int code)
{
    switch (code) {
    case 0:
        return HF_CLI_EXIT_OK;
    case HF_EAUTH:
        return HF_CLI_EXIT_AUTH;
    case HF_ENOTFOUND:
        return HF_CLI_EXIT_NOTFOUND;
    case HF_ENOCHANGES:
        return HF_CLI_EXIT_NOCHANGES;
    case HF_ENET:
        return HF_CLI_EXIT_NETWORK;
    default:
        return HF_CLI_EXIT_FAILED;
    }
}

int hf_cli_fail(const char *cmd, int code)
{
    const char *msg = hf_error_last_message();
    (void)fprintf(stderr, "hfgit %s: %s\n", cmd, msg && *msg ? msg : hf_error_code_name(code));
    if (code == HF_EAUTH)
        (void)fprintf(stderr,
                      "hint: run `hfgit login`, or set HF_TOKEN (see `hfgit help config`)\n");
    if (code == HF_ENET)
        (void)fprintf(stderr, "hint: the server could not be reached: check the network connection and "
                              "HF_ENDPOINT (see `hfgit help config`), then try again\n");
    return hf_cli_exit_code(code);
}

int hf_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    (void)fprintf(stderr, "hfgit %s: ", cmd);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fprintf(stderr, "\nrun `hfgit %s --help` for usage\n", cmd);
    return HF_CLI_EXIT_USAGE;
}

static const hf_cli_opt *find_long(const hf_cli_opt *opts, const char *name, size_t len)
{
    for (; opts->name; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0) return opts;
    return NULL;
}

static const hf_cli_opt *find_short(const hf_cli_opt *opts, char c)
{
    for (; opts->name; opts++)
        if (opts->short_name && opts->short_name == c) return opts;
    return NULL;
}

static int list_add(hf_cli_args *a, const hf_cli_opt *o, const char *v)
{
    hf_cli_list *l = o->value;
    if (l->count == HF_CLI_LIST_MAX)
        return hf_cli_usage_error(a->cmd, "too many values for --%s (at most %d)", o->name, HF_CLI_LIST_MAX);
    l->items[l->count++] = v;
    return -1;
}

/* Applies option o found at argv[*i] (inline: the text after '=', or NULL). Returns -1 or an exit status. */
static int apply(hf_cli_args *a, const hf_cli_opt *o, const char *inline_value, int argc, char **argv, int *i)
{
    switch (o->kind) {
    case HF_CLI_OPT_FLAG:
        if (inline_value) return hf_cli_usage_error(a->cmd, "--%s takes no value", o->name);
        *(int *)o->value = 1;
        return -1;
    case HF_CLI_OPT_STRING:
        if (!inline_value) {
            if (*i + 1 >= argc) return hf_cli_usage_error(a->cmd, "--%s needs a value", o->name);
            inline_value = argv[++*i];
        }
        *(const char **)o->value = inline_value;
        return -1;
    case HF_CLI_OPT_LIST:
        ((hf_cli_list *)o->value)->given = 1;
        if (inline_value) return list_add(a, o, inline_value);
        while (*i + 1 < argc && argv[*i + 1][0] != '-') {
            int rc = list_add(a, o, argv[++*i]);
            if (rc >= 0) return rc;
        }
        return -1;
    }
    return -1;
}

int hf_cli_parse(hf_cli_args *a, int argc, char **argv)
{
    static const hf_cli_opt none[] = {{NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    const hf_cli_opt *opts = a->opts ? a->opts : none;
    int only_pos = 0;
    a->npos = 0;
    a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
    if (!a->pos) {
        (void)fprintf(stderr, "hfgit %s: out of memory\n", a->cmd);
        return HF_CLI_EXIT_FAILED;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const hf_cli_opt *o = NULL;
        const char *eq = NULL;
        int rc;
        if (only_pos || arg[0] != '-' || strcmp(arg, "-") == 0) {
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            (void)fputs(a->help, stdout);
            return HF_CLI_EXIT_OK;
        }
        if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            hf_cli_set_verbosity(-1);
            continue;
        }
        if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            hf_cli_set_verbosity(1);
            continue;
        }
        if (arg[1] == '-') {
            eq = strchr(arg + 2, '=');
            o = find_long(opts, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
            if (eq) eq++;
        } else if (arg[2] == '\0') {
            o = find_short(opts, arg[1]);
        }
        if (!o) return hf_cli_usage_error(a->cmd, "unknown option \"%s\"", arg);
        if ((rc = apply(a, o, eq, argc, argv, &i)) >= 0) return rc;
    }
    if (a->npos < a->min_pos) return hf_cli_usage_error(a->cmd, "missing argument");
    if (a->max_pos >= 0 && a->npos > a->max_pos)
        return hf_cli_usage_error(a->cmd, "unexpected argument \"%s\"", a->pos[a->max_pos]);
    return -1;
}
