"""Data collators: a list of tokenized examples in, one padded batch out (numpy or tf tensors).

The same classes and arguments as transformers' collators, so code written for them runs as
is. Padding is done here with numpy (the tokenizer's pad id and padding side), so any
tokenizer with ``pad_token_id`` and ``padding_side`` works.

Beyond transformers: ``length_buckets`` pads each batch up to the smallest bucket that holds
its longest example, so that XLA compiles one program per bucket instead of one per length.

Example:
    >>> collator = DataCollatorWithPadding(tokenizer)
    >>> batch = collator([tokenizer("short"), tokenizer("a longer sentence")])
    >>> batch["input_ids"].shape
    (2, 5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError

__all__ = [
    "DataCollatorWithPadding",
    "DataCollatorForTokenClassification",
    "DataCollatorForLanguageModeling",
    "DataCollatorForSeq2Seq",
    "DataCollatorForMultipleChoice",
    "DefaultDataCollator",
    "default_data_collator",
    "padded_length",
]

# what each sequence key is padded with (input_ids uses the tokenizer's pad id)
_PAD_VALUES = {"attention_mask": 0, "special_tokens_mask": 1, "labels": -100}


def padded_length(
    longest: int,
    max_length: int | None = None,
    pad_to_multiple_of: int | None = None,
    length_buckets: Sequence[int] | None = None,
    padding: bool | str = True,
) -> int:
    """The length a batch whose longest example has ``longest`` tokens is padded to.

    ``padding="max_length"`` pads to ``max_length``; otherwise to ``longest``, then up to the
    smallest of ``length_buckets`` that holds it (past the last bucket: the next multiple of
    the last bucket), then up to a multiple of ``pad_to_multiple_of``.

    Example:
        >>> padded_length(13, length_buckets=(16, 32, 64))
        16
        >>> padded_length(13, pad_to_multiple_of=8)
        16
    """
    if padding == "max_length":
        if max_length is None:
            raise InvalidInputError('padding="max_length" needs max_length.')
        length = max_length
    else:
        length = longest
    if length_buckets:
        buckets = sorted(int(b) for b in length_buckets)
        fitting = [b for b in buckets if b >= length]
        length = fitting[0] if fitting else -(-length // buckets[-1]) * buckets[-1]
    if pad_to_multiple_of:
        length = -(-length // pad_to_multiple_of) * pad_to_multiple_of
    return length


def _as_features(features) -> list[dict]:
    if isinstance(features, Mapping):  # a dict of lists (a datasets batch): make it a list of rows
        keys = list(features)
        return [dict(zip(keys, values)) for values in zip(*(features[k] for k in keys))]
    rows = []
    for item in features:
        if isinstance(item, Mapping):
            rows.append(dict(item))
        else:  # a bare list of token ids
            rows.append({"input_ids": item})
    return rows


def _is_sequence(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim >= 1
    return isinstance(value, (list, tuple))


def _pad_rows(rows: list, length: int, value, side: str) -> np.ndarray:
    first = np.asarray(rows[0])
    dtype = first.dtype if first.size else np.asarray(value).dtype
    if dtype.kind in "iub":
        dtype = np.int64
    out = np.full((len(rows), length) + first.shape[1:], value, dtype=dtype)
    for i, row in enumerate(rows):
        row = np.asarray(row)[:length]
        if side == "left":
            out[i, length - len(row) :] = row
        else:
            out[i, : len(row)] = row
    return out


def _stack(values: list):
    first = values[0]
    if isinstance(first, (bool, np.bool_)):
        return np.asarray(values, dtype=bool)
    if isinstance(first, (int, np.integer)):
        return np.asarray(values, dtype=np.int64)
    if isinstance(first, (float, np.floating)):
        return np.asarray(values, dtype=np.float32)
    array = np.asarray(values)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    elif array.dtype.kind in "iu":
        array = array.astype(np.int64)
    return array


def _convert(batch: dict, return_tensors: str) -> dict:
    if return_tensors == "np":
        return batch
    if return_tensors == "tf":
        import tensorflow as tf

        return {k: tf.convert_to_tensor(v) for k, v in batch.items()}
    raise InvalidInputError(f'return_tensors must be "np" or "tf", got {return_tensors!r}.')


def _rename_labels(row: dict) -> dict:
    for old in ("label", "label_ids"):
        if old in row and "labels" not in row:
            row["labels"] = row.pop(old)
    return row


def pad_batch(
    rows: list[dict],
    tokenizer,
    padding: bool | str = True,
    max_length: int | None = None,
    pad_to_multiple_of: int | None = None,
    length_buckets: Sequence[int] | None = None,
    skip: Sequence[str] = (),
) -> dict:
    """Pad the sequence keys of tokenized rows to one length; stack the other keys.

    Example:
        >>> pad_batch([{"input_ids": [101, 102]}, {"input_ids": [101, 7, 102]}], tokenizer)["attention_mask"]
        array([[1, 1, 0], [1, 1, 1]])
    """
    if not rows:
        raise InvalidInputError("Cannot collate an empty list of examples.")
    side = getattr(tokenizer, "padding_side", "right") if tokenizer is not None else "right"
    keys = [k for k in rows[0] if k not in skip and rows[0][k] is not None and not isinstance(rows[0][k], str)]
    missing = [k for k in keys if any(k not in r for r in rows)]
    if missing:
        raise InvalidInputError(f"Some examples lack {missing}; every example needs the same keys.")
    sequence_keys = [k for k in keys if _is_sequence(rows[0][k])]
    batch = {}
    if sequence_keys:
        lengths = [len(r[k]) for r in rows for k in sequence_keys]
        if padding in (False, "do_not_pad"):
            if len(set(lengths)) > 1:
                raise InvalidInputError(
                    "Examples have different lengths and padding is off: pass a tokenizer "
                    "to pad them (DataCollatorWithPadding), or tokenize with padding."
                )
            length = max(lengths)
        else:
            length = padded_length(max(lengths), max_length, pad_to_multiple_of, length_buckets, padding)
        names = getattr(tokenizer, "model_input_names", ["input_ids", "attention_mask"]) if tokenizer else []
        if (
            "input_ids" in sequence_keys
            and "attention_mask" not in rows[0]
            and "attention_mask" in names
            and padding not in (False, "do_not_pad")
        ):
            for r in rows:
                r["attention_mask"] = [1] * len(r["input_ids"])
            sequence_keys.append("attention_mask")
            keys.append("attention_mask")
        for key in sequence_keys:
            if key == "input_ids":
                pad_id = getattr(tokenizer, "pad_token_id", None) if tokenizer is not None else 0
                if pad_id is None:
                    raise InvalidInputError(
                        "The tokenizer has no pad token: set tokenizer.pad_token "
                        "(e.g. tokenizer.pad_token = tokenizer.eos_token)."
                    )
                value = pad_id
            elif key == "token_type_ids":
                value = getattr(tokenizer, "pad_token_type_id", 0) if tokenizer is not None else 0
            else:
                value = _PAD_VALUES.get(key, 0)
            batch[key] = _pad_rows([r[key] for r in rows], length, value, side)
    for key in keys:
        if key not in batch:
            batch[key] = _stack([r[key] for r in rows])
    return batch


class DataCollatorWithPadding:
    """Pad tokenized examples to the longest in the batch (``label`` becomes ``labels``).

    Args:
        tokenizer: gives ``pad_token_id``, ``pad_token_type_id`` and ``padding_side``.
        padding: True / "longest" (default), "max_length", or False.
        max_length: the length for ``padding="max_length"``.
        pad_to_multiple_of: round padded lengths up to a multiple of this.
        length_buckets: pad up to the smallest of these lengths that fits (XLA: one compiled
            shape per bucket).
        return_tensors: "np" (default) or "tf".

    Example:
        >>> collator = DataCollatorWithPadding(tokenizer, length_buckets=(32, 64, 128))
        >>> collator([{"input_ids": [101, 2307, 102], "label": 1}])["input_ids"].shape
        (1, 32)
    """

    def __init__(
        self,
        tokenizer,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        return_tensors: str = "np",
        length_buckets: Sequence[int] | None = None,
    ):
        self.tokenizer = tokenizer
        self.padding = padding
        self.max_length = max_length
        self.pad_to_multiple_of = pad_to_multiple_of
        self.return_tensors = return_tensors
        self.length_buckets = tuple(length_buckets) if length_buckets else None

    def pad_inputs(self, features) -> tuple[list[dict], dict]:
        """(rows with ``label`` renamed ``labels``, their inputs padded); labels are left to the caller.

        Example:
            >>> rows, batch = collator.pad_inputs([{"input_ids": [101, 102], "label": 0}])
        """
        rows = [_rename_labels(r) for r in _as_features(features)]
        batch = pad_batch(
            rows,
            self.tokenizer,
            self.padding,
            self.max_length,
            self.pad_to_multiple_of,
            self.length_buckets,
            skip=("labels",),
        )
        return rows, batch

    def __call__(self, features, return_tensors: str | None = None) -> dict:
        rows, batch = self.pad_inputs(features)
        if "labels" in rows[0] and rows[0]["labels"] is not None:
            batch["labels"] = _stack([r["labels"] for r in rows])
        return _convert(batch, return_tensors or self.return_tensors)


class DataCollatorForTokenClassification(DataCollatorWithPadding):
    """Pad inputs, and per-token labels with ``label_pad_token_id`` (-100: ignored by the loss).

    Example:
        >>> collator = DataCollatorForTokenClassification(tokenizer)
        >>> collator([{"input_ids": [101, 5, 102], "labels": [-100, 3, -100]},
        ...           {"input_ids": [101, 102], "labels": [-100, -100]}])["labels"]
        array([[-100, 3, -100], [-100, -100, -100]])
    """

    def __init__(
        self,
        tokenizer,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        label_pad_token_id: int = -100,
        return_tensors: str = "np",
        length_buckets: Sequence[int] | None = None,
    ):
        super().__init__(tokenizer, padding, max_length, pad_to_multiple_of, return_tensors, length_buckets)
        self.label_pad_token_id = label_pad_token_id

    def __call__(self, features, return_tensors: str | None = None) -> dict:
        rows, batch = self.pad_inputs(features)
        if "labels" in rows[0] and rows[0]["labels"] is not None:
            length = batch["input_ids"].shape[1]
            side = getattr(self.tokenizer, "padding_side", "right")
            batch["labels"] = _pad_rows([r["labels"] for r in rows], length, self.label_pad_token_id, side)
        return _convert(batch, return_tensors or self.return_tensors)


class DataCollatorForSeq2Seq(DataCollatorForTokenClassification):
    """Pad encoder inputs and, separately, ``labels`` (to the longest label) with -100.

    When ``model`` has ``prepare_decoder_input_ids_from_labels``, ``decoder_input_ids`` are
    added from the padded labels.

    Example:
        >>> collator = DataCollatorForSeq2Seq(tokenizer)
        >>> collator([{"input_ids": [5, 6, 1], "labels": [7, 1]}, {"input_ids": [5, 1], "labels": [8, 9, 1]}])["labels"]
        array([[7, 1, -100], [8, 9, 1]])
    """

    def __init__(
        self,
        tokenizer,
        model=None,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        label_pad_token_id: int = -100,
        return_tensors: str = "np",
        length_buckets: Sequence[int] | None = None,
    ):
        super().__init__(
            tokenizer, padding, max_length, pad_to_multiple_of, label_pad_token_id, return_tensors, length_buckets
        )
        self.model = model

    def __call__(self, features, return_tensors: str | None = None) -> dict:
        rows, batch = self.pad_inputs(features)
        if "labels" in rows[0] and rows[0]["labels"] is not None:
            labels = [r["labels"] for r in rows]
            if _is_sequence(labels[0]):
                longest = max(len(label) for label in labels)
                length = padded_length(
                    longest, self.max_length, self.pad_to_multiple_of, self.length_buckets, self.padding
                )
                side = getattr(self.tokenizer, "padding_side", "right")
                batch["labels"] = _pad_rows(labels, length, self.label_pad_token_id, side)
            else:
                batch["labels"] = _stack(labels)
            prepare = getattr(self.model, "prepare_decoder_input_ids_from_labels", None)
            if prepare is not None and "decoder_input_ids" not in batch:
                batch["decoder_input_ids"] = np.asarray(prepare(labels=batch["labels"]))
        return _convert(batch, return_tensors or self.return_tensors)


class DataCollatorForMultipleChoice(DataCollatorWithPadding):
    """Pad every choice of every example to one length: inputs (batch, num_choices, length), labels (batch,).

    Each example holds one list per key with a sequence per choice, and ``label``/``labels``.

    Example:
        >>> collator = DataCollatorForMultipleChoice(tokenizer)
        >>> batch = collator([{"input_ids": [[101, 7, 102], [101, 102]], "label": 1}])
        >>> batch["input_ids"].shape, batch["labels"].tolist()
        ((1, 2, 3), [1])
    """

    def __call__(self, features, return_tensors: str | None = None) -> dict:
        rows = [_rename_labels(r) for r in _as_features(features)]
        labels = [r.pop("labels") for r in rows] if "labels" in rows[0] else None
        counts = {len(r["input_ids"]) for r in rows}
        if len(counts) != 1:
            raise InvalidInputError(f"Every example needs the same number of choices; got {sorted(counts)}.")
        num_choices = counts.pop()
        flat = [{k: v[i] for k, v in r.items()} for r in rows for i in range(num_choices)]
        batch = pad_batch(
            flat, self.tokenizer, self.padding, self.max_length, self.pad_to_multiple_of, self.length_buckets
        )
        batch = {k: v.reshape(len(rows), num_choices, *v.shape[1:]) for k, v in batch.items()}
        if labels is not None:
            batch["labels"] = _stack(labels)
        return _convert(batch, return_tensors or self.return_tensors)


class DataCollatorForLanguageModeling:
    """Language-model batches: BERT-style masking (``mlm=True``) or causal labels (``mlm=False``).

    With ``mlm=True``, each non-special, non-padding token is chosen with probability
    ``mlm_probability``; of the chosen, ``mask_replace_prob`` (80%) become the mask token,
    ``random_replace_prob`` (10%) a random token, and the rest stay; labels are -100 except
    at the chosen positions. ``seed`` makes the masking repeatable. With ``mlm=False``,
    labels are the input ids with padding set to -100 (the model shifts them).

    Example:
        >>> collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)
        >>> batch = collator([tokenizer("The movie was great.")])
        >>> sorted(batch)
        ['attention_mask', 'input_ids', 'labels', 'token_type_ids']
    """

    def __init__(
        self,
        tokenizer,
        mlm: bool = True,
        mlm_probability: float = 0.15,
        mask_replace_prob: float = 0.8,
        random_replace_prob: float = 0.1,
        pad_to_multiple_of: int | None = None,
        return_tensors: str = "np",
        seed: int | None = None,
        length_buckets: Sequence[int] | None = None,
        tf_experimental_compile: bool = False,
    ):
        # tf_experimental_compile (4.57's TF masking under XLA) is accepted for old code: masking is numpy here
        if mlm and getattr(tokenizer, "mask_token_id", None) is None:
            raise InvalidInputError(
                "Masked language modeling needs a tokenizer with a mask token; "
                "use mlm=False for causal language modeling."
            )
        if not 0 <= mlm_probability <= 1:
            raise InvalidInputError(f"mlm_probability must be in [0, 1], got {mlm_probability}.")
        if mask_replace_prob + random_replace_prob > 1:
            raise InvalidInputError("mask_replace_prob + random_replace_prob must be at most 1.")
        self.tokenizer = tokenizer
        self.mlm = mlm
        self.mlm_probability = mlm_probability
        self.mask_replace_prob = mask_replace_prob
        self.random_replace_prob = random_replace_prob
        self.pad_to_multiple_of = pad_to_multiple_of
        self.return_tensors = return_tensors
        self.length_buckets = tuple(length_buckets) if length_buckets else None
        self.generator = np.random.default_rng(seed)

    def __call__(self, features, return_tensors: str | None = None) -> dict:
        rows = [_rename_labels(r) for r in _as_features(features)]
        special = None
        if "special_tokens_mask" in rows[0]:
            special = [r.pop("special_tokens_mask") for r in rows]
        batch = pad_batch(
            rows, self.tokenizer, True, None, self.pad_to_multiple_of, self.length_buckets, skip=("labels",)
        )
        batch.pop("labels", None)
        input_ids = batch["input_ids"]
        if self.mlm:
            length = input_ids.shape[1]
            side = getattr(self.tokenizer, "padding_side", "right")
            if special is not None:
                special_mask = _pad_rows(special, length, 1, side).astype(bool)
            else:
                special_mask = np.array(
                    [
                        self.tokenizer.get_special_tokens_mask(row, already_has_special_tokens=True)
                        for row in input_ids.tolist()
                    ],
                    dtype=bool,
                )
            if "attention_mask" in batch:
                special_mask |= batch["attention_mask"] == 0
            batch["input_ids"], batch["labels"] = self.mask_tokens(input_ids.copy(), special_mask)
        else:
            labels = input_ids.copy()
            pad_id = getattr(self.tokenizer, "pad_token_id", None)
            if pad_id is not None:
                labels[labels == pad_id] = -100
            batch["labels"] = labels
        return _convert(batch, return_tensors or self.return_tensors)

    def mask_tokens(self, inputs: np.ndarray, no_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Choose, mask and randomise tokens of ``inputs`` (not where ``no_mask``); return (inputs, labels).

        Example:
            >>> ids, labels = collator.mask_tokens(np.array([[101, 7, 8, 102]]), np.array([[1, 0, 0, 1]], bool))
        """
        labels = inputs.copy()
        probability = np.full(inputs.shape, self.mlm_probability)
        probability[no_mask] = 0.0
        chosen = self.generator.random(inputs.shape) < probability
        labels[~chosen] = -100
        draw = self.generator.random(inputs.shape)
        masked = chosen & (draw < self.mask_replace_prob)
        randomised = (
            chosen & (draw >= self.mask_replace_prob) & (draw < self.mask_replace_prob + self.random_replace_prob)
        )
        inputs[masked] = self.tokenizer.mask_token_id
        random_words = self.generator.integers(0, len(self.tokenizer), size=inputs.shape)
        inputs[randomised] = random_words[randomised]
        return inputs, labels


class DefaultDataCollator:
    """Stack already-padded examples; ``label`` / ``label_ids`` become ``labels``.

    Example:
        >>> DefaultDataCollator()([{"input_ids": [1, 2], "label": 0}, {"input_ids": [3, 4], "label": 1}])
        {'input_ids': array([[1, 2], [3, 4]]), 'labels': array([0, 1])}
    """

    def __init__(self, return_tensors: str = "np"):
        self.return_tensors = return_tensors

    def __call__(self, features, return_tensors: str | None = None) -> dict:
        rows = [_rename_labels(r) for r in _as_features(features)]
        batch = pad_batch(rows, None, padding=False)
        return _convert(batch, return_tensors or self.return_tensors)


def default_data_collator(features, return_tensors: str = "np") -> dict[str, Any]:
    """Function form of :class:`DefaultDataCollator`.

    Example:
        >>> default_data_collator([{"input_ids": [1, 2], "label": 0}])["labels"]
        array([0])
    """
    return DefaultDataCollator(return_tensors)(features)
