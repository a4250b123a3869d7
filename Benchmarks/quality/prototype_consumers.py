"""Issue 16 prototype: the directed consumers table, `U S` of `D_out^-1/2 A D_in^-e`, computed
with scikit-learn's randomized_svd at several power-iteration counts, scored by the judge's own
`follow_jaccard` (imported from ../shared/judge, not copied). Also scores tables given with
--emb (judge row order, align_table.py), e.g. follow-graph-svd's DIR/consumers.

usage: prototype_consumers.py EDGES [--iters 7,4,2] [--exponent 0.25] [--dtype float64]
                              [--seeds 0] [--emb NAME=FILE.npy ...]

Self-loops are kept (the judge counts them in the follow sets). Prints one line per variant:
variant, spearman rho (all pairs), mean cosine of shared and of random pairs, seconds of the SVD.
"""
import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

judge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/judge")
sys.path.insert(0, os.environ.get("JUDGE_DIR", judge))
import _peers  # noqa: E402
from peer_eval import follow_jaccard  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("edges")
ap.add_argument("--iters", default="7")
ap.add_argument("--exponent", type=float, default=0.25)
ap.add_argument("--dtype", default="float64")
ap.add_argument("--seeds", default="0")
ap.add_argument("--dim", type=int, default=64)
ap.add_argument("--normalizer", default="auto")
ap.add_argument("--emb", action="append", default=[])
args = ap.parse_args()
A, _, _ = _peers.load_graph_csr(args.edges, dtype=np.float64)
B = A.copy(); B.data[:] = 1.0
out = np.asarray(B.sum(1)).ravel(); inn = np.asarray(B.sum(0)).ravel()
r = np.where(out > 0, out, 1) ** -0.5 * (out > 0)
c = np.where(inn > 0, inn, 1) ** -args.exponent * (inn > 0)
X = (sp.diags(r) @ B @ sp.diags(c)).tocsr().astype(args.dtype)


def report(name, E, seconds=0.0):
    j = follow_jaccard(A, E, 20000, 0)
    print(f"{name}\t{j['spearman_rho_all']:.4f}\tshared cos {j['mean_cos_shared']:.3f}\trandom cos {j['mean_cos_random']:.3f}\t{seconds:.1f} s", flush=True)


for spec in args.emb:
    name, path = spec.split("=", 1)
    report(name, np.load(path))
for q in map(int, args.iters.split(",")):
    for seed in map(int, args.seeds.split(",")):
        t = time.perf_counter()
        U, S, _ = randomized_svd(X, args.dim, n_oversamples=10, n_iter=q, power_iteration_normalizer=args.normalizer,
                                 random_state=seed)
        report(f"sklearn q={q} seed={seed} {args.dtype} {args.normalizer}", U * S, time.perf_counter() - t)
