/*
 * hfgit.hpp: a small header-only C++17 wrapper over hfgit.h (libhfgit) for training code.
 *
 *     hfgit::library lib;                                   // hf_init / hf_shutdown
 *     hfgit::repo::options o;
 *     o.clone_from = "user/model";
 *     hfgit::repo repo("./ckpt", o);
 *     {
 *         hfgit::commit_scope scope(repo, "step 100", false);   // false: the push at the end is queued
 *         write_checkpoint(repo.path("model.bin"));
 *     }   // ends normally: adds, commits, queues the push; an exception leaving it: nothing is pushed
 *     repo.wait_for_commands();
 *
 * Errors are exceptions (hfgit::error) carrying the hf_error_code and the library's message. repo and library
 * are move-only RAII handles; command is a light handle to a queued command, valid while its repo lives (and
 * until repo::clear_done). Thread-safety is the C API's (hfgit.h): a repo may be used from several threads.
 */
#ifndef HFGIT_HPP
#define HFGIT_HPP

#include "hfgit.h"

#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace hfgit {

/* A failed call: code() is the hf_error_code (negative), what() the library's message. */
class error : public std::runtime_error {
public:
    error(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

/* Throws hfgit::error for a negative return code; returns rc otherwise. */
inline int check(int rc)
{
    if (rc < 0) {
        const char *m = hf_error_last_message();
        throw error(rc, m && m[0] ? m : hf_error_code_name(rc));
    }
    return rc;
}

/* hf_init for its lifetime. Create one before any repo, on the main thread. */
class library {
public:
    library() { check(hf_init()); }
    ~library() { hf_shutdown(); }
    library(const library &) = delete;
    library &operator=(const library &) = delete;
};

/* A queued command (owned by its repo). */
class command {
public:
    command() = default;
    explicit command(hf_command *c) : c_(c) {}
    explicit operator bool() const noexcept { return c_ != nullptr; }
    hf_command *get() const noexcept { return c_; }
    /* -1 queued or running, 0 done, > 0 failed (the error code negated). */
    int status() const { return hf_command_status(c_); }
    bool done() const { return hf_command_is_done(c_) != 0; }
    bool failed() const { return hf_command_failed(c_) != 0; }
    std::string error_message() const { return hf_command_error(c_); }
    std::string title() const { return hf_command_title(c_); }
    /* Blocks until done; returns the status (0 or > 0). */
    int wait() const { return check(hf_command_wait(c_)); }
    /* true: cancelled before it started; false: running, it stops at its next safe point. */
    bool cancel() const { return check(hf_command_cancel(c_)) == 0; }
    std::string commit_id() const
    {
        char id[41];
        check(hf_command_commit_id(c_, id));
        return id;
    }
    std::string commit_url() const
    {
        char *url = nullptr;
        check(hf_command_commit_url(c_, &url));
        std::string s(url);
        std::free(url);
        return s;
    }

private:
    hf_command *c_ = nullptr;
};

/* What hf_repo_options holds, as strings; empty means unset. */
struct repo_options {
    std::string clone_from; /* URL or repo id; empty: the directory must already be a clone */
    std::string repo_type;  /* "model" (default), "dataset", "space" */
    std::string token;      /* empty: HF_TOKEN or the token file */
    std::string endpoint;   /* empty: HF_ENDPOINT or https://huggingface.co */
    std::string git_user;
    std::string git_email;
    std::string revision;
    bool skip_lfs_files = false;
};

class repo {
public:
    using options = repo_options;

    explicit repo(const std::string &dir, const options &o = options())
    {
        hf_repo_options opts = HF_REPO_OPTIONS_INIT;
        opts.clone_from = or_null(o.clone_from);
        opts.repo_type = or_null(o.repo_type);
        opts.token = or_null(o.token);
        opts.endpoint = or_null(o.endpoint);
        opts.git_user = or_null(o.git_user);
        opts.git_email = or_null(o.git_email);
        opts.revision = or_null(o.revision);
        opts.skip_lfs_files = o.skip_lfs_files;
        check(hf_repo_open(&r_, dir.c_str(), &opts));
    }
    /* Waits for the queued commands, then frees the handle. */
    ~repo() { hf_repo_free(r_); }
    repo(const repo &) = delete;
    repo &operator=(const repo &) = delete;
    repo(repo &&other) noexcept : r_(std::exchange(other.r_, nullptr)), kept_(std::move(other.kept_)) {}
    repo &operator=(repo &&other) noexcept
    {
        if (this != &other) {
            hf_repo_free(r_);
            r_ = std::exchange(other.r_, nullptr);
            kept_ = std::move(other.kept_);
        }
        return *this;
    }

    hf_repo *get() const noexcept { return r_; }
    std::string workdir() const { return hf_repo_workdir(r_); }
    /* The absolute path of a file in the working tree. */
    std::string path(const std::string &relative) const
    {
        char out[4096];
        check(hf_repo_path(r_, relative.c_str(), out, sizeof(out)));
        return out;
    }

    void add(const std::string &pathspec = ".", bool auto_lfs_track = true)
    {
        check(hf_repo_add(r_, pathspec.c_str(), auto_lfs_track));
    }
    /* Returns the new commit's id; "" when there was nothing to commit. */
    std::string commit(const std::string &message)
    {
        char id[41];
        int rc = hf_repo_commit_id(r_, message.c_str(), id);
        if (rc == HF_ENOCHANGES)
            return "";
        check(rc);
        return id;
    }
    bool is_clean() { return check(hf_repo_is_clean(r_)) == 1; }
    std::string head_hash()
    {
        char id[41];
        check(hf_repo_head_hash(r_, id));
        return id;
    }
    /* Blocking push of the current branch. */
    void push() { check(hf_repo_push(r_, nullptr, nullptr)); }
    /* Queued push of the current branch as it is now. */
    command push_async()
    {
        hf_command *c = nullptr;
        check(hf_repo_push(r_, nullptr, &c));
        return command(c);
    }
    /* Queued push with its own completion callback (instead of on_command_done's): called once, on the worker
     * thread, after the status is final (also when the push is cancelled before it starts). */
    command push_async(std::function<void(command)> on_done)
    {
        auto *fn = new std::function<void(command)>(std::move(on_done));
        hf_push_options po = HF_PUSH_OPTIONS_INIT;
        po.on_done = &repo::own_trampoline;
        po.on_done_payload = fn;
        hf_command *c = nullptr;
        int rc = hf_repo_push(r_, &po, &c);
        if (rc < 0)
            delete fn; /* not queued: it will never be called */
        check(rc);
        return command(c);
    }
    void pull(bool rebase = false) { check(hf_repo_pull(r_, rebase)); }
    void add_tag(const std::string &name, const std::string &message = "", const std::string &remote = "")
    {
        check(hf_repo_add_tag(r_, name.c_str(), or_null(message), or_null(remote)));
    }
    bool tag_exists(const std::string &name, const std::string &remote = "")
    {
        return check(hf_repo_tag_exists(r_, name.c_str(), or_null(remote))) == 1;
    }

    /* Waits for every queued command (timeout_ms < 0: no limit); returns the number that failed. A timeout
     * throws hfgit::error with code HF_ETIMEOUT. */
    int wait_for_commands(long timeout_ms = -1) { return check(hf_repo_wait_for_commands_timeout(r_, timeout_ms)); }
    size_t clear_done() { return hf_repo_commands_clear_done(r_); }
    void set_queue_limit(size_t max_pending, bool block) { check(hf_repo_set_queue_limit(r_, max_pending, block)); }
    /* Called once per command queued from now on, on the worker thread, after its status is final. */
    void on_command_done(std::function<void(command)> fn)
    {
        auto holder = std::make_shared<std::function<void(command)>>(std::move(fn));
        check(hf_repo_set_command_callback(r_, *holder ? &repo::trampoline : nullptr, holder.get()));
        kept_.push_back(std::move(holder)); /* commands queued earlier still call the older ones */
    }

private:
    static const char *or_null(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }
    static void trampoline(hf_command *c, void *payload)
    {
        auto *fn = static_cast<std::function<void(command)> *>(payload);
        try {
            (*fn)(command(c));
        } catch (...) {
            /* an exception cannot cross the C worker thread; a callback that throws just ends */
        }
    }

    /* a command's own callback: called exactly once, so it frees its function */
    static void own_trampoline(hf_command *c, void *payload)
    {
        std::unique_ptr<std::function<void(command)>> fn(static_cast<std::function<void(command)> *>(payload));
        try {
            (*fn)(command(c));
        } catch (...) {
            /* as trampoline: an exception cannot cross the C worker thread */
        }
    }

    hf_repo *r_ = nullptr;
    /* every callback ever set stays alive until the repo (and with it the worker) is gone */
    std::vector<std::shared_ptr<std::function<void(command)>>> kept_;
};

/*
 * A commit context (hf_commit_begin/hf_commit_end): constructed, it checks out the branch and pulls; when the
 * scope ends normally it adds everything, commits and pushes (blocking, or queued: queued() then names the
 * push); when an exception leaves the scope, nothing is added, committed or pushed. finish() ends it early and
 * throws on failure; a failure at the end of the scope itself cannot throw from a destructor, so it is kept
 * in result() (call finish() to see errors as exceptions).
 */
class commit_scope {
public:
    commit_scope(repo &r, const std::string &message, bool blocking = true, bool track_large_files = true,
                 const std::string &branch = "")
        : exceptions_(std::uncaught_exceptions())
    {
        hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
        co.blocking = blocking;
        co.track_large_files = track_large_files;
        co.branch = branch.empty() ? nullptr : branch.c_str();
        check(hf_commit_begin(&ctx_, r.get(), message.c_str(), &co));
    }
    ~commit_scope()
    {
        if (ctx_)
            result_ = end(std::uncaught_exceptions() > exceptions_ ? -1 : 0);
    }
    commit_scope(const commit_scope &) = delete;
    commit_scope &operator=(const commit_scope &) = delete;

    /* Ends the scope now: adds, commits, pushes; throws hfgit::error on failure. */
    void finish() { check(end(0)); }
    /* Ends it now without committing anything (as an exception would). */
    void abandon() { (void)end(-1); }
    /* The queued push (non-blocking scopes, after the end), or an empty command. */
    command queued() const { return command(queued_); }
    int result() const noexcept { return result_; }

private:
    int end(int body_status)
    {
        hf_commit_ctx *c = std::exchange(ctx_, nullptr);
        result_ = c ? hf_commit_end(c, body_status, &queued_) : result_;
        return result_;
    }

    hf_commit_ctx *ctx_ = nullptr;
    hf_command *queued_ = nullptr;
    int exceptions_;
    int result_ = 0;
};

} // namespace hfgit

#endif
