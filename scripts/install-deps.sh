#!/usr/bin/env bash
# Installs the Debian packages Eckart links against (OpenBLAS and LAPACKE), and with --test also the
# headless Chromium the dashboard test drives (about 290 MB that serving never needs); only those
# missing, so running it again does nothing.
#
#   scripts/install-deps.sh           (make serve, make build)
#   scripts/install-deps.sh --test    (make test)
set -euo pipefail

packages=(libopenblas-dev liblapacke-dev)
case "${1:-}" in
    --test) packages+=(chromium) ;;
    "") ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
