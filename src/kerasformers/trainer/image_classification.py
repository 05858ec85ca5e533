"""Image classification with ``fit()``: the recipe behind ``kerasformers train --task image-classification``.

:func:`train_image_classifier` takes two image datasets (a ``datasets.Image`` column and a
``ClassLabel`` column, as ``load_dataset("imagefolder", ...)`` or
:func:`kerasformers.data.embedded.digits` give), turns them into ``pixel_values`` with an image
processor through ``model.prepare_tf_dataset(..., image_processor=...)``, augments the training
batches with Keras' ``RandomTranslation`` inside the tf.data pipeline, and trains with AdamW
(linear warm-up, cosine decay) under XLA. With no model it builds a small ViT from scratch sized
for the images (16 patches); with a checkpoint it fine-tunes it with a new head.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kerasformers.errors import TrainingDataError

__all__ = ["ImageClassifierRun", "small_vit_config", "train_image_classifier"]


@dataclass
class ImageClassifierRun:
    """What :func:`train_image_classifier` returns: the trained model, its processor, the held-out
    logits and labels, their accuracy, the label names and the Keras history."""

    model: Any
    image_processor: Any
    logits: np.ndarray
    labels: np.ndarray
    accuracy: float
    label_names: list[str]
    history: dict = field(default_factory=dict)


def small_vit_config(image_size: int, num_labels: int, **overrides):
    """A ViT sized for training from scratch on small images: 4x4 = 16 patches, hidden 64, 2 layers.

    Example:
        >>> small_vit_config(8, 10).patch_size
        2
    """
    from kerasformers.models.vit import ViTConfig

    settings = dict(
        image_size=image_size,
        patch_size=max(1, image_size // 4),
        num_channels=3,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        num_labels=num_labels,
    )
    settings.update(overrides)
    return ViTConfig(**settings)


def _label_column(dataset) -> str:
    for name in ("label", "labels"):
        if name in dataset.column_names:
            return name
    raise TrainingDataError(f"The image dataset has no 'label' column; its columns are {dataset.column_names}.")


def _label_names(dataset, column: str) -> list[str]:
    import datasets

    feature = dataset.features[column]
    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names)
    values = sorted(set(dataset[column]))
    return [str(v) for v in range(int(max(values)) + 1)]


def train_image_classifier(
    train,
    held_out,
    *,
    model: str | Any | None = None,
    image_processor=None,
    image_size: int | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.05,
    warmup_ratio: float = 0.1,
    translate: float = 0.125,
    seed: int = 0,
    jit_compile: bool = True,
    verbose: int | str = 0,
) -> ImageClassifierRun:
    """Train an image classifier with ``fit()`` on ``train`` and score it on ``held_out``.

    Args:
        train, held_out: ``datasets.Dataset`` with one ``datasets.Image`` column and a ``label``
            column (``ClassLabel`` names become ``id2label``).
        model: a checkpoint folder or name (fine-tuned with a new head for these labels), a built
            Keras model, or None: a small ViT from scratch (:func:`small_vit_config`).
        image_processor: turns images into ``pixel_values`` (default: the checkpoint's, or for a
            new model a ViT processor that resizes to ``image_size``, converting to RGB).
        image_size: the side of a new model's square input (default: the first training image's
            longer side).
        epochs, batch_size, learning_rate, weight_decay, warmup_ratio: AdamW with a linear
            warm-up over ``warmup_ratio`` of the steps, then cosine decay to 0.
        translate: ``RandomTranslation`` range as a fraction of height and width (0: no
            augmentation); applied to training batches in the tf.data pipeline.

    Example:
        >>> from kerasformers.data.embedded import digits
        >>> data = digits()
        >>> run = train_image_classifier(data["train"], data["test"], epochs=100)
        >>> run.accuracy  # doctest: +SKIP
        0.97
    """
    import keras

    from kerasformers.image_processing import AutoImageProcessor
    from kerasformers.models.auto import TFAutoModelForImageClassification
    from kerasformers.models.vit import TFViTForImageClassification, ViTImageProcessor

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value < 1:
            raise TrainingDataError(f"{name} must be at least 1, got {value}.")
    keras.utils.set_random_seed(seed)
    label_column = _label_column(train)
    names = _label_names(train, label_column)
    id2label = dict(enumerate(names))
    label2id = {n: i for i, n in enumerate(names)}
    if model is None:
        if image_size is None:
            from kerasformers.data.tf_dataset import image_columns

            columns = image_columns(train)
            if not columns:
                raise TrainingDataError(f"The training data has no image column; its columns are {train.column_names}.")
            image_size = max(train[0][columns[0]].size)
        if image_processor is None:
            image_processor = ViTImageProcessor(size={"height": image_size, "width": image_size}, do_convert_rgb=True)
        config = small_vit_config(image_size, len(names), id2label=id2label, label2id=label2id)
        model = TFViTForImageClassification(config)
        model.build_with_dummy_inputs()
    elif isinstance(model, str):
        if image_processor is None:
            image_processor = AutoImageProcessor.from_pretrained(model)
            if image_processor.do_convert_rgb is None:  # greyscale or RGBA files in a folder: as RGB
                image_processor.do_convert_rgb = True
        model = TFAutoModelForImageClassification.from_pretrained(
            model, num_labels=len(names), id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True
        )
    elif image_processor is None:
        raise TrainingDataError("A model object needs image_processor=... (how its pixel_values are made).")

    train_data = model.prepare_tf_dataset(
        train,
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
        drop_remainder=len(train) >= batch_size,
        image_processor=image_processor,
    )
    if translate:
        # Augmentation as a Keras preprocessing layer inside the tf.data pipeline; pixel_values
        # are channels-first. "nearest" repeats the border (a scan's or photo's background).
        shift = keras.layers.RandomTranslation(
            translate, translate, fill_mode="nearest", data_format="channels_first", seed=seed
        )

        def augment(inputs, labels):
            return {**inputs, "pixel_values": shift(inputs["pixel_values"], training=True)}, labels

        import tensorflow as tf

        train_data = train_data.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    steps = epochs * max(1, len(train) // batch_size)
    warmup = int(steps * warmup_ratio)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else learning_rate,
        max(1, steps - warmup),
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay)
    model.compile(optimizer=optimizer, metrics=["accuracy"], jit_compile=jit_compile)
    history = model.fit(train_data, epochs=epochs, verbose=verbose)

    eval_data = model.prepare_tf_dataset(held_out, batch_size=128, shuffle=False, image_processor=image_processor)
    logits = np.concatenate([np.asarray(model(inputs).logits) for inputs, _ in eval_data])
    labels = np.asarray(held_out[label_column])
    accuracy = float(np.mean(np.argmax(logits, -1) == labels))
    return ImageClassifierRun(model, image_processor, logits, labels, accuracy, names, history.history)
