#!/usr/bin/env bash
# Issue 18, one machine: generate a follow graph (default the 10M-account / 200M-follow graph) into
# DIR and embed it with follow-graph-svd, from the edge list and (with --csr) from its
# memory-mapped binary CSR, each under /usr/bin/time -v; prints wall time, peak RSS, major faults
# and the run's own phase report.
#
#   Benchmarks/scale/run-10m.sh DIR [--nodes N] [--edges M] [--communities C] [--csr] [--csr-only]
#                                   [--memory-max BYTES] [-- FOLLOW-GRAPH-SVD OPTIONS...]
#
# Options after `--` go to every embedding run (e.g. `-- --method svd --dim 16`).
# --csr-only     skip the edge-list run (convert to the binary CSR and run from it).
# --memory-max   the out-of-core measurement: the CSR embedding runs twice, (a) without a limit and
#                (b) in a memory cgroup with that limit (cgroup v2 memory.max, or cgroup v1
#                memory.limit_in_bytes under /sys/fs/cgroup/memory; swap off for the child), each
#                after the CSR file's pages are dropped from the page cache (dd iflag=nocache), so
#                both start cold and (b) cannot find the matrix cached under another cgroup's
#                charge. Prints both runs' figures, the cgroup's peak, and compares their singular
#                values and vectors. The script stops with an error when no writable memory
#                cgroup hierarchy is found (a run without the limit would not measure anything).
# Environment: NICE="nice -n 19" prefixes every build and run; NO_BUILD=1 skips the release
# builds; BIN=DIR takes follow-graph-generate and follow-graph-svd from DIR. Run it on a quiet machine:
# figures taken while other jobs run are not the tool's.
set -euo pipefail
usage="usage: run-10m.sh DIR [--nodes N] [--edges M] [--communities C] [--csr] [--csr-only] [--memory-max BYTES] [-- FOLLOW-GRAPH-SVD OPTIONS...]"
DIR=${1:?$usage}
shift
NODES=10000000 EDGES=200000000 COMMUNITIES=500 CSR=0 EDGE_RUN=1 MEMMAX="" SVD_OPTIONS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES=$2; shift 2 ;;
    --edges) EDGES=$2; shift 2 ;;
    --communities) COMMUNITIES=$2; shift 2 ;;
    --csr) CSR=1; shift ;;
    --csr-only) CSR=1; EDGE_RUN=0; shift ;;
    --memory-max) MEMMAX=$2; CSR=1; shift 2 ;;
    --) shift; SVD_OPTIONS=("$@"); break ;;
    *) echo "run-10m.sh: unknown argument $1" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
if [ -n "$MEMMAX" ] && ! [[ "$MEMMAX" =~ ^[0-9]+$ ]]; then
  echo "run-10m.sh: --memory-max takes a byte count (got '$MEMMAX')" >&2; exit 2
fi
read -r -a NICE_CMD <<< "${NICE:-}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${NO_BUILD:-}" ]; then
  "${NICE_CMD[@]}" swift build -c release --package-path "$ROOT" --product follow-graph-generate >/dev/null
  "${NICE_CMD[@]}" swift build -c release --package-path "$ROOT" --product follow-graph-svd >/dev/null
fi
BIN=${BIN:-$(swift build -c release --package-path "$ROOT" --show-bin-path)}
mkdir -p "$DIR"

figures() {  # name, /usr/bin/time -v log (follow-graph-svd resets VmHWM per phase: its report's
             # peak_memory_bytes and "phases:" line are the peaks; time's maximum RSS is the last phase's)
  printf '%-30s wall %s  user %s s  system %s s  time -v max RSS %s kB  major faults %s  file system inputs %s x 512 B  exit %s\n' "$1" \
    "$(grep 'Elapsed (wall clock)' "$2" | awk '{print $NF}')" \
    "$(grep 'User time' "$2" | awk '{print $NF}')" "$(grep 'System time' "$2" | awk '{print $NF}')" \
    "$(grep 'Maximum resident set size' "$2" | awk '{print $NF}')" \
    "$(grep 'Major (requiring I/O) page faults' "$2" | awk '{print $NF}')" \
    "$(grep 'File system inputs' "$2" | awk '{print $NF}')" \
    "$(grep 'Exit status' "$2" | awk '{print $NF}')"
}

# The memory cgroup hierarchy: "v2 DIR", "v1 DIR", or nothing when neither is writable.
memory_cgroup_root() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers \
     && [ -w /sys/fs/cgroup ]; then
    echo "v2 /sys/fs/cgroup"
  elif [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] && [ -w /sys/fs/cgroup/memory ]; then
    echo "v1 /sys/fs/cgroup/memory"
  fi
}

