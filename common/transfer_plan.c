/*
 * transfer_plan.c: turning an upload action's header map into a part plan, and the retry policy from the
 * environment. See transfer.h.
 *
 * git-lfs re-serialises header maps with sorted keys, and other servers may not zero-pad part numbers, so
 * the order the keys arrive in means nothing: parts are sorted by their numeric value here, and the count
 * is checked against the object size so that a truncated or doubled list fails before any byte is sent.
 */
#include "transfer.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Part numbers with more significant digits than this are not ones S3 could issue (at most 10,000 parts);
 * leading zeros ("00001") are padding and do not count. */
#define PART_KEY_MAX_DIGITS 9

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

int hf_transfer_url_ok(const char *url)
{
    return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) &&
           !strpbrk(url, "\r\n");
}

static int header_safe(const char *name, const char *value)
{
    if (!*name || strpbrk(name, ":\r\n \t") || strpbrk(value, "\r\n")) return 0;
    return 1;
}

int hf_multipart_plan_set_chunk_size(hf_multipart_plan *plan, uint64_t chunk_size)
{
    if (chunk_size == 0) return hf_error_set(HF_EINVAL, "the upload action's chunk_size is 0");
    plan->multipart = 1;
    plan->chunk_size = chunk_size;
    return 0;
}

static int add_part(hf_multipart_plan *plan, const char *name, const char *value)
{
    const char *digits = name + strspn(name, "0");
    if (strlen(digits) > PART_KEY_MAX_DIGITS)
        return hf_error_set(HF_EINVAL, "part key \"%.20s\" is not a part number S3 could issue", name);
    uint64_t n = strtoull(digits, NULL, 10);
    if (n == 0) return hf_error_set(HF_EINVAL, "part key \"%.20s\": part numbers start at 1", name);
    if (!hf_transfer_url_ok(value))
        return hf_error_set(HF_EINVAL, "part %llu: the URL is not an http:// or https:// URL",
                            (unsigned long long)n);
    if (plan->part_count == plan->part_cap) {
        size_t cap = plan->part_cap ? plan->part_cap * 2 : 16;
        char **urls = realloc(plan->part_urls, cap * sizeof(*urls));
        if (!urls) return hf_error_set(HF_ENOMEM, "out of memory");
        plan->part_urls = urls;
        uint64_t *nums = realloc(plan->part_numbers, cap * sizeof(*nums));
        if (!nums) return hf_error_set(HF_ENOMEM, "out of memory");
        plan->part_numbers = nums;
        plan->part_cap = cap;
    }
    char *url = strdup(value);
    if (!url) return hf_error_set(HF_ENOMEM, "out of memory");
    plan->part_urls[plan->part_count] = url;
    plan->part_numbers[plan->part_count] = n;
    plan->part_count++;
    return 0;
}

/* Whether the entries are HTTP headers (single PUT) or keys to ignore (multipart) is known only once the
 * whole map is read: git-lfs sorts keys bytewise, so "X-Foo" arrives before "chunk_size". An entry that
 * cannot be an HTTP header is therefore remembered here and refused in hf_multipart_plan_finish only for a
 * single PUT. */
static int add_header(hf_multipart_plan *plan, const char *name, const char *value)
{
    if (!header_safe(name, value)) {
        if (!plan->bad_header && !(plan->bad_header = strdup(name)))
            return hf_error_set(HF_ENOMEM, "out of memory");
        return 0;
    }
    if (plan->header_count + 1 >= plan->header_cap) {
        size_t cap = plan->header_cap ? plan->header_cap * 2 : 8;
        char **h = realloc(plan->headers, cap * sizeof(*h));
        if (!h) return hf_error_set(HF_ENOMEM, "out of memory");
        plan->headers = h;
        plan->header_cap = cap;
    }
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = malloc(len);
    if (!line) return hf_error_set(HF_ENOMEM, "out of memory");
    snprintf(line, len, "%s: %s", name, value);
    plan->headers[plan->header_count++] = line;
    plan->headers[plan->header_count] = NULL;
    return 0;
}

int hf_multipart_plan_add(hf_multipart_plan *plan, const char *name, const char *value)
{
    if (strcmp(name, "chunk_size") == 0) {
        char *end;
        if (!all_digits(value))
            return hf_error_set(HF_EINVAL, "the upload action's chunk_size \"%.40s\" is not a decimal number",
                                value);
        errno = 0;
        unsigned long long c = strtoull(value, &end, 10);
        if (errno == ERANGE)
            return hf_error_set(HF_EINVAL, "the upload action's chunk_size \"%.40s\" is out of range", value);
        return hf_multipart_plan_set_chunk_size(plan, c);
    }
    if (all_digits(name)) return add_part(plan, name, value);
    return add_header(plan, name, value);
}

