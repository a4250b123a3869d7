#!/usr/bin/env python3
"""Truncated SVD and symmetric eigensolver timings of the Python peers, with accuracy checked
before anything is compared (an unchecked timing is meaningless).

Peers, all on the same CSR adjacency built from an edge list, float32, 2 threads:
  sklearn-randomized_svd   sklearn.utils.extmath.randomized_svd(A, k, n_oversamples=p, n_iter=q)
  scipy-svds               scipy.sparse.linalg.svds(A, k, solver="arpack", tol=TOL)
  scipy-eigsh              scipy.sparse.linalg.eigsh(N, k, which="LA", tol=TOL) on the normalised
                           symmetrised adjacency N = D^-1/2 (A + A') D^-1/2

The residual reported is the one the Swift solvers report in SVDDiagnostics.maxRelativeResidual:
max_i max(||A v_i - s_i u_i||, ||A' u_i - s_i v_i||) / s_1, and for eigsh max_i ||N x_i - l_i x_i|| / max|l|.

Usage (from the repository root; PYTHON=... picks an interpreter that has numpy, scipy,
scikit-learn and threadpoolctl, else the script makes its own venv in Benchmarks/.venv-bench):
  swift build -c release --product solvers-compare
  Benchmarks/solvers_vs_python.sh --standard              # slashdot, 200k/4M and 1M/20M, medians of 3
  Benchmarks/solvers_vs_python.sh --standard --svds-eigsh-max-nodes 300000   # the 1M graph: randomized only
  Benchmarks/solvers_vs_python.sh --edges ../shared/data/slashdot/edges.txt
  Benchmarks/solvers_vs_python.sh --generate-powerlaw 1000000 20000000 Benchmarks/.data/powerlaw-1m-20m.tsv

--standard benchmarks ../shared/data/slashdot/edges.txt and the seeded power-law graphs of 200k
nodes / 4M edges and 1M nodes / 20M edges (generated into Benchmarks/.data on first use), with
--repeats 3. Unless --swift-command is given, the Swift side is .build/release/solvers-compare
(same rank, oversampling, power iterations, tolerance, repeats and threads) when it exists.
--swift-command is run once per edge list with {edges} and {repeats} replaced; every stdout line
that is a JSON object with keys method, seconds, max_residual is added to the side-by-side table.
The table pairs each Swift solver with its peer: ratio = Swift time / peer time (below 1: faster),
residuals side by side. ARPACK operator applications are counted on both sides (for scipy in a
separate, untimed run through a counting LinearOperator).
Results are also written as JSON lines to --output (default Benchmarks/.results/solvers_vs_python.jsonl).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = THREADS

import numpy as np  # noqa: E402  (after the thread variables)
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.linalg import LinearOperator, eigsh, svds  # noqa: E402
from sklearn.utils.extmath import randomized_svd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


def read_edges(path):
    """SNAP-style edge list: '#' comments, whitespace-separated src dst, ids kept as text."""
    t0 = time.perf_counter()
    src, dst = [], []
    with open(path, "rb") as f:
        for line in f:
            if not line.strip() or line.startswith(b"#"):
                continue
            a, b = line.split()[:2]
            src.append(a)
            dst.append(b)
    ids = {}
    s = np.fromiter((ids.setdefault(x, len(ids)) for x in src), dtype=np.int64, count=len(src))
    d = np.fromiter((ids.setdefault(x, len(ids)) for x in dst), dtype=np.int64, count=len(dst))
    n = len(ids)
    a = sp.csr_matrix((np.ones(len(s), dtype=np.float32), (s, d)), shape=(n, n))
    a.sum_duplicates()
    return a, time.perf_counter() - t0


def generate_powerlaw(nodes, edges, path, seed=0, gamma=2.2):
    """Chung-Lu style directed power-law graph: both ends drawn with probability proportional to
    (i + 1)^(-1 / (gamma - 1)); written as 'src<TAB>dst' lines so every tool reads the same file."""
    rng = np.random.default_rng(seed)
    w = np.arange(1, nodes + 1, dtype=np.float64) ** (-1.0 / (gamma - 1.0))
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# Chung-Lu power-law graph, {nodes} nodes, {edges} edges, gamma {gamma}, seed {seed}\n")
        chunk = 2_000_000
        for start in range(0, edges, chunk):
            m = min(chunk, edges - start)
            s = np.searchsorted(cdf, rng.random(m))
            d = np.searchsorted(cdf, rng.random(m))
            np.savetxt(f, np.stack([s, d], axis=1), fmt="%d", delimiter="\t")


def svd_residual(a, u, s, vt):
    order = np.argsort(-s)
    u, s, vt = u[:, order], s[order], vt[order]
    v = vt.T
    left = np.linalg.norm(a @ v - u * s, axis=0)
    right = np.linalg.norm(a.T @ u - v * s, axis=0)
    return float(max(left.max(), right.max()) / s[0])


def normalized_symmetric(a):
    sym = (a + a.T).tocsr()
    deg = np.asarray(sym.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        inv = np.where(deg > 0, 1.0 / np.sqrt(deg), 0.0).astype(np.float32)
    d = sp.diags(inv)
    return (d @ sym @ d).tocsr().astype(np.float32)


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times, out


def run_python_peers(a, args, name):
    results = []
    k, p, q = args.rank, args.oversamples, args.power_iterations
    large = args.svds_eigsh_max_nodes is not None and a.shape[0] > args.svds_eigsh_max_nodes
    if large:
        print(f"{name}: {a.shape[0]} nodes > --svds-eigsh-max-nodes {args.svds_eigsh_max_nodes}: "
              "randomized SVD only", file=sys.stderr)
    with threadpool_limits(limits=int(THREADS)):
        med, times, (u, s, vt) = timed(
            lambda: randomized_svd(a, k, n_oversamples=p, n_iter=q, random_state=0), args.repeats)
        results.append(dict(tool="python", method="sklearn-randomized_svd", input=name, seconds=med, runs=times,
                            max_residual=svd_residual(a, u, s, vt), k=k, p=p, q=q))
        if not args.skip_svds and not large:
            med, times, (u, s, vt) = timed(lambda: svds(a, k=k, tol=args.tol, solver="arpack",
                                                        random_state=0), args.repeats)
            counter = CountingOperator(a)
            svds(counter, k=k, tol=args.tol, solver="arpack", random_state=0)
            results.append(dict(tool="python", method="scipy-svds", input=name, seconds=med, runs=times,
                                max_residual=svd_residual(a, u, s, vt), k=k, tol=args.tol,
                                operator_applications=counter.products))
        if not args.skip_eigsh and not large:
            nrm = normalized_symmetric(a)
            rng = np.random.default_rng(0)
            v0 = rng.standard_normal(nrm.shape[0]).astype(np.float32)
            med, times, (w, x) = timed(lambda: eigsh(nrm, k=k, which="LA", tol=args.tol, v0=v0), args.repeats)
            res = np.linalg.norm(nrm @ x - x * w, axis=0).max() / np.abs(w).max()
            counter = CountingOperator(nrm)
            eigsh(counter, k=k, which="LA", tol=args.tol, v0=v0)
            results.append(dict(tool="python", method="scipy-eigsh", input=name, seconds=med, runs=times,
                                max_residual=float(res), k=k, tol=args.tol, operator_applications=counter.products))
    return results


class CountingOperator(LinearOperator):
    """A sparse matrix as a LinearOperator that counts its one-vector products (A x and A' x), as
    the Swift side counts them: 2 per Lanczos step of svds (A' A x), 1 per step of eigsh."""

    def __init__(self, a):
        super().__init__(dtype=a.dtype, shape=a.shape)
        self.a, self.at, self.products = a, a.T.tocsr(), 0

    def _matvec(self, x):
        self.products += 1
        return self.a @ x

    def _rmatvec(self, x):
        self.products += 1
        return self.at @ x

    def _matmat(self, x):  # block products (svds' final U = A V) are not one-vector products
        return self.a @ x

    def _rmatmat(self, x):
        return self.at @ x


def run_swift(command_template, edges, name, repeats):
    cmd = command_template.replace("{edges}", shlex.quote(edges)).replace("{repeats}", str(repeats))
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"swift command failed ({proc.returncode}): {cmd}\n{proc.stderr}", file=sys.stderr)
        return []
    out = []
    for line in proc.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and {"method", "seconds", "max_residual"} <= obj.keys():
            obj.setdefault("tool", "swift")
            obj.setdefault("input", name)
            out.append(obj)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", action="append", default=[], help="edge list file (repeatable)")
    ap.add_argument("--generate-powerlaw", nargs=3, metavar=("NODES", "EDGES", "PATH"), action="append", default=[],
                    help="write a seeded power-law edge list to PATH (if absent) and benchmark it (repeatable)")
    ap.add_argument("--standard", action="store_true",
                    help="slashdot, 200k/4M and 1M/20M power-law graphs, medians of 3 (see above)")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--oversamples", type=int, default=10)
    ap.add_argument("--power-iterations", type=int, default=4)
    ap.add_argument("--tol", type=float, default=0.0, help="ARPACK tolerance for svds and eigsh (0: machine precision)")
    ap.add_argument("--repeats", type=int, default=None, help="runs per solver; the median is reported (default 1, 3 with --standard)")
    ap.add_argument("--skip-svds", action="store_true")
    ap.add_argument("--skip-eigsh", action="store_true")
    ap.add_argument("--svds-eigsh-max-nodes", type=int, default=None, metavar="N",
                    help="on graphs with more than N nodes run only the randomized SVDs (both sides): "
                         "ARPACK on the 1M graph takes most of a --standard run")
    ap.add_argument("--krylov-iterations", type=int, default=None, metavar="Q",
                    help="also run our svds by block Krylov with Q iterations (BlockKrylovSVD), paired with scipy's svds")
    ap.add_argument("--swift-command", help="command printing JSON result lines; {edges} and {repeats} are replaced")
    ap.add_argument("--skip-python", action="store_true", help="run only the Swift side")
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), ".results", "solvers_vs_python.jsonl"))
    args = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    inputs = list(args.edges)
    graphs = list(args.generate_powerlaw)
    if args.standard:
        inputs.append(os.path.join(here, "..", "..", "shared", "data", "slashdot", "edges.txt"))
        graphs += [("200000", "4000000", os.path.join(here, ".data", "powerlaw-200k-4m.tsv")),
                   ("1000000", "20000000", os.path.join(here, ".data", "powerlaw-1m-20m.tsv"))]
    if args.repeats is None:
        args.repeats = 3 if args.standard else 1
    for nodes, edges, path in graphs:
        if not os.path.exists(path):
            t0 = time.perf_counter()
            generate_powerlaw(int(nodes), int(edges), path)
            print(f"generated {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        inputs.append(path)
    if not inputs:
        ap.error("give --edges, --generate-powerlaw or --standard")
    if not args.swift_command:
        binary = os.path.join(here, "..", ".build", "release", "solvers-compare")
        if os.path.exists(binary):
            flags = f"--rank {args.rank} --oversamples {args.oversamples} --power-iterations {args.power_iterations} --tol {args.tol} --threads {THREADS} --repeats {{repeats}}"
            flags += " --skip-svds" if args.skip_svds else ""
            flags += " --skip-eigsh" if args.skip_eigsh else ""
            if args.krylov_iterations is not None:
                flags += f" --krylov-iterations {args.krylov_iterations}"
            if args.svds_eigsh_max_nodes is not None:
                flags += f" --svds-eigsh-max-nodes {args.svds_eigsh_max_nodes}"
            args.swift_command = f"{shlex.quote(binary)} --edges {{edges}} {flags}"
        else:
            print(f"no Swift side: {binary} is not built (swift build -c release --product solvers-compare)", file=sys.stderr)

    all_results = []
    for path in inputs:
        if not os.path.exists(path):
            print(f"skipping {path}: not found", file=sys.stderr)
            continue
        name = os.path.relpath(path)
        if not args.skip_python:
            a, load = read_edges(path)
            print(f"{name}: {a.shape[0]} nodes, {a.nnz} nonzeros, read in {load:.1f} s", file=sys.stderr)
            all_results += run_python_peers(a, args, name)
            del a
        if args.swift_command:
            all_results += run_swift(args.swift_command, path, name, args.repeats)

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "a") as f:
        for r in all_results:
            f.write(json.dumps(r) + "\n")
    print(f"medians of {args.repeats}, {THREADS} threads a side, float32, k = {args.rank}, p = {args.oversamples}, "
          f"q = {args.power_iterations}, ARPACK tol = {args.tol}")
    print(f"{'input':<40} {'tool':<7} {'method':<24} {'seconds':>9} {'max rel. residual':>18} {'applications':>12}")
    for r in all_results:
        apps = r.get("operator_applications", "")
        print(f"{r['input']:<40} {r['tool']:<7} {r['method']:<24} {r['seconds']:>9.2f} {r['max_residual']:>18.3g} {apps:>12}")
    peers = {"swift-randomized": "sklearn-randomized_svd", "swift-arpack-svds": "scipy-svds",
             "swift-block-krylov-svds": "scipy-svds", "swift-eigsh": "scipy-eigsh",
             "swift-eigsh-chebyshev": "scipy-eigsh", "swift-block-lanczos-svds": "scipy-svds",
             "swift-eigsh-block-lanczos": "scipy-eigsh"}
    print(f"\n{'input':<40} {'solver':<20} {'swift s':>8} {'peer s':>8} {'ratio':>6} {'swift resid.':>12} {'peer resid.':>12}")
    for r in all_results:
        if r.get("tool") != "swift" or r["method"] not in peers:
            continue
        for p in all_results:
            if p.get("tool") == "python" and p["method"] == peers[r["method"]] and p["input"] == r["input"]:
                print(f"{r['input']:<40} {r['method'][6:]:<20} {r['seconds']:>8.2f} {p['seconds']:>8.2f} "
                      f"{r['seconds'] / p['seconds']:>6.2f} {r['max_residual']:>12.3g} {p['max_residual']:>12.3g}")


if __name__ == "__main__":
    main()
