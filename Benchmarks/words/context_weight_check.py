"""Checks `word-embed --vectors sum --context-weight L` on a real corpus against
`averaging.py`'s `w + L c` (issue 15, session 11): the same expression on the same run's tables.

    PY context_weight_check.py OUT_DIR TABLE L

OUT_DIR holds NAME/ (the input vectors w) and NAME.context/ (`--context-output`) of one run, as
`averaging.py` reads them; TABLE is `--vectors sum --context-weight L` of the same seed and a
single thread (`--threads 1` gives the same bits every run, so both runs train the same model;
the script checks that TABLE's own context table, TABLE.context/ if present, equals NAME.context/).
Prints the largest difference from averaging.py's `w + L * c` (in float64, as it computes it),
the largest ratio to the float32 rounding bound eps (|w| + L |c|) + |Float(L) - L| |c|, and both tables' judge scores
(and the scores in OUT_DIR/averaging.json when `averaging.py OUT_DIR L` has been run).
"""
import json, os, sys

import numpy as np

from output_vectors import KEYS, judge_words, read, runs, scores

out, table, lam = sys.argv[1], sys.argv[2], float(sys.argv[3])
(name, w, c, ids), = list(runs(out))           # averaging.py's reading: one run in OUT_DIR
ref = w + lam * c                               # averaging.py's variant f"w + {lam:g} c"
ours, oids = read(table)
assert oids == ids, "the tables' rows differ"
if os.path.isdir(table + ".context"):
    c2, _ = read(table + ".context")
    print("context tables equal:", bool(np.array_equal(c2, c)))
eps = float(np.finfo(np.float32).eps)
# word-embed computes fl(w + fl(Float(L) c)): two roundings (eps/2 each, relative) and Float(L)'s own
# representation error |Float(L) - L| (0.05 is not a float32), against float64's w + L c
bound = eps * (np.abs(w) + lam * np.abs(c)) + abs(float(np.float32(lam)) - lam) * np.abs(c)
diff = np.abs(ours - ref)
words = judge_words()
s_ref, s_ours = scores(ref, ids, words), scores(ours, ids, words)
result = {"run": name, "table": table, "lambda": lam, "rows": len(ids),
          "max_abs_difference": float(diff.max()), "max_abs_value": float(np.abs(ref).max()),
          "max_ratio_to_float_bound": float((diff / np.maximum(bound, np.finfo(np.float32).tiny)).max()),
          "scores_averaging_py": s_ref, "scores_context_weight": s_ours}
saved = os.path.join(out, "averaging.json")      # averaging.py OUT_DIR L, if it was run
if os.path.exists(saved):
    result["scores_averaging_json"] = json.load(open(saved))[name][f"w + {lam:g} c"]
result["max_score_difference"] = max(abs(s_ref[k] - s_ours[k]) for k in KEYS)
ok = result["max_ratio_to_float_bound"] <= 1
print(json.dumps(result, indent=1))
print("EQUAL to float tolerance" if ok else "DIFFERENT")
sys.exit(0 if ok else 1)
