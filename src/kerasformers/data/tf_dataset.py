"""``model.prepare_tf_dataset``: a ``datasets.Dataset`` as a ``tf.data.Dataset`` ready for ``fit``.

The dataset stays on disk: a tf.data generator walks a (shuffled) list of row indices and
reads one batch at a time from the memory-mapped Arrow table, collates it (padding to the
batch's own longest example), and yields ``(inputs, labels)``. Memory does not grow with the
dataset's size.

Image datasets (a ``datasets.Image`` column, decoded lazily, one batch at a time) become
``pixel_values`` either through ``image_processor=`` or through a transform the dataset
carries (``dataset.with_transform(fn)`` returning ``pixel_values``, as transformers' examples did).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from kerasformers.errors import InvalidInputTypeError, TrainingDataError

LABEL_COLUMN_ALIASES = {"label": "labels", "label_ids": "labels"}
# call parameters that are options, not data
_NOT_DATA = {
    "training",
    "return_dict",
    "output_attentions",
    "output_hidden_states",
    "use_cache",
    "past_key_values",
    "kwargs",
}


def model_columns(model, column_names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(input columns, label columns) of ``column_names`` that ``model`` accepts.

    Label columns are returned under the model's names (``label`` -> ``labels``).

    Example:
        >>> model_columns(model, ["text", "input_ids", "attention_mask", "label"])
        (['input_ids', 'attention_mask'], ['labels'])
    """
    parameters = [p for p in model._call_parameters() if p not in _NOT_DATA]
    label_names = list(model.get_label_names()) if hasattr(model, "get_label_names") else []
    inputs = [c for c in column_names if c in parameters and c not in label_names]
    labels = []
    for column in column_names:
        name = LABEL_COLUMN_ALIASES.get(column, column)
        if name in label_names and name not in labels:
            labels.append(name)
    return inputs, labels


def _lengths(data, column: str) -> np.ndarray:
    """Token counts of a list column, computed by Arrow without materialising the rows in Python."""
    import pyarrow.compute as pc

    values = data.with_format("arrow")[column]
    return np.asarray(pc.list_value_length(values).to_numpy(zero_copy_only=False), dtype=np.int64)


def _has_token_labels(model, data) -> bool:
    """Whether ``model`` is an encoder-decoder whose ``labels`` column holds token ids (one list per row)."""
    if not getattr(getattr(model, "config", None), "is_encoder_decoder", False) or "labels" not in data.column_names:
        return False
    feature = data.features["labels"]
    return hasattr(feature, "feature") or isinstance(feature, list)


def image_columns(dataset) -> list[str]:
    """Columns of ``dataset`` whose feature is ``datasets.Image`` (decoded to PIL images when read).

    Example:
        >>> image_columns(datasets.load_dataset("imagefolder", data_dir="digits")["train"])
        ['image']
    """
    import datasets

    return [name for name, feature in dataset.features.items() if isinstance(feature, datasets.Image)]


class ImageProcessorCollator:
    """Rows holding images -> a batch with ``pixel_values`` from ``image_processor``; the other
    columns are stacked as :class:`~kerasformers.data.collators.DefaultDataCollator` does
    (``label`` becomes ``labels``).

    Example:
        >>> collate = ImageProcessorCollator(ViTImageProcessor(), image_column="image")
        >>> collate([{"image": pil_image, "label": 3}])["pixel_values"].shape
        (1, 3, 224, 224)
    """

    def __init__(self, image_processor, image_column: str = "image"):
        self.image_processor = image_processor
        self.image_column = image_column

    def __call__(self, rows: list[dict]) -> dict:
        from kerasformers.data.collators import DefaultDataCollator

        images = [row[self.image_column] for row in rows]
        rest = [{k: v for k, v in row.items() if k != self.image_column} for row in rows]
        batch = DefaultDataCollator(return_tensors="np")(rest) if rest and rest[0] else {}
        pixels = self.image_processor(images, return_tensors="np")["pixel_values"]
        return {"pixel_values": np.asarray(pixels, np.float32), **batch}


