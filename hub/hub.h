/*
 * hub.h: internals of hfgit-hub shared between its files (not installed).
 *
 * Threading: libmicrohttpd runs one thread per connection (MHD_USE_THREAD_PER_CONNECTION), so handlers may
 * block (CGI pipes, bandwidth sleeps). Shared state is the read-only config, the knobs (a mutex), the stats
 * (atomics) and the file system, where every object appears by rename() only.
 *
 * Layout under --root:
 *   repos/<type>/<ns>/<name>.git          bare repositories (type: models, datasets, spaces)
 *   repos/<type>/<ns>/<name>.git/lfs/objects/aa/bb/<oid>   that repo's LFS objects (pre-receive reads them)
 *   hub.key                               the URL signing key (mode 0600)
 *   uploads/<upload id>/                  multipart uploads in progress (meta + part files)
 *   uploads/by-object/<key>               symlink to the open upload of one (repo, oid, size)
 *   tmp/                                  temp files, renamed into place on success
 */
#ifndef HF_HUB_H
#define HF_HUB_H

#include "../common/buf.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Fault knobs (design.md §5). Changed at start-up by flags and at run time by POST /__knobs. */
typedef struct hub_knobs {
    uint64_t bandwidth_cap;       /* bytes/s per connection for part/object bodies; 0 = unlimited */
    int fail_part_number;         /* part number to fail with 500 ... */
    int fail_part_times;          /* ... this many times (counts down) */
    int fail_complete_times;      /* completion POSTs to fail with 500 (counts down) */
    int drop_part_number;         /* part number whose connection is dropped halfway ... */
    int drop_part_times;          /* ... this many times (counts down) */
    long url_lifetime_secs;       /* lifetime of signed URLs issued from now on */
    int ignore_range;             /* 1: object GETs answer 200 with the whole object, as some servers do */
    uint64_t fail_range_from;     /* object GETs starting at this byte answer 500 ... */
    int fail_range_times;         /* ... this many times (counts down) */
    uint64_t corrupt_range_from;  /* object GETs starting at this byte get their first byte flipped ... */
    int corrupt_range_times;      /* ... this many times (counts down) */
    long git_push_stall_secs;     /* > 0: a git push (receive-pack POST) gets no answer for this long */
    int new_upload_per_batch;     /* 1: every batch opens a new multipart upload (as we assume huggingface.co
                                   * does) instead of answering an open one with fresh URLs */
    int expire_object_times;      /* whole-object upload PUTs to refuse with 403 "Request has expired", as S3
                                   * answers an expired presigned URL (counts down) */
} hub_knobs;

typedef struct hub_stats {
    atomic_long requests_git, requests_batch, requests_part, requests_object_put, requests_object_get;
    atomic_long requests_complete, requests_verify, requests_api, requests_other;
    atomic_long parts_ok, parts_refused;
    atomic_long completions_ok, completions_refused;
    atomic_long auth_on_signed_urls;   /* Authorization headers seen on signed URLs (must stay 0) */
    atomic_long parts_in_flight, peak_parts_in_flight;
    atomic_llong bytes_received;
    atomic_llong object_get_bytes;     /* body bytes of the object GET responses started (ranges or whole) */
    atomic_long pushes_rejected;
    atomic_long disk_full;             /* writes refused with 507: the disk (or a quota) was full */
} hub_stats;

typedef struct hub {
    char *root;                   /* absolute */
    char *token;                  /* NULL = no auth required for writes (not recommended) */
    const char *user;             /* the token's user (whoami) */
    char *base_url;               /* "http://127.0.0.1:PORT", no trailing slash */
    char *hooks_dir;              /* dir holding pre-receive, installed into each created repo */
    uint64_t multipart_threshold; /* default for repos created without lfsmultipartthresh */
    uint64_t chunk_size;          /* part size the hub hands out */
    unsigned char hmac_key[32];   /* <root>/hub.key: URLs and open uploads survive a restart (sign.c) */
    int empty_repos;              /* --empty-repos: create-repo makes no first commit */
    struct s3_config *s3;         /* --lfs-storage s3://...: multipart objects live in the store (s3.h) */
    char *tls_cert, *tls_key;     /* PEM text (--tls-cert, --tls-key): serve HTTPS; NULL = plain HTTP */
    long upload_max_age_secs;     /* open uploads older than this are removed; completion URLs live as long */
    pthread_mutex_t knobs_lock;
    hub_knobs knobs;
    hub_stats stats;
    struct MHD_Daemon *daemon;
} hub;

