/*
 * lfs.c: routing of the LFS side of hfgit-hub (hub_route_lfs) and the helpers its files share: signed-URL
 * checks, object paths, the per-repo multipart threshold. See lfs.h for the URL map.
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

int lfs_check_signed(hub_req *r, int allow_auth, int64_t *signed_size)
{
    if (!allow_auth && hub_header(r, MHD_HTTP_HEADER_AUTHORIZATION)) {
        /* S3 answers 400 when a presigned URL also carries an Authorization header; clients must not send
         * their token to an object store. Counted so tests can assert it never happens. */
        atomic_fetch_add(&r->h->stats.auth_on_signed_urls, 1);
        return hub_refuse(
            r, MHD_HTTP_BAD_REQUEST,
            "InvalidArgument: Only one auth mechanism allowed; this URL is presigned, so the request "
            "must not carry an Authorization header");
    }
    int s = hub_check_signature(r, signed_size);
    if (s == -2)
        return hub_refuse(r, MHD_HTTP_FORBIDDEN,
                          "AccessDenied: Request has expired (ask the batch API for a new URL)");
    if (s)
        return hub_refuse(
            r, MHD_HTTP_FORBIDDEN,
            "SignatureDoesNotMatch: the request signature does not match this URL and method (use "
            "the URL verbatim as the batch API returned it, with the method of its action)");
    return 0;
}

/* ---- paths and settings ---- */

int lfs_oid_ok(const char *oid)
{
    return oid && hf_oid_valid(oid); /* never a path: oids become file names */
}

int lfs_s3_key(const char *git_dir, const char *oid, hf_buf *key)
{
    hf_buf p = HF_BUF_INIT;
    char line[1024];
    FILE *f = hf_buf_printf(&p, "%s/lfs/s3/%s", git_dir, oid) ? NULL : fopen(p.ptr, "r");
    hf_buf_free(&p);
    if (!f) return -1;
    int ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok) return -1;
    line[strcspn(line, "\n")] = '\0';
    return line[0] && hf_buf_puts(key, line) == 0 ? 0 : -1;
}

int lfs_object_path(const char *git_dir, const char *oid, hf_buf *out)
{
    return hf_buf_printf(out, "%s/lfs/objects/%.2s/%.2s/%s", git_dir, oid, oid + 2, oid);
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

int lfs_out_of_space(int err)
{
    return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

enum MHD_Result lfs_respond_io_error(hub_req *r, int err, const char *what)
{
    if (!lfs_out_of_space(err)) {
        fprintf(stderr, "hfgit-hub: %s %s: %s: %s\n", r->method, r->path, what, strerror(err));
        return hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: %s", what, strerror(err));
    }
    atomic_fetch_add(&r->h->stats.disk_full, 1);
    fprintf(stderr, "hfgit-hub: out of disk space under %s (%s; %s)\n", r->h->root, what, strerror(err));
    return hub_respond_error(r, MHD_HTTP_INSUFFICIENT_STORAGE,
                             "InsufficientStorage: the server is out of storage space (%s: %s); nothing was "
                             "stored, try again later",
                             what, strerror(err));
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
    if (locks) return hub_refuse(r, MHD_HTTP_NOT_IMPLEMENTED, "file locking is not supported by this server");
    return hub_refuse(r, MHD_HTTP_NOT_FOUND, "no such LFS endpoint: %s %s", r->method, r->path);
}
