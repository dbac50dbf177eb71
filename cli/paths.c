/* paths.c: finding the programs installed with hfgit (see cli.h). */
#include "cli.h"

#include "../common/buf.h"
#include "../common/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *hf_cli_find_sibling_program(const char *name)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    hf_buf cand = HF_BUF_INIT;

    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            hf_buf_printf(&cand, "%s/%s", self, name);
            if (is_executable_file(hf_buf_cstr(&cand))) return hf_buf_detach(&cand);
        }
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && path[0] == '/') { /* relative PATH entries would not survive a change of directory */
            hf_buf_clear(&cand);
            hf_buf_printf(&cand, "%.*s/%s", (int)len, path, name);
            if (is_executable_file(hf_buf_cstr(&cand))) return hf_buf_detach(&cand);
        }
        path = end ? end + 1 : NULL;
    }
    hf_buf_free(&cand);
    hf_error_set(HF_ENOTFOUND,
                 "cannot find %s next to hfgit (%s) or on PATH; install both together "
                 "(make install)",
                 name, n > 0 ? self : "?");
    return NULL;
}
