"""The baseline embedding of the quality table: scikit-learn's randomized_svd of the raw
(binary, unnormalised) adjacency matrix, embedding U * sqrt(S), written as an embedding table
(vectors.npy, ids.tsv, meta.json) that `embedding-benchmark` reads like our own.

usage: sklearn_baseline.py EDGES --output DIR [--undirected] [--dim 64] [--seed 0]

Edges: `src<TAB>dst` (or space/comma separated), `#`/`%` comments; duplicate edges count once,
self-loops are dropped; ids are kept as text, rows in order of first appearance.
"""
import argparse
import json
import os
import time

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd


def read_edges(path):
    ids, index, src, dst = [], {}, [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#%":
                continue
            parts = line.replace(",", " ").split()
            a, b = parts[0], parts[1]
            for x in (a, b):
                if x not in index:
                    index[x] = len(ids)
                    ids.append(x)
            if a != b:
                src.append(index[a])
                dst.append(index[b])
    return ids, np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("edges")
    p.add_argument("--output", required=True)
    p.add_argument("--undirected", action="store_true")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    ids, src, dst = read_edges(args.edges)
    n = len(ids)
    if args.undirected:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    a = sp.csr_matrix((np.ones(len(src), dtype=np.float32), (src, dst)), shape=(n, n))
    a.data[:] = 1.0  # duplicates count once
    start = time.time()
    u, s, _ = randomized_svd(a, args.dim, n_oversamples=10, n_iter="auto", random_state=args.seed)
    seconds = time.time() - start
    vectors = (u * np.sqrt(s)).astype(np.float32)

    os.makedirs(args.output, exist_ok=True)
    np.save(os.path.join(args.output, "vectors.npy"), np.ascontiguousarray(vectors))
    with open(os.path.join(args.output, "ids.tsv"), "w") as f:
        f.write("".join(i + "\n" for i in ids))
    meta = {
        "format_version": 1, "entity_type": "node", "dimension": args.dim, "count": n,
        "algorithm": "sklearn randomized_svd U sqrt(S)",
        "parameters": {"n_oversamples": 10, "n_iter": "auto", "undirected": args.undirected},
        "input_file": os.path.abspath(args.edges), "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scores": {}, "seed": args.seed,
    }
    with open(os.path.join(args.output, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"sklearn baseline: {n} nodes, {a.nnz} nonzeros, randomized_svd {seconds:.2f} s -> {args.output}")


if __name__ == "__main__":
    main()
