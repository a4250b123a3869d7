#!/usr/bin/env bash
# The README's quality table: our follow-graph-svd at its default settings against scikit-learn's
# randomized_svd embedding (U sqrt(S) of the raw adjacency, same dimension 64, same seed), both
# scored by the same `embedding-benchmark` (5-fold logistic regression ROC-AUC; follow-Jaccard
# Spearman on 20,000 pairs). Every side gets 2 threads.
#
#   Benchmarks/quality/run.sh [DATA_DIR (default ../shared/data)] [RESULTS_DIR (default Benchmarks/.results/quality)]
#
# Makes a virtual environment Benchmarks/.venv-bench (numpy, scipy, scikit-learn) on first use.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$root/../shared/data}"
out="${2:-$root/Benchmarks/.results/quality}"
mkdir -p "$out"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 EMBEDDINGS_THREADS=2

venv="$root/Benchmarks/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet numpy scipy scikit-learn threadpoolctl
fi
(cd "$root" && swift build -c release --product follow-graph-svd >&2 && swift build -c release --product embedding-benchmark >&2)
bin="$root/.build/release"

score() { # kind table dataset-file -> "macro micro" or "rho"
    local kind=$1 table=$2 file=$3 json="$out/tmp.json"
    if [ "$kind" = prediction ]; then
        "$bin/embedding-benchmark" prediction --embeddings "$table" --labels "$file" --json "$json" >/dev/null
        python3 -c "import json; r=json.load(open('$json')); print('%.4f %.4f' % (r['macro_auc'], r['micro_auc']))"
    else
        "$bin/embedding-benchmark" jaccard --embeddings "$table" --edges "$file" --json "$json" >/dev/null
        python3 -c "import json; r=json.load(open('$json')); print('%.4f' % r['spearman'])"
    fi
}

echo "| dataset | task | metric | scikit-learn randomized_svd | ours (defaults) | difference |"
echo "|---|---|---|---|---|---|"
row() { # dataset edges-file directed? task
    local ds=$1 edges=$2 directed=$3 task=$4 flag="" table
    [ "$directed" = yes ] || flag="--undirected"
    [ -f "$data/$ds/$edges" ] || { echo "| $ds | skipped: $data/$ds/$edges is absent | | | | |"; return; }
    if [ ! -f "$out/$ds-sk/meta.json" ]; then
        "$venv/bin/python" "$here/sklearn_baseline.py" "$data/$ds/$edges" --output "$out/$ds-sk" $flag >&2
    fi
    if [ ! -f "$out/$ds-ours/nodes/meta.json" ]; then
        "$bin/follow-graph-svd" "$data/$ds/$edges" --output "$out/$ds-ours" $flag >&2
    fi
    table="$out/$ds-ours/nodes"
    if [ "$task" = jaccard ]; then
        local a b; a=$(score jaccard "$out/$ds-sk" "$data/$ds/$edges"); b=$(score jaccard "$table" "$data/$ds/$edges")
        echo "| $ds | follow-Jaccard | Spearman rho | $a | $b | $(python3 -c "print('%+.4f' % ($b - $a))") |"
    else
        local a b; a=($(score prediction "$out/$ds-sk" "$data/$ds/labels.tsv")); b=($(score prediction "$table" "$data/$ds/labels.tsv"))
        echo "| $ds | $task | macro ROC-AUC | ${a[0]} | ${b[0]} | $(python3 -c "print('%+.4f' % (${b[0]} - ${a[0]}))") |"
        echo "| $ds | $task | micro ROC-AUC | ${a[1]} | ${b[1]} | $(python3 -c "print('%+.4f' % (${b[1]} - ${a[1]}))") |"
    fi
}
row blogcatalog edges.tsv no topic
row musae-facebook edges.tsv no topic
row deezer-europe edges.tsv no metadata
row twitter-follow-bofa edges.tsv yes metadata
row twitter-follow-verizon edges.tsv yes metadata
row twitter-follow-hershey edges.tsv yes metadata
row twitter-follow-bofa edges.tsv yes jaccard
row slashdot edges.txt yes jaccard
rm -f "$out/tmp.json"
