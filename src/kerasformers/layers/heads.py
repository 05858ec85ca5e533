"""The plumbing of task heads that every architecture shares (the layers stay in model files)."""

from __future__ import annotations

from keras import ops

from kerasformers import losses
from kerasformers.errors import InvalidInputError


def classifier_dropout_rate(config) -> float:
    """``classifier_dropout`` when the config sets it, else ``hidden_dropout_prob`` (transformers' rule).

    Example:
        >>> classifier_dropout_rate(BertConfig(hidden_dropout_prob=0.1))
        0.1
    """
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


def span_outputs(logits, start_positions=None, end_positions=None):
    """(batch, seq, 2) span logits -> (start_logits, end_logits, loss or None).

    Example:
        >>> start, end, loss = span_outputs(model.qa_outputs(hidden), start_positions, end_positions)
    """
    start_logits, end_logits = logits[..., 0], logits[..., 1]
    loss = None
    if start_positions is not None and end_positions is not None:
        loss = losses.span_loss(start_positions, end_positions, start_logits, end_logits)
    return start_logits, end_logits, loss


def flatten_choices(x):
    """(batch, num_choices, seq) -> (batch * num_choices, seq), for multiple-choice heads; None stays None.

    Example:
        >>> flatten_choices(np.zeros((2, 4, 7))).shape
        TensorShape([8, 7])
    """
    return None if x is None else ops.reshape(x, (-1, ops.shape(x)[-1]))


def last_non_pad_logits(logits, input_ids, pad_token_id):
    """Each row's logits at its rightmost non-pad token, as transformers' decoder classifiers pick them.

    Without a pad_token_id the last position is used (transformers then refuses batches > 1).

    Example:
        >>> last_non_pad_logits(scores, input_ids, config.pad_token_id).shape
        TensorShape([2, 3])
    """
    if pad_token_id is None:
        if input_ids is not None and ops.shape(input_ids)[0] not in (None, 1):
            raise InvalidInputError(
                "Cannot classify batches of more than one sequence without a pad_token_id: "
                "set model.config.pad_token_id (e.g. to the tokenizer's pad id)."
            )
        return logits[:, -1]
    non_pad = ops.cast(ops.not_equal(input_ids, pad_token_id), "int32")
    positions = ops.arange(ops.shape(input_ids)[1], dtype="int32")[None, :]
    last = ops.cast(ops.argmax(positions * non_pad, axis=-1), "int32")
    return ops.take_along_axis(logits, last[:, None, None], axis=1)[:, 0]
