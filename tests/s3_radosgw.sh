#!/usr/bin/env bash
# tests/s3_radosgw.sh: hfgit-hub's S3 storage against Ceph's radosgw (a second S3 implementation beside the
# suite's s3rver), in a one-node Ceph cluster this script starts on loopback and stops again.
#
# NOT part of `make check` or CI: it installs Debian's Ceph packages (radosgw ceph-mon ceph-osd and their
# dependencies, a few hundred MB) when they are missing, needs root, and takes a few minutes. Run it by hand:
#
#   bash tests/s3_radosgw.sh                     # the default tests (below)
#   TESTS='t_hub_s3 t_hub_multipart' bash tests/s3_radosgw.sh
#   KEEP_CLUSTER=1 bash tests/s3_radosgw.sh      # leaves the cluster running; prints how to reach and stop it
#
# The cluster, all in a scratch directory, no systemd: one monitor (monmap and cephx keyrings made here,
# mon_host 127.0.0.1 on free ports), one OSD on memstore (objects in RAM, capped by memstore_device_bytes) with
# pools of size 1, and radosgw with the beast frontend on a free loopback port; no manager (radosgw and
# radosgw-admin need none; `ceph -s` then warns of it). radosgw-admin makes an S3 user;
# the bucket is made with a SigV4-signed PUT (curl --aws-sigv4). The tests then run with HFGIT_TEST_STORAGE=s3
# and HFGIT_TEST_S3_ENDPOINT/HFGIT_TEST_S3_BUCKET (tests/lib.sh: each test keeps its objects under its own
# prefix of the bucket). Everything is stopped and removed at exit (trap), also on failure.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
[ "$(id -u)" = 0 ] || { echo "s3_radosgw.sh: needs root (apt-get, Ceph daemons)" >&2; exit 1; }

DEFAULT_TESTS='t_hub_s3 t_hub_lfs t_hub_multipart t_hub_security t_hub_https t_agent_push t_lib_push t_lib_clone'
DEFAULT_TESTS+=' t_lib_large t_lib_commit_ops t_cli_upload t_faults_matrix'
RUN_TESTS=${TESTS:-$DEFAULT_TESTS}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-$((3 * 1024 * 1024 * 1024))} # the OSD's RAM cap for objects (used as filled)

say() { printf '# %s\n' "$*" >&2; }
die() { printf 's3_radosgw.sh: %s\n' "$*" >&2; exit 1; }

# ---- packages ----
need=()
for p in radosgw:radosgw ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw-admin:ceph-common ceph-authtool:ceph-common \
    monmaptool:ceph-base; do
    command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi
[ -x "$BUILD/hfgit-hub" ] || die "$BUILD/hfgit-hub is not built (make)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the cluster ----
D=$(mktemp -d "${TMPDIR:-/tmp}/hfgit-ceph.XXXXXX")
PIDS=()
stop_cluster() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$D"
}
trap stop_cluster EXIT

MON_V2=$(free_port) MON_V1=$(free_port) RGW_PORT=$(free_port)
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF=$D/ceph.conf
mkdir -p "$D/mon" "$D/osd/ceph-0" "$D/rgw" "$D/log" "$D/run"
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $D/keyring
log_file = $D/log/\$name.log
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
run_dir = $D/run
crash_dir = $D/crash
mon_data = $D/mon/\$cluster-\$id
osd_data = $D/osd/\$cluster-\$id
# one OSD: pools of size 1, placement across OSDs (not hosts), few placement groups
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
auth_allow_insecure_global_id_reclaim = false
# small memory: the machine is shared
osd_objectstore = memstore
memstore_device_bytes = $MEMSTORE_BYTES
osd_memory_target = 536870912
mon_memory_target = 268435456
rocksdb_cache_size = 33554432
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $D/rgw
rgw_thread_pool_size = 32
EOF
C=(-c "$CONF")
step() { # NAME CMD...: runs CMD, dies with its output when it fails
    local name=$1 out; shift
    out=$("$@" 2>&1) || die "$name failed: $* -> $out"
}
say "cluster in $D: mon 127.0.0.1:$MON_V2/$MON_V1, radosgw http://127.0.0.1:$RGW_PORT"
step "keyring" ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *'
step "admin key" ceph-authtool "$D/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *'
step "osd key" ceph-authtool "$D/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' \
    --cap mgr 'allow profile osd'
