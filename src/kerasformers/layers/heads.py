"""The plumbing of task heads that every architecture shares (the layers stay in model files)."""

from __future__ import annotations

import keras
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.layers.dropout import Dropout


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


class TFSequenceSummary(keras.layers.Layer):
    """One vector per sequence from its hidden states, then an optional projection (GPT-2's multiple-choice head).

    As transformers' ``TFSequenceSummary``, steered by the config: ``summary_type`` ("last",
    "first", "mean" or "cls_index": the token at ``cls_index``, the last one when None),
    ``summary_use_proj`` and ``summary_proj_to_labels`` (a dense layer to ``num_labels`` or to
    ``hidden_size``), ``summary_activation``, ``summary_first_dropout`` and ``summary_last_dropout``.
    Hidden states are (..., sequence_length, hidden_size); the output drops the sequence axis.

    Example:
        >>> summary = TFSequenceSummary(config, initializer_range=0.02, name="multiple_choice_head")
        >>> summary(hidden_states, cls_index=mc_token_ids).shape  # (batch, num_choices, num_labels)
    """

    def __init__(self, config, initializer_range: float = 0.02, **kwargs):
        super().__init__(**kwargs)
        self.summary_type = config.summary_type if hasattr(config, "summary_use_proj") else "last"
        if self.summary_type not in ("last", "first", "mean", "cls_index"):
            raise NotSupportedError(
                f"summary_type={self.summary_type!r} is not supported; use 'last', 'first', 'mean' or 'cls_index' "
                "(transformers does not implement 'attn' either)."
            )
        self.summary = None
        if getattr(config, "summary_use_proj", False):
            to_labels = getattr(config, "summary_proj_to_labels", False) and config.num_labels > 0
            units = config.num_labels if to_labels else config.hidden_size
            init = keras.initializers.TruncatedNormal(stddev=initializer_range)
            self.summary = keras.layers.Dense(units, kernel_initializer=init, name="summary")
        activation = getattr(config, "summary_activation", None)
        self.activation = get_activation(activation) if activation else None
        self.first_dropout = Dropout(getattr(config, "summary_first_dropout", None) or 0.0)
        self.last_dropout = Dropout(getattr(config, "summary_last_dropout", None) or 0.0)

    def call(self, hidden_states, cls_index=None, training=False):
        if self.summary_type == "last":
            output = hidden_states[..., -1, :]
        elif self.summary_type == "first":
            output = hidden_states[..., 0, :]
        elif self.summary_type == "mean":
            output = ops.mean(hidden_states, axis=-2)
        else:
            if cls_index is None:  # the last token of every sequence
                last = ops.shape(hidden_states)[-2] - 1
                cls_index = ops.cast(ops.zeros_like(hidden_states[..., 0, 0]), "int32") + last
            index = ops.cast(cls_index, "int32")[..., None, None]
            output = ops.take_along_axis(hidden_states, index, axis=-2)[..., 0, :]
        output = self.first_dropout(output, training=training)
        if self.summary is not None:
            output = self.summary(output)
        if self.activation is not None:
            output = self.activation(output)
        return self.last_dropout(output, training=training)
