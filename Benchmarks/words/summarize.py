"""Summarises Benchmarks/words/run.sh's output directory as a Markdown table (medians over runs,
min-max in brackets) and checks that embedding-benchmark words agrees with the judge on our tables."""
import glob, json, os, statistics, sys

out = sys.argv[1]
SETS = ["ws353", "simlex999", "men3k", "rw"]


def judge_scores(e):
    s = {k: e["similarity"][k]["spearman"] for k in SETS}
    s["add"] = e["analogies"]["3CosAdd"]["overall"]["accuracy"]
    s["mul"] = e["analogies"]["3CosMul"]["overall"]["accuracy"]
    return s


def load(pattern):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, pattern)))]


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    m = statistics.median(xs)
    return f"{m:.3f}" if len(xs) == 1 else f"{m:.3f} [{min(xs):.3f}-{max(xs):.3f}]"


rows = []
g = load("gensim-*.json")
if g:
    rows.append(("gensim 4.4 SGNS, 2 workers (peer_words.py --method gensim)", len(g),
                 [r["timings"]["train"]["wall_s"] for r in g],
                 [r["speed"]["effective_words_per_s_gensim_log"] for r in g],
                 [judge_scores(r["eval"]) for r in g], [r["timings"]["train"].get("foreign_frac") for r in g]))
sg = [(json.load(open(p)), json.load(open(p.replace(".report.json", ".judge.json"))))
      for p in sorted(glob.glob(os.path.join(out, "sgns-seed*.report.json")))]
if sg:
    rows.append(("word-embed --method sgns --tokenizer letters --threads 2 (seeds " +
                 ",".join(os.path.basename(p).split("seed")[1].split(".")[0] for p in sorted(glob.glob(os.path.join(out, "sgns-seed*.report.json")))) + ")",
                 len(sg), [r["seconds"]["train"] for r, _ in sg], [r["words_per_second"] for r, _ in sg],
                 [judge_scores(j["eval"]) for _, j in sg], [None]))
p = load("pyppmi-*.json")
if p:
    rows.append(("scipy + scikit-learn PPMI-SVD (peer_words.py --method ppmi-svd)", len(p),
                 [r["speed"]["train_wall_s_cooc_ppmi_svd"] for r in p], [None],
                 [judge_scores(r["eval"]) for r in p],
                 [max(r["timings"][k].get("foreign_frac") or 0 for k in ("cooccurrence", "ppmi", "svd")) for r in p]))
pp = [(json.load(open(q)), json.load(open(q.replace(".report.json", ".judge.json"))))
      for q in sorted(glob.glob(os.path.join(out, "ppmi-*.report.json")))]
if pp:
    rows.append(("word-embed --tokenizer letters --threads 2 (default method ppmi-svd)", len(pp),
                 [r["seconds"]["train"] for r, _ in pp], [None], [judge_scores(j["eval"]) for _, j in pp], [None]))

print("| method | runs | train seconds | effective words/s | WS-353 | SimLex | MEN | RW | 3CosAdd | 3CosMul | foreign CPU share |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for name, n, secs, speed, scores, foreign in rows:
    cells = [med([s[k] for s in scores]) for k in SETS + ["add", "mul"]]
    print(f"| {name} | {n} | {med(secs)} | {med(speed)} | " + " | ".join(cells) + f" | {med(foreign)} |")

# Cross-check: embedding-benchmark words against the judge on every table of ours.
worst = 0.0
benches = sorted(glob.glob(os.path.join(out, "*.bench.json")))
for b in benches:
    ours = json.load(open(b))
    j = judge_scores(json.load(open(b.replace(".bench.json", ".judge.json")))["eval"])
    for k in SETS:
        if ours.get(k) is not None and j[k] is not None:
            worst = max(worst, abs(ours[k] - j[k]))
    worst = max(worst, abs(ours["analogy_3cosadd"] - j["add"]), abs(ours["analogy_3cosmul"] - j["mul"]))
print(f"\nembedding-benchmark words vs the judge on our tables: largest difference {worst:.2e}" if benches
      else "\nembedding-benchmark words was not run (JUDGE_ONLY=1): no cross-check")

# CPU seconds and peak memory of every word-embed run (/usr/bin/time -v), the figures to read
# when the machine is shared (wall time then says little).
timed = sorted(glob.glob(os.path.join(out, "*.time")))
if timed:
    print("\nword-embed runs, /usr/bin/time -v (whole run: read, train, write):")
    for t in timed:
        f = {}
        for line in open(t):
            k, _, v = line.strip().rpartition(": ")
            f[k] = v
        cpu = float(f.get("User time (seconds)", "nan")) + float(f.get("System time (seconds)", "nan"))
        rss = int(f.get("Maximum resident set size (kbytes)", "0")) / 1024
        print(f"- {os.path.basename(t)[:-5]}: CPU {cpu:.1f} s (user+sys), wall {f.get('Elapsed (wall clock) time (h:mm:ss or m:ss)', '?')}, peak RSS {rss:.0f} MiB")
