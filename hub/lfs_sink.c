/*
 * lfs_sink.c: a request body streamed into a temp file and hashed on the way (object PUTs: SHA-256; part PUTs:
 * MD5 for the ETag). The temp file sits in a directory on the destination's file system, so publishing it is
 * one rename(): readers see the whole file or nothing.
 *
 * Speed: MHD hands us chunks of up to its connection buffer (server.c sets a 4 MiB memory limit); each is
 * written with one write() loop and hashed once, so the cost per byte is one copy into the page cache plus
 * the digest.
 */
#include "lfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lfs_sink_open(lfs_sink *s, const char *dir, int digest_type, uint64_t expected)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->expected = expected;
    hf_buf path = HF_BUF_INIT;
    if (hf_buf_printf(&path, "%s/.incoming.XXXXXX", dir))
        return -1;
    s->fd = mkostemp(path.ptr, O_CLOEXEC);
    if (s->fd < 0) {
        hf_buf_free(&path);
        return -1;
    }
    s->tmp_path = hf_buf_detach(&path);
    if (hf_digest_new(&s->digest, (hf_digest_type)digest_type)) {
        lfs_sink_discard(s);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int lfs_sink_write(hub *h, lfs_sink *s, const char *data, size_t len)
{
    hub_throttle(h, &s->throttle_t0, &s->throttle_bytes, len);
    atomic_fetch_add(&h->stats.bytes_received, (long long)len);
    if (s->overflow || s->io_error)
        return 0; /* already failed: keep reading so the client gets the answer */
    if (s->received + len > s->expected) {
        s->overflow = 1;
        return 0;
    }
    hf_digest_update(s->digest, data, len);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(s->fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->io_error = n < 0 ? errno : EIO; /* answered with 500 once the body is in */
            return 0;
        }
        off += (size_t)n;
    }
    s->received += len;
    return 0;
}

int lfs_sink_finish(lfs_sink *s, char *hex)
{
    if (s->fd >= 0 && close(s->fd) != 0 && !s->io_error)
        s->io_error = errno;
    s->fd = -1;
    if (s->io_error) {
        errno = s->io_error;
        return -1;
    }
    return hf_digest_final_hex(s->digest, hex) ? -1 : 0;
}

int lfs_sink_commit(lfs_sink *s, const char *dest)
{
    if (lfs_mkdirs_for(dest) || rename(s->tmp_path, dest))
        return -1;
    free(s->tmp_path);
    s->tmp_path = NULL;
    return 0;
}

void lfs_sink_discard(lfs_sink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->tmp_path) {
        unlink(s->tmp_path);
        free(s->tmp_path);
        s->tmp_path = NULL;
    }
    hf_digest_free(s->digest);
    s->digest = NULL;
}
