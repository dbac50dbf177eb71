/*
 * line.c: reading one protocol line from git-lfs with a bound on memory (see agent.h).
 *
 * A request line carries every part URL of an object: 10,000 presigned URLs of ~1 KB make a 10 MB line, and
 * nothing stops a broken or hostile writer from sending gigabytes without a newline. getline would grow its
 * buffer until the process dies; this reader keeps at most `max` bytes and drops the rest of an over-long
 * line while still consuming it, so the next request starts where it should.
 */
#include "agent.h"

#include <stdio.h>
#include <string.h>

/* Appends what fits under `max` and counts the rest as dropped (still consumed from the stream). */
static int keep_piece(hf_buf *line, const char *piece, size_t n, uint64_t max, uint64_t *dropped)
{
    size_t room = line->len < max ? (size_t)(max - line->len) : 0;
    size_t keep = n < room ? n : room;
    if (keep && hf_buf_put(line, piece, keep) != 0) return -1;
    *dropped += n - keep;
    return 0;
}

/* Bytes are taken one at a time (getc_unlocked: no lock, no call per byte in practice) because fgets cannot
 * say how much it read when the line holds a NUL byte: strlen would stop there, miss the newline behind it,
 * and glue the next request onto this one. The NUL stays in the line so the parser can refuse it by name. */
int agent_line_read(FILE *in, hf_buf *line, uint64_t max, uint64_t *dropped)
{
    char chunk[16384];
    size_t n = 0;
    int c = EOF, got_any = 0;

    hf_buf_clear(line);
    *dropped = 0;
    while ((c = getc_unlocked(in)) != EOF) {
        got_any = 1;
        chunk[n++] = (char)c;
        if (c != '\n' && n < sizeof(chunk)) continue;
        if (keep_piece(line, chunk, n, max, dropped) != 0) return -1;
        n = 0;
        if (c == '\n') return 1;
    }
    if (n && keep_piece(line, chunk, n, max, dropped) != 0) return -1;
    return got_any ? 1 : ferror(in) ? -1 : 0;
}
