#!/usr/bin/env bash
# Prints the path of a small Python (numpy + safetensors, no torch) that tests use to check that
# files Eckart writes load in Python's safetensors library. Creates it once, outside the repo.
set -euo pipefail

venv="${ECKART_TEST_VENV:-$HOME/.cache/eckart/venv-test}"
if ! "$venv/bin/python" -c "import numpy, safetensors" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check numpy safetensors >&2
fi
echo "$venv/bin/python"
