#!/usr/bin/env bash
# Build .venv-mergekit (mergekit 0.1.5 in its own environment, its pins apart from micota's) for
# tests/test_merge.py::test_equals_mergekit_at_density_1 and bench/merge.py. CPU torch first, so pip does not pull CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-mergekit/bin/python ] || "$PY" -m venv .venv-mergekit
.venv-mergekit/bin/pip install -q torch==2.13.0
.venv-mergekit/bin/pip install -q mergekit==0.1.5
.venv-mergekit/bin/mergekit-yaml --help >/dev/null && echo "mergekit ready: $(pwd)/.venv-mergekit/bin/mergekit-yaml"
