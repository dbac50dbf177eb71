#!/usr/bin/env bash
# t_cli_private: `hfgit upload --private` creates a private repository (issue 17), checked on hfgit-hub, which
# keeps private repositories as the Hub does: without the token, its API answers no repository and git cannot
# read it; with the token the API says "private": true. Without --private the repository is public.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "upload --private" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1
api() { curl -sS "$@" -w ' %{http_code}' "$HUB_URL/api/models/$REPO"; }

echo x >f.txt
check "upload --private to a repository that does not exist" hfgit upload alice/secret f.txt --private
REPO=alice/secret
check_contains "... the hub keeps it private (API with the token)" "$(api -H "Authorization: Bearer $HUB_TOKEN")" \
    '"private":true'
check_not_contains "... without the token the API does not show it" "$(api)" " 200"
check_fails "... and git cannot read it without the token" git -c credential.helper= -c core.askPass=true \
    ls-remote "$HUB_URL/alice/secret"
check "upload without --private" hfgit upload alice/open f.txt
REPO=alice/open
check_contains "... the repository is public" "$(api)" '"private":false'
check "... git reads it without the token" git -c credential.helper= ls-remote "$HUB_URL/alice/open"

done_testing
