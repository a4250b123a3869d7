#!/usr/bin/env bash
# Nearest-neighbour search: our embedding-neighbors (exact, HNSW, IVF) against faiss-cpu
# (IndexFlatIP, IndexIVFFlat) and hnswlib, run by ../shared/judge/peer_knn.py, on the same
# vectors, one side after the other (never at the same time), 1 and 2 threads each.
#
#   Benchmarks/neighbors/run.sh [DATASET ...]     (default: generated slashdot gaussian)
#
#   generated  the 64-d consumer table of a generated GENERATED_NODES-node / GENERATED_EDGES-edge
#              power-law follow graph (default 1M / 20M, the issue's size; follow-graph-generate,
#              20 communities, seed 0; follow-graph-svd, dim 64)
#   slashdot   the 64-d consumer table of ../shared/data/slashdot (follow-graph-svd, dim 64)
#   gaussian   GAUSSIAN_ROWS (default 1000000) x 64 standard normal vectors (numpy seed 0)
#
# Every side: cosine (rows scaled to unit length, so inner product), top 10, 1000 queries drawn
# from the indexed rows, recall@10 against exact search over the same vectors, queries per second
# with all queries in one batch call (best of 3). HNSW: M 16, efConstruction 200, ef over
# NEIGHBORS_EF (default 10,16,24,32,48,64,96,128,256, the same grid on both sides, so each side's
# fastest setting at recall@10 >= 0.95 can be read off); IVF: round(sqrt(n)) lists, probes
# 1/4/16/64. Build seconds (2 threads a side) and index bytes per vector too.
# Results: Benchmarks/neighbors/results/DATASET-{peers,exact,hnsw,ivf}.json, then
# Benchmarks/neighbors/report.py prints the README table.
#
# Environment: EMBEDDINGS_DATA (default ../shared/data), NEIGHBORS_WORK (default
# Benchmarks/.results/neighbors: tables, vectors and indexes), NEIGHBORS_RESULTS (default
# Benchmarks/neighbors/results), GAUSSIAN_ROWS, GENERATED_NODES, GENERATED_EDGES, NEIGHBORS_EF,
# NEIGHBORS_SKIP_BUILD (set: use the release tools already built).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${EMBEDDINGS_DATA:-$root/../shared/data}"
work="${NEIGHBORS_WORK:-$root/Benchmarks/.results/neighbors}"
results="${NEIGHBORS_RESULTS:-$here/results}"
mkdir -p "$work" "$results"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 EMBEDDINGS_THREADS=2
PY="${JUDGE_VENV:-$HOME/.cache/judge-venv}/bin/python"   # the judge's venv; made by its setup.sh when missing
"$PY" -c "import numpy, faiss, hnswlib" 2>/dev/null || PY="$("$root/../shared/judge/setup.sh")/bin/python"
[ -n "${NEIGHBORS_SKIP_BUILD:-}" ] || (cd "$root" && for p in follow-graph-generate follow-graph-svd embedding-neighbors; do swift build -c release --product $p >&2; done)
bin="$root/.build/release"
ef="${NEIGHBORS_EF:-10,16,24,32,48,64,96,128,256}"
datasets=("$@")
[ ${#datasets[@]} -gt 0 ] || datasets=(generated slashdot gaussian)

vectors_of() { # dataset -> path of an n x 64 float32 .npy (made on first use)
    case "$1" in
        generated)
            local nodes="${GENERATED_NODES:-1000000}" edges="${GENERATED_EDGES:-20000000}"
            local g="$work/generated-$nodes-$edges"
            if [ ! -f "$g-emb/consumers/vectors.npy" ]; then
                "$bin/follow-graph-generate" -o "$g" --nodes "$nodes" --edges "$edges" --communities 20 --seed 0 >&2
                "$bin/follow-graph-svd" "$g/edges.tsv" --dim 64 --seed 0 --output "$g-emb" >&2
            fi
            echo "$g-emb/consumers/vectors.npy" ;;
        slashdot)
            if [ ! -f "$work/slashdot-emb/consumers/vectors.npy" ]; then
                "$bin/follow-graph-svd" "$data/slashdot/edges.txt" --dim 64 --seed 0 --output "$work/slashdot-emb" >&2
            fi
            echo "$work/slashdot-emb/consumers/vectors.npy" ;;
        gaussian)
            local rows="${GAUSSIAN_ROWS:-1000000}"
            if [ ! -f "$work/gaussian-$rows.npy" ]; then
                "$PY" -c "import numpy as np; np.save('$work/gaussian-$rows.npy', np.random.default_rng(0).standard_normal(($rows, 64), dtype=np.float32))"
            fi
            echo "$work/gaussian-$rows.npy" ;;
        *) echo "unknown dataset $1 (generated, slashdot, gaussian)" >&2; exit 2 ;;
    esac
}

for ds in "${datasets[@]}"; do
    v="$(vectors_of "$ds")"
    echo "== $ds: $v" >&2
    echo "-- peers (faiss-cpu, hnswlib; 2 then 1 threads)" >&2
    "$PY" "$root/../shared/judge/peer_knn.py" "$v" --queries 1000 --k 10 --seed 0 --repeats 3 --ef "$ef" > "$results/$ds-peers.json"
    "$PY" "$here/faiss_latency.py" "$v" --queries 200 --threads 2,1 > "$results/$ds-faiss-latency.json"
    for kind in exact hnsw ivf; do
        latency=0; [ $kind = exact ] && latency=200
        echo "-- ours: $kind" >&2
        /usr/bin/time -f "%M" -o "$work/$ds-$kind.rss" \
            "$bin/embedding-neighbors" build --vectors "$v" --kind $kind --metric cosine --m 16 --ef-construction 200 \
            --seed 0 --threads 2 --output "$work/$ds.$kind" >&2
        "$bin/embedding-neighbors" evaluate --index "$work/$ds.$kind" --queries 1000 --k 10 --ef "$ef" \
            --probes 1,4,16,64 --threads 2,1 --repeats 3 --seed 0 --latency-queries $latency --json "$results/$ds-$kind.json" >&2
        python3 - "$results/$ds-$kind.json" "$(cat "$work/$ds-$kind.rss")" <<'PYEOF'
import json, sys
path, rss_kb = sys.argv[1], int(sys.argv[2])
r = json.load(open(path)); r["build_peak_rss_mb"] = round(rss_kb / 1024, 1)
json.dump(r, open(path, "w"), indent=1, sort_keys=True)
PYEOF
    done
done
python3 "$here/report.py" "$results"
