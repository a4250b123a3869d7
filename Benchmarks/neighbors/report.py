#!/usr/bin/env python3
"""Markdown table of Benchmarks/neighbors/run.sh's results (stdlib only).

    python3 Benchmarks/neighbors/report.py [RESULTS_DIR]

One row per dataset, method and setting: recall@10 and queries per second on 1 and 2 threads,
build seconds (2 threads) and bytes per vector. Ours: index file size / vectors. Peers (not
reported by the libraries): faiss IndexFlat 4d, IndexIVFFlat 4d + 8 (vector + id), hnswlib
4d + 4 + 8 + (2M + 1) * 4 at level 0 (vector, label, links) plus (M + 1) * 4 per upper level,
about 1 / (M - 1) levels per vector on average.
A peer's recall in parentheses is peer_knn's recall@10_ties (a returned id whose similarity ties
the 10th exact one counts): slashdot has many users with identical follow sets, hence identical
vectors, where exact top-10 lists break ties arbitrarily; ours are given both ways too
(embedding-neighbors evaluate's recall_at_k_ties, the same definition).
Exact search also gets its GEMM rate: 2 n d queries / seconds, in GFLOP/s.
The HNSW goal table: per dataset and thread count, each side's fastest ef reaching recall@10 >=
0.95 (tie-aware recall on both sides), the QPS ratio and both build times (2 threads).
The matched-recall table compares the whole curves (needed where neither side reaches 0.95, as on
1M Gaussian vectors at M 16): for each of our HNSW settings, hnswlib's best QPS among its settings
whose recall is at least ours (tie-aware), and our QPS over it; the table gives, per dataset and
thread count, the number of our settings hnswlib matches, the median and the lowest ratio.
"""
import glob
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
results = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "results")


def rows_for(ds):
    peers = json.load(open(os.path.join(results, f"{ds}-peers.json")))
    n, d = peers["n"], peers["d"]
    out = []

    def add(method, setting, runs, build, bpv, recall_key="recall@10"):
        by = {r["threads"]: r for r in runs}
        r1, r2 = by.get(1), by.get(2)
        rec = (r2 or r1)[recall_key]
        ties = (r2 or r1).get("recall@10_ties")
        out.append(dict(ds=ds, n=n, method=method, setting=setting, recall=rec, ties=ties,
                        qps1=r1["qps"] if r1 else None, qps2=r2["qps"] if r2 else None,
                        build=build, bpv=bpv))

    add("faiss IndexFlatIP", "exact", peers["faiss_flat"]["runs"], peers["faiss_flat"]["build_s"], 4 * d)
    ours = {}
    for kind in ("exact", "hnsw", "ivf"):
        p = os.path.join(results, f"{ds}-{kind}.json")
        if os.path.exists(p):
            ours[kind] = json.load(open(p))
    def ours_rows(kind, label):
        if kind not in ours:
            return
        r = ours[kind]
        settings = []
        for x in r["results"]:
            if x["setting"] not in settings:
                settings.append(x["setting"])
        for s in settings:
            runs = [dict(threads=x["threads"], qps=x["qps"], recall=x["recall_at_k"], **({"recall@10_ties": x["recall_at_k_ties"]} if "recall_at_k_ties" in x else {}))
                    for x in r["results"] if x["setting"] == s]
            add(label, s, runs, r["build_seconds"], r["bytes_per_vector"], recall_key="recall")
    ours_rows("exact", "ours exact")
    if "hnswlib" in peers:
        h = peers["hnswlib"]
        bpv = 4 * d + 4 + 8 + (2 * 16 + 1) * 4 + (16 + 1) * 4 / 15
        for ef in sorted({x["ef"] for x in h["runs"]}):
            add("hnswlib", f"ef={ef}", [x for x in h["runs"] if x["ef"] == ef], h["build_s"], bpv)
    ours_rows("hnsw", "ours HNSW")
    if "faiss_ivf" in peers:
        v = peers["faiss_ivf"]
        for npb in sorted({x["nprobe"] for x in v["runs"]}):
            add(f"faiss IVFFlat ({v['nlist']} lists)", f"probes={npb}", [x for x in v["runs"] if x["nprobe"] == npb], v["build_s"], 4 * d + 8)
    ours_rows("ivf", "ours IVF")
    return peers, ours, out


def fmt(x, f="{:,.0f}"):
    return "" if x is None else f.format(x)


def complete(ds):
    """A dataset whose peer run finished (a run in progress leaves an empty file)."""
    try:
        json.load(open(os.path.join(results, f"{ds}-peers.json")))
        return True
    except (OSError, ValueError):
        return False


datasets = sorted(ds for ds in {os.path.basename(p).rsplit("-", 1)[0] for p in glob.glob(os.path.join(results, "*-peers.json"))}
                  if complete(ds))
