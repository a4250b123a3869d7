"""Summarises Benchmarks/words/scale.sh's output directory: per run the tokens, vocabulary, wall and
user CPU seconds and peak resident memory (GNU time -v), and each 10x run's ratios to its 1x run."""
import json, os, re, sys

out = sys.argv[1]


def time_v(path):
    text = open(path).read()
    def field(label):
        m = re.search(re.escape(label) + r"[^:]*:\s*([0-9:.]+)", text)
        return m.group(1) if m else None
    wall = field("Elapsed (wall clock) time")
    parts = [float(p) for p in wall.split(":")] if wall else [0]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return {"wall": seconds, "user": float(field("User time") or 0), "system": float(field("System time") or 0),
            "rss_mib": int(field("Maximum resident set size") or 0) / 1024}


rows = {}
for name in ["ppmi-1x", "ppmi-10x-mc50", "ppmi-10x", "sgns-1x", "sgns-10x-mc50", "sgns-10x"]:
    rp, tp = os.path.join(out, name + ".report.json"), os.path.join(out, name + ".time")
    if os.path.exists(rp) and os.path.exists(tp):
        r = json.load(open(rp))
        rows[name] = dict(time_v(tp), tokens=r["tokens"], vocabulary=r["vocabulary"], phases=r.get("seconds", {}))

print("| run | tokens | vocabulary | wall s | CPU s (user+sys) | peak RSS MiB | 10x / 1x: tokens, wall, CPU, RSS |")
print("|---|---|---|---|---|---|---|")
for name, r in rows.items():
    base = rows.get(name.split("-")[0] + "-1x")
    ratio = ""
    if base and name != name.split("-")[0] + "-1x":
        ratio = "%.1f, %.1f, %.1f, %.1f" % (r["tokens"] / base["tokens"], r["wall"] / base["wall"],
                                           (r["user"] + r["system"]) / (base["user"] + base["system"]), r["rss_mib"] / base["rss_mib"])
    print(f"| {name} | {r['tokens']:,} | {r['vocabulary']:,} | {r['wall']:.1f} | {r['user'] + r['system']:.1f} | {r['rss_mib']:.0f} | {ratio} |")
print()
for name, r in rows.items():
    print(f"- {name} phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["phases"].items())))
