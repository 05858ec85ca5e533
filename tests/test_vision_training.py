"""Real learning check: a small ViT trained from scratch with fit() on scikit-learn's digits.

1,797 real 8x8 scans of handwritten digits, 10 classes; the embedded digits' stratified 80/20
split (kerasformers.data.embedded.digits), the 20% held out. The recipe is
``kerasformers train --task image-classification``'s default (trainer/image_classification.py):
a ViT with 2x2 patches (16 tokens), hidden 64, 2 layers; RandomTranslation (1 pixel either way)
inside the tf.data pipeline; AdamW 1e-3 with weight decay 0.05, 10% linear warm-up then cosine
decay, 100 epochs, XLA. compile() without a loss trains on the head's own cross-entropy.
"""

import json

import pytest


@pytest.mark.slow  # ~1-2 minutes on 2 quiet cores (8-9 under heavy load)
def test_train_command_defaults_learn_digits(tmp_path, capsys):
    """`kerasformers train --task image-classification` with its defaults: >= 0.95 held-out accuracy."""
    from kerasformers.cli import main

    assert main(["train", "--task", "image-classification", "--output-dir", str(tmp_path), "--quiet"]) == 0
    metrics = json.loads((tmp_path / "eval_results.json").read_text())
    print(f"held-out accuracy: {metrics['accuracy']:.4f} on {metrics['eval_examples']} digits")
    assert metrics["eval_examples"] == 360 and metrics["train_examples"] == 1437
    assert metrics["accuracy"] >= 0.95
