/*
 * ulf_commit.c: one chunk of upload-large-folder (ulf.h) on the library's hf_repo_create_commit and push.
 *
 * Nothing is copied into the work clone: the chunk is one hf_repo_create_commit with no_worktree, which
 * writes each plain file's blob straight from the folder into the clone's object database and builds the
 * commit's tree from the branch's tree plus the chunk (the clone's work tree and index are left alone). An
 * LFS file is never copied or hashed again: the workers pre-uploaded it (hard-linked into the clone's LFS
 * store under its oid), so the commit gets only its pointer (an operation already prepared from the oid and
 * size), and the push's batch request finds the object on the hub and sends nothing; the store links are
 * removed once the chunk is on the hub.
 */
#include "ulf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Retries of one chunk's push or one pre-upload (ULF_TRIES): transient failures (network, 5xx, 408, 429,
 * expired URLs) are tried again after 2, 4, 8 and 16 seconds (at most 30 s of waiting, on top of the HTTP
 * layer's own retries); 401/403 and anything else stop at once. */

static void store_path(hf_buf *out, const char *workdir, const char *oid)
{
    hf_buf_clear(out);
    hf_buf_printf(out, "%s.git/lfs/objects/%.2s/%.2s/%s", workdir, oid, oid + 2, oid);
}

/* The push reports an LFS transfer's failure from its worker threads, so the HTTP status may be lost on the
 * way (0): a server error without a known status counts as transient, a known 4xx other than 408/429 not. */
int ulf_transient(int rc)
{
    long status = hf_error_last_http_status();
    return rc == HF_ENET || rc == HF_EEXPIRED ||
           (rc == HF_EHTTP && (status == 0 || status >= 500 || status == 408 || status == 429));
}

void ulf_backoff(ulf_run *r, unsigned secs)
{
    for (unsigned i = 0; i < secs * 10 && !atomic_load(&r->stop); i++) {
        struct timespec ts = {0, 100000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
    }
}

int ulf_push_now(ulf_run *r, hf_repo *repo, size_t number)
{
    hf_push_options po = HF_PUSH_OPTIONS_INIT;
    int rc = 0;
    for (int attempt = 1; attempt <= ULF_TRIES; attempt++) {
        rc = hf_repo_push(repo, &po, NULL);
        if (rc == 0 || !ulf_transient(rc) || attempt == ULF_TRIES) break;
        unsigned wait = 1u << attempt; /* 2, 4, 8, 16 s */
        (void)fprintf(stderr,
                      "hfgit upload-large-folder: pushing commit %zu failed (%s); try %d of %d in %u s\n",
                      number, hf_error_last_message(), attempt + 1, ULF_TRIES, wait);
        ulf_backoff(r, wait);
    }
    if (rc < 0) hf_error_prefix("pushing commit %zu: ", number);
    return rc;
}

/* The chunk as commit operations: plain files read from the folder, LFS files as pointers to the objects
 * the workers pre-uploaded. */
static int chunk_ops(ulf_run *r, ulf_chunk *c, hf_commit_op *ops, hf_buf *paths)
{
    for (size_t i = 0; i < c->count; i++) {
        ulf_file *f = c->files[i];
        hf_commit_op op = HF_COMMIT_OP_INIT;
        op.path_in_repo = f->path;
        if (f->lfs) {
            /* prepared: the library takes the pointer as it is and reads no file */
            op.prepared = 1;
            op.lfs = 1;
            op.lfs_size = f->size;
            memcpy(op.oid, f->oid, sizeof(op.oid));
            op.uploaded = 1;
        } else {
            hf_buf_printf(&paths[i], "%s/%s", r->local_path, f->path);
            op.local_path = paths[i].ptr;
        }
        ops[i] = op;
    }
    return 0;
}

/* A file of the chunk that is gone: name it clearly (the library says "cannot read"). */
static int vanished(ulf_run *r, ulf_chunk *c, int rc)
{
    hf_buf p = HF_BUF_INIT;
    for (size_t i = 0; i < c->count; i++) {
        hf_buf_clear(&p);
        hf_buf_printf(&p, "%s/%s", r->local_path, c->files[i]->path);
        if (!c->files[i]->lfs && access(p.ptr, F_OK) < 0) {
            rc = hf_error_set(
                HF_ENOTFOUND,
                "%s vanished during the upload; nothing is lost: run the same command again when "
                "the folder is settled",
                p.ptr);
            break;
        }
    }
    hf_buf_free(&p);
    return rc;
}

int ulf_commit_chunk(ulf_run *r, hf_repo *repo, ulf_chunk *c, size_t number)
{
    hf_buf msg = HF_BUF_INIT;
    hf_commit_op *ops = calloc(c->count ? c->count : 1, sizeof(*ops));
    hf_buf *paths = calloc(c->count ? c->count : 1, sizeof(*paths));
    int rc = ops && paths ? 0 : hf_error_set(HF_ENOMEM, "out of memory");
    atomic_fetch_add(&r->stats.committing, 1);
    if (rc == 0) rc = chunk_ops(r, c, ops, paths);
    if (rc == 0) {
        hf_create_commit_options co = HF_CREATE_COMMIT_OPTIONS_INIT;
        co.no_worktree = 1;
        co.no_push = 1;
        hf_buf_printf(&msg, "Add files using hfgit upload-large-folder (part %zu, %zu files)", number,
                      c->count);
        rc = hf_repo_create_commit(repo, ops, c->count, msg.ptr, &co, NULL);
        if (rc == HF_ENOCHANGES) rc = 0; /* the hub has these files already (e.g. the journal was lost) */
        if (rc == HF_ENOTFOUND) rc = vanished(r, c, rc);
    }
    atomic_fetch_sub(&r->stats.committing, 1);
    for (size_t i = 0; paths && i < c->count; i++)
        hf_buf_free(&paths[i]);
    free(paths);
    free(ops);
    hf_buf_free(&msg);
    return rc;
}

int ulf_chunk_pushed(ulf_run *r, hf_repo *repo, ulf_chunk *c)
{
    const char *wd = hf_repo_workdir(repo);
    hf_buf obj = HF_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->count; i++) {
        ulf_file *f = c->files[i];
        if ((rc = ulf_journal_committed(r->journal, f)) < 0) break;
        atomic_store(&f->state, ULF_COMMITTED);
        atomic_fetch_add(&r->stats.committed, 1);
        atomic_fetch_add(&r->stats.committed_bytes, f->size);
    }
    if (rc == 0) rc = ulf_journal_sync(r->journal);
    /* the hub has the objects now: drop the links (a failed push leaves them for the next try) */
    for (size_t i = 0; rc == 0 && i < c->count; i++) {
        if (!c->files[i]->lfs) continue;
        store_path(&obj, wd, c->files[i]->oid);
        (void)unlink(obj.ptr);
    }
    hf_buf_free(&obj);
    return rc;
}
