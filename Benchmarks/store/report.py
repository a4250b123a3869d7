"""Turns store_vs_feast.sh's outputs in WORK into a markdown table (stdout)."""
import json, os, re, sys

w = sys.argv[1]
J = lambda n: json.load(open(os.path.join(w, n)))
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(name):
    text = open(os.path.join(w, name)).read()
    ms = lambda t: float(re.fullmatch(r"([0-9.]+)(us|ms|s)", t).group(1)) * _UNIT[re.fullmatch(r"([0-9.]+)(us|ms|s)", t).group(2)]
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1)), "p50": ms(dist["50"]), "p99": ms(dist["99"]),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


ours16, ours1 = wrk("ours_wrk_c16.txt"), wrk("ours_wrk_c1.txt")
inproc, batch = J("ours_inprocess.json"), J("ours_http_batch.json")
pub1m, j100k, j1m = J("ours_publish1m.json"), J("ours_join100k.json"), J("ours_join1m.json")
pub200k = float(open(os.path.join(w, "publish200k.time")).read().split()[-1])
feast = J("feast.json")
run = [r for r in feast["http"]["runs"] if str(r.get("max_requests")) == "0"][0]
f16 = run["wrk"][0]                                    # -t2 -c16 (peer_feast.py's first spec)
f1 = run["wrk"][1] if len(run["wrk"]) > 1 else None   # -t1 -c1
fin = feast["in_process"]
rows = [
    ("HTTP one id, wrk -t2 -c16 -d20s: requests/s", ours16["rps"], f16["requests_per_s"], "x", "higher"),
    ("HTTP one id, 16 connections: p50 ms", ours16["p50"], f16["p50_ms"], "ms", "lower"),
    ("HTTP one id, 16 connections: p99 ms", ours16["p99"], f16["p99_ms"], "ms", "lower"),
    ("HTTP one id, wrk -t1 -c1 -d10s: p99 ms", ours1["p99"], f1["p99_ms"] if f1 else float("nan"), "ms", "lower"),
    ("HTTP 1000 ids (POST batch): p50 ms", batch["p50_ms"], float("nan"), "ms", "lower"),
    ("in process, one id: p99 ms", inproc["single_us"]["p99"] / 1000, fin["single_call_ms"]["p99"], "ms", "lower"),
    ("in process, 1000 ids: p50 ms", inproc["batch1000_ms"]["p50"], fin["batch"]["call_ms"]["p50"], "ms", "lower"),
    ("load 200k x 64 (publish vs feast materialize): s", pub200k, feast["cli"]["materialize_s"], "s", "lower"),
]
print("| measure | embedding-store | Feast %s | Feast / ours |" % feast.get("versions", {}).get("feast", "0.67"))
print("|---|---:|---:|---:|")
for label, a, b, unit, better in rows:
    ratio = (b / a if better == "lower" else a / b) if b == b and a > 0 else float("nan")
    fmt = lambda v: "-" if v != v else (f"{v:,.0f}" if v >= 100 else f"{v:.3g}")
    print(f"| {label} | {fmt(a)} | {fmt(b)} | {'-' if ratio != ratio else f'{ratio:.1f}x'} |")
print()
print(f"- in-process single-id lookup: p50 {inproc['single_us']['p50']:.2f} us, p99 {inproc['single_us']['p99']:.2f} us over {inproc['samples']:,} random ids")
print(f"- non-2xx responses under wrk: ours {ours16['non2xx']} (16 conns), {ours1['non2xx']} (1 conn)")
print(f"- publish 1M x 64 (copy + SHA-256 of 256 MB + register): {pub1m['seconds']:.2f} s, max RSS {pub1m['max_rss_mib']:.0f} MiB")
print(f"- point-in-time join: 100k rows {j100k['seconds']:.2f} s (max RSS {j100k['max_rss_mib']:.0f} MiB); "
      f"1M rows {j1m['seconds']:.2f} s (max RSS {j1m['max_rss_mib']:.0f} MiB)")
