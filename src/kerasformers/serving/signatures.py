"""Serving signatures: which integer inputs a model's SavedModel/ONNX graph takes, and its
serving ``tf.function`` (token ids in, the model's named outputs out)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from kerasformers.serving._tensorflow import tf

__all__ = ["SERVING_INPUTS", "serving_input_names", "serving_function", "serving_functions", "load_tokenizer_layer"]

SERVING_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def serving_input_names(model) -> list[str]:
    """The integer inputs a serving signature of ``model`` takes, in order.

    Example:
        >>> serving_input_names(TFBertModel.from_pretrained(path))
        ['input_ids', 'attention_mask', 'token_type_ids']
    """
    parameters = model._call_parameters()
    return [name for name in SERVING_INPUTS if name in parameters]


def input_rank(model) -> int:
    """The rank of the model's token inputs: 2, or 3 for multiple-choice heads.

    Example:
        >>> input_rank(TFBertForMultipleChoice(config))
        3
    """
    return int(np.ndim(model.dummy_inputs["input_ids"]))


def named_outputs(outputs) -> dict[str, tf.Tensor]:
    """ModelOutput -> a flat {name: tensor} dict (tuples such as hidden_states become name_i).

    Example:
        >>> sorted(named_outputs(model(batch, output_hidden_states=True)))[:2]
        ['hidden_states_0', 'hidden_states_1']
    """
    named = {}
    for name, value in dict(outputs).items():
        if name == "past_key_values" or value is None:
            continue
        if isinstance(value, (tuple, list)):
            for index, item in enumerate(value):
                named[f"{name}_{index}"] = tf.convert_to_tensor(item)
        else:
            named[name] = tf.convert_to_tensor(value)
    return named


def call_model(model, inputs: dict, **options) -> Any:
    """Call ``model`` for serving: inference mode, no KV cache, only the options it accepts.

    Example:
        >>> call_model(model, {"input_ids": ids}).logits
    """
    parameters = model._call_parameters()
    if "use_cache" in parameters:
        options.setdefault("use_cache", False)
    options = {k: v for k, v in options.items() if k in parameters}
    return model(inputs, training=False, **options)


def serving_function(model, *, output_hidden_states: bool = False, output_attentions: bool = False):
    """The model's serving ``tf.function``: a dict of int32 or int64 token ids -> named outputs.

    One function for both dtypes (ids are cast to int32 inside), so a SavedModel that keeps it
    (as ``serve``) takes the int64 arrays tokenizers return as well as int32.

    Example:
        >>> serve = serving_function(model)
        >>> serve({"input_ids": ids, "attention_mask": mask})["logits"]
    """
    names = tuple(serving_input_names(model))
    options = {"output_hidden_states": output_hidden_states, "output_attentions": output_attentions}

    def serve(inputs):
        inputs = {name: tf.cast(inputs[name], tf.int32) for name in names}
        return named_outputs(call_model(model, inputs, **options))

    return tf.function(serve)


def serving_functions(
    model, *, int64: bool = True, output_hidden_states: bool = False, output_attentions: bool = False, function=None
) -> dict[str, Any]:
    """Concrete serving functions of ``model``: ``serving_default`` (int32) and ``serving_int64``.

    Batch and sequence length are dynamic. Outputs are the model's named outputs. A signature
    has fixed input types (TF Serving's contract), so int64 ids go to ``serving_int64``;
    ``tf.saved_model.load(path).serve({...})`` takes either.

    Example:
        >>> fns = serving_functions(model)
        >>> fns["serving_default"](input_ids=tf.constant([[101, 102]]), ...)["logits"]
    """
    names = serving_input_names(model)
    shape = [None] * input_rank(model)
    if function is None:
        function = serving_function(
            model, output_hidden_states=output_hidden_states, output_attentions=output_attentions
        )
    functions = {}
    for signature, dtype in (("serving_default", tf.int32), ("serving_int64", tf.int64)):
        if dtype == tf.int64 and not int64:
            continue
        specs = {name: tf.TensorSpec(shape, dtype, name=name) for name in names}
        functions[signature] = function.get_concrete_function(specs)
    return functions


def load_tokenizer_layer(checkpoint: str | os.PathLike, **kwargs):
    """The in-graph tokenizer layer for ``checkpoint`` (WordPiece for BERT-style vocabularies).

    Example:
        >>> tokenizer = load_tokenizer_layer("path/to/bert", max_length=128)
    """
    from kerasformers.tokenization import TFAutoTokenizer

    return TFAutoTokenizer.from_pretrained(checkpoint, **kwargs)
