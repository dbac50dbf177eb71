/* git_stream.h: libgit2's socket stream with stall detection (git_stream.c), registered by hf_init. */
#ifndef HF_REPO_GIT_STREAM_H
#define HF_REPO_GIT_STREAM_H

#include <git2.h>

/* Makes libgit2 use our socket stream for every connection of the process; 0 or a libgit2 error. */
int hf_git_stream_register(void);
/* Gives libgit2 its own stream back. */
void hf_git_stream_unregister(void);

#endif
