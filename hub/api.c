/*
 * api.c: the Hub's JSON API, as much of it as git clients need: POST /api/repos/create, GET /api/whoami-v2,
 * GET /api/{models,datasets,spaces}/<ns>/<name>.
 *
 * A repository is built complete in <root>/tmp (git init --bare, config, the pre-receive hook, the multipart
 * threshold, the private marker, and the Hub's first commit: main with its default .gitattributes, unless
 * --empty-repos) and then renamed into <root>/repos/<type>/<ns>/<name>.git with RENAME_NOREPLACE, so
 * concurrent creates of one name have exactly one winner and nobody ever sees a half-made repository.
 */
#include "hub.h"
#include "proc.h"

#include "../common/digest.h"
#include "../common/fsutil.h"
#include "../common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appended to the config git init writes. Auth is the hub's job (git_backend.c), so receive-pack is on for
 * everyone who gets that far; no background gc may outlive a push (tests stop the hub right after). */
static const char REPO_CONFIG[] = "[http]\n"
                                  "\treceivepack = true\n"
                                  "\tuploadpack = true\n"
                                  "[receive]\n"
                                  "\tautogc = false\n"
                                  "\tdenyDeleteCurrent = refuse\n"
                                  "[gc]\n"
                                  "\tautoDetach = false\n"
                                  "[uploadpack]\n"
                                  "\tallowFilter = true\n"
                                  "\tallowAnySHA1InWant = true\n";

/* The .gitattributes of the first commit huggingface.co makes in a new repository, in its order. */
/* clang-format off */
static const char *const HUB_LFS_PATTERNS[] = {
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.mlmodel",
    "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt",
    "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm",
    "*.xz", "*.zip", "*.zst", "*tfevents*"};
/* clang-format on */

typedef struct create_req {
    const char *type;   /* "model", "dataset", "space" */
    const char *dir;    /* "models", ... */
    const char *prefix; /* URL prefix: "", "datasets/", "spaces/" */
    char *ns, *name;
    int64_t threshold; /* 0 = not given */
    int private_repo;  /* "private": true */
} create_req;

static void create_req_clear(create_req *c)
{
    free(c->ns);
    free(c->name);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)remove(path); /* best effort: what cannot be removed stays in tmp/ */
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *path, const void *data, size_t len, int flags, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, mode);
    if (fd < 0) return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
    FILE *f = fopen(from, "rb");
    if (!f) return -1;
    hf_buf b = HF_BUF_INIT;
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (hf_buf_put(&b, chunk, n)) {
            rc = -1;
            break;
        }
    if (ferror(f)) rc = -1;
    (void)fclose(f); /* read-only */
    if (rc == 0) rc = write_file(to, b.ptr ? b.ptr : "", b.len, O_TRUNC, mode);
    hf_buf_free(&b);
    return rc;
}

/* Reads and checks the request JSON; on error answers 400 and returns -1. */
static int parse_create(hub_req *r, create_req *c)
{
    hf_json *doc = NULL;
    char *org = NULL;
    const char *err = NULL;
    memset(c, 0, sizeof(*c));
    c->type = "model";
    if (hf_json_parse(&doc, hf_buf_cstr(&r->body), r->body.len) ||
        hf_json_type_of(doc, 0) != HF_JSON_OBJECT) {
        err = "the body must be a JSON object like {\"name\":\"my-model\",\"organization\":\"me\"}";
        goto out;
    }
    int t = hf_json_get(doc, 0, "name");
    if (!(c->name = hf_json_strdup(doc, t))) {
        err = "\"name\" is required and must be a string";
        goto out;
    }
    t = hf_json_get(doc, 0, "organization");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL && !(org = hf_json_strdup(doc, t))) {
        err = "\"organization\" must be a string";
        goto out;
    }
    t = hf_json_get(doc, 0, "type");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL) {
        static const char *const types[] = {"model", "dataset", "space"};
        c->type = NULL;
        for (size_t i = 0; i < 3; i++)
            if (hf_json_str_eq(doc, t, types[i])) c->type = types[i];
        if (!c->type) {
            err = "\"type\" must be \"model\", \"dataset\" or \"space\"";
            goto out;
        }
    }
    t = hf_json_get(doc, 0, "lfsmultipartthresh");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL &&
        (hf_json_int64(doc, t, &c->threshold) || c->threshold <= 0)) {
        err = "\"lfsmultipartthresh\" must be a positive integer (bytes)";
        goto out;
    }
    t = hf_json_get(doc, 0, "private");
    if (t >= 0 && hf_json_type_of(doc, t) != HF_JSON_NULL) {
        if (hf_json_bool(doc, t, &c->private_repo)) {
            err = "\"private\" must be true or false";
            goto out;
        }
    }
    /* The Hub also takes "ns/name" as the name. */
    char *slash = strchr(c->name, '/');
    if (slash) {
        *slash = '\0';
        char *ns = strdup(c->name), *name = strdup(slash + 1);
        free(c->name);
        c->name = name;
        if (!ns || !name) {
            free(ns);
            err = "out of memory";
            goto out;
        }
        if (org && strcmp(org, ns) != 0) {
            free(ns);
            err = "\"name\" names another namespace than \"organization\"";
            goto out;
        }
        c->ns = ns;
    } else if (org) {
        c->ns = org;
        org = NULL;
    } else {
        err = "no namespace: give \"organization\", or \"name\" as \"namespace/name\"";
        goto out;
    }
