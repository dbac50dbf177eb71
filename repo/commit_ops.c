/*
 * commit_ops.c: hf_repo_create_commit. The commit is built from the branch's tree, not from the index or the
 * work tree: an in-memory index is loaded with that tree, each operation is applied to it in order, and the
 * result is written as a tree. Every check happens there, before anything visible changes; only then are the
 * work tree files prepared (temp files), the branch moved, the files put in place and the index updated
 * (commit_worktree.c), and the branch pushed. So an operation that cannot apply leaves the repository exactly
 * as it was, and the caller's other staged changes neither leak into the commit nor get lost.
 */
#include "commit_ops.h"

#include "attrs.h"

#include "../common/error.h"
#include "../common/pointer.h"

#include <string.h>
#include <sys/stat.h>

typedef struct build {
    hf_repo *repo;
    git_index *mem;          /* the commit's tree being built */
    git_commit *parent;      /* NULL on an unborn branch */
    git_tree *base;          /* the parent's tree, or NULL */
    hf_buf attrs;            /* the branch's .gitattributes (from base), with our changes: what is committed */
    hf_buf wt_attrs;         /* the work tree's, with the same changes, when the user edited it (wt_differs) */
    int wt_differs;          /* the work tree's .gitattributes is not the branch's: an edit that is not ours */
    int wt_attrs_exists;     /* a regular file */
    int attrs_changed;
    int attrs_owned_by_op;   /* an ADD of .gitattributes itself: the caller's content wins */
    int no_worktree;         /* hf_create_commit_options.no_worktree: the work tree is not read or written */
    hf_touched_list touched;
} build;

/* HEAD's branch as a full ref name, also on an unborn branch; detached HEAD is an error. */
static int head_refname(hf_repo *r, hf_buf *out)
{
    git_reference *head = NULL;
    if (git_reference_lookup(&head, r->git, "HEAD") < 0)
        return hf_repo_git_error(HF_ERROR, "cannot read HEAD");
    int rc = 0;
    if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC)
        rc = hf_error_set(HF_EINVAL, "HEAD is detached: check out a branch (or set hf_create_commit_options.branch)");
    else if (hf_buf_puts(out, git_reference_symbolic_target(head)) < 0)
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    git_reference_free(head);
    return rc;
}

/* The literal-name line `git lfs track --filename` writes (as hf_repo_add's auto-tracking): a name with glob
 * characters must match only itself. */
static int track(build *b, const char *path)
{
    int rc = 0;
    if (b->attrs_owned_by_op)
        return 0;
    /* hf_commit_path_lfs_tracked reads the work tree: with the user's edits there, it may say "tracked" for
     * a rule the commit does not have, so then the commit's own line is written regardless */
    if ((b->no_worktree || b->wt_differs || !hf_commit_path_lfs_tracked(b->repo, path)) &&
        (rc = hf_attrs_track_filename(&b->attrs, path)) > 0)
        b->attrs_changed = 1;
    if (rc >= 0 && b->wt_differs)
        rc = hf_attrs_track_filename(&b->wt_attrs, path);
    return rc < 0 ? rc : 0;
}

static int untrack(build *b, const char *path)
{
    hf_buf pattern = HF_BUF_INIT;
    int rc = 0;
    if (!b->attrs_owned_by_op && !strpbrk(path, "\n\r")) { /* no line can name such a path */
        if ((rc = hf_attrs_escape_filename(path, &pattern)) == 0 && (rc = hf_attrs_untrack(&b->attrs, pattern.ptr)) > 0)
            b->attrs_changed = 1;
        if (rc >= 0 && b->wt_differs)
            rc = hf_attrs_untrack(&b->wt_attrs, pattern.ptr);
    }
    hf_buf_free(&pattern);
    return rc < 0 ? rc : 0;
}

static int put_entry(build *b, const char *path, const git_oid *id, git_filemode_t mode)
{
    git_index_entry e;
    memset(&e, 0, sizeof(e));
    e.path = path;
    e.id = *id;
    e.mode = mode;
    return git_index_add(b->mem, &e) < 0 ? hf_repo_git_error(HF_EINVAL, "cannot place it in the tree") : 0;
}

