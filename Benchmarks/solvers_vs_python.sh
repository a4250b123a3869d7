#!/usr/bin/env bash
# Runs Benchmarks/solvers_vs_python.py (the Python peers, and the Swift side through
# .build/release/solvers-compare) with every side on 2 threads (OMP/OpenBLAS/MKL_NUM_THREADS=2).
# The interpreter is $PYTHON when set (it needs numpy, scipy, scikit-learn, threadpoolctl; the
# judge venv has them: PYTHON=$(../shared/judge/setup.sh)/bin/python), else a virtual
# environment Benchmarks/.venv-bench created on first use. All arguments are passed on; see the
# Python file's docstring. The usual run:
#   swift build -c release --product solvers-compare && Benchmarks/solvers_vs_python.sh --standard
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    venv="$here/.venv-bench"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet numpy scipy scikit-learn threadpoolctl
    fi
    python="$venv/bin/python"
fi
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
exec "$python" "$here/solvers_vs_python.py" "$@"
