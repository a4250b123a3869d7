#!/usr/bin/env bash
# Word embeddings side by side on ../shared/data/text/corpus.txt: gensim SGNS and the scipy /
# scikit-learn PPMI-SVD (the judge's ../shared/judge/peer_words.py) against word-embed (sgns and
# ppmi-svd), with the same tokens (word-embed --tokenizer letters = the judge's lower-case [a-z]+
# runs in 10,000-token sentences), the same threads, and one evaluation for all: the judge's
# (peer_words.py --method table scores our tables), cross-checked by embedding-benchmark words.
#
#   Benchmarks/words/run.sh [OUT_DIR]        (default Benchmarks/words/out, ignored by git)
#
# Environment: THREADS (default 2), SEEDS (default "1 2 3": three word-embed seeds; gensim's seed is
# fixed at 1 by the judge and its 2 workers are not reproducible, so its three runs give its spread),
# QUIET_WAIT (seconds the judge waits for a quiet machine before each peer run, default 60),
# SGNS_ARGS (extra word-embed flags for the SGNS runs, e.g. "--init-width 1"; default none),
# SKIP_PEERS=1 (word-embed only: no gensim / Python PPMI-SVD runs; compare with the README's
# figures), SKIP_PPMI=1 (no PPMI-SVD runs on either side), NO_BUILD=1 (use the binaries in
# .build/release as they are), JUDGE_ONLY=1 (score our tables with the judge alone, without
# embedding-benchmark words), PY (the judge's python; default: ../shared/judge/setup.sh's),
# CONTEXT=1 (the SGNS runs also write their context vectors, NAME.context, and output_vectors.py
# scores w, w + c and w/|w| + c/|c| of each run with the judge: output_vectors.md).
# Every word-embed run is timed by /usr/bin/time -v (NAME.time: CPU seconds, peak memory).
# Scale (1x against 10x corpus, time and memory): Benchmarks/words/scale.sh.
# Runs are paired: gensim run i, then word-embed sgns seed i; Python PPMI-SVD run i, then
# word-embed ppmi-svd run i. The machine may be shared: the judge records foreign CPU per phase and
# the summary prints the load average beside each run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="$root/../shared"
out="${1:-$here/out}"
threads="${THREADS:-2}"
seeds="${SEEDS:-1 2 3}"
wait="${QUIET_WAIT:-60}"
read -r -a sgns_args <<< "${SGNS_ARGS:-}"
corpus="$shared/data/text/corpus.txt"
data="$shared/data/text/word-similarity"
[ -f "$corpus" ] || { echo "SKIP: $corpus is absent"; exit 0; }
PY="${PY:-$("$shared/judge/setup.sh")/bin/python}"
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" EMBEDDINGS_THREADS="$threads" PEER_THREADS="$threads"
mkdir -p "$out"
if [ "${NO_BUILD:-0}" != 1 ]; then
    (cd "$root" && swift build -c release --product word-embed >/dev/null)
    [ "${JUDGE_ONLY:-0}" = 1 ] || (cd "$root" && swift build -c release --product embedding-benchmark >/dev/null)
fi
B="$root/.build/release"

ours() {   # ours NAME ARGS...: embed, score with the judge and with embedding-benchmark words
    local name="$1"; shift
    /usr/bin/time -v -o "$out/$name.time" "$B/word-embed" "$corpus" --tokenizer letters --threads "$threads" --output "$out/$name" --report "$out/$name.report.json" --quiet "$@"
    "$PY" "$shared/judge/peer_words.py" --method table --table "$out/$name" --quiet-wait 0 --out "$out/$name.judge.json" >/dev/null 2>&1
    [ "${JUDGE_ONLY:-0}" = 1 ] || "$B/embedding-benchmark" words --embeddings "$out/$name" --data "$data" --json "$out/$name.bench.json" --threads "$threads" >/dev/null
    echo "$(date -u +%T) $name done (load $(cut -d' ' -f1 /proc/loadavg))"
}

i=0
for seed in $seeds; do
    i=$((i + 1))
    [ "${SKIP_PEERS:-0}" = 1 ] || { "$PY" "$shared/judge/peer_words.py" --method gensim --workers "$threads" --quiet-wait "$wait" --out "$out/gensim-$i.json" >/dev/null 2>"$out/gensim-$i.log"
    echo "$(date -u +%T) gensim-$i done (load $(cut -d' ' -f1 /proc/loadavg))"; }
    context=()
    [ "${CONTEXT:-0}" = 1 ] && context=(--context-output "$out/sgns-seed$seed.context")
    ours "sgns-seed$seed" --method sgns --seed "$seed" ${sgns_args[@]+"${sgns_args[@]}"} ${context[@]+"${context[@]}"}
done
for i in $([ "${SKIP_PPMI:-0}" = 1 ] || echo 1 2 3); do
    [ "${SKIP_PEERS:-0}" = 1 ] || { "$PY" "$shared/judge/peer_words.py" --method ppmi-svd --quiet-wait "$wait" --out "$out/pyppmi-$i.json" >/dev/null 2>"$out/pyppmi-$i.log"
    echo "$(date -u +%T) pyppmi-$i done (load $(cut -d' ' -f1 /proc/loadavg))"; }
    ours "ppmi-$i" --method ppmi-svd
done
"$PY" "$here/summarize.py" "$out" | tee "$out/summary.md"
[ "${CONTEXT:-0}" != 1 ] || "$PY" "$here/output_vectors.py" "$out" | tee "$out/output_vectors.md"
