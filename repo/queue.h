/*
 * queue.h: the command queue's internals shared by queue.c (the queue) and queue_push.c (the commands that
 * talk to a remote: queued pushes, tag pushes, and the blocking network calls that run like them).
 */
#ifndef HF_REPO_QUEUE_H
#define HF_REPO_QUEUE_H

#include "repo.h"

#include <stdatomic.h>

struct hf_command {
    char *title;
    hf_command_fn fn;
    void *payload;
    void (*payload_free)(void *);
    void (*on_skip)(hf_repo *r, void *payload); /* cleanup when cancelled before it started (worker thread) */
    _Atomic int status;        /* -1 queued or running, 0 done, > 0 failed */
    char *error;               /* set before status becomes final; "" when none */
    _Atomic uint64_t done, total;
    _Atomic int cancel;        /* hf_command_cancel on a running command: stop at the next safe point */
    int started;               /* taken by the worker (under the queue's mutex) */
    int settled;               /* the worker is done with it, callback included (under the queue's mutex) */
    int limited;               /* counts against hf_repo_set_queue_limit */
    char commit_id[41];        /* the commit a push sends; "" for other commands */
    char *commit_url;          /* its page on the hub, or NULL */
    hf_command_done_cb done_cb;
    void *done_payload;
    struct hf_queue *queue;
};

typedef struct hf_queue_item {
    const char *title;
    hf_command_fn fn;
    void *payload;
    void (*payload_free)(void *); /* frees payload with the record (also when queueing fails) */
    void (*on_skip)(hf_repo *r, void *payload);
    int limited;                  /* the caller reserved a place (hf_queue_reserve) */
    const char *commit_id;        /* or NULL */
    const char *commit_url;       /* or NULL */
    hf_command_done_cb done_cb;   /* the command's own completion callback, or NULL for the repository's */
    void *done_payload;
} hf_queue_item;

/* Queues item; starts the worker on first use. Thread-safe; takes r->lock only briefly to start the worker. */
int hf_queue_add(hf_repo *r, const hf_queue_item *item, hf_command **out);
/* Takes a place under the bounded-queue limit, waiting for one (without any lock of the handle) or failing
 * with HF_EBUSY as configured. Give it back with hf_queue_unreserve when the command is not queued after all. */
int hf_queue_reserve(hf_repo *r);
void hf_queue_unreserve(hf_repo *r);
/* Waits until every command queued so far has finished (not from the worker, where that is already true). The
 * caller holds no lock of the handle. */
int hf_queue_wait_earlier(hf_repo *r);

#endif
