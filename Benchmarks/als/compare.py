#!/usr/bin/env python3
"""Side-by-side benchmark: benfred/implicit's CPU AlternatingLeastSquares against `als-embed`.

For each data set this script
  1. loads (or generates) user -> item interactions,
  2. makes ONE per-user random holdout (each user with n interactions holds out
     floor(fraction * n + u) of them, u uniform in [0, 1), at most n - 1) and a random sample of
     test users, and writes train.tsv / test.tsv (test rows only for the sampled users),
  3. fits implicit (CG, `--threads` threads, its BLAS limited to 1 thread) on train.tsv and
     evaluates it with implicit.evaluation.ranking_metrics_at_k on test.tsv,
  4. runs `als-embed train.tsv --test test.tsv --threads N` (CG) and reads its JSON report,
  5. prints median seconds per iteration and P@10 / nDCG@10 / MAP@10 side by side.

Both models are the same Hu-Koren-Volinsky objective. implicit uses the confidence
c = alpha_implicit * r, ours c = 1 + alpha * r; on binary data the script passes
alpha_implicit = 1 + alpha so that both fit the same model.

Data sets:
  slashdot   SNAP soc-Slashdot0902 (../shared/data/slashdot/edges.txt): follower -> followed.
  generated  --gen-users users, --gen-items items, about --gen-interactions distinct
             interactions: each user has a home community (of --gen-communities), draws 70% of
             its items from its community and 30% from the whole catalogue, both with Zipf-like
             (power-law) item popularity; user activity is log-normal.

Usage (from the package root, after `swift build -c release --product als-embed`):
  python3 -m venv /tmp/als-venv && /tmp/als-venv/bin/pip install implicit threadpoolctl
  /tmp/als-venv/bin/python Benchmarks/als/compare.py --datasets slashdot generated
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp


def load_snap(path):
    users, items = [], []
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b"#"):
                continue
            parts = line.split()
            if len(parts) >= 2:
                users.append(int(parts[0]))
                items.append(int(parts[1]))
    return np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)


def generate(n_users, n_items, n_interactions, n_communities, seed):
    rng = np.random.default_rng(seed)
    # Log-normal activity scaled to the requested total (before deduplication, +8% slack).
    activity = rng.lognormal(mean=0.0, sigma=1.0, size=n_users)
    activity = np.maximum(1, np.round(activity / activity.sum() * n_interactions * 1.08)).astype(np.int64)
    users = np.repeat(np.arange(n_users, dtype=np.int64), activity)
    total = users.size
    community_of_user = rng.integers(0, n_communities, size=n_users)
    # Items are dealt to communities round-robin; popularity rank r has weight (r + 1)^-0.9.
    per_community = n_items // n_communities

    def zipf(size, n):
        # Inverse-CDF sampling of a continuous power law on [1, n + 1), exponent 0.9.
        a = 0.9
        u = rng.random(size)
        x = ((n + 1) ** (1 - a) - 1) * u + 1
        return np.minimum(n - 1, (x ** (1 / (1 - a)) - 1).astype(np.int64))

    local = rng.random(total) < 0.7
    items = np.empty(total, dtype=np.int64)
    n_local = int(local.sum())
    ranks = zipf(n_local, per_community)
    items[local] = ranks * n_communities + community_of_user[users[local]]
    items[~local] = rng.permutation(n_items)[zipf(total - n_local, n_items)]
    key = np.unique(users * n_items + items)
    return key // n_items, key % n_items


def per_user_holdout(users, items, fraction, seed):
    """Returns a boolean mask of held-out rows: per user floor(fraction * n + u), at most n - 1."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(users.size), users))  # random order within each user
    users_sorted = users[order]
    starts = np.flatnonzero(np.r_[True, users_sorted[1:] != users_sorted[:-1]])
    counts = np.diff(np.r_[starts, users_sorted.size])
    held = np.floor(fraction * counts + rng.random(counts.size)).astype(np.int64)
    held = np.clip(held, 0, counts - 1)
    position = np.arange(users_sorted.size) - np.repeat(starts, counts)
    mask_sorted = position < np.repeat(held, counts)
    mask = np.empty(users.size, dtype=bool)
    mask[order] = mask_sorted
    return mask


def write_pairs(path, users, items):
    with open(path, "w") as fh:
        for lo in range(0, users.size, 1_000_000):
            block = np.column_stack((users[lo:lo + 1_000_000], items[lo:lo + 1_000_000]))
            np.savetxt(fh, block, fmt="%d\t%d")


def median(xs):
    return float(np.median(np.asarray(xs)))