/* 1 when local_path is the work tree's own file at path (an ADD of a file already in place). */
static int same_file(hf_repo *r, const char *local_path, const char *path)
{
    hf_buf full = HF_BUF_INIT;
    struct stat a, c;
    int same = local_path && hf_buf_printf(&full, "%s%s", r->workdir, path) == 0 && stat(local_path, &a) == 0 &&
               stat(full.ptr, &c) == 0 && a.st_dev == c.st_dev && a.st_ino == c.st_ino;
    hf_buf_free(&full);
    return same;
}

static int apply_add(build *b, hf_commit_op *op, const char *path)
{
    int in_place = same_file(b->repo, op->local_path, path);
    git_oid blob;
    int rc = hf_commit_op_prepare(b->repo, op);
    if (rc == 0)
        rc = hf_commit_op_blob(b->repo, op, &blob);
    if (rc == 0)
        rc = put_entry(b, path, &blob, op->executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB);
    if (rc == 0 && op->lfs)
        rc = track(b, path);
    return rc < 0 ? rc : hf_touched_add(&b->touched, path, in_place);
}

static int apply_delete(build *b, const hf_commit_op *op, const char *path)
{
    size_t n = strlen(op->path_in_repo);
    int folder = op->path_in_repo[n - 1] == '/';
    if (!folder) {
        size_t at;
        if (!git_index_get_bypath(b->mem, path, 0)) {
            int is_dir = git_index_find_prefix(&at, b->mem, path) == 0;
            git_error_clear();
            return hf_error_set(HF_ENOTFOUND, "nothing to delete: no file %s on the branch%s", path,
                                is_dir ? " (for a folder, end the path with '/')" : "");
        }
        int rc = untrack(b, path);
        if (rc == 0 && git_index_remove(b->mem, path, 0) < 0)
            rc = hf_repo_git_error(HF_ERROR, "cannot remove it from the tree");
        return rc < 0 ? rc : hf_touched_add(&b->touched, path, 0);
    }
    hf_buf prefix = HF_BUF_INIT;
    size_t pos = 0, count = 0;
    int rc = hf_buf_printf(&prefix, "%s/", path) < 0 ? hf_error_set(HF_ENOMEM, "out of memory") : 0;
    if (rc == 0 && git_index_find_prefix(&pos, b->mem, prefix.ptr) == 0) {
        const git_index_entry *e;
        while (rc == 0 && (e = git_index_get_byindex(b->mem, pos + count)) &&
               strncmp(e->path, prefix.ptr, prefix.len) == 0) {
            if ((rc = untrack(b, e->path)) == 0)
                rc = hf_touched_add(&b->touched, e->path, 0);
            count++;
        }
    }
    git_error_clear();
    if (rc == 0 && count == 0)
        rc = hf_error_set(HF_ENOTFOUND, "nothing to delete: no file under %s on the branch", prefix.ptr);
    if (rc == 0 && git_index_remove_directory(b->mem, path, 0) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot remove the folder from the tree");
    hf_buf_free(&prefix);
    return rc;
}

/* 1 when blob id is an LFS pointer (a non-empty object). */
static int is_pointer(hf_repo *r, const git_oid *id)
{
    git_blob *blob = NULL;
    hf_lfs_pointer p;
    int yes = git_blob_lookup(&blob, r->git, id) == 0 && git_blob_rawsize(blob) < HF_LFS_POINTER_MAX &&
              hf_pointer_parse(&p, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), NULL) == 0 && p.size > 0;
    git_blob_free(blob);
    hf_error_clear();
    git_error_clear();
    return yes;
}

static int apply_copy(build *b, const hf_commit_op *op, const char *path)
{
    hf_buf src = HF_BUF_INIT;
    git_object *obj = NULL;
    git_tree *tree = NULL;
    git_tree_entry *te = NULL;
    const char *rev = op->src_revision ? op->src_revision : "HEAD";
    int rc = hf_commit_path_check(op->src_path_in_repo, 0, &src);
    if (rc < 0)
        goto out;
    if (!op->src_revision && b->base) {
        tree = b->base; /* the branch's commit, also when opts->branch is not HEAD's */
    } else if (git_revparse_single(&obj, b->repo->git, rev) < 0 || git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
        rc = hf_repo_git_error(HF_ENOTFOUND, "no such revision");
        hf_error_prefix("%s: ", rev);
        goto out;
    }
    if (git_tree_entry_bypath(&te, tree, src.ptr) < 0) {
        git_error_clear();
        rc = hf_error_set(HF_ENOTFOUND, "no file %s at %s", src.ptr, rev);
        goto out;
    }
    if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
        rc = hf_error_set(HF_EINVAL, "%s at %s is a folder; COPY copies files", src.ptr, rev);
        goto out;
    }
    /* an LFS file's pointer is copied as it is: same object, nothing downloaded or uploaded */
    rc = put_entry(b, path, git_tree_entry_id(te), git_tree_entry_filemode(te));
    if (rc == 0 && is_pointer(b->repo, git_tree_entry_id(te)))
        rc = track(b, path);
    if (rc == 0)
        rc = hf_touched_add(&b->touched, path, 0);
