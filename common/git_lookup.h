/*
 * git_lookup.h: the LFS endpoint and its credentials, found the way git-lfs 3.3.0 finds them
 * (reference/git-lfs-3.3.0.md §7), for programs that run inside a git repository without libgit2 (the
 * agent re-asking the batch API when part URLs expire).
 *
 *   endpoint     git config lfs.url, else remote.<name>.lfsurl, else the remote's URL (as `git ls-remote
 *                --get-url` gives it: insteadOf applied) + ".git/info/lfs" (or "/info/lfs" after ".git")
 *   credentials  `git credential fill` for the batch URL (so every helper the user configured applies;
 *                no terminal prompt: GIT_TERMINAL_PROMPT=0), else the Hugging Face token (config.h)
 *
 * git runs in the current directory. Secrets are never traced or put in messages.
 * Thread-safety: functions run a child process and may be called from any thread.
 */
#ifndef HF_GIT_LOOKUP_H
#define HF_GIT_LOOKUP_H

#include "buf.h"

/* The batch URL (".../info/lfs/objects/batch") for remote (a name or a URL). 0, HF_ENOTFOUND (no such
 * remote, message says so), or HF_EINVAL. */
int hf_git_lfs_batch_url(const char *remote, hf_buf *out);

/* The password (or token) for url from `git credential fill`, else the HF token when url is on the HF
 * endpoint's host (config.h: hf_url_is_hf_endpoint; never to a third-party server). HF_ENOTFOUND when there
 * is neither. out is wiped (explicit_bzero) by hf_git_secret_free. */
int hf_git_lfs_token(const char *url, hf_buf *out);
void hf_git_secret_free(hf_buf *secret);

/* Runs git with args (argv[0] is "git"), input on its stdin (or nothing), collecting stdout (at most 64 KiB)
 * in out. Returns git's exit status (0..255), or a negative hf_error_code when it could not run. */
int hf_git_run(const char *const *argv, const char *input, hf_buf *out);

#endif
