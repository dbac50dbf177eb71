/*
 * first_file.c: huggingface_hub's
 *
 *     repo = Repository("my-model", clone_from="user/my-model")
 *     with repo.commit("My first file :)"):
 *         with open("file.txt", "w+") as f:
 *             f.write(json.dumps({"hey": 8}))
 *
 * with libhfgit. Build and run:
 *
 *     cc -o first_file first_file.c $(pkg-config --cflags --libs hfgit)
 *     HF_TOKEN=hf_... ./first_file my-model user/my-model
 *
 * The token comes from HF_TOKEN or the token file; HF_ENDPOINT picks another hub. When the block ends the file
 * is added, committed and pushed; had the body failed, nothing would be committed or pushed.
 */
#include <hfgit.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LOCAL_DIR REPO_ID\n", argv[0]);
        return 2;
    }
    if (hf_init() < 0)
        return 1;
    hf_repo_options opts = HF_REPO_OPTIONS_INIT;
    opts.clone_from = argv[2];
    hf_repo *repo = NULL;
    int rc = hf_repo_open(&repo, argv[1], &opts);
    if (rc == 0) {
        hf_commit_options co = HF_COMMIT_OPTIONS_INIT;
        co.result = &rc;
        HF_REPO_COMMIT(repo, "My first file :)", &co)
        {
            char path[4096];
            FILE *f = hf_repo_path(repo, "file.txt", path, sizeof(path)) == 0 ? fopen(path, "w+") : NULL;
            if (!f)
                HF_COMMIT_FAIL(-1); /* nothing is committed or pushed */
            fputs("{\"hey\": 8}", f);
            if (fclose(f) != 0)
                HF_COMMIT_FAIL(-1);
        }
    }
    if (rc < 0)
        fprintf(stderr, "first_file: %s\n", hf_error_last_message());
    else {
        char *url = NULL;
        if (hf_repo_head_commit_url(repo, &url) == 0)
            printf("%s\n", url);
        free(url);
    }
    hf_repo_free(repo);
    hf_shutdown();
    return rc < 0 ? 1 : 0;
}
