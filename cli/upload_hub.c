/* upload_hub.c: where `hfgit upload` keeps its clone, and creating a missing repository (upload.h). */
#include "upload.h"

#include "../common/config.h"
#include "../common/fsutil.h"
#include "../common/http.h"
#include "../common/json.h"
#include "../repo/pull.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int hf_home(hf_buf *out)
{
    const char *v = getenv("HF_HOME");
    if (v && *v) return hf_buf_puts(out, v);
    if ((v = getenv("XDG_CACHE_HOME")) && *v) return hf_buf_printf(out, "%s/huggingface", v);
    if ((v = getenv("HOME")) && *v) return hf_buf_printf(out, "%s/.cache/huggingface", v);
    return hf_error_set(HF_ENOTFOUND, "neither HF_HOME nor HOME is set: no place for the upload cache");
}

int hf_upload_cache_dir(hf_buf *out, const char *endpoint, const char *repo_type, const char *repo_id)
{
    hf_buf_clear(out);
    int rc = hf_home(out);
    if (rc < 0) return rc;
    /* the endpoint's host[:port], with ':' and anything odd made '_', keeps clones of different hubs apart */
    const char *host = strstr(endpoint, "://");
    host = host ? host + 3 : endpoint;
    hf_buf_puts(out, "/hfgit/upload/");
    for (const char *p = host; *p && *p != '/'; p++) {
        char c = *p;
        hf_buf_putc(out, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                 c == '.' || c == '-'
                             ? c
                             : '_');
    }
    return hf_buf_printf(out, "/%ss/%s", repo_type, repo_id);
}

int hf_upload_create_repo(const char *endpoint, const char *repo_type, const char *repo_id, int private_repo)
{
    hf_buf token = HF_BUF_INIT, url = HF_BUF_INIT, body = HF_BUF_INIT, name = HF_BUF_INIT;
    hf_http_client *http = NULL;
    hf_http_response resp = HF_HTTP_RESPONSE_INIT;
    const char *slash = strchr(repo_id, '/');
    int rc = hf_config_token(&token);
    if (rc < 0) goto out;
    hf_buf_printf(&url, "%s/api/repos/create", endpoint);
    hf_buf_put(&name, repo_id, (size_t)(slash - repo_id));
    hf_jw w;
    hf_jw_init(&w, &body);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "name", slash + 1);
    hf_jw_kstr(&w, "organization", hf_buf_cstr(&name));
    hf_jw_kstr(&w, "type", repo_type);
    hf_jw_kbool(&w, "private", private_repo);
    hf_jw_obj_end(&w);
    static const char *const headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    hf_http_request req = HF_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url.ptr;
    req.headers = headers;
    req.bearer_token = token.ptr;
    req.body = body.ptr;
    req.body_len = body.len;
    if ((rc = hf_http_client_new(&http)) < 0 || (rc = hf_http_send(http, &req, &resp)) < 0) goto out;
    if (resp.status >= 200 && resp.status < 300) {
        rc = 1;
    } else if (resp.status == 409) {
        rc = 0;
    } else {
        hf_buf excerpt = HF_BUF_INIT;
        hf_http_error_excerpt(resp.body.ptr, resp.body.len, 200, &excerpt);
        rc = hf_error_set_http(hf_http_status_error(resp.status), resp.status,
                               "creating %s %s: HTTP %ld \"%s\"", repo_type, repo_id, resp.status,
                               hf_buf_cstr(&excerpt));
        hf_buf_free(&excerpt);
    }
out:
    hf_http_response_reset(&resp);
    hf_http_client_free(http);
    if (token.ptr) memset(token.ptr, 0, token.len); /* the token does not linger in freed memory */
    hf_buf_free(&token);
    hf_buf_free(&url);
    hf_buf_free(&body);
    hf_buf_free(&name);
    return rc;
}

