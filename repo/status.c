/* status.c: hf_repo_is_clean, on hf_repo_status (status_list.c): files whose stat data hf_repo_add and
 * checkouts recorded are not re-read, changed LFS files are streamed. */
#include "repo.h"

#include "../common/error.h"

static int is_clean_unlocked(hf_repo *repo)
{
    if (!repo)
        return hf_error_set(HF_EINVAL, "hf_repo_is_clean: no repository");
    /* hf_repo_status, not libgit2's: a modified LFS file is streamed, not read whole into memory */
    hf_status st;
    int rc = hf_repo_status(repo, &st);
    if (rc < 0)
        return rc;
    int clean = st.count == 0;
    hf_status_dispose(&st);
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
