/*
 * upload.h: the pieces of `hfgit upload` (cmd_upload.c): choosing and copying files (upload_files.c), and the
 * cache clone and repo creation (upload_hub.c). Internal to cli/.
 */
#ifndef HF_CLI_UPLOAD_H
#define HF_CLI_UPLOAD_H

#include "cli.h"

/* 1 when rel (a path relative to the uploaded folder) passes the filters as huggingface_hub's
 * filter_repo_objects does: it matches one of include (when --include was given, even with no pattern) and
 * none of exclude. Matching is
 * fnmatch(3) without flags, so '*' also matches '/', and a pattern ending in '/' gets a '*' appended. */
int hf_upload_selected(const char *rel, const hf_cli_list *include, const hf_cli_list *exclude);

/* The working tree's content comes from the remote, so every path below it is opened one component at a time
 * without following symbolic links: a link in the repository ("out -> /home/me") on the way to a file being
 * written or deleted makes the operation fail with HF_EINVAL, naming the link; nothing is written or deleted
 * through it. A link at the very path being written is replaced by the file. */

/* Copies the file src to root/rel (parent folders created, mode bits and mtime kept; copy_file_range, so
 * reflinks or in-kernel copies where the file system allows). Returns 0 when copied, 1 when the destination
 * already had the same size, mode and mtime (nanoseconds) and was left alone, or a negative hf_error_code. */
int hf_upload_copy_file(const char *src, const char *root, const char *rel);

/* Copies the selected files of folder src into root/path_in_repo ("" for root), skipping any entry named
 * ".git" (nested repositories, submodule links) and ".cache/huggingface" folders. *count receives the number
 * of files selected, *unchanged how many of them were left alone. */
int hf_upload_copy_tree(const char *src, const char *root, const char *path_in_repo,
                        const hf_cli_list *include, const hf_cli_list *exclude, size_t *count,
                        size_t *unchanged);

/* Deletes the entries of the working tree under path_in_repo ("" for the root) whose path relative to
 * path_in_repo matches one of patterns, except the root .gitattributes; a matching symbolic link is deleted
 * itself. workdir ends with '/'. *count receives the number of entries deleted. */
int hf_upload_delete(const char *workdir, const char *path_in_repo, const hf_cli_list *patterns,
                     size_t *count);

/* rm -rf path (does not follow symbolic links). */
int hf_upload_remove_tree(const char *path);

/* The cache clone's directory: $HF_HOME/hfgit/upload/<host[_port]>/<models|datasets|spaces>/<ns>/<name>,
 * HF_HOME defaulting to $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
int hf_upload_cache_dir(hf_buf *out, const char *endpoint, const char *repo_type, const char *repo_id);

/* POST <endpoint>/api/repos/create for repo_id (huggingface_hub's create_repo). Returns 1 when created, 0
 * when it exists already (409), else a negative hf_error_code with a message. */
int hf_upload_create_repo(const char *endpoint, const char *repo_type, const char *repo_id, int private_repo);

typedef struct hf_upload_target {
    const char *repo_id;   /* "ns/name" */
    const char *repo_type; /* "model", "dataset" or "space" */
    const char *revision;  /* branch to commit on; NULL: the remote's default branch */
    const char *endpoint;  /* without a trailing '/' */
    int private_repo;      /* when the repository has to be created */
    int no_worktree;       /* 1: the caller never uses the clone's work tree or index (see below) */
} hf_upload_target;

/* Opens the clone in cache_dir up to date with the remote branch and clean (checkout + pull), or, when there
 * is none or it cannot be brought there, removes it and clones afresh (LFS files left as pointers: nothing is
 * downloaded). A repository that cannot be cloned is created (hf_upload_create_repo) and cloned again.
 * With t->no_worktree, a clone in cache_dir is reused without checkout, pull or clean check: its branch is
 * moved to the remote's tip (hf_repo_follow_remote_branch; local commits not on the remote are dropped), and
 * its work tree and index are left as they are (the caller commits with no_worktree). */
int hf_upload_open_cache(hf_repo **out, const hf_upload_target *t, const char *cache_dir);

typedef struct hf_upload_every_options {
    const char *folder;       /* the folder to watch */
    const char *path_in_repo; /* where its content goes ("" or NULL: the root) */
    double every_minutes;
    const hf_cli_list *include, *exclude;
    const char *message; /* NULL: the scheduler's default */
} hf_upload_every_options;

/* `hfgit upload --every` (upload_every.c): runs the commit scheduler on the clone until SIGINT/SIGTERM, then
 * makes the last commit and waits for its push. 0 or a negative hf_error_code. */
int hf_upload_every(hf_repo *repo, const hf_upload_every_options *o);

/* The hex id of HEAD in the working tree workdir (41 bytes with the NUL). */
int hf_upload_head_id(const char *workdir, char out[41]);

#endif
