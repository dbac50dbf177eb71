/*
 * lfs.c: routing of the LFS side of hfgit-hub (hub_route_lfs) and the helpers its files share: deferred
 * refusals, signed-URL checks, object paths, the per-repo multipart threshold. See lfs.h for the URL map.
 */
#include "lfs.h"

#include "../common/pointer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- deferred refusals ---- */

typedef struct refusal {
    unsigned status;
    char msg[1024];
} refusal;

static int discard_body(hub_req *r, const char *data, size_t len)
{
    return 0;
}

static enum MHD_Result send_refusal(hub_req *r)
{
    refusal *f = r->state;
    return hub_respond_error(r, f->status, "%s", f->msg);
}

static void free_refusal(hub_req *r)
{
    free(r->state);
    r->state = NULL;
}

int lfs_refuse(hub_req *r, unsigned status, const char *fmt, ...)
{
    if (r->on_free) r->on_free(r);
    r->state = NULL;
    r->on_free = NULL;
    refusal *f = calloc(1, sizeof(*f));
    if (!f) {
        hub_respond(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
        return 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    f->status = status;
    r->state = f;
    r->on_data = discard_body;
    r->on_done = send_refusal;
    r->on_free = free_refusal;
    return 1;
}

int lfs_check_signed(hub_req *r, int allow_auth)
{
    if (!allow_auth && hub_header(r, MHD_HTTP_HEADER_AUTHORIZATION)) {
        /* S3 answers 400 when a presigned URL also carries an Authorization header; clients must not send
         * their token to an object store. Counted so tests can assert it never happens. */
        atomic_fetch_add(&r->h->stats.auth_on_signed_urls, 1);
        return lfs_refuse(
            r, MHD_HTTP_BAD_REQUEST,
            "InvalidArgument: Only one auth mechanism allowed; this URL is presigned, so the request "
            "must not carry an Authorization header");
    }
    int s = hub_check_signature(r);
    if (s == -2)
        return lfs_refuse(r, MHD_HTTP_FORBIDDEN,
                          "AccessDenied: Request has expired (ask the batch API for a new URL)");
    if (s)
        return lfs_refuse(r, MHD_HTTP_FORBIDDEN,
                          "SignatureDoesNotMatch: the request signature does not match this URL (use the URL "
                          "verbatim as the batch API returned it)");
    return 0;
}

/* ---- paths and settings ---- */

int lfs_oid_ok(const char *oid)
{
    return oid && hf_oid_valid(oid); /* never a path: oids become file names */
}

int lfs_object_path(const char *git_dir, const char *oid, hf_buf *out)
{
    return hf_buf_printf(out, "%s/lfs/objects/%.2s/%.2s/%s", git_dir, oid, oid + 2, oid);
}

int lfs_mkdirs_for(const char *path)
{
    char *p = strdup(path);
    if (!p) return -1;
    char *slash = strrchr(p, '/');
    if (slash) *slash = '\0';
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = (mkdir(p, 0777) && errno != EEXIST) ? -1 : 0;
    free(p);
    return rc;
}

uint64_t lfs_repo_threshold(const hub *h, const char *git_dir)
{
    hf_buf path = HF_BUF_INIT;
    uint64_t v = h->multipart_threshold;
    if (hf_buf_printf(&path, "%s/hfgit-hub-threshold", git_dir) == 0) {
        FILE *f = fopen(path.ptr, "r");
        unsigned long long t;
        if (f) {
            if (fscanf(f, "%llu", &t) == 1 && t > 0) v = t;
            fclose(f);
        }
    }
    hf_buf_free(&path);
    return v;
}

int lfs_content_length(hub_req *r, uint64_t *out)
{
    const char *cl = hub_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl || !*cl || strlen(cl) > 19 || strspn(cl, "0123456789") != strlen(cl)) return -1;
    *out = strtoull(cl, NULL, 10);
    return 0;
}

void lfs_stat_peak(atomic_long *peak, long value)
{
    long cur = atomic_load(peak);
    while (value > cur && !atomic_compare_exchange_weak(peak, &cur, value)) {
    }
}

/* ---- routing ---- */

static int starts(const char *s, const char *prefix, const char **tail)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0) return 0;
    *tail = s + n;
    return 1;
}

int hub_route_lfs(hub_req *r)
{
    const char *tail;
    if (starts(r->path, "/__object/", &tail)) return lfs_route_object(r, tail);
    if (starts(r->path, "/__verify/", &tail)) return lfs_route_verify(r, tail);
    if (starts(r->path, "/__part/", &tail)) return lfs_route_part(r, tail);
    if (starts(r->path, "/__complete/", &tail)) return lfs_route_complete(r, tail);
    if (!strstr(r->path, "/info/lfs")) return 0;
    hub_repo repo;
    if (hub_repo_parse(r->h, r->path, &repo)) return 0;
    if (strcmp(repo.rest, "/info/lfs/objects/batch") == 0)
        return lfs_route_batch(r, &repo); /* owns repo from here */
    int mine = strcmp(repo.rest, "/info/lfs") == 0 || strncmp(repo.rest, "/info/lfs/", 10) == 0;
    int locks = strncmp(repo.rest, "/info/lfs/locks", 15) == 0;
    hub_repo_clear(&repo);
    if (!mine) return 0;
    atomic_fetch_add(&r->h->stats.requests_other, 1);
    /* git-lfs asks for locks/verify before each push; 501 makes it set lfs.<url>.locksverify=false quietly.
     */
    if (locks) return lfs_refuse(r, MHD_HTTP_NOT_IMPLEMENTED, "file locking is not supported by this server");
    return lfs_refuse(r, MHD_HTTP_NOT_FOUND, "no such LFS endpoint: %s %s", r->method, r->path);
}
