# Power-law-ish directed graph: 1M nodes, 20M edges, TSV, string-ish integer ids.
import numpy as np, sys
n, m = 1_000_000, 20_000_000
rng = np.random.default_rng(1)
perm = rng.permutation(n)
def powerlaw(k):
    # Zipf-like ranks via inverse CDF of a Pareto on [1, n]
    u = rng.random(k)
    a = 0.8
    r = ((n ** (1 - a) - 1) * u + 1) ** (1 / (1 - a))
    return perm[np.minimum(r.astype(np.int64) - 1, n - 1)]
with open(sys.argv[1], "w") as f:
    f.write("# generated power-law graph: 1M nodes, 20M edges\n")
    step = 1_000_000
    for start in range(0, m, step):
        s = powerlaw(step); t = rng.integers(0, n, step)
        t = np.where(rng.random(step) < 0.5, t, powerlaw(step))
        f.write("\n".join(f"{a}\t{b}" for a, b in zip(s.tolist(), t.tolist())))
        f.write("\n")
