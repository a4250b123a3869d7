#!/usr/bin/env python3
"""Custom pipeline step: one line per window pair of a drift.json (stdlib only).

usage: drift_summary.py DRIFT_JSON OUT_TSV
"""
import json
import sys

reports = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as out:
    out.write("from\tto\tshared\tstability\toverlap_at_10\tp90_displacement\ttop_mover\n")
    for r in reports:
        mover = r["top_movers"][0]["id"] if r["top_movers"] else ""
        out.write(f"{r['from']}\t{r['to']}\t{r['shared_accounts']}\t{r['stability']:.4f}\t"
                  f"{r['neighbor_overlap']:.4f}\t{r['p90_displacement']:.4f}\t{mover}\n")
print(f"{len(reports)} window pairs")
