#!/usr/bin/env bash
# CPU time the server spends per request (user + system, from /proc/PID/stat), which stays
# meaningful on a busy machine where wall-clock latencies do not: single-id GETs under wrk, and
# POST batches of 1000 random ids from one keep-alive connection.
# usage: Benchmarks/store/cpu_per_request.sh BIN_DIR TABLE [WORK=/tmp/store-cpu] [PORT=18090]
#   BIN_DIR: where embedding-store is (swift build -c release --show-bin-path)
#   TABLE:   a table directory (e.g. the 200k x 64 table of store_vs_feast.sh: WORK/table200000)
# Prints one JSON object: microseconds of server CPU per single-id request and per batch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1; table=$2; work=${3:-/tmp/store-cpu}; port=${4:-18090}
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
mkdir -p "$work"
store="$work/store"; rm -rf "$store"
"$bin/embedding-store" init --store "$store" >/dev/null
"$bin/embedding-store" publish "$table" --name consumers --store "$store" >/dev/null
count=$(( $(wc -l < "$table/ids.tsv") ))
"$bin/embedding-store" serve --store "$store" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$server/stat"; }

# Warm up (maps the table, opens the version), then single ids under wrk.
python3 -c "import random; random.seed(0); print('return {' + ','.join('\"%s\"' % l.strip() for l in random.sample(open('$table/ids.tsv').read().split(), 10000)) + '}')" > "$work/ids.lua"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/embeddings/consumers/vectors/$(sed -n 2p "$table/ids.tsv")" >/dev/null; done
c0=$(cpu)
IDS_LUA="$work/ids.lua" EMBEDDING_NAME=consumers wrk -t1 -c4 -d10s -s "$here/get.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
c1=$(cpu)
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")

# Batches of 1000 ids: a client that only sends and reads bytes (no JSON parsing) so that the
# measured process is the server.
python3 - "$port" "$table/ids.tsv" 300 > "$work/batch.txt" <<'EOF'
import http.client, json, random, sys
port, path, calls = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ids = open(path).read().split()
random.seed(1)
bodies = [json.dumps({"ids": random.sample(ids, 1000)}) for _ in range(20)]
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(body):
    conn.request("POST", "/v1/embeddings/consumers/vectors", body, {"Content-Type": "application/json"})
    r = conn.getresponse(); data = r.read()
    assert r.status == 200 and data.count(b'"vector"') == 1000, data[:200]
for k in range(calls + 5): call(bodies[k % len(bodies)])
print("done")
EOF
c2=$(cpu)
python3 -c "
import json
single = ($c1 - $c0) / $requests * 1e6
batch = ($c2 - $c1) / 305 * 1e6
print(json.dumps({'single_id_requests': $requests, 'single_id_cpu_us': round(single, 1), 'batch1000_calls': 305,
                  'batch1000_cpu_us': round(batch, 1), 'server_cpu_s': round($c2 - $c0, 2)}))"
