#!/usr/bin/env bash
# Set up .venv with the test extra and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
# The shape of the code first (seconds): layer contract, lint and format, marked copies in sync.
.venv/bin/lint-imports
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/ruff format --check src tests benchmarks scripts
.venv/bin/python scripts/check_copies.py
# Tests marked slow (SmolLM2 64-token generation, end-to-end exports) run with: bash scripts/test.sh -m slow
# Two worker processes (pytest-xdist): most checks run tiny models, where one process leaves a core
# idle in Python. Each test module (or test class) stays on one worker, so module fixtures build once.
# KERASFORMERS_TEST_WORKERS=0 runs everything in this process.
exec .venv/bin/python -m pytest -q -m "not slow" -n "${KERASFORMERS_TEST_WORKERS:-2}" --dist loadscope "$@"
