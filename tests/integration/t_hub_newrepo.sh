#!/usr/bin/env bash
# t_hub_newrepo: a repository created on hfgit-hub starts as huggingface.co starts one: one commit on main,
# "initial commit", holding a .gitattributes that sends the Hub's default patterns to LFS, so that git + git-lfs,
# the hfgit CLI and the library meet offline what they will meet online. --empty-repos keeps them empty.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "new repositories" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
hub_start || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/new >/dev/null || not_ok "create user/new"
cd "$WORK" || exit 1

PATTERNS='*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy *.npz *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* *.tar.* *.tar *.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*'
expected=$(for p in $PATTERNS; do echo "$p filter=lfs diff=lfs merge=lfs -text"; done)

check "git clone of a new repo" git clone -q "$HUB_URL/user/new" w
check_eq "it has one commit, on main" "$(git -C w rev-list --count HEAD) $(git -C w symbolic-ref --short HEAD)" "1 main"
check_eq "... named \"initial commit\"" "$(git -C w log -1 --format=%s)" "initial commit"
check_eq "... holding only .gitattributes" "$(git -C w ls-files)" ".gitattributes"
check_eq "... with the Hub's 35 default LFS patterns, in its order" "$(cat w/.gitattributes)" "$expected"
hub_create_repo datasets/user/d >/dev/null && hub_create_repo spaces/user/sp >/dev/null
git clone -q "$HUB_URL/datasets/user/d" d && git clone -q "$HUB_URL/spaces/user/sp" sp
check_eq "datasets and spaces start the same way" "$(cat d/.gitattributes; git -C sp log --format=%s)" "$expected
initial commit"

# git + git-lfs: files matching the defaults go to LFS without any `git lfs track`.
(cd w && git lfs install --local >/dev/null)
head -c 3000000 /dev/urandom >w/model.safetensors
head -c 70000 /dev/urandom >w/weights.bin
echo hello >w/README.md
git -C w add . && git -C w commit -qm weights
check "git push to the new repo (fast-forward from its first commit)" git_auth -C w push -q origin main
check_contains "model.safetensors went to LFS" "$(git -C w cat-file -p HEAD:model.safetensors)" "oid sha256:$(sha w/model.safetensors)"
check_contains "weights.bin went to LFS" "$(git -C w cat-file -p HEAD:weights.bin)" "oid sha256:$(sha w/weights.bin)"
check "the hub holds the LFS object" test -f "$HUB_ROOT/repos/models/user/new.git/lfs/objects/$(sha w/model.safetensors | cut -c1-2)/$(sha w/model.safetensors | cut -c3-4)/$(sha w/model.safetensors)"
check_eq "README.md stays a plain file" "$(git -C w cat-file -p HEAD:README.md)" "hello"

# the CLI and the library on a new repo
if [ -x "$BUILD_DIR/hfgit" ]; then
    hub_create_repo user/cli >/dev/null
    head -c 50000 /dev/urandom >up.pt
    check "hfgit upload to a new repo" env HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" "$BUILD_DIR/hfgit" upload user/cli up.pt up.pt
    git clone -q "$HUB_URL/user/cli" c 2>/dev/null
    check_eq "... on top of the initial commit" "$(git -C c log --format=%s | tail -n 1) $(git -C c ls-files | tr '\n' ' ')" \
        "initial commit .gitattributes up.pt "
    check_contains "... as an LFS file" "$(git -C c cat-file -p HEAD:up.pt)" "oid sha256:$(sha up.pt)"
fi
if [ -x "$BUILD_DIR/tests/lib_repo" ]; then
    check "the library clones a new repo" env HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER=u LIB_REPO_EMAIL=u@x.invalid \
        "$BUILD_DIR/tests/lib_repo" open l user/new
    check "... and gets its files" cmp l/model.safetensors w/model.safetensors
fi

# --empty-repos: today's empty repositories (other servers make them)
hub_stop
hub_start --empty-repos || { not_ok "hub starts with --empty-repos"; done_testing; exit 1; }
hub_create_repo user/empty >/dev/null
check_eq "--empty-repos: a new repo has no refs" "$(git ls-remote "$HUB_URL/user/empty" | wc -l)" 0
git init -q -b main e && echo x >e/x && git -C e add x && git -C e commit -qm x
check "... and takes any first push" git_auth -C e push -q "$HUB_URL/user/empty" main
done_testing
