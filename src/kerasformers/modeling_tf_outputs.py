"""transformers' ``modeling_tf_outputs`` import path: the output classes under their TF names.

``from transformers.modeling_tf_outputs import TFSequenceClassifierOutput`` becomes
``from kerasformers.modeling_tf_outputs import TFSequenceClassifierOutput``; the classes are
those of :mod:`kerasformers.outputs`.

Example:
    >>> from kerasformers.modeling_tf_outputs import TFSequenceClassifierOutput
    >>> type(model(inputs)) is TFSequenceClassifierOutput  # a sequence-classification head
    True
"""

from kerasformers import outputs as _outputs
from kerasformers.outputs import *  # noqa: F403  (the import path re-exports every output class)

__all__ = list(_outputs.__all__)
