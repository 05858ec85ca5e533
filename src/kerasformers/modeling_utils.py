"""TFPreTrainedModel: the Keras model base class every architecture and head derives from.

It knows no architecture by name. It gives: from_pretrained / save_pretrained in the
Hugging Face layout, `.keras` serialisation, transformers-style inputs (a dict, keyword
arguments, lists or numpy), ModelOutput results and dtype selection.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerasformers.configuration import PretrainedConfig, config_class_for
from kerasformers.errors import CheckpointNotFoundError, InvalidInputError, InvalidInputTypeError, NotSupportedError
from kerasformers.hub import atomic_folder_write, resolve_checkpoint
from kerasformers.input_checks import validate_model_inputs
from kerasformers.lora import LoraMixin
from kerasformers.outputs import ModelOutput
from kerasformers.quantization import QuantizationMixin, quantize_as_config_says
from kerasformers.training import KerasTrainingMixin
from kerasformers.utils.backend import require_tensorflow_backend
from kerasformers.weights import (
    checkpoint_dtype,
    deferred_initialization,
    is_weights_file,
    load_checkpoint_into_model,
    save_model_weights,
)

logger = logging.getLogger("kerasformers")

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}


@contextlib.contextmanager
def dtype_policy(dtype: str | None):
    """Build layers under ``dtype`` (float32, bfloat16 or float16), then restore the policy."""
    if dtype is None:
        yield
        return
    name = getattr(dtype, "name", str(dtype)).replace("torch.", "")
    if name not in _DTYPES:
        raise InvalidInputError(f"dtype must be one of float32, bfloat16, float16; got {dtype!r}.")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_DTYPES[name])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _inside_layer_call() -> bool:
    """Whether a Keras layer's call is running (then training mode comes from that caller)."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - Keras moved it: be safe, stay eager
        return True
    return global_state.get_global_attribute("current_call_ctx") is not None


_MODEL_CARD_KEYWORDS = {
    "language",
    "license",
    "finetuned_from",
    "tasks",
    "dataset",
    "dataset_tags",
    "dataset_args",
    "metrics",
    "batch_size",
}