out:
    free(org);
    hf_json_free(doc);
    if (err) {
        hub_respond_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
        return -1;
    }
    c->dir = c->type[0] == 'm' ? "models" : c->type[0] == 'd' ? "datasets" : "spaces";
    c->prefix = c->type[0] == 'm' ? "" : c->type[0] == 'd' ? "datasets/" : "spaces/";
    return 0;
}

/* Names go through the same check as URLs (hub_repo_parse), so whatever is created can be reached. */
static int check_names(hub_req *r, const create_req *c, hub_repo *repo)
{
    static const char *const reserved[] = {"api", "datasets", "spaces", "models"};
    hf_buf path = HF_BUF_INIT;
    size_t nl = strlen(c->name);
    int bad = nl >= 4 && strcmp(c->name + nl - 4, ".git") == 0;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        bad |= strcmp(c->ns, reserved[i]) == 0;
    if (!bad) {
        bad = hf_buf_printf(&path, "/%s%s/%s", c->prefix, c->ns, c->name) ||
              hub_repo_parse(r->h, path.ptr, repo) || repo->rest[0] != '\0' || strcmp(repo->ns, c->ns) != 0 ||
              strcmp(repo->name, c->name) != 0;
        if (bad) hub_repo_clear(repo);
    }
    hf_buf_free(&path);
    if (bad)
        hub_respond_error(
            r, MHD_HTTP_BAD_REQUEST,
            "invalid repo id '%.200s/%.200s': namespace and name are 1-96 characters of [A-Za-z0-9._-], "
            "not starting with '.' or '-', without '..', the name not ending in .git; "
            "'api', 'models', 'datasets' and 'spaces' are reserved namespaces",
            c->ns, c->name);
    return bad ? -1 : 0;
}

static enum MHD_Result already_exists(hub_req *r, const create_req *c)
{
    hf_buf out = HF_BUF_INIT, msg = HF_BUF_INIT;
    hf_jw w;
    hf_buf_printf(&msg, "You already created this %s repo", c->type);
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "error", hf_buf_cstr(&msg));
    hf_jw_kstr(&w, "message", hf_buf_cstr(&msg));
    hf_buf_clear(&msg);
    hf_buf_printf(&msg, "%s/%s%s/%s", r->h->base_url, c->prefix, c->ns, c->name);
    hf_jw_kstr(&w, "url", hf_buf_cstr(&msg));
    hf_jw_obj_end(&w);
    enum MHD_Result rc = hub_respond(r, MHD_HTTP_CONFLICT, "application/json", hf_buf_cstr(&out), out.len);
    hf_buf_free(&out);
    hf_buf_free(&msg);
    return rc;
}

