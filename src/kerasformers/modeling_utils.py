"""TFPreTrainedModel: the Keras model base class every architecture and head derives from.

It knows no architecture by name. It gives: from_pretrained / save_pretrained in the
Hugging Face layout, `.keras` serialisation, transformers-style inputs (a dict, keyword
arguments, lists or numpy), ModelOutput results and dtype selection.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerasformers.configuration import PretrainedConfig, config_class_for
from kerasformers.hub import atomic_folder_write, resolve_checkpoint
from kerasformers.outputs import ModelOutput
from kerasformers.training import KerasTrainingMixin
from kerasformers.weights import load_checkpoint_into_model, save_model_weights

logger = logging.getLogger("kerasformers")

_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16"}


@contextlib.contextmanager
def dtype_policy(dtype: str | None):
    """Build layers under ``dtype`` (float32, bfloat16 or float16), then restore the policy."""
    if dtype is None:
        yield
        return
    name = getattr(dtype, "name", str(dtype)).replace("torch.", "")
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of float32, bfloat16, float16; got {dtype!r}.")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_DTYPES[name])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class TFPreTrainedModel(KerasTrainingMixin, keras.Model):
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
    main_input_name: str = "input_ids"
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
                raise TypeError(f"{clash} given both inside the input dict and as keyword arguments.")
            kwargs = {**batch, **kwargs}
        for name, value in zip(parameters, args):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__} got two values for {name!r}.")
            kwargs[name] = value
        if len(args) > len(parameters):
            raise TypeError(f"{type(self).__name__} takes at most {len(parameters)} positional inputs.")
        unknown = sorted(set(kwargs) - set(parameters))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} does not accept {unknown}. It accepts: {', '.join(parameters)}. "
                "Drop those keys from the batch (e.g. tokenizer(..., return_token_type_ids=False))."
            )
        return_dict = kwargs.pop("return_dict", None)
        for name, value in list(kwargs.items()):
            if isinstance(value, (list, tuple, np.ndarray)) and name != "past_key_values":
                array = np.asarray(value)
                if array.dtype == np.float64:
                    array = array.astype(np.float32)
                elif array.dtype.kind in "iub":
                    array = array.astype(np.int32)
                kwargs[name] = keras.ops.convert_to_tensor(array)
        main = kwargs.pop(self.main_input_name, None)
        outputs = super().__call__(main, **kwargs)
        if return_dict is False and isinstance(outputs, ModelOutput):
            return outputs.to_tuple()
        return outputs

    @property
    def max_input_length(self) -> int | None:
        """The longest input the model handles (RoBERTa-style models reserve position ids)."""
        return getattr(self.config, "max_position_embeddings", None)

    def check_input_ids(self, input_ids, name: str = "input_ids", rank: int = 2) -> None:
        """Raise one clear error for inputs of the wrong rank or longer than the model allows."""
        shape = tuple(input_ids.shape)
        if len(shape) != rank:
            expected = "(batch_size, sequence_length)" if rank == 2 else \
                "(batch_size, num_choices, sequence_length)"
            raise ValueError(
                f"{name} must have shape {expected}, got shape {shape}. "
                + ("Wrap a single sequence in a list: [ids]." if len(shape) == rank - 1 else "")
            )
        limit = self.max_input_length
        length = shape[-1]
        if limit is not None and length is not None and length > limit:
            raise ValueError(
                f"{name} has {length} tokens but {type(self).__name__} handles at most {limit} "
                f"(max_position_embeddings). Truncate: tokenizer(..., truncation=True, max_length={limit})."
            )

    # ---------------------------------------------------------------- loading and saving
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        config: PretrainedConfig | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        dtype: str | None = None,
        ignore_mismatched_sizes: bool = False,
        allow_pickle: bool = False,
        output_loading_info: bool = False,
        **config_overrides: Any,
    ):
        """Build the model from a checkpoint's config.json and load its weights.

        Keyword arguments that are not listed here override config values (``num_labels=3``).
        PyTorch pickle weights (``pytorch_model.bin``) are refused unless ``allow_pickle=True``.

        Example:
            >>> model = TFBertForSequenceClassification.from_pretrained("path/to/bert", num_labels=3)
        """
        config_overrides.pop("from_pt", None)  # transformers' TF flag: we always read PyTorch names
        torch_dtype = config_overrides.pop("torch_dtype", None)
        dtype = dtype or torch_dtype
        folder = resolve_checkpoint(pretrained_model_name_or_path, revision=revision, cache_dir=cache_dir)
        if config is None:
            config_cls = cls.config_class or PretrainedConfig
            config = config_cls.from_pretrained(folder, **config_overrides)
        elif config_overrides:
            for key, value in config_overrides.items():
                setattr(config, key, value)
        with dtype_policy(dtype):
            model = cls(config)
            model.build_with_dummy_inputs()
        info = load_checkpoint_into_model(
            model, folder, allow_pickle=allow_pickle, ignore_mismatched_sizes=ignore_mismatched_sizes,
            source=os.fspath(pretrained_model_name_or_path),
        )
        model.name_or_path = os.fspath(pretrained_model_name_or_path)
        if output_loading_info:
            return model, info.as_dict()
        return model

    def save_pretrained(self, save_directory: str | os.PathLike, max_shard_size: int | str = "5GB",
                        **kwargs: Any) -> None:
        """Write ``config.json`` and ``model.safetensors`` (Hugging Face layout, PyTorch names).

        PyTorch transformers' ``AutoModel*.from_pretrained(save_directory)`` reads the result.

        Example:
            >>> model.save_pretrained("out")
        """
        if not self.built:
            self.build_with_dummy_inputs()
        self.config.architectures = [type(self).__name__.removeprefix("TF")]
        with atomic_folder_write(save_directory) as tmp:
            (tmp / "config.json").write_text(self.config.to_json_string(), encoding="utf-8")
            save_model_weights(self, Path(tmp), max_shard_size=max_shard_size)
        if kwargs.get("saved_model"):
            # As transformers' TF side: a SavedModel in <save_directory>/saved_model/<version>.
            from kerasformers.export import export_saved_model

            export_saved_model(self, Path(save_directory) / "saved_model", version=kwargs.get("version", 1))

    def export(self, filepath: str | os.PathLike, format: str = "tf_saved_model", verbose: bool | None = None,
               input_signature=None, **kwargs: Any):
        """Export for serving. ``tf_saved_model`` (default): a SavedModel at ``filepath`` with
        ``serving_default`` (int32 inputs, dynamic batch and length, named outputs) and
        ``serving_int64``. Other formats and an explicit ``input_signature`` go to Keras' export.

        Example:
            >>> model.export("serving/bert/1")
            >>> tf.saved_model.load("serving/bert/1").signatures["serving_default"]
        """
        if format != "tf_saved_model" or input_signature is not None:
            return super().export(filepath, format=format, verbose=verbose, input_signature=input_signature,
                                  **kwargs)
        from kerasformers.export import export_saved_model

        path = Path(filepath)
        return export_saved_model(self, path.parent, version=path.name, **kwargs)

    # ---------------------------------------------------------------- training data
    def prepare_tf_dataset(self, dataset, batch_size: int = 8, shuffle: bool = True, tokenizer=None,
                           collate_fn=None, collate_fn_args=None, drop_remainder=None, prefetch=True,
                           **kwargs: Any):
        """A ``datasets.Dataset`` as a disk-backed ``tf.data.Dataset`` of padded ``(inputs, labels)``.

        Keeps the columns this model accepts, renames ``label`` to ``labels`` and pads each batch
        to its own longest example; ``length_buckets`` / ``pad_to_multiple_of`` bound the shapes
        XLA compiles. See :func:`kerasformers.data.tf_dataset.prepare_tf_dataset`.

        Example:
            >>> tf_ds = model.prepare_tf_dataset(encoded["train"], batch_size=16, tokenizer=tokenizer)
            >>> model.compile(optimizer="adam", metrics=["accuracy"]); model.fit(tf_ds, epochs=2)
        """
        from kerasformers.data.tf_dataset import prepare_tf_dataset

        return prepare_tf_dataset(self, dataset, batch_size=batch_size, shuffle=shuffle, tokenizer=tokenizer,
                                  collate_fn=collate_fn, collate_fn_args=collate_fn_args,
                                  drop_remainder=drop_remainder, prefetch=prefetch, **kwargs)

    # ---------------------------------------------------------------- misc
    def num_parameters(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.weights))

    def get_input_embeddings(self):
        main = getattr(self, self.base_model_prefix, self) if self.base_model_prefix else self
        return main.embeddings.word_embeddings