# Runs "$@" (stdout to $OUT, stderr to $LOG) in a fresh memory cgroup limited to $MEMMAX bytes and
# prints the cgroup's peak; removes the cgroup afterwards.
run_limited() {
  local version root cg
  read -r version root <<< "$(memory_cgroup_root)"
  if [ -z "${version:-}" ]; then
    echo "run-10m.sh: no writable memory cgroup (neither cgroup v2 /sys/fs/cgroup with the memory controller nor v1 /sys/fs/cgroup/memory); cannot run under --memory-max" >&2
    return 3
  fi
  cg="$root/scale-run-10m-$$"
  mkdir "$cg"
  trap 'rmdir "'"$cg"'" 2>/dev/null || true' EXIT
  if [ "$version" = v2 ]; then
    echo "$MEMMAX" > "$cg/memory.max"
    echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
  else
    echo "$MEMMAX" > "$cg/memory.limit_in_bytes"
    # No swap for the child: memory + swap limited to the same bytes (when swap is accounted).
    echo "$MEMMAX" > "$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
    echo 0 > "$cg/memory.swappiness" 2>/dev/null || true
  fi
  local rc=0
  ( echo "$BASHPID" > "$cg/cgroup.procs"; exec "$@" ) > "$OUT" 2> "$LOG" || rc=$?
  if [ "$version" = v2 ]; then
    echo "cgroup v2 $cg: memory.max $MEMMAX, peak $(cat "$cg/memory.peak" 2>/dev/null || echo '? (no memory.peak)') bytes, events: $(tr '\n' ' ' < "$cg/memory.events")"
  else
    echo "cgroup v1 $cg: limit $(cat "$cg/memory.limit_in_bytes") bytes, peak (max_usage_in_bytes) $(cat "$cg/memory.max_usage_in_bytes") bytes, limit hits (failcnt) $(cat "$cg/memory.failcnt")"
  fi
  rmdir "$cg" 2>/dev/null || true
  trap - EXIT
  return $rc
}

# Drops a file's pages from the page cache (only that file's; clean pages), and prints how much
# of it is still resident.
drop_cached() {
  dd if="$1" iflag=nocache count=0 status=none
  if command -v fincore >/dev/null; then echo "page cache before the run: $(fincore -nb -o RES "$1" | awk '{print $1}') of $(stat -c %s "$1") bytes of $1 resident"; fi
}

if [ ! -s "$DIR/graph/edges.tsv" ]; then
  "${NICE_CMD[@]}" /usr/bin/time -v "$BIN/follow-graph-generate" --output "$DIR/graph" --nodes "$NODES" --edges "$EDGES" \
    --communities "$COMMUNITIES" 2> "$DIR/generate.log"
  figures generate "$DIR/generate.log"
fi

if [ "$EDGE_RUN" = 1 ]; then
  # The edge list, in memory (stderr is a file: the progress lines land in the log).
  "${NICE_CMD[@]}" /usr/bin/time -v "$BIN/follow-graph-svd" "$DIR/graph/edges.tsv" --output "$DIR/emb" \
    --report "$DIR/report.json" ${SVD_OPTIONS[@]+"${SVD_OPTIONS[@]}"} > "$DIR/svd.out" 2> "$DIR/svd.log"
  figures "svd (edge list)" "$DIR/svd.log"
  grep -E 'memory budget|phases:|peak memory' "$DIR/svd.log" "$DIR/svd.out" || true
fi

if [ "$CSR" = 1 ]; then
  if [ ! -s "$DIR/graph.csr" ]; then
    "${NICE_CMD[@]}" /usr/bin/time -v "$BIN/follow-graph-svd" "$DIR/graph/edges.tsv" --write-csr "$DIR/graph.csr" 2> "$DIR/write-csr.log"
    figures "write-csr" "$DIR/write-csr.log"
  fi
  echo "binary CSR: $(stat -c %s "$DIR/graph.csr") bytes"
  run_csr() {  # name [limited]
    local name=$1
    rm -rf "$DIR/emb-$name"
    RUN=("${NICE_CMD[@]}" /usr/bin/time -v "$BIN/follow-graph-svd" "$DIR/graph.csr" --output "$DIR/emb-$name"
         --report "$DIR/report-$name.json" ${SVD_OPTIONS[@]+"${SVD_OPTIONS[@]}"})
    OUT="$DIR/svd-$name.out" LOG="$DIR/svd-$name.log"
    drop_cached "$DIR/graph.csr"
    if [ "${2:-}" = limited ]; then run_limited "${RUN[@]}" || echo "run-10m.sh: the limited run failed (exit $?)" >&2
    else "${RUN[@]}" > "$OUT" 2> "$LOG"; fi
    figures "svd (binary CSR, $name)" "$LOG"
    grep -E 'phases:|peak memory|resident now' "$LOG" "$OUT" || true
  }
  run_csr csr
  if [ -n "$MEMMAX" ]; then
    run_csr csr-limited limited
    # Same input, seed and threads: the limit may change the time, never the result.
    python3 - "$DIR/report-csr.json" "$DIR/report-csr-limited.json" <<'EOF'
import json, sys
a, b = (json.load(open(p))["singular_values"] for p in sys.argv[1:3])
worst = max(abs(x - y) / abs(x) for x, y in zip(a, b)) if a and len(a) == len(b) else float("nan")
print(f"singular values: {len(a)} vs {len(b)}, s1 {a[0]:.6f} vs {b[0]:.6f}, max relative difference {worst:.3g}")
EOF
    for table in consumers producers nodes; do
      if [ -f "$DIR/emb-csr/$table/vectors.npy" ]; then
        if cmp -s "$DIR/emb-csr/$table/vectors.npy" "$DIR/emb-csr-limited/$table/vectors.npy"; then
          echo "$table/vectors.npy: identical bytes"
        else
          echo "$table/vectors.npy: differ"
        fi
      fi
    done
  fi
fi
