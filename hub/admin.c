/*
 * admin.c: test endpoints. GET /__stats (every counter plus the knobs, one flat JSON object),
 * POST /__stats/reset (zero the counters), POST /__knobs (change knobs at run time; answers the knobs in
 * force). Writes need the hub token, checked once the small body is in (see server.c's life cycle).
 */
#include "hub.h"

#include "../common/json.h"

#include <stdlib.h>
#include <string.h>

/* The counters, named as the struct fields: one table drives /__stats and /__stats/reset. */
#define LONG_STATS(X)                                                                                        \
    X(requests_git)                                                                                          \
    X(requests_batch)                                                                                        \
    X(requests_part)                                                                                         \
    X(requests_object_put)                                                                                   \
    X(requests_object_get)                                                                                   \
    X(requests_complete)                                                                                     \
    X(requests_verify)                                                                                       \
    X(requests_api)                                                                                          \
    X(requests_other)                                                                                        \
    X(parts_ok)                                                                                              \
    X(parts_refused)                                                                                         \
    X(completions_ok)                                                                                        \
    X(completions_refused)                                                                                   \
    X(auth_on_signed_urls)                                                                                   \
    X(parts_in_flight)                                                                                       \
    X(peak_parts_in_flight)                                                                                  \
    X(pushes_rejected)                                                                                       \
    X(disk_full)

static void write_knobs(hf_jw *w, const hub_knobs *k)
{
    hf_jw_key(w, "bandwidth_cap");
    hf_jw_uint(w, k->bandwidth_cap);
    hf_jw_kint(w, "fail_part_number", k->fail_part_number);
    hf_jw_kint(w, "fail_part_times", k->fail_part_times);
    hf_jw_kint(w, "fail_complete_times", k->fail_complete_times);
    hf_jw_kint(w, "drop_part_number", k->drop_part_number);
    hf_jw_kint(w, "drop_part_times", k->drop_part_times);
    hf_jw_kint(w, "url_lifetime_secs", k->url_lifetime_secs);
    hf_jw_kint(w, "ignore_range", k->ignore_range);
    hf_jw_key(w, "fail_range_from");
    hf_jw_uint(w, k->fail_range_from);
    hf_jw_kint(w, "fail_range_times", k->fail_range_times);
    hf_jw_key(w, "corrupt_range_from");
    hf_jw_uint(w, k->corrupt_range_from);
    hf_jw_kint(w, "corrupt_range_times", k->corrupt_range_times);
    hf_jw_kint(w, "git_push_stall_secs", k->git_push_stall_secs);
    hf_jw_kint(w, "new_upload_per_batch", k->new_upload_per_batch);
    hf_jw_kint(w, "expire_object_times", k->expire_object_times);
}

static hub_knobs knobs_now(hub *h)
{
    pthread_mutex_lock(&h->knobs_lock);
    hub_knobs k = h->knobs;
    pthread_mutex_unlock(&h->knobs_lock);
    return k;
}

static enum MHD_Result respond_obj(hub_req *r, hf_buf *out)
{
    enum MHD_Result rc = hub_respond(r, MHD_HTTP_OK, "application/json", hf_buf_cstr(out), out->len);
    hf_buf_free(out);
    return rc;
}

