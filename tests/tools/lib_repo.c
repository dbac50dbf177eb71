/*
 * lib_repo.c: a small program on the public API only (include/hfgit.h), for integration tests of libhfgit.
 *
 *   lib_repo open   DIR [CLONE_FROM] [--skip-lfs] [--revision REV]
 *                                                   clone (or open an existing clone of CLONE_FROM)
 *   lib_repo add    DIR PATHSPEC [--auto]           stage, with auto LFS tracking when --auto
 *   lib_repo commit DIR MESSAGE                     exit 10 when there was nothing to commit
 *   lib_repo push   DIR [--no-multipart]
 *   lib_repo pull   DIR [--rebase]
 *   lib_repo status DIR                             prints "clean" or "dirty"
 *   lib_repo lsstatus DIR                           prints hf_repo_status: "XY path" (" [lfs]"), one a line
 *   lib_repo info   DIR                             prints branch, head, url, commit_url lines
 *   lib_repo branch DIR                             prints hf_repo_current_branch (also on an unborn branch)
 *   lib_repo deleted DIR                            prints the deleted files, one a line
 *   lib_repo checkout DIR REV [--create]
 *   lib_repo tag-exists DIR NAME [--remote]         prints "yes" or "no"
 *   lib_repo tag    DIR NAME [--message M] [--remote]
 *   lib_repo untag  DIR NAME [--remote]
 *   lib_repo track  DIR PATTERN...                  prints the number of lines added (untrack: removed)
 *   lib_repo untrack DIR PATTERN...
 *   lib_repo track-files DIR PATH...                hf_repo_lfs_track_filenames: literal names
 *   lib_repo untrack-files DIR PATH...              hf_repo_lfs_untrack_filenames: literal names
 *   lib_repo prune  DIR                             prints "removed N bytes B"
 *   lib_repo largefiles DIR
 *   lib_repo push-to-hub DIR MESSAGE [--no-clean-ok] [--prune] [--nonblocking]
 *   lib_repo path   DIR RELATIVE                    prints hf_repo_path's answer
 *
 * The token comes from LIB_REPO_TOKEN (hf_repo_options.token), else the usual places (HF_TOKEN, the token
 * file); HF_ENDPOINT resolves repo ids.
 * git_user/git_email come from LIB_REPO_USER/LIB_REPO_EMAIL when set; LIB_REPO_PROGRESS=1 prints push progress,
 * LIB_REPO_CANCEL=1 makes the progress callback cancel the push; LIB_REPO_BRANCH sets hf_push_options.branch; LIB_REPO_DOWNLOAD_PROGRESS=1 /
 * LIB_REPO_HASH_PROGRESS=1 print the last download / hash progress report at exit (see kind_cb);
 * LIB_REPO_DOWNLOAD_PARALLEL=N sets hf_repo_options.download_parallel; LIB_REPO_MAX_RATE=N sets
 * hf_push_options.max_rate (bytes per second). On failure the library's message goes to
 * stderr and the exit status is the negated hf_error_code (so HF_ENOCHANGES is 10).
 */
#include "hfgit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return 1;
    return 0;
}

static int progress(uint64_t done, uint64_t total, void *payload)
{
    (void)payload;
    if (getenv("LIB_REPO_PROGRESS"))
        fprintf(stderr, "progress %llu/%llu\n", (unsigned long long)done, (unsigned long long)total);
    /* LIB_REPO_CANCEL=1 cancels the push from the first progress report */
    return getenv("LIB_REPO_CANCEL") ? 1 : 0;
}

/* LIB_REPO_DOWNLOAD_PROGRESS / LIB_REPO_HASH_PROGRESS: download and hash progress. Each kind checks that done
 * never goes back and never passes total, and its last report is printed at exit ("download D/T calls N");
 * LIB_REPO_CANCEL_DOWNLOAD / LIB_REPO_CANCEL_HASH cancel from the first report. */
typedef struct kind_progress {
    const char *name, *cancel_env;
    uint64_t done, total;
    unsigned long calls;
    int bad;
} kind_progress;

static int kind_cb(uint64_t done, uint64_t total, void *payload)
{
    kind_progress *k = payload;
    if (done < k->done || done > total || (k->calls && total != k->total))
        k->bad = 1;
    k->done = done;
    k->total = total;
    k->calls++;
    return getenv(k->cancel_env) ? 1 : 0;
}

static void kind_print(const kind_progress *k)
{
    if (k->calls || getenv(k->name[0] == 'd' ? "LIB_REPO_DOWNLOAD_PROGRESS" : "LIB_REPO_HASH_PROGRESS"))
        printf("%s %llu/%llu calls %lu%s\n", k->name, (unsigned long long)k->done, (unsigned long long)k->total,
               k->calls, k->bad ? " NOT-MONOTONIC" : "");
}

