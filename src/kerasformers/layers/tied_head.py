"""Logits of a language-model head tied to the token embeddings: ``hidden @ embeddings^T``.

XLA on CPU runs the product of a few rows by a ``(vocab, hidden)`` matrix about 1.6x faster as
``embeddings @ hidden^T`` (the vocabulary as the rows of the left operand) than as
``hidden @ embeddings^T``, and its simplifier turns ``transpose(embeddings @ hidden^T)`` back
into the slow form. For the few rows a decoding step has (batch x 1 position) inside an XLA
function, :func:`tied_logits` computes the fast form and keeps the transpose apart with an
optimization barrier. Everywhere else (eager, a graph without XLA, training, many rows, other
backends) it is the plain product. Both are the same sum over the hidden axis; only the
order of the floating-point additions may differ.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasformers.utils.backend import inside_xla

# Up to this many rows (batch x kept positions) the product runs in the vocab-major form: decoding
# steps and the prefill's last position. Full-sequence logits (training, scoring) stay as they were.
VOCAB_MAJOR_MAX_ROWS = 64


def _transpose_kept_apart(vocab_major):
    """``transpose(x)`` that XLA's simplifier cannot fold into the product that made ``x``."""
    import tensorflow as tf
    from tensorflow.compiler.tf2xla.python import xla

    @tf.custom_gradient
    def barrier(x):  # the barrier op has no registered gradient: it is the identity
        return xla.optimization_barrier(x), lambda upstream: upstream

    return tf.transpose(barrier(vocab_major))


def _times_transposed(hidden_states, embeddings):
    """``hidden @ embeddings^T`` without materialising the transpose (a vocab x hidden copy).

    ``ops.transpose`` of the table is a full copy in eager mode (113 MB for SmolLM2's, paid by the
    build-time call of every load); ``tf.matmul(..., transpose_b=True)`` reads the table as it is.
    """
    import tensorflow as tf

    dtype = keras.backend.result_type(hidden_states.dtype, embeddings.dtype)
    hidden_states = tf.cast(hidden_states, dtype)
    embeddings = tf.cast(embeddings, dtype)
    flat = tf.reshape(hidden_states, (-1, embeddings.shape[-1]))
    logits = tf.matmul(flat, embeddings, transpose_b=True)
    dynamic = tf.shape(hidden_states)
    leading = [size if size is not None else dynamic[axis] for axis, size in enumerate(hidden_states.shape[:-1])]
    return tf.reshape(logits, [*leading, embeddings.shape[0]])


def tied_logits(hidden_states, embeddings, training: bool = False):
    """``hidden_states (..., hidden) @ embeddings (vocab, hidden)^T`` -> ``(..., vocab)``.

    Example:
        >>> hidden = np.ones((2, 1, 4), "float32"); table = np.ones((10, 4), "float32")
        >>> tied_logits(hidden, table).shape
        TensorShape([2, 1, 10])
    """
    shape = hidden_states.shape
    rows = None
    if all(isinstance(d, int) for d in shape[:-1]):
        rows = 1
        for d in shape[:-1]:
            rows *= d
    small = rows is not None and rows <= VOCAB_MAJOR_MAX_ROWS
    training = training if isinstance(training, bool) else True  # a symbolic flag: take the plain path
    if keras.backend.backend() != "tensorflow":
        return ops.matmul(hidden_states, ops.transpose(embeddings))
    if training or not small or not inside_xla():
        return _times_transposed(hidden_states, embeddings)
    flat = ops.reshape(hidden_states, (rows, shape[-1]))
    vocab_major = ops.matmul(ops.cast(embeddings, flat.dtype), ops.transpose(flat))  # (vocab, rows)
    return ops.reshape(_transpose_kept_apart(vocab_major), (*shape[:-1], -1))


__all__ = ["tied_logits"]