static enum MHD_Result get_stats(hub_req *r)
{
    hub *h = r->h;
    hub_knobs k = knobs_now(h);
    hf_buf out = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
#define STAT_OUT(f) hf_jw_kint(&w, #f, atomic_load(&h->stats.f));
    LONG_STATS(STAT_OUT)
#undef STAT_OUT
    hf_jw_kint(&w, "bytes_received", atomic_load(&h->stats.bytes_received));
    hf_jw_kint(&w, "object_get_bytes", atomic_load(&h->stats.object_get_bytes));
    write_knobs(&w, &k);
    hf_jw_key(&w, "multipart_threshold");
    hf_jw_uint(&w, h->multipart_threshold);
    hf_jw_key(&w, "chunk_size");
    hf_jw_uint(&w, h->chunk_size);
    hf_jw_obj_end(&w);
    if (w.error) {
        hf_buf_free(&out);
        return hub_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    return respond_obj(r, &out);
}

static enum MHD_Result reset_stats(hub_req *r)
{
    hub *h = r->h;
    if (!hub_authorized(r))
        return hub_respond_unauthorized(r, "Invalid credentials: /__stats/reset needs the hub token");
        /* parts_in_flight is a live gauge (incremented and decremented around each part): leave it, and
         * restart the peak from it. */
#define STAT_ZERO(f)                                                                                         \
    if (&h->stats.f != &h->stats.parts_in_flight) atomic_store(&h->stats.f, 0);
    LONG_STATS(STAT_ZERO)
#undef STAT_ZERO
    atomic_store(&h->stats.bytes_received, 0);
    atomic_store(&h->stats.object_get_bytes, 0);
    atomic_store(&h->stats.peak_parts_in_flight, atomic_load(&h->stats.parts_in_flight));
    return get_stats(r);
}

/* Reads one knob value: an integer in [0, max]. -1 when absent, 0 when read, -2 when malformed. */
static int knob_value(const hf_json *doc, int tok, int64_t max, int64_t *out)
{
    if (tok < 0) return -1;
    if (hf_json_type_of(doc, tok) != HF_JSON_NUMBER || hf_json_int64(doc, tok, out) || *out < 0 || *out > max)
        return -2;
    return 0;
}

static enum MHD_Result respond_knobs(hub_req *r, const hub_knobs *k)
{
    hf_buf out = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    write_knobs(&w, k);
    hf_jw_obj_end(&w);
    return respond_obj(r, &out);
}

static enum MHD_Result get_knobs(hub_req *r)
{
    hub_knobs k = knobs_now(r->h);
    return respond_knobs(r, &k);
}

static enum MHD_Result set_knobs(hub_req *r)
{
    hub *h = r->h;
    if (!hub_authorized(r))
        return hub_respond_unauthorized(r, "Invalid credentials: /__knobs needs the hub token");
    hf_json *doc = NULL;
    if (hf_json_parse(&doc, hf_buf_cstr(&r->body), r->body.len) ||
        hf_json_type_of(doc, 0) != HF_JSON_OBJECT) {
        hf_json_free(doc);
        return hub_respond_error(r, MHD_HTTP_BAD_REQUEST,
                                 "the body must be a JSON object of knobs, e.g. {\"fail_part_number\":2,"
                                 "\"fail_part_times\":1}");
    }
    static const struct {
        const char *name;
        int64_t max;
    } names[] = {{"bandwidth_cap", INT64_MAX},
                 {"fail_part_number", 10000},
                 {"fail_part_times", 1000000},
                 {"fail_complete_times", 1000000},
                 {"drop_part_number", 10000},
                 {"drop_part_times", 1000000},
                 {"url_lifetime_secs", 10ll * 365 * 86400},
                 {"ignore_range", 1},
                 {"fail_range_from", INT64_MAX},
                 {"fail_range_times", 1000000},
                 {"corrupt_range_from", INT64_MAX},
                 {"corrupt_range_times", 1000000},
                 {"git_push_stall_secs", 3600},
                 {"new_upload_per_batch", 1},
                 {"expire_object_times", 1000000}};
    enum { NKNOBS = sizeof(names) / sizeof(names[0]) };
    int64_t v[NKNOBS];
    int given[NKNOBS];
    /* Check everything first: a request with one bad knob changes nothing. */
    for (int i = 0; i < hf_json_count(doc, 0); i++) {
        int key;
        hf_json_member(doc, 0, i, &key);
        int known = 0;
        for (size_t j = 0; j < NKNOBS; j++)
            known |= hf_json_str_eq(doc, key, names[j].name);
        if (!known) {
            char *k = hf_json_strdup(doc, key);
            enum MHD_Result rc = hub_respond_error(
                r, MHD_HTTP_BAD_REQUEST,
                "unknown knob '%.100s' (known: bandwidth_cap, fail_part_number, fail_part_times, "
                "fail_complete_times, drop_part_number, drop_part_times, url_lifetime_secs, ignore_range, "
                "fail_range_from, fail_range_times, corrupt_range_from, corrupt_range_times, "
                "git_push_stall_secs, new_upload_per_batch, expire_object_times)",
                k ? k : "?");
            free(k);
            hf_json_free(doc);
            return rc;
        }
    }
    for (size_t j = 0; j < NKNOBS; j++) {
        int rc = knob_value(doc, hf_json_get(doc, 0, names[j].name), names[j].max, &v[j]);
        given[j] = rc == 0;
        if (rc == -2) {
            hf_json_free(doc);
            return hub_respond_error(r, MHD_HTTP_BAD_REQUEST, "knob %s must be an integer from 0 to %lld",
                                     names[j].name, (long long)names[j].max);
        }
    }
    hf_json_free(doc);
    pthread_mutex_lock(&h->knobs_lock);
    hub_knobs *k = &h->knobs;
    if (given[0]) k->bandwidth_cap = (uint64_t)v[0];
    if (given[1]) k->fail_part_number = (int)v[1];
    if (given[2]) k->fail_part_times = (int)v[2];
    if (given[3]) k->fail_complete_times = (int)v[3];
    if (given[4]) k->drop_part_number = (int)v[4];
    if (given[5]) k->drop_part_times = (int)v[5];
    if (given[6]) k->url_lifetime_secs = (long)v[6];
    if (given[7]) k->ignore_range = (int)v[7];
    if (given[8]) k->fail_range_from = (uint64_t)v[8];
    if (given[9]) k->fail_range_times = (int)v[9];
    if (given[10]) k->corrupt_range_from = (uint64_t)v[10];
    if (given[11]) k->corrupt_range_times = (int)v[11];
    if (given[12]) k->git_push_stall_secs = (long)v[12];
    if (given[13]) k->new_upload_per_batch = (int)v[13];
    if (given[14]) k->expire_object_times = (int)v[14];
    hub_knobs now = *k;
    pthread_mutex_unlock(&h->knobs_lock);
    return respond_knobs(r, &now);
}

int hub_route_admin(hub_req *r)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    enum MHD_Result (*handler)(hub_req *) = NULL;
    if (strcmp(r->path, "/__stats") == 0)
        handler = get ? get_stats : NULL;
    else if (strcmp(r->path, "/__stats/reset") == 0)
        handler = post ? reset_stats : NULL;
    else if (strcmp(r->path, "/__knobs") == 0)
        handler = post ? set_knobs : get ? get_knobs : NULL;
    else
        return 0;
    if (!handler) {
        hub_respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s", r->method, r->path);
        return 1;
    }
    r->on_done = handler;
    return 1;
}
