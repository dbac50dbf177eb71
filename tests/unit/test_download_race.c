/* test_download_race.c: two downloads of the same object must not spoil each other's file (common/download.c).
 *
 * A multi-range download assembles "<oid>.hfdl" under a locked record. Once it is verified the record goes and
 * the lock is released, but the caller has not moved the file into the store yet. A second process that was
 * waiting for the lock then starts "<oid>.hfdl" afresh (O_TRUNC + ftruncate): if that were the file handed to
 * the first caller, the first caller would rename a zero-filled file of the right size into the store. Here
 * the second download runs between the first's return and its rename, against a server that fails, so the
 * truncated file stays truncated: the first caller's file must still hash to the oid.
 *
 * A small libmicrohttpd server on 127.0.0.1 serves the object with Range support (206 + Content-Range).
 * needs: libmicrohttpd (the Makefile links it into unit tests)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/digest.h"
#include "../../common/download.h"
#include "../../common/error.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OBJ_SIZE (256u * 1024u) /* four ranges of the minimum range size */

static unsigned char object[OBJ_SIZE];
static char oid[HF_SHA256_HEX_LEN + 1];
static char dir[64];
static struct MHD_Daemon *daemon_;
static int port;

/* GET /ok serves the object (a Range request gets exactly that range); anything else is a 404. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
    unsigned long long from = 0, to = OBJ_SIZE - 1;
    int status = MHD_HTTP_OK;
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    if (strcmp(url, "/ok") != 0) {
        status = MHD_HTTP_NOT_FOUND;
    } else if (range) {
        if (sscanf(range, "bytes=%llu-%llu", &from, &to) != 2 || from > to || to >= OBJ_SIZE) return MHD_NO;
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    struct MHD_Response *r =
        status == MHD_HTTP_NOT_FOUND
            ? MHD_create_response_from_buffer(9, (void *)"not found", MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer((size_t)(to - from + 1), object + from, MHD_RESPMEM_PERSISTENT);
    if (status == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%u", from, to, OBJ_SIZE);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < OBJ_SIZE; i++)
        object[i] = (unsigned char)((i * 0x9E3779B97F4A7C15ull) >> 56);
    if (hf_sha256_hex(object, OBJ_SIZE, oid) != 0) return -1;
    snprintf(dir, sizeof(dir), "/tmp/hfgit-dlrace.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                               on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!daemon_) return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    return port && hf_http_global_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (daemon_) MHD_stop_daemon(daemon_);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int fetch(const char *path, hf_buf *out)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    hf_download_options o = HF_DOWNLOAD_OPTIONS_INIT;
    o.url = url;
    o.oid = oid;
    o.size = OBJ_SIZE;
    o.dir = dir;
    o.parallel = 4;
    o.range_size = HF_DOWNLOAD_MIN_RANGE_SIZE;
    o.retry.max_attempts = 1;
    return hf_download_object(&o, out);
}

static void test_second_download_leaves_first_file_alone(void **state)
{
    (void)state;
    hf_buf a = HF_BUF_INIT, b = HF_BUF_INIT;
    assert_int_equal(fetch("/ok", &a), 0);
    /* the other process, after the lock was released and before this caller moved its file: it fails */
    assert_true(fetch("/missing", &b) < 0);
    char got[HF_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    assert_int_equal(hf_sha256_file(a.ptr, got, &size), 0);
    assert_int_equal(size, OBJ_SIZE);
    assert_string_equal(got, oid); /* before the fix: the zeros of a file truncated by the second download */
    unlink(a.ptr);
    hf_buf_free(&a);
    hf_buf_free(&b);
}

static void test_each_caller_gets_a_file_of_its_own(void **state)
{
    (void)state;
    hf_buf a = HF_BUF_INIT, b = HF_BUF_INIT;
    assert_int_equal(fetch("/ok", &a), 0);
    assert_int_equal(fetch("/ok", &b), 0);
    assert_string_not_equal(a.ptr, b.ptr);
    struct stat st;
    assert_int_equal(stat(a.ptr, &st), 0);
    assert_int_equal(stat(b.ptr, &st), 0);
    unlink(a.ptr);
    unlink(b.ptr);
    hf_buf_free(&a);
    hf_buf_free(&b);
}

/* A download that waited for the lock while another process fetched the object finds it in the store (the
 * library passes store_path): it fetches nothing (the server would answer 404 here), hands back no file, and
 * removes what an earlier interrupted run left. */
static void test_object_already_stored_is_not_fetched(void **state)
{
    (void)state;
    char store[128], leftover[160];
    snprintf(store, sizeof(store), "%s/stored-object", dir);
    FILE *f = fopen(store, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(object, 1, OBJ_SIZE, f), OBJ_SIZE);
    assert_int_equal(fclose(f), 0);
    snprintf(leftover, sizeof(leftover), "%s/%s.hfdl", dir, oid);
    f = fopen(leftover, "wb");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/missing", port);
    hf_download_options o = HF_DOWNLOAD_OPTIONS_INIT;
    o.url = url;
    o.oid = oid;
    o.size = OBJ_SIZE;
    o.dir = dir;
    o.range_size = HF_DOWNLOAD_MIN_RANGE_SIZE;
    o.retry.max_attempts = 1;
    o.store_path = store;
    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_download_object(&o, &out), 0);
    assert_int_equal(out.len, 0);
    struct stat st;
    assert_int_not_equal(stat(leftover, &st), 0);
    unlink(store);
    hf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_download_leaves_first_file_alone),
        cmocka_unit_test(test_each_caller_gets_a_file_of_its_own),
        cmocka_unit_test(test_object_already_stored_is_not_fetched),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
