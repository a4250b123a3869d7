"""Scores SGNS's output tables from one training run with the judge's evaluation: input
vectors w (gensim's wv), w + c, and w/|w| + c/|c| (Levy, Goldberg and Dagan 2015), c the context
vectors that `word-embed --context-output DIR` writes beside the table; each also after
"all-but-the-top" (Mu and Viswanath 2018: mean and top d/100 principal directions removed).

    PY output_vectors.py OUT_DIR     (OUT_DIR holds NAME/ and NAME.context/ table pairs,
                                      as Benchmarks/words/run.sh writes them with CONTEXT=1)

Each variant of a run comes from the same trained model, so the comparison between variants is
paired (no seed or thread-race noise between them). The evaluation is the judge's own
`evaluate` (../shared/judge/peer_words.py, imported, not copied) on the judge's vocabulary (its
tokenisation of corpus.txt, min count 5), so the figures are those of `peer_words.py --method
table`. Prints a Markdown table (per run, then medians [min-max]) and writes OUT_DIR/output_vectors.json.
"""
import glob, json, os, statistics, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "judge"))
import numpy as np  # noqa: E402
import peer_words as judge  # noqa: E402

KEYS = ["ws353", "simlex999", "men3k", "rw", "3CosAdd", "3CosMul"]


def read(table):
    v = np.load(os.path.join(table, "vectors.npy")).astype(np.float64)
    ids = [l.rstrip("\r\n") for l in open(os.path.join(table, "ids.tsv"), encoding="utf-8")]
    return v, [i for i in ids if i != ""]


def unit(m):
    n = np.linalg.norm(m, axis=1, keepdims=True)
    n[n == 0] = 1
    return m / n


def all_but_the_top(m):
    """Mu and Viswanath (ICLR 2018): the rows less their mean, then less their projection on the
    top D principal directions, D = d / 100 (their rule; 1 at d = 100)."""
    x = m - m.mean(axis=0)
    D = max(1, round(m.shape[1] / 100))
    u = np.linalg.eigh(x.T @ x)[1][:, ::-1][:, :D]
    return x - (x @ u) @ u.T


def scores(vectors, ids, words):
    row = {w: i for i, w in enumerate(ids)}
    E = np.zeros((len(words), vectors.shape[1]), dtype=np.float32)
    for j, w in enumerate(words):
        if w in row:
            E[j] = vectors[row[w]]
    e = judge.evaluate(E, words)
    s = {k: e["similarity"][k]["spearman"] for k in judge.SIM_SETS}
    for k in ("3CosAdd", "3CosMul"):
        s[k] = e["analogies"][k]["overall"]["accuracy"]
    return s


def judge_words():
    """The judge's vocabulary of corpus.txt (its tokens, min count 5, its order)."""
    sents = judge.load_corpus(os.path.join(judge.DATA, "corpus.txt"), "chunks", 10000)
    return judge.build_vocab(sents, 5)[1]


def fmt(k, x):
    return f"{100 * x:.1f}%" if k.startswith("3Cos") else f"{x:.3f}"


def table(results):
    """Markdown: every run's variants, then each variant's median [min-max] over the runs."""
    lines = ["| run | vectors | " + " | ".join(KEYS) + " |", "|---|---|" + "---|" * len(KEYS)]
    for name, r in results.items():
        for variant, s in r.items():
            lines.append(f"| {name} | {variant} | " + " | ".join(fmt(k, s[k]) for k in KEYS) + " |")
    for variant in next(iter(results.values())).keys():
        cells = []
        for k in KEYS:
            xs = [r[variant][k] for r in results.values() if variant in r]
            m = statistics.median(xs)
            cells.append(fmt(k, m) + (f" [{fmt(k, min(xs))}-{fmt(k, max(xs))}]" if len(xs) > 1 else ""))
        lines.append(f"| **median of {len(xs)}** | {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def runs(out):
    """Each run under `out` with a context table: (name, published w, c, ids), rows checked equal."""
    for context in sorted(glob.glob(os.path.join(out, "*.context"))):
        name = os.path.basename(context)[: -len(".context")]
        w, ids = read(os.path.join(out, name))
        c, cids = read(context)
        assert ids == cids, f"{name}: the tables' rows differ"
        yield name, w, c, ids


def main(out):
    words = judge_words()
    results = {}
    for name, w, c, ids in runs(out):
        tables = {"input": w, "sum": w + c, "normalized-sum": unit(w) + unit(c)}
        results[name] = {}
        for variant, m in tables.items():
            results[name][variant] = scores(m, ids, words)
            results[name][variant + " + abtt"] = scores(all_but_the_top(m), ids, words)
        print(f"{name} scored", file=sys.stderr)
    json.dump(results, open(os.path.join(out, "output_vectors.json"), "w"), indent=1)
    print(table(results))


if __name__ == "__main__":
    main(sys.argv[1])