print("| vectors | method | setting | recall@10 | QPS 1 thread | QPS 2 threads | build s (2 thr) | bytes/vector |")
print("|---|---|---|---|---|---|---|---|")
gemm = []
for ds in datasets:
    peers, ours, rows = rows_for(ds)
    for r in rows:
        rec = f"{r['recall']:.3f}" + (f" ({r['ties']:.3f})" if r["ties"] is not None and abs(r["ties"] - r["recall"]) > 5e-4 else "")
        print(f"| {ds} ({r['n']:,} x {peers['d']}) | {r['method']} | {r['setting']} | {rec} | {fmt(r['qps1'])} | "
              f"{fmt(r['qps2'])} | {fmt(r['build'], '{:.1f}')} | {fmt(r['bpv'], '{:.0f}')} |")
    if "exact" in ours:
        n, d = peers["n"], peers["d"]
        for x in ours["exact"]["results"]:
            gemm.append((ds, x["threads"], x["qps"], 2 * n * d * x["qps"] / 1e9))
        for x in peers["faiss_flat"]["runs"]:
            gemm.append((ds + " (faiss)", x["threads"], x["qps"], 2 * n * d * x["qps"] / 1e9))
if gemm:
    print()
    print("| exact search | threads | QPS | GFLOP/s (2 n d per query) |")
    print("|---|---|---|---|")
    for ds, t, q, g in gemm:
        print(f"| {ds} | {t} | {q:,.0f} | {g:.0f} |")

lat = []
for ds in datasets:
    fp = os.path.join(results, f"{ds}-faiss-latency.json")
    op = os.path.join(results, f"{ds}-exact.json")
    if os.path.exists(fp) and os.path.exists(op):
        f = json.load(open(fp))["threads"]
        for x in json.load(open(op)).get("single_query_latency", []):
            p = f.get(str(x["threads"]))
            if p:
                lat.append((ds, x["threads"], x["median_ms"], x["p90_ms"], p["median_ms"], p["p90_ms"]))
if lat:
    print()
    print("| exact, single query | threads | ours median ms | ours p90 ms | faiss median ms | faiss p90 ms |")
    print("|---|---|---|---|---|---|")
    for ds, t, om, op_, fm, fp_ in lat:
        print(f"| {ds} | {t} | {om:.2f} | {op_:.2f} | {fm:.2f} | {fp_:.2f} |")

goal = []
for ds in datasets:
    peers, ours, rows = rows_for(ds)
    if "hnswlib" not in peers or "hnsw" not in ours:
        continue
    def best(method, threads):
        key = "qps1" if threads == 1 else "qps2"
        ok = [r for r in rows if r["method"] == method and r[key] is not None
              and (r["ties"] if r["ties"] is not None else r["recall"]) >= 0.95]
        return max(ok, key=lambda r: r[key]) if ok else None
    for t in (1, 2):
        key = "qps1" if t == 1 else "qps2"
        o, h = best("ours HNSW", t), best("hnswlib", t)
        goal.append((ds, t, o, h, key, ours["hnsw"]["build_seconds"], peers["hnswlib"]["build_s"]))
if goal:
    print()
    print("| HNSW at recall@10 >= 0.95 | threads | ours: setting, recall, QPS | hnswlib: setting, recall (ties), QPS | QPS ours / hnswlib | build s ours / hnswlib (2 thr) |")
    print("|---|---|---|---|---|---|")
    for ds, t, o, h, key, bo, bh in goal:
        def cell(r):
            if r is None:
                return "never reached"
            rec = r["ties"] if r["ties"] is not None else r["recall"]
            return f"{r['setting']}, {rec:.3f}, {r[key]:,.0f}"
        ratio = f"{o[key] / h[key]:.2f}" if o and h else ""
        print(f"| {ds} | {t} | {cell(o)} | {cell(h)} | {ratio} | {bo:.1f} / {bh:.1f} = {bo / bh:.2f} |")

matched = []
for ds in datasets:
    peers, ours, rows = rows_for(ds)
    if "hnswlib" not in peers or "hnsw" not in ours:
        continue
    rec = lambda r: r["ties"] if r["ties"] is not None else r["recall"]
    for t in (1, 2):
        key = "qps1" if t == 1 else "qps2"
        ratios = []
        for o in (r for r in rows if r["method"] == "ours HNSW" and r[key]):
            peer = [h[key] for h in rows if h["method"] == "hnswlib" and h[key] and rec(h) >= rec(o)]
            if peer:
                ratios.append((o[key] / max(peer), o["setting"], rec(o)))
        if ratios:
            ratios.sort()
            mid = ratios[len(ratios) // 2][0] if len(ratios) % 2 else (ratios[len(ratios) // 2 - 1][0] + ratios[len(ratios) // 2][0]) / 2
            matched.append((ds, t, len(ratios), mid, ratios[0]))
if matched:
    print()
    print("| HNSW at matched recall | threads | our settings matched | median QPS ours / hnswlib's best at >= our recall | lowest (setting, recall) |")
    print("|---|---|---|---|---|")
    for ds, t, n, mid, low in matched:
        print(f"| {ds} | {t} | {n} | {mid:.2f} | {low[0]:.2f} ({low[1]}, {low[2]:.3f}) |")
