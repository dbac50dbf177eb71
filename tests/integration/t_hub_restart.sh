#!/usr/bin/env bash
# t_hub_restart: a hub restarted on the same root keeps repositories, objects and open multipart uploads: the
# signing key lives in the root (mode 0600), so part URLs issued before the restart still work, and a batch for
# the object answers the same upload with fresh URLs (a killed push resumes: issue 11). Uploads untouched for
# --upload-max-age are removed, at start and while the hub runs; deleting hub.key revokes every URL.
source "$(dirname "$0")/../lib.sh"
if skip_on_s3 "t_hub_restart" "its checks are of the hub's own part URLs and upload folders; parts go to the store (t_hub_s3 checks aged S3 uploads)"; then
    done_testing; exit 0
fi

CHUNK=1048576
FLAGS=(--chunk-size $CHUNK --multipart-threshold 2000000)
hub_start "${FLAGS[@]}" || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/keep >/dev/null
source "$(dirname "$0")/lfs_curl.sh"
LFS_REPO=alice/keep
head -c 2621440 /dev/urandom >"$WORK/obj"
OID=$(sha "$WORK/obj")
split -b $CHUNK -d -a 1 "$WORK/obj" "$WORK/part."
check_eq "the signing key is in the root, mode 0600" "$(stat -c %a "$HUB_ROOT/hub.key") $(stat -c %s "$HUB_ROOT/hub.key")" "600 32"
batch "$OID" 2621440
check_eq "batch answers 200" "$BATCH_CODE" 200
first=$resp
id=$(sed -n 's|.*/__part/\([0-9a-f]*\)/.*|\1|p' <<<"$resp" | head -n 1)
check_eq "part 1 stored" "$(put_part "$(part_url "$resp" 1)" "$WORK/part.0")" 200
e1=$(etag_of)
batch "$OID" 2621440
check_eq "a second batch for the open upload answers the same upload id" \
    "$(sed -n 's|.*/__part/\([0-9a-f]*\)/.*|\1|p' <<<"$resp" | head -n 1)" "$id"
check_contains "... with the completion URL of that upload" "$(complete_url "$resp")" "/__complete/alice/keep/$id?"
touch "$HUB_ROOT/tmp/.incoming.leftover"
touch -d '2 hours ago' "$HUB_ROOT/tmp/.incoming.old"

old_url=$HUB_URL
hub_stop
hub_start "${FLAGS[@]}" || { not_ok "hub restarts"; done_testing; exit 1; }
check "the open upload survived the restart" test -f "$HUB_ROOT/uploads/$id/1"
check "the repository survived" test -d "$HUB_ROOT/repos/models/alice/keep.git"
check_eq "temp files over an hour old are removed at start, newer ones kept (another hub may share the root)" \
    "$(ls -A "$HUB_ROOT/tmp" | tr '\n' ' ')" ".incoming.leftover "
check_eq "a part URL issued before the restart still works (the key is the root's)" \
    "$(put_part "$(part_url "$first" 2 | sed "s|$old_url|$HUB_URL|")" "$WORK/part.1")" 200
e2=$(etag_of)
batch "$OID" 2621440
check_eq "a batch after the restart answers the same upload" \
    "$(sed -n 's|.*/__part/\([0-9a-f]*\)/.*|\1|p' <<<"$resp" | head -n 1)" "$id"
check_eq "... whose fresh part 3 URL works" "$(put_part "$(part_url "$resp" 3)" "$WORK/part.2")" 200
e3=$(etag_of)
completion "$(complete_url "$resp")" "$OID" "$e1" "$e2" "$e3"
check_eq "the upload completes with parts sent before and after the restart" "$COMPLETE_CODE" 200
check "... and the object is the file" cmp "$(obj_path "$OID")" "$WORK/obj"
check_fails "the upload dir is gone" test -e "$HUB_ROOT/uploads/$id"
check_eq "... and so is its index link" "$(find "$HUB_ROOT/uploads/by-object" -type l | wc -l)" 0

# Age: an upload untouched for --upload-max-age goes, at start and while the hub runs.
head -c 2621440 /dev/urandom >"$WORK/obj2"
OID2=$(sha "$WORK/obj2")
batch "$OID2" 2621440
id2=$(sed -n 's|.*/__part/\([0-9a-f]*\)/.*|\1|p' <<<"$resp" | head -n 1)
check "a new upload is open" test -d "$HUB_ROOT/uploads/$id2"
hub_stop
hub_start "${FLAGS[@]}" --upload-max-age 3 || { not_ok "hub restarts"; done_testing; exit 1; }
check "an upload younger than --upload-max-age stays at start" test -d "$HUB_ROOT/uploads/$id2"
batch "$OID2" 2621440
check_contains "the completion URL and expires_in follow --upload-max-age" "$resp" '"expires_in":3}'
gone=0
for _ in $(seq 1 40); do [ -e "$HUB_ROOT/uploads/$id2" ] || { gone=1; break; }; sleep 0.25; done
check_eq "an upload untouched for 3 s is removed while the hub runs" "$gone" 1
batch "$OID2" 2621440
check_not_contains "a batch then opens a new upload" "$resp" "/__part/$id2/"

# Deleting the key revokes every URL at the next start.
url=$(part_url "$resp" 1) prev=$HUB_URL
hub_stop
rm "$HUB_ROOT/hub.key"
hub_start "${FLAGS[@]}" || { not_ok "hub restarts"; done_testing; exit 1; }
check_eq "with a new key, old URLs are refused" "$(put_part "${url/$prev/$HUB_URL}" "$WORK/part.0")" 403
done_testing
