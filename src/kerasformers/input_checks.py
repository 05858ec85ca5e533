"""One validation step at the model boundary, shared by every architecture and head.

Token ids that are negative or past the vocabulary, masks whose shape would broadcast, empty
sequences, float or string ids: each gets one clear error naming the argument, the bad value,
the allowed range and the fix, instead of a raw backend error or (worse) a silent wrong result.

The checks read values, so they run where values exist in Python: eager model calls on
arrays, lists or eager tensors, ``predict`` / ``fit`` / ``evaluate`` on in-memory arrays, and
``generate()``. Inside ``tf.function``, XLA and ``tf.data`` pipelines only the static checks
(ranks, lengths) apply: an id check there would cost a device sync per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError, InvalidInputTypeError

# How to get valid ids for each input that indexes an embedding table.
ID_FIXES = {
    "input_ids": "the tokenizer that belongs to this checkpoint",
    "decoder_input_ids": "the tokenizer that belongs to this checkpoint",
    "token_type_ids": "token_type_ids from the tokenizer (0 and 1 for text pairs)",
    "position_ids": "positions 0 .. length - 1, or leave position_ids out",
}
# Inputs that must have exactly the shape of input_ids (no broadcasting over the batch).
_SAME_SHAPE_INPUTS = ("attention_mask", "token_type_ids", "position_ids")


def as_concrete_array(value: Any, name: str) -> np.ndarray | None:
    """``value`` as a numpy array when it is concrete (array, list, eager tensor), else None.

    Raises a clear error for ragged lists and for strings where ids are due.

    Example:
        >>> as_concrete_array([[1, 2], [3, 4]], "input_ids").shape
        (2, 2)
    """
    if value is None or isinstance(value, (bool, int, float)):
        return None
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except ValueError:
            raise InvalidInputError(
                f"{name} is a ragged list (rows of different lengths). Pad the rows to one "
                "length: tokenizer(texts, padding=True, return_tensors='np')."
            ) from None
    elif isinstance(value, np.ndarray):
        array = value
    elif type(value).__name__ == "EagerTensor":  # a concrete TensorFlow tensor
        array = value.numpy()
    else:
        return None  # symbolic tensors, variables, ragged or sparse tensors: nothing to read
    if array.dtype.kind in "USO":
        raise InvalidInputTypeError(
            f"{name} holds {'strings' if array.dtype.kind != 'O' else 'Python objects'} "
            f"({array.dtype}), not token ids. Tokenize the text first: "
            "tokenizer(texts, return_tensors='np'), then pass its output to the model."
        )
    return array


def validate_model_inputs(
    inputs: Mapping[str, Any],
    id_limits: Mapping[str, tuple[int, str]],
    main_input_name: str = "input_ids",
    caller: str = "the model",
) -> dict[str, np.ndarray | None]:
    """Raise one clear error for inputs that would fail deep in the backend or give wrong results.

    Checks dtypes (integer ids), value ranges (``id_limits``: input name -> (table size, config
    field), e.g. ``{"input_ids": (99, "vocab_size")}``), empty sequences, and that masks and type
    ids match the shape of ``input_ids`` exactly. Inputs that are not concrete (symbolic, in a
    graph) are skipped. Returns the checked inputs as numpy arrays (None where not concrete).

    Example:
        >>> validate_model_inputs({"input_ids": np.array([[5, -1]])}, {"input_ids": (99, "vocab_size")})
        Traceback (most recent call last):
        kerasformers.errors.InvalidInputError: input_ids holds -1 at position (0, 1), outside [0, 99) ...
    """
    arrays = {
        name: as_concrete_array(value, name)
        for name, value in inputs.items()
        if name in ID_FIXES or name in _SAME_SHAPE_INPUTS
    }
    main = arrays.get(main_input_name)
    if main is not None:
        if main.ndim >= 1 and main.shape[-1] == 0:
            raise InvalidInputError(
                f"{main_input_name} has no tokens (shape {main.shape}): {caller} needs at least "
                "one token per row. Tokenize non-empty text (add_special_tokens=True adds the "
                "model's special tokens)."
            )
        if main.ndim >= 1 and main.shape[0] == 0:
            raise InvalidInputError(
                f"{main_input_name} has an empty batch (shape {main.shape}): give {caller} at least one example."
            )
    for name, array in arrays.items():
        if array is None:
            continue
        if name in ID_FIXES:
            _check_ids(name, array, id_limits.get(name))
        elif array.dtype.kind not in "iubf":
            raise InvalidInputTypeError(f"{name} must be numeric (0/1 integers or floats), got {array.dtype}.")
        if main is not None and name in _SAME_SHAPE_INPUTS:
            _check_same_shape(
                name,
                array,
                main,
                main_input_name,
                "past_key_values" in inputs and inputs["past_key_values"] is not None,
            )
    return arrays


def _check_ids(name: str, array: np.ndarray, limit: tuple[int, str] | None) -> None:
    if array.dtype.kind == "f":
        raise InvalidInputTypeError(
            f"{name} must hold integer ids, got {array.dtype}. Floats would be truncated "
            f"silently: pass integers ({name}.astype('int32')), as the tokenizer returns them."
        )
    if array.dtype.kind not in "iu":
        raise InvalidInputTypeError(f"{name} must hold integer ids, got {array.dtype}.")
    if array.size == 0 or limit is None:
        return
    size, size_field = limit
    low, high = array.min(), array.max()
    if low >= 0 and high < size:
        return
    bad = low if low < 0 else high
    where = tuple(int(i) for i in np.argwhere(array == bad)[0])
    raise InvalidInputError(
        f"{name} holds {int(bad)} at position {where}, outside [0, {size}) ({size_field}={size}). Use {ID_FIXES[name]}."
    )


def _check_same_shape(name: str, array: np.ndarray, main: np.ndarray, main_name: str, cached: bool) -> None:
    if name == "position_ids" and array.ndim == main.ndim and array.shape[0] == 1 and array.shape[1:] == main.shape[1:]:
        return  # one row of positions for every example, as transformers allows
    if cached and name == "attention_mask":
        # with a KV cache the mask also covers the cached positions: only the batch must match
        if array.ndim == main.ndim and array.shape[0] == main.shape[0] and array.shape[-1] >= main.shape[-1]:
            return
    elif array.shape == main.shape:
        return
    raise InvalidInputError(
        f"{name} has shape {array.shape} but {main_name} has shape {main.shape}; they must match "
        "exactly (a mask is not broadcast over the batch). Pass the tokenizer's output for both."
    )


def validate_labels_dtype(labels: Mapping[str, Any]) -> None:
    """Refuse string labels with a clear error (eager, in-memory ``fit`` / ``evaluate``).

    Example:
        >>> validate_labels_dtype({"labels": np.array(["pos", "neg"])})
        Traceback (most recent call last):
        kerasformers.errors.InvalidInputTypeError: labels holds strings ...
    """
    for name, value in labels.items():
        array = None
        if isinstance(value, (list, tuple, np.ndarray)):
            try:
                array = np.asarray(value)
            except ValueError:
                continue
        if array is not None and array.dtype.kind in "USO":
            raise InvalidInputTypeError(
                f"{name} holds strings ({array.dtype}), not class ids. Map them to integers "
                "first (e.g. label2id = {name: i for i, name in enumerate(sorted(set(labels)))}) "
                "and pass id2label / label2id to from_pretrained."
            )