/* git --git-dir=<git_dir> ARGS... (NULL-terminated) with stdin from in_fd; its first output line in out. */
static int git_in(const char *git_dir, int in_fd, char *out, size_t outsz, char *const env[], ...)
{
    char *argv[12];
    hf_buf gd = HF_BUF_INIT;
    size_t n = 0;
    va_list ap;
    if (hf_buf_printf(&gd, "--git-dir=%s", git_dir)) return -1;
    argv[n++] = "git";
    argv[n++] = gd.ptr;
    va_start(ap, env);
    for (char *a; n < sizeof(argv) / sizeof(argv[0]) - 1 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int rc = hub_run_capture(argv, env, in_fd, out, outsz);
    hf_buf_free(&gd);
    return rc == 0 && out[0] ? 0 : -1;
}

/* The Hub's first commit on main: .gitattributes sending its default patterns to LFS. Built with plumbing
 * (hash-object, mktree, commit-tree, update-ref) in the bare repo, from files in work_dir. */
static int initial_commit(const char *git_dir, const char *work_dir)
{
    static char *const env_extra[] = {"GIT_AUTHOR_NAME=system", "GIT_AUTHOR_EMAIL=system@hfgit-hub.invalid",
                                      "GIT_COMMITTER_NAME=system",
                                      "GIT_COMMITTER_EMAIL=system@hfgit-hub.invalid", NULL};
    hf_buf attrs = HF_BUF_INIT, path = HF_BUF_INIT, tree_in = HF_BUF_INIT;
    char blob[96], tree[96], commit[96];
    char **env = hub_env_build((const char *const *)env_extra);
    int rc = -1, fd = -1;
    for (size_t i = 0; i < sizeof(HUB_LFS_PATTERNS) / sizeof(HUB_LFS_PATTERNS[0]); i++)
        hf_buf_printf(&attrs, "%s filter=lfs diff=lfs merge=lfs -text\n", HUB_LFS_PATTERNS[i]);
    if (!env || hf_buf_printf(&path, "%s/gitattributes", work_dir) ||
        write_file(path.ptr, attrs.ptr, attrs.len, O_TRUNC, 0666) ||
        git_in(git_dir, -1, blob, sizeof(blob), env, "hash-object", "-w", "--no-filters", path.ptr,
               (char *)NULL) ||
        hf_buf_printf(&tree_in, "100644 blob %s\t.gitattributes\n", blob) || hf_buf_puts(&path, ".tree") ||
        write_file(path.ptr, tree_in.ptr, tree_in.len, O_TRUNC, 0666) ||
        (fd = open(path.ptr, O_RDONLY | O_CLOEXEC)) < 0 ||
        git_in(git_dir, fd, tree, sizeof(tree), env, "mktree", (char *)NULL) ||
        git_in(git_dir, -1, commit, sizeof(commit), env, "commit-tree", tree, "-m", "initial commit",
               (char *)NULL))
        goto out;
    char *update[] = {"git", NULL, "update-ref", "refs/heads/main", commit, NULL};
    hf_buf gd = HF_BUF_INIT;
    if (hf_buf_printf(&gd, "--git-dir=%s", git_dir) == 0) {
        update[1] = gd.ptr;
        rc = hub_run(update) == 0 ? 0 : -1;
    }
    hf_buf_free(&gd);
out:
    if (fd >= 0) close(fd);
    hub_env_free(env);
    hf_buf_free(&attrs);
    hf_buf_free(&path);
    hf_buf_free(&tree_in);
    return rc;
}

/* Builds the repository in tmp_git: 0, or -1 with *what naming the step that failed (errno set). */
static int build_repo(hub *h, const char *tmp_git, const create_req *c, const char **what)
{
    hf_buf p = HF_BUF_INIT;
    int rc = -1;
    char *argv[] = {"git",         "init",          "--bare", "-q", "--initial-branch=main",
                    "--template=", (char *)tmp_git, NULL};
    *what = "git init --bare";
    if (hub_run(argv) != 0) {
        errno = EIO;
        goto out;
    }
    *what = "writing the repo config";
    if (hf_buf_printf(&p, "%s/config", tmp_git) ||
        write_file(p.ptr, REPO_CONFIG, strlen(REPO_CONFIG), O_APPEND, 0666))
        goto out;
    *what = "installing hooks/pre-receive";
    hf_buf_clear(&p);
    if (hf_buf_printf(&p, "%s/hooks", tmp_git) || (mkdir(p.ptr, 0777) && errno != EEXIST)) goto out;
    if (h->hooks_dir) {
        hf_buf src = HF_BUF_INIT;
        int err = hf_buf_printf(&src, "%s/pre-receive", h->hooks_dir) || hf_buf_puts(&p, "/pre-receive") ||
                  copy_file(src.ptr, p.ptr, 0755);
        hf_buf_free(&src);
        if (err) goto out;
    } else {
        (void)fprintf(
            stderr,
            "hfgit-hub: warning: %s/%s has no pre-receive hook (no --hooks-dir): pushes are not checked\n",
            c->ns, c->name);
    }
    if (!h->empty_repos) {
        *what = "making the initial commit";
        char *slash = strrchr(tmp_git, '/');
        hf_buf work = HF_BUF_INIT;
        int err = !slash || hf_buf_put(&work, tmp_git, (size_t)(slash - tmp_git)) ||
                  initial_commit(tmp_git, hf_buf_cstr(&work));
        hf_buf_free(&work);
        if (err) {
            errno = EIO;
            goto out;
        }
    }
    if (c->private_repo) {
        *what = "marking the repo private";
        hf_buf_clear(&p);
        if (hf_buf_printf(&p, "%s/hfgit-hub-private", tmp_git) || write_file(p.ptr, "", 0, O_TRUNC, 0666))
            goto out;
    }
    if (c->threshold > 0) {
        char num[32];
        int n = snprintf(num, sizeof(num), "%lld\n", (long long)c->threshold);
        *what = "writing hfgit-hub-threshold";
        hf_buf_clear(&p);
        if (hf_buf_printf(&p, "%s/hfgit-hub-threshold", tmp_git) ||
            write_file(p.ptr, num, (size_t)n, O_TRUNC, 0666))
            goto out;
    }
    rc = 0;
out:
    hf_buf_free(&p);
    return rc;
}

static enum MHD_Result respond_created(hub_req *r, const create_req *c)
{
    unsigned char raw[12];
    char id[25];
    hf_buf out = HF_BUF_INIT, s = HF_BUF_INIT;
    hf_jw w;
    hf_random_bytes(raw, sizeof(raw)); /* the Hub's ids are 24 hex digits */
    hf_hex_encode(raw, sizeof(raw), id);
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    hf_buf_printf(&s, "%s/%s%s/%s", r->h->base_url, c->prefix, c->ns, c->name);
    hf_jw_kstr(&w, "url", hf_buf_cstr(&s));
    hf_buf_clear(&s);
    hf_buf_printf(&s, "%s/%s", c->ns, c->name);
    hf_jw_kstr(&w, "name", hf_buf_cstr(&s));
    hf_jw_kstr(&w, "id", id);
    hf_jw_kbool(&w, "private", c->private_repo);
    hf_jw_obj_end(&w);
    enum MHD_Result rc = hub_respond(r, MHD_HTTP_OK, "application/json", hf_buf_cstr(&out), out.len);
    hf_buf_free(&out);
    hf_buf_free(&s);
    return rc;
}

static enum MHD_Result create_repo(hub_req *r)
{
    if (!hub_authorized(r))
        return hub_respond_unauthorized(r, "Invalid credentials: creating a repo needs the hub token");
    create_req c;
    hub_repo repo;
    if (parse_create(r, &c)) {
        create_req_clear(&c);
        return MHD_YES;
    }
    if (check_names(r, &c, &repo)) {
        create_req_clear(&c);
        return MHD_YES;
    }
    enum MHD_Result res;
    hf_buf tmp = HF_BUF_INIT, tmp_git = HF_BUF_INIT;
    const char *what = "creating a temp dir";
    int made_tmp = 0;
    if (hub_repo_exists(&repo)) {
        res = already_exists(r, &c);
        goto out;
    }
    if (hf_buf_printf(&tmp, "%s/tmp/create-XXXXXX", r->h->root) || !mkdtemp(tmp.ptr)) goto fail;
    made_tmp = 1;
    if (hf_buf_printf(&tmp_git, "%s/repo.git", tmp.ptr)) goto fail;
    if (build_repo(r->h, tmp_git.ptr, &c, &what)) goto fail;
    what = "creating the namespace dir";
    if (hf_mkdir_parents(repo.git_dir, 0777)) goto fail;
    what = "moving the repo into place";
    if (renameat2(AT_FDCWD, tmp_git.ptr, AT_FDCWD, repo.git_dir, RENAME_NOREPLACE) &&
        (errno != EINVAL || rename(tmp_git.ptr, repo.git_dir))) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            res = already_exists(r, &c); /* lost a race with a concurrent create */
            goto out;
        }
        goto fail;
    }
    res = respond_created(r, &c);
    goto out;
