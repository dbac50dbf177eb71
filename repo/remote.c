/*
 * remote.c: git_remote handles for one network operation, without libgit2 1.5's per-lookup leak.
 *
 * libgit2 1.5's git_remote_lookup (and git_remote_create with a repository) applies url.<base>.insteadOf by
 * iterating the configuration through a regular expression ("url\..*\.insteadof"); its PCRE2 matcher
 * (git_regexp_match) returns without pcre2_match_data_free for every entry that does not match, and PCRE2
 * 10.42 keeps a 20 KiB frame heap in each match data. With a dozen configuration entries that is about 0.6 MB
 * per lookup, two lookups per push: the 1.2 MB per push a training loop saw (fixed upstream after 1.5).
 *
 * So we never let libgit2 iterate with a regular expression: the remote's url, pushurl and fetch refspec are
 * read with plain key lookups, insteadOf/pushInsteadOf are applied here (the longest matching prefix wins, as
 * git does), and the remote is created anonymous with GIT_REMOTE_CREATE_SKIP_INSTEADOF. It behaves like the
 * named remote for what we do with it: push and fetch update refs/remotes/<name>/ through its fetch refspec.
 * Not applied: remote.<name>.proxy and tagOpt (an anonymous remote fetches no tags unless asked; pull asks).
 */
#include "repo.h"

#include "../common/config.h"
#include "../common/error.h"

#include <string.h>

typedef struct insteadof_match {
    const char *url;
    const char *suffix; /* "insteadof" or "pushinsteadof" */
    hf_buf best;        /* the replacement base with the longest matching prefix so far */
    size_t best_len;    /* length of that prefix; 0: none */
} insteadof_match;

/* One configuration entry: url.<base>.<suffix> = <prefix>. */
static void insteadof_consider(insteadof_match *m, const git_config_entry *e)
{
    size_t nlen = strlen(e->name), slen = strlen(m->suffix);
    if (nlen < 4 + 1 + slen || strncmp(e->name, "url.", 4) != 0 || e->name[nlen - slen - 1] != '.' ||
        strcmp(e->name + nlen - slen, m->suffix) != 0 || !e->value)
        return;
    size_t plen = strlen(e->value);
    if (plen == 0 || plen <= m->best_len || strncmp(m->url, e->value, plen) != 0)
        return;
    hf_buf_clear(&m->best);
    if (hf_buf_put(&m->best, e->name + 4, nlen - 4 - slen - 1) == 0)
        m->best_len = plen;
}

/* git's url rewriting: out gets url with the longest <suffix> prefix replaced (or url itself). Returns 1 when
 * a rule applied, 0 when not, HF_ENOMEM. */
static int apply_insteadof(git_config *cfg, const char *url, const char *suffix, hf_buf *out)
{
    insteadof_match m = {url, suffix, HF_BUF_INIT, 0};
    git_config_iterator *it = NULL;
    git_config_entry *e;
    /* the plain iterator: no regular expression, so nothing leaks */
    if (git_config_iterator_new(&it, cfg) == 0) {
        while (git_config_next(&e, it) == 0)
            insteadof_consider(&m, e);
        git_config_iterator_free(it);
    }
    git_error_clear();
    int rc = m.best_len ? hf_buf_printf(out, "%s%s", hf_buf_cstr(&m.best), url + m.best_len) : hf_buf_puts(out, url);
    hf_buf_free(&m.best);
    return rc < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : m.best_len > 0;
}

static int first_value(const git_config_entry *e, void *payload)
{
    hf_buf *b = payload;
    if (b->len == 0 && e->value)
        hf_buf_puts(b, e->value);
    return 0;
}

int hf_remote_open(git_remote **out, git_repository *git, const char *name)
{
    git_config *cfg = NULL;
    git_buf url = GIT_BUF_INIT, pushurl = GIT_BUF_INIT;
    hf_buf key = HF_BUF_INIT, fetch = HF_BUF_INIT, fetch_url = HF_BUF_INIT, push_url = HF_BUF_INIT;
    git_remote_create_options co;
    int rc = 0;
    *out = NULL;
    if (!name || !name[0])
        return hf_error_set(HF_EINVAL, "no remote name given");
    if (git_repository_config_snapshot(&cfg, git) < 0) {
        rc = hf_repo_git_error(HF_ERROR, "cannot read the repository configuration");
        goto out;
    }
    if (hf_buf_printf(&key, "remote.%s.url", name) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    if (git_config_get_string_buf(&url, cfg, key.ptr) < 0) {
        git_error_clear();
        rc = hf_error_set(HF_ENOTFOUND, "no remote named \"%s\" (git remote add %s <url>)", name, name);
        goto out;
    }
    hf_buf_clear(&key);
    if (hf_buf_printf(&key, "remote.%s.pushurl", name) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    (void)git_config_get_string_buf(&pushurl, cfg, key.ptr); /* optional */
    hf_buf_clear(&key);
    if (hf_buf_printf(&key, "remote.%s.fetch", name) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    /* the multivar lookup without a pattern compiles no regular expression; the first refspec is used */
    (void)git_config_get_multivar_foreach(cfg, key.ptr, NULL, first_value, &fetch);
    git_error_clear(); /* pushurl and fetch are optional */
    if (fetch.len == 0 && hf_buf_printf(&fetch, "+refs/heads/*:refs/remotes/%s/*", name) < 0) {
        rc = hf_error_set(HF_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = apply_insteadof(cfg, url.ptr, "insteadof", &fetch_url)) < 0)
        goto out;
    /* git: a pushurl gets insteadOf; without one, pushInsteadOf rewrites url for pushing, else insteadOf does */
    if (pushurl.size) {
        rc = apply_insteadof(cfg, pushurl.ptr, "insteadof", &push_url);
    } else if ((rc = apply_insteadof(cfg, url.ptr, "pushinsteadof", &push_url)) == 0) {
        hf_buf_clear(&push_url);
        rc = hf_buf_puts(&push_url, fetch_url.ptr) < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : 0;
    }
    if (rc < 0)
        goto out;
    rc = 0;
    git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    co.repository = git;
    co.fetchspec = fetch.ptr;
    co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
    if (git_remote_create_with_opts(out, fetch_url.ptr, &co) < 0) {
        rc = hf_repo_git_error(HF_EINVAL, "bad remote configuration");
        goto out;
    }
    if (strcmp(push_url.ptr, fetch_url.ptr) != 0 && git_remote_set_instance_pushurl(*out, push_url.ptr) < 0) {
        git_remote_free(*out);
        *out = NULL;
        rc = hf_repo_git_error(HF_EINVAL, "bad remote push URL");
    }
out:
    if (rc < 0)
        hf_error_prefix("remote %s: ", name);
    git_config_free(cfg);
    git_buf_dispose(&url);
    git_buf_dispose(&pushurl);
    hf_buf_free(&key);
    hf_buf_free(&fetch);
    hf_buf_free(&fetch_url);
    hf_buf_free(&push_url);
    return rc;
}

int hf_remote_config_url(git_repository *git, const char *name, hf_buf *out)
{
    git_remote *remote = NULL;
    int rc = hf_remote_open(&remote, git, name);
    if (rc < 0)
        return rc;
    const char *url = git_remote_url(remote);
    rc = url ? hf_url_strip_credentials(out, url) : hf_error_set(HF_EINVAL, "the remote has no URL");
    git_remote_free(remote);
    return rc;
}
