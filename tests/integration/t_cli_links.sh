#!/usr/bin/env bash
# t_cli_links: `hfgit upload` into a repository whose content someone else wrote, with symbolic links in it
# (issue 17, defect 1). The upload's cache clone holds the remote's links as links; no write or delete of the
# upload may go through one: `out -> $WORK/victim` in the remote must never let `hfgit upload u/m f out/x` create
# $WORK/victim/x, nor `--delete` remove files there. Such an upload fails, naming the link, and nothing outside
# the cache changes. A link at the very path being uploaded is replaced by the file (never written through), and
# a .gitattributes that is a link is neither read nor written through when auto-tracking.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "hfgit upload link tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

# The victim: a folder outside the cache that the remote's links point at.
mkdir -p victim/inner && echo keep >victim/keep.txt && echo deep >victim/inner/deep.txt && echo secret >secret.txt
victim_state() { (cd "$WORK" && find victim secret.txt -printf '%p %y %s %T@\n' | sort && cat secret.txt); }
before=$(victim_state)

# The remote, written with plain git: links to the victim folder at the root and deeper, and to a file.
hub_create_repo alice/links >/dev/null || not_ok "create alice/links"
git clone -q "$HUB_URL/alice/links" w 2>/dev/null
(cd w && ln -s "$WORK/victim" out && mkdir -p deep && ln -s "$WORK/victim" deep/link &&
    ln -s "$WORK/victim/keep.txt" file.txt && echo r >README.md && git add -A && git commit -qm links &&
    git_auth push -q origin main) >/dev/null 2>&1 || not_ok "git push of a repo with links"
head_before=$(git ls-remote "$HUB_URL/alice/links" refs/heads/main | cut -f1)

echo pwn >pwn.txt
out=$(hfgit upload alice/links pwn.txt out/pwn.txt 2>&1); rc=$?
check_eq "upload to out/pwn.txt with out a link in the repo: fails (1)" "$rc" 1
check_contains "... naming the link" "$out" "out is a symbolic link"
check "... nothing was written through it" test ! -e victim/pwn.txt
out=$(hfgit upload alice/links pwn.txt deep/link/inner/pwn.txt 2>&1); rc=$?
check_eq "the same through a deeper link (deep/link): fails" "$rc" 1
check_contains "... naming it" "$out" "deep/link is a symbolic link"
check "... nothing written" test ! -e victim/inner/pwn.txt

mkdir -p folder/sub && echo a >folder/a.txt && echo s >folder/sub/s.txt
out=$(hfgit upload alice/links folder out --delete '*' 2>&1); rc=$?
check_eq "a folder upload into out with --delete '*': fails" "$rc" 1
check_contains "... naming the link" "$out" "out is a symbolic link"
mkdir -p f2/out && echo x >f2/out/x.txt
out=$(hfgit upload alice/links f2 2>&1); rc=$?
check_eq "a folder upload whose files land under out/: fails" "$rc" 1
check_contains "... naming the link" "$out" "out is a symbolic link"
check_eq "nothing outside the cache changed (the victim folder and file)" "$(victim_state)" "$before"
check_eq "... and nothing was committed" "$(git ls-remote "$HUB_URL/alice/links" refs/heads/main | cut -f1)" "$head_before"

# --delete at the root deletes the links themselves (repository entries), never what they point at.
mkdir -p empty-ish && echo e >empty-ish/e.txt
check "--delete '*' at the root with links in the repository" hfgit upload alice/links empty-ish . --delete '*'
check_eq "... the victim is untouched" "$(victim_state)" "$before"
rm -rf g && git clone -q "$HUB_URL/alice/links" g 2>/dev/null
check_eq "... the links are gone from the repository" "$(git -C g ls-tree -r --name-only HEAD | tr '\n' ' ')" \
    "e.txt "

# A link at the uploaded path itself is replaced by the file; a linked .gitattributes is neither read nor
# written through by auto-tracking.
(cd w && git fetch -q origin && git reset -q --hard origin/main && ln -sfn "$WORK/victim/keep.txt" file.txt &&
    ln -sfn "$WORK/secret.txt" .gitattributes &&
    git add -A && git commit -qm relink && git_auth push -q origin main) >/dev/null 2>&1 || not_ok "git push (relink)"
echo new >file.txt
check "uploading file.txt over a link named file.txt" hfgit upload alice/links file.txt file.txt
head -c 300000 /dev/urandom >bin.dat
check "uploading a binary file (auto-tracked) with .gitattributes a link" hfgit upload alice/links bin.dat
check_eq "... the victim is untouched" "$(victim_state)" "$before"
rm -rf g && git clone -q "$HUB_URL/alice/links" g 2>/dev/null
check_eq "... file.txt is now a regular file with the upload's content" \
    "$(git -C g ls-tree HEAD file.txt | cut -c1-6) $(cat g/file.txt)" "100644 new"
check_not_contains "... the new .gitattributes does not carry the linked file's content" \
    "$(git -C g show HEAD:.gitattributes)" "secret"
check_contains "... and tracks the binary file" "$(git -C g show HEAD:.gitattributes)" "bin.dat filter=lfs"

# The library's hf_repo_create_commit writes into a work tree that came from the remote too: an ADD of
# out/pwn.txt with out a link must not land in the victim folder.
if [ -x "$BUILD_DIR/tests/lib_commit_ops" ]; then
    rm -rf lc && git clone -q "$HUB_URL/alice/links" lc 2>/dev/null
    (cd lc && ln -s "$WORK/victim" out && git add out && git commit -qm out && git_auth push -q origin main) >/dev/null 2>&1 ||
        not_ok "git push (out link for create_commit)"
    out=$(LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid" "$BUILD_DIR/tests/lib_commit_ops" commit lc \
        "through a link" "text:out/pwn.txt=pwned" 2>&1)
    check "hf_repo_create_commit adding out/pwn.txt, out a link in the work tree: nothing written through it" \
        test ! -e victim/pwn.txt
    check_eq "... the victim is untouched" "$(victim_state)" "$before"
else
    skip "hf_repo_create_commit through a link" "$BUILD_DIR/tests/lib_commit_ops is not built"
fi

# The commit scheduler (`hfgit upload --every`) copies into the same kind of clone: f2/out/x.txt must not land
# in the victim folder through the repository's out link.
hub_create_repo alice/every-links >/dev/null || not_ok "create alice/every-links"
rm -rf le && git clone -q "$HUB_URL/alice/every-links" le 2>/dev/null
(cd le && ln -s "$WORK/victim" out && git add out && git commit -qm out && git_auth push -q origin HEAD:main) \
    >/dev/null 2>&1 || not_ok "git push (out link for --every)"
hfgit upload alice/every-links f2 --every 0.02 >/dev/null 2>"$WORK/every.err" &
up=$!
for _ in $(seq 1 40); do [ -e victim/x.txt ] && break; kill -0 "$up" 2>/dev/null || break; sleep 0.25; done
kill -INT "$up" 2>/dev/null
wait "$up"
check "upload --every into a repository with out a link: nothing written through it" test ! -e victim/x.txt
check_eq "... the victim is untouched" "$(victim_state)" "$before"
check_contains "... and the link is named" "$(cat "$WORK/every.err")" "out is a symbolic link"

done_testing
