"""Activation functions by their Hugging Face config names (``hidden_act``)."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasformers.errors import ConfigError


def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


def _gelu_erf_formula(x):
    """0.5 * x * (1 + erf(x / sqrt(2))), written out (transformers' gelu_python)."""
    return 0.5 * x * (1.0 + ops.erf(x / math.sqrt(2.0)))


def _gelu_tanh_formula(x):
    """The tanh approximation written out (transformers' gelu_accurate, gelu_python_tanh)."""
    return 0.5 * x * (1.0 + ops.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * ops.power(x, 3))))


def gelu_fast(x):
    """transformers' gelu_fast: 0.5 * x * (1 + tanh(0.7978845608 * x * (1 + 0.044715 * x * x)))."""
    return 0.5 * x * (1.0 + ops.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


def quick_gelu(x):
    """x * sigmoid(1.702 * x)."""
    return x * ops.sigmoid(1.702 * x)


def gelu_10(x):
    """Exact GELU clipped to [-10, 10] (for quantization)."""
    return ops.clip(_gelu_exact(x), -10.0, 10.0)


def glu(x, axis: int = -1):
    """Gated linear unit: split ``x`` in two halves A, B along ``axis``; A * sigmoid(B)."""
    a, b = ops.split(x, 2, axis=axis)
    return a * ops.sigmoid(b)


def mish(x):
    """x * tanh(softplus(x))."""
    return x * ops.tanh(ops.softplus(x))


def laplace(x, mu: float = 0.707107, sigma: float = 0.282095):
    """transformers' LaplaceActivation: 0.5 * (1 + erf((x - mu) / (sigma * sqrt(2))))."""
    return 0.5 * (1.0 + ops.erf((x - mu) / (sigma * math.sqrt(2.0))))


def relu2(x):
    """relu(x) squared."""
    return ops.square(ops.relu(x))


def leaky_relu(x):
    """PyTorch's LeakyReLU default slope, 0.01 (Keras' default is 0.2)."""
    return ops.leaky_relu(x, negative_slope=0.01)


def linear(x):
    """The identity."""
    return x


ACTIVATIONS = {
    "gelu": _gelu_exact,
    "gelu_10": gelu_10,
    "gelu_accurate": _gelu_tanh_formula,
    "gelu_fast": gelu_fast,
    "gelu_new": _gelu_tanh,
    "gelu_python": _gelu_erf_formula,
    "gelu_python_tanh": _gelu_tanh_formula,
    "gelu_pytorch_tanh": _gelu_tanh,
    "glu": glu,
    "hardswish": keras.activations.hard_silu,
    "laplace": laplace,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "mish": mish,
    "quick_gelu": quick_gelu,
    "relu": keras.activations.relu,
    "relu2": relu2,
    "relu6": keras.activations.relu6,
    "sigmoid": keras.activations.sigmoid,
    "silu": keras.activations.silu,
    "swish": keras.activations.silu,
    "tanh": keras.activations.tanh,
}


def get_activation(name: str):
    """The activation called ``name`` in a Hugging Face config.

    Example:
        >>> get_activation("gelu")(keras.ops.ones((2,)))
    """
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown activation {name!r} (hidden_act). Known: {', '.join(sorted(ACTIVATIONS))}."
        ) from None
