"""Inputs for store_vs_feast.sh, seeded: two embedding tables (numpy float32, C order; ids are
decimal integers so Feast keys them as Int64) and two point-in-time join row files.
usage: python make_inputs.py WORK [ROWS_SMALL=200000] [ROWS_BIG=1000000]"""
import json, os, sys
import numpy as np

work = sys.argv[1]
small = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
big = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
rng = np.random.default_rng(0)


def table(path, n, d=64):
    os.makedirs(path, exist_ok=True)
    np.save(os.path.join(path, "vectors.npy"), rng.standard_normal((n, d), dtype=np.float32))
    with open(os.path.join(path, "ids.tsv"), "w") as f:
        f.write("\n".join(str(i) for i in range(n)) + "\n")
    with open(os.path.join(path, "meta.json"), "w") as f:
        json.dump({"format_version": 1, "entity_type": "user", "dimension": d, "count": n,
                   "algorithm": "gaussian-random (benchmark input)", "parameters": {"seed": 0},
                   "created_at": "2024-01-01T00:00:00Z", "scores": {}}, f)


def rows(path, n, ids):
    t0 = 1704067200  # 2024-01-01
    r_ids = rng.integers(0, ids, n)
    r_ts = t0 + rng.integers(0, 180 * 86400, n)
    with open(path, "w") as f:
        f.write("user_id,event_timestamp\n")
        for a, b in zip(r_ids.tolist(), r_ts.tolist()):
            f.write(f"{a},{b}\n")


table(os.path.join(work, f"table{small}"), small)
table(os.path.join(work, f"table{big}"), big)
rows(os.path.join(work, "rows100k.csv"), 100_000, big)
rows(os.path.join(work, "rows1m.csv"), 1_000_000, big)
print("inputs in", work, file=sys.stderr)
