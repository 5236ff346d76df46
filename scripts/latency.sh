#!/usr/bin/env bash
# Median and p90 wall time of POST /infer on the default model over 100 calls per configuration
# (curl -w time_total), against a server started with `make serve` that has the demo adapter uploaded
# as in the README quickstart. Usage: scripts/latency.sh [PORT]
port=${1:-8080}
for config in 'base:{"tokens": [[101, 2023, 2003, 1037, 3231, 6251, 1012, 102]]}' \
              'unmerged:{"adapter": "demo", "mode": "unmerged", "tokens": [[101, 2023, 2003, 1037, 3231, 6251, 1012, 102]]}' \
              'merged:{"adapter": "demo", "mode": "merged", "tokens": [[101, 2023, 2003, 1037, 3231, 6251, 1012, 102]]}'; do
  name=${config%%:*}; body=${config#*:}
  for i in $(seq 5); do curl -s -o /dev/null http://127.0.0.1:$port/infer -d "$body"; done   # warm up (merged: builds the cache entry)
  for i in $(seq 100); do curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:$port/infer -d "$body"; done |
    sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "%-9s median %.2f ms  p90 %.2f ms  (n=%d)\n", n, a[int(NR/2)]*1000, a[int(NR*0.9)]*1000, NR}'
done
