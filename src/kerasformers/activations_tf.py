"""transformers' ``activations_tf`` import path: ``get_tf_activation`` and ``ACT2FN``.

The functions are those of :mod:`kerasformers.activations` (keras.ops), under the names 4.57's
``activations_tf.py`` gave them.

Example:
    >>> from kerasformers.activations_tf import get_tf_activation
    >>> get_tf_activation("gelu_new")(tf.constant([1.0]))
"""

from __future__ import annotations

from kerasformers.activations import ACTIVATIONS, gelu_10, gelu_fast, get_activation, glu, mish, quick_gelu

__all__ = ["ACT2FN", "gelu", "gelu_10", "gelu_fast", "gelu_new", "get_tf_activation", "glu", "mish", "quick_gelu"]

# every config name kerasformers knows (4.57's twelve among them)
ACT2FN = ACTIVATIONS
gelu = ACTIVATIONS["gelu"]
gelu_new = ACTIVATIONS["gelu_new"]


def get_tf_activation(activation_string: str):
    """The activation called ``activation_string`` (``"gelu"``, ``"gelu_new"``, ``"swish"``, ...).

    An unknown name is a ``ConfigError`` listing the known ones.

    Example:
        >>> get_tf_activation("quick_gelu")(tf.zeros((2,)))
    """
    return get_activation(activation_string)
