/* ulf_scan.c: the folder walk of upload-large-folder (ulf.h). */
#include "ulf.h"

#include <dirent.h>
#include <git2.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The Hub's advice (huggingface_hub upload_large_folder): more than this per folder or per repository makes
 * the repository slow to browse and to clone. */
#define ULF_WARN_FOLDER_ENTRIES 10000
#define ULF_WARN_REPO_FILES 100000

typedef struct scan {
    ulf_run *r;
    size_t cap;
    const hf_cli_list *include, *exclude;
    size_t big_folders;
} scan;

static int add_file(scan *s, const char *rel, const struct stat *st)
{
    ulf_run *r = s->r;
    if (r->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        ulf_file *f = realloc(r->files, cap * sizeof(*f));
        if (!f) return hf_error_set(HF_ENOMEM, "out of memory listing the folder");
        r->files = f;
        s->cap = cap;
    }
    ulf_file *f = &r->files[r->count];
    memset(f, 0, sizeof(*f));
    if (!(f->path = strdup(rel))) return hf_error_set(HF_ENOMEM, "out of memory listing the folder");
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    atomic_init(&f->state, ULF_SEEN);
    r->count++;
    r->total_bytes += f->size;
    return 0;
}

/* dir: the folder's path on disk ("LOCAL/sub"); rel: its path in the upload ("" or "sub/"). */
static int walk(scan *s, hf_buf *dir, hf_buf *rel)
{
    DIR *d = opendir(dir->ptr);
    if (!d) return hf_error_set(HF_EIO, "cannot read folder %s: %s", dir->ptr, strerror(errno));
    size_t dlen = dir->len, rlen = rel->len, entries = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0) continue;
        entries++;
        /* nested repositories and the upload's own state never go to the hub */
        if (strcmp(n, ".git") == 0) continue;
        hf_buf_printf(dir, "/%s", n);
        hf_buf_puts(rel, n);
        struct stat st;
        if (stat(dir->ptr, &st) < 0) {
            if (errno != ENOENT) /* a dangling link is skipped like git skips it; anything else is an error */
                rc = hf_error_set(HF_EIO, "cannot stat %s: %s", dir->ptr, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            struct stat lst;
            int is_link = lstat(dir->ptr, &lst) == 0 && S_ISLNK(lst.st_mode);
            /* .cache/huggingface holds upload state (ours, huggingface_hub's), at any depth */
            int state_dir = strcmp(n, "huggingface") == 0 && rlen >= 7 &&
                            strncmp(rel->ptr + rlen - 7, ".cache/", 7) == 0 &&
                            (rlen == 7 || rel->ptr[rlen - 8] == '/');
            if (!is_link && !state_dir) {
                hf_buf_putc(rel, '/');
                rc = walk(s, dir, rel);
            }
        } else if (S_ISREG(st.st_mode)) {
            if (strpbrk(rel->ptr, "\t\n\r")) {
                (void)fprintf(stderr,
                              "hfgit upload-large-folder: warning: skipping %s: tab or newline in its name\n",
                              dir->ptr);
                s->r->ignored++;
            } else if (!hf_upload_selected(rel->ptr, s->include, s->exclude)) {
                s->r->ignored++;
            } else {
                rc = add_file(s, rel->ptr, &st);
            }
        }
        dir->len = dlen;
        dir->ptr[dlen] = '\0';
        rel->len = rlen;
        rel->ptr[rlen] = '\0';
    }
    closedir(d);
    if (rc == 0 && entries > ULF_WARN_FOLDER_ENTRIES) {
        (void)fprintf(
            stderr,
            "hfgit upload-large-folder: warning: %s has %zu entries; the Hub advises at most %d per "
            "folder (browsing and cloning get slow): consider sub-folders\n",
            dir->ptr, entries, ULF_WARN_FOLDER_ENTRIES);
        s->big_folders++;
    }
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const ulf_file *)a)->path, ((const ulf_file *)b)->path);
}

int ulf_scan(ulf_run *r, const hf_cli_list *include, const hf_cli_list *exclude)
{
    scan s = {r, 0, include, exclude, 0};
    hf_buf dir = HF_BUF_INIT, rel = HF_BUF_INIT;
    hf_buf_puts(&dir, r->local_path);
    hf_buf_puts(&rel, "");
    int rc = walk(&s, &dir, &rel);
    hf_buf_free(&dir);
    hf_buf_free(&rel);
    if (rc < 0) return rc;
    if (r->count) qsort(r->files, r->count, sizeof(*r->files), by_path);
    if (r->count > ULF_WARN_REPO_FILES)
        (void)fprintf(
            stderr,
            "hfgit upload-large-folder: warning: %zu files to upload; the Hub advises at most %d files "
            "per repository: consider packing small files (e.g. Parquet, WebDataset tar shards)\n",
            r->count, ULF_WARN_REPO_FILES);
    return 0;
}

ulf_file *ulf_find(ulf_run *r, const char *path)
{
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->files[mid].path, path);
        if (c == 0) return &r->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void ulf_files_free(ulf_run *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->files[i].path);
    free(r->files);
    r->files = NULL;
    r->count = 0;
}

typedef struct tree_count {
    ulf_run *r;
    size_t others; /* files in the tree that the upload does not replace */
    hf_buf path;
} tree_count;

static int count_entry(const char *root, const git_tree_entry *e, void *payload)
{
    tree_count *t = payload;
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) return 0;
    hf_buf_clear(&t->path);
    hf_buf_printf(&t->path, "%s%s", root, git_tree_entry_name(e));
    if (!ulf_find(t->r, t->path.ptr)) t->others++;
    return 0;
}

void ulf_warn_repo_files(ulf_run *r, const char *workdir)
{
    if (r->count > ULF_WARN_REPO_FILES) return; /* ulf_scan said so already */
    git_repository *git = NULL;
    git_object *tree = NULL;
    tree_count t = {r, 0, HF_BUF_INIT};
    if (git_repository_open(&git, workdir) == 0 && git_revparse_single(&tree, git, "HEAD^{tree}") == 0)
        (void)git_tree_walk((git_tree *)tree, GIT_TREEWALK_PRE, count_entry, &t);
    git_error_clear(); /* an empty repository has no HEAD: nothing to count */
    if (r->count + t.others > ULF_WARN_REPO_FILES)
        (void)fprintf(stderr,
                      "hfgit upload-large-folder: warning: %zu files to upload and %zu others already in the "
                      "repository; the Hub advises at most %d files per repository: consider packing small "
                      "files (e.g. Parquet, WebDataset tar shards)\n",
                      r->count, t.others, ULF_WARN_REPO_FILES);
    git_object_free(tree);
    git_repository_free(git);
    hf_buf_free(&t.path);
}
