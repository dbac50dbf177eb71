#!/usr/bin/env bash
# t_hub_restart: a hub restarted on the same root keeps repositories and objects, drops uploads that can never
# complete (signed URLs die with the process: the HMAC key is random per start) and refuses their old URLs.
source "$(dirname "$0")/../lib.sh"

CHUNK=1048576
hub_start --chunk-size $CHUNK --multipart-threshold 2000000 || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/keep >/dev/null
source "$(dirname "$0")/lfs_curl.sh"
LFS_REPO=alice/keep
head -c 2621440 /dev/urandom >"$WORK/obj"
OID=$(sha "$WORK/obj")
head -c $CHUNK "$WORK/obj" >"$WORK/part1"
batch "$OID" 2621440
check_eq "batch answers 200" "$BATCH_CODE" 200
old_part=$(part_url "$resp" 1)
check_eq "part 1 stored" "$(put_part "$old_part" "$WORK/part1")" 200
check_eq "the upload is in progress on disk" "$(ls "$HUB_ROOT/uploads" | wc -l)" 1
touch "$HUB_ROOT/tmp/.incoming.leftover"

old_url=$HUB_URL
hub_stop
hub_start --chunk-size $CHUNK --multipart-threshold 2000000 || { not_ok "hub restarts"; done_testing; exit 1; }
check_eq "uploads from the earlier run are gone" "$(ls "$HUB_ROOT/uploads" | wc -l)" 0
check_eq "temp files from the earlier run are gone" "$(ls -A "$HUB_ROOT/tmp" | wc -l)" 0
check "the repository survived" test -d "$HUB_ROOT/repos/models/alice/keep.git"
code=$(put_part "${old_part/$old_url/$HUB_URL}" "$WORK/part1")
check_eq "an old part URL is refused (new key)" "$code" 403
batch "$OID" 2621440
check_eq "a new batch for the same object works" "$BATCH_CODE" 200
done_testing
