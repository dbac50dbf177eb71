/*
 * lfs_scan.h: finding the LFS objects a set of commits refers to (git-lfs §11: pre-push selection; clone and
 * pull: what a checkout needs). As in git-lfs (its tree and rev-list scanners), a blob counts when it is
 * smaller than 1024 bytes and parses as a pointer, whatever the attributes say. Size-0 pointers are skipped.
 * Only blob headers are read for anything larger, so scanning never loads big non-LFS blobs.
 * Thread-safety: one scan per git_repository at a time.
 */
#ifndef HF_REPO_LFS_SCAN_H
#define HF_REPO_LFS_SCAN_H

#include "../common/pointer.h"

#include <git2.h>

#include <stddef.h>

typedef struct hf_lfs_set {
    hf_lfs_pointer *items;
    size_t count, cap;
    char **paths;     /* the first path each object was seen at (for messages) */
} hf_lfs_set;

#define HF_LFS_SET_INIT {NULL, 0, 0, NULL}

void hf_lfs_set_free(hf_lfs_set *set);
/* Adds p unless its oid is there already (dedup by oid). */
int hf_lfs_set_add(hf_lfs_set *set, const hf_lfs_pointer *p, const char *path);
/* Total bytes of the objects. */
uint64_t hf_lfs_set_bytes(const hf_lfs_set *set);

/* Every LFS pointer in the tree of commit. */
int hf_lfs_scan_commit_tree(git_repository *repo, const git_oid *commit, hf_lfs_set *out);

/* The LFS pointers in commits reachable from `tips` and not from `hidden` (tips/objects the remote has;
 * ones missing locally are skipped): for each such commit, the blobs its tree adds or changes against its
 * first parent (the whole tree for a root commit). */
int hf_lfs_scan_range(git_repository *repo, const git_oid *tips, size_t ntips, const git_oid *hidden,
                      size_t nhidden, hf_lfs_set *out);

#endif
