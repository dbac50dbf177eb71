/*
 * sigpipe.c: libgit2 writes to its sockets without MSG_NOSIGNAL and expects the program to ignore SIGPIPE; a
 * library must not change the process's signal dispositions, so a push blocks SIGPIPE in its own thread
 * instead (a SIGPIPE from write() goes to the writing thread) and discards one it caused before unblocking.
 * A hub that goes away mid-push is then an error the caller sees, not the death of the whole program.
 */
#include "repo.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

void hf_sigpipe_block(hf_sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->pending_before = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

void hf_sigpipe_restore(hf_sigpipe_guard *g)
{
    if (!g->blocked)
        return;
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (!g->pending_before && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        static const struct timespec now = {0, 0};
        while (sigtimedwait(&set, NULL, &now) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}
