/*
 * ulf.h: the pieces of `hfgit upload-large-folder` (cmd_upload_large_folder.c). Internal to cli/.
 *
 *   ulf_scan.c    the folder walk: files, sizes, mtimes, the filters, the Hub's size warnings
 *   ulf_state.c   the resume journal in LOCAL_PATH/.cache/huggingface/ (what is hashed, what is committed)
 *   ulf_hash.c    the workers: hashing (SHA-256 and the LFS decision) and LFS pre-upload, in parallel
 *   ulf_status.c  the status block on stderr (every 60 s and at the end)
 *   ulf_commit.c  one chunk: files into the work clone (LFS files as pointers), commit, push
 *
 * Every file goes through these states: seen (scanned), hashed (its SHA-256 known, from the workers or from
 * the journal when size and mtime still match), pre-uploaded (LFS files only: the hub has the object, sent by
 * the worker that hashed it), committed (in a commit the hub accepted). The journal records the last three,
 * so a re-run after a kill hashes, uploads and commits only what is not recorded, and a chunk's push finds
 * its LFS objects on the hub already (it sends only git objects).
 */
#ifndef HF_CLI_ULF_H
#define HF_CLI_ULF_H

#include "upload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

enum { ULF_SEEN = 0, ULF_HASHED = 1, ULF_UPLOADED = 2, ULF_COMMITTED = 3 };

typedef struct ulf_file {
    char *path; /* relative to LOCAL_PATH, '/'-separated */
    uint64_t size;
    int64_t mtime_ns;
    char oid[65];     /* SHA-256 hex once hashed */
    int lfs;          /* 1: stored as an LFS object (10 MiB or more, or binary), 0: a plain git blob */
    int from_journal; /* its hash came from the journal: not read again */
    atomic_int state; /* ULF_* */
} ulf_file;

/* Counters read by the status block while workers and the committer change them. */
typedef struct ulf_stats {
    atomic_ullong hashed, hashed_bytes, reused; /* reused: hashes taken from the journal */
    atomic_ullong lfs, lfs_bytes, uploaded, uploaded_bytes;
    atomic_ullong sending_bytes; /* bytes of the pre-uploads in progress (their progress callbacks) */
    atomic_ullong committed, committed_bytes;
    atomic_int hashing, uploading, committing; /* workers hashing, workers pre-uploading, the committer */
} ulf_stats;

typedef struct ulf_run {
    const char *local_path; /* as given, no trailing '/' */
    ulf_file *files;        /* sorted by path */
    size_t count;
    uint64_t total_bytes;
    size_t ignored; /* left out by --include/--exclude or unusable names */
    int workers;
    ulf_stats stats;
    hf_repo *repo; /* the work clone, for the pre-uploads */
    /* the workers wake the committer through this */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_size_t next_hash; /* the next file a worker looks at */
    atomic_int stop;         /* set: workers finish their file and leave */
    int hash_error;          /* first worker failure (negative hf_error_code), 0 while fine */
    char hash_msg[1024];     /* its message */
    struct ulf_journal *journal;
} ulf_run;

/* ---- ulf_scan.c ---- */
/* Walks local_path (skipping .git entries and .cache/huggingface), keeps the selected regular files (symbolic
 * links to files count as the files) in r->files sorted by path, counts the rest in r->ignored, and warns on
 * stderr about folders over 10,000 entries and more than 100,000 files to upload. */
int ulf_scan(ulf_run *r, const hf_cli_list *include, const hf_cli_list *exclude);
void ulf_files_free(ulf_run *r);
ulf_file *ulf_find(ulf_run *r, const char *path);
/* Once the repository is cloned (before anything is uploaded): warns when the files to upload plus the ones
 * the repository's branch already holds at other paths are more than 100,000 (unless ulf_scan warned). */
void ulf_warn_repo_files(ulf_run *r, const char *workdir);

/* ---- ulf_state.c ---- */
typedef struct ulf_journal ulf_journal;
/* Opens the journal at path (created when missing): applies its records to r->files whose size and mtime
 * still match, rewrites it compacted (temp file + rename) and keeps it open for appending. */
int ulf_journal_open(ulf_journal **out, const char *path, ulf_run *r);
/* Appends one record (a whole line in one write, so a kill never leaves half a record that could be read as
 * a whole one: a line without its final newline is dropped at the next open). Thread-safe. */
int ulf_journal_hashed(ulf_journal *j, const ulf_file *f);
int ulf_journal_uploaded(ulf_journal *j, const ulf_file *f);
int ulf_journal_committed(ulf_journal *j, const ulf_file *f);
/* fsync: records written before it survive a crash of the machine, not only of the process. */
int ulf_journal_sync(ulf_journal *j);
void ulf_journal_close(ulf_journal *j);

/* ---- ulf_hash.c ---- */
/* Starts r->workers threads that take the files in path order: each hashes a file still ULF_SEEN and, when it
 * is an LFS file not yet on the hub, pre-uploads it (hf_repo_preupload_lfs_file on r->repo: the file is
 * linked into the clone's store, never copied or hashed again), retrying transient failures as a push is
 * retried. Returns at once. */
int ulf_hash_start(ulf_run *r, pthread_t *threads);
/* Waits until f is ready for a commit (hashed; an LFS file also pre-uploaded) or a worker failed (then
 * returns its error). */
int ulf_hash_wait(ulf_run *r, const ulf_file *f);
/* Tells the workers to stop (after their current file) and joins them. */
void ulf_hash_stop(ulf_run *r, pthread_t *threads);

/* ---- ulf_status.c ---- */
typedef struct ulf_status ulf_status;
/* Prints the block every interval_secs (HFGIT_ULF_STATUS_SECS overrides 60) from a thread, unless off. */
int ulf_status_start(ulf_status **out, ulf_run *r, int off);
/* Prints the final block (unless off) and ends the thread. */
void ulf_status_stop(ulf_status *s);

/* ---- ulf_commit.c ---- */
typedef struct ulf_chunk {
    ulf_file **files;
    size_t count, cap;
    uint64_t bytes;
} ulf_chunk;
/* Commits the chunk in the work clone (plain files' blobs straight from the folder, LFS files as pointers:
 * the workers pre-uploaded their objects), without pushing it. */
int ulf_commit_chunk(ulf_run *r, hf_repo *repo, ulf_chunk *c, size_t number);
/* Pushes the branch (blocking), retrying transient failures, never 401/403. */
int ulf_push_now(ulf_run *r, hf_repo *repo, size_t number);
/* Records the chunk's files as committed (journal, synced; counters) and drops their LFS store links. */
int ulf_chunk_pushed(ulf_run *r, hf_repo *repo, ulf_chunk *c);
/* 1 for a failure worth another try: network, HTTP 5xx/408/429 (or an unknown status), expired URLs. */
int ulf_transient(int rc);
/* Sleeps secs seconds, or less when r->stop is set (checked every 100 ms). */
void ulf_backoff(ulf_run *r, unsigned secs);
/* Tries of one push or one pre-upload: transient failures are tried again after 2, 4, 8 and 16 seconds. */
#define ULF_TRIES 5

#endif
