#!/usr/bin/env bash
# Does word-embed run in linear time and memory? ../shared/data/text/corpus.txt (1x) against the
# same file repeated ten times (10x, written to a temporary directory, deleted at the end), both
# methods, each run under /usr/bin/time -v (wall, user CPU, peak resident memory).
#
#   Benchmarks/words/scale.sh [OUT_DIR]      (default Benchmarks/words/out-scale, ignored by git)
#
# Runs: ppmi-svd at 1x (min count 5) and 10x at min count 50 (every word of the 1x vocabulary and
# no other: the same rows, ten times the tokens) and at min count 5 (the vocabulary grows to
# every distinct token: 89,554 words); sgns the same way with EPOCHS passes (default 1: the work
# per pass is what scales). Environment: THREADS (default 2), EPOCHS (default 1), TMPDIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="$root/../shared/data/text/corpus.txt"
[ -f "$corpus" ] || { echo "SKIP: $corpus is absent"; exit 0; }
here="$root/Benchmarks/words" out="${1:-$root/Benchmarks/words/out-scale}" threads="${THREADS:-2}" epochs="${EPOCHS:-1}"
[ -x /usr/bin/time ] || { echo "scale.sh needs GNU time (/usr/bin/time, Debian package time)"; exit 1; }
mkdir -p "$out"
(cd "$root" && swift build -c release --product word-embed >/dev/null)
W="$root/.build/release/word-embed"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$corpus"; done > "$tmp/corpus10x.txt"

run() {   # run NAME FILE ARGS...
    local name="$1" file="$2"; shift 2
    /usr/bin/time -v "$W" "$file" --tokenizer letters --threads "$threads" --output "$tmp/$name" \
        --report "$out/$name.report.json" --quiet "$@" 2> "$out/$name.time"
    rm -rf "${tmp:?}/$name"
    echo "$(date -u +%T) $name done (load $(cut -d' ' -f1 /proc/loadavg))"
}
run ppmi-1x "$corpus" --method ppmi-svd
run ppmi-10x-mc50 "$tmp/corpus10x.txt" --method ppmi-svd --min-count 50
run ppmi-10x "$tmp/corpus10x.txt" --method ppmi-svd
run sgns-1x "$corpus" --method sgns --epochs "$epochs" --seed 1
run sgns-10x-mc50 "$tmp/corpus10x.txt" --method sgns --epochs "$epochs" --seed 1 --min-count 50
run sgns-10x "$tmp/corpus10x.txt" --method sgns --epochs "$epochs" --seed 1
python3 "$here/scale_summary.py" "$out" | tee "$out/summary.md"
