"""Issue 16 prototype (session 9): wider windows for the undirected label task, scored with the
judge's own `classify` (imported from ../shared/judge, not copied).

usage: prototype_window.py EDGES LABELS [--base E.npy] VARIANT [VARIANT ...]

E.npy: follow-graph-svd's ProNE block E (`--neighbourhood-hops 0 --row-norm 1`, aligned to the
judge's order with align_table.py). Variants (each block's rows scaled to length --row-norm):
  netmf:T        NetMF (Qiu et al. 2018), large-window form: top-256 eigenpairs of
                 D^-1/2 A D^-1/2, M = vol/(bT) D^-1/2 U (sum_{r<=T} L^r) U' D^-1/2, log max(M, 1),
                 rank-64 U S^1/2 (dense n x n: the upper bound, not a candidate)
  netmfhops:T    [N | S N | S^2 N] with N the netmf:T block (the upper bound with our hop blocks)
  hops:K         [E | S E | ... | S^K E], S = (D+I)^-1/2 (A+I) (D+I)^-1/2
  window:K       [E | W_K E], W_K E = (1/K) sum_{r=1..K} S^r E (NetMF's window on the block)
  hopwin:K       [E | S E | S^2 E | W_K E]
  every:K,J      [E | S^J E | S^2J E | ... | S^KJ E]
--base prone computes E with a numpy copy of the Swift pipeline (seed --seed).
"""
import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
from sklearn.utils.extmath import randomized_svd

judge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/judge")
sys.path.insert(0, os.environ.get("JUDGE_DIR", judge))
import _peers  # noqa: E402
from peer_eval import classify  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prone_numpy import load_undirected, prone_block as prone_numpy_block, unit  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("edges"); ap.add_argument("labels"); ap.add_argument("variants", nargs="+")
ap.add_argument("--base"); ap.add_argument("--row-norm", type=float, default=2.0)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
A, n, nodes, labs, classes, d, S = load_undirected(_peers.load_graph_csr, _peers.load_labels, args.edges, args.labels)


E = None


def table(blocks):
    return np.hstack([unit(b) * args.row_norm for b in blocks])


def powers(X, k):
    out = [X]
    for _ in range(k):
        out.append(S @ out[-1])
    return out


def netmf(T, h=256, b=1.0, dim=64):
    dinv = np.where(d > 0, 1 / np.sqrt(np.maximum(d, 1e-300)), 0)
    N = sp.diags(dinv) @ A @ sp.diags(dinv)
    lam, U = eigsh(N, k=h, which="LA", tol=1e-6, v0=np.random.default_rng(args.seed).standard_normal(n))
    f = np.array([sum(l ** r for r in range(1, T + 1)) / T for l in lam])
    X = (dinv[:, None] * U) * np.sqrt(np.maximum(f, 0))
    M = (d.sum() / b) * (X @ X.T)
    np.log(np.maximum(M, 1), out=M)
    u, s, _ = randomized_svd(M, dim, n_iter=5, random_state=args.seed)
    return u * np.sqrt(s)


if args.base == "prone":
    E, _ = prone_numpy_block(A, args.seed)
elif args.base:
    E = np.load(args.base).astype(np.float64)
for v in args.variants:
    t0 = time.time()
    kind, _, p = v.partition(":")
    if kind == "netmf":
        X = unit(netmf(int(p))) * args.row_norm
    elif kind == "netmfhops":
        X = table(powers(netmf(int(p)), 2))
    elif kind == "hops":
        X = table(powers(E, int(p)))
    elif kind == "window":
        P = powers(E, int(p)); X = table([E, sum(P[1:]) / int(p)])
    elif kind == "hopwin":
        P = powers(E, int(p)); X = table(P[:3] + [sum(P[1:]) / int(p)])
    elif kind == "every":
        k, j = map(int, p.split(",")); P = powers(E, k * j); X = table(P[::j])
    else:
        raise SystemExit(f"unknown variant {v}")
    t1 = time.time()
    r = classify(X.astype(np.float32), nodes, labs, len(classes), 5, 0, 0, "none")
    print(f"{os.path.basename(os.path.dirname(args.edges))}\t{v}\trownorm {args.row_norm}\t{X.shape[1]}\t"
          f"{r['roc_auc_macro_mean']:.4f}\t({t1 - t0:.0f}s + {time.time() - t1:.0f}s)", flush=True)