fail:
    res = hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot create %s%s/%s: %s failed: %s",
                            c.prefix, c.ns, c.name, what, strerror(errno));
out:
    if (made_tmp)
        rm_rf(tmp.ptr); /* what is left of it: all of it after a failure, the empty dir after success */
    hf_buf_free(&tmp);
    hf_buf_free(&tmp_git);
    hub_repo_clear(&repo);
    create_req_clear(&c);
    return res;
}

/* GET /api/whoami-v2: the user the token belongs to, in the Hub's shape (huggingface_hub reads "name",
 * "type", "orgs" and "auth.accessToken.role"). Without a valid token: 401, as the Hub answers. */
static enum MHD_Result whoami(hub_req *r)
{
    if (!hub_header(r, MHD_HTTP_HEADER_AUTHORIZATION) || !hub_authorized(r))
        return hub_respond_unauthorized(r, "Invalid credentials in Authorization header");
    hf_buf out = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "type", "user");
    hf_jw_kstr(&w, "id", "6866662d6769742d68756221"); /* fixed: one user per hub */
    hf_jw_kstr(&w, "name", r->h->user);
    hf_jw_kstr(&w, "fullname", r->h->user);
    hf_jw_kbool(&w, "emailVerified", 0);
    hf_jw_kbool(&w, "isPro", 0);
    hf_jw_key(&w, "orgs");
    hf_jw_arr_begin(&w);
    hf_jw_arr_end(&w);
    hf_jw_key(&w, "auth");
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "type", "access_token");
    hf_jw_key(&w, "accessToken");
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "displayName", "hfgit-hub");
    hf_jw_kstr(&w, "role", "write");
    hf_jw_obj_end(&w);
    hf_jw_obj_end(&w);
    hf_jw_obj_end(&w);
    enum MHD_Result rc = w.error
                             ? hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
                             : hub_respond(r, MHD_HTTP_OK, "application/json", hf_buf_cstr(&out), out.len);
    hf_buf_free(&out);
    return rc;
}