step "rgw key" ceph-authtool "$D/keyring" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' \
    --cap mgr 'allow rw'
step "monmap" monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$D/monmap"
step "ceph-mon --mkfs" ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon "${C[@]}" -f -i a >"$D/log/mon.out" 2>&1 &
PIDS+=($!)
ceph "${C[@]}" --connect-timeout 30 -s >/dev/null 2>"$D/log/ceph-s.err" ||
    die "the monitor does not answer: $(tail -n 5 "$D/log/ceph-s.err" "$D/log/mon.a.log" 2>/dev/null)"

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
step "ceph osd new" ceph "${C[@]}" osd new "$OSD_UUID" 0
step "ceph-osd --mkfs" ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID"
ceph-osd "${C[@]}" -f -i 0 >"$D/log/osd.out" 2>&1 &
PIDS+=($!)
up=0
for _ in $(seq 1 120); do
    if ceph "${C[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up'; then up=1; break; fi
    sleep 0.5
done
[ $up = 1 ] || die "osd.0 did not come up: $(tail -n 20 "$D/log/osd.0.log" "$D/log/osd.out" 2>/dev/null)"

radosgw "${C[@]}" -f -n client.rgw.a >"$D/log/rgw.out" 2>&1 &
PIDS+=($!)
RGW=http://127.0.0.1:$RGW_PORT
up=0
for _ in $(seq 1 240); do
    if curl -s -o /dev/null "$RGW/"; then up=1; break; fi
    sleep 0.5
done
[ $up = 1 ] || die "radosgw does not answer on $RGW: $(tail -n 20 "$D/log/client.rgw.a.log" "$D/log/rgw.out" 2>/dev/null)"

# ---- an S3 user and the bucket ----
keys=$(radosgw-admin "${C[@]}" user create --uid=hfgit --display-name="hfgit tests" 2>"$D/log/user.err") ||
    die "radosgw-admin user create failed: $(cat "$D/log/user.err")"
AWS_ACCESS_KEY_ID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["keys"][0]["access_key"])' <<<"$keys")
AWS_SECRET_ACCESS_KEY=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["keys"][0]["secret_key"])' <<<"$keys")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
BUCKET=hfgit-tests
# curl 7.88 signs the hash of the (empty) body but does not send it, and radosgw then takes UNSIGNED-PAYLOAD:
# say UNSIGNED-PAYLOAD, which curl then signs
code=$(curl -sS -o "$D/log/bucket.out" -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$RGW/$BUCKET")
[ "$code" = 200 ] || die "creating bucket $BUCKET: $code $(cat "$D/log/bucket.out")"
say "radosgw $(radosgw --version | cut -d' ' -f3) serves S3 at $RGW, bucket $BUCKET"

if [ -n "${KEEP_CLUSTER:-}" ]; then
    echo "export HFGIT_TEST_STORAGE=s3 HFGIT_TEST_S3_ENDPOINT=$RGW HFGIT_TEST_S3_BUCKET=$BUCKET" \
        "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
    echo "# stop: kill ${PIDS[*]}; rm -rf $D"
    trap - EXIT
    exit 0
fi

# ---- the tests ----
export HFGIT_TEST_STORAGE=s3 HFGIT_TEST_S3_ENDPOINT=$RGW HFGIT_TEST_S3_BUCKET=$BUCKET
TESTS=$RUN_TESTS bash tests/run.sh
