#!/usr/bin/env bash
# Builds the DocC documentation of every library module (Sources/<Module>/<Module>.docc holds its
# overview article) with swift-docc-plugin and fails on any DocC warning.
# Output: .build/plugins/Swift-DocC/outputs/<Module>.doccarchive
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
modules=(LinearAlgebra Solvers GraphData EmbeddingStore Evaluation FollowGraph Compression Neighbors WordEmbeddings
         Temporal FeatureStore Pipelines EmbeddingServer Distributed Embeddings)
status=0
for module in "${modules[@]}"; do
    log="$(mktemp)"
    if ! swift package --disable-sandbox generate-documentation --target "$module" --warnings-as-errors >"$log" 2>&1; then
        echo "build-docs: $module failed:" >&2
        grep -E "warning:|error:" "$log" | head -40 >&2 || tail -40 "$log" >&2
        status=1
    else
        echo "build-docs: $module OK"
    fi
    rm -f "$log"
done
exit $status
