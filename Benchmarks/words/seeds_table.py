"""Ours against gensim over many seeds (issue 15, "every score at least gensim's"), unpaired: per
score, each side's median [min-max], the difference of the medians with a bootstrap 95% interval,
and the Mann-Whitney U test's two-sided p-value (scipy), from the saved score JSONs.

    PY seeds_table.py [--variant NAME ...] [--json OUT.json] FILE ...

Each FILE is one of
- an `averaging.py` output (`averaging.json`: run -> table variant -> scores): our runs;
- a `peer_words.py --method gensim --out` JSON (as `gensim_seed.py` writes it): one gensim run;
- a transcription of gensim runs whose JSONs were not kept (`gensim_session6.json`: per score the
  values of the runs, `null` for an unknown one; the values of different scores need not come in
  the same run order, since the comparison is per score).
`--variant` picks our table variants (default: every variant in the first `averaging.json`).
The bootstrap resamples each side with replacement (10,000 draws, numpy's generator seeded 0), so
the table is the same on every run. Prints a Markdown table; `--json` also writes the figures.
"""
import argparse, json, statistics, sys

import numpy as np
from scipy.stats import mannwhitneyu

KEYS = ["ws353", "simlex999", "men3k", "rw", "3CosAdd", "3CosMul"]
NAMES = {"ws353": "WS-353", "simlex999": "SimLex", "men3k": "MEN", "rw": "RW",
         "3CosAdd": "3CosAdd", "3CosMul": "3CosMul"}


def gensim_scores(d):
    e = d["eval"]
    s = {k: e["similarity"][k]["spearman"] for k in ("ws353", "simlex999", "men3k", "rw")}
    for k in ("3CosAdd", "3CosMul"):
        s[k] = e["analogies"][k]["overall"]["accuracy"]
    return s


def load(files, variants):
    ours = {}  # variant -> score -> [values]
    gensim = {k: [] for k in KEYS}
    sources = []
    for f in files:
        d = json.load(open(f))
        if d.get("method") == "gensim":
            s = gensim_scores(d)
            for k in KEYS:
                gensim[k].append(s[k])
            sources.append(f"{f}: gensim seed {d['params']['seed']}")
        elif "comparisons" in d:  # this script's own --json: its score lists, read back
            for v, scores in d["ours"].items():
                if not variants or v in variants:
                    for k in KEYS:
                        ours.setdefault(v, {q: [] for q in KEYS})[k].extend(scores[k])
            for k in KEYS:
                gensim[k].extend(d["gensim"][k])
            sources.extend(d["sources"])
        elif "runs_by_score" in d:
            for k in KEYS:
                gensim[k].extend(x for x in d["runs_by_score"].get(k, []) if x is not None)
            sources.append(f"{f}: {d.get('source', 'transcribed gensim runs')}")
        else:
            if not variants:
                variants = list(next(iter(d.values())).keys())
            for run, tables in d.items():
                for v in variants:
                    if v not in tables:
                        sys.exit(f"{f}: run {run} has no variant {v!r} (it has {list(tables)})")
                    for k in KEYS:
                        ours.setdefault(v, {q: [] for q in KEYS})[k].append(tables[v][k])
                sources.append(f"{f}: ours {run}")
    return ours, gensim, sources


def compare(a, b, rng, draws=10000):
    """Median of a minus median of b, a bootstrap 95% interval of it, Mann-Whitney's two-sided p."""
    a, b = np.asarray(a), np.asarray(b)
    diff = float(np.median(a) - np.median(b))
    boot = np.median(rng.choice(a, (draws, a.size)), axis=1) - np.median(rng.choice(b, (draws, b.size)), axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return {"difference": diff, "ci95": [float(lo), float(hi)], "mann_whitney_p": p}


def fmt(k, x, sign=False):
    if k.startswith("3Cos"):
        return f"{100 * x:+.1f}" if sign else f"{100 * x:.1f}%"
    return f"{x:+.3f}" if sign else f"{x:.3f}"


def spread(k, xs):
    return f"{fmt(k, statistics.median(xs))} [{fmt(k, min(xs))}-{fmt(k, max(xs))}] (n {len(xs)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()
    ours, gensim, sources = load(args.files, args.variant)
    if not ours or not all(gensim[k] for k in KEYS):
        sys.exit("need our averaging.json and gensim runs for every score")
    rng = np.random.default_rng(0)
    out = {"sources": sources, "gensim": gensim, "ours": ours, "comparisons": {}}
    lines = ["| score | our table | ours | gensim 4.4 | median difference [bootstrap 95%] | Mann-Whitney p |",
             "|---|---|---|---|---|---|"]
    for k in KEYS:
        for v, s in ours.items():
            c = compare(s[k], gensim[k], rng)
            out["comparisons"].setdefault(v, {})[k] = c
            lines.append(f"| {NAMES[k]} | {v} | {spread(k, s[k])} | {spread(k, gensim[k])} | "
                         f"{fmt(k, c['difference'], True)} [{fmt(k, c['ci95'][0], True)}, {fmt(k, c['ci95'][1], True)}] | "
                         f"{c['mann_whitney_p']:.3f} |")
    print("\n".join(lines))
    print("\nmedian [min-max] (n runs); the difference is ours minus gensim's (analogies in points); "
          "p two-sided.")
    if args.json:
        json.dump(out, open(args.json, "w"), separators=(",", ":"))


if __name__ == "__main__":
    main()
