#!/usr/bin/env bash
# Instruction counts (valgrind callgrind: repeatable on a shared machine, unlike wall-clock) of
# our HNSW and hnswlib on the same vectors, one thread each: building N x 64 standard normal
# vectors (numpy seed 0; cosine; M 16, efConstruction 200) and searching 1000 of them at ef 64.
#
#   Benchmarks/neighbors/callgrind.sh [N]        (default 10000; needs valgrind and the judge venv)
#
# Ours: the release embedding-neighbors (build it first), copied without its debug info (valgrind
# 3.19 cannot read Swift's), counting only inside HNSWIndex.insertRows and HNSWIndex.search.
# hnswlib: only inside addPoint (the build) and searchKnn (the queries). Prints instructions for
# the build and per query.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-10000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
PY="${JUDGE_VENV:-$HOME/.cache/judge-venv}/bin/python"
"$PY" -c "import numpy as np; np.save('$work/v.npy', np.random.default_rng(0).standard_normal(($n, 64), dtype=np.float32))"
strip --strip-debug -o "$work/en" "$root/.build/release/embedding-neighbors"
export EMBEDDINGS_NO_BLAS_REEXEC=1   # no re-exec for OpenBLAS settings (valgrind cannot follow it)
collected() { grep -o 'Collected : [0-9]*' "$1" | grep -o '[0-9]*$'; }
valgrind --tool=callgrind --callgrind-out-file="$work/o1" --toggle-collect='*HNSWIndexC10insertRows*' \
    "$work/en" build --vectors "$work/v.npy" --kind hnsw --metric cosine --m 16 --ef-construction 200 --seed 0 \
    --threads 1 --output "$work/i.hnsw" > "$work/l1" 2>&1
valgrind --tool=callgrind --callgrind-out-file="$work/o2" --toggle-collect='$s9Neighbors9HNSWIndexC6search_10parametersSaySayAA8NeighborVGG13LinearAlgebra6MatrixVySfG_AA16SearchParametersVtKF' \
    "$work/en" evaluate --index "$work/i.hnsw" --queries 1000 --k 10 --ef 64 --threads 1 --repeats 1 \
    --json "$work/e.json" > "$work/l2" 2>&1
cat > "$work/peer.py" <<'PYEOF'
import sys, numpy as np, hnswlib
X = np.load(sys.argv[1]); X /= np.linalg.norm(X, axis=1, keepdims=True)
p = hnswlib.Index(space="ip", dim=X.shape[1]); p.init_index(max_elements=len(X), ef_construction=200, M=16, random_seed=100)
p.set_num_threads(1); p.add_items(X, np.arange(len(X)))
Q = X[np.random.default_rng(0).choice(len(X), 1000, replace=False)]
p.set_ef(64); p.knn_query(Q, k=10, num_threads=1)
PYEOF
valgrind --tool=callgrind --callgrind-out-file="$work/o3" --toggle-collect='*HierarchicalNSW<float>::addPoint(void const*, unsigned long, bool)' "$PY" "$work/peer.py" "$work/v.npy" > "$work/l3" 2>&1
valgrind --tool=callgrind --callgrind-out-file="$work/o4" --toggle-collect='*HierarchicalNSW<float>::searchKnn(*' "$PY" "$work/peer.py" "$work/v.npy" > "$work/l4" 2>&1
ob=$(collected "$work/l1"); os=$(collected "$work/l2"); hb=$(collected "$work/l3"); hs=$(collected "$work/l4")
printf "%s x 64 Gaussian, one thread   build (instructions)   search at ef 64 (instructions a query)\n" "$n"
printf "ours                          %22d   %12d\n" "$ob" $((os / 1000))
printf "hnswlib                       %22d   %12d\n" "$hb" $((hs / 1000))
grep -h "recall@10" "$work/l2" | tail -1
