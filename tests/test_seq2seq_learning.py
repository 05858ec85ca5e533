"""A real seq2seq learning check (slow): a small T5 trained from scratch on movie-review sentences restores their
casing and punctuation (scripts/seq2seq_learning_check.py) better than copying the lower-cased input."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))


def test_chrf_is_the_documented_formula():
    from seq2seq_learning_check import chrf, make_pairs

    assert chrf(["abc"], ["abc"]) == pytest.approx(100.0)
    assert chrf(["xyz"], ["abc"]) == 0.0
    # orders 1..3 (those "abc" has): precision (1, 1, 0) ("ab" has no 3-gram), recall (2/3, 1/2, 0)
    precision, recall = 2 / 3, (2 / 3 + 1 / 2) / 3
    assert chrf(["ab"], ["abc"]) == pytest.approx(100 * 5 * precision * recall / (4 * precision + recall))
    assert make_pairs(["Hello, World!"]) == [("hello world", "Hello, World!")]


@pytest.mark.slow
def test_small_t5_beats_the_copy_baseline():
    from seq2seq_learning_check import run

    figures = run(train_size=2000, test_size=150, epochs=6)
    assert figures["model_exact_match"] > figures["copy_exact_match"] + 0.05 or (
        figures["model_chrf"] > figures["copy_chrf"] + 2
    ), figures
