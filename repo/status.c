/* status.c: hf_repo_is_clean. Thanks to the stat data hf_repo_add and checkouts record, this does not re-read
 * (or re-clean) files that have not changed since they were staged. */
#include "repo.h"

#include "../common/error.h"

static int is_clean_unlocked(hf_repo *repo)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_is_clean: no repository");
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list *list = NULL;
    if (git_status_list_new(&list, repo->git, &so) < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read the status");
    int clean = git_status_list_entrycount(list) == 0;
    git_status_list_free(list);
    return clean;
}

int hf_repo_is_clean(hf_repo *repo)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_is_clean: no repository");
    hf_repo_lock(repo);
    int rc = is_clean_unlocked(repo);
    hf_repo_unlock(repo);
    return rc;
}
