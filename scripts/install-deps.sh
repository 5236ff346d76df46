#!/usr/bin/env bash
# Installs the Debian packages Eckart links against (OpenBLAS and LAPACKE) and the headless Chromium
# the dashboard test drives, only those missing; running it again does nothing.
set -euo pipefail

packages=(libopenblas-dev liblapacke-dev chromium)
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
