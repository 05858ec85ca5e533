"""transformers' ``modeling_tf_utils`` import path.

``from transformers.modeling_tf_utils import TFPreTrainedModel, shape_list, get_initializer``
becomes ``from kerasformers.modeling_tf_utils import ...``. The base model, ``TFSequenceSummary``,
``shape_list`` and ``get_initializer`` are kerasformers' own (re-exported); ``TFConv1D``,
``TFSharedEmbeddings``, ``keras_serializable`` and the ``TF*Loss`` mixins are written here after
4.57's definitions, for user code that builds its own layers and heads on them.

Example:
    >>> from kerasformers.modeling_tf_utils import TFPreTrainedModel, TFSequenceClassificationLoss
    >>> class MyHead(TFPreTrainedModel, TFSequenceClassificationLoss): ...
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf
from keras import ops

from kerasformers.configuration import PretrainedConfig
from kerasformers.errors import InvalidInputError, InvalidInputTypeError
from kerasformers.layers import TFSequenceSummary
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.tf_utils import get_initializer, shape_list

__all__ = [
    "TFCausalLanguageModelingLoss",
    "TFConv1D",
    "TFMaskedLanguageModelingLoss",
    "TFMultipleChoiceLoss",
    "TFNextSentencePredictionLoss",
    "TFPreTrainedModel",
    "TFQuestionAnsweringLoss",
    "TFSequenceClassificationLoss",
    "TFSequenceSummary",
    "TFSharedEmbeddings",
    "TFTokenClassificationLoss",
    "get_initializer",
    "keras_serializable",
    "shape_list",
]


# ------------------------------------------------------------------------------------------ layers
class TFConv1D(keras.layers.Layer):
    """GPT's "Conv1D": a dense layer with its kernel stored as (nx, nf) and bias as (1, nf).

    Args:
        nf: output features. nx: input features. initializer_range: stddev of the truncated
        normal kernel initializer.

    Example:
        >>> TFConv1D(nf=8, nx=4)(tf.zeros((2, 3, 4))).shape
        TensorShape([2, 3, 8])
    """

    def __init__(self, nf: int, nx: int, initializer_range: float = 0.02, **kwargs):
        super().__init__(**kwargs)
        self.nf = nf
        self.nx = nx
        self.initializer_range = initializer_range

    def build(self, input_shape=None):
        self.weight = self.add_weight(
            name="weight", shape=(self.nx, self.nf), initializer=get_initializer(self.initializer_range)
        )
        self.bias = self.add_weight(name="bias", shape=(1, self.nf), initializer="zeros")
        self.built = True

    def call(self, x):
        return ops.matmul(x, self.weight) + self.bias

    def get_config(self) -> dict:
        return {**super().get_config(), "nf": self.nf, "nx": self.nx, "initializer_range": self.initializer_range}


class TFSharedEmbeddings(keras.layers.Layer):
    """Token embeddings whose matrix also serves as the output projection (``mode="linear"``).

    transformers deprecated it for ``keras.layers.Embedding``; it is kept for code that uses it.
    ``initializer_range`` defaults to ``hidden_size ** -0.5``.

    Example:
        >>> shared = TFSharedEmbeddings(vocab_size=100, hidden_size=8)
        >>> hidden = shared(tf.constant([[1, 2]]))               # (1, 2, 8)
        >>> shared(hidden, mode="linear").shape                   # logits over the vocabulary
        TensorShape([1, 2, 100])
    """

    def __init__(self, vocab_size: int, hidden_size: int, initializer_range: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.initializer_range = hidden_size**-0.5 if initializer_range is None else initializer_range

    def build(self, input_shape=None):
        self.weight = self.add_weight(
            name="weight",
            shape=(self.vocab_size, self.hidden_size),
            initializer=get_initializer(self.initializer_range),
        )
        self.built = True

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "initializer_range": self.initializer_range,
        }

    def call(self, inputs, mode: str = "embedding"):
        if mode == "embedding":
            return ops.take(self.weight, ops.cast(inputs, "int32"), axis=0)
        if mode == "linear":
            return ops.matmul(inputs, ops.transpose(self.weight))
        raise InvalidInputError(f'TFSharedEmbeddings mode must be "embedding" or "linear", got {mode!r}.')


def keras_serializable(cls):
    """Class decorator: a layer built from a config becomes Keras-serializable (``get_config``/``from_config``).

    The layer class needs ``config_class``; its ``__init__`` takes the config first. Keras'
    config of the layer holds ``config.to_dict()``, and the class is registered (package
    "kerasformers"), so ``keras.models.load_model`` finds it without ``custom_objects``.

    Example:
        >>> @keras_serializable
        ... class MyMainLayer(keras.layers.Layer):
        ...     config_class = BertConfig
        ...     def __init__(self, config, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.config = config
    """
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise InvalidInputTypeError("@keras_serializable decorates keras.layers.Layer subclasses only.")
    config_class = getattr(cls, "config_class", None)
    if config_class is None:
        raise InvalidInputTypeError(f"Set {cls.__name__}.config_class (the config class) to use @keras_serializable.")
    initializer = cls.__init__

    @functools.wraps(initializer)
    def wrapped_init(self, *args, **kwargs):
        if args and isinstance(args[0], PretrainedConfig):
            config, args = args[0], args[1:]
        else:
            config = kwargs.pop("config", None)
        if isinstance(config, dict):
            config = config_class.from_dict(config)
        if not isinstance(config, PretrainedConfig):
            raise InvalidInputTypeError(
                f"{cls.__name__} needs `config`: a {config_class.__name__} or its to_dict(), "
                f"got {type(config).__name__}."
            )
        initializer(self, config, *args, **kwargs)
        self._serializable_config = config
        self._serializable_kwargs = kwargs

    # Keras reads __init__'s signature in __new__ and needs it to agree with the argspec
    del wrapped_init.__wrapped__
    cls.__init__ = wrapped_init
    if "get_config" not in vars(cls):

        def get_config(self) -> dict:
            layer_config = {"name": self.name, "trainable": self.trainable, **self._serializable_kwargs}
            return {**layer_config, "config": self._serializable_config.to_dict()}

        cls.get_config = get_config
    return keras.saving.register_keras_serializable(package="kerasformers")(cls)


# ------------------------------------------------------------------------------------------ losses
# transformers 4.57's hf_compute_loss mixins (modeling_tf_utils.py): the same reductions and
# shapes. Labels of -100 are ignored; ``config.tf_legacy_loss`` selects the older per-token
# results, as there.


def _per_example_cross_entropy(labels, logits):
    return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def _legacy_loss(config) -> bool:
    return bool(getattr(config, "tf_legacy_loss", False))


class TFCausalLanguageModelingLoss:
    """``hf_compute_loss(labels, logits)``: mean cross-entropy over labels != -100, shape (1,).

    Labels and logits are already aligned (the model shifts them before calling).

    Example:
        >>> class MyLM(TFPreTrainedModel, TFCausalLanguageModelingLoss): ...
        >>> model.hf_compute_loss(labels, logits)  # shape (1,)
    """

    def hf_compute_loss(self, labels, logits):
        if _legacy_loss(self.config):
            active = tf.not_equal(tf.reshape(labels, (-1,)), -100)
            reduced_logits = tf.boolean_mask(tf.reshape(logits, (-1, shape_list(logits)[2])), active)
            return _per_example_cross_entropy(tf.boolean_mask(tf.reshape(labels, (-1,)), active), reduced_logits)
        unmasked = _per_example_cross_entropy(ops.relu(labels), logits)
        mask = ops.cast(ops.not_equal(labels, -100), unmasked.dtype)
        return ops.reshape(ops.sum(unmasked * mask) / ops.sum(mask), (1,))


class TFMaskedLanguageModelingLoss(TFCausalLanguageModelingLoss):
    """Masked LM: the causal-LM loss on already-aligned labels (-100 ignored), shape (1,).

    Example:
        >>> class MyMLM(TFPreTrainedModel, TFMaskedLanguageModelingLoss): ...
    """


class TFTokenClassificationLoss:
    """``hf_compute_loss(labels, logits)``: mean cross-entropy over labels >= 0 (-100 and -1 ignored), shape (1,).

    Example:
        >>> class MyTagger(TFPreTrainedModel, TFTokenClassificationLoss): ...
    """

    def hf_compute_loss(self, labels, logits):
        if _legacy_loss(self.config):
            flat = tf.reshape(labels, (-1,))
            active = tf.where(tf.reduce_any(labels == -1), flat != -1, flat != -100)  # -1: the old ignore value
            reduced_logits = tf.boolean_mask(tf.reshape(logits, (-1, shape_list(logits)[2])), active)
            return _per_example_cross_entropy(tf.boolean_mask(flat, active), reduced_logits)
        unmasked = _per_example_cross_entropy(ops.relu(labels), logits)
        mask = ops.cast(ops.greater_equal(labels, 0), unmasked.dtype)
        return ops.reshape(ops.sum(unmasked * mask) / ops.sum(mask), (1,))


class TFSequenceClassificationLoss:
    """``hf_compute_loss(labels, logits)``: per-example loss, shape (batch,).

    Squared error when ``logits`` is 1-D or has one column (regression), else cross-entropy.

    Example:
        >>> class MyClassifier(TFPreTrainedModel, TFSequenceClassificationLoss): ...
    """

    def hf_compute_loss(self, labels, logits):
        if len(logits.shape) == 1 or logits.shape[1] == 1:
            labels = ops.cast(labels, logits.dtype)
            if len(labels.shape) == 1:
                labels = ops.expand_dims(labels, -1)
            return keras.losses.mean_squared_error(labels, logits)
        return _per_example_cross_entropy(labels, logits)


class TFMultipleChoiceLoss:
    """``hf_compute_loss(labels, logits)``: per-example cross-entropy over the choices, shape (batch,).

    Example:
        >>> class MyChooser(TFPreTrainedModel, TFMultipleChoiceLoss): ...
    """

    def hf_compute_loss(self, labels, logits):
        return _per_example_cross_entropy(labels, logits)


class TFQuestionAnsweringLoss:
    """``hf_compute_loss(labels, logits)``: labels ``{"start_position", "end_position"}``, logits
    ``(start_logits, end_logits)``; per-example mean of the two cross-entropies, shape (batch,).

    Example:
        >>> model.hf_compute_loss({"start_position": s, "end_position": e}, (start_logits, end_logits))
    """

    def hf_compute_loss(self, labels, logits):
        start = _per_example_cross_entropy(labels["start_position"], logits[0])
        end = _per_example_cross_entropy(labels["end_position"], logits[1])
        return (start + end) / 2.0


class TFNextSentencePredictionLoss:
    """``hf_compute_loss(labels, logits)``: per-example cross-entropy, 0 where the label is -100, shape (batch,).

    Example:
        >>> class MyNSP(TFPreTrainedModel, TFNextSentencePredictionLoss): ...
    """

    def hf_compute_loss(self, labels, logits):
        if _legacy_loss(self.config):
            active = tf.not_equal(tf.reshape(labels, (-1,)), -100)
            reduced_logits = tf.boolean_mask(tf.reshape(logits, (-1, 2)), active)
            return _per_example_cross_entropy(tf.boolean_mask(tf.reshape(labels, (-1,)), active), reduced_logits)
        unmasked = _per_example_cross_entropy(ops.relu(labels), logits)
        return unmasked * ops.cast(ops.not_equal(labels, -100), unmasked.dtype)
