#!/usr/bin/env bash
# t_cli_upload_forms: `hfgit upload` accepts the upload guide's command lines exactly (issue 14, item 5):
# its table's positional forms (a file at the root, a folder at the root, a folder under a path written with a
# leading '/', --delete with the folder at the root) and the `--opt=value` spelling of options.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"
command -v git-lfs >/dev/null || { skip "upload forms" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1
tree_of() { rm -rf "$WORK/t" && git clone -q "$1" "$WORK/t" 2>/dev/null && git -C "$WORK/t" ls-files | tr '\n' ' '; }

mkdir -p models path/to/curated/data
echo m >models/model.safetensors; echo x >models/x.safetensors; echo c >models/config.json
echo d >path/to/curated/data/train.csv

check "huggingface-cli upload my-cool-model ./models/model.safetensors" \
    hfgit upload Wauplin/my-cool-model ./models/model.safetensors
check_eq "... puts the file at the root under its name" "$(tree_of "$HUB_URL/Wauplin/my-cool-model")" "model.safetensors "
check "huggingface-cli upload my-cool-model ./models ." hfgit upload Wauplin/my-cool-model ./models .
check_eq "... puts the folder's content at the root" "$(tree_of "$HUB_URL/Wauplin/my-cool-model")" \
    "config.json model.safetensors x.safetensors "
check "huggingface-cli upload my-cool-dataset ./path/to/curated/data /data/train --repo-type=dataset" \
    hfgit upload Wauplin/my-cool-dataset ./path/to/curated/data /data/train --repo-type=dataset
check_eq "... puts the folder under data/train of a dataset" \
    "$(tree_of "$HUB_URL/datasets/Wauplin/my-cool-dataset")" "data/train/train.csv "
rm models/x.safetensors
check "huggingface-cli upload my-cool-model ./models . --delete=\"*.safetensors\"" \
    hfgit upload Wauplin/my-cool-model ./models . --delete="*.safetensors"
check_eq "... deletes the remote files the upload does not bring" "$(tree_of "$HUB_URL/Wauplin/my-cool-model")" \
    "config.json model.safetensors "
echo c2 >models/config.json
check "--commit-message=MSG and --revision=BRANCH" \
    hfgit upload Wauplin/my-cool-model ./models . --commit-message="msg with = sign" --revision=dev
check_eq "... both taken" "$(git -C "$WORK/t" fetch -q origin dev && git -C "$WORK/t" log -1 --format=%s FETCH_HEAD)" \
    "msg with = sign"
done_testing
