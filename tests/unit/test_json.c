/* test_json.c: the JSON reader (strictness, unescaping, integers, big documents) and writer (escaping). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../common/error.h"
#include "../../common/json.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hf_json *parse_ok(const char *text, size_t len)
{
    hf_json *doc = NULL;
    int rc = hf_json_parse(&doc, text, len);
    if (rc) print_error("unexpected failure on [%.*s]: %s\n", (int)len, text, hf_error_last_message());
    assert_int_equal(rc, 0);
    assert_non_null(doc);
    return doc;
}

static hf_json *parse_str(const char *text)
{
    return parse_ok(text, strlen(text));
}

/* Parses and returns the unescaped value of the top-level string. */
static char *string_value(const char *json)
{
    hf_json *doc = parse_str(json);
    char *s = hf_json_strdup(doc, 0);
    assert_non_null(s);
    hf_json_free(doc);
    return s;
}

static void test_valid_document(void **state)
{
    const char *text = " {\"event\":\"upload\",\"size\":346232,\"ok\":true,\"no\":false,\"nil\":null,"
                       "\"arr\":[1,{\"x\":[]},\"s\"],\"obj\":{},\"f\":-1.5e-3} \r\n";
    hf_json *doc = parse_str(text);
    assert_int_equal(hf_json_type_of(doc, 0), HF_JSON_OBJECT);
    assert_int_equal(hf_json_count(doc, 0), 8);
    assert_true(hf_json_str_eq(doc, hf_json_get(doc, 0, "event"), "upload"));
    int64_t v;
    assert_int_equal(hf_json_get_int64(doc, 0, "size", &v), 0);
    assert_int_equal(v, 346232);
    int b = -1;
    assert_int_equal(hf_json_bool(doc, hf_json_get(doc, 0, "ok"), &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(hf_json_bool(doc, hf_json_get(doc, 0, "no"), &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(hf_json_bool(doc, hf_json_get(doc, 0, "nil"), &b), HF_EINVAL);
    assert_int_equal(hf_json_type_of(doc, hf_json_get(doc, 0, "nil")), HF_JSON_NULL);
    assert_int_equal(hf_json_type_of(doc, hf_json_get(doc, 0, "f")), HF_JSON_NUMBER);
    assert_int_equal(hf_json_int64(doc, hf_json_get(doc, 0, "f"), &v), HF_EINVAL);

    int arr = hf_json_get(doc, 0, "arr");
    assert_int_equal(hf_json_type_of(doc, arr), HF_JSON_ARRAY);
    assert_int_equal(hf_json_count(doc, arr), 3);
    int inner = hf_json_at(doc, arr, 1);
    assert_int_equal(hf_json_type_of(doc, inner), HF_JSON_OBJECT);
    assert_int_equal(hf_json_count(doc, hf_json_get(doc, inner, "x")), 0);
    assert_true(hf_json_str_eq(doc, hf_json_at(doc, arr, 2), "s")); /* index skips the nested subtree */
    assert_int_equal(hf_json_at(doc, arr, 3), -1);
    assert_int_equal(hf_json_at(doc, arr, -1), -1);
    assert_int_equal(hf_json_count(doc, hf_json_get(doc, 0, "obj")), 0);

    int key;
    int val = hf_json_member(doc, 0, 7, &key);
    assert_true(hf_json_str_eq(doc, key, "f"));
    assert_int_equal(hf_json_type_of(doc, val), HF_JSON_NUMBER);
    assert_int_equal(hf_json_member(doc, 0, 8, &key), -1);
    assert_int_equal(key, -1);

    /* wrong types and bad indices are answered, never crash */
    assert_int_equal(hf_json_get(doc, arr, "x"), -1);
    assert_int_equal(hf_json_at(doc, 0, 0), -1);
    assert_int_equal(hf_json_type_of(doc, -1), HF_JSON_INVALID);
    assert_int_equal(hf_json_type_of(doc, 9999), HF_JSON_INVALID);
    assert_null(hf_json_strdup(doc, arr));
    assert_int_equal(hf_json_get_int64(doc, 0, "absent", &v), HF_ENOTFOUND);
    assert_null(hf_json_get_strdup(doc, 0, "absent"));
    assert_null(hf_json_get_strdup(doc, 0, "size"));
    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_json_str(doc, arr, &out), HF_EINVAL);
    hf_json_free(doc);
}

static void test_scalars_at_top_level(void **state)
{
    const char *ok[] = {"0",    "-0", "123", " 7 ",   "1.5e-3",  "2E+10",  "true",  "false", "null",
                        "\"\"", "[]", "{}",  " [ ] ", "\t{ }\n", "[[[]]]", "-9.25", "0.0"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        hf_json_free(parse_str(ok[i]));
    hf_json *doc = parse_str("42");
    int64_t v;
    assert_int_equal(hf_json_int64(doc, 0, &v), 0);
    assert_int_equal(v, 42);
    hf_json_free(doc);
    /* the text need not be NUL-terminated: "[1]" followed by junk outside len */
    doc = parse_ok("[1]garbage", 3);
    assert_int_equal(hf_json_count(doc, 0), 1);
    hf_json_free(doc);
}

static void test_escapes(void **state)
{
    char *s = string_value("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t end\"");
    assert_string_equal(s, "q\" b\\ s/ \b\f\n\r\t end");
    free(s);
    s = string_value("\"https://x/?a=1\\u0026b=2\\u003c\\u003E\"");
    assert_string_equal(s, "https://x/?a=1&b=2<>");
    free(s);
    s = string_value("\"\\u00e9\\u20AC\\u0001\\u007f\"");
    assert_string_equal(s, "\xc3\xa9\xe2\x82\xac\x01\x7f");
    free(s);
    s = string_value("\"\\ud83d\\ude00 \\uDBFF\\uDFFF \\ud800\\udc00\""); /* U+1F600, U+10FFFF, U+10000 */
    assert_string_equal(s, "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xf0\x90\x80\x80");
    free(s);
    s = string_value("\"raw UTF-8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    assert_string_equal(s, "raw UTF-8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    free(s);

    /* hf_json_str appends; str_eq and get compare unescaped text */
    hf_json *doc = parse_str("{\"a\\u0026b\":\"x\\ty\",\"plain\":\"p\"}");
    hf_buf out = HF_BUF_INIT;
    hf_buf_puts(&out, ">");
    assert_int_equal(hf_json_str(doc, hf_json_get(doc, 0, "a&b"), &out), 0);
    assert_string_equal(out.ptr, ">x\ty");
    assert_int_equal(out.len, 4);
    assert_true(hf_json_str_eq(doc, hf_json_get(doc, 0, "a&b"), "x\ty"));
    assert_false(hf_json_str_eq(doc, hf_json_get(doc, 0, "a&b"), "x\t"));
    assert_false(hf_json_str_eq(doc, hf_json_get(doc, 0, "a&b"), "x\tyz"));
    assert_int_equal(hf_json_get(doc, 0, "a\\u0026b"), -1);
    assert_int_equal(hf_json_get(doc, 0, "plai"), -1);
    hf_buf_free(&out);
    hf_json_free(doc);
}

/* A string value that equals a key name must not be taken for the key (jsmn's jsoneq pitfall). */
static void test_value_not_mistaken_for_key(void **state)
{
    hf_json *doc = parse_str("{\"x\":\"href\",\"href\":\"right\",\"n\":{\"href\":\"nested\"}}");
    char *s = hf_json_get_strdup(doc, 0, "href");
    assert_string_equal(s, "right");
    free(s);
    hf_json_free(doc);
}

static void test_long_string(void **state)
{
    size_t n = 3 << 20;
    char *text = malloc(n + 3);
    text[0] = '"';
    for (size_t i = 0; i < n; i++)
        text[1 + i] = (char)('a' + i % 26);
    text[n + 1] = '"';
    hf_json *doc = parse_ok(text, n + 2);
    char *s = hf_json_strdup(doc, 0);
    assert_int_equal(strlen(s), n);
    assert_memory_equal(s, text + 1, n);
    free(s);
    hf_json_free(doc);
    free(text);
}

/* An HF multipart action: 10,000 part URLs in a header object, with \u0026 in each. */
static void test_ten_thousand_members(void **state)
{
    hf_buf text = HF_BUF_INIT;
    hf_buf_puts(&text, "{\"action\":{\"href\":\"https://hub/complete?a=1\\u0026b=2\",\"header\":{");
    for (int i = 1; i <= 10000; i++)
        hf_buf_printf(&text,
                      "\"%05d\":\"https://s3.example/bucket/obj?partNumber=%d\\u0026X-Amz-Signature=%064d\",",
                      i, i, i);
    hf_buf_puts(&text, "\"chunk_size\":\"5368709120\"},\"expires_at\":\"0001-01-01T00:00:00Z\"}}");
    hf_json *doc = parse_ok(text.ptr, text.len);
    int header = hf_json_get(doc, hf_json_get(doc, 0, "action"), "header");
    assert_int_equal(hf_json_count(doc, header), 10001);
    int64_t chunk;
    assert_int_equal(hf_json_get_int64(doc, header, "chunk_size", &chunk), 0);
    assert_int_equal(chunk, INT64_C(5368709120));
    hf_buf url = HF_BUF_INIT, want = HF_BUF_INIT;
    for (int i = 0; i < 10000; i++) { /* O(1) per member: this loop is linear */
        int key;
        int val = hf_json_member(doc, header, i, &key);
        char name[8];
        snprintf(name, sizeof(name), "%05d", i + 1);
        assert_true(hf_json_str_eq(doc, key, name));
        hf_buf_clear(&url);
        hf_buf_clear(&want);
        assert_int_equal(hf_json_str(doc, val, &url), 0);
        hf_buf_printf(&want, "https://s3.example/bucket/obj?partNumber=%d&X-Amz-Signature=%064d", i + 1,
                      i + 1);
        assert_string_equal(url.ptr, want.ptr);
    }
    hf_buf_free(&url);
    hf_buf_free(&want);
    hf_buf_free(&text);
    hf_json_free(doc);
}

static void test_int64(void **state)
{
    hf_json *doc = parse_str("[\"5368709120\",5368709120,9223372036854775807,-9223372036854775808,"
                             "9223372036854775808,-9223372036854775809,\"9223372036854775807\","
                             "\"9223372036854775808\",\"-1\",\"+1\",\"\",\"1.0\",1.0,1e3,-0,\"007\",\"1 \","
                             "\"\\u0031\",true,99999999999999999999]");
    struct {
        int rc;
        int64_t v;
    } want[] = {{0, INT64_C(5368709120)}, {0, INT64_C(5368709120)}, {0, INT64_MAX}, {0, INT64_MIN},
                {HF_EINVAL, 0},           {HF_EINVAL, 0},           {0, INT64_MAX}, {HF_EINVAL, 0},
                {HF_EINVAL, 0},           {HF_EINVAL, 0},           {HF_EINVAL, 0}, {HF_EINVAL, 0},
                {HF_EINVAL, 0},           {HF_EINVAL, 0},           {0, 0},         {0, 7},
                {HF_EINVAL, 0},           {HF_EINVAL, 0},           {HF_EINVAL, 0}, {HF_EINVAL, 0}};
    assert_int_equal(hf_json_count(doc, 0), (int)(sizeof(want) / sizeof(want[0])));
    for (int i = 0; i < hf_json_count(doc, 0); i++) {
        int64_t v = -12345;
        int rc = hf_json_int64(doc, hf_json_at(doc, 0, i), &v);
        if (rc != want[i].rc) print_error("element %d: rc %d (%s)\n", i, rc, hf_error_last_message());
        assert_int_equal(rc, want[i].rc);
        assert_true(rc ? v == -12345 : v == want[i].v);
    }
    hf_json_free(doc);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {"",
                                      "   ",
                                      "\n",
                                      "{",
                                      "[",
                                      "[1,]",
                                      "{\"a\":1,}",
                                      "[1 2]",
                                      "{\"a\" 1}",
                                      "{\"a\":}",
                                      "{1:2}",
                                      "{\"a\":1 \"b\":2}",
                                      "01",
                                      "-01",
                                      "1.",
                                      ".5",
                                      "-",
                                      "1e",
                                      "1e+",
                                      "+1",
                                      "tru",
                                      "truex",
                                      "nul",
                                      "True",
                                      "[1]x",
                                      "1 2",
                                      "{} {}",
                                      "[] ]",
                                      "\"abc",
                                      "\"\\x\"",
                                      "\"\\u12\"",
                                      "\"\\u12g4\"",
                                      "\"\\",
                                      "\"a\\\"",
                                      "\"a\tb\"",
                                      "\"\x01\"",
                                      "\"\x1f\"",
                                      "\"\\ud800\"",
                                      "\"\\udc00\"",
                                      "\"\\ud800\\u0041\"",
                                      "\"\\ud800x\"",
                                      "\"\\udbff\\ud800\"",
                                      "\"\\u0000\"",
                                      "\"\xff\"",
                                      "\"\xc0\xaf\"",
                                      "\"\xed\xa0\x80\"",
                                      "\"\xf4\x90\x80\x80\"",
                                      "\"\xe2\x82\"",
                                      "\"\xc3\"",
                                      "[1,,2]",
                                      "[,]",
                                      "{,}",
                                      "]",
                                      "}",
                                      "[}",
                                      "{]",
                                      ":",
                                      "\"a\":1",
                                      "[\"a\":1]",
                                      "{\"a\":1:2}",
                                      "NaN",
                                      "Infinity",
                                      "'a'",
                                      "/*c*/1",
                                      "\xef\xbb\xbf{}",
                                      "[-]",
                                      "{\"a\"}",
                                      "{\"a\",\"b\"}",
                                      "[1,]",
                                      "\v1",
                                      "\f[]",
                                      "[1]\x00",
                                      "{\"a\":[}",
                                      "{\"a\":{]}",
                                      "[\"\n\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hf_json *doc = (hf_json *)1;
        size_t len = strlen(bad[i]);
        if (!strcmp(bad[i], "[1]\x00")) len = 4;
        int rc = hf_json_parse(&doc, bad[i], len);
        if (rc != HF_EINVAL) print_error("accepted bad input #%zu [%s]\n", i, bad[i]);
        assert_int_equal(rc, HF_EINVAL);
        assert_null(doc);
        assert_non_null(strstr(hf_error_last_message(), "at byte"));
    }
}

static void test_error_offsets(void **state)
{
    hf_json *doc;
    assert_int_equal(hf_json_parse(&doc, "[1,]", 4), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "at byte 3"));
    assert_int_equal(hf_json_parse(&doc, "{\"a\":1} x", 9), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "trailing data after the JSON value at byte 8"));
    assert_int_equal(hf_json_parse(&doc, "\"ab\\q\"", 6), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "invalid escape in string at byte 3"));
}

static void test_nul_bytes(void **state)
{
    hf_json *doc;
    static const char in_string[] = "{\"a\":\"x\0y\"}";
    static const char after[] = "{\"a\":1}\0{\"b\":2}";
    static const char before[] = "\0{}";
    assert_int_equal(hf_json_parse(&doc, in_string, sizeof(in_string) - 1), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "NUL"));
    assert_int_equal(hf_json_parse(&doc, after, sizeof(after) - 1), HF_EINVAL);
    assert_int_equal(hf_json_parse(&doc, before, sizeof(before) - 1), HF_EINVAL);
    assert_null(doc);
}

static void test_depth(void **state)
{
    size_t n = 100000;
    char *text = malloc(2 * n);
    memset(text, '[', n);
    memset(text + n, ']', n);
    hf_json *doc;
    hf_json_free(parse_ok(text + n - 512, 1024)); /* exactly 512 levels */
    assert_int_equal(hf_json_parse(&doc, text + n - 513, 1026), HF_EINVAL);
    assert_non_null(strstr(hf_error_last_message(), "nesting"));
    assert_int_equal(hf_json_parse(&doc, text, 2 * n), HF_EINVAL);
    assert_int_equal(hf_json_parse(&doc, text, n), HF_EINVAL); /* unterminated hostile input */
    memset(text, '{', n);
    assert_int_equal(hf_json_parse(&doc, text, n), HF_EINVAL);
    free(text);
}

static void test_writer(void **state)
{
    hf_buf out = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &out);
    hf_jw_obj_begin(&w);
    hf_jw_kstr(&w, "oid", "abc");
    hf_jw_key(&w, "parts");
    hf_jw_arr_begin(&w);
    for (int i = 1; i <= 2; i++) {
        hf_jw_obj_begin(&w);
        hf_jw_kint(&w, "partNumber", i);
        hf_jw_kstr(&w, "etag", "\"9b2cf535f27731c974343645a3985328\"");
        hf_jw_obj_end(&w);
    }
    hf_jw_arr_end(&w);
    hf_jw_kbool(&w, "t", 1);
    hf_jw_kbool(&w, "f", 0);
    hf_jw_key(&w, "n");
    hf_jw_str(&w, NULL);
    hf_jw_key(&w, "a");
    hf_jw_arr_begin(&w);
    hf_jw_int(&w, INT64_MIN);
    hf_jw_uint(&w, UINT64_MAX);
    hf_jw_arr_begin(&w);
    hf_jw_arr_end(&w);
    hf_jw_obj_begin(&w);
    hf_jw_obj_end(&w);
    hf_jw_null(&w);
    hf_jw_strn(&w, "xyz", 2);
    hf_jw_arr_end(&w);
    hf_jw_obj_end(&w);
    assert_int_equal(w.error, 0);
    assert_string_equal(
        out.ptr,
        "{\"oid\":\"abc\",\"parts\":[{\"partNumber\":1,\"etag\":\"\\\"9b2cf535f27731c974343645a3985328"
        "\\\"\"},{\"partNumber\":2,\"etag\":\"\\\"9b2cf535f27731c974343645a3985328\\\"\"}],"
        "\"t\":true,\"f\":false,\"n\":null,\"a\":[-9223372036854775808,"
        "18446744073709551615,[],{},null,\"xy\"]}");
    /* and it reads back: the ETag keeps its quotes */
    hf_json *doc = parse_ok(out.ptr, out.len);
    char *etag = hf_json_get_strdup(doc, hf_json_at(doc, hf_json_get(doc, 0, "parts"), 1), "etag");
    assert_string_equal(etag, "\"9b2cf535f27731c974343645a3985328\"");
    free(etag);
    hf_json_free(doc);

    /* a writer appending after existing text adds no leading comma */
    hf_buf_clear(&out);
    hf_buf_puts(&out, "prefix ");
    hf_jw_init(&w, &out);
    hf_jw_int(&w, 1);
    assert_string_equal(out.ptr, "prefix 1");
    hf_buf_free(&out);
}

