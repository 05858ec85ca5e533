"""Model outputs: dicts that also answer by attribute and by position, as in transformers.

Entries that are None are left out, so ``outputs[0]`` is the first output that exists
(``loss`` when labels were given, else the logits or the last hidden state).
"""

from __future__ import annotations

from typing import Any

import optree

from kerasformers.errors import InvalidInputTypeError


class ModelOutput(dict):
    """Base class of every model output.

    Example:
        >>> out = BaseModelOutput(last_hidden_state=h)
        >>> out.last_hidden_state is out["last_hidden_state"] is out[0]
        True
    """

    fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        items = dict(*args, **kwargs)
        unknown = [k for k in items if self.fields and k not in self.fields]
        if unknown:
            raise InvalidInputTypeError(f"{type(self).__name__} has no field(s) {unknown}; fields: {self.fields}")
        order = self.fields or tuple(items)
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
        if name in type(self).fields:
            return self.get(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, slice)):
            return self.to_tuple()[key]
        return super().__getitem__(key)

    def to_tuple(self) -> tuple:
        return tuple(self.values())


optree.register_pytree_node(
    ModelOutput,
    lambda out: (tuple(out.values()), tuple(out.keys()), tuple(out.keys())),
    lambda keys, values: ModelOutput(zip(keys, values)),
    namespace="keras",
)


class BaseModelOutput(ModelOutput):
    fields = ("last_hidden_state", "hidden_states", "attentions")


class BaseModelOutputWithPooling(ModelOutput):
    fields = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


class BaseModelOutputWithPast(ModelOutput):
    fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions")


class SequenceClassifierOutput(ModelOutput):
    fields = ("loss", "logits", "hidden_states", "attentions")


class TokenClassifierOutput(ModelOutput):
    fields = ("loss", "logits", "hidden_states", "attentions")


class MaskedLMOutput(ModelOutput):
    fields = ("loss", "logits", "hidden_states", "attentions")


class MultipleChoiceModelOutput(ModelOutput):
    fields = ("loss", "logits", "hidden_states", "attentions")


class QuestionAnsweringModelOutput(ModelOutput):
    fields = ("loss", "start_logits", "end_logits", "hidden_states", "attentions")


class CausalLMOutputWithPast(ModelOutput):
    fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions")


class SequenceClassifierOutputWithPast(ModelOutput):
    fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions")
