"""A real seq2seq learning check (slow): a small T5 trained from scratch with fit(jit_compile=True) writes the
sentiment word ("positive" / "negative") of held-out movie-review sentences (scripts/seq2seq_learning_check.py)
clearly better than copying the input or always writing the majority label."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))


def test_chrf_and_pairs_are_the_documented_formulas():
    from seq2seq_learning_check import chrf, make_pairs

    assert chrf(["abc"], ["abc"]) == pytest.approx(100.0)
    assert chrf(["xyz"], ["abc"]) == 0.0
    # orders 1..3 (those "abc" has): precision (1, 1, 0) ("ab" has no 3-gram), recall (2/3, 1/2, 0)
    precision, recall = 2 / 3, (2 / 3 + 1 / 2) / 3
    assert chrf(["ab"], ["abc"]) == pytest.approx(100 * 5 * precision * recall / (4 * precision + recall))
    rows = [("Great fun.", 2.5), ("Dull.", -1.2), ("Fine I guess.", 0.4), ("word " * 30, 3.0)]
    assert make_pairs(rows) == [("Great fun.", "positive"), ("Dull.", "negative")]


@pytest.mark.slow
def test_small_t5_beats_the_copy_and_majority_baselines():
    from seq2seq_learning_check import run

    figures = run(epochs=4)
    assert figures["copy_exact_match"] == 0.0, figures
    assert figures["model_exact_match"] >= figures["majority_exact_match"] + 0.1, figures
    assert figures["model_chrf"] > max(figures["copy_chrf"], figures["majority_chrf"]), figures