def prepare_tf_dataset(
    model,
    dataset,
    batch_size: int = 8,
    shuffle: bool = True,
    tokenizer=None,
    collate_fn: Callable | None = None,
    collate_fn_args: Mapping[str, Any] | None = None,
    drop_remainder: bool | None = None,
    prefetch: bool = True,
    seed: int | None = None,
    pad_to_multiple_of: int | None = None,
    length_buckets: Sequence[int] | None = None,
    group_by_length: bool = False,
    image_processor=None,
):
    """Wrap a ``datasets.Dataset`` as a ``tf.data.Dataset`` of ``(inputs, labels)`` batches.

    Only the columns the model's ``call`` accepts are kept, plus its label columns (``label``
    is renamed ``labels``). Each batch is padded to its own longest example by ``collate_fn``
    (default: :class:`~kerasformers.data.collators.DataCollatorWithPadding` when a tokenizer
    is given, :class:`~kerasformers.data.collators.DataCollatorForSeq2Seq` for an encoder-decoder
    model whose ``labels`` are token ids (padded with -100), else
    :class:`~kerasformers.data.collators.DefaultDataCollator`). Every example is seen once per
    epoch (in a new order each epoch when ``shuffle``); the last, smaller
    batch is kept unless ``drop_remainder=True``.

    For XLA (``compile(jit_compile=True)``) pass ``length_buckets`` (e.g. ``(32, 64, 128)``) or
    ``pad_to_multiple_of``: batches are padded up to a bucket, so a run compiles at most
    ``len(length_buckets)`` programs per batch size, i.e. ``len(length_buckets)`` with
    ``drop_remainder=True`` and ``2 * len(length_buckets)`` without (the last batch is
    smaller); with ``pad_to_multiple_of=m`` and sequences of at most ``L`` tokens it is
    ``ceil(L / m)`` (times 2 without ``drop_remainder``).

    Args:
        model: the model the batches are for (its ``call`` signature picks the columns).
        dataset: a ``datasets.Dataset`` holding tokenized columns.
        batch_size: examples per batch.
        shuffle: a new random order each epoch (``seed`` makes it repeatable).
        tokenizer: pads the batches (its pad id and padding side).
        collate_fn: any callable list-of-rows -> dict of arrays; ``collate_fn_args`` are passed to
            its constructor when ``collate_fn`` is a class.
        drop_remainder: drop the last incomplete batch (default False: every example is seen).
        prefetch: prefetch batches while the model trains.
        group_by_length: with ``shuffle``, batch examples of similar length together (sorted within
            random windows of 50 batches, batches in random order): less padding, faster epochs.
        image_processor: for an image dataset (one ``datasets.Image`` column, e.g. from
            ``load_dataset("imagefolder", ...)``): each batch's images are decoded and turned
            into ``pixel_values`` by it (see :class:`ImageProcessorCollator`). Without it, a
            dataset with a transform (``dataset.with_transform(fn)``) is read through that
            transform: its output columns (``pixel_values``...) are the model's inputs.

    Example:
        >>> encoded = dataset.map(lambda b: tokenizer(b["text"], truncation=True), batched=True)
        >>> tf_ds = model.prepare_tf_dataset(encoded, batch_size=16, shuffle=True, tokenizer=tokenizer)
        >>> model.compile(optimizer="adam", metrics=["accuracy"])
        >>> model.fit(tf_ds, epochs=2)
        >>> images = datasets.load_dataset("imagefolder", data_dir="digits", split="train")
        >>> tf_ds = model.prepare_tf_dataset(images, batch_size=32, image_processor=processor)
    """
    import datasets
    import tensorflow as tf

    from kerasformers.data.collators import DataCollatorForSeq2Seq, DataCollatorWithPadding, DefaultDataCollator

    if isinstance(dataset, datasets.DatasetDict):
        raise InvalidInputTypeError(
            f"prepare_tf_dataset takes one split, got a DatasetDict with splits "
            f"{list(dataset)}: pass e.g. dataset['train']."
        )
    if not isinstance(dataset, datasets.Dataset):
        raise InvalidInputTypeError(f"prepare_tf_dataset takes a datasets.Dataset, got {type(dataset).__name__}.")
    if batch_size < 1:
        raise TrainingDataError(f"batch_size must be at least 1, got {batch_size}.")
    if len(dataset) == 0:
        raise TrainingDataError("The dataset is empty.")
    # A dataset with a transform (with_transform / set_transform) is read through it: the columns
    # are what the transform returns, so the stored columns are not selected (the transform needs them).
    transformed = dataset.format.get("type") == "custom"
    column_names = list(dataset[:1]) if transformed else dataset.column_names
    images = image_columns(dataset) if image_processor is not None and not transformed else []
    if image_processor is not None and not transformed and len(images) != 1:
        raise TrainingDataError(
            f"image_processor= needs exactly one datasets.Image column; the dataset's features are "
            f"{dict((k, type(v).__name__) for k, v in dataset.features.items())}. Cast the image column "
            "with dataset.cast_column('image', datasets.Image())."
        )
    input_columns, label_columns = model_columns(model, column_names)
    if images:
        input_columns = ["pixel_values"]
    if not input_columns and image_columns(dataset) and "pixel_values" in model._call_parameters():
        raise TrainingDataError(
            f"The dataset holds images (column {image_columns(dataset)[0]!r}) but no pixel_values: pass "
            "image_processor=AutoImageProcessor.from_pretrained(checkpoint), or give the dataset a "
            "transform that returns pixel_values (dataset.with_transform(fn))."
        )
    if not input_columns:
        raise TrainingDataError(
            f"None of the dataset's columns {dataset.column_names} is an input of {type(model).__name__} "
            f"(it takes {[p for p in model._call_parameters() if p not in _NOT_DATA]}). "
            "Tokenize first: dataset.map(lambda b: tokenizer(b['text'], truncation=True), batched=True)."
        )
    # column selection and renaming touch only the schema: the Arrow file stays memory-mapped
    labels_kept = [c for c in column_names if LABEL_COLUMN_ALIASES.get(c, c) in label_columns]
    keep = (images or input_columns) + labels_kept
    if transformed:
        data = dataset
    else:
        data = dataset.select_columns(keep)
        for old, new in LABEL_COLUMN_ALIASES.items():
            if old in data.column_names and new not in data.column_names:
                data = data.rename_column(old, new)

    if collate_fn is None and images:
        collate_fn = ImageProcessorCollator(image_processor, images[0])
    elif collate_fn is None:
        padding_options = dict(
            return_tensors="np", pad_to_multiple_of=pad_to_multiple_of, length_buckets=length_buckets
        )
        if tokenizer is None:
            collate_fn = DefaultDataCollator(return_tensors="np")
        elif _has_token_labels(model, data):
            # seq2seq: labels are token ids of their own length, padded with -100 (ignored by the loss)
            collate_fn = DataCollatorForSeq2Seq(tokenizer, **padding_options)
        else:
            collate_fn = DataCollatorWithPadding(tokenizer, **padding_options)
    elif isinstance(collate_fn, type):
        collate_fn = collate_fn(**(collate_fn_args or {}))
    elif collate_fn_args:
        raise TrainingDataError("collate_fn_args only applies when collate_fn is a class to instantiate.")
    drop_remainder = bool(drop_remainder)
    count = len(data)
    num_batches = count // batch_size if drop_remainder else math.ceil(count / batch_size)
    if num_batches == 0:
        raise TrainingDataError(
            f"drop_remainder=True with {count} examples and batch_size={batch_size} leaves no batch."
        )

    def read_batch(indices: np.ndarray) -> dict:
        columns = data[[int(i) for i in indices]]  # one read from the Arrow table: a dict of lists
        if transformed:  # the transform's output: keep the model's columns, label -> labels
            columns = {LABEL_COLUMN_ALIASES.get(k, k): v for k, v in columns.items() if k in keep}
        keys = list(columns)
        rows = [dict(zip(keys, values)) for values in zip(*(columns[k] for k in keys))]
        batch = collate_fn(rows)
        return {k: np.asarray(v) for k, v in batch.items()}

    def split(batch: dict):
        inputs = {k: v for k, v in batch.items() if k not in label_columns}
        if not label_columns:
            return inputs
        labels = {k: batch[k] for k in label_columns if k in batch}
        return inputs, (labels[label_columns[0]] if len(labels) == 1 else labels)

    def spec(value: np.ndarray, static: bool = False):
        dtype = tf.as_dtype(np.int32 if value.dtype == np.int64 else value.dtype)
        leading = batch_size if drop_remainder else None
        if static:  # pixel_values: an image processor gives one size; the model checks the channel axis
            return tf.TensorSpec((leading,) + value.shape[1:], dtype)
        return tf.TensorSpec((leading,) + (None,) * (value.ndim - 1), dtype)

    sample = split(read_batch(np.arange(min(batch_size, count))))
    signature = tf.nest.map_structure(spec, sample)
    inputs_spec = signature[0] if label_columns else signature
    if "pixel_values" in inputs_spec:
        inputs_spec["pixel_values"] = spec((sample[0] if label_columns else sample)["pixel_values"], static=True)
    epoch = [0]
    if group_by_length and (images or transformed):
        raise TrainingDataError("group_by_length sorts token sequences by length; an image dataset has none.")
    lengths = _lengths(data, input_columns[0]) if group_by_length else None

    def batches_of(order: np.ndarray, rng) -> list[np.ndarray]:
        if lengths is not None and rng is not None:
            window = batch_size * 50
            chunks = [order[i : i + window] for i in range(0, count, window)]
            order = np.concatenate([c[np.argsort(-lengths[c], kind="stable")] for c in chunks])
        batches = [order[b * batch_size : (b + 1) * batch_size] for b in range(num_batches)]
        if lengths is not None and rng is not None:
            rng.shuffle(batches)
        return batches

    def generate():
        order = np.arange(count)
        rng = None
        if shuffle:
            rng = np.random.default_rng(None if seed is None else seed + epoch[0])
            rng.shuffle(order)
        epoch[0] += 1
        for indices in batches_of(order, rng):
            batch = read_batch(indices)
            yield tf.nest.map_structure(lambda v: v.astype(np.int32) if v.dtype == np.int64 else v, split(batch))

    tf_dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    tf_dataset = tf_dataset.apply(tf.data.experimental.assert_cardinality(num_batches))
    if prefetch:
        tf_dataset = tf_dataset.prefetch(tf.data.AUTOTUNE)
    return tf_dataset
