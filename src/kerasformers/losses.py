"""Task losses, written with keras.ops, matching PyTorch transformers' loss definitions.

Labels equal to -100 are ignored, as in transformers.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasformers.errors import InvalidInputError, InvalidInputTypeError

IGNORE_INDEX = -100


def masked_sparse_categorical_crossentropy(labels, logits, ignore_index: int = IGNORE_INDEX):
    """Mean cross-entropy over the positions whose label is not ``ignore_index``.

    Example:
        >>> masked_sparse_categorical_crossentropy([[1, -100]], logits)  # logits (1, 2, vocab)
    """
    if "float" in str(labels.dtype):  # casting would truncate 0.7 to class 0 without a word
        raise InvalidInputTypeError(
            f"Class labels must be integer ids, got {labels.dtype} labels. Pass integers "
            "(labels.astype('int32')); for multi-label classification give float 0/1 labels of "
            "shape (batch, num_labels) to a sequence-classification head."
        )
    labels = ops.cast(labels, "int32")
    logits = ops.cast(logits, "float32")
    keep = ops.not_equal(labels, ignore_index)
    safe_labels = ops.where(keep, labels, 0)
    per_token = keras.losses.sparse_categorical_crossentropy(safe_labels, logits, from_logits=True)
    keep = ops.cast(keep, "float32")
    return ops.sum(per_token * keep) / ops.maximum(ops.sum(keep), 1.0)


def mean_squared_error(labels, predictions):
    """Regression loss (num_labels == 1), as transformers' MSELoss."""
    predictions = ops.cast(predictions, "float32")
    labels = ops.cast(ops.reshape(labels, ops.shape(predictions)), "float32")
    return ops.mean(ops.square(predictions - labels))


def binary_crossentropy_from_logits(labels, logits):
    """Multi-label loss, as transformers' BCEWithLogitsLoss."""
    logits = ops.cast(logits, "float32")
    labels = ops.cast(labels, "float32")
    return ops.mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


def sequence_classification_loss(config, labels, logits):
    """Pick the loss from ``config.problem_type`` (inferred as transformers does when unset)."""
    problem_type = config.problem_type
    if problem_type is None:
        if config.num_labels == 1:
            problem_type = "regression"
        elif "int" in str(labels.dtype):
            problem_type = "single_label_classification"
        else:
            problem_type = "multi_label_classification"
    if problem_type == "regression":
        return mean_squared_error(labels, ops.squeeze(logits, -1) if config.num_labels == 1 else logits)
    if problem_type == "multi_label_classification":
        if len(labels.shape) != len(logits.shape) or labels.shape[-1] not in (None, logits.shape[-1]):
            raise InvalidInputError(
                f"Float labels of shape {tuple(labels.shape)} mean multi-label classification, which needs "
                f"one 0/1 column per class: shape (batch, {config.num_labels}). For single-label "
                "classification pass integer class ids (labels.astype('int32'))."
            )
        return binary_crossentropy_from_logits(labels, logits)
    return masked_sparse_categorical_crossentropy(labels, logits)


def span_loss(start_positions, end_positions, start_logits, end_logits):
    """Question answering: mean of start and end cross-entropies; out-of-range positions clamp."""
    length = ops.shape(start_logits)[-1]
    start = ops.clip(ops.reshape(ops.cast(start_positions, "int32"), (-1,)), 0, length)
    end = ops.clip(ops.reshape(ops.cast(end_positions, "int32"), (-1,)), 0, length)
    # transformers ignores positions clamped to `length` (ignore_index=length)
    start = ops.where(ops.equal(start, length), IGNORE_INDEX, start)
    end = ops.where(ops.equal(end, length), IGNORE_INDEX, end)
    return (
        masked_sparse_categorical_crossentropy(start, start_logits)
        + masked_sparse_categorical_crossentropy(end, end_logits)
    ) / 2.0


def causal_lm_loss(labels, logits, ignore_index: int = IGNORE_INDEX):
    """Next-token loss: logits at position t predict labels at t + 1."""
    return masked_sparse_categorical_crossentropy(labels[:, 1:], logits[:, :-1, :], ignore_index)
