#!/usr/bin/env python3
"""Single-query latency of faiss IndexFlatIP (the peer of `embedding-neighbors evaluate
--latency-queries`): rows L2-normalised as peer_knn.py does, N queries drawn with
default_rng(seed) among non-zero rows, one search call per query after one warm-up call,
on each thread count; prints JSON {"threads": {"2": {"median_ms", "p90_ms"}, ...}}.

    python faiss_latency.py VECTORS.npy [--queries 200] [--threads 2,1] [--k 10]
"""
import argparse
import json
import time

import faiss
import numpy as np

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("emb")
ap.add_argument("--queries", type=int, default=200)
ap.add_argument("--threads", default="2,1")
ap.add_argument("--k", type=int, default=10)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
X = np.load(a.emb).astype(np.float32, copy=False)
nrm = np.linalg.norm(X, axis=1)
X = np.ascontiguousarray(X / np.where(nrm == 0, 1, nrm)[:, None], dtype=np.float32)
Q = X[np.random.default_rng(a.seed).choice(np.flatnonzero(nrm > 0), size=a.queries, replace=False)]
index = faiss.IndexFlatIP(X.shape[1])
index.add(X)
out = {}
for t in [int(x) for x in a.threads.split(",")]:
    faiss.omp_set_num_threads(t)
    index.search(Q[:1], a.k)
    times = []
    for i in range(a.queries):
        s = time.perf_counter()
        index.search(Q[i:i + 1], a.k)
        times.append(time.perf_counter() - s)
    times.sort()
    out[str(t)] = {"median_ms": times[len(times) // 2] * 1e3, "p90_ms": times[min(len(times) - 1, len(times) * 9 // 10)] * 1e3}
print(json.dumps({"n": X.shape[0], "d": X.shape[1], "queries": a.queries, "threads": out}))
