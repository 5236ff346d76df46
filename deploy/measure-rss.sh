#!/usr/bin/env bash
# Measures eckart serve's resident memory (VmRSS, and VmHWM: the peak) idle, under 8 concurrent clients
# (embeddings on the base and on an adapter, merged and unmerged) and after, from /proc/PID/status.
# The Kubernetes Deployment's memory request and limit come from its output (deploy/kubernetes/deployment.yaml).
#   deploy/measure-rss.sh .build/release/eckart models/all-MiniLM-L6-v2     (from the repository root)
set -euo pipefail
bin=$1 model=$2 work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --model "$model" --port "$port" --adapter-dir "$work/adapters" --diagnostics-cache-dir "$work/diag" \
    --adapter-root "$PWD" --lora-modules demo=Tests/Fixtures/adapters/demo-minilm > "$work/log" 2>&1 &
pid=$!
trap 'kill $pid; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS|VmHWM/ {printf "%s %s kB  ", $1, $2} END {print ""}' /proc/$pid/status; }
echo "idle:  $(rss)"
load() {
  for i in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/infer" -d '{"texts": ["This is a test sentence about memory.", "Another, longer one that pads the batch with a few more tokens than the first."]}' >/dev/null
    curl -sf "http://127.0.0.1:$port/infer" -d '{"adapter": "demo", "mode": "merged", "texts": ["A man is eating food."]}' >/dev/null
    curl -sf "http://127.0.0.1:$port/v1/embeddings" -d '{"model": "demo", "input": ["A man is eating food.", "A woman plays the violin."]}' >/dev/null
  done
}
for c in 1 2 3 4 5 6 7 8; do load & done
sleep 2; echo "load:  $(rss)"
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
echo "after: $(rss)"
