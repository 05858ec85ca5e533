"""Attention masks as additive biases."""

from __future__ import annotations

import keras
import ml_dtypes
from keras import ops


def mask_value(dtype) -> float:
    """The most negative finite value of ``dtype``: what a masked attention score becomes.

    transformers uses the dtype's minimum (not -inf), so a fully masked row stays finite.

    Example:
        >>> mask_value("float16")
        -65504.0
    """
    return float(ml_dtypes.finfo(keras.backend.standardize_dtype(dtype)).min)


def attention_bias(attention_mask, dtype):
    """(batch, seq) 1/0 mask -> (batch, 1, 1, seq) additive bias: 0 to keep, the dtype's minimum to drop.

    Example:
        >>> attention_bias(np.array([[1, 0]]), "float32")[0, 0, 0]
        array([ 0.0000000e+00, -3.4028235e+38], dtype=float32)
    """
    dtype = keras.backend.standardize_dtype(dtype)
    # expand_dims, not [:, None, None, :]: TFLite has no builtin for a new-axis strided slice
    mask = ops.cast(ops.expand_dims(attention_mask, (1, 2)), dtype)
    return (1.0 - mask) * ops.cast(mask_value(dtype), dtype)
