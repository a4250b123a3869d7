#!/usr/bin/env bash
# Makes the README's catalog screenshots: embeds the demo graph, publishes its three tables to a
# scratch store, serves it on a loopback port and has headless Chromium (Debian's `chromium`)
# capture the catalog and an embedding page with the neighbour explorer filled in.
# usage: Benchmarks/store/screenshots.sh [OUT_DIR]   (default docs/images)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/images}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
swift build -c release --product follow-graph-svd >/dev/null && swift build -c release --product embedding-store >/dev/null
bin=$(swift build -c release --show-bin-path)
"$bin/follow-graph-svd" --demo --output "$work/demo" >/dev/null
export EMBEDDINGS_STORE="$work/store"
"$bin/embedding-store" init >/dev/null
common=(--owner graph-team --tag follow-graph --tag demo)
"$bin/embedding-store" publish "$work/demo/consumers" --name demo-consumers "${common[@]}" \
  --description "Demo follow graph: accounts as consumers (left singular vectors)"
"$bin/embedding-store" publish "$work/demo/producers" --name demo-producers "${common[@]}" \
  --description "Demo follow graph: accounts as producers"
"$bin/embedding-store" publish "$work/demo/nodes" --name demo-nodes "${common[@]}" \
  --description "Demo follow graph: both sides concatenated (128-d), benchmarked" \
  --lineage demo-consumers@v1 --lineage demo-producers@v1
port=18089
"$bin/embedding-store" serve --port $port > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
id=$(sed -n 2p "$work/demo/nodes/ids.tsv")
mkdir -p "$out"
shot() { chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
           --window-size="$1" --screenshot="$2" "$3" 2>/dev/null; }
shot 1100,500 "$out/store-catalog.png" "http://127.0.0.1:$port/?q=demo"
shot 1100,1900 "$out/store-embedding-page.png" "http://127.0.0.1:$port/embeddings/demo-nodes?id=$id&k=8"
echo "wrote $out/store-catalog.png and $out/store-embedding-page.png"