out:
    if (tree != b->base)
        git_tree_free(tree);
    git_tree_entry_free(te);
    git_object_free(obj);
    hf_buf_free(&src);
    return rc;
}

static int apply(build *b, hf_commit_op *ops, size_t n)
{
    hf_buf path = HF_BUF_INIT, what = HF_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hf_commit_op *op = &ops[i];
        if ((rc = hf_commit_path_check(op->path_in_repo, op->kind == HF_COMMIT_OP_DELETE, &path)) == 0) {
            switch (op->kind) {
            case HF_COMMIT_OP_ADD: rc = apply_add(b, op, path.ptr); break;
            case HF_COMMIT_OP_DELETE: rc = apply_delete(b, op, path.ptr); break;
            case HF_COMMIT_OP_COPY: rc = apply_copy(b, op, path.ptr); break;
            default: rc = hf_error_set(HF_EINVAL, "unknown kind %d", (int)op->kind); break;
            }
        }
        if (rc < 0) {
            hf_buf msg = HF_BUF_INIT;
            hf_buf_puts(&msg, hf_error_last_message());
            hf_commit_op_describe(op, i, &what);
            hf_error_set(rc, "hf_repo_create_commit: %s: %s; nothing was committed", hf_buf_cstr(&what),
                         hf_buf_cstr(&msg));
            hf_buf_free(&msg);
        }
    }
    hf_buf_free(&path);
    hf_buf_free(&what);
    return rc;
}

/* Loads the branch's commit and tree (none on an unborn branch), the in-memory index and .gitattributes. */
static int load(build *b, const char *refname, hf_commit_op *ops, size_t n)
{
    git_oid head;
    if (git_reference_name_to_id(&head, b->repo->git, refname) == 0) {
        if (git_commit_lookup(&b->parent, b->repo->git, &head) < 0 || git_commit_tree(&b->base, b->parent) < 0)
            return hf_repo_git_error(HF_ERROR, "cannot read the branch's commit");
    }
    git_error_clear();
    if (git_index_new(&b->mem) < 0 || (b->base && git_index_read_tree(b->mem, b->base) < 0))
        return hf_repo_git_error(HF_ERROR, "cannot load the branch's tree");
    for (size_t i = 0; i < n; i++)
        if (ops[i].kind == HF_COMMIT_OP_ADD && ops[i].path_in_repo && strcmp(ops[i].path_in_repo, ".gitattributes") == 0)
            b->attrs_owned_by_op = 1;
    /* the commit's .gitattributes is the branch's: a user's unstaged edit of the work tree file must neither
     * leak into it nor be lost (it is kept, with our lines, in wt_attrs) */
    int rc = 0;
    git_tree_entry *te = NULL;
    if (b->base && git_tree_entry_bypath(&te, b->base, ".gitattributes") == 0) {
        git_blob *blob = NULL;
        if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
            git_error_clear(); /* not a file: git reads no attributes from it either */
        } else if (git_blob_lookup(&blob, b->repo->git, git_tree_entry_id(te)) < 0) {
            rc = hf_repo_git_error(HF_EIO, "cannot read the branch's .gitattributes");
        } else if (hf_buf_put(&b->attrs, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0) {
            rc = hf_error_set(HF_ENOMEM, "out of memory");
        }
        git_blob_free(blob);
        git_tree_entry_free(te);
    }
    git_error_clear();
    if (b->no_worktree)
        return rc;
    hf_buf path = HF_BUF_INIT;
    struct stat st;
    if (rc == 0 && hf_buf_printf(&path, "%s.gitattributes", b->repo->workdir) < 0)
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    if (rc == 0) {
        b->wt_attrs_exists = lstat(path.ptr, &st) == 0 && S_ISREG(st.st_mode);
        rc = hf_read_file(path.ptr, &b->wt_attrs);
    }
    hf_buf_free(&path);
    /* (a .gitattributes the user removed, or a link, is not kept: the work tree gets the commit's) */
    if (rc == 0)
        b->wt_differs = b->wt_attrs_exists &&
                        (b->wt_attrs.len != b->attrs.len ||
                         (b->attrs.len && memcmp(b->wt_attrs.ptr, b->attrs.ptr, b->attrs.len) != 0));
    return rc;
}

