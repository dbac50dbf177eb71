/*
 * cmd_install_hooks.c: `hfgit install-hooks`: puts git-hooks/pre-push into the repository, following the
 * install contract written at the top of git-hooks/pre-push:
 *   - target: core.hooksPath (relative to the working tree) when set, else <git common dir>/hooks; mode 0755;
 *   - an existing pre-push that is not ours (no "hfgit-hook: pre-push" marker in its first lines; typically
 *     git-lfs's) is renamed to pre-push.lfs, keeping its mode, and our hook runs it; if pre-push.lfs exists
 *     already we stop instead of overwriting it; a pre-push that is ours (any version) is replaced.
 * The hook source is found next to the binary: <exe dir>/../git-hooks (build tree) or
 * <exe dir>/../share/hfgit/git-hooks (make install). The new file is written to a temporary name and renamed,
 * so a failure never leaves half a hook.
 */
#include "cli.h"

#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_MARKER "hfgit-hook: pre-push"

static const char help[] =
    "usage: hfgit install-hooks [options] [PATH]\n"
    "\n"
    "Installs hfgit's pre-push hook into the repository at PATH (default: the one containing the current\n"
    "folder), in core.hooksPath if set, else .git/hooks. Before\n"
    "`git push` uploads anything it refuses blobs over 10 MiB that are not in LFS (naming each path and the\n"
    "`hfgit track` command that fixes it) and warns about LFS files over 5 GB without the multipart agent.\n"
    "An existing git-lfs pre-push hook is moved to pre-push.lfs and run by the new hook. Safe to run again.\n"
    "\n"
    "  -C DIR             run as if started in DIR\n"
    "  -q, --quiet / -v, --verbose\n";

static int file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* <exe dir>/../git-hooks/pre-push or <exe dir>/../share/hfgit/git-hooks/pre-push. */
static int find_hook_source(hf_buf *out)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return hf_error_set(HF_ENOTFOUND, "cannot find the hfgit binary's directory (/proc/self/exe)");
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    static const char *const rel[] = {"/../git-hooks/pre-push", "/../share/hfgit/git-hooks/pre-push"};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_clear(out);
        hf_buf_printf(out, "%s%s", self, rel[i]);
        if (access(out->ptr, R_OK) == 0) return 0;
    }
    return hf_error_set(HF_ENOTFOUND,
                        "cannot find git-hooks/pre-push in %s/../git-hooks or "
                        "%s/../share/hfgit/git-hooks; reinstall hfgit (make install)",
                        self, self);
}

/* core.hooksPath (relative to the working tree) or <commondir>/hooks, without a trailing '/'. */
static int hooks_dir(const char *workdir, hf_buf *out)
{
    git_repository *git = NULL;
    git_config *cfg = NULL;
    git_buf path = {0};
    int rc = 0;
    if (git_repository_open(&git, workdir) < 0 || git_repository_config_snapshot(&cfg, git) < 0) {
        rc = hf_error_set(HF_EIO, "cannot open %s: %s", workdir, git_error_last()->message);
    } else if (git_config_get_path(&path, cfg, "core.hooksPath") == 0 && path.size) {
        hf_buf_printf(out, "%s%s", path.ptr[0] == '/' ? "" : workdir, path.ptr);
    } else {
        hf_buf_printf(out, "%shooks", git_repository_commondir(git));
    }
    while (out->len > 1 && out->ptr[out->len - 1] == '/')
        out->ptr[--out->len] = '\0';
    git_buf_dispose(&path);
    git_config_free(cfg);
    git_repository_free(git);
    return rc;
}

/* 1 when the hook at path carries our marker in its first lines. */
static int is_our_hook(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int ours = 0;
    for (int i = 0; f && i < 5 && fgets(line, sizeof(line), f); i++)
        if (strstr(line, HOOK_MARKER)) ours = 1;
    if (f) (void)fclose(f);
    return ours;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
    if (in && ferror(in)) rc = -1;
    if (in) (void)fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    if (rc < 0) return hf_error_set(HF_EIO, "cannot copy %s to %s: %s", from, to, strerror(errno));
    return 0;
}

static int install(const char *src, const char *dir)
{
    hf_buf hook = HF_BUF_INIT, lfs = HF_BUF_INIT, tmp = HF_BUF_INIT;
    int rc = 0;
    hf_buf_printf(&hook, "%s/pre-push", dir);
    hf_buf_printf(&lfs, "%s/pre-push.lfs", dir);
    hf_buf_printf(&tmp, "%s/.pre-push.hfgit-tmp", dir);
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        rc = hf_error_set(HF_EIO, "cannot create %s: %s", dir, strerror(errno));
    } else if (file_exists(hook.ptr) && !is_our_hook(hook.ptr)) {
        if (file_exists(lfs.ptr))
            rc = hf_error_set(HF_EEXISTS,
                              "%s is not hfgit's hook and %s exists already; move one of them away "
                              "(hfgit's hook runs pre-push.lfs after its checks)",
                              hook.ptr, lfs.ptr);
        else if (rename(hook.ptr, lfs.ptr) < 0)
            rc = hf_error_set(HF_EIO, "cannot rename %s: %s", hook.ptr, strerror(errno));
        else
            hf_cli_say("Moved the existing pre-push hook to %s (the new hook runs it)\n", lfs.ptr);
    }
    if (rc == 0 && (rc = copy_file(src, tmp.ptr)) == 0) {
        if (chmod(tmp.ptr, 0755) < 0 || rename(tmp.ptr, hook.ptr) < 0)
            rc = hf_error_set(HF_EIO, "cannot install %s: %s", hook.ptr, strerror(errno));
        else
            hf_cli_say("Installed %s\n", hook.ptr);
    }
    if (rc < 0) unlink(tmp.ptr);
    hf_buf_free(&hook);
    hf_buf_free(&lfs);
    hf_buf_free(&tmp);
    return rc;
}

int hf_cli_install_pre_push(const char *workdir)
{
    hf_buf src = HF_BUF_INIT, hooks = HF_BUF_INIT;
    int rc = find_hook_source(&src);
    if (rc == 0 && (rc = hooks_dir(workdir, &hooks)) == 0) rc = install(src.ptr, hf_buf_cstr(&hooks));
    hf_buf_free(&src);
    hf_buf_free(&hooks);
    return rc;
}

int hf_cli_install_hooks(int argc, char **argv)
{
    const char *dir = NULL;
    const hf_cli_opt opts[] = {{"directory", 'C', HF_CLI_OPT_STRING, &dir}, {NULL, 0, HF_CLI_OPT_FLAG, NULL}};
    hf_cli_args a = {"install-hooks", help, opts, 0, 1, NULL, 0};
    hf_repo *repo = NULL;
    hf_buf where = HF_BUF_INIT;
    int rc = hf_cli_parse(&a, argc, argv);
    /* PATH as lfs-enable-largefiles takes it; with -C DIR too, a relative PATH is below DIR */
    if (rc < 0 && a.npos)
        hf_buf_printf(&where, "%s%s%s", dir && a.pos[0][0] != '/' ? dir : "",
                      dir && a.pos[0][0] != '/' ? "/" : "", a.pos[0]);
    free(a.pos);
    if (rc >= 0 || (rc = hf_cli_open("install-hooks", &repo, where.len ? where.ptr : dir, NULL)) != 0)
        goto out;
    if ((rc = hf_cli_install_pre_push(hf_repo_workdir(repo))) < 0) rc = hf_cli_fail("install-hooks", rc);
    hf_cli_close(repo);
out:
    hf_buf_free(&where);
    return rc;
}