def run_implicit(train_u, train_i, test_u, test_i, args):
    from threadpoolctl import threadpool_limits
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k

    user_ids, u_index = np.unique(train_u, return_inverse=True)
    item_ids, i_index = np.unique(train_i, return_inverse=True)
    shape = (user_ids.size, item_ids.size)
    train = sp.csr_matrix((np.ones(train_u.size, dtype=np.float32), (u_index, i_index)), shape=shape)
    # Test pairs whose user or item never occurs in training cannot be recommended: dropped (as in als-embed).
    tu = np.searchsorted(user_ids, test_u)
    ti = np.searchsorted(item_ids, test_i)
    ok = (tu < user_ids.size) & (ti < item_ids.size)
    ok &= (user_ids[np.minimum(tu, user_ids.size - 1)] == test_u) & (item_ids[np.minimum(ti, item_ids.size - 1)] == test_i)
    test = sp.csr_matrix((np.ones(int(ok.sum()), dtype=np.float32), (tu[ok], ti[ok])), shape=shape)

    seconds = []
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=args.factors, regularization=args.regularization,
                                        alpha=1.0 + args.alpha, iterations=args.iterations, use_cg=True,
                                        calculate_training_loss=False, num_threads=args.threads,
                                        random_state=args.seed)
        start = time.perf_counter()
        model.fit(train, show_progress=False, callback=lambda it, elapsed, loss: seconds.append(elapsed))
        fit_seconds = time.perf_counter() - start
        metrics = ranking_metrics_at_k(model, train, test, K=10, show_progress=False, num_threads=args.threads)
    return {
        "seconds_per_iteration": median(seconds), "iteration_seconds": seconds, "fit_seconds": fit_seconds,
        "precision_at_10": float(metrics["precision"]), "ndcg_at_10": float(metrics["ndcg"]),
        "map_at_10": float(metrics["map"]), "users": shape[0], "items": shape[1], "training_interactions": int(train.nnz),
        "evaluated_users": int((np.diff(test.indptr) > 0).sum()), "test_interactions": int(test.nnz),
    }


def run_ours(workdir, args):
    report = os.path.join(workdir, "als-embed-report.json")
    command = [args.als_embed, os.path.join(workdir, "train.tsv"), "--test", os.path.join(workdir, "test.tsv"),
               "--output", os.path.join(workdir, "als-embed-out"), "--factors", str(args.factors),
               "--regularization", str(args.regularization), "--alpha", str(args.alpha),
               "--iterations", str(args.iterations), "--solver", "cg", "--seed", str(args.seed),
               "--threads", str(args.threads), "--report", report]
    subprocess.run(command, check=True)
    with open(report) as fh:
        return json.load(fh)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["slashdot", "generated"], choices=["slashdot", "generated"])
    p.add_argument("--slashdot", default="../shared/data/slashdot/edges.txt")
    p.add_argument("--gen-users", type=int, default=1_000_000)
    p.add_argument("--gen-items", type=int, default=200_000)
    p.add_argument("--gen-interactions", type=int, default=20_000_000)
    p.add_argument("--gen-communities", type=int, default=500)
    p.add_argument("--workdir", default="/tmp/als-bench")
    p.add_argument("--als-embed", default=".build/release/als-embed")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--regularization", type=float, default=0.01)
    p.add_argument("--alpha", type=float, default=1.0, help="ours: c = 1 + alpha r (implicit gets 1 + alpha)")
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--holdout", type=float, default=0.2)
    p.add_argument("--eval-users", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--skip", nargs="*", default=[], choices=["implicit", "ours"])
    args = p.parse_args()

    results = {}
    for name in args.datasets:
        workdir = os.path.join(args.workdir, name)
        os.makedirs(workdir, exist_ok=True)
        t = time.perf_counter()
        if name == "slashdot":
            users, items = load_snap(args.slashdot)
            key = np.unique(users * (items.max() + 1) + items)
            users, items = key // (items.max() + 1), key % (items.max() + 1)
        else:
            users, items = generate(args.gen_users, args.gen_items, args.gen_interactions, args.gen_communities, args.seed)
        held = per_user_holdout(users, items, args.holdout, args.seed)
        test_users = np.unique(users[held])
        rng = np.random.default_rng(args.seed + 1)
        sample = np.sort(rng.choice(test_users, size=min(args.eval_users, test_users.size), replace=False))
        in_sample = held & np.isin(users, sample)
        write_pairs(os.path.join(workdir, "train.tsv"), users[~held], items[~held])
        write_pairs(os.path.join(workdir, "test.tsv"), users[in_sample], items[in_sample])
        print(f"{name}: {np.unique(users).size} users, {np.unique(items).size} items, {users.size} interactions; "
              f"{int((~held).sum())} train, {int(in_sample.sum())} test pairs for {sample.size} sampled users "
              f"(prepared in {time.perf_counter() - t:.1f} s)", flush=True)
        entry = {}
        if "implicit" not in args.skip:
            entry["implicit"] = run_implicit(users[~held], items[~held], users[in_sample], items[in_sample], args)
            print(f"  implicit : {entry['implicit']['seconds_per_iteration']:.3f} s/iter, "
                  f"P@10 {entry['implicit']['precision_at_10']:.4f}", flush=True)
        if "ours" not in args.skip:
            entry["als-embed"] = run_ours(workdir, args)
            print(f"  als-embed: {entry['als-embed']['seconds_per_iteration']:.3f} s/iter, "
                  f"P@10 {entry['als-embed']['precision_at_10']:.4f}", flush=True)
        results[name] = entry

    print()
    print(f"factors {args.factors}, regularization {args.regularization}, alpha {args.alpha} (implicit {1 + args.alpha}), "
          f"{args.iterations} iterations, CG, {args.threads} threads, holdout {args.holdout}, {args.eval_users} test users")
    print("| data | side | users x items | train nnz | median s/iter | fit s | P@10 | nDCG@10 | MAP@10 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, entry in results.items():
        for side, r in entry.items():
            print(f"| {name} | {side} | {r['users']} x {r['items']} | {r['training_interactions']} | "
                  f"{r['seconds_per_iteration']:.3f} | {r['fit_seconds']:.1f} | {r['precision_at_10']:.4f} | "
                  f"{r['ndcg_at_10']:.4f} | {r['map_at_10']:.4f} |")
    with open(os.path.join(args.workdir, "results.json"), "w") as fh:
        json.dump({"arguments": vars(args), "results": results}, fh, indent=2)


if __name__ == "__main__":
    sys.exit(main())