int hf_upload_head_id(const char *workdir, char out[41])
{
    git_repository *git = NULL;
    git_oid oid;
    int rc = 0;
    if (git_repository_open(&git, workdir) < 0 || git_reference_name_to_id(&oid, git, "HEAD") < 0)
        rc = hf_error_set(HF_ERROR, "cannot read HEAD in %s: %s", workdir, git_error_last()->message);
    else
        git_oid_tostr(out, 41, &oid);
    git_repository_free(git);
    return rc;
}

/* The branch origin/HEAD points at ("main"), i.e. the remote's default branch as recorded by the clone. */
static char *default_branch(const char *workdir)
{
    git_repository *git = NULL;
    git_reference *ref = NULL;
    char *name = NULL;
    if (git_repository_open(&git, workdir) == 0 &&
        git_reference_lookup(&ref, git, "refs/remotes/origin/HEAD") == 0 &&
        git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
        const char *t = git_reference_symbolic_target(ref);
        if (strncmp(t, "refs/remotes/origin/", 20) == 0) name = strdup(t + 20);
    }
    git_reference_free(ref);
    git_repository_free(git);
    return name;
}

/* Checks out the upload's branch. On an empty repository there is nothing to branch from: HEAD is pointed at
 * the unborn branch, so that the first commit starts it. */
static int checkout_branch(hf_repo *repo, const char *revision)
{
    char head[41];
    int rc = hf_repo_head_hash(repo, head);
    if (rc != HF_ENOTFOUND) return rc < 0 ? rc : hf_repo_checkout(repo, revision, 1);
    git_repository *git = NULL;
    hf_buf ref = HF_BUF_INIT;
    hf_buf_printf(&ref, "refs/heads/%s", revision);
    rc = 0;
    if (git_repository_open(&git, hf_repo_workdir(repo)) < 0 || git_repository_set_head(git, ref.ptr) < 0)
        rc = hf_error_set(HF_EINVAL, "cannot start branch %s: %s", revision, git_error_last()->message);
    git_repository_free(git);
    hf_buf_free(&ref);
    return rc;
}

static int open_repo(hf_repo **out, const hf_upload_target *t, const char *dir, const char *revision)
{
    hf_repo_options o = HF_REPO_OPTIONS_INIT;
    o.clone_from = t->repo_id;
    o.repo_type = t->repo_type;
    o.endpoint = t->endpoint;
    o.skip_lfs_files = 1; /* the upload only adds files: existing LFS content is never needed locally */
    /* commits need an author; the Hub would use the token's user, a clone has only the git config: each part
     * missing there (user.name, user.email) falls back on its own, so a configured name is kept. Both are
     * always passed (hf_repo_open writes them into the cache clone's config), so a reused clone follows a
     * later change of the user's configuration instead of keeping an old fallback. */
    git_config *cfg = NULL;
    git_buf name = {0}, email = {0};
    int have_cfg = git_config_open_default(&cfg) == 0;
    o.git_user = have_cfg && git_config_get_string_buf(&name, cfg, "user.name") == 0 && name.size
                     ? name.ptr
                     : "hfgit upload";
    o.git_email = have_cfg && git_config_get_string_buf(&email, cfg, "user.email") == 0 && email.size
                      ? email.ptr
                      : "hfgit-upload@users.noreply.huggingface.co";
    int rc = hf_repo_open(out, dir, &o);
    git_buf_dispose(&name);
    git_buf_dispose(&email);
    git_config_free(cfg);
    char head[41];
    /* a clone of an empty repository starts on init.defaultBranch, or libgit2's "master": the Hub's default
     * branch is "main", so the first commit goes there */
    if (rc == 0 && !revision && hf_repo_head_hash(*out, head) == HF_ENOTFOUND) revision = "main";
    if (rc == 0 && revision && (rc = checkout_branch(*out, revision)) < 0) {
        hf_error_prefix("checking out %s: ", revision);
        hf_repo_free(*out);
        *out = NULL;
    }
    return rc;
}

/* A clone of an empty repository has no origin/HEAD, which reuse() needs to find the default branch: point it
 * at the branch the clone is on, or at "main" (the Hub's default) when the upload goes to another branch. */
