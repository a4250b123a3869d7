"""Issue 16 prototype: the judge's label AUC of one embedding table at several overall scales.

The judge fits LogisticRegression(C=1) on the raw vectors, so a table's scale is its
regularisation: this scores the same table multiplied by each factor, with the judge's own
`classify` (imported from ../shared/judge, not copied).

usage: prototype_scale.py EDGES LABELS TABLE.npy [--scales 1,0.5,0.25,0.125]

TABLE.npy is in the judge's row order (align_table.py); follow-graph-svd's tables have unit RMS
entries, so factor 0.125 on a 64-column table gives unit rows (ProNE's own scale, nodevectors).
Prints one line per factor: table, factor, columns, macro AUC.
"""
import argparse
import os
import sys

import numpy as np

judge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/judge")
sys.path.insert(0, os.environ.get("JUDGE_DIR", judge))
import _peers  # noqa: E402
from peer_eval import classify  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("edges"); ap.add_argument("labels"); ap.add_argument("table")
ap.add_argument("--scales", default="1,0.5,0.25,0.125")
args = ap.parse_args()
_, index = _peers.load_graph_csr(args.edges)[:2]
nodes, labs, classes, _ = _peers.load_labels(args.labels, index)
E = np.load(args.table).astype(np.float64)
variants = []
for s in map(float, args.scales.split(",")):
    variants.append((f"table x {s}", E * s))
for name, X in variants:
    r = classify(X.astype(np.float32), nodes, labs, len(classes), 5, 0, 0, "none")
    print(f"{os.path.basename(args.table)}\t{name}\t{X.shape[1]}\t{r['roc_auc_macro_mean']:.4f}", flush=True)
