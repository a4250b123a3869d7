#!/usr/bin/env bash
# Executes the notebooks headless and saves them in place with their outputs (figures included),
# failing when any cell fails.
#
#   Notebooks/run.sh [NOTEBOOK.ipynb ...]      (default: every Notebooks/*.ipynb, in name order)
#
# 1. makes a virtual environment Notebooks/.venv (numpy, scipy, scikit-learn, matplotlib, nbclient,
#    nbformat, ipykernel) on first use;
# 2. builds the tools in release mode (follow-graph-svd, embedding-benchmark, and the Kernels
#    benchmark target when 03-kernels runs live);
# 3. runs each notebook with nbclient (per-cell timeout NOTEBOOK_TIMEOUT, default 600 s); a notebook
#    whose real data under EMBEDDINGS_DATA is absent is skipped with a message. A notebook that
#    fails is not overwritten: the failed copy goes to Notebooks/.work/failed-NAME.ipynb.
#
# Environment: EMBEDDINGS_DATA (default: ../shared/data beside the repository), KERNELS_LIVE
# (default 1; 0: 03-kernels only plots the committed results), OPENBLAS_NUM_THREADS and
# EMBEDDINGS_THREADS (default 2). The notebooks read EMBEDDINGS_ROOT, EMBEDDINGS_DATA,
# EMBEDDINGS_BIN and EMBEDDINGS_WORK, set here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
export EMBEDDINGS_ROOT="$root"
export EMBEDDINGS_DATA="${EMBEDDINGS_DATA:-$root/../shared/data}"
export EMBEDDINGS_BIN="$root/.build/release"
export EMBEDDINGS_WORK="${EMBEDDINGS_WORK:-$here/.work}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}" EMBEDDINGS_THREADS="${EMBEDDINGS_THREADS:-2}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" KERNELS_LIVE="${KERNELS_LIVE:-1}"
mkdir -p "$EMBEDDINGS_WORK"

# Real data each notebook needs (folders under EMBEDDINGS_DATA).
needs() {
    case "$(basename "$1")" in
        01-*) echo "twitter-follow-bofa" ;;
        02-*) echo "blogcatalog deezer-europe twitter-follow-bofa" ;;
        06-*) echo "sx-mathoverflow" ;;
        15-*) echo "text" ;;
        *) echo "" ;;
    esac
}

if [ $# -gt 0 ]; then notebooks=("$@"); else notebooks=("$here"/[0-9]*.ipynb); fi

venv="$here/.venv"
packages="numpy scipy scikit-learn matplotlib nbclient nbformat ipykernel"
if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$packages" ]; then
    echo "== making $venv ($packages)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check $packages
    echo "$packages" > "$venv/.installed"
fi

echo "== building the tools (release)"
(cd "$root" && swift build -c release --product follow-graph-svd && swift build -c release --product embedding-benchmark \
    && swift build -c release --product embedding-temporal)
(cd "$root" && swift build -c release --product embedding-neighbors)   # 13-neighbors
(cd "$root" && swift build -c release --product word-embed)            # 15-word-embeddings
for nb in "${notebooks[@]}"; do
    if [[ "$(basename "$nb")" == 03-* ]] && [ "$KERNELS_LIVE" != 0 ]; then
        echo "== building the Kernels benchmarks (release) for the live run in $(basename "$nb")"
        (cd "$root" && swift build -c release --product Kernels)
    fi
done

failed=()
for nb in "${notebooks[@]}"; do
    name="$(basename "$nb")"
    missing=""
    for ds in $(needs "$nb"); do
        [ -d "$EMBEDDINGS_DATA/$ds" ] || missing="$missing $ds"
    done
    if [ -n "$missing" ]; then
        echo "== SKIP $name: real data absent under $EMBEDDINGS_DATA:$missing"
        continue
    fi
    echo "== running $name"
    if "$venv/bin/python" - "$nb" "$EMBEDDINGS_WORK/failed-$name" "${NOTEBOOK_TIMEOUT:-600}" <<'EOF'
import sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

path, failed_path, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                        resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}})
start = time.time()
try:
    client.execute()
except CellExecutionError as error:
    nbformat.write(nb, failed_path)
    print(str(error)[-4000:], file=sys.stderr)
    print(f"FAILED after {time.time() - start:.0f} s; the failed notebook is {failed_path}", file=sys.stderr)
    sys.exit(1)
nbformat.write(nb, path)
print(f"   ok, {time.time() - start:.0f} s")
EOF
    then :; else failed+=("$name"); fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "== notebooks FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "== notebooks ok"
