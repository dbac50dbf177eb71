/*
 * part_journal.h: the record of finished parts of one multipart upload, so that a push killed halfway sends
 * only the missing parts when it runs again (issue 11).
 *
 * One file per object, <dir>/hfgit-parts-<oid> (dir is .git/lfs/tmp: same place git-lfs keeps its own
 * temporary state, cleaned by `git lfs prune`). The first line names the upload it belongs to:
 *
 *     hfgit-parts 1 <size> <chunk size> <upload identity, sha256 hex>
 *
 * then one line per finished part, appended with a single write(2) as soon as the part's PUT succeeded:
 *
 *     part <number> <ETag as hex> <FNV-1a 64 of the text before it, hex>
 *
 * A crash can only leave the last line incomplete or garbled; it then fails its check and is ignored (the
 * part is sent again), and the next record starts on a fresh line. A journal whose header does not match
 * the upload being done (another upload of the same object, another chunk size) is replaced.
 *
 * The upload identity is what stays the same when a server answers a new batch request with the same open
 * upload and fresh signatures: the completion URL and the first part URL without their signature and
 * expiry query parameters (hf_upload_identity).
 *
 * A journal is locked (flock) while open: a second upload of the same object at the same time (a library
 * push next to a git push) would interleave its fresh header with the first's records, so it goes on
 * without a journal instead (hf_part_journal_open gives it NULL and says so in the trace log).
 *
 * Thread-safety: a journal belongs to one upload; hf_part_journal_add may be called from its worker threads
 * at once (each record is one write on an O_APPEND descriptor).
 */
#ifndef HF_PART_JOURNAL_H
#define HF_PART_JOURNAL_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hf_part_journal hf_part_journal;

/* sha256 hex of the stable parts of the upload's URLs (64 hex + NUL written to out). */
void hf_upload_identity(const char *complete_url, const char *part1_url, char out[65]);

/* Opens (creating dir if needed) the journal of oid for this upload. etags (part_count slots, all NULL) is
 * filled with the ETags of the parts recorded for the same upload; *found says how many. A journal of
 * another upload is replaced by an empty one. Failing to keep a journal is not fatal to the upload: the
 * caller may go on without one (it returns HF_EIO with a message). When another upload holds the journal,
 * it returns 0 with *out = NULL and *found = 0: the other calls accept a NULL journal and do nothing. */
int hf_part_journal_open(hf_part_journal **out, const char *dir, const char *oid, uint64_t size,
                         uint64_t chunk_size, const char *identity, char **etags, size_t part_count,
                         size_t *found);
/* Records part number n (1-based) with its ETag. 0 or HF_EIO. */
int hf_part_journal_add(hf_part_journal *j, size_t n, const char *etag);
/* Starts the journal again for another upload (a restart): the file holds only the new header. */
int hf_part_journal_reset(hf_part_journal *j, const char *identity);
/* Closes; with remove != 0 the file is deleted (the upload completed, or its record is no longer good). */
void hf_part_journal_close(hf_part_journal *j, int remove);

#endif