static int cmp_part(const void *a, const void *b)
{
    const uint64_t *x = *(const uint64_t *const *)a, *y = *(const uint64_t *const *)b;
    return *x < *y ? -1 : *x > *y;
}

/* Sorts part_urls by part_numbers (index sort, then permute both arrays). */
static int sort_parts(hf_multipart_plan *plan)
{
    size_t n = plan->part_count;
    const uint64_t **idx = malloc(n * sizeof(*idx));
    char **urls = malloc(n * sizeof(*urls));
    uint64_t *nums = malloc(n * sizeof(*nums));
    if (!idx || !urls || !nums) {
        free(idx), free(urls), free(nums);
        return hf_error_set(HF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = &plan->part_numbers[i];
    qsort(idx, n, sizeof(*idx), cmp_part);
    for (size_t i = 0; i < n; i++) {
        size_t from = (size_t)(idx[i] - plan->part_numbers);
        urls[i] = plan->part_urls[from];
        nums[i] = plan->part_numbers[from];
    }
    free(idx);
    free(plan->part_urls);
    free(plan->part_numbers);
    plan->part_urls = urls;
    plan->part_numbers = nums;
    plan->part_cap = n;
    return 0;
}

int hf_multipart_plan_finish(hf_multipart_plan *plan, const char *oid, uint64_t size)
{
    if (!plan->multipart) {
        if (plan->part_count)
            return hf_error_set(HF_EINVAL, "uploading %s: the action has part URLs but no chunk_size", oid);
        if (plan->bad_header)
            return hf_error_set(HF_EINVAL,
                                "uploading %s: action header \"%.40s\" cannot be sent as an HTTP header", oid,
                                plan->bad_header);
        return 0;
    }
    if (plan->part_count > HF_MULTIPART_MAX_PARTS)
        return hf_error_set(HF_EINVAL, "uploading %s: %zu parts is more than the %d S3 allows", oid,
                            plan->part_count, HF_MULTIPART_MAX_PARTS);
    if (plan->part_count && sort_parts(plan) != 0) return HF_ENOMEM;
    for (size_t i = 1; i < plan->part_count; i++)
        if (plan->part_numbers[i] == plan->part_numbers[i - 1])
            return hf_error_set(HF_EINVAL, "uploading %s: part %llu appears twice in the upload action", oid,
                                (unsigned long long)plan->part_numbers[i]);
    uint64_t want = hf_multipart_part_count(size, plan->chunk_size);
    if (plan->part_count != want)
        return hf_error_set(
            HF_EINVAL,
            "uploading %s: the server sent %zu part URLs, but %llu bytes in parts of %llu bytes "
            "need %llu",
            oid, plan->part_count, (unsigned long long)size, (unsigned long long)plan->chunk_size,
            (unsigned long long)want);
    /* Sorted, distinct and N of them: they are 1..N unless one is missing and a larger one stands in. The
     * completion names parts by position, so a gap would send part 4's ETag as part 3's. */
    for (size_t i = 0; i < plan->part_count; i++)
        if (plan->part_numbers[i] != i + 1)
            return hf_error_set(HF_EINVAL,
                                "uploading %s: the upload action has no URL for part %zu (it lists part %llu "
                                "instead; part numbers must run from 1 to %zu)",
                                oid, i + 1, (unsigned long long)plan->part_numbers[i], plan->part_count);
    return 0;
}

void hf_multipart_plan_free(hf_multipart_plan *plan)
{
    for (size_t i = 0; i < plan->part_count; i++)
        free(plan->part_urls[i]);
    for (size_t i = 0; i < plan->header_count; i++)
        free(plan->headers[i]);
    free(plan->part_urls);
    free(plan->part_numbers);
    free(plan->headers);
    free(plan->bad_header);
    hf_multipart_plan empty = HF_MULTIPART_PLAN_INIT;
    *plan = empty;
}

/* ---- retry policy from the environment ---- */

static void env_uint(const char *name, unsigned *out)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !all_digits(v)) return;
    unsigned long x = strtoul(v, &end, 10);
    if (*end == '\0' && x <= 0xffffffffUL) *out = (unsigned)x;
}

void hf_retry_policy_from_env(hf_retry_policy *p)
{
    unsigned attempts = (unsigned)p->max_attempts;
    env_uint("HFGIT_RETRY_MAX_ATTEMPTS", &attempts);
    if (attempts >= 1 && attempts <= 1000) p->max_attempts = (int)attempts;
    env_uint("HFGIT_RETRY_BASE_MS", &p->base_delay_ms);
    env_uint("HFGIT_RETRY_MAX_DELAY_MS", &p->max_delay_ms);
    env_uint("HFGIT_RETRY_MAX_TOTAL_MS", &p->max_total_ms);
}