/* One HTTP request's state, kept in MHD's *con_cls between calls of the access handler. */
typedef struct hub_req hub_req;
struct hub_req {
    hub *h;
    struct MHD_Connection *conn;
    const char *method;
    char *path;                   /* URL path, percent-decoded by MHD, without query */
    /* Set by a route: on_data gets body chunks (return 0 to go on, -1 to drop the connection);
     * on_done queues the response once the body is complete; on_free releases state. */
    int (*on_data)(hub_req *r, const char *data, size_t len);
    enum MHD_Result (*on_done)(hub_req *r);
    void (*on_free)(hub_req *r);
    void *state;
    hf_buf body;                  /* default on_data: collects up to body_limit bytes */
    size_t body_limit;
    int body_too_large;
    int dropped;                  /* a knob dropped this connection */
    int responded;                /* a response is queued; later body bytes are discarded */
    unsigned refusal_status;      /* hub_refuse: answered with this once the body is read and discarded */
    char *refusal_msg;
};

/* A repository named by a URL path. */
typedef struct hub_repo {
    char type[16];                /* "models", "datasets", "spaces" */
    char ns[128], name[128];
    char *git_dir;                /* <root>/repos/<type>/<ns>/<name>.git (malloc) */
    const char *rest;             /* path after "/<ns>/<name>[.git]" in the URL, e.g. "/info/refs" */
} hub_repo;

/* routes: each returns 0 when the request is not theirs; otherwise 1, having either set r->on_* (on_done is
 * required) or already queued a response with hub_respond*() (e.g. 401/403 before reading a large body).
 * server.c tries them in this order. */
int hub_route_admin(hub_req *r);  /* GET /__stats, POST /__knobs            (admin.c) */
int hub_route_api(hub_req *r);    /* POST /api/repos/create                 (api.c) */
int hub_route_lfs(hub_req *r);    /* batch, signed object/part/complete/verify URLs (lfs_*.c) */
int hub_route_git(hub_req *r);    /* git smart HTTP via git http-backend    (git_backend.c) */

/* helpers (server.c) */
enum MHD_Result hub_respond(hub_req *r, unsigned status, const char *content_type, const char *body, size_t len);
enum MHD_Result hub_respond_json(hub_req *r, unsigned status, const hf_buf *json);
/* {"message": msg} (plus "error" with the same text, as the Hub does) with the git-lfs content type */
enum MHD_Result hub_respond_error(hub_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Refuses the request once its body has been read and discarded (an answer queued before that makes MHD
 * close the socket with unread data, which a client may see as a reset instead of the answer): on_data and
 * on_done are not called any more; the route's on_free still is, at the end, so state set before stays the
 * route's to release. 401 gets the WWW-Authenticate headers. For routes: always returns 1. */
int hub_refuse(hub_req *r, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 401 with WWW-Authenticate and LFS-Authenticate */
enum MHD_Result hub_respond_unauthorized(hub_req *r, const char *msg);
const char *hub_header(hub_req *r, const char *name);
const char *hub_query(hub_req *r, const char *name);
/* 1 when the request carries the hub token (Bearer, or Basic with the token as password) or no token is set. */
int hub_authorized(hub_req *r);
/* Parses "/<ns>/<name>...", "/datasets/<ns>/<name>...", "/spaces/<ns>/<name>..." into repo; 0 or -1.
 * Names are checked ([A-Za-z0-9._-], no "..") so a URL never escapes the root. Free with hub_repo_clear. */
int hub_repo_parse(const hub *h, const char *path, hub_repo *repo);
int hub_repo_exists(const hub_repo *repo);
/* 1 when the repository was created private (<git_dir>/hfgit-hub-private). */
int hub_repo_private(const hub_repo *repo);
/* Whether this request may read repo: 0 yes; else the status to refuse it with, the repo named "not found"
 * either way: 404 when it does not exist or a wrong token was sent, 401 (so that git and git-lfs fetch
 * credentials and try again) when a private repo is asked for without any. */
unsigned hub_read_refusal(hub_req *r, const hub_repo *repo);
void hub_repo_clear(hub_repo *repo);
/* Sleeps as needed so this connection stays under the bandwidth cap; *t0_ns and *bytes track the stream. */
void hub_throttle(hub *h, uint64_t *t0_ns, uint64_t *bytes, size_t new_bytes);
uint64_t hub_now_ns(void);

/* server.c: start on an already listening socket / stop (waits for connection threads). */
int hub_server_start(hub *h, int listen_fd);
void hub_server_stop(hub *h);

/* signed URLs (sign.c): HMAC-SHA256 over the method, path, expiry and (size >= 0) the body size, with the
 * hub key. base_url + path + "?exp=..[&size=..]&sig=..", valid for lifetime seconds from now. */
int hub_sign_url(hub *h, const char *method, const char *path, int64_t size, long lifetime, hf_buf *out_url);
/* 0 valid (*signed_size: the signed body size, or -1 when none was signed); -1 bad signature; -2 expired. */
int hub_check_signature(hub_req *r, int64_t *signed_size);
/* Reads <root>/hub.key, or makes it (random, mode 0600). 0, or -1 having said why on stderr. */
int hub_key_load(hub *h);

#endif
