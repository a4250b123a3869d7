"""Scores the SGNS output candidates of issue 15 with the judge's evaluation, paired per run:
the last iterate w (gensim's wv), the iterate average (`word-embed --average-epochs N`), and
w + lambda c for small lambda (c the context vectors), each from one trained model.

    PY averaging.py OUT_DIR [LAMBDA ...]   (default lambdas 0.1 0.2 0.3 0.5)

OUT_DIR holds, per run NAME: NAME/ (the published table), NAME.context/ (`--context-output`) and,
for an averaged run, NAME.last/ (`--last-iterate-output`: the last iterate). Prints a Markdown
table (per run, then medians [min-max]) and writes OUT_DIR/averaging.json.
"""
import json, os, sys

from output_vectors import judge_words, read, runs, scores, table

out = sys.argv[1]
lambdas = [float(x) for x in sys.argv[2:]] or [0.1, 0.2, 0.3, 0.5]
words = judge_words()
results = {}
for name, published, c, ids in runs(out):
    tables = {}
    last = os.path.join(out, name + ".last")
    if os.path.isdir(last):
        w, lids = read(last)
        assert ids == lids, f"{name}: the tables' rows differ"
        tables["w (last iterate)"] = w
        tables["w averaged"] = published
    else:
        w = published
        tables["w (last iterate)"] = w
    for lam in lambdas:
        tables[f"w + {lam:g} c"] = w + lam * c
        if "w averaged" in tables:
            tables[f"w averaged + {lam:g} c"] = published + lam * c
    results[name] = {v: scores(m, ids, words) for v, m in tables.items()}
    print(f"{name} scored", file=sys.stderr)
json.dump(results, open(os.path.join(out, "averaging.json"), "w"), indent=1)
print(table(results))
