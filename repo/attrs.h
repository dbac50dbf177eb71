/*
 * attrs.h: .gitattributes editing the way `git lfs track` / `git lfs untrack` do it, and the
 * huggingface_hub rules that decide what auto-tracking tracks (reference/huggingface_hub.md §3.9).
 *
 * Pure functions on buffers (unit-tested); the caller reads and writes the file.
 * Thread-safety: all functions are re-entrant.
 */
#ifndef HF_REPO_ATTRS_H
#define HF_REPO_ATTRS_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

/* The attributes git-lfs writes after a tracked pattern. */
#define HF_LFS_TRACK_ATTRS "filter=lfs diff=lfs merge=lfs -text"

/* huggingface_hub tracks files of 10 MiB or more (getsize / 2^20 >= 10). */
#define HF_AUTO_TRACK_SIZE (10ull * 1024 * 1024)
/* ... and files with a non-text byte in their first 10 MiB. */
#define HF_BINARY_SNIFF_SIZE ((size_t)10 << 20)

/* The pattern git lfs track writes for a literal path: ' ' -> "[[:space:]]", '#' -> "\#", as git-lfs 3.3's
 * escapeAttrPattern does for `git lfs track <pattern>` (other glob characters stay glob characters). */
int hf_attrs_escape_pattern(const char *path, hf_buf *out);

/* The pattern matching exactly the file `path` (relative to the directory of the .gitattributes), as
 * `git lfs track --filename` (git-lfs 3.3.0, escapeGlobCharacters) writes it: '*', '?', '[', ']' and '#' get
 * a backslash, ' ' becomes "[[:space:]]" (`model[0].bin` -> `model\[0\].bin`). Where git-lfs's line would not
 * match the file, the line differs: a tab also becomes "[[:space:]]" (git-lfs leaves it, ending the pattern),
 * a backslash is escaped (git-lfs turns it into '/', a Windows separator), and a leading '!' or '"' is
 * escaped (negative / quoted patterns). A name with a line break cannot be written: HF_EINVAL.
 * hf_repo_add's auto-tracking, hf_repo_lfs_track_filenames and `hfgit track --filename` use this. */
int hf_attrs_escape_filename(const char *path, hf_buf *out);
/* hf_attrs_track of hf_attrs_escape_filename(path): 1 added, 0 already there, or a negative error. */
int hf_attrs_track_filename(hf_buf *content, const char *path);
/* hf_attrs_untrack of hf_attrs_escape_filename(path): the number of lines removed, or a negative error. */
int hf_attrs_untrack_filename(hf_buf *content, const char *path);

/* Appends "<pattern> filter=lfs diff=lfs merge=lfs -text\n" to the .gitattributes content unless a line with
 * that pattern and filter=lfs is already there (then returns 0). Adds a missing final newline first. Returns
 * 1 when added, or HF_ENOMEM. */
int hf_attrs_track(hf_buf *content, const char *pattern);

/* Removes the lines whose pattern is exactly `pattern` and that set filter=lfs (git lfs untrack). Returns the
 * number of lines removed, or HF_ENOMEM. Other lines are kept byte for byte. */
int hf_attrs_untrack(hf_buf *content, const char *pattern);

/* 1 when the line-by-line content has a line with this pattern and filter=lfs. */
int hf_attrs_has_track(const char *content, size_t len, const char *pattern);

/* huggingface_hub's is_binary_file: binary when a byte outside {7,8,9,10,12,13,27} ∪ [0x20, 0xFF] \ {0x7F}
 * occurs. Returns 1 or 0. */
int hf_is_binary(const void *data, size_t len);

#endif
