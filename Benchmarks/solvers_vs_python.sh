#!/usr/bin/env bash
# Runs Benchmarks/solvers_vs_python.py in its own virtual environment (Benchmarks/.venv-bench,
# created on first use with numpy, scipy, scikit-learn). All arguments are passed on; see the
# Python file's docstring. Every peer runs with 2 threads (OMP/OpenBLAS/MKL_NUM_THREADS=2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet numpy scipy scikit-learn threadpoolctl
fi
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
exec "$venv/bin/python" "$here/solvers_vs_python.py" "$@"
