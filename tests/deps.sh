#!/bin/sh
# Installs the Debian packages given as arguments that are not installed yet; does nothing when all are.
# Uses sudo when not root. Called by `make deps`.
set -eu
missing=""
for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
    echo "deps: all $# packages present"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing packages:$missing; this is not a Debian-like system (no apt-get): install them by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing packages:$missing; not root and no sudo: run as root: apt-get install$missing" >&2
        exit 1
    fi
fi
echo "deps: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
