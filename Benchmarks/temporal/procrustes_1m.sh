#!/usr/bin/env bash
# Orthogonal Procrustes at scale (issue 17: "1M x 128 aligned in seconds"): two seeded 1M x 128
# tables, LATER = EARLIER rotated by a random orthogonal matrix plus 1% noise, rows shuffled and 10%
# of ids replaced by new ones; `embedding-temporal drift EARLIER LATER` aligns LATER onto EARLIER
# over the 900k shared ids and prints the alignment's seconds (gather, unit rows, X'Y GEMM, d x d
# SVD, X R for every row) apart from the drift report's.
#   Benchmarks/temporal/procrustes_1m.sh [WORK=/tmp/procrustes-1m] [ROWS=1000000] [DIM=128]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
work=${1:-/tmp/procrustes-1m}; rows=${2:-1000000}; dim=${3:-128}
PY=${PYTHON:-python3}
mkdir -p "$work"
(cd "$root" && swift build -c release --product embedding-temporal >&2)
B="$root/.build/release"
"$PY" - "$work" "$rows" "$dim" <<'PY'
import json, os, sys
import numpy as np
work, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
def write(path, ids, x, window):
    os.makedirs(path, exist_ok=True)
    np.save(os.path.join(path, "vectors.npy"), np.ascontiguousarray(x, dtype=np.float32))
    with open(os.path.join(path, "ids.tsv"), "w") as f: f.write("\n".join(ids) + "\n")
    with open(os.path.join(path, "meta.json"), "w") as f:
        json.dump({"format_version": 1, "entity_type": "user", "dimension": d, "count": len(ids),
                   "algorithm": "gaussian-random (benchmark input)", "parameters": {"seed": 0, "window": window},
                   "created_at": "2024-01-01T00:00:00Z", "scores": {}}, f)
x = rng.standard_normal((n, d), dtype=np.float32)
q, _ = np.linalg.qr(rng.standard_normal((d, d)))
y = x @ q.astype(np.float32) + 0.01 * rng.standard_normal((n, d), dtype=np.float32)
ids = [f"u{i}" for i in range(n)]
perm = rng.permutation(n)
later_ids = [ids[i] if k < n - n // 10 else f"new{i}" for k, i in enumerate(perm)]
write(os.path.join(work, "earlier"), ids, x, "earlier")
write(os.path.join(work, "later"), later_ids, y[perm], "later")
PY
/usr/bin/time -f 'wall %e s, peak RSS %M KB' "$B/embedding-temporal" drift "$work/earlier" "$work/later" 2>&1 | tail -4
