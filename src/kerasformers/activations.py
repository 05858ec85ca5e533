"""Activation functions by their Hugging Face config names (``hidden_act``)."""

from __future__ import annotations

import keras

from kerasformers.errors import ConfigError


def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


def _quick_gelu(x):
    return x * keras.ops.sigmoid(1.702 * x)


ACTIVATIONS = {
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "gelu_fast": _gelu_tanh,
    "quick_gelu": _quick_gelu,
    "relu": keras.activations.relu,
    "silu": keras.activations.silu,
    "swish": keras.activations.silu,
    "tanh": keras.activations.tanh,
    "sigmoid": keras.activations.sigmoid,
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
