#!/bin/sh
# Installs the npm packages the tests use, at pinned versions, into tests/.node (not in git). Called by
# `make deps` after the Debian packages (nodejs, npm). Does nothing when they are there already.
#   s3rver: an S3 implementation on loopback for hfgit-hub --lfs-storage s3:// (t_hub_s3)
set -eu
cd "$(dirname "$0")"
PKGS="s3rver@3.7.1"
want=$(echo "$PKGS" | tr ' ' '\n' | sed 's/@.*//')
missing=""
for p in $want; do [ -f ".node/node_modules/$p/package.json" ] || missing="$missing $p"; done
if [ -z "$missing" ]; then
    echo "deps: npm packages present ($PKGS)"
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "deps: WARNING: npm is missing (apt-get install npm): no $PKGS, t_hub_s3 will skip" >&2; exit 0; }
echo "deps: npm install $PKGS into tests/.node"
npm install --no-audit --no-fund --prefix .node $PKGS >/dev/null
