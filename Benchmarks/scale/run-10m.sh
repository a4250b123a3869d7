#!/usr/bin/env bash
# Issue 18, one machine: generate the 10M-account / 200M-follow graph into DIR and embed it with
# follow-graph-svd, from the edge list and (with --csr) from its memory-mapped binary CSR, each
# under /usr/bin/time -v; prints wall time, peak RSS and the run's own phase report.
#
#   Benchmarks/scale/run-10m.sh DIR [--nodes N] [--edges M] [--csr] [--memory-max BYTES]
#
# --memory-max runs the CSR embedding in a cgroup v2 child with that memory.max (needs a writable
# /sys/fs/cgroup; the script says so when it is not). Run it on a quiet machine: figures taken
# while other jobs run are not the tool's.
set -euo pipefail
DIR=${1:?usage: run-10m.sh DIR [--nodes N] [--edges M] [--csr] [--memory-max BYTES]}
shift
NODES=10000000 EDGES=200000000 CSR=0 MEMMAX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES=$2; shift 2 ;;
    --edges) EDGES=$2; shift 2 ;;
    --csr) CSR=1; shift ;;
    --memory-max) MEMMAX=$2; CSR=1; shift 2 ;;
    *) echo "run-10m.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
swift build -c release --package-path "$ROOT" --product follow-graph-generate >/dev/null
swift build -c release --package-path "$ROOT" --product follow-graph-svd >/dev/null
BIN=$(swift build -c release --package-path "$ROOT" --show-bin-path)
mkdir -p "$DIR"

figures() {  # name, /usr/bin/time -v log (follow-graph-svd resets VmHWM per phase: its report's
             # peak_memory_bytes and "phases:" line are the peaks; time's maximum RSS is the last phase's)
  printf '%-24s wall %s  time -v max RSS %s kB\n' "$1" \
    "$(grep 'Elapsed (wall clock)' "$2" | awk '{print $NF}')" \
    "$(grep 'Maximum resident set size' "$2" | awk '{print $NF}')"
}

if [ ! -s "$DIR/graph/edges.tsv" ]; then
  /usr/bin/time -v "$BIN/follow-graph-generate" --output "$DIR/graph" --nodes "$NODES" --edges "$EDGES" \
    --communities 500 2> "$DIR/generate.log"
  figures generate "$DIR/generate.log"
fi

# The edge list, in memory (stderr is a file: the progress lines land in the log).
/usr/bin/time -v "$BIN/follow-graph-svd" "$DIR/graph/edges.tsv" --output "$DIR/emb" \
  --report "$DIR/report.json" > "$DIR/svd.out" 2> "$DIR/svd.log"
figures "svd (edge list)" "$DIR/svd.log"
grep -E 'memory budget|phases:|peak memory' "$DIR/svd.log" "$DIR/svd.out" || true

if [ "$CSR" = 1 ]; then
  /usr/bin/time -v "$BIN/follow-graph-svd" "$DIR/graph/edges.tsv" --write-csr "$DIR/graph.csr" 2> "$DIR/write-csr.log"
  figures "write-csr" "$DIR/write-csr.log"
  RUN=("$BIN/follow-graph-svd" "$DIR/graph.csr" --output "$DIR/emb-csr" --report "$DIR/report-csr.json")
  if [ -n "$MEMMAX" ]; then
    CG=/sys/fs/cgroup/scale-run-10m-$$
    if mkdir "$CG" 2>/dev/null && echo "$MEMMAX" > "$CG/memory.max" 2>/dev/null; then
      echo 0 > "$CG/memory.swap.max" 2>/dev/null || true
      ( echo $BASHPID > "$CG/cgroup.procs"; exec /usr/bin/time -v "${RUN[@]}" ) > "$DIR/svd-csr.out" 2> "$DIR/svd-csr.log"
      echo "cgroup memory.max $MEMMAX: peak $(cat "$CG/memory.peak" 2>/dev/null || echo '?') bytes"
      rmdir "$CG" 2>/dev/null || true
    else
      echo "run-10m.sh: /sys/fs/cgroup is not writable here; running the CSR embedding without a memory limit" >&2
      rmdir "$CG" 2>/dev/null || true
      /usr/bin/time -v "${RUN[@]}" > "$DIR/svd-csr.out" 2> "$DIR/svd-csr.log"
    fi
  else
    /usr/bin/time -v "${RUN[@]}" > "$DIR/svd-csr.out" 2> "$DIR/svd-csr.log"
  fi
  figures "svd (binary CSR, mmap)" "$DIR/svd-csr.log"
  grep -E 'memory budget|phases:|peak memory|resident now' "$DIR/svd-csr.log" "$DIR/svd-csr.out" || true
fi
