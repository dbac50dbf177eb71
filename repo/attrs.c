/* attrs.c: .gitattributes track/untrack editing and the binary-file rule (see attrs.h). */
#include "attrs.h"

#include "../common/error.h"

#include <string.h>

int hf_attrs_escape_pattern(const char *path, hf_buf *out)
{
    hf_buf_clear(out);
    for (const char *p = path; *p; p++) {
        int rc = *p == ' ' ? hf_buf_puts(out, "[[:space:]]") : *p == '#' ? hf_buf_puts(out, "\\#") : hf_buf_putc(out, *p);
        if (rc < 0)
            return hf_error_set(HF_ENOMEM, "out of memory");
    }
    return 0;
}

int hf_attrs_escape_filename(const char *path, hf_buf *out)
{
    hf_buf_clear(out);
    if (!path || !path[0] || strpbrk(path, "\n\r"))
        return hf_error_set(HF_EINVAL,
                            "cannot name \"%s\" in .gitattributes: a pattern is one line (rename the file)",
                            path ? path : "");
    for (const char *p = path; *p; p++) {
        int rc;
        switch (*p) {
        case ' ':
        case '\t': /* git-lfs leaves a tab alone, which ends the pattern there; [[:space:]] matches it */
            rc = hf_buf_puts(out, "[[:space:]]");
            break;
        case '#': /* a line starting with '#' is a comment */
        case '*':
        case '?':
        case '[':
        case ']':
        case '\\': /* git-lfs turns it into '/' (a Windows separator); here it is part of the name */
            rc = hf_buf_putc(out, '\\');
            if (rc == 0)
                rc = hf_buf_putc(out, *p);
            break;
        case '!': /* a leading '!' is a negative pattern, which git ignores in attributes */
        case '"': /* a leading '"' starts a C-quoted pattern */
            rc = p == path ? hf_buf_putc(out, '\\') : 0;
            if (rc == 0)
                rc = hf_buf_putc(out, *p);
            break;
        default:
            rc = hf_buf_putc(out, *p);
        }
        if (rc < 0)
            return hf_error_set(HF_ENOMEM, "out of memory");
    }
    return 0;
}

/* edit (track or untrack) applied to the pattern that names exactly the file path. */
static int edit_filename(hf_buf *content, const char *path, int (*edit)(hf_buf *, const char *))
{
    hf_buf pattern = HF_BUF_INIT;
    int rc = hf_attrs_escape_filename(path, &pattern);
    if (rc == 0)
        rc = edit(content, pattern.ptr);
    hf_buf_free(&pattern);
    return rc;
}

int hf_attrs_track_filename(hf_buf *content, const char *path)
{
    return edit_filename(content, path, hf_attrs_track);
}

int hf_attrs_untrack_filename(hf_buf *content, const char *path)
{
    return edit_filename(content, path, hf_attrs_untrack);
}

/* The line [p, end) (without its newline) sets pattern filter=lfs? */
static int line_tracks(const char *p, const char *end, const char *pattern)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    size_t n = strlen(pattern);
    if ((size_t)(end - p) < n || memcmp(p, pattern, n) != 0)
        return 0;
    p += n;
    if (p < end && *p != ' ' && *p != '\t' && *p != '\r')
        return 0; /* a longer pattern that merely starts the same */
    /* a whole-word "filter=lfs" among the attributes */
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        if (p - w == 10 && memcmp(w, "filter=lfs", 10) == 0)
            return 1;
    }
    return 0;
}

int hf_attrs_has_track(const char *content, size_t len, const char *pattern)
{
    const char *p = content, *end = content + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (line_tracks(p, le, pattern))
            return 1;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int hf_attrs_track(hf_buf *content, const char *pattern)
{
    if (hf_attrs_has_track(content->ptr ? content->ptr : "", content->len, pattern))
        return 0;
    if (content->ptr && content->len && content->ptr[content->len - 1] != '\n' && hf_buf_putc(content, '\n') < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    if (hf_buf_printf(content, "%s %s\n", pattern, HF_LFS_TRACK_ATTRS) < 0)
        return hf_error_set(HF_ENOMEM, "out of memory");
    return 1;
}

int hf_attrs_untrack(hf_buf *content, const char *pattern)
{
    hf_buf out = HF_BUF_INIT;
    int removed = 0;
    const char *p = content->ptr ? content->ptr : "", *end = p + content->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        if (line_tracks(p, nl ? nl : end, pattern)) {
            removed++;
        } else if (hf_buf_put(&out, p, (size_t)(next - p)) < 0) {
            hf_buf_free(&out);
            return hf_error_set(HF_ENOMEM, "out of memory");
        }
        p = next;
    }
    if (removed) {
        hf_buf_free(content);
        *content = out;
        if (!content->ptr && hf_buf_put(content, "", 0) < 0)
            return hf_error_set(HF_ENOMEM, "out of memory");
    } else {
        hf_buf_free(&out);
    }
    return removed;
}

int hf_is_binary(const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != 0x7F)
            continue;
        if (c == 7 || c == 8 || c == 9 || c == 10 || c == 12 || c == 13 || c == 27)
            continue;
        return 1;
    }
    return 0;
}
