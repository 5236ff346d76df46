#!/usr/bin/env bash
# Prints the path of a small Python (numpy + safetensors + an OpenAPI validator + the openai client + prometheus_client, no torch) that
# tests use to check that files Eckart writes load in Python's safetensors library, that the official
# openai client works against the OpenAI-compatible routes, that /metrics parses with
# prometheus_client's text parser (the model-server protocol test), and that
# openapi.yaml is a valid OpenAPI 3.1 document. Creates it once, outside the repo.
set -euo pipefail

venv="${ECKART_TEST_VENV:-$HOME/.cache/eckart/venv-test}"
if ! "$venv/bin/python" -c "import numpy, safetensors, yaml, openapi_spec_validator, openai, prometheus_client" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check numpy safetensors pyyaml openapi-spec-validator openai prometheus_client >&2
fi
echo "$venv/bin/python"