static void test_escape(void **state)
{
    hf_buf out = HF_BUF_INIT;
    const char in[] = "q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80&<>";
    assert_int_equal(hf_json_escape(&out, in, sizeof(in) - 1), 0);
    assert_string_equal(out.ptr, "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\x7f/\xc3\xa9\xe2\x82\xac"
                                 "\xf0\x9f\x98\x80&<>\"");
    hf_buf_clear(&out);
    /* invalid UTF-8 (lone continuation, overlong, truncated, encoded surrogate) becomes U+FFFD per byte */
    assert_int_equal(hf_json_escape(&out,
                                    "a\x80"
                                    "b\xc0\xaf"
                                    "c\xe2\x82"
                                    "\xed\xa0\x80",
                                    11),
                     0);
    assert_string_equal(out.ptr, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
    hf_buf_clear(&out);
    assert_int_equal(hf_json_escape(&out, "x\0y", 3), 0); /* NUL is escaped; the reader refuses it */
    assert_string_equal(out.ptr, "\"x\\u0000y\"");
    hf_buf_clear(&out);
    assert_int_equal(hf_json_escape(&out, "", 0), 0);
    assert_string_equal(out.ptr, "\"\"");
    hf_buf_free(&out);
}

/* Every byte 1..255 through the writer and back: valid UTF-8 survives, the rest is U+FFFD. */
static void test_round_trip(void **state)
{
    char in[300];
    size_t n = 0;
    for (int c = 1; c < 128; c++)
        in[n++] = (char)c;
    memcpy(in + n, "\xc3\xa9\xf4\x8f\xbf\xbf", 6);
    n += 6;
    hf_buf out = HF_BUF_INIT;
    assert_int_equal(hf_json_escape(&out, in, n), 0);
    hf_json *doc = parse_ok(out.ptr, out.len);
    hf_buf back = HF_BUF_INIT;
    assert_int_equal(hf_json_str(doc, 0, &back), 0);
    assert_int_equal(back.len, n);
    assert_memory_equal(back.ptr, in, n);
    hf_json_free(doc);
    hf_buf_free(&back);
    hf_buf_free(&out);
}

/* A parsed document is immutable: several threads may read it at once (run under TSan in CI). */
static void *read_all(void *arg)
{
    const hf_json *doc = arg;
    long sum = 0;
    char *s;
    for (int i = 0; i < hf_json_count(doc, 0); i++) {
        int key, val = hf_json_member(doc, 0, i, &key);
        int64_t v;
        if (hf_json_int64(doc, val, &v) == 0) sum += (long)v;
        if ((s = hf_json_strdup(doc, key))) sum += (long)strlen(s);
        free(s);
    }
    return (void *)sum;
}

static void test_concurrent_reads(void **state)
{
    hf_buf text = HF_BUF_INIT;
    hf_jw w;
    hf_jw_init(&w, &text);
    hf_jw_obj_begin(&w);
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k\\%d", i); /* escaped in the text, decoded by every reader */
        hf_jw_kint(&w, key, i);
    }
    hf_jw_obj_end(&w);
    hf_json *doc = parse_ok(text.ptr, text.len);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, read_all, doc), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_int_equal((long)r,
                         999L * 1000 / 2 + 2 * 10 + 3 * 90 + 4 * 900 + 1000); /* values + key lengths */
    }
    hf_json_free(doc);
    hf_buf_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_document),
        cmocka_unit_test(test_scalars_at_top_level),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_value_not_mistaken_for_key),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_ten_thousand_members),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_offsets),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_concurrent_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
