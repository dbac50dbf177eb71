/*
 * lfs_sink.c: a request body streamed into a temp file and hashed on the way (object PUTs and completions:
 * SHA-256; part PUTs: MD5 for the ETag). The temp file sits in a directory on the destination's file system,
 * so publishing it is one rename(): readers see the whole file or nothing.
 *
 * Speed: MD5 runs at ~850 MB/s per stream on the target CPU, so hashing inline (receive, hash, write, one
 * after the other on the connection thread) tops out well below that. Bodies of 2 MiB and more are hashed on
 * a helper thread instead: the connection thread copies each piece into a small ring (4 x 1 MiB, constant
 * memory), writes it to the file and goes back to reading the socket while the helper hashes. The digest
 * stays exact: every byte written is hashed once, in order.
 */
#include "lfs.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RING_SLOTS 4
#define SLOT_SIZE (1u << 20)
#ifndef HASHER_MIN_BODY
#define HASHER_MIN_BODY (2u << 20) /* below this a thread costs more than it saves */
#endif

struct lfs_hasher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hf_digest *digest;
    char *slot[RING_SLOTS];
    size_t len[RING_SLOTS];
    unsigned filled, hashed; /* slots handed over / slots hashed; filled - hashed <= RING_SLOTS */
    int done;
};

static void *hasher_main(void *arg)
{
    lfs_hasher *hs = arg;
    pthread_mutex_lock(&hs->mu);
    for (;;) {
        while (hs->filled == hs->hashed && !hs->done)
            pthread_cond_wait(&hs->cv, &hs->mu);
        if (hs->filled == hs->hashed) break; /* done and drained */
        unsigned i = hs->hashed % RING_SLOTS;
        pthread_mutex_unlock(&hs->mu);
        hf_digest_update(hs->digest, hs->slot[i], hs->len[i]);
        pthread_mutex_lock(&hs->mu);
        hs->hashed++;
        pthread_cond_broadcast(&hs->cv);
    }
    pthread_mutex_unlock(&hs->mu);
    return NULL;
}

static lfs_hasher *hasher_start(hf_digest *digest)
{
    lfs_hasher *hs = calloc(1, sizeof(*hs));
    if (!hs) return NULL;
    char *mem = malloc((size_t)RING_SLOTS * SLOT_SIZE);
    if (!mem) {
        free(hs);
        return NULL;
    }
    for (int i = 0; i < RING_SLOTS; i++)
        hs->slot[i] = mem + (size_t)i * SLOT_SIZE;
    hs->digest = digest;
    pthread_mutex_init(&hs->mu, NULL);
    pthread_cond_init(&hs->cv, NULL);
    if (pthread_create(&hs->thread, NULL, hasher_main, hs)) {
        pthread_mutex_destroy(&hs->mu);
        pthread_cond_destroy(&hs->cv);
        free(mem);
        free(hs);
        return NULL;
    }
    return hs;
}

/* Hands len bytes (<= SLOT_SIZE) to the hasher; waits while the ring is full (back pressure on the socket).
 */
static void hasher_feed(lfs_hasher *hs, const char *data, size_t len)
{
    pthread_mutex_lock(&hs->mu);
    while (hs->filled - hs->hashed == RING_SLOTS)
        pthread_cond_wait(&hs->cv, &hs->mu);
    unsigned i = hs->filled % RING_SLOTS;
    pthread_mutex_unlock(&hs->mu);
    memcpy(hs->slot[i], data, len); /* the hasher never touches a slot between hashed and filled */
    hs->len[i] = len;
    pthread_mutex_lock(&hs->mu);
    hs->filled++;
    pthread_cond_broadcast(&hs->cv);
    pthread_mutex_unlock(&hs->mu);
}

/* Waits until everything fed is hashed, stops the thread, frees the ring. */
static void hasher_stop(lfs_hasher *hs)
{
    if (!hs) return;
    pthread_mutex_lock(&hs->mu);
    hs->done = 1;
    pthread_cond_broadcast(&hs->cv);
    pthread_mutex_unlock(&hs->mu);
    pthread_join(hs->thread, NULL);
    pthread_mutex_destroy(&hs->mu);
    pthread_cond_destroy(&hs->cv);
    free(hs->slot[0]);
    free(hs);
}

int lfs_sink_open(lfs_sink *s, const char *dir, int digest_type, uint64_t expected)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->expected = expected;
    hf_buf path = HF_BUF_INIT;
    if (hf_buf_printf(&path, "%s/.incoming.XXXXXX", dir)) return -1;
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
    /* Without a helper thread (none for small bodies, or pthread_create failed) we hash inline. */
    if (expected >= HASHER_MIN_BODY) s->hasher = hasher_start(s->digest);
    return 0;
}

static void write_all(lfs_sink *s, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len && !s->io_error) {
        ssize_t n = write(s->fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            s->io_error = n < 0 ? errno : EIO; /* answered once the body is in (507 when the disk is full) */
            if (s->fd >= 0) close(s->fd); /* give the space back now: the rest of the body is discarded */
            s->fd = -1;
            if (s->tmp_path) unlink(s->tmp_path);
        } else
            off += (size_t)n;
    }
}

void lfs_sink_put(lfs_sink *s, const char *data, size_t len)
{
    if (s->overflow || s->io_error)
        return; /* already failed: the caller keeps reading so the client gets the answer */
    if (s->received + len > s->expected) {
        s->overflow = 1;
        return;
    }
    s->received += len;
    if (!s->hasher) {
        hf_digest_update(s->digest, data, len);
        write_all(s, data, len);
        return;
    }
    while (len > 0) {
        size_t n = len < SLOT_SIZE ? len : SLOT_SIZE;
        hasher_feed(s->hasher, data, n);
        write_all(s, data, n);
        data += n;
        len -= n;
    }
}

int lfs_sink_write(hub *h, lfs_sink *s, const char *data, size_t len)
{
    hub_throttle(h, &s->throttle_t0, &s->throttle_bytes, len);
    atomic_fetch_add(&h->stats.bytes_received, (long long)len);
    lfs_sink_put(s, data, len);
    return 0;
}

int lfs_sink_finish(lfs_sink *s, char *hex)
{
    hasher_stop(s->hasher);
    s->hasher = NULL;
    if (s->fd >= 0 && close(s->fd) != 0 && !s->io_error) s->io_error = errno;
    s->fd = -1;
    if (s->io_error) {
        errno = s->io_error;
        return -1;
    }
    return hf_digest_final_hex(s->digest, hex) ? -1 : 0;
}

int lfs_sink_commit(lfs_sink *s, const char *dest)
{
    if (hf_mkdir_parents(dest, 0777) || rename(s->tmp_path, dest)) return -1;
    free(s->tmp_path);
    s->tmp_path = NULL;
    return 0;
}

void lfs_sink_discard(lfs_sink *s)
{
    hasher_stop(s->hasher);
    s->hasher = NULL;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    if (s->tmp_path) {
        unlink(s->tmp_path);
        free(s->tmp_path);
        s->tmp_path = NULL;
    }
    hf_digest_free(s->digest);
    s->digest = NULL;
}
