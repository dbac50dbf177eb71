/*
 * config.h: where the token and the endpoint come from, and how Hub URLs are spelled
 * (huggingface_hub-compatible; design.md §3, git-lfs §7.1).
 *
 *   token     HF_TOKEN, else the file HF_TOKEN_PATH, else $HF_HOME/token (HF_HOME defaults to
 *             $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface), as huggingface_hub does
 *   endpoint  HF_ENDPOINT, else https://huggingface.co
 *   repo URL  <endpoint>/<ns>/<name>, <endpoint>/datasets/<ns>/<name>, <endpoint>/spaces/<ns>/<name>
 *   batch URL <repo url>.git/info/lfs/objects/batch (or <url>/info/lfs/objects/batch when it ends in .git)
 *
 * Every function replaces the content of `out` (it is cleared first) and returns 0 or a negative
 * hf_error_code with a message. A token is never put in a message.
 *
 * Thread-safety: all functions are thread-safe as long as nobody changes the environment meanwhile.
 */
#ifndef HF_CONFIG_H
#define HF_CONFIG_H

#include "buf.h"

/* The user's token, surrounding whitespace trimmed. HF_ENOTFOUND when neither HF_TOKEN nor the token file
 * has one (message names the file looked at); HF_EIO when the file exists but cannot be read; HF_EINVAL when
 * the token contains control characters or spaces (it would corrupt an HTTP header). */
int hf_config_token(hf_buf *out);

/* The token file's path as huggingface_hub spells it: HF_TOKEN_PATH, else $HF_HOME/token, else
 * $XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token (for `hfgit login` / `logout`). */
int hf_config_token_path(hf_buf *out);

/* HF_ENDPOINT (whitespace and trailing '/' removed) or "https://huggingface.co". HF_EINVAL when HF_ENDPOINT
 * does not start with http:// or https://. */
int hf_config_endpoint(hf_buf *out);

/* 1 when url has the same origin as the Hugging Face endpoint (hf_config_endpoint): same scheme, host (case
 * ignored, user:password@ ignored) and port (80/443 when absent); else 0 (also for a malformed url or
 * HF_ENDPOINT). The user's Hugging Face token (HF_TOKEN, the saved login) goes only to such URLs: never to a
 * third-party LFS server or clone URL. */
int hf_url_is_hf_endpoint(const char *url);

/* "<endpoint>/<ns>/<name>" for repo_type NULL, "" or "model"; "<endpoint>/datasets/<ns>/<name>" for
 * "dataset";
 * "<endpoint>/spaces/<ns>/<name>" for "space". HF_EINVAL for any other type or an invalid repo id. A trailing
 * '/' on endpoint is ignored. */
int hf_repo_url(hf_buf *out, const char *endpoint, const char *repo_type, const char *repo_id);

/* Checks a repo id the way the Hub does: "ns/name", each part 1..96 characters of [A-Za-z0-9_.-], not
 * starting or ending with '-' or '.', no "--" or "..". 0 or HF_EINVAL with a message saying what is wrong. */
int hf_repo_id_validate(const char *repo_id);

/* The LFS batch URL for a repository URL (git-lfs §7.1): strip one trailing '/', then append "/info/lfs" when
 * the path ends in ".git", else ".git/info/lfs"; then "/objects/batch". Credentials, query and fragment are
 * removed. SSH remotes ("git@host:path", "ssh://host/path") map to https://host/path as git-lfs does.
 * HF_EINVAL for anything else (local paths, file://). */
int hf_lfs_batch_url(hf_buf *out, const char *repo_url);

/* The URL without "user[:password]@" in its authority (for messages, traces and .git/config). */
int hf_url_strip_credentials(hf_buf *out, const char *url);

#endif
