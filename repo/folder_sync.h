/*
 * folder_sync.h: the scheduler's mirror of a folder into the clone (huggingface_hub's CommitScheduler, which
 * assumes append-only data: new files and files that grew).
 *
 * Two steps, so that the writers' lock is held only for the cheap one:
 *   hf_sync_scan   (under the writers' lock) lists the folder's files with their sizes: the snapshot. Every
 *                  byte below a snapshot size was written before the scan, so a line a writer appended while
 *                  holding the lock is either wholly in the snapshot or wholly out of it.
 *   hf_sync_copy   (without it) copies into the clone only up to the snapshot sizes: the bytes a file gained
 *                  since the last copy (appended in place), or the whole file when it is new, shrank, or the
 *                  clone's copy is not the one we wrote or no longer the file's beginning (compared whole up to
 *                  1 MiB, else its last 64 KiB: a file rewritten larger is never committed as old + new
 *                  bytes). A copy found in the clone after a restart is adopted only when it passes the same
 *                  check (and, over 1 MiB, is not older than the file). Streams through the kernel (copy_file_range), never
 *                  a whole file in memory, so files of many GB are fine.
 *
 * Thread-safety: an hf_sync_state belongs to one thread at a time (the scheduler serialises its ticks).
 */
#ifndef HF_REPO_FOLDER_SYNC_H
#define HF_REPO_FOLDER_SYNC_H

#include <stddef.h>
#include <stdint.h>

typedef struct hf_sync_file {
    char *rel;         /* path relative to the folder, '/'-separated */
    uint64_t size;     /* snapshot size (scan) / bytes copied into the clone (state) */
    int64_t mtime_ns;  /* modification time at the scan */
} hf_sync_file;

typedef struct hf_sync_list {
    hf_sync_file *files; /* sorted by rel (byte order) */
    size_t count, cap;
} hf_sync_list;

#define HF_SYNC_LIST_INIT {NULL, 0, 0}

void hf_sync_list_free(hf_sync_list *l);

/* Lists the regular files under folder (recursively, `.git` directories skipped) whose relative path matches
 * one of allow (NULL: all) and none of ignore (NULL: none): fnmatch globs as huggingface_hub's
 * filter_repo_objects uses them ('*' also crosses '/'; a pattern ending in '/' matches everything below). */
int hf_sync_scan(const char *folder, const char *const *allow, const char *const *ignore, hf_sync_list *out);

/* Brings dest_dir (the clone's copy, created as needed) up to the snapshot snap of folder. state holds what
 * was copied before (updated per file as it succeeds); *out_copied gets the number of files written to.
 * A failure names the file and leaves state saying what is really in dest_dir, so the next call repairs it. */
int hf_sync_copy(hf_sync_list *state, const hf_sync_list *snap, const char *folder, const char *dest_dir,
                 size_t *out_copied);

#endif
