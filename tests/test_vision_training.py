"""Real learning check: a small ViT trained from scratch with fit() on scikit-learn's digits.

1,797 real 8x8 scans of handwritten digits, 10 classes; a stratified 80/20 split, the 20%
held out. compile() without a loss trains on the head's own (cross-entropy) loss.
"""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from kerasformers.models.vit import TFViTForImageClassification, ViTConfig


def digits_split():
    digits = load_digits()
    pixels = (digits.images / 16.0 - 0.5) / 0.5  # scans hold 0..16: rescale and normalise as a processor would
    pixels = pixels[:, None].astype(np.float32)  # (n, 1, 8, 8): channels-first, one channel
    return train_test_split(pixels, digits.target, test_size=0.2, random_state=0, stratify=digits.target)


@pytest.mark.slow  # ~1-2 minutes on 2 cores
def test_small_vit_learns_digits():
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = digits_split()
    config = ViTConfig(
        image_size=8,
        patch_size=2,
        num_channels=1,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        num_labels=10,
    )
    model = TFViTForImageClassification(config)
    model.build_with_dummy_inputs()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"], jit_compile=True)
    model.fit({"pixel_values": x_train}, y_train, batch_size=32, epochs=30, verbose=0)
    accuracy = float(np.mean(np.argmax(model.predict({"pixel_values": x_test}, verbose=0).logits, -1) == y_test))
    print(f"held-out accuracy: {accuracy:.4f} on {len(y_test)} digits")
    assert accuracy >= 0.95
