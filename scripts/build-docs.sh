#!/usr/bin/env bash
# Builds the DocC documentation of every library module (Sources/<Module>/<Module>.docc holds its
# overview article) with swift-docc-plugin and fails on any DocC warning. CI runs it after
# `swift test` (.ci/run).
#
# One `generate-documentation` invocation with every module as a `--target`: the plugin builds
# the package once (reusing what `swift build`/`swift test` built) and runs `docc convert` on each
# module. It runs without `--warnings-as-errors`, because with it the plugin stops at the first
# module that fails; instead every DocC warning of every module is collected from its output and
# any one fails the script. SwiftPM's warnings about dependencies' manifests (which no one here
# can fix) do not count. A toolchain without `docc` is skipped with a message, not failed: that
# is the machine's setup, not the documentation.
# Output: .build/plugins/Swift-DocC/outputs/<Module>.doccarchive
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
modules=(LinearAlgebra Solvers GraphData EmbeddingStore Evaluation FollowGraph Compression Neighbors WordEmbeddings
         Temporal FeatureStore Pipelines EmbeddingServer Distributed DistributedJobs Embeddings)
swift_bin="$(dirname "$(command -v swift)")"
if [ ! -x "$swift_bin/docc" ] && ! command -v docc >/dev/null 2>&1; then
    echo "build-docs: this toolchain has no docc ($swift_bin); documentation not built" >&2
    exit 0
fi
args=()
for module in "${modules[@]}"; do args+=(--target "$module"); done
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$SECONDS
status=0
swift package --disable-sandbox generate-documentation "${args[@]}" >"$log" 2>&1 || status=$?
# DocC's diagnostics start a line with `warning:`/`error:` and name the symbol path
# (/Module/Type/member); the next line gives the file and line.
diagnostics="$(awk 'show { if ($0 ~ /^ *-->/) print; show = 0 }
                   /^(warning|error):/ && !/found [0-9]+ file\(s\) which are unhandled/ { print; show = 1 }' "$log")"
if [ "$status" -eq 0 ] && [ -z "$diagnostics" ]; then
    echo "build-docs: ${#modules[@]} modules without a DocC warning ($((SECONDS - start)) s)"
    exit 0
fi
echo "build-docs: DocC reported problems (exit status $status, $((SECONDS - start)) s):" >&2
if [ -n "$diagnostics" ]; then echo "$diagnostics" >&2; else tail -40 "$log" >&2; fi
exit 1