/* After the work tree followed the commit: puts the user's own .gitattributes (with our lines) back, and
 * un-stat's its index entry so that git sees it as modified, as it was before. */
static int restore_user_attrs(build *b)
{
    if (!b->wt_differs || !b->attrs_changed || b->attrs_owned_by_op)
        return 0;
    int rc = hf_repo_write_attrs(b->repo, &b->wt_attrs);
    git_index *index = NULL;
    if (rc == 0 && (git_repository_index(&index, b->repo->git) < 0 || git_index_read(index, 1) < 0))
        rc = hf_repo_git_error(HF_EIO, "cannot read the index");
    const git_index_entry *e = rc == 0 ? git_index_get_bypath(index, ".gitattributes", 0) : NULL;
    if (e) {
        git_index_entry n;
        memset(&n, 0, sizeof(n));
        n.path = ".gitattributes"; /* not e's: adding replaces (frees) e */
        n.id = e->id;
        n.mode = e->mode;
        if (git_index_add(index, &n) < 0 || git_index_write(index) < 0)
            rc = hf_repo_git_error(HF_EIO, "cannot write the index");
    }
    git_index_free(index);
    return rc;
}

/* Stages the edited .gitattributes in the commit's tree. */
static int put_attrs(build *b)
{
    git_oid id;
    if (!b->attrs_changed)
        return 0;
    if (git_blob_create_from_buffer(&id, b->repo->git, hf_buf_cstr(&b->attrs), b->attrs.len) < 0)
        return hf_repo_git_error(HF_EIO, "cannot store .gitattributes");
    int rc = put_entry(b, ".gitattributes", &id, GIT_FILEMODE_BLOB);
    return rc < 0 ? rc : hf_touched_add(&b->touched, ".gitattributes", 0);
}

static int make_commit(build *b, const char *message, git_oid *out)
{
    git_oid tree_id;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_buf clean = GIT_BUF_INIT;
    int rc = 0;
    if (git_index_write_tree_to(&tree_id, b->mem, b->repo->git) < 0)
        return hf_repo_git_error(HF_EIO, "cannot write the tree");
    if (b->base ? git_oid_equal(&tree_id, git_tree_id(b->base)) : git_index_entrycount(b->mem) == 0)
        return hf_error_set(HF_ENOCHANGES, "hf_repo_create_commit: the operations leave the tree as it is; "
                                           "nothing was committed");
    if ((rc = hf_repo_signature(b->repo, &sig)) < 0)
        return rc;
    const git_commit *parents[1] = {b->parent};
    if (git_tree_lookup(&tree, b->repo->git, &tree_id) < 0 || git_message_prettify(&clean, message, 0, '#') < 0 ||
        git_commit_create(out, b->repo->git, NULL, sig, sig, NULL, clean.ptr, tree, b->parent ? 1 : 0, parents) < 0)
        rc = hf_repo_git_error(HF_ERROR, "cannot create the commit");
    git_buf_dispose(&clean);
    git_signature_free(sig);
    git_tree_free(tree);
    return rc;
}

/* Moves the branch from the parent to the new commit (refusing when someone else moved it meanwhile). */
static int move_branch(build *b, const char *refname, const git_oid *id, const char *message)
{
    git_reference *ref = NULL;
    hf_buf log = HF_BUF_INIT;
    hf_buf_printf(&log, "commit%s: %.*s", b->parent ? "" : " (initial)", (int)strcspn(message, "\n"), message);
    int rc = git_reference_create_matching(&ref, b->repo->git, refname, id, b->parent ? 1 : 0,
                                           b->parent ? git_commit_id(b->parent) : NULL, hf_buf_cstr(&log));
    git_reference_free(ref);
    hf_buf_free(&log);
    return rc < 0 ? hf_repo_git_error(HF_ERROR, "cannot move the branch to the new commit") : 0;
}

