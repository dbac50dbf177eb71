/* repo.c: hf_repo_open (clone or open), hf_repo_free, credentials and small shared helpers. */
#include "repo.h"

#include "lfs_store.h"

#include "../common/config.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/trace.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int hf_repo_git_error(int code, const char *what)
{
    const git_error *e = git_error_last();
    return hf_error_set(code, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

int hf_repo_git_net_error(const hf_cred_state *cred, const char *what, const char *url)
{
    const git_error *e = git_error_last();
    const char *m = e && e->message ? e->message : "";
    if (cred && cred->refused)
        return hf_repo_git_error(HF_EAUTH, what);
    /* libgit2 1.5 reports HTTP answers it cannot use only in the message text (class GIT_ERROR_HTTP/NET) */
    if (strstr(m, "status code: 404"))
        return hf_error_set(HF_ENOTFOUND, "%s: repository %s not found (HTTP 404): check the repo id and type "
                            "(datasets/..., spaces/...) and that the token may read it", what, url ? url : "");
    if (strstr(m, "status code: 401") || strstr(m, "status code: 403") ||
        (e && e->klass == GIT_ERROR_HTTP && strstr(m, "authentication")))
        return hf_error_set(HF_EAUTH, "%s: %s refused the credentials (%s): check the token (HF_TOKEN or "
                            "hf_repo_options.token) and its access to the repository", what, url ? url : "", m);
    /* the server could not be reached or the connection broke (refused, name lookup, timeout, TLS, early
     * EOF): a network error, which callers may retry later (`hfgit` exits 6), unlike an answer it refused */
    if (e && (e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_SSL ||
              (e->klass == GIT_ERROR_OS && strstr(m, "failed to connect")))) /* libgit2 1.5's socket stream */
        return hf_repo_git_error(HF_ENET, what);
    return hf_repo_git_error(HF_ERROR, what);
}

int hf_git_retry_server_error(int attempt, const hf_cred_state *cred)
{
    const git_error *e = git_error_last();
    if (attempt > 2 || (cred && cred->refused) || !e || !e->message ||
        !strstr(e->message, "unexpected http status code: 5"))
        return 0;
    struct timespec ts = {0, 300000000L * attempt};
    nanosleep(&ts, NULL);
    return 1;
}

const char *hf_repo_token_for(const hf_repo *r, const char *url)
{
    return r->token && (r->token_explicit || hf_url_is_hf_endpoint(url)) ? r->token : NULL;
}

int hf_repo_credentials_cb(git_credential **out, const char *url, const char *username_from_url,
                           unsigned int allowed_types, void *payload)
{
    (void)username_from_url;
    hf_cred_state *st = payload;
    const char *token = st ? hf_repo_token_for(st->repo, url) : NULL;
    if (!token || !(allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
        git_error_set_str(GIT_ERROR_NET, "the server asks for credentials and no token is set for it "
                                         "(pass hf_repo_options.token, or set HF_TOKEN or log in: that token "
                                         "goes only to HF_ENDPOINT's host)");
        if (st)
            st->refused = 1;
        return GIT_EAUTH;
    }
    /* libgit2 calls again after a 401: the token was refused, so stop instead of looping. */
    if (st->attempts++ > 0) {
        git_error_set_str(GIT_ERROR_NET, "the server refused the token (check that it is valid and has access "
                                         "to this repository)");
        st->refused = 1;
        return GIT_EAUTH;
    }
    return git_credential_userpass_plaintext_new(out, "hf", token);
}

int hf_repo_origin_url(const hf_repo *repo, const char *remote, hf_buf *out)
{
    return hf_remote_config_url(repo->git, remote ? remote : "origin", out);
}

/* The clone URL for clone_from: a URL is used as is (minus credentials), a repo id is resolved. */
static int clone_url(const hf_repo_options *opts, const char *endpoint, hf_buf *out)
{
    const char *src = opts->clone_from;
    if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0)
        return hf_url_strip_credentials(out, src);
    const char *type = opts->repo_type;
    static const struct {
        const char *prefix, *type;
    } prefixes[] = {{"datasets/", "dataset"}, {"spaces/", "space"}, {"models/", "model"}};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (strncmp(src, prefixes[i].prefix, n) == 0) {
            src += n;
            type = prefixes[i].type;
            break;
        }
    }
    int rc = hf_repo_url(out, endpoint, type, src);
    return rc < 0 ? hf_error_prefix("clone_from \"%s\": ", opts->clone_from) : 0;
}

/* URL comparison key: no credentials, no trailing '/' or ".git". */
static int url_key(const char *url, hf_buf *out)
{
    int rc = hf_url_strip_credentials(out, url);
    if (rc < 0)
        return rc;
    while (out->len && out->ptr[out->len - 1] == '/')
        out->ptr[--out->len] = '\0';
    if (out->len > 4 && strcmp(out->ptr + out->len - 4, ".git") == 0)
        out->ptr[out->len -= 4] = '\0';
    return 0;
}

/* 1: missing or an empty directory; 0: something is there; <0 error. */
static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return 1;
        return hf_error_set(HF_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    closedir(d);
    return empty;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    if (ftw->level == 0)
        return 0; /* the directory itself stays */
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* Removes everything inside dir (not following symlinks); best effort. Only used on a directory this call
 * found empty and then cloned into. */
static void empty_dir(const char *dir)
{
    (void)nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int set_config(hf_repo *r, const char *key, const char *value)
{
    git_config *cfg = NULL;
    int rc = 0;
    if (git_repository_config(&cfg, r->git) < 0 || git_config_set_string(cfg, key, value) < 0)
        rc = hf_repo_git_error(HF_EIO, "cannot write the repository configuration");
    git_config_free(cfg);
    return rc;
}

/* Fills the handle's fields from an opened libgit2 repository. */
static int attach(hf_repo *r, git_repository *git)
{
    r->git = git;
    const char *wd = git_repository_workdir(git);
    if (!wd)
        return hf_error_set(HF_EINVAL, "%s is a bare repository; a working tree is needed",
                            git_repository_path(git));
    r->workdir = strdup(wd);
    if (!r->workdir)
        return hf_error_set(HF_ENOMEM, "out of memory");
    return hf_lfs_dir(&r->lfs_dir, git_repository_commondir(git));
}

/* Creates the clone's "origin" like git_remote_create, minus the insteadOf pass that leaks in libgit2 1.5
 * (remote.c); the URL we clone from is already the one to use. */
static int clone_remote(git_remote **out, git_repository *repo, const char *name, const char *url, void *payload)
{
    (void)payload;
    git_remote_create_options o;
    git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    o.repository = repo;
    o.name = name;
    o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
    return git_remote_create_with_opts(out, url, &o);
}

static int do_clone(hf_repo *r, const char *url, const char *dir)
{
    git_clone_options co;
    git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
    /* Nothing is checked out by libgit2: LFS objects are downloaded first, then we check out ourselves. */
    co.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
    hf_cred_state cred = {r, 0, 0};
    co.fetch_opts.callbacks.credentials = hf_repo_credentials_cb;
    co.fetch_opts.callbacks.payload = &cred;
    co.remote_cb = clone_remote;
    git_repository *git = NULL;
    int cloned;
    for (int attempt = 1; (cloned = git_clone(&git, url, dir, &co)) < 0 && hf_git_retry_server_error(attempt, &cred);
         attempt++)
        cred.attempts = 0;
    if (cloned < 0) {
        hf_buf clean = HF_BUF_INIT;
        hf_url_strip_credentials(&clean, url);
        int rc = hf_repo_git_net_error(&cred, "clone failed", hf_buf_cstr(&clean));
        hf_error_prefix("cloning %s into %s: ", hf_buf_cstr(&clean), dir);
        hf_buf_free(&clean);
        return rc;
    }
    int rc = attach(r, git);
    if (rc < 0)
        return rc;
    git_oid head;
    if (git_reference_name_to_id(&head, git, "HEAD") < 0) {
        /* An empty repository: nothing to check out. libgit2 named the unborn branch after the user's
         * init.defaultBranch, else master, because protocol v0 does not say which branch the remote's HEAD
         * names; a first push to master would leave the repository's HEAD (main) without a commit. So: the
         * branch the server names when asked in protocol v2, else main, the Hub's default. */
        git_error_clear();
        hf_buf branch = HF_BUF_INIT;
        rc = hf_repo_set_unborn_branch(r, hf_remote_unborn_head(r, url, &branch) == 0 ? branch.ptr : "main");
        hf_buf_free(&branch);
        return rc;
    }
    if (!r->skip_lfs_files && (rc = hf_lfs_fetch_for_commit(r, &head, url, NULL)) < 0)
        return rc;
    return hf_repo_checkout_tree(r, &head, 1);
}

static int open_existing(hf_repo *r, const char *dir, const char *want_url)
{
    git_repository *git = NULL;
    if (git_repository_open_ext(&git, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
        if (want_url)
            return hf_error_set(HF_EEXISTS,
                                "%s is not empty and not a git repository; clone into a new or empty directory, "
                                "or move the files there after cloning",
                                dir);
        return hf_error_set(HF_ENOTFOUND, "%s is not a git repository; set clone_from to clone one", dir);
    }
    int rc = attach(r, git);
    if (rc < 0 || !want_url)
        return rc;
    hf_buf have = HF_BUF_INIT, want = HF_BUF_INIT, origin = HF_BUF_INIT;
    rc = hf_repo_origin_url(r, "origin", &origin);
    if (rc == 0 && (rc = url_key(origin.ptr, &have)) == 0 && (rc = url_key(want_url, &want)) == 0 &&
        strcmp(have.ptr, want.ptr) != 0)
        rc = hf_error_set(HF_EEXISTS, "%s is a clone of %s, not of %s; use another directory", dir, origin.ptr,
                          want.ptr);
    if (rc == HF_ENOTFOUND)
        rc = hf_error_set(HF_EEXISTS, "%s is a git repository without an origin remote, not a clone of %s", dir,
                          want_url);
    hf_buf_free(&have);
    hf_buf_free(&want);
    hf_buf_free(&origin);
    return rc;
}

static int resolve_token(hf_repo *r, const hf_repo_options *opts)
{
    if (opts->token) {
        if (opts->token[0] && !(r->token = strdup(opts->token)))
            return hf_error_set(HF_ENOMEM, "out of memory");
        r->token_explicit = 1;
        return 0;
    }
    hf_buf tok = HF_BUF_INIT;
    int rc = hf_config_token(&tok);
    if (rc == HF_ENOTFOUND) {
        hf_error_clear();
        rc = 0;
    } else if (rc == 0) {
        r->token = hf_buf_detach(&tok);
    }
    hf_buf_free(&tok);
    return rc;
}

int hf_repo_open(hf_repo **out, const char *local_dir, const hf_repo_options *opts)
{
    static const hf_repo_options defaults = HF_REPO_OPTIONS_INIT;
    if (!out)
        return hf_error_set(HF_EINVAL, "hf_repo_open: no place for the handle (out is NULL)");
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > HF_REPO_OPTIONS_VERSION)
        return hf_error_set(HF_EINVAL, "hf_repo_options: version %u is not 1..%d (use HF_REPO_OPTIONS_INIT)",
                            opts->version, HF_REPO_OPTIONS_VERSION);
    if (!local_dir || !local_dir[0])
        return hf_error_set(HF_EINVAL, "hf_repo_open: no local directory given");
    hf_repo *r = calloc(1, sizeof(*r));
    if (!r)
        return hf_error_set(HF_ENOMEM, "out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&r->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&r->net_storage, NULL);
    r->net = &r->net_storage;
    pthread_mutex_init(&r->sending_lock, NULL);
    pthread_cond_init(&r->sending_done, NULL);
    r->skip_lfs_files = opts->skip_lfs_files;
    if (opts->version >= 2) { /* a version 1 struct ends before these fields */
        r->download_cb = opts->download_progress;
        r->download_payload = opts->download_progress_payload;
        r->hash_cb = opts->hash_progress;
        r->hash_payload = opts->hash_progress_payload;
    }
    if (opts->version >= 3) /* checked below, once the handle can be freed on the failure path */
        r->download_parallel = opts->download_parallel;
    hf_buf endpoint = HF_BUF_INIT, url = HF_BUF_INIT;
    int cloned = 0, created = 0; /* this call cloned into local_dir / created local_dir */
    int rc = r->download_parallel < 0 || r->download_parallel > 64
                 ? hf_error_set(HF_EINVAL, "hf_repo_options: download_parallel %d is not 0..64", r->download_parallel)
                 : resolve_token(r, opts);
    if (rc < 0)
        goto fail;
    if (opts->endpoint) {
        rc = hf_buf_puts(&endpoint, opts->endpoint);
        while (endpoint.len && endpoint.ptr[endpoint.len - 1] == '/')
            endpoint.ptr[--endpoint.len] = '\0';
    } else {
        rc = hf_config_endpoint(&endpoint);
    }
    if (rc < 0 || !(r->endpoint = hf_buf_detach(&endpoint))) {
        rc = rc < 0 ? rc : hf_error_set(HF_ENOMEM, "out of memory");
        goto fail;
    }
    if ((opts->git_user && !(r->git_user = strdup(opts->git_user))) ||
        (opts->git_email && !(r->git_email = strdup(opts->git_email)))) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto fail;
    }
    if (opts->clone_from && (rc = clone_url(opts, r->endpoint, &url)) < 0)
        goto fail;
    int empty = dir_is_empty(local_dir);
    if (empty < 0) {
        rc = empty;
        goto fail;
    }
    if (opts->clone_from && empty) {
        struct stat st;
        cloned = 1;
        created = stat(local_dir, &st) < 0;
        rc = hf_mkdir_p(local_dir, 0777) < 0 ? hf_error_last_code() : do_clone(r, url.ptr, local_dir);
    } else
        rc = open_existing(r, local_dir, opts->clone_from ? url.ptr : NULL);
    if (rc < 0)
        goto fail;
    if ((r->git_user && (rc = set_config(r, "user.name", r->git_user)) < 0) ||
        (r->git_email && (rc = set_config(r, "user.email", r->git_email)) < 0))
        goto fail;
    if (opts->revision && (rc = hf_repo_checkout_revision(r, opts->revision)) < 0) {
        hf_error_prefix("checking out revision %s: ", opts->revision);
        goto fail;
    }
    hf_buf_free(&url);
    *out = r;
    return 0;
fail:
    /* A failed open leaves nothing it made: libgit2 empties the directory of a failed clone, but not when the
     * LFS download, the checkout or the revision after it failed. The directory was empty (or missing)
     * before, so it is emptied again, and a directory this call made goes too. */
    if (cloned) {
        git_repository_free(r->git);
        r->git = NULL;
        empty_dir(local_dir);
        if (created)
            rmdir(local_dir);
    }
    hf_buf_free(&endpoint);
    hf_buf_free(&url);
    hf_repo_free(r);
    return rc;
}

void hf_repo_lock(hf_repo *r)
{
    if (!r->is_shadow)
        pthread_mutex_lock(&r->lock);
}

void hf_repo_unlock(hf_repo *r)
{
    if (!r->is_shadow)
        pthread_mutex_unlock(&r->lock);
}

void hf_repo_shadow(hf_repo *s, const hf_repo *r, git_repository *git)
{
    /* field by field: copying the whole struct would read the mutexes other threads are using */
    memset(s, 0, sizeof(*s));
    s->git = git;
    s->workdir = r->workdir;
    s->lfs_dir = r->lfs_dir;
    s->token = r->token;
    s->token_explicit = r->token_explicit;
    s->endpoint = r->endpoint;
    s->git_user = r->git_user;
    s->git_email = r->git_email;
    s->skip_lfs_files = r->skip_lfs_files;
    s->download_parallel = r->download_parallel; /* set at open, never changed */
    s->net = r->net;
    s->is_shadow = 1;
}

void hf_repo_free(hf_repo *r)
{
    if (!r || r->is_shadow)
        return;
    if (hf_queue_on_worker(r)) {
        /* from a queued command: freeing would join the thread we are running on */
        hf_trace("hf_repo_free called from a queued command of %s; ignored", r->workdir);
        return;
    }
    hf_queue_shutdown(r);
    git_repository_free(r->git);
    free(r->workdir);
    hf_buf_free(&r->lfs_dir);
    if (r->token) {
        /* the token does not linger in freed memory */
        volatile char *p = r->token;
        while (*p)
            *p++ = 0;
        free(r->token);
    }
    free(r->endpoint);
    free(r->git_user);
    free(r->git_email);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->net_storage);
    free(r->sending);
    pthread_cond_destroy(&r->sending_done);
    pthread_mutex_destroy(&r->sending_lock);
    free(r);
}

const char *hf_repo_workdir(const hf_repo *r)
{
    return r ? r->workdir : NULL;
}

int hf_repo_set_progress(hf_repo *r, unsigned int kinds, hf_progress_cb cb, void *payload)
{
    if (!r || !kinds || (kinds & ~(HF_PROGRESS_DOWNLOAD | HF_PROGRESS_HASH)))
        return hf_error_set(HF_EINVAL, "hf_repo_set_progress: no repository, or kinds is not a mask of "
                                       "HF_PROGRESS_DOWNLOAD and HF_PROGRESS_HASH");
    hf_repo_lock(r);
    if (kinds & HF_PROGRESS_DOWNLOAD) {
        r->download_cb = cb;
        r->download_payload = cb ? payload : NULL;
    }
    if (kinds & HF_PROGRESS_HASH) {
        r->hash_cb = cb;
        r->hash_payload = cb ? payload : NULL;
    }
    hf_repo_unlock(r);
    return 0;
}
