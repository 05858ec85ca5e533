"""Model outputs: dicts that also answer by attribute and by position, as in transformers.

The classes carry transformers' TensorFlow names and field order (``TFSequenceClassifierOutput``
with ``loss, logits, hidden_states, attentions``, from 4.57's ``modeling_tf_outputs.py``); the
unprefixed names (``SequenceClassifierOutput``) are the same classes. Entries that are None are
left out, so ``outputs[0]`` is the first output that exists (``loss`` when labels were given,
else the logits or the last hidden state) and ``loss, logits = outputs[:2]`` works as TF users
wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import optree

from kerasformers.errors import InvalidInputTypeError


def _key_value_pairs(value: Any) -> list[tuple[str, Any]] | None:
    """``value`` as (name, value) pairs when it is a mapping or an iterable of such pairs, else None.

    Keras (optree) and tf.nest rebuild outputs from such pairs; a tensor is never taken apart.
    """
    if isinstance(value, Mapping):
        return list(value.items())
    if not isinstance(value, (list, tuple, Iterator)):
        return None
    items = list(value)
    if all(isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) for item in items):
        return [tuple(item) for item in items]
    return None


class ModelOutput(dict):
    """Base class of every model output: a dict of the outputs that are not None, in field order.

    Fields answer as attributes (None when absent), as keys, and by position; ``to_tuple()``
    gives the present values in order. Subclasses list their ``fields``; positional arguments
    fill them in that order, as transformers' dataclass outputs do.

    Example:
        >>> out = TFSequenceClassifierOutput(logits=logits)
        >>> out.logits is out["logits"] is out[0]
        True
        >>> out.loss is None, out.to_tuple() == (logits,)
        (True, True)
    """

    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        fields = type(self).fields
        pairs = _key_value_pairs(args[0]) if len(args) == 1 and not kwargs else None
        if pairs is not None:
            items = dict(pairs)
        elif not fields:  # the bare base class is a plain ordered dict of its outputs
            items = dict(*args, **kwargs)
        else:
            if len(args) > len(fields):
                raise InvalidInputTypeError(
                    f"{type(self).__name__} takes at most {len(fields)} positional values ({', '.join(fields)}), "
                    f"got {len(args)}."
                )
            items = dict(zip(fields, args))
            twice = sorted(set(items) & set(kwargs))
            if twice:
                raise InvalidInputTypeError(f"{type(self).__name__} got {twice} both by position and by name.")
            items.update(kwargs)
        unknown = [k for k in items if fields and k not in fields]
        if unknown:
            raise InvalidInputTypeError(f"{type(self).__name__} has no field(s) {unknown}; fields: {fields}")
        order = fields or tuple(items)
        super().__init__((k, items[k]) for k in order if items.get(k) is not None)

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        # Keras walks outputs with optree (namespace "keras"): teach it this is a container.
        optree.register_pytree_node(
            cls,
            lambda out: (tuple(out.values()), tuple(out.keys()), tuple(out.keys())),
            lambda keys, values: cls(zip(keys, values)),
            namespace="keras",
        )

    def __getattr__(self, name: str) -> Any:
        if name in type(self).fields or name in self:
            return self.get(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self).fields or name in self:
            self[name] = value
        else:
            super().__setattr__(name, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        fields = type(self).fields
        if value is None:  # an absent output is no key, so keys, attributes and positions agree
            super().pop(key, None)
            return
        if key in self or not fields:
            super().__setitem__(key, value)
            return
        if key not in fields:
            raise InvalidInputTypeError(f"{type(self).__name__} has no field {key!r}; fields: {fields}")
        items = {**self, key: value}  # keep field order, so positions stay transformers'
        super().clear()
        super().update((k, items[k]) for k in fields if k in items)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(key)
        return self.to_tuple()[key]

    def __reduce__(self):
        return type(self), (list(self.items()),)

    def __repr__(self) -> str:
        names = type(self).fields or tuple(self)
        return f"{type(self).__name__}({', '.join(f'{name}={self.get(name)!r}' for name in names)})"

    def to_tuple(self) -> tuple:
        """The outputs that are not None, in field order.

        Example:
            >>> loss, logits = model(inputs, labels=labels).to_tuple()[:2]
        """
        return tuple(self.values())


optree.register_pytree_node(
    ModelOutput,
    lambda out: (tuple(out.values()), tuple(out.keys()), tuple(out.keys())),
    lambda keys, values: ModelOutput(zip(keys, values)),
    namespace="keras",
)


# Fields and their order are transformers 4.57's (modeling_tf_outputs.py).
class TFBaseModelOutput(ModelOutput):
    """A base model's hidden states.

    Example:
        >>> TFBaseModelOutput(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "hidden_states", "attentions")


