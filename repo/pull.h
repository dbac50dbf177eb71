/* pull.h: the library's internal pull pieces that the CLI uses too (pull.c). */
#ifndef HF_REPO_PULL_H
#define HF_REPO_PULL_H

#include "hfgit.h"

/* For a clone nobody works in (upload-large-folder's work clone, committed to with no_worktree): fetches
 * origin, then points HEAD at refs/heads/<branch> moved to origin's <branch> (left alone when it is there
 * already); when origin has no such branch, to origin's <from> (when from is set); when origin has neither,
 * the branch is unborn (the next commit starts it). Local commits not on origin are dropped. The work tree
 * and index are not read or written, and no LFS object is downloaded. 0 or a negative hf_error_code. */
int hf_repo_follow_remote_branch(hf_repo *repo, const char *branch, const char *from);

#endif
