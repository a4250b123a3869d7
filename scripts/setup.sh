#!/usr/bin/env bash
# Installs the system libraries this package links (Debian 12 / Ubuntu): zlib, OpenBLAS (CBLAS),
# LAPACKE and arpack-ng, plus the Fashion-MNIST dataset package used by compression-eval.
# Idempotent: installs only what is missing. Uses sudo when not run as root.
set -euo pipefail
# zlib1g-dev: gzip edge lists and label files (GraphData, through the CZlib module).
# chromium: headless page tests of the embedding-store catalog (EmbeddingServerTests).
# libopenmpi-dev, openmpi-bin, libparpack2-dev: module Distributed (Open MPI and PARPACK; DistributedTests run mpirun).
packages=(zlib1g-dev libopenblas-dev liblapacke-dev libarpack2-dev dataset-fashion-mnist chromium libopenmpi-dev openmpi-bin libparpack2-dev)
need=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${need[@]}"
