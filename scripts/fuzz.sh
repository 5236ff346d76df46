#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/Package.swift with the fuzzer and address sanitizers and runs
# each for FUZZ_SECONDS (default 60) over a corpus seeded from Tests/Fixtures.
#
#   scripts/fuzz.sh [TARGET ...]        (default: every harness; `make fuzz FUZZ_SECONDS=60`)
#
# Everything generated (build, corpora, crash artifacts) lives in .build-fuzz/, never committed.
# Exits non-zero as soon as a harness finds a crash; the input is in .build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-60}
scratch=$root/.build-fuzz
all=(FuzzHTTPRequest FuzzMultipart FuzzJSON FuzzSafetensors FuzzAdapterConfig FuzzTokenizer FuzzChatTemplate FuzzGGUF)
targets=("${@:-${all[@]}}")

export SWIFT_BACKTRACE=enable=no   # let the sanitizer, not Swift's backtracer, report a crash
# Every harness, always: a `--product` build of one harness links it without coverage counters
# (libFuzzer then warns "Is the code instrumented for coverage?" and finds nothing). The coverage
# kinds are named explicitly: on a clean clone `--sanitize fuzzer` alone left the root package's
# modules (the code under test) without counters, and a 60 s run found one unit.
coverage=(-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
swift build --package-path Fuzz --scratch-path "$scratch/build" --sanitize fuzzer --sanitize address "${coverage[@]}"
bin=$(swift build --package-path Fuzz --scratch-path "$scratch/build" --sanitize fuzzer --sanitize address "${coverage[@]}" --show-bin-path)

# seed TARGET FILE...: copies fixture files into TARGET's corpus (kept across runs, so it grows).
seed() {
    local dir=$scratch/corpus/$1; shift
    mkdir -p "$dir"
    local file
    for file in "$@"; do cp -n "$file" "$dir/$(echo "$file" | tr / _)"; done
}
fixtures=Tests/Fixtures
seed FuzzJSON $fixtures/adapters/*/adapter_config.json $fixtures/safetensors/expected.json \
    $fixtures/generation/models/*/config.json
seed FuzzSafetensors $fixtures/safetensors/*.safetensors $fixtures/adapters/qwen2-lora/adapter_model.safetensors
seed FuzzAdapterConfig $fixtures/adapters/*/adapter_config.json
seed FuzzTokenizer $fixtures/tokenizers/bpe-*.json $fixtures/tokenizers/wordpiece-*.json
seed FuzzChatTemplate $fixtures/chat/templates/*.jinja
seed FuzzGGUF $fixtures/gguf/tiny-llama.gguf $fixtures/gguf/sp-vocab.gguf
mkdir -p "$scratch/corpus/FuzzHTTPRequest" "$scratch/corpus/FuzzMultipart"
printf 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n' >"$scratch/corpus/FuzzHTTPRequest/get"
printf 'POST /infer HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nExpect: 100-continue\r\n\r\n{"tokens": 1}GET / HTTP/1.0\r\n\r\n' \
    >"$scratch/corpus/FuzzHTTPRequest/pipelined"
printf 'POST /adapters HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n0\r\nTrailer: x\r\n\r\n' \
    >"$scratch/corpus/FuzzHTTPRequest/chunked"
printf 'multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name="id"\r\n\r\ndemo\r\n--XyZ\r\nContent-Disposition: form-data; name="config"; filename="adapter_config.json"\r\nContent-Type: application/json\r\n\r\n{"r": 8}\r\n--XyZ--\r\n' \
    >"$scratch/corpus/FuzzMultipart/upload"

start=$SECONDS
for target in "${targets[@]}"; do
    mkdir -p "$scratch/artifacts"
    echo "== $target: ${seconds}s"
    "$bin/$target" "$scratch/corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
        -max_len=65536 -artifact_prefix="$scratch/artifacts/$target-" -print_final_stats=1 2>"$scratch/$target.log" \
        || { tail -n 60 "$scratch/$target.log"; echo "$target: crash, see $scratch/artifacts/"; exit 1; }
    if grep -q 'Is the code instrumented for coverage' "$scratch/$target.log"; then
        echo "$target: built without coverage instrumentation"; exit 1
    fi
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$scratch/$target.log" || true
done
echo "fuzzed ${#targets[@]} targets in $((SECONDS - start)) s"
