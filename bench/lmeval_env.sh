#!/usr/bin/env bash
# lm-eval 0.4.13 in its own venv (its pins must not touch micota's). torch first: the CPU build, or pip pulls GBs.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-lmeval
.venv-lmeval/bin/pip install -q torch==2.13.0
.venv-lmeval/bin/pip install -q lm-eval==0.4.13
.venv-lmeval/bin/python -c "import lm_eval, importlib.metadata as m; print('lm-eval', m.version('lm-eval'))"
