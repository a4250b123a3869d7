#!/usr/bin/env bash
# Checks two rules of the code's shape (issue 10) in seconds, without building:
# 1. Layering (DESIGN.md): a module imports modules of its own layer or below, never one above it.
#    Layers: 1 C bindings, 2 LinearAlgebra, 3 Solvers and Distributed, 4 domain modules, 5 the
#    umbrella, the server, pipelines, ToolSupport and the tools (lower-case targets), 6 Benchmarks
#    (may import anything; not checked). A module missing from the table below fails the check,
#    so a new module must be placed in a layer.
# 2. Thin tools: every tool's entry file (main.swift, or the file with @main) is under 150 lines.
# Usage: scripts/check-shape.sh [-v]   (-v prints every project import it checked)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
declare -A layer=(
    [CLinearAlgebra]=1 [CSparseKernels]=1 [CZlib]=1 [CNeighbors]=1 [CMPI]=1
    [LinearAlgebra]=2
    [Solvers]=3 [Distributed]=3
    [GraphData]=4 [EmbeddingStore]=4 [Evaluation]=4 [FollowGraph]=4 [Compression]=4 [Neighbors]=4
    [CandidateGeneration]=4 [FeatureStore]=4 [WordEmbeddings]=4 [Temporal]=4 [DistributedJobs]=4
    [Embeddings]=5 [EmbeddingServer]=5 [Pipelines]=5 [ToolSupport]=5
)
verbose=${1:-}
status=0 checked=0
for dir in Sources/*/; do
    module=$(basename "$dir")
    if [[ $module =~ ^[a-z] ]]; then own=5     # executables (tools) are lower-case
    elif [[ -n ${layer[$module]:-} ]]; then own=${layer[$module]}
    else echo "check-shape: $dir is in no layer (add it to scripts/check-shape.sh)" >&2; status=1; continue
    fi
    while IFS=: read -r file line text; do
        imported=$(sed -E 's/^(@[A-Za-z_]+ +)*import +(struct |class |enum |protocol |func |var |typealias )?([A-Za-z_0-9]+).*/\3/' <<<"$text")
        [[ -n ${layer[$imported]:-} ]] || continue          # Foundation, GRDB, ...: not ours
        checked=$((checked + 1))
        [[ $verbose == -v ]] && echo "$module ($own) imports $imported (${layer[$imported]})"
        if (( ${layer[$imported]} > own )); then
            echo "check-shape: $file:$line: $module (layer $own) imports $imported (layer ${layer[$imported]})" >&2
            status=1
        fi
    done < <(grep -rnE '^(@[A-Za-z_]+ +)*import ' "$dir" --include='*.swift' || true)
done
(( status == 0 )) && echo "check-shape: $checked imports of project modules, none from a higher layer"

tools=0
for dir in Sources/[a-z]*/; do
    for file in $( (ls "$dir"main.swift 2>/dev/null; grep -l '^@main' "$dir"*.swift 2>/dev/null) | sort -u); do
        tools=$((tools + 1)); lines=$(wc -l < "$file")
        [[ $verbose == -v ]] && echo "$file: $lines lines"
        if (( lines >= 150 )); then
            echo "check-shape: $file has $lines lines; a tool's entry file stays under 150 (move logic into a library module)" >&2
            status=1
        fi
    done
done
(( status == 0 )) && echo "check-shape: $tools tool entry files, each under 150 lines"
exit $status
