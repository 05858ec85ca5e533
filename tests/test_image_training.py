"""Image datasets for training: prepare_tf_dataset with an image processor or a transform, and
``kerasformers train --task image-classification --image-folder DIR`` in a fresh process.

The images are real: scikit-learn's handwritten-digit scans written as PNGs in datasets'
imagefolder layout (DIR/<label>/<file>.png). Expected pixel_values come from transformers'
ViTImageProcessor on the same decoded images.
"""

import json
import os
import subprocess
import sys

import datasets
import numpy as np
import pytest
import transformers
from PIL import Image

from kerasformers.data.embedded import digits_image_arrays
from kerasformers.errors import TrainingDataError

PER_CLASS = 4  # 40 scans: a folder of 10 classes small enough for a 1-epoch CLI run


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    """DIR/<digit>/<n>.png for the first PER_CLASS scans of each digit."""
    folder = tmp_path_factory.mktemp("digit-images")
    images, labels = digits_image_arrays()
    for digit in range(10):
        (folder / str(digit)).mkdir()
        for n, index in enumerate(np.flatnonzero(labels == digit)[:PER_CLASS]):
            Image.fromarray(images[index], mode="L").save(folder / str(digit) / f"{n}.png")
    return folder


@pytest.fixture(scope="module")
def digit_dataset(digit_folder):
    return datasets.load_dataset("imagefolder", data_dir=str(digit_folder), split="train")


@pytest.fixture(scope="module")
def small_vit():
    from kerasformers.models.vit import TFViTForImageClassification
    from kerasformers.trainer.image_classification import small_vit_config

    model = TFViTForImageClassification(small_vit_config(8, 10))
    model.build_with_dummy_inputs()
    return model


def processor_settings():
    return dict(size={"height": 8, "width": 8}, do_convert_rgb=True)


def test_prepare_tf_dataset_with_image_processor(digit_dataset, small_vit):
    from kerasformers.models.vit import ViTImageProcessor

    assert isinstance(digit_dataset.features["image"], datasets.Image)  # decoded lazily, per batch
    tf_data = small_vit.prepare_tf_dataset(
        digit_dataset, batch_size=16, shuffle=False, image_processor=ViTImageProcessor(**processor_settings())
    )
    batches = list(tf_data)
    assert len(batches) == 3 and batches[0][0]["pixel_values"].shape == (16, 3, 8, 8)
    pixels = np.concatenate([np.asarray(x["pixel_values"]) for x, _ in batches])
    labels = np.concatenate([np.asarray(y) for _, y in batches])
    expected = transformers.ViTImageProcessor(**processor_settings())(
        [row["image"] for row in digit_dataset], return_tensors="np"
    )["pixel_values"]
    assert np.max(np.abs(pixels - expected)) <= 1e-6
    np.testing.assert_array_equal(labels, digit_dataset["label"])
    # a shuffled epoch holds the same examples, in another order
    shuffled = small_vit.prepare_tf_dataset(
        digit_dataset, batch_size=16, seed=0, image_processor=ViTImageProcessor(**processor_settings())
    )
    assert sorted(np.concatenate([np.asarray(y) for _, y in shuffled]).tolist()) == sorted(labels.tolist())


def test_prepare_tf_dataset_with_transform_and_augmentation(digit_dataset, small_vit):
    """transformers' examples' route: with_transform returns pixel_values; a Keras preprocessing
    layer (RandomTranslation) augments the batches inside the tf.data pipeline."""
    import keras

    processor = transformers.ViTImageProcessor(**processor_settings())

    def transform(batch):
        return {"pixel_values": processor(batch["image"], return_tensors="np")["pixel_values"], "label": batch["label"]}

    tf_data = small_vit.prepare_tf_dataset(digit_dataset.with_transform(transform), batch_size=20, shuffle=False)
    first_inputs, first_labels = next(iter(tf_data))
    expected = processor([digit_dataset[i]["image"] for i in range(20)], return_tensors="np")["pixel_values"]
    assert np.max(np.abs(np.asarray(first_inputs["pixel_values"]) - expected)) <= 1e-6
    np.testing.assert_array_equal(np.asarray(first_labels), digit_dataset["label"][:20])

    shift = keras.layers.RandomTranslation(0.25, 0.25, data_format="channels_first", seed=0)
    augmented = tf_data.map(lambda x, y: ({"pixel_values": shift(x["pixel_values"], training=True)}, y))
    moved = np.asarray(next(iter(augmented))[0]["pixel_values"])
    assert moved.shape == expected.shape and not np.allclose(moved, expected)
    # fit() on augmented batches: test_train_command_on_image_folder (the command augments this way)


def test_image_dataset_without_pixel_values_is_refused(digit_dataset, small_vit):
    with pytest.raises(TrainingDataError, match="image_processor"):
        small_vit.prepare_tf_dataset(digit_dataset, batch_size=8)


def train_command(folder, out):
    return ["train", "--task", "image-classification", "--image-folder", str(folder), "--epochs", "1"] + [
        "--test-size",
        "0.25",
        "--no-jit-compile",
        "--output-dir",
        str(out),
        "--quiet",
    ]


def check_trained_folder(out, digit_folder):
    """The written model and image processor load, labelled with the folder names, and classify a scan."""
    from kerasformers.image_processing import AutoImageProcessor
    from kerasformers.models.auto import TFAutoModelForImageClassification

    metrics = json.loads((out / "eval_results.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and metrics["eval_examples"] == 10 and metrics["train_examples"] == 30
    model = TFAutoModelForImageClassification.from_pretrained(out)
    assert model.config.id2label == {i: str(i) for i in range(10)}
    processor = AutoImageProcessor.from_pretrained(out)
    logits = model(processor(Image.open(digit_folder / "3" / "0.png"), return_tensors="np")).logits
    assert logits.shape == (1, 10)


def test_train_command_on_image_folder(digit_folder, tmp_path, capsys):
    """`kerasformers train --task image-classification --image-folder DIR` (DIR/<label>/<n>.png)."""
    from kerasformers.cli import main

    assert main(train_command(digit_folder, tmp_path / "trained")) == 0
    assert "30 training and 10 held-out images" in capsys.readouterr().out
    check_trained_folder(tmp_path / "trained", digit_folder)


@pytest.mark.slow  # a new interpreter imports TensorFlow: ~1-2 minutes under load
def test_train_command_on_image_folder_in_fresh_process(digit_folder, tmp_path):
    out = tmp_path / "trained"
    command = [sys.executable, "-m", "kerasformers.cli"] + train_command(digit_folder, out)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "30 training and 10 held-out images" in result.stdout
    check_trained_folder(out, digit_folder)


def test_train_command_image_folder_errors(tmp_path):
    from kerasformers.cli import load_image_dataset

    with pytest.raises(TrainingDataError, match="not a folder"):
        load_image_dataset(str(tmp_path / "missing"))
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "flat" / "a.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "flat" / "b.png")
    with pytest.raises(TrainingDataError, match="folder named after the class"):
        load_image_dataset(str(tmp_path / "flat"))