int main(int argc, char **argv)
{
    kind_progress dl = {"download", "LIB_REPO_CANCEL_DOWNLOAD", 0, 0, 0, 0};
    kind_progress hash = {"hash", "LIB_REPO_CANCEL_HASH", 0, 0, 0, 0};
    int want_dl = getenv("LIB_REPO_DOWNLOAD_PROGRESS") != NULL, want_hash = getenv("LIB_REPO_HASH_PROGRESS") != NULL;
    if (argc < 3) {
        fprintf(stderr, "usage: lib_repo open|add|commit|push|pull DIR [ARGS]\n");
        return 2;
    }
    const char *cmd = argv[1], *dir = argv[2];
    if (hf_init() < 0) {
        fprintf(stderr, "lib_repo: hf_init: %s\n", hf_error_last_message());
        return 1;
    }
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.token = getenv("LIB_REPO_TOKEN"); /* the caller's own token (NULL: HF_TOKEN, the saved login) */
    opts.git_user = getenv("LIB_REPO_USER");
    opts.git_email = getenv("LIB_REPO_EMAIL");
    if (getenv("LIB_REPO_DOWNLOAD_PARALLEL")) /* the library option (HFGIT_DOWNLOAD_PARALLEL is the env one) */
        opts.download_parallel = atoi(getenv("LIB_REPO_DOWNLOAD_PARALLEL"));
    if (strcmp(cmd, "open") == 0) {
        opts.clone_from = argc > 3 && argv[3][0] != '-' ? argv[3] : NULL;
        opts.skip_lfs_files = has_flag(argc, argv, "--skip-lfs");
        for (int i = 3; i + 1 < argc; i++)
            if (strcmp(argv[i], "--revision") == 0)
                opts.revision = argv[i + 1];
    }
    /* open (clone) gets the callbacks through the options; the other commands through hf_repo_set_progress */
    if (strcmp(cmd, "open") == 0) {
        opts.download_progress = want_dl ? kind_cb : NULL;
        opts.download_progress_payload = &dl;
        opts.hash_progress = want_hash ? kind_cb : NULL;
        opts.hash_progress_payload = &hash;
    }
    hf_repo *repo = NULL;
    int rc = hf_repo_open(&repo, dir, &opts);
    if (rc == 0 && strcmp(cmd, "open") != 0 &&
        ((want_dl && hf_repo_set_progress(repo, HF_PROGRESS_DOWNLOAD, kind_cb, &dl) < 0) ||
         (want_hash && hf_repo_set_progress(repo, HF_PROGRESS_HASH, kind_cb, &hash) < 0)))
        rc = hf_error_last_code();
    if (rc == 0) {
        if (strcmp(cmd, "open") == 0) {
            rc = 0;
        } else if (strcmp(cmd, "add") == 0 && argc > 3) {
            rc = hf_repo_add(repo, argv[3], has_flag(argc, argv, "--auto"));
        } else if (strcmp(cmd, "commit") == 0 && argc > 3) {
            char id[41];
            rc = hf_repo_commit_id(repo, argv[3], id);
            if (rc == 0)
                printf("%s\n", id);
        } else if (strcmp(cmd, "push") == 0) {
            hf_push_options po = HF_PUSH_OPTIONS_INIT;
            po.multipart = !has_flag(argc, argv, "--no-multipart");
            po.progress = progress;
            if (getenv("LIB_REPO_MAX_RATE"))
                po.max_rate = strtoull(getenv("LIB_REPO_MAX_RATE"), NULL, 10);
            po.branch = getenv("LIB_REPO_BRANCH"); /* NULL: the current branch */
            rc = hf_repo_push(repo, &po, NULL);
        } else if (strcmp(cmd, "status") == 0) {
            rc = hf_repo_is_clean(repo);
            if (rc >= 0) {
                printf("%s\n", rc ? "clean" : "dirty");
                rc = 0;
            }
        } else if (strcmp(cmd, "lsstatus") == 0) {
            hf_status st;
            if ((rc = hf_repo_status(repo, &st)) == 0)
                for (size_t i = 0; i < st.count; i++)
                    printf("%c%c %s%s\n", st.entries[i].worktree_status == '?' ? '?' : st.entries[i].index_status,
                           st.entries[i].worktree_status, st.entries[i].path, st.entries[i].lfs ? " [lfs]" : "");
            hf_status_dispose(&st);
        } else if (strcmp(cmd, "branch") == 0) {
            char *branch = NULL;
            if ((rc = hf_repo_current_branch(repo, &branch)) == 0)
                printf("%s\n", branch);
            free(branch);
        } else if (strcmp(cmd, "info") == 0) {
            char *branch = NULL, *url = NULL, *curl = NULL, head[41] = "";
            if ((rc = hf_repo_current_branch(repo, &branch)) == 0 && (rc = hf_repo_remote_url(repo, &url)) == 0 &&
                (rc = hf_repo_head_hash(repo, head)) == 0 && (rc = hf_repo_head_commit_url(repo, &curl)) == 0)
                printf("branch %s\nhead %s\nurl %s\ncommit_url %s\n", branch, head, url, curl);
            free(branch);
            free(url);
            free(curl);
        } else if (strcmp(cmd, "deleted") == 0) {
            hf_strarray del;
            if ((rc = hf_repo_list_deleted_files(repo, &del)) == 0)
                for (size_t i = 0; i < del.count; i++)
                    printf("%s\n", del.strings[i]);
            hf_strarray_dispose(&del);
        } else if (strcmp(cmd, "checkout") == 0 && argc > 3) {
            rc = hf_repo_checkout(repo, argv[3], has_flag(argc, argv, "--create"));
        } else if (strcmp(cmd, "tag-exists") == 0 && argc > 3) {
            rc = hf_repo_tag_exists(repo, argv[3], has_flag(argc, argv, "--remote") ? "origin" : NULL);
            if (rc >= 0) {
                printf("%s\n", rc ? "yes" : "no");
                rc = 0;
            }
        } else if (strcmp(cmd, "tag") == 0 && argc > 3) {
            const char *message = NULL;
            for (int i = 4; i + 1 < argc; i++)
                if (strcmp(argv[i], "--message") == 0)
                    message = argv[i + 1];
            rc = hf_repo_add_tag(repo, argv[3], message, has_flag(argc, argv, "--remote") ? "origin" : NULL);
        } else if (strcmp(cmd, "untag") == 0 && argc > 3) {
            rc = hf_repo_delete_tag(repo, argv[3], has_flag(argc, argv, "--remote") ? "origin" : NULL);
        } else if ((strcmp(cmd, "track") == 0 || strcmp(cmd, "untrack") == 0 ||
                    strcmp(cmd, "track-files") == 0 || strcmp(cmd, "untrack-files") == 0) &&
                   argc > 3) {
            const char *const *pats = (const char *const *)(argv + 3);
            size_t n = (size_t)(argc - 3);
            rc = strcmp(cmd, "track-files") == 0     ? hf_repo_lfs_track_filenames(repo, pats, n)
                 : strcmp(cmd, "untrack-files") == 0 ? hf_repo_lfs_untrack_filenames(repo, pats, n)
                 : cmd[0] == 't'                     ? hf_repo_lfs_track(repo, pats, n)
                                                     : hf_repo_lfs_untrack(repo, pats, n);
            if (rc >= 0) {
                printf("%d\n", rc);
                rc = 0;
            }
        } else if (strcmp(cmd, "prune") == 0) {
            size_t removed = 0;
            uint64_t bytes = 0;
            if ((rc = hf_repo_lfs_prune(repo, &removed, &bytes)) == 0)
                printf("removed %zu bytes %llu\n", removed, (unsigned long long)bytes);
        } else if (strcmp(cmd, "largefiles") == 0) {
            rc = hf_repo_lfs_enable_largefiles(repo);
        } else if (strcmp(cmd, "push-to-hub") == 0 && argc > 3) {
            hf_command *c = NULL;
            int blocking = !has_flag(argc, argv, "--nonblocking");
            rc = hf_repo_push_to_hub(repo, argv[3], blocking, !has_flag(argc, argv, "--no-clean-ok"),
                                     has_flag(argc, argv, "--prune"), &c);
            if (rc == 0 && !blocking) {
                printf("queued %s status %d\n", c ? hf_command_title(c) : "nothing", c ? hf_command_status(c) : 0);
                int failed = hf_repo_wait_for_commands(repo);
                printf("after wait status %d failed %d\n", c ? hf_command_status(c) : 0, failed);
                if (c && hf_command_failed(c)) {
                    fprintf(stderr, "lib_repo push-to-hub: %s\n", hf_command_error(c));
                    rc = -hf_command_status(c);
                }
            }
        } else if (strcmp(cmd, "path") == 0 && argc > 3) {
            char path[4096];
            if ((rc = hf_repo_path(repo, argv[3], path, sizeof(path))) == 0)
                printf("%s\n", path);
        } else if (strcmp(cmd, "pull") == 0) {
            rc = hf_repo_pull(repo, has_flag(argc, argv, "--rebase"));
        } else {
            fprintf(stderr, "lib_repo: unknown command or missing argument: %s\n", cmd);
            rc = -2;
        }
    }
    if (rc < 0 && rc != -2)
        fprintf(stderr, "lib_repo %s: %s (%s)\n", cmd, hf_error_last_message(), hf_error_code_name(rc));
    kind_print(&dl);
    kind_print(&hash);
    hf_repo_free(repo);
    hf_shutdown();
    return rc < 0 ? -rc : 0;
}
