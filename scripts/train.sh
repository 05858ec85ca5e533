#!/usr/bin/env bash
# Set up .venv and run the main job: fine-tune all-MiniLM-L6-v2 on movie-review sentiment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kerasformers train "$@"
