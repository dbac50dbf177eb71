/*
 * agent_request.c: builds git-lfs custom-transfer upload request lines from an LFS batch response, so tests
 * and benchmarks can drive git-lfs-hfmultipart directly (no git-lfs in the loop).
 *
 *   agent_request BATCH_RESPONSE_FILE PATH_FOR_OID...
 *
 * For each object in the response that has an upload action, prints one line
 *   {"event":"upload","oid":…,"size":…,"path":…,"action":{"href":…,"header":{…},"expires_at":"0001-01-01T00:00:00Z"}}
 * with header keys sorted bytewise and &, <, > escaped as \u0026 etc., as git-lfs 3.3.0 (Go encoding/json)
 * writes them. PATH_FOR_OID arguments are "OID=PATH"; an object without one gets path "/nonexistent".
 */
#include "../../common/buf.h"
#include "../../common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's encoder: JSON string with HTML characters escaped. */
static void go_str(hf_buf *out, const char *s)
{
    hf_buf tmp = HF_BUF_INIT;
    hf_json_escape(&tmp, s, strlen(s));
    for (size_t i = 0; i < tmp.len; i++) {
        char c = tmp.ptr[i];
        if (c == '&')
            hf_buf_puts(out, "\\u0026");
        else if (c == '<')
            hf_buf_puts(out, "\\u003c");
        else if (c == '>')
            hf_buf_puts(out, "\\u003e");
        else
            hf_buf_putc(out, c);
    }
    hf_buf_free(&tmp);
}

typedef struct kv {
    char *k, *v;
} kv;

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: agent_request BATCH_RESPONSE_FILE [OID=PATH...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    hf_buf text = HF_BUF_INIT;
    char chunk[65536];
    size_t n;
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        hf_buf_put(&text, chunk, n);
    fclose(f);
    hf_json *doc;
    if (hf_json_parse(&doc, text.ptr, text.len) != 0) {
        fprintf(stderr, "agent_request: cannot parse %s\n", argv[1]);
        return 1;
    }
    int objs = hf_json_get(doc, 0, "objects");
    for (int i = 0; i < hf_json_count(doc, objs); i++) {
        int o = hf_json_at(doc, objs, i);
        int up = hf_json_get(doc, hf_json_get(doc, o, "actions"), "upload");
        if (up < 0) continue;
        char *oid = hf_json_get_strdup(doc, o, "oid");
        int64_t size = 0;
        hf_json_get_int64(doc, o, "size", &size);
        const char *path = "/nonexistent";
        for (int a = 2; a < argc; a++)
            if (oid && strncmp(argv[a], oid, strlen(oid)) == 0 && argv[a][strlen(oid)] == '=')
                path = argv[a] + strlen(oid) + 1;
        char *href = hf_json_get_strdup(doc, up, "href");
        int hdr = hf_json_get(doc, up, "header");
        int nh = hf_json_count(doc, hdr);
        kv *h = calloc((size_t)nh + 1, sizeof(*h));
        for (int j = 0; j < nh; j++) {
            int kt, vt = hf_json_member(doc, hdr, j, &kt);
            h[j].k = hf_json_strdup(doc, kt);
            h[j].v = hf_json_strdup(doc, vt);
        }
        qsort(h, (size_t)nh, sizeof(*h), cmp_kv);
        hf_buf line = HF_BUF_INIT;
        hf_buf_puts(&line, "{\"event\":\"upload\",\"oid\":");
        go_str(&line, oid ? oid : "");
        hf_buf_printf(&line, ",\"size\":%lld,\"path\":", (long long)size);
        go_str(&line, path);
        hf_buf_puts(&line, ",\"action\":{\"href\":");
        go_str(&line, href ? href : "");
        if (nh > 0) {
            hf_buf_puts(&line, ",\"header\":{");
            for (int j = 0; j < nh; j++) {
                if (j) hf_buf_putc(&line, ',');
                go_str(&line, h[j].k ? h[j].k : "");
                hf_buf_putc(&line, ':');
                go_str(&line, h[j].v ? h[j].v : "");
                free(h[j].k);
                free(h[j].v);
            }
            hf_buf_putc(&line, '}');
        }
        hf_buf_puts(&line, ",\"expires_at\":\"0001-01-01T00:00:00Z\"}}\n");
        fwrite(line.ptr, 1, line.len, stdout);
        hf_buf_free(&line);
        free(h);
        free(href);
        free(oid);
    }
    hf_json_free(doc);
    hf_buf_free(&text);
    return 0;
}
