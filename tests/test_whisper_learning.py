"""Real learning check (slow): a tiny Whisper trained from scratch with fit() on espeak-ng spoken digit strings
transcribes held-out speech by other voices at other speeds (scripts/whisper_learning_check.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))


@pytest.mark.slow  # about 5-10 minutes of training on 2 cores
def test_tiny_whisper_learns_spoken_digits():
    from whisper_learning_check import main

    result = main(["--epochs", "30"])
    assert result["held_out_exact_match"] >= 0.9, result
