#!/usr/bin/env bash
# Side-by-side latency of embedding-store against Feast 0.67 (../shared/judge/peer_feast.sh) on
# the same 200k x 64 float32 table, same machine, same wrk load, in one run; then publish and
# point-in-time join timings on a 1M x 64 table. Writes WORK/*.json and WORK/report.md.
# usage: Benchmarks/store/store_vs_feast.sh [WORK=/tmp/store-vs-feast]
# needs: wrk (apt-get install -y wrk), the judge venv (../shared/judge/setup.sh), network for the
# first pip install of feast (peer_feast.sh makes ~/.cache/feast-venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
judge=$(cd "$repo/../shared/judge" && pwd)
work=${1:-/tmp/store-vs-feast}
PY=$("$judge/setup.sh")/bin/python
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
mkdir -p "$work"
cd "$repo"
swift build -c release --product embedding-store >&2 && swift build -c release --product store-bench >&2
bin=$(swift build -c release --show-bin-path)
[ -d "$work/table200000" ] || "$PY" "$here/make_inputs.py" "$work"

store="$work/store"; rm -rf "$store"
"$bin/embedding-store" init --store "$store" >/dev/null
/usr/bin/time -f '%e' -o "$work/publish200k.time" "$bin/embedding-store" publish "$work/table200000" --name consumers --store "$store" >&2
"$bin/store-bench" lookup "$store" consumers 100000 > "$work/ours_inprocess.json"
"$bin/store-bench" publish "$store" big "$work/table1000000" > "$work/ours_publish1m.json"
"$bin/store-bench" join "$store" big "$work/rows100k.csv" "$work/joined100k" > "$work/ours_join100k.json"
"$bin/store-bench" join "$store" big "$work/rows1m.csv" "$work/joined1m" > "$work/ours_join1m.json"

port=18080
"$bin/embedding-store" serve --store "$store" --port $port > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$PY" -c "import random; random.seed(0); print('return {' + ','.join('\"%d\"' % random.randrange(200000) for _ in range(10000)) + '}')" > "$work/ids.lua"
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/v1/embeddings/consumers/vectors/$((RANDOM % 200000))" >/dev/null; done
export IDS_LUA="$work/ids.lua" EMBEDDING_NAME=consumers
wrk -t2 -c16 -d20s --latency -s "$here/get.lua" "http://127.0.0.1:$port" > "$work/ours_wrk_c16.txt"
wrk -t1 -c1 -d10s --latency -s "$here/get.lua" "http://127.0.0.1:$port" > "$work/ours_wrk_c1.txt"
"$PY" "$here/http_batch.py" $port consumers 200000 > "$work/ours_http_batch.json"
kill $server; wait $server 2>/dev/null || true

EMB_DIR="$work/table200000" bash "$judge/peer_feast.sh" --max-requests 0 --work "$work/feast-run" > "$work/feast.json"
"$PY" "$here/report.py" "$work" | tee "$work/report.md"
