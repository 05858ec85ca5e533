"""Blocks shared by model files where a copy is not the point.

A model file still reads top to bottom as its architecture's whole forward pass; what lives
here is the arithmetic every architecture does the same way (mask biases, picking the last
real token, the span and multiple-choice plumbing of task heads).
"""

from kerasformers.layers.attention import attention_bias, mask_value
from kerasformers.layers.embeddings import WordEmbeddings
from kerasformers.layers.heads import (
    TFSequenceSummary,
    classifier_dropout_rate,
    flatten_choices,
    last_non_pad_logits,
    span_outputs,
)

__all__ = [
    "attention_bias",
    "mask_value",
    "classifier_dropout_rate",
    "flatten_choices",
    "last_non_pad_logits",
    "span_outputs",
    "TFSequenceSummary",
    "WordEmbeddings",
]