static void build_free(build *b)
{
    git_index_free(b->mem);
    git_tree_free(b->base);
    git_commit_free(b->parent);
    hf_buf_free(&b->attrs);
    hf_buf_free(&b->wt_attrs);
    hf_touched_free(&b->touched);
}

/* Everything under the handle's lock: branch, operations, commit, work tree, index. */
static int commit_locked(hf_repo *repo, hf_commit_op *ops, size_t n, const char *message,
                         const hf_create_commit_options *opts, hf_buf *branch)
{
    build b;
    memset(&b, 0, sizeof(b));
    b.repo = repo;
    b.no_worktree = opts->version >= 2 && opts->no_worktree;
    hf_buf refname = HF_BUF_INIT;
    git_oid id;
    int rc = 0;
    if (opts->branch && (rc = hf_repo_checkout_rev(repo, opts->branch, 1)) < 0)
        hf_error_prefix("hf_repo_create_commit: cannot check out %s: ", opts->branch);
    if (rc == 0)
        rc = head_refname(repo, &refname);
    if (rc == 0 && strncmp(hf_buf_cstr(&refname), "refs/heads/", 11) != 0)
        rc = hf_error_set(HF_EINVAL, "HEAD points to %s, not a branch", refname.ptr);
    if (rc == 0 && hf_buf_puts(branch, hf_buf_cstr(&refname) + 11) < 0)
        rc = hf_error_set(HF_ENOMEM, "out of memory");
    if (rc == 0)
        rc = load(&b, refname.ptr, ops, n);
    if (rc == 0)
        rc = apply(&b, ops, n);
    if (rc == 0)
        rc = put_attrs(&b);
    if (rc == 0)
        rc = make_commit(&b, message, &id);
    if (rc == 0 && b.no_worktree) {
        rc = move_branch(&b, refname.ptr, &id, message);
        build_free(&b);
        hf_buf_free(&refname);
        return rc;
    }
    if (rc == 0)
        rc = hf_worktree_prepare(repo, b.mem, &b.touched);
    if (rc == 0 && (rc = move_branch(&b, refname.ptr, &id, message)) < 0)
        hf_worktree_abort(&b.touched);
    if (rc == 0 && ((rc = hf_worktree_finish(repo, b.mem, &b.touched)) < 0 || (rc = restore_user_attrs(&b)) < 0))
        hf_error_prefix("the commit was made, but the work tree could not follow: ");
    build_free(&b);
    hf_buf_free(&refname);
    return rc;
}

int hf_repo_create_commit(hf_repo *repo, hf_commit_op *ops, size_t n, const char *message,
                          const hf_create_commit_options *opts, hf_command **queued)
{
    static const hf_create_commit_options defaults = HF_CREATE_COMMIT_OPTIONS_INIT;
    if (queued)
        *queued = NULL;
    if (!repo || !message || (!ops && n))
        return hf_error_set(HF_EINVAL, "hf_repo_create_commit: no repository, message or operations");
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > HF_CREATE_COMMIT_OPTIONS_VERSION)
        return hf_error_set(HF_EINVAL, "hf_create_commit_options: version %u is not 1..%d (use "
                                       "HF_CREATE_COMMIT_OPTIONS_INIT)",
                            opts->version, HF_CREATE_COMMIT_OPTIONS_VERSION);
    int v2 = opts->version >= 2;
    if (v2 && opts->no_worktree && opts->branch)
        return hf_error_set(HF_EINVAL, "hf_create_commit_options: no_worktree cannot check out a branch");
    if (v2 && opts->no_push && queued)
        return hf_error_set(HF_EINVAL, "hf_create_commit_options: no_push queues nothing");
    hf_buf branch = HF_BUF_INIT;
    hf_repo_lock(repo);
    int rc = commit_locked(repo, ops, n, message, opts, &branch);
    hf_repo_unlock(repo);
    if (rc == 0 && !(v2 && opts->no_push)) {
        hf_push_options po = HF_PUSH_OPTIONS_INIT;
        po.branch = branch.ptr;
        po.progress = opts->progress;
        po.progress_payload = opts->progress_payload;
        if ((rc = hf_repo_push(repo, &po, queued)) < 0)
            hf_error_prefix("hf_repo_create_commit: the commit was made locally but not pushed (push it again "
                            "with hf_repo_push): ");
    }
    hf_buf_free(&branch);
    return rc;
}