static void remember_default_branch(hf_repo *repo, const char *revision)
{
    git_repository *git = NULL;
    git_reference *ref = NULL;
    char *branch = NULL;
    hf_buf target = HF_BUF_INIT;
    if (git_repository_open(&git, hf_repo_workdir(repo)) == 0 &&
        git_reference_lookup(&ref, git, "refs/remotes/origin/HEAD") < 0 &&
        (revision || hf_repo_current_branch(repo, &branch) == 0)) {
        hf_buf_printf(&target, "refs/remotes/origin/%s", revision ? "main" : branch);
        git_reference_free(ref);
        ref = NULL;
        git_reference_symbolic_create(&ref, git, "refs/remotes/origin/HEAD", target.ptr, 1, "hfgit upload");
    }
    git_reference_free(ref);
    git_repository_free(git);
    free(branch);
    hf_buf_free(&target);
}

/* For a caller that never uses the work tree: the clone opened as it is, HEAD on the wanted branch at the
 * remote's tip (a branch the remote lacks starts from its default branch, as in a fresh clone). */
static int reuse_no_worktree(hf_repo **out, const hf_upload_target *t, const char *dir)
{
    char *def = default_branch(dir);
    const char *branch = t->revision ? t->revision : def;
    /* no revision: open_repo checks nothing out (an unborn HEAD is only pointed at "main") */
    int rc =
        branch ? open_repo(out, t, dir, NULL) : hf_error_set(HF_ENOTFOUND, "no origin/HEAD in the cache");
    if (rc == 0) rc = hf_repo_follow_remote_branch(*out, branch, t->revision ? def : NULL);
    free(def);
    if (rc < 0) {
        hf_repo_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Reuses the cache clone: the wanted branch checked out, pulled, and clean. 0 or a negative code. */
static int reuse(hf_repo **out, const hf_upload_target *t, const char *dir)
{
    if (t->no_worktree) return reuse_no_worktree(out, t, dir);
    char *branch = t->revision ? NULL : default_branch(dir);
    int rc = t->revision || branch ? open_repo(out, t, dir, t->revision ? t->revision : branch)
                                   : hf_error_set(HF_ENOTFOUND, "no origin/HEAD in the cache");
    free(branch);
    if (rc == 0 && (rc = hf_repo_pull(*out, 0)) == 0 && hf_repo_is_clean(*out) != 1)
        rc = hf_error_set(HF_ERROR, "the cache clone has local changes");
    if (rc < 0) {
        hf_repo_free(*out);
        *out = NULL;
    }
    return rc;
}

int hf_upload_open_cache(hf_repo **out, const hf_upload_target *t, const char *cache_dir)
{
    struct stat st;
    int rc;
    *out = NULL;
    if (stat(cache_dir, &st) == 0) {
        if (reuse(out, t, cache_dir) == 0) return 0;
        if (hf_cli_verbosity() > 0)
            (void)fprintf(stderr, "hfgit upload: cloning afresh (%s)\n", hf_error_last_message());
        if ((rc = hf_upload_remove_tree(cache_dir)) < 0) return rc;
    }
    if ((rc = hf_mkdir_parents(cache_dir, 0777)) < 0) return rc;
    rc = open_repo(out, t, cache_dir, t->revision);
    if (rc == 0) remember_default_branch(*out, t->revision);
    if (rc == 0 || rc == HF_EAUTH || rc == HF_ENET) return rc; /* unreachable: creating would fail alike */
    /* as huggingface-cli upload does, a repository that is not there is created */
    hf_buf first = HF_BUF_INIT;
    hf_buf_puts(&first, hf_error_last_message());
    int created = hf_upload_create_repo(t->endpoint, t->repo_type, t->repo_id, t->private_repo);
    if (created == 1) {
        hf_cli_note("Created %s %s\n", t->repo_type, t->repo_id);
        hf_upload_remove_tree(cache_dir);
        if ((rc = open_repo(out, t, cache_dir, t->revision)) == 0) remember_default_branch(*out, t->revision);
    } else {
        hf_error_set(rc, "%s", hf_buf_cstr(&first)); /* the clone's error says more than the create's */
    }
    hf_buf_free(&first);
    return rc;
}
