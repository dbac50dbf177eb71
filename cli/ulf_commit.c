/*
 * ulf_commit.c: one chunk of upload-large-folder (ulf.h) on the library's add / commit / push.
 *
 * The work clone lives inside the uploaded folder (.cache/huggingface/hfgit/...), so it is on the same file
 * system as the files. An LFS file is never copied or hashed again: the workers pre-uploaded it (hard-linked
 * into the clone's LFS store under its oid), so only its pointer goes into the clone, and the push's batch
 * request finds the object on the hub and sends nothing; the store links are removed once the chunk is on the
 * hub. Plain files (small text) are
 * copied, never hard-linked: a pull or checkout in the clone could otherwise write through a link into the
 * user's folder. Every path in the clone is unlinked before it is written, for the same reason.
 */
#include "ulf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Retries of one chunk's push or one pre-upload (ULF_TRIES): transient failures (network, 5xx, 408, 429,
 * expired URLs) are tried again after 2, 4, 8 and 16 seconds (at most 30 s of waiting, on top of the HTTP
 * layer's own retries); 401/403 and anything else stop at once. */

/* A literal path as a .gitattributes pattern: git-lfs's escaping of spaces and '#', and a backslash before
 * glob characters so that "a[1].bin" names only itself. */
static void escape_pattern(hf_buf *out, const char *path)
{
    hf_buf_clear(out);
    for (const char *p = path; *p; p++) {
        if (*p == ' ')
            hf_buf_puts(out, "[[:space:]]");
        else if (*p == '#' || *p == '*' || *p == '?' || *p == '[' || *p == '\\') {
            hf_buf_putc(out, '\\');
            hf_buf_putc(out, *p);
        } else {
            hf_buf_putc(out, *p);
        }
    }
}

static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
    if (fd >= 0 && close(fd) < 0) ok = 0;
    return ok ? 0 : hf_error_set(HF_EIO, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
}

static void store_path(hf_buf *out, const char *workdir, const char *oid)
{
    hf_buf_clear(out);
    hf_buf_printf(out, "%s.git/lfs/objects/%.2s/%.2s/%s", workdir, oid, oid + 2, oid);
}

/* Puts one file into the clone. Everything below the working tree goes through hf_upload_copy_file, which
 * never follows a symbolic link the remote's content may have put on the way; .git/ is ours alone. */
static int place(ulf_run *r, const char *workdir, const ulf_file *f)
{
    hf_buf src = HF_BUF_INIT, tmp = HF_BUF_INIT, obj = HF_BUF_INIT;
    hf_buf_printf(&src, "%s/%s", r->local_path, f->path);
    int rc = 0;
    if (f->lfs) {
        /* the object is on the hub (pre-uploaded): the pointer is all the commit needs */
        hf_buf ptr = HF_BUF_INIT;
        hf_buf_printf(&ptr, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %llu\n", f->oid,
                      (unsigned long long)f->size);
        hf_buf_printf(&tmp, "%s.git/hfgit-ulf-pointer", workdir);
        rc = write_file(tmp.ptr, ptr.ptr, ptr.len);
        hf_buf_free(&ptr);
        if (rc == 0) rc = hf_upload_copy_file(tmp.ptr, workdir, f->path);
    } else {
        rc = hf_upload_copy_file(src.ptr, workdir, f->path);
    }
    if (rc < 0 && access(src.ptr, F_OK) < 0)
        rc = hf_error_set(HF_ENOTFOUND,
                          "%s vanished during the upload; nothing is lost: run the same command "
                          "again when the folder is settled",
                          src.ptr);
    hf_buf_free(&src);
    hf_buf_free(&tmp);
    hf_buf_free(&obj);
    return rc < 0 ? rc : 0;
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

static int push_with_retries(ulf_run *r, hf_repo *repo, size_t number)
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

int ulf_commit_chunk(ulf_run *r, hf_repo *repo, ulf_chunk *c, size_t number)
{
    const char *wd = hf_repo_workdir(repo);
    hf_buf pat = HF_BUF_INIT, msg = HF_BUF_INIT, obj = HF_BUF_INIT;
    char **patterns = calloc(c->count ? c->count : 1, sizeof(*patterns));
    size_t npat = 0;
    char id[41];
    int rc = patterns ? 0 : hf_error_set(HF_ENOMEM, "out of memory");
    atomic_store(&r->stats.committing, 1);
    for (size_t i = 0; rc == 0 && i < c->count; i++) {
        rc = place(r, wd, c->files[i]);
        if (rc == 0 && c->files[i]->lfs) {
            escape_pattern(&pat, c->files[i]->path);
            if (!(patterns[npat++] = strdup(pat.ptr))) rc = hf_error_set(HF_ENOMEM, "out of memory");
        }
    }
    if (rc == 0 && npat) rc = hf_repo_lfs_track(repo, (const char *const *)patterns, npat);
    if (rc >= 0) rc = hf_repo_add(repo, ".", 0);
    if (rc == 0) {
        hf_buf_printf(&msg, "Add files using hfgit upload-large-folder (part %zu, %zu files)", number,
                      c->count);
        rc = hf_repo_commit_id(repo, msg.ptr, id);
        if (rc == HF_ENOCHANGES) rc = 0; /* the hub has these files already (e.g. the journal was lost) */
    }
    if (rc == 0) rc = push_with_retries(r, repo, number);
    atomic_store(&r->stats.committing, 0);
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
    for (size_t i = 0; i < npat; i++)
        free(patterns[i]);
    free(patterns);
    hf_buf_free(&pat);
    hf_buf_free(&msg);
    hf_buf_free(&obj);
    return rc;
}
