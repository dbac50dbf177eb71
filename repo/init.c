/* init.c: hf_init / hf_shutdown / hf_version (see include/hfgit.h). */
#include "../common/error.h"

#include "hfgit.h"

#include "git_stream.h"
#include "lfs_filter.h"
#include "../common/http.h"

#include <git2.h>

/* The version comes from the header's macros, so hf_version() and HFGIT_VERSION_* cannot disagree. */
#define HF_STRINGIFY_(x) #x
#define HF_STRINGIFY(x) HF_STRINGIFY_(x)

/* hf_init/hf_shutdown are documented as single-threaded (setup and teardown), so a plain counter does. */
static int init_count;

const char *hf_version(void)
{
    return HF_STRINGIFY(HFGIT_VERSION_MAJOR) "." HF_STRINGIFY(HFGIT_VERSION_MINOR) "." HF_STRINGIFY(
        HFGIT_VERSION_PATCH);
}

int hf_init(void)
{
    int rc = git_libgit2_init();
    if (rc < 0) {
        const git_error *e = git_error_last();
        return hf_error_set(HF_ERROR, "libgit2 failed to initialise: %s", e ? e->message : "unknown error");
    }
    /* The same CA for git's traffic (libgit2's TLS reads no environment): see hf_http_ca_file. */
    const char *ca = hf_http_ca_file();
    if (ca && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL) < 0) {
        const git_error *e = git_error_last();
        git_libgit2_shutdown();
        return hf_error_set(HF_ERROR, "cannot use the CA file %s: %s", ca, e ? e->message : "unknown error");
    }
    if ((rc = hf_http_global_init()) < 0 || (rc = hf_lfs_filter_register()) < 0) {
        git_libgit2_shutdown();
        return rc;
    }
    /* libgit2 1.5 has no socket timeouts: ours fails a stalled git connection (git_stream.c) */
    if (init_count == 0 && hf_git_stream_register() < 0) {
        hf_lfs_filter_unregister();
        git_libgit2_shutdown();
        return hf_error_set(HF_ERROR, "cannot register the git socket stream with libgit2");
    }
    init_count++;
    return 0;
}

void hf_shutdown(void)
{
    if (init_count <= 0)
        return;
    /* Our last user leaves: take the filter out so that a later libgit2 user does not run it. */
    if (--init_count == 0) {
        hf_lfs_filter_unregister();
        hf_git_stream_unregister();
    }
    git_libgit2_shutdown();
}
