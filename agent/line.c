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

int agent_line_read(FILE *in, hf_buf *line, uint64_t max, uint64_t *dropped)
{
    char chunk[16384];
    int got_any = 0;

    hf_buf_clear(line);
    *dropped = 0;
    while (fgets(chunk, sizeof(chunk), in)) {
        size_t n = strlen(chunk); /* a NUL byte in the line cuts this piece short: the parser refuses it */
        int end = n > 0 && chunk[n - 1] == '\n';
        got_any = 1;
        if (line->len + n <= max) {
            if (hf_buf_put(line, chunk, n) != 0) return -1;
        } else {
            size_t room = line->len < max ? (size_t)(max - line->len) : 0;
            if (room && hf_buf_put(line, chunk, room) != 0) return -1;
            *dropped += n - room;
        }
        if (end) return 1;
    }
    return got_any ? 1 : ferror(in) ? -1 : 0;
}