class TFBaseModelOutputWithNoAttention(ModelOutput):
    """A base model without attentions.

    Example:
        >>> TFBaseModelOutputWithNoAttention(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "hidden_states")


class TFBaseModelOutputWithPooling(ModelOutput):
    """A base model's hidden states and pooled first token.

    Example:
        >>> TFBaseModelOutputWithPooling(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


class TFBaseModelOutputWithPoolingAndNoAttention(ModelOutput):
    """A pooled base model without attentions.

    Example:
        >>> TFBaseModelOutputWithPoolingAndNoAttention(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "pooler_output", "hidden_states")


class TFBaseModelOutputWithPoolingAndCrossAttentions(ModelOutput):
    """A pooled base model that may attend to an encoder.

    Example:
        >>> TFBaseModelOutputWithPoolingAndCrossAttentions(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = (
        "last_hidden_state",
        "pooler_output",
        "past_key_values",
        "hidden_states",
        "attentions",
        "cross_attentions",
    )


class TFBaseModelOutputWithPast(ModelOutput):
    """A decoder's hidden states and its key/value cache.

    Example:
        >>> TFBaseModelOutputWithPast(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions")


class TFBaseModelOutputWithCrossAttentions(ModelOutput):
    """A base model that attends to an encoder.

    Example:
        >>> TFBaseModelOutputWithCrossAttentions(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "hidden_states", "attentions", "cross_attentions")


class TFBaseModelOutputWithPastAndCrossAttentions(ModelOutput):
    """A decoder with a cache that may attend to an encoder.

    Example:
        >>> TFBaseModelOutputWithPastAndCrossAttentions(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions", "cross_attentions")


class TFSeq2SeqModelOutput(ModelOutput):
    """An encoder-decoder's hidden states.

    Example:
        >>> TFSeq2SeqModelOutput(last_hidden_state=value).last_hidden_state is value
        True
    """

    fields = (
        "last_hidden_state",
        "past_key_values",
        "decoder_hidden_states",
        "decoder_attentions",
        "cross_attentions",
        "encoder_last_hidden_state",
        "encoder_hidden_states",
        "encoder_attentions",
    )


class TFCausalLMOutput(ModelOutput):
    """Causal language modeling.

    Example:
        >>> TFCausalLMOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFCausalLMOutputWithPast(ModelOutput):
    """Causal LM with a cache.

    Example:
        >>> TFCausalLMOutputWithPast(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions")


class TFCausalLMOutputWithCrossAttentions(ModelOutput):
    """Causal LM with a cache and cross-attentions.

    Example:
        >>> TFCausalLMOutputWithCrossAttentions(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions", "cross_attentions")


class TFMaskedLMOutput(ModelOutput):
    """Masked language modeling.

    Example:
        >>> TFMaskedLMOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFSeq2SeqLMOutput(ModelOutput):
    """Encoder-decoder language modeling.

    Example:
        >>> TFSeq2SeqLMOutput(loss=value).loss is value
        True
    """

    fields = (
        "loss",
        "logits",
        "past_key_values",
        "decoder_hidden_states",
        "decoder_attentions",
        "cross_attentions",
        "encoder_last_hidden_state",
        "encoder_hidden_states",
        "encoder_attentions",
    )


class TFNextSentencePredictorOutput(ModelOutput):
    """Next-sentence prediction.

    Example:
        >>> TFNextSentencePredictorOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFSequenceClassifierOutput(ModelOutput):
    """Sequence classification.

    Example:
        >>> TFSequenceClassifierOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFSeq2SeqSequenceClassifierOutput(ModelOutput):
    """Encoder-decoder sequence classification.

    Example:
        >>> TFSeq2SeqSequenceClassifierOutput(loss=value).loss is value
        True
    """

    fields = (
        "loss",
        "logits",
        "past_key_values",
        "decoder_hidden_states",
        "decoder_attentions",
        "cross_attentions",
        "encoder_last_hidden_state",
        "encoder_hidden_states",
        "encoder_attentions",
    )


class TFSemanticSegmenterOutput(ModelOutput):
    """Semantic segmentation.

    Example:
        >>> TFSemanticSegmenterOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFSemanticSegmenterOutputWithNoAttention(ModelOutput):
    """Semantic segmentation without attentions.

    Example:
        >>> TFSemanticSegmenterOutputWithNoAttention(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states")


class TFImageClassifierOutput(ModelOutput):
    """Image classification.

    Example:
        >>> TFImageClassifierOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFMultipleChoiceModelOutput(ModelOutput):
    """Multiple choice.

    Example:
        >>> TFMultipleChoiceModelOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFTokenClassifierOutput(ModelOutput):
    """Token classification.

    Example:
        >>> TFTokenClassifierOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states", "attentions")


class TFQuestionAnsweringModelOutput(ModelOutput):
    """Extractive question answering (span start and end).

    Example:
        >>> TFQuestionAnsweringModelOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "start_logits", "end_logits", "hidden_states", "attentions")


class TFSeq2SeqQuestionAnsweringModelOutput(ModelOutput):
    """Encoder-decoder question answering.

    Example:
        >>> TFSeq2SeqQuestionAnsweringModelOutput(loss=value).loss is value
        True
    """

    fields = (
        "loss",
        "start_logits",
        "end_logits",
        "past_key_values",
        "decoder_hidden_states",
        "decoder_attentions",
        "encoder_last_hidden_state",
        "encoder_hidden_states",
        "encoder_attentions",
    )


class TFSequenceClassifierOutputWithPast(ModelOutput):
    """Sequence classification by a decoder (last non-pad token).

    Example:
        >>> TFSequenceClassifierOutputWithPast(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions")


class TFImageClassifierOutputWithNoAttention(ModelOutput):
    """Image classification without attentions.

    Example:
        >>> TFImageClassifierOutputWithNoAttention(loss=value).loss is value
        True
    """

    fields = ("loss", "logits", "hidden_states")


class TFMaskedImageModelingOutput(ModelOutput):
    """Masked image modeling.

    Example:
        >>> TFMaskedImageModelingOutput(loss=value).loss is value
        True
    """

    fields = ("loss", "reconstruction", "hidden_states", "attentions")


# transformers' PyTorch names (the model files use them) are the same classes
BaseModelOutput = TFBaseModelOutput
BaseModelOutputWithNoAttention = TFBaseModelOutputWithNoAttention
BaseModelOutputWithPooling = TFBaseModelOutputWithPooling
BaseModelOutputWithPoolingAndNoAttention = TFBaseModelOutputWithPoolingAndNoAttention
BaseModelOutputWithPoolingAndCrossAttentions = TFBaseModelOutputWithPoolingAndCrossAttentions
BaseModelOutputWithPast = TFBaseModelOutputWithPast
BaseModelOutputWithCrossAttentions = TFBaseModelOutputWithCrossAttentions
BaseModelOutputWithPastAndCrossAttentions = TFBaseModelOutputWithPastAndCrossAttentions
Seq2SeqModelOutput = TFSeq2SeqModelOutput
CausalLMOutput = TFCausalLMOutput
CausalLMOutputWithPast = TFCausalLMOutputWithPast
CausalLMOutputWithCrossAttentions = TFCausalLMOutputWithCrossAttentions
MaskedLMOutput = TFMaskedLMOutput
Seq2SeqLMOutput = TFSeq2SeqLMOutput
NextSentencePredictorOutput = TFNextSentencePredictorOutput
SequenceClassifierOutput = TFSequenceClassifierOutput
Seq2SeqSequenceClassifierOutput = TFSeq2SeqSequenceClassifierOutput
SemanticSegmenterOutput = TFSemanticSegmenterOutput
SemanticSegmenterOutputWithNoAttention = TFSemanticSegmenterOutputWithNoAttention
ImageClassifierOutput = TFImageClassifierOutput
MultipleChoiceModelOutput = TFMultipleChoiceModelOutput
TokenClassifierOutput = TFTokenClassifierOutput
QuestionAnsweringModelOutput = TFQuestionAnsweringModelOutput
Seq2SeqQuestionAnsweringModelOutput = TFSeq2SeqQuestionAnsweringModelOutput
SequenceClassifierOutputWithPast = TFSequenceClassifierOutputWithPast
ImageClassifierOutputWithNoAttention = TFImageClassifierOutputWithNoAttention
MaskedImageModelingOutput = TFMaskedImageModelingOutput

__all__ = [
    "ModelOutput",
    "TFBaseModelOutput",
    "TFBaseModelOutputWithNoAttention",
    "TFBaseModelOutputWithPooling",
    "TFBaseModelOutputWithPoolingAndNoAttention",
    "TFBaseModelOutputWithPoolingAndCrossAttentions",
    "TFBaseModelOutputWithPast",
    "TFBaseModelOutputWithCrossAttentions",
    "TFBaseModelOutputWithPastAndCrossAttentions",
    "TFSeq2SeqModelOutput",
    "TFCausalLMOutput",
    "TFCausalLMOutputWithPast",
    "TFCausalLMOutputWithCrossAttentions",
    "TFMaskedLMOutput",
    "TFSeq2SeqLMOutput",
    "TFNextSentencePredictorOutput",
    "TFSequenceClassifierOutput",
    "TFSeq2SeqSequenceClassifierOutput",
    "TFSemanticSegmenterOutput",
    "TFSemanticSegmenterOutputWithNoAttention",
    "TFImageClassifierOutput",
    "TFMultipleChoiceModelOutput",
    "TFTokenClassifierOutput",
    "TFQuestionAnsweringModelOutput",
    "TFSeq2SeqQuestionAnsweringModelOutput",
    "TFSequenceClassifierOutputWithPast",
    "TFImageClassifierOutputWithNoAttention",
    "TFMaskedImageModelingOutput",
]
