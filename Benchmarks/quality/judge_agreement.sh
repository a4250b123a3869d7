#!/usr/bin/env bash
# `embedding-benchmark prediction|jaccard --protocol judge --seed S` against the judge's
# `peer_eval.py --seed S` on the same tables (issue 16: agreement within 0.003), for the rows of
# Benchmarks/quality/run.sh, at each seed of SEEDS (default "0"). Run run.sh first: it makes the
# tables (RESULTS_DIR/G-spectral/) and their judge-order copies (RESULTS_DIR/G-TASK.npy).
#
#   SEEDS="0 1 2 3" ONLY=twitter-follow-hershey:labels Benchmarks/quality/judge_agreement.sh [DATA_DIR] [RESULTS_DIR]
#
# BIN=DIR takes the embedding-benchmark binary from DIR (default .build/release). Prints one row
# per graph, task and seed: ours, the judge's, ours - judge's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$root/../shared/data}"
out="${2:-$root/Benchmarks/.results/quality}"
judge="$(cd "$data/../judge" && pwd)"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 EMBEDDINGS_THREADS=2 PEER_THREADS=2
PY="${JUDGE_PY:-${JUDGE_VENV:-$HOME/.cache/judge-venv}/bin/python}"
bin="${BIN:-$root/.build/release}"
field() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print('%.5f' % eval(sys.argv[2], {}, {'r': r}))" "$@"; }

echo "| graph | task | seed | embedding-benchmark --protocol judge | judge | difference |"
echo "|---|---|---|---|---|---|"
while read -r ds file mode task; do
    [ -z "${ONLY:-}" ] || [ "$ONLY" = "$ds:$task" ] || continue
    edges="$data/$ds/$file"; npy="$out/$ds-$task.npy"
    [ -f "$npy" ] || { echo "| $ds | $task | | missing $npy: run run.sh first | | |"; continue; }
    flag=(); [ "$mode" = undirected ] && flag=(--undirected)
    for seed in ${SEEDS:-0}; do
        eb="$out/$ds-$task-eb-seed$seed.json"; jd="$out/$ds-$task-judge-seed$seed.json"
        if [ "$task" = labels ]; then
            "$bin/embedding-benchmark" prediction --embeddings "$out/$ds-spectral/nodes" --labels "$data/$ds/labels.tsv" \
                --protocol judge --seed "$seed" --json "$eb" >/dev/null
            [ -s "$jd" ] || "$PY" "$judge/peer_eval.py" "$edges" "$data/$ds/labels.tsv" --skip-jaccard "${flag[@]}" \
                --emb "$npy" --seed "$seed" > "$jd"
            ours=$(field "$eb" "r['macro_auc']"); theirs=$(field "$jd" "r['classification']['roc_auc_macro_mean']")
        else
            "$bin/embedding-benchmark" jaccard --embeddings "$out/$ds-spectral/consumers" --edges "$edges" \
                --protocol judge --seed "$seed" --json "$eb" >/dev/null
            [ -s "$jd" ] || "$PY" "$judge/peer_eval.py" "$edges" /dev/null --skip-clf --emb "$npy" --seed "$seed" > "$jd"
            ours=$(field "$eb" "r['spearman']"); theirs=$(field "$jd" "r['follow_jaccard']['spearman_rho_all']")
        fi
        echo "| $ds | $task | $seed | $ours | $theirs | $("$PY" -c "print('%+.5f' % ($ours - $theirs))") |"
    done
done < "$here/rows.txt"   # graph, edge file, mode, task: the quality table's rows
