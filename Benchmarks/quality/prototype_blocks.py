"""Issue 16 prototype (session 10): where the Swift default and its numpy copy differ, per-block
scales, and extra blocks for the undirected label task, scored with the judge's own `classify`
(imported from ../shared/judge, not copied).

usage: prototype_blocks.py EDGES LABELS --base prone|E.npy [--seed S] VARIANT [VARIANT ...]

--base prone: the numpy copy of the Swift block E (ProNE's pipeline, seed --seed; float64);
--base E.npy: follow-graph-svd's E (`--neighbourhood-hops 0 --row-norm 1`, aligned with
align_table.py). S = (D+I)^-1/2 (A+I) (D+I)^-1/2. Variants (blocks' rows scaled to the lengths given):
  hops:L0,L1,L2         [E | S E | S^2 E], block k's rows of length Lk (the default: 2,2,2)
  netsmf:T,L0,L1,L2[,Ln] [E | S E | S^2 E | N]: N is a NetSMF-like block: the top eigenpairs of
                        D^-1/2 A D^-1/2 filtered by (1/T) sum_{r<=T} lambda^r, NetMF's matrix
                        evaluated on the edges only, log max(., 1), rank-64 U S^1/2 (Ln, default 1)
  nhops:T,L0,L1,L2      [N | S N | S^2 N] (N in place of E)
Environment for N: NETSMF_RANK eigenpairs (default 128); NETSMF_EIG=randomized takes them from
scikit-learn's randomized_svd of the symmetric matrix (sign from u'v, as the toolkit's solvers
would) instead of ARPACK; NETSMF_Q power iterations of that and of the log matrix's SVD (5).
  e0:L0,L1,L2,L3[,L4]   [E | S E | S^2 E | E0 [| S E0]], E0 the proximity SVD's U S^1/2 (--base prone)
  deg:L0,L1,L2          hops plus a log(1 + degree) column scaled to unit RMS
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
ap.add_argument("--base", required=True); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--save", help="save the table of the (single) variant to this .npy")
args = ap.parse_args()
A, index, _ = _peers.load_graph_csr(args.edges)
A = ((A + A.T) > 0).astype(np.float64).tocsr()
n = A.shape[0]
nodes, labs, classes, _ = _peers.load_labels(args.labels, index)
d = np.asarray(A.sum(1)).ravel()
dl = 1 / np.sqrt(d + 1)
S = (sp.diags(dl) @ (A + sp.eye(n)) @ sp.diags(dl)).tocsr()


Q = int(os.environ.get("NETSMF_Q", 5))  # power iterations of N's randomized eigen-decomposition and of the log matrix's SVD


def netsmf(T, h=int(os.environ.get("NETSMF_RANK", 128)), dim=64):
    """NetMF's matrix vol/T D^-1 (sum_{r<=T} P^r) evaluated from h eigenpairs, on A's support only."""
    dinv = np.where(d > 0, 1 / np.sqrt(np.maximum(d, 1e-300)), 0)
    N = (sp.diags(dinv) @ A @ sp.diags(dinv)).tocsr()
    if os.environ.get("NETSMF_EIG") == "randomized":
        # as the Swift solver would: randomized SVD of the symmetric N (5 power iterations), the
        # eigenvalue's sign from u'v
        U, sv, Vt = randomized_svd(N, h, n_oversamples=10, n_iter=Q, random_state=args.seed)
        lam = sv * np.sign(np.einsum("ij,ji->i", U.T, Vt.T))
    else:
        lam, U = eigsh(N, k=h, which="LM", tol=1e-4, v0=np.random.default_rng(args.seed).standard_normal(n))
    f = np.array([sum(l ** r for r in range(1, T + 1)) / T for l in lam])
    C = A.tocoo()
    X = dinv[:, None] * U
    vals = np.einsum("ij,ij->i", X[C.row] * f, X[C.col]) * d.sum()
    M = sp.csr_matrix((np.log(np.maximum(vals, 1)), (C.row, C.col)), shape=(n, n))
    u, s, _ = randomized_svd(M, dim, n_oversamples=10, n_iter=Q, random_state=args.seed)
    return u * np.sqrt(s)


E0 = None
if args.base == "prone":
    E, E0 = prone_numpy_block(A, args.seed)
else:
    E = np.load(args.base).astype(np.float64)
E = unit(E)
P = [E, S @ E]; P.append(S @ P[1])
for v in args.variants:
    t0 = time.time()
    kind, _, p = v.partition(":")
    ps = [float(x) for x in p.split(",")]
    if kind == "hops":
        X = np.hstack([unit(b) * L for b, L in zip(P, ps)])
    elif kind == "netsmf":
        T, ls = int(ps[0]), ps[1:]
        X = np.hstack([unit(b) * L for b, L in zip(P + [netsmf(T)], ls + [1.0] * (4 - len(ls)))])
    elif kind == "nhops":
        T, ls = int(ps[0]), ps[1:]
        N0 = unit(netsmf(T)); N1 = S @ N0
        X = np.hstack([unit(b) * L for b, L in zip([N0, N1, S @ N1], ls)])
    elif kind == "e0":
        X = np.hstack([unit(b) * L for b, L in zip(P + [E0, S @ E0], ps)])
    elif kind == "deg":
        g = np.log1p(d)[:, None]
        X = np.hstack([unit(b) * L for b, L in zip(P, ps)] + [g / np.sqrt((g ** 2).mean())])
    else:
        raise SystemExit(f"unknown variant {v}")
    t1 = time.time()
    if args.save:
        np.save(args.save, X.astype(np.float32))
    r = classify(X.astype(np.float32), nodes, labs, len(classes), 5, 0, 0, "none")
    print(f"{os.path.basename(os.path.dirname(args.edges))}\t{os.path.basename(args.base)}\tseed {args.seed}\t{v}\t"
          f"{X.shape[1]}\t{r['roc_auc_macro_mean']:.4f}\t({t1 - t0:.0f}s + {time.time() - t1:.0f}s)", flush=True)