/* GET /api/{models,datasets,spaces}/<ns>/<name>: the repo's info, as much as clients read of it; a private
 * repo is "not found" without the token, as on the Hub. */
typedef struct info_req {
    hub_repo repo;
} info_req;

static enum MHD_Result repo_info(hub_req *r)
{
    info_req *q = r->state;
    if (hub_read_refusal(r, &q->repo))
        return hub_respond_error(r, MHD_HTTP_NOT_FOUND, "Repository not found");
    hf_buf out = HF_BUF_INIT, id = HF_BUF_INIT;
    hf_jw w;
    hf_buf_printf(&id, "%s/%s", q->repo.ns, q->repo.name);
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "id", hf_buf_cstr(&id));
    hf_jw_kstr(&w, "author", q->repo.ns);
    hf_jw_kbool(&w, "private", hub_repo_private(&q->repo));
    hf_jw_kbool(&w, "disabled", 0);
    hf_jw_kbool(&w, "gated", 0);
    hf_jw_obj_end(&w);
    enum MHD_Result rc = w.error
                             ? hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
                             : hub_respond(r, MHD_HTTP_OK, "application/json", hf_buf_cstr(&out), out.len);
    hf_buf_free(&out);
    hf_buf_free(&id);
    return rc;
}

static void info_free(hub_req *r)
{
    info_req *q = r->state;
    hub_repo_clear(&q->repo);
    free(q);
    r->state = NULL;
}

/* "/api/models/ns/name" -> "/ns/name"; "/api/datasets/ns/name" -> "/datasets/ns/name"; else -1. */
static int info_route(hub_req *r)
{
    const char *p = r->path + 5, *tail;
    hf_buf url = HF_BUF_INIT;
    int rc;
    if (strncmp(p, "models/", 7) == 0)
        rc = hf_buf_printf(&url, "/%s", p + 7);
    else if (strncmp(p, "datasets/", 9) == 0 || strncmp(p, "spaces/", 7) == 0)
        rc = hf_buf_printf(&url, "/%s", p);
    else
        return 0;
    info_req *q = calloc(1, sizeof(*q));
    if (rc || !q || hub_repo_parse(r->h, url.ptr, &q->repo) || (tail = q->repo.rest, *tail != '\0')) {
        if (q) hub_repo_clear(&q->repo);
        free(q);
        hf_buf_free(&url);
        return 0;
    }
    hf_buf_free(&url);
    q->repo.rest = NULL; /* pointed into url */
    atomic_fetch_add(&r->h->stats.requests_api, 1);
    r->state = q;
    r->on_free = info_free;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return hub_refuse(r, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", r->path);
    r->on_done = repo_info;
    return 1;
}

int hub_route_api(hub_req *r)
{
    if (strncmp(r->path, "/api/", 5) != 0) return 0;
    if (info_route(r)) return 1;
    if (strcmp(r->path, "/api/whoami-v2") == 0) {
        atomic_fetch_add(&r->h->stats.requests_api, 1);
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
            return hub_refuse(r, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for /api/whoami-v2");
        r->on_done = whoami;
        return 1;
    }
    if (strcmp(r->path, "/api/repos/create") != 0) return 0;
    atomic_fetch_add(&r->h->stats.requests_api, 1);
    if (strcmp(r->method, "POST") != 0) {
        hub_respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST for /api/repos/create");
        return 1;
    }
    r->on_done = create_repo; /* checks the token once the (small) body is in */
    return 1;
}