class TFPreTrainedModel(LoraMixin, QuantizationMixin, KerasTrainingMixin, keras.Model):
    """Base class of all models: a ``keras.Model`` that loads and saves Hugging Face checkpoints.

    Subclasses set ``config_class``, ``base_model_prefix`` and implement ``call`` with
    transformers' argument names.

    Example:
        >>> model = TFBertModel.from_pretrained("path/to/bert")
        >>> model(tokenizer(["hello"], return_tensors="np")).last_hidden_state.shape
        TensorShape([1, 3, 384])
    """

    config_class: type[PretrainedConfig] | None = None
    base_model_prefix: str = ""
    framework: str = "tf"  # as transformers' TFPreTrainedModel
    main_input_name: str = "input_ids"
    main_input_rank: int = 2  # (batch_size, sequence_length); multiple-choice heads add num_choices
    # Regexes over checkpoint tensor names: (pattern, replacement) applied before matching.
    weight_renames: tuple[tuple[str, str], ...] = ()
    # Regexes of checkpoint tensors that are fine to leave unused (e.g. tied decoder copies).
    keys_to_ignore_on_load_unexpected: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        keras.saving.register_keras_serializable(package="kerasformers")(cls)

    def __init__(self, config: PretrainedConfig, **kwargs: Any):
        super().__init__(**kwargs)
        self.config = config

    # ---------------------------------------------------------------- Keras serialisation
    def get_config(self) -> dict:
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "TFPreTrainedModel":
        values = dict(config["config"])
        config_cls = cls.config_class or config_class_for(values.get("model_type"))
        model = cls(config_cls.from_dict(values), name=config.get("name"))
        model.build_with_dummy_inputs()
        return model

    # ---------------------------------------------------------------- inputs
    @property
    def dummy_inputs(self) -> dict[str, np.ndarray]:
        """Small inputs that create every variable when the model is called on them."""
        return {"input_ids": np.array([[7, 6, 0, 0, 1], [1, 2, 3, 0, 0], [0, 0, 0, 4, 5]], np.int32)}

    def build_with_dummy_inputs(self) -> None:
        """Create every variable with one eager call on ``dummy_inputs``.

        Container layers that keep Keras' default ``build`` are marked built first: Keras
        would otherwise trace each of them symbolically before the real call (5-10x slower
        loading); their Dense / Embedding / LayerNorm leaves still build from real shapes.
        """
        for layer in (self, *self._flatten_layers(include_self=False, recursive=True)):
            if type(layer).build is keras.layers.Layer.build:
                layer.built = True
        self(self.dummy_inputs, training=False)

    @classmethod
    def _call_parameters(cls) -> list[str]:
        return [p for p in inspect.signature(cls.call).parameters if p not in ("self", "kwargs")]

    def __call__(self, *args: Any, **kwargs: Any):
        """Accept transformers' calling styles: ``model(batch)``, ``model(**batch)``, ``model(ids)``."""
        parameters = self._call_parameters()
        if args and isinstance(args[0], Mapping):
            batch, args = dict(args[0]), args[1:]
            clash = sorted(set(batch) & set(kwargs))
            if clash:
                raise InvalidInputTypeError(f"{clash} given both inside the input dict and as keyword arguments.")
            kwargs = {**batch, **kwargs}
        for name, value in zip(parameters, args):
            if name in kwargs:
                raise InvalidInputTypeError(f"{type(self).__name__} got two values for {name!r}.")
            kwargs[name] = value
        if len(args) > len(parameters):
            raise InvalidInputTypeError(f"{type(self).__name__} takes at most {len(parameters)} positional inputs.")
        return_dict = kwargs.pop("return_dict", None)  # handled here, not by the model's call
        unknown = sorted(set(kwargs) - set(parameters))
        if unknown:
            raise InvalidInputTypeError(
                f"{type(self).__name__} does not accept {unknown}. It accepts: {', '.join(parameters)}. "
                "Drop those keys from the batch (e.g. tokenizer(..., return_token_type_ids=False))."
            )
        self.validate_inputs(kwargs)
        for name, value in list(kwargs.items()):
            if isinstance(value, (list, tuple, np.ndarray)) and name != "past_key_values":
                array = np.asarray(value)
                if array.dtype == np.float64:
                    array = array.astype(np.float32)
                elif array.dtype.kind in "iub":
                    array = array.astype(np.int32)
                kwargs[name] = keras.ops.convert_to_tensor(array)
        main = kwargs.pop(self.main_input_name, None)
        outputs = self._call_inference_graph(main, kwargs)
        if outputs is None:
            outputs = super().__call__(main, **kwargs)
            self._count_eager_call(main, kwargs)
        if isinstance(outputs, ModelOutput):  # predict() rebuilds this class from Keras' plain dict
            object.__setattr__(self, "_kf_output_class", type(outputs))
        if return_dict is False and isinstance(outputs, ModelOutput):
            return outputs.to_tuple()
        return outputs

    def validate_inputs(self, inputs: Mapping[str, Any], caller: str | None = None) -> None:
        """One clear error for bad concrete inputs (ids out of range, shapes that would broadcast...).

        See :mod:`kerasformers.input_checks`; values inside graphs are not checked.

        Example:
            >>> model.validate_inputs({"input_ids": np.array([[5, 100000]])})
            Traceback (most recent call last):
            kerasformers.errors.InvalidInputError: input_ids holds 100000 at position (0, 1), outside [0, 30522) ...
        """
        arrays = validate_model_inputs(
            inputs, self.input_id_limits(), self.main_input_name, caller or type(self).__name__
        )
        main = arrays.get(self.main_input_name)
        if main is not None:
            # rank and length, before Keras wraps the error in its own message
            self.check_input_ids(main, self.main_input_name, rank=self.main_input_rank)

    def input_id_limits(self) -> dict[str, tuple[int, str]]:
        """Input name -> (size of the table it indexes, config field), for the checks above.

        A model whose positions have no table (rotary embeddings) leaves ``position_ids`` out.

        Example:
            >>> model.input_id_limits()["input_ids"]
            (30522, 'vocab_size')
        """
        fields = {
            "input_ids": "vocab_size",
            "token_type_ids": "type_vocab_size",
            "position_ids": "max_position_embeddings",
        }
        return {
            name: (getattr(self.config, field), field)
            for name, field in fields.items()
            if isinstance(getattr(self.config, field, None), int)
        }

    # ---------------------------------------------------------------- fast inference
    # Eager inference calls run as a cached TensorFlow graph once the model has been called
    # eagerly this many times (the dummy-input build counts): a one-off call pays no tracing.
    # A shape seen again is XLA-compiled (``inference_jit_compile``): XLA fuses the element-wise
    # work around the matmuls. Models that declare ``pads_inference_to_buckets`` (masked
    # encoders, where right padding cannot change the real tokens' outputs) pad the sequence
    # to a length bucket first and slice the outputs back, so a new length rarely compiles.
    # Set ``model.inference_graph = False`` (or tf.config.run_functions_eagerly(True)) to step
    # through the Python code on every call.
    inference_graph: bool = True
    inference_jit_compile: bool = True
    pads_inference_to_buckets: bool = False
    _EAGER_CALLS_BEFORE_GRAPH = 2
    _SHAPE_CALLS_BEFORE_XLA = 2  # the first call at a new (bucketed) shape runs the generic graph
    # inputs that may be padded along the sequence with this value (others: no bucketing)
    _BUCKET_PAD_VALUES = {"attention_mask": 0, "token_type_ids": 0, "position_ids": 0}

    def _inference_graph_state(self) -> dict:
        state = self.__dict__.get("_kf_inference_graph")
        if state is None:  # a plain dict, set past Keras' attribute tracking (never saved)
            state = {
                "eager_calls": 0,
                "graphs": {},
                "disabled": False,
                "xla": {},
                "xla_shapes": {},
                "xla_disabled": False,
                "shape_calls": {},
                "sequence_axes": {},
            }
            object.__setattr__(self, "_kf_inference_graph", state)
        return state

    def _inference_graph_eligible(self, main, kwargs) -> bool:
        """Inference on concrete TF tensors, outside any graph and outside any other layer's call."""
        if not self.inference_graph or not self.built or keras.backend.backend() != "tensorflow":
            return False
        if kwargs.get("training") or kwargs.get("past_key_values") is not None:
            return False
        import tensorflow as tf

        if not tf.executing_eagerly() or _inside_layer_call() or tf.config.functions_run_eagerly():
            return False
        for value in (main, *kwargs.values()):
            if value is not None and not isinstance(value, (bool, int, float, str, tf.Tensor)):
                return False  # symbolic KerasTensors, variables, ragged/sparse, cache objects
        return True

    def _count_eager_call(self, main, kwargs) -> None:
        if self._inference_graph_eligible(main, kwargs):
            self._inference_graph_state()["eager_calls"] += 1

    def _inference_graph_key(self) -> tuple:
        # config values steer the forward pass (output_hidden_states, ...): one graph per setting
        return tuple(
            (k, v) for k, v in sorted(vars(self.config).items()) if isinstance(v, (bool, int, float, str, type(None)))
        )

    def _call_inference_graph(self, main, kwargs, count_eager_calls: bool = True):
        """The outputs of the cached graph (XLA for a shape seen before), or None to run eagerly."""
        state = self._inference_graph_state()
        if (
            state["disabled"]
            or (count_eager_calls and state["eager_calls"] < self._EAGER_CALLS_BEFORE_GRAPH)
            or not self._inference_graph_eligible(main, kwargs)
        ):
            return None
        key = self._inference_graph_key()
        if self.inference_jit_compile and not state["xla_disabled"]:
            outputs = self._call_xla_inference(state, key, main, kwargs)
            if outputs is not None:
                return outputs
        graph = state["graphs"].get(key)
        if graph is None:
            import tensorflow as tf

            keras_call = super().__call__

            def forward(main, kwargs):
                return keras_call(main, **kwargs)

            graph = state["graphs"][key] = tf.function(forward, reduce_retracing=True)
        try:
            return graph(main, kwargs)
        except Exception:  # noqa: BLE001 - the eager call below decides what the error is
            outputs = super().__call__(main, **kwargs)  # raises exactly what eager raises
            state["disabled"] = True  # eager works but the graph does not: stay eager
            logger.info(
                "%s runs eagerly: its forward pass could not run as a graph.", type(self).__name__, exc_info=True
            )
            return outputs

    @staticmethod
    def inference_bucket_length(length: int) -> int:
        """The sequence length a ``length``-token input is padded to on the default inference path.

        Multiples of 16 up to 128, of 32 up to 256, of 64 beyond: at most a few percent of extra
        work on long inputs, and a handful of XLA programs cover every length.

        Example:
            >>> TFPreTrainedModel.inference_bucket_length(20), TFPreTrainedModel.inference_bucket_length(300)
            (32, 320)
        """
        step = 16 if length <= 128 else 32 if length <= 256 else 64
        return -(-length // step) * step

    def _bucketed_inputs(self, main, kwargs):
        """(main, kwargs, real length) padded along the sequence to its bucket, or None to keep shapes."""
        import tensorflow as tf

        if not self.pads_inference_to_buckets or main is None or main.shape.rank != self.main_input_rank:
            return None
        length = main.shape[-1]
        bucket = self.inference_bucket_length(length)
        limit = self.max_input_length
        if bucket == length or (limit is not None and bucket > limit):
            return None
        tensors = {k: v for k, v in kwargs.items() if isinstance(v, tf.Tensor)}
        if any(k not in self._BUCKET_PAD_VALUES or v.shape != main.shape for k, v in tensors.items()):
            return None  # labels, embeddings, head masks...: their shapes stay as given
        mask = tensors.get("attention_mask")
        if mask is None and "attention_mask" in self._call_parameters():
            mask = tf.ones_like(main)
        elif mask is not None and bool(tf.reduce_any(tf.reduce_all(tf.equal(mask, 0), axis=-1))):
            return None  # a fully masked row attends to every position: padding would change it
        if mask is not None:
            tensors["attention_mask"] = mask
        paddings = [[0, 0]] * (main.shape.rank - 1) + [[0, bucket - length]]
        pad_id = getattr(self.config, "pad_token_id", None)
        padded = {
            k: tf.pad(v, paddings, constant_values=tf.cast(self._BUCKET_PAD_VALUES[k], v.dtype))
            for k, v in tensors.items()
        }
        main = tf.pad(main, paddings, constant_values=tf.cast(pad_id if isinstance(pad_id, int) else 0, main.dtype))
        return main, {**kwargs, **padded}, length

    def _call_xla_inference(self, state, key, main, kwargs):
        """XLA-compiled outputs for a shape called before (padded to its bucket), or None."""
        import tensorflow as tf

        bucketed = self._bucketed_inputs(main, kwargs)
        run_main, run_kwargs, length = bucketed if bucketed is not None else (main, kwargs, None)

        def spec(value):
            if isinstance(value, tf.Tensor):
                return (tuple(value.shape), value.dtype.name)
            return value

        signature = (key, spec(run_main), tuple(sorted((k, spec(v)) for k, v in run_kwargs.items())))
        calls = state["shape_calls"][signature] = state["shape_calls"].get(signature, 0) + 1
        if calls < self._SHAPE_CALLS_BEFORE_XLA:
            return None
        function = state["xla"].get(key)
        if function is None:
            keras_call = super().__call__

            def forward(main, kwargs):
                return keras_call(main, **kwargs)

            function = state["xla"][key] = tf.function(forward, jit_compile=True)
        try:
            # one concrete function per shape, called directly: no signature dispatch per call,
            # and no "excessive retracing" warnings for shapes that are meant to differ
            concrete = state["xla_shapes"].get(signature)
            if concrete is None:
                concrete = state["xla_shapes"][signature] = function.get_concrete_function(run_main, run_kwargs)
            outputs = concrete(run_main, run_kwargs)
            if bucketed is not None:
                outputs = self._unpadded_outputs(state, signature, function, run_main, run_kwargs, outputs, length)
        except Exception:  # noqa: BLE001 - an op XLA cannot compile: the generic graph runs instead
            state["xla_disabled"] = True
            logger.info("%s runs without XLA: its forward pass did not compile.", type(self).__name__, exc_info=True)
            return None
        return outputs

    def _unpadded_outputs(self, state, signature, function, main, kwargs, outputs, length):
        """``outputs`` with every sequence axis cut back to ``length`` (axes found by tracing two lengths)."""
        import tensorflow as tf

        axes = state["sequence_axes"].get(signature)
        if axes is None:
            padded = main.shape[-1]

            def shorter(value):  # the same input, one token shorter, as a TensorSpec
                if isinstance(value, tf.Tensor) and value.shape == main.shape:
                    return tf.TensorSpec(value.shape[:-1] + [padded - 1], value.dtype)
                return value

            traced = function.get_concrete_function(shorter(main), {k: shorter(v) for k, v in kwargs.items()})
            short_shapes = [tuple(t.shape) for t in tf.nest.flatten(traced.structured_outputs)]
            full_shapes = [tuple(t.shape) for t in tf.nest.flatten(outputs)]
            axes = []
            for full, short in zip(full_shapes, short_shapes, strict=True):
                changed = [i for i, (a, b) in enumerate(zip(full, short)) if a != b]
                if any(full[i] != padded or short[i] != padded - 1 for i in changed):
                    raise NotSupportedError("an output grows with the sequence in another way than one per token")
                axes.append(tuple(changed))
            state["sequence_axes"][signature] = axes

        def cut(tensor, tensor_axes):
            if not tensor_axes:
                return tensor
            index = [slice(None)] * tensor.shape.rank
            for axis in tensor_axes:
                index[axis] = slice(0, length)
            return tensor[tuple(index)]

        flat = [cut(t, a) for t, a in zip(tf.nest.flatten(outputs), axes, strict=True)]
        return tf.nest.pack_sequence_as(outputs, flat)

    def make_inference_function(self, jit_compile: bool = True, **call_kwargs: Any):
        """``batch -> outputs`` compiled into one TensorFlow graph, XLA-compiled with ``jit_compile``.

        The fastest way to run a fixed-shape workload (e.g. inputs padded to a few fixed
        lengths): XLA fuses the element-wise work around the matmuls. Each new input shape
        compiles once (seconds), so pad to fixed lengths. ``call_kwargs`` are passed to every
        call (``output_hidden_states=True`` ...).

        Example:
            >>> infer = model.make_inference_function()
            >>> batch = tokenizer(texts, padding="max_length", max_length=128, return_tensors="tf")
            >>> infer(dict(batch))["last_hidden_state"]
        """
        import tensorflow as tf

        if not self.built:
            self.build_with_dummy_inputs()

        def infer(batch):
            return self(batch, training=False, **call_kwargs)

        return tf.function(infer, jit_compile=jit_compile, reduce_retracing=True)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Keras' ``predict``. Arrays that fit in one batch skip Keras' tf.data pipeline.

        The result is the same (numpy outputs from the same compiled predict step); the
        shortcut only removes the per-call pipeline set-up that dominates small batches.
        """
        if isinstance(x, Mapping):
            self.validate_inputs(x)
        batch = self._single_predict_batch(x, batch_size, steps, callbacks)
        if batch is None:
            outputs = super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)
            return self._as_output_class(outputs)
        progbar = None
        if verbose != 0:
            progbar = keras.utils.Progbar(1, verbose=1 if verbose == "auto" else verbose, unit_name="step")
        outputs = self._predict_with_inference_graph(batch)
        if outputs is None:
            predict_function = self.make_predict_function() or self.predict_function
            outputs = predict_function([(batch,)])
        outputs = keras.tree.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, outputs)
        if progbar is not None:
            progbar.update(1, finalize=True)
        return self._as_output_class(outputs)

    def _predict_with_inference_graph(self, batch):
        """``predict_step``'s outputs from the inference graph (XLA for a shape seen before), or None.

        Only for the default ``predict_step``; what it returns is the same: the outputs that
        are tensors (no loss, no tuples of hidden states), here already as numpy.
        """
        import tensorflow as tf

        state = self._inference_graph_state()
        if type(self).predict_step is not KerasTrainingMixin.predict_step or state["disabled"]:
            return None
        features, _ = self.split_labels(dict(batch) if isinstance(batch, Mapping) else {self.main_input_name: batch})
        if set(features) - set(self._call_parameters()):
            return None  # predict_step's call raises the clear error
        features = {k: tf.cast(v, "int32") if v.dtype == tf.int64 else v for k, v in features.items()}
        main = features.pop(self.main_input_name, None)
        outputs = self._call_inference_graph(main, {**features, "training": False}, count_eager_calls=False)
        if outputs is None:
            return None
        if isinstance(outputs, ModelOutput):
            object.__setattr__(self, "_kf_output_class", type(outputs))
        if isinstance(outputs, Mapping):
            outputs = {
                k: v for k, v in outputs.items() if k != "loss" and v is not None and not isinstance(v, (tuple, list))
            }
        return outputs

    def _as_output_class(self, outputs):
        """Keras' predict returns a plain dict; transformers' TF models gave their output class
        (``model.predict(ds).logits`` and ``["logits"]`` both work)."""
        output_class = self.__dict__.get("_kf_output_class")
        if output_class is None or type(outputs) is not dict:
            return outputs
        return output_class(**outputs)

    def _single_predict_batch(self, x, batch_size, steps, callbacks):
        """``x`` as one batch of tensors when the shortcut in ``predict`` applies, else None."""
        if steps is not None or callbacks or keras.backend.backend() != "tensorflow" or self.run_eagerly:
            return None
        import tensorflow as tf

        if tf.distribute.has_strategy() or getattr(self, "_distribute_strategy", None) is not None:
            return None
        if isinstance(x, Mapping):
            items = list(x.items())
        elif isinstance(x, (np.ndarray, tf.Tensor)):
            items = [(None, x)]
        else:
            return None  # datasets, generators, lists of strings, tuples of inputs: Keras' way
        if not items:
            return None
        converted, sizes = {}, set()
        for name, value in items:
            if isinstance(value, np.ndarray) and value.dtype.kind in "iubf" and value.ndim >= 1:
                if value.dtype.kind == "f":
                    value = value.astype(keras.config.floatx())
                value = tf.convert_to_tensor(value)
            elif not (
                isinstance(value, tf.Tensor)
                and value.shape.rank
                and (value.dtype.is_integer or value.dtype.is_floating or value.dtype.is_bool)
            ):
                return None
            sizes.add(value.shape[0])
            converted[name] = value
        if len(sizes) != 1 or None in sizes or next(iter(sizes)) > (batch_size or 32):
            return None
        return converted[None] if None in converted else converted

    @property
    def max_input_length(self) -> int | None:
        """The longest input the model handles (RoBERTa-style models reserve position ids)."""
        return getattr(self.config, "max_position_embeddings", None)

    @property
    def max_generation_length(self) -> int | None:
        """The longest prompt + generated text ``generate()`` accepts (rotary models may extend it)."""
        return self.max_input_length

    def check_input_ids(self, input_ids, name: str = "input_ids", rank: int = 2) -> None:
        """Raise one clear error for inputs of the wrong rank or longer than the model allows."""
        shape = tuple(input_ids.shape)
        if len(shape) != rank:
            expected = "(batch_size, sequence_length)" if rank == 2 else "(batch_size, num_choices, sequence_length)"
            raise InvalidInputError(
                f"{name} must have shape {expected}, got shape {shape}. "
                + ("Wrap a single sequence in a list: [ids]." if len(shape) == rank - 1 else "")
            )
        limit = self.max_input_length
        length = shape[-1]
        if limit is not None and length is not None and length > limit:
            raise InvalidInputError(
                f"{name} has {length} tokens but {type(self).__name__} handles at most {limit} "
                f"(max_position_embeddings). Truncate: tokenizer(..., truncation=True, max_length={limit})."
            )

    # ---------------------------------------------------------------- loading and saving
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *model_args: Any,
        config: PretrainedConfig | None = None,
        cache_dir: str | os.PathLike | None = None,
        ignore_mismatched_sizes: bool = False,
        force_download: bool = False,
        local_files_only: bool = False,
        token: str | bool | None = None,
        revision: str | None = None,
        use_safetensors: bool | None = None,
        output_loading_info: bool = False,
        subfolder: str = "",
        dtype: str | None = None,
        allow_pickle: bool = False,
        from_pt: bool = False,
        from_tf: bool = False,
        from_flax: bool = False,
        trust_remote_code: bool | None = None,
        **kwargs: Any,
    ):
        """Build the model from a checkpoint's config.json and load its weights (transformers' arguments).

        Other keyword arguments override config values (``num_labels=3``,
        ``output_hidden_states=True``, ``id2label=...``); one that is neither a loading argument
        nor a config field raises ``TypeError``, as in transformers. ``from_pt=True`` is accepted
        (checkpoints are read by their PyTorch names already); ``from_tf`` / ``from_flax`` weights,
        and ``trust_remote_code=True`` are refused with the fix. A hub name is downloaded through
        huggingface_hub (``token``, ``local_files_only``, ``force_download``, ``revision``,
        ``cache_dir``: see :func:`kerasformers.hub.resolve_checkpoint`). PyTorch pickle weights
        (``pytorch_model.bin``, or ``use_safetensors=False``) need ``allow_pickle=True``.
        ``dtype`` (or ``torch_dtype``): float32 (the default, as transformers' TF models), bfloat16,
        float16, or "auto" for the checkpoint's own (config.json's ``dtype``, else its tensors').

        Example:
            >>> model = TFBertForSequenceClassification.from_pretrained("path/to/bert", num_labels=3)
            >>> model, info = TFBertModel.from_pretrained("path/to/bert", output_loading_info=True)
        """
        where = f"{cls.__name__}.from_pretrained()"
        if model_args:
            raise InvalidInputTypeError(
                f"{where} takes the checkpoint as its only positional argument; give the rest by keyword "
                f"(got {len(model_args)} more)."
            )
        if from_tf or from_flax:
            kind = "TensorFlow (.h5)" if from_tf else "Flax (.msgpack)"
            raise NotSupportedError(
                f"{where} reads safetensors checkpoints with PyTorch tensor names; {kind} weights are not read. "
                "Convert them once with transformers 4.x (load with from_tf/from_flax=True, then "
                "save_pretrained()), or use the checkpoint's model.safetensors and drop the flag."
            )
        if trust_remote_code:
            raise NotSupportedError(
                f"{where}: trust_remote_code=True is not supported; kerasformers runs only its own architectures "
                "(see kerasformers.configuration.supported_model_types())."
            )
        if from_pt:
            logger.info("%s: from_pt=True needs no conversion here (safetensors with PyTorch names).", where)
        for ignored in _LOADING_ONLY_ARGUMENTS & set(kwargs):  # download options: no download happens here
            kwargs.pop(ignored)
        dtype = dtype or kwargs.pop("torch_dtype", None)
        config_cls = cls.config_class or PretrainedConfig
        unknown = sorted(k for k in kwargs if not (config_cls.is_known_key(k) or hasattr(config, k)))
        folder = resolve_checkpoint(
            pretrained_model_name_or_path,
            revision=revision,
            cache_dir=cache_dir,
            token=token,
            local_files_only=local_files_only,
            force_download=force_download,
            allow_pickle=allow_pickle,
        )
        if subfolder:
            folder = folder / subfolder
            if not folder.is_dir():
                raise CheckpointNotFoundError(
                    f"{pretrained_model_name_or_path} has no subfolder {subfolder!r}. Check the name (subfolder=...)."
                )
        if config is None and unknown and (folder / "config.json").is_file():
            try:  # a key the checkpoint's config.json holds is a config key, as transformers treats it
                unknown = [k for k in unknown if k not in json.loads((folder / "config.json").read_text("utf-8"))]
            except ValueError:
                pass  # an unreadable config.json gets its own error below
        if unknown:
            raise InvalidInputTypeError(
                f"{where} got an unexpected keyword argument {unknown[0]!r}: it is neither a loading argument nor "
                f"a field of {config_cls.__name__}. Check the spelling, or set it on the config after loading."
            )
        if config is None:
            config = config_cls.from_pretrained(folder, **kwargs)
        else:
            for key, value in kwargs.items():
                setattr(config, key, value)
        if use_safetensors is False and not allow_pickle:
            raise InvalidInputError(
                f"{where}: use_safetensors=False asks for pickle weights (pytorch_model.bin), which can run code; "
                "pass allow_pickle=True as well if you trust the checkpoint, or drop use_safetensors=False."
            )
        if isinstance(dtype, str) and dtype == "auto":  # transformers' "auto": the checkpoint's own dtype
            dtype = checkpoint_dtype(folder, config)
        # Variables start as zeros (no random draws the checkpoint overwrites); the loader gives
        # those it did not fill their real initial values.
        with dtype_policy(dtype), deferred_initialization() as deferred:
            model = cls(config)
            model.build_with_dummy_inputs()
            quantize_as_config_says(model)  # a checkpoint saved after model.quantize(): same variables
        info = load_checkpoint_into_model(
            model,
            folder,
            allow_pickle=allow_pickle,
            ignore_mismatched_sizes=ignore_mismatched_sizes,
            source=os.fspath(pretrained_model_name_or_path),
            deferred=deferred,
        )
        model.name_or_path = os.fspath(pretrained_model_name_or_path)
        if output_loading_info:
            return model, info.as_dict()
        return model

    def save_pretrained(
        self, save_directory: str | os.PathLike, max_shard_size: int | str = "5GB", **kwargs: Any
    ) -> None:
        """Write ``config.json`` and ``model.safetensors`` (Hugging Face layout, PyTorch names).

        PyTorch transformers' ``AutoModel*.from_pretrained(save_directory)`` reads the result.

        Example:
            >>> model.save_pretrained("out")
        """
        if kwargs.get("saved_model"):
            require_tensorflow_backend("save_pretrained(saved_model=True) (a TensorFlow SavedModel)")
        if not self.built:
            self.build_with_dummy_inputs()
        self.config.architectures = [type(self).__name__.removeprefix("TF")]
        # The weight files of an earlier save (other shards, an index, pickles) go: one set remains.
        with atomic_folder_write(save_directory, replaces=is_weights_file) as tmp:
            self.write_pretrained_files(tmp, max_shard_size=max_shard_size)
        if kwargs.get("saved_model"):
            # As transformers' TF side: a SavedModel in <save_directory>/saved_model/<version>.
            from kerasformers.serving import export_saved_model

            export_saved_model(
                self, Path(save_directory) / "saved_model", version=kwargs.get("version", 1), overwrite=True
            )  # a save replaces the folder's earlier save

    def write_pretrained_files(self, folder: Path, max_shard_size: int | str = "5GB") -> None:
        """Write this model's checkpoint files into ``folder`` (a subclass adds its own files).

        Example:
            >>> model.write_pretrained_files(Path("out"))  # what save_pretrained moves into place
        """
        (folder / "config.json").write_text(self.config.to_json_string(), encoding="utf-8")
        save_model_weights(self, folder, max_shard_size=max_shard_size)

    def create_model_card(
        self,
        output_dir: str | os.PathLike,
        model_name: str,
        language: str | None = None,
        license: str | None = None,  # noqa: A002 - transformers' name
        tags: str | list[str] | None = None,
        finetuned_from: str | None = None,
        tasks: str | None = None,
        dataset_tags: str | list[str] | None = None,
        dataset: str | list[str] | None = None,
        dataset_args: str | list[str] | None = None,
    ) -> None:
        """Write README.md (a model card from ``model.history``, see :mod:`kerasformers.modelcard`) into ``output_dir``.

        Example:
            >>> model.fit(train_dataset, epochs=2)
            >>> model.create_model_card("out", "me/clf", dataset="imdb")
        """
        from kerasformers.modelcard import build_model_card

        history = getattr(self, "history", None)
        card = build_model_card(
            self,
            model_name,
            keras_history=history if getattr(history, "history", None) else None,
            language=language,
            license=license,
            tags=[tags] if isinstance(tags, str) else tags,
            finetuned_from=finetuned_from,
            tasks=tasks,
            dataset_tags=dataset_tags,
            dataset=dataset,
            dataset_args=dataset_args,
            plot_folder=output_dir,
        )
        card.save(Path(output_dir) / "README.md")

    def load_repo_checkpoint(self, repo_path_or_name: str | os.PathLike, **kwargs: Any) -> dict:
        """Restore the weights and optimizer state a ``PushToHubCallback(checkpoint=True)`` saved.

        Returns ``{"epoch": n}``; see :func:`kerasformers.keras_callbacks.load_repo_checkpoint`.

        Example:
            >>> model.compile(optimizer="adam")
            >>> model.fit(train_dataset, epochs=3, initial_epoch=model.load_repo_checkpoint("me/clf")["epoch"] + 1)
        """
        from kerasformers.keras_callbacks import load_repo_checkpoint

        return load_repo_checkpoint(self, repo_path_or_name, **kwargs)

    def push_to_hub(
        self,
        repo_id: str,
        commit_message: str | None = None,
        private: bool | None = None,
        token: str | bool | None = None,
        revision: str | None = None,
        create_pr: bool = False,
        max_shard_size: int | str = "5GB",
        safe_serialization: bool = True,
        tags: list[str] | None = None,
        **kwargs: Any,
    ):
        """Upload the weights, config and a model card to the Hub as one commit; returns the ``CommitInfo``.

        As transformers: the repository is created when missing; ``revision`` is a branch,
        ``create_pr=True`` opens a pull request. The card (README.md) is updated, not replaced:
        see :mod:`kerasformers.modelcard`; the card keywords (``language``, ``license``,
        ``finetuned_from``, ``tasks``, ``dataset``, ``dataset_tags``, ``dataset_args``, ``metrics``,
        ``batch_size``), given directly or as ``model_card_args={...}``, feed it.

        Example:
            >>> info = model.push_to_hub("me/tiny-bert", commit_message="2 epochs", private=True)
            >>> TFAutoModel.from_pretrained("me/tiny-bert", revision=info.oid)
        """
        from kerasformers.hub_push import push_to_hub
        from kerasformers.modelcard import write_model_card

        # As 4.57's base_model_card_args: card keywords may come directly or as model_card_args={...}.
        card_args = dict(kwargs.pop("model_card_args", None) or {})
        for key in _MODEL_CARD_KEYWORDS & set(kwargs):
            card_args[key] = kwargs.pop(key)

        def write_card(folder, repo, options):
            write_model_card(
                self, folder, repo, token=options["token"], revision=options["revision"], tags=tags, **card_args
            )

        return push_to_hub(
            self,
            repo_id,
            commit_message=commit_message,
            private=private,
            token=token,
            revision=revision,
            create_pr=create_pr,
            max_shard_size=max_shard_size,
            safe_serialization=safe_serialization,
            tags=tags,
            write_card=write_card,
            **kwargs,
        )

    def export(
        self,
        filepath: str | os.PathLike,
        format: str = "tf_saved_model",
        verbose: bool | None = None,
        input_signature=None,
        **kwargs: Any,
    ):
        """Export for serving. ``tf_saved_model`` (default): a SavedModel at ``filepath`` with
        ``serving_default`` (int32 inputs, dynamic batch and length, named outputs) and
        ``serving_int64``. ``onnx``: :func:`kerasformers.serving.export_onnx` (same input names,
        int64, dynamic axes; ``opset=``). Other formats and an explicit ``input_signature`` go to
        Keras' export.

        Example:
            >>> model.export("serving/bert/1")
            >>> tf.saved_model.load("serving/bert/1").signatures["serving_default"]
            >>> model.export("bert.onnx", format="onnx")
        """
        if format == "litert" or (format in ("onnx", "tf_saved_model") and input_signature is None):
            require_tensorflow_backend(f"export(format={format!r}) (traced with TensorFlow)")
        if format == "onnx" and input_signature is None:
            from kerasformers.serving import export_onnx

            return export_onnx(self, filepath, **kwargs)
        if format != "tf_saved_model" or input_signature is not None:
            return super().export(filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)
        from kerasformers.serving import export_saved_model

        path = Path(filepath)
        return export_saved_model(self, path.parent, version=path.name, **kwargs)

    # ---------------------------------------------------------------- training data
    def prepare_tf_dataset(
        self,
        dataset,
        batch_size: int = 8,
        shuffle: bool = True,
        tokenizer=None,
        collate_fn=None,
        collate_fn_args=None,
        drop_remainder=None,
        prefetch=True,
        **kwargs: Any,
    ):
        """A ``datasets.Dataset`` as a disk-backed ``tf.data.Dataset`` of padded ``(inputs, labels)``.

        Keeps the columns this model accepts, renames ``label`` to ``labels`` and pads each batch
        to its own longest example; ``length_buckets`` / ``pad_to_multiple_of`` bound the shapes
        XLA compiles. See :func:`kerasformers.data.tf_dataset.prepare_tf_dataset`.

        Example:
            >>> tf_ds = model.prepare_tf_dataset(encoded["train"], batch_size=16, tokenizer=tokenizer)
            >>> model.compile(optimizer="adam", metrics=["accuracy"]); model.fit(tf_ds, epochs=2)
        """
        from kerasformers.data.tf_dataset import prepare_tf_dataset

        return prepare_tf_dataset(
            self,
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            tokenizer=tokenizer,
            collate_fn=collate_fn,
            collate_fn_args=collate_fn_args,
            drop_remainder=drop_remainder,
            prefetch=prefetch,
            **kwargs,
        )

    # ---------------------------------------------------------------- embeddings (transformers' TF names)
    def get_input_embeddings(self):
        """The token-embedding layer (a ``keras.layers.Embedding``; its matrix is also ``.weight``).

        Example:
            >>> model.get_input_embeddings().weight.shape  # (vocab_size, hidden_size)
        """
        main = getattr(self, self.base_model_prefix, self) if self.base_model_prefix else self
        return main.embeddings.word_embeddings

    def set_input_embeddings(self, value) -> None:
        """Give the token embeddings new values: a (vocab_size, hidden_size) matrix, variable or Embedding layer.

        The model keeps its own layer (so heads tied to it stay tied) and takes the values and
        their number of rows; ``resize_token_embeddings`` is the call that also updates the
        config and the heads.

        Example:
            >>> model.set_input_embeddings(np.zeros((30522, 384), np.float32))
        """
        self._ensure_built()
        layer = self.get_input_embeddings()
        matrix = embedding_matrix(value)
        replace_variable(layer, "_embeddings", matrix)
        layer.input_dim = matrix.shape[0]
        self.reset_compiled_functions()

    def get_lm_head(self):
        """The language-model head layer (it owns the output bias), or None when the model has none.

        Example:
            >>> TFBertForMaskedLM.from_pretrained(path).get_lm_head().bias.shape  # (vocab_size,)
        """
        return None

    def get_output_embeddings(self):
        """The layer whose matrix produces the vocabulary logits, or None.

        A head tied to the input embeddings reports the shared input embedding layer; an untied
        head (Llama with ``tie_word_embeddings=False``) its own ``lm_head`` Dense layer.

        Example:
            >>> model.get_output_embeddings() is model.get_input_embeddings()  # tied
            True
        """
        head = self.get_lm_head()
        return None if head is None else getattr(head, "output_embeddings", head)

    def set_output_embeddings(self, value) -> None:
        """New values for the output matrix: a tied head takes them through the input embeddings.

        ``value`` is an Embedding or Dense layer, or a (vocab_size, hidden_size) matrix (the
        checkpoint layout).

        Example:
            >>> model.set_output_embeddings(np.zeros((49152, 576), np.float32))
        """
        output = self.get_output_embeddings()
        if output is None:
            raise NotSupportedError(f"{type(self).__name__} has no output embeddings (no language-model head).")
        if output is self.get_input_embeddings():
            self.set_input_embeddings(value)
            return
        self._ensure_built()
        kernel = value.kernel if isinstance(value, keras.layers.Dense) else embedding_matrix(value).T
        replace_variable(output, "_kernel", np.asarray(keras.ops.convert_to_numpy(kernel)))
        output.units = int(kernel.shape[1])
        self.reset_compiled_functions()

    def get_bias(self) -> dict | None:
        """``{"bias": variable}``: the LM head's output bias, or None when it has none.

        Example:
            >>> model.get_bias()["bias"].shape  # (vocab_size,)
        """
        head = self.get_lm_head()
        bias = getattr(head, "bias", None) if head is not None else None
        return None if bias is None else {"bias": bias}

    def set_bias(self, value: Mapping[str, Any]) -> None:
        """Replace the LM head's output bias with ``value["bias"]``; its length becomes ``config.vocab_size``.

        Example:
            >>> model.set_bias({"bias": np.zeros(model.config.vocab_size + 2, np.float32)})
        """
        if self.get_bias() is None:
            raise NotSupportedError(f"{type(self).__name__} has no output bias (get_bias() is None).")
        if not isinstance(value, Mapping) or "bias" not in value:
            raise InvalidInputTypeError('set_bias takes a dict {"bias": values}, as get_bias() returns.')
        self._ensure_built()
        head = self.get_lm_head()
        bias = np.asarray(keras.ops.convert_to_numpy(value["bias"]))
        replace_variable(head, "bias", bias)
        head.vocab_size = int(bias.shape[0])
        self.config.vocab_size = int(bias.shape[0])
        self.reset_compiled_functions()

    def resize_token_embeddings(
        self, new_num_tokens: int | None = None, pad_to_multiple_of: int | None = None, mean_resizing: bool = True
    ):
        """Resize the token embeddings (and a tied or untied LM head and its bias) to ``new_num_tokens`` rows.

        As transformers 5.23: growing keeps the old rows and adds new ones drawn from the old
        rows' mean and covariance (scaled by 1e-9) with ``mean_resizing=True``, or from
        N(0, ``initializer_range``) with ``mean_resizing=False``; an output bias grows with the
        old bias' mean (or zeros). Shrinking keeps the first rows. ``pad_to_multiple_of`` rounds
        the size up. ``config.vocab_size`` and the input-id checks follow. After ``fit()`` the
        optimizer restarts with its config (its slots had the old shape). Returns the input
        embedding layer.

        Example:
            >>> tokenizer.add_tokens(["[MOVIE]"])
            >>> model.resize_token_embeddings(len(tokenizer)).weight.shape[0] == len(tokenizer)
            True
        """
        embeddings = self.get_input_embeddings()
        if pad_to_multiple_of is not None:
            if (
                not isinstance(pad_to_multiple_of, int)
                or isinstance(pad_to_multiple_of, bool)
                or pad_to_multiple_of < 1
            ):
                raise InvalidInputError(
                    f"pad_to_multiple_of must be a positive integer, got {pad_to_multiple_of!r}; e.g. 64."
                )
            if new_num_tokens is None:
                new_num_tokens = embeddings.input_dim
            new_num_tokens = -(-new_num_tokens // pad_to_multiple_of) * pad_to_multiple_of
        if new_num_tokens is None:
            return embeddings
        if not isinstance(new_num_tokens, int) or isinstance(new_num_tokens, bool) or new_num_tokens < 1:
            raise InvalidInputError(
                f"new_num_tokens must be a positive integer, got {new_num_tokens!r}; e.g. len(tokenizer)."
            )
        self._ensure_built()
        if new_num_tokens != embeddings.input_dim:
            rng = np.random.default_rng()
            std = getattr(self.config, "initializer_range", 0.02)
            old = keras.ops.convert_to_numpy(embeddings.embeddings)
            self.set_input_embeddings(resized_rows(old, new_num_tokens, mean_resizing, std, rng))
            output = self.get_output_embeddings()
            if output is not None and output is not embeddings:  # an untied head: rows are its kernel's columns
                old = keras.ops.convert_to_numpy(output.kernel).T
                self.set_output_embeddings(resized_rows(old, new_num_tokens, mean_resizing, std, rng))
            bias = self.get_bias()
            if bias is not None:
                old = keras.ops.convert_to_numpy(bias["bias"])
                self.set_bias({"bias": resized_bias(old, new_num_tokens, mean_resizing, rng)})
        self.config.vocab_size = new_num_tokens
        self.restart_optimizer()
        return embeddings

    def _ensure_built(self) -> None:
        if not self.built:
            self.build_with_dummy_inputs()

    def reset_compiled_functions(self) -> None:
        """Drop every traced function (inference graphs, Keras' train/test/predict, generate loops).

        Called after variables are replaced (resizing): traced functions hold the old ones.

        Example:
            >>> model.reset_compiled_functions()
        """
        state = self.__dict__.get("_kf_inference_graph")
        if state is not None:
            for part in ("graphs", "xla", "xla_shapes", "shape_calls", "sequence_axes"):
                state.get(part, {}).clear()
        compiled = self.__dict__.get("_kf_compiled")  # generation's compiled decode loops
        if isinstance(compiled, dict):
            compiled.clear()
        self.train_function = self.test_function = self.predict_function = None

    def restart_optimizer(self) -> None:
        """After variables changed shape: compile again with a fresh optimizer of the same config.

        Example:
            >>> model.resize_token_embeddings(len(tokenizer)); model.fit(...)  # restarts the optimizer first
        """
        optimizer = getattr(self, "optimizer", None)
        if optimizer is None or not optimizer.built:
            return
        arguments = dict(self._compile_config.config)
        arguments["optimizer"] = type(optimizer).from_config(optimizer.get_config())
        self.compile(**arguments)
        logger.info("%s: the optimizer restarts (its state had the old shapes).", type(self).__name__)

    # ---------------------------------------------------------------- misc
    @classmethod
    def can_generate(cls) -> bool:
        """Whether ``generate()`` works on this class (language-model heads with a decode loop).

        Example:
            >>> TFGPT2LMHeadModel.can_generate(), TFBertModel.can_generate()
            (True, False)
        """
        return callable(getattr(cls, "generate", None))

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """The number of parameters (each tied matrix counted once).

        Example:
            >>> model.num_parameters(only_trainable=True)
        """
        self._ensure_built()
        variables = self.trainable_weights if only_trainable else self.weights
        if exclude_embeddings:
            skip = {
                id(layer.embeddings) for layer in self._flatten_layers() if isinstance(layer, keras.layers.Embedding)
            }
            variables = [v for v in variables if id(v) not in skip]
        return int(sum(np.prod(v.shape) for v in variables))


# transformers' download options: accepted and unused, since nothing is downloaded here
_LOADING_ONLY_ARGUMENTS = frozenset(
    {"proxies", "resume_download", "user_agent", "use_auth_token", "mirror", "_from_auto", "_from_pipeline"}
)


def embedding_matrix(value) -> np.ndarray:
    """A (rows, hidden_size) matrix from an Embedding layer, a variable, a tensor or an array.

    Example:
        >>> embedding_matrix(model.get_input_embeddings()).shape
    """
    if isinstance(value, keras.layers.Embedding):
        value = value.embeddings
    matrix = np.asarray(keras.ops.convert_to_numpy(value))
    if matrix.ndim != 2:
        raise InvalidInputError(f"Embeddings must be a (vocab_size, hidden_size) matrix, got shape {matrix.shape}.")
    return matrix


def replace_variable(layer: keras.layers.Layer, attribute: str, values: np.ndarray) -> None:
    """Swap ``layer.<attribute>`` for a new variable holding ``values`` (any shape), same name and dtype.

    Keras variables cannot change shape; the layer untracks the old one and tracks the new one,
    so weights lists, saving and training see only the new one.

    Example:
        >>> replace_variable(model.get_input_embeddings(), "_embeddings", bigger_matrix)
    """
    old = getattr(layer, attribute)
    delattr(layer, attribute)  # Keras untracks a deleted variable
    tracker = layer._tracker
    locked = tracker.locked
    tracker.unlock()
    try:
        new = layer.add_weight(
            shape=tuple(values.shape), initializer="zeros", dtype=old.dtype, trainable=old.trainable, name=old.name
        )
    finally:
        if locked:
            tracker.lock()
    new.assign(np.asarray(values, dtype=new.dtype))
    object.__setattr__(layer, attribute, new)  # add_weight tracked it already


def resized_rows(old: np.ndarray, new_rows: int, mean_resizing: bool, std: float, rng) -> np.ndarray:
    """``old`` cut to or grown to ``new_rows`` rows, the new rows initialised as transformers 5.23 does.

    ``mean_resizing``: drawn from N(mean of the old rows, 1e-9 * their covariance), or the mean
    itself when that covariance is not positive definite; otherwise N(0, ``std``).

    Example:
        >>> resized_rows(np.eye(3, dtype=np.float32), 4, True, 0.02, np.random.default_rng()).shape
        (4, 3)
    """
    count, dim = old.shape
    out = np.empty((new_rows, dim), old.dtype)
    kept = min(count, new_rows)
    out[:kept] = old[:kept]
    added = new_rows - count
    if added > 0:
        if mean_resizing:
            x = old.astype(np.float32)
            mean = x.mean(axis=0)
            centered = x - mean
            covariance = centered.T @ centered / count
            try:
                lower = np.linalg.cholesky(1e-9 * covariance.astype(np.float64))
                out[count:] = mean + rng.standard_normal((added, dim)) @ lower.T
            except np.linalg.LinAlgError:
                out[count:] = mean
        else:
            out[count:] = rng.normal(0.0, std, (added, dim))
    return out


def resized_bias(old: np.ndarray, new_size: int, mean_resizing: bool, rng) -> np.ndarray:
    """An output bias cut or grown to ``new_size``: new entries at the old mean (+ 1e-9 std noise) or zero.

    Example:
        >>> resized_bias(np.ones(3, np.float32), 5, True, np.random.default_rng())
    """
    out = np.zeros(new_size, old.dtype)
    kept = min(old.shape[0], new_size)
    out[:kept] = old[:kept]
    added = new_size - old.shape[0]
    if added > 0 and mean_resizing:
        mean, std = float(np.mean(old, dtype=np.float32)), float(np.std(old, ddof=1)) if old.size > 1 else 0.0
        out[old.shape[0] :] = rng.normal(mean, 1e-9 * std, added)
    return out


def alias_class(base: type, name: str, config_class: type) -> type:
    """``base`` under another family's name and config: how XLM-RoBERTa, Mistral and Qwen2 are made.

    The class runs ``base``'s forward pass and loads that family's config.json; it registers
    for ``.keras`` files under ``name`` like any model class.

    Example:
        >>> TFMistralModel = alias_class(TFLlamaModel, "TFMistralModel", MistralConfig)
    """
    doc = f"{name}: {base.__name__}'s forward pass with {config_class.__name__}.\n\n{base.__doc__ or ''}"
    return type(
        name,
        (base,),
        {"config_class": config_class, "__doc__": doc, "__module__": base.__module__, "__qualname__": name},
    )
