"""transformers' ``tf_utils`` helpers, with 4.57's signatures and results, and ``set_seed``.

Code written against ``transformers.tf_utils`` (``shape_list``, ``stable_softmax``, ``flatten``,
``invert_attention_mask``, ...) runs with ``kerasformers.tf_utils``; ``set_seed`` is
transformers' ``set_seed`` (``from transformers import set_seed``) for Python, NumPy, TensorFlow
and Keras.

Example:
    >>> from kerasformers.tf_utils import shape_list
    >>> shape_list(tf.zeros((2, 3)))
    [2, 3]
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from kerasformers.errors import InvalidInputError, NotSupportedError

__all__ = [
    "check_embeddings_within_bounds",
    "convert_batch_encoding",
    "expand_1d",
    "flatten",
    "functional_layernorm",
    "get_initializer",
    "invert_attention_mask",
    "scaled_dot_product_attention",
    "set_seed",
    "shape_list",
    "stable_softmax",
]


def shape_list(tensor: tf.Tensor | np.ndarray) -> list[int] | tf.Tensor:
    """The shape as a list: static sizes as ints, unknown ones as scalar tensors (inside a tf.function).

    A tensor of unknown rank gives its dynamic shape tensor, as in transformers.

    Example:
        >>> shape_list(np.zeros((2, 3)))
        [2, 3]
    """
    if isinstance(tensor, np.ndarray):
        return list(tensor.shape)
    dynamic = tf.shape(tensor)
    if tensor.shape == tf.TensorShape(None):
        return dynamic
    return [dynamic[i] if size is None else size for i, size in enumerate(tensor.shape.as_list())]


def stable_softmax(logits: tf.Tensor, axis: int | None = None, name: str | None = None) -> tf.Tensor:
    """``tf.nn.softmax`` of ``logits + 1e-9`` (transformers' workaround for XLA on CPU; same result).

    Example:
        >>> stable_softmax(tf.constant([0.0, 0.0]))
        <tf.Tensor: shape=(2,), dtype=float32, numpy=array([0.5, 0.5], dtype=float32)>
    """
    return tf.nn.softmax(logits=logits + 1e-9, axis=axis, name=name)


def functional_layernorm(inputs, weight, bias, epsilon: float = 1e-5, axis: int = -1) -> tf.Tensor:
    """Layer normalisation over one ``axis`` with 1-D ``weight`` and ``bias`` (PyTorch's F.layer_norm).

    Example:
        >>> functional_layernorm(x, tf.ones(4), tf.zeros(4))  # x: (..., 4)
    """
    if weight.shape.rank != 1 or bias.shape.rank != 1 or not isinstance(axis, int):
        raise NotSupportedError(
            "functional_layernorm supports 1-D weight and bias over a single integer axis, as in transformers; "
            f"got weight rank {weight.shape.rank}, bias rank {bias.shape.rank}, axis {axis!r}."
        )
    mean, variance = tf.nn.moments(inputs, axes=[axis], keepdims=True)
    if axis != -1:
        shape = [1] * inputs.shape.rank
        shape[axis] = shape_list(inputs)[axis]
        weight = tf.reshape(weight, shape)
        bias = tf.reshape(bias, shape)
    return tf.nn.batch_normalization(inputs, mean, variance, offset=bias, scale=weight, variance_epsilon=epsilon)


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None
) -> tf.Tensor:
    """PyTorch's ``F.scaled_dot_product_attention`` in TensorFlow, as transformers 4.57 wrote it.

    An integer or boolean ``attn_mask`` keeps positions where it is > 0 (the others get -1000
    added to their logits); a float mask is added as is.

    Example:
        >>> scaled_dot_product_attention(q, k, v, is_causal=True)  # q, k, v: (batch, heads, length, dim)
    """
    if dropout_p != 0.0:
        raise NotSupportedError(
            "scaled_dot_product_attention has no dropout (dropout_p must be 0.0), as in transformers."
        )
    if is_causal and attn_mask is not None:
        raise InvalidInputError("Pass either attn_mask or is_causal=True to scaled_dot_product_attention, not both.")
    if is_causal:
        attn_mask = tf.experimental.numpy.tril(tf.ones((tf.shape(query)[-2], tf.shape(key)[-2]), dtype=tf.int32))
    if attn_mask is not None and (attn_mask.dtype.is_integer or attn_mask.dtype.is_bool):
        if attn_mask.dtype.is_bool:
            attn_mask = tf.cast(attn_mask, tf.int32)
        attn_mask = tf.where(attn_mask > 0, tf.cast(0.0, query.dtype), tf.cast(-1000.0, query.dtype))
    logits = tf.einsum("...qd, ...kd -> ...qk", query, key)
    if scale is None:
        scale = tf.cast(tf.shape(key)[-1], logits.dtype) ** -0.5
    logits *= scale
    if attn_mask is not None:
        logits += attn_mask
    return tf.nn.softmax(logits) @ value


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> tf.Tensor:  # noqa: A002  (torch.flatten's name)
    """``torch.flatten``: merge the dimensions ``start_dim`` to ``end_dim`` (inclusive) into one.

    Example:
        >>> flatten(tf.zeros((2, 3, 4)), start_dim=1).shape
        TensorShape([2, 12])
    """
    if end_dim < 0:
        end_dim += input.shape.rank
    if start_dim < 0:
        start_dim += input.shape.rank
    if start_dim == end_dim:
        return input
    in_shape = tf.shape(input)
    merged = tf.math.reduce_prod(in_shape[start_dim : end_dim + 1])
    return tf.reshape(input, tf.concat([in_shape[:start_dim], [merged], in_shape[end_dim + 1 :]], axis=0))


def invert_attention_mask(encoder_attention_mask) -> tf.Tensor:
    """A 0/1 mask (batch, length) or (batch, query, key) as an additive bias broadcastable over heads.

    Kept positions become 0 and masked ones the dtype's most negative value (a float mask keeps
    its dtype), as transformers 4.57 computes it.

    Example:
        >>> invert_attention_mask(tf.constant([[1.0, 0.0]])).shape
        TensorShape([1, 1, 1, 2])
    """
    mask = tf.convert_to_tensor(encoder_attention_mask)
    if mask.shape.rank == 3:
        extended = mask[:, None, :, :]
    elif mask.shape.rank == 2:
        extended = mask[:, None, None, :]
    else:
        raise InvalidInputError(
            f"invert_attention_mask takes a mask of rank 2 (batch, length) or 3 (batch, query, key); "
            f"got rank {mask.shape.rank}."
        )
    return (tf.cast(1, mask.dtype) - extended) * extended.dtype.min


def check_embeddings_within_bounds(tensor: tf.Tensor, embed_dim: int, tensor_name: str = "input_ids") -> None:
    """Fail when an index in ``tensor`` is not below ``embed_dim`` (the embedding's input size).

    ``tf.gather`` returns zeros for such indices on GPU instead of failing: this makes it an
    error (``tf.errors.InvalidArgumentError``), as in transformers.

    Example:
        >>> check_embeddings_within_bounds(input_ids, config.vocab_size)
    """
    tf.debugging.assert_less(
        tensor,
        tf.cast(embed_dim, dtype=tensor.dtype),
        message=(
            f"The maximum value of {tensor_name} ({tf.math.reduce_max(tensor)}) must be smaller than the embedding "
            f"layer's input dimension ({embed_dim}). The likely cause is some problem at tokenization time."
        ),
    )


def expand_1d(data):
    """Give every rank-1 ``tf.Tensor`` in a nested structure a trailing axis (as old Keras did).

    Example:
        >>> expand_1d({"labels": tf.constant([0, 1])})["labels"].shape
        TensorShape([2, 1])
    """

    def expand(t):
        if isinstance(t, tf.Tensor) and t.shape.rank == 1:
            return tf.expand_dims(t, axis=-1)
        return t

    return tf.nest.map_structure(expand, data)


def convert_batch_encoding(*args, **kwargs) -> tuple[list | tuple, dict]:
    """Make a tokenizer's BatchEncoding (first positional argument, or ``x=``) a plain dict for Keras.

    Example:
        >>> args, kwargs = convert_batch_encoding(tokenizer(texts), epochs=1)
        >>> type(args[0])
        <class 'dict'>
    """
    if args and isinstance(args[0], Mapping) and type(args[0]) is not dict:
        args = list(args)
        args[0] = dict(args[0])
    elif isinstance(kwargs.get("x"), Mapping) and type(kwargs["x"]) is not dict:
        kwargs["x"] = dict(kwargs["x"])
    return args, kwargs


def get_initializer(initializer_range: float = 0.02) -> keras.initializers.Initializer:
    """The truncated-normal initializer transformers' TF models use (``stddev=initializer_range``).

    Example:
        >>> keras.layers.Dense(4, kernel_initializer=get_initializer(config.initializer_range))
    """
    return keras.initializers.TruncatedNormal(stddev=initializer_range)


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy, TensorFlow and Keras, as transformers' ``set_seed`` does.

    With ``deterministic=True`` TensorFlow also runs deterministic kernels only
    (``tf.config.experimental.enable_op_determinism``), which can be slower.

    Example:
        >>> set_seed(42)
        >>> a = keras.random.normal((2,)); set_seed(42)
        >>> bool((a == keras.random.normal((2,))).numpy().all())
        True
    """
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    keras.utils.set_random_seed(seed)  # also Keras' global seed generator (layer initializers, dropout)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
