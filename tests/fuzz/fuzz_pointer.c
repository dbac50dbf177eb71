/*
 * fuzz_pointer.c: libFuzzer target for LFS pointer parsing.
 *
 * Oracles: no crash or out-of-bounds read on any bytes; an accepted pointer has a valid oid; formatting it
 * and parsing that again gives the same pointer, flagged canonical; input flagged canonical is byte-identical
 * to the formatted text; hf_oid_valid agrees with hf_lfs_object_path on the input taken as a C string.
 */
#include "pointer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hf_lfs_pointer p, q;
    int canonical = -1, c2 = -1;
    if (hf_pointer_parse(&p, data, size, &canonical) == 0) {
        hf_buf b = HF_BUF_INIT;
        if (!hf_oid_valid(p.oid) || p.size > INT64_MAX || (canonical != 0 && canonical != 1)) abort();
        if (hf_pointer_format(&p, &b)) abort();
        if (canonical && (b.len != size || (size && memcmp(b.ptr, data, size)))) abort();
        if (hf_pointer_parse(&q, b.ptr, b.len, &c2) || c2 != 1 || q.size != p.size ||
            (p.size && strcmp(q.oid, p.oid)))
            abort();
        hf_buf_free(&b);
    } else if (canonical != 0) {
        abort();
    }

    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    hf_buf path = HF_BUF_INIT;
    int ok = hf_lfs_object_path(&path, "/lfs", s) == 0;
    if (ok != hf_oid_valid(s) || (ok && (path.len != 5 + 8 + 6 + 64 || strchr(s, '/')))) abort();
    hf_buf_free(&path);
    free(s);
    return 0;
}
