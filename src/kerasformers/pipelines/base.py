"""The Pipeline base class: preprocess -> batched forward -> postprocess, as transformers' pipelines.

How a task module plugs in
--------------------------
1. Add (or find) the task's row in :mod:`kerasformers.tasks` and set its ``pipeline`` field to
   the class name, e.g. ``pipeline="QuestionAnsweringPipeline"``. A task that runs another
   task's head (zero-shot-classification runs the sequence-classification head) is a row of
   ``PIPELINE_ONLY_TASKS`` there. The row's ``auto_class`` loads the model for ``pipeline(task,
   model="path")`` and is the head a given model instance must have.
2. Write ``kerasformers/pipelines/<task>.py`` with a subclass of :class:`Pipeline` (or
   :class:`ChunkPipeline` when one input becomes several model inputs, as question-answering's
   document windows or zero-shot's candidate labels), decorated with ``@register_pipeline``, and
   implementing transformers' four methods:

   - ``_sanitize_parameters(**kwargs) -> (preprocess_params, forward_params, postprocess_params)``:
     called with the extra keyword arguments of ``__init__`` and of each ``__call__``; put only the
     arguments the caller gave (defaults stay in the method signatures).
   - ``preprocess(input_, **preprocess_params) -> dict``: one input to model inputs with a batch
     axis of 1 (``self.tokenizer(..., return_tensors="np")``); other values (strings, offsets as
     lists) may ride along. A ChunkPipeline's ``preprocess`` is a generator of such dicts, each with
     ``"is_last": bool`` (True on the input's last chunk).
   - ``_forward(model_inputs, **forward_params) -> dict``: gets a whole batch, padded per batch
     (arrays along axis 1 with the tokenizer's pad id / padding side; ``attention_mask`` and
     ``token_type_ids`` with 0, ``special_tokens_mask`` and ``p_mask`` with 1); other values come
     as lists, one entry per item. Run the model with ``self.run_model(model_inputs)`` (it keeps
     the keys the model accepts and uses the model's cached inference graph). Return a dict (or
     ModelOutput); TF tensors in it become numpy arrays.
   - ``postprocess(model_outputs, **postprocess_params)``: gets ONE item's outputs: each array
     sliced back to a batch axis of 1, each list entry picked out (ChunkPipeline: a list of such
     dicts, one per chunk).
3. Import the module in ``kerasformers/pipelines/__init__.py`` (and add its class to ``__all__``).

``__call__`` then takes a single input (one result), a list (a list of results), or a
generator / ``KeyDataset`` / ``datasets.Dataset`` (an iterator of results, computed lazily
``batch_size`` items at a time).

Example:
    >>> @register_pipeline
    ... class LengthPipeline(Pipeline):
    ...     def _sanitize_parameters(self, **kwargs):
    ...         return {}, {}, {}
    ...     def preprocess(self, text):
    ...         return self.tokenizer(text, return_tensors="np")
    ...     def _forward(self, model_inputs):
    ...         return {"mask": model_inputs["attention_mask"]}
    ...     def postprocess(self, outputs):
    ...         return int(outputs["mask"].sum())
"""

from __future__ import annotations

import contextlib
import itertools
import os
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError, InvalidInputTypeError, UnsupportedModelTypeError
from kerasformers.outputs import ModelOutput
from kerasformers.tasks import Task, resolve_task

__all__ = ["Pipeline", "ChunkPipeline", "KeyDataset", "KeyPairDataset", "register_pipeline", "PIPELINE_CLASSES"]

# pipeline class name -> class, filled by @register_pipeline when the task modules are imported
PIPELINE_CLASSES: dict[str, type] = {}

# padding values per input name for per-batch padding (as transformers' pad_collate_fn)
_PAD_WITH_ONE = ("special_tokens_mask", "p_mask")


def register_pipeline(cls: type) -> type:
    """Class decorator: make a Pipeline subclass findable by the task table's ``pipeline`` field.

    Example:
        >>> @register_pipeline
        ... class TextClassificationPipeline(Pipeline): ...
    """
    PIPELINE_CLASSES[cls.__name__] = cls
    return cls


class KeyDataset:
    """One key of each item of a dataset (transformers.pipelines.pt_utils.KeyDataset).

    Example:
        >>> for out in pipe(KeyDataset(dataset, "text"), batch_size=8):
        ...     print(out)
    """

    def __init__(self, dataset: Sequence[Mapping[str, Any]], key: str):
        self.dataset = dataset
        self.key = key

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> Any:
        return self.dataset[i][self.key]

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))


class KeyPairDataset:
    """Two keys of each item as ``{"text": ..., "text_pair": ...}`` (transformers' KeyPairDataset).

    Example:
        >>> pipe(KeyPairDataset(dataset, "premise", "hypothesis"))
    """

    def __init__(self, dataset: Sequence[Mapping[str, Any]], key1: str, key2: str):
        self.dataset = dataset
        self.key1 = key1
        self.key2 = key2

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"text": self.dataset[i][self.key1], "text_pair": self.dataset[i][self.key2]}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))


def _to_numpy(value: Any) -> Any:
    """TF/Keras tensors (also inside tuples, lists and dicts) as numpy arrays."""
    if isinstance(value, np.ndarray) or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return value
    if isinstance(value, ModelOutput):
        return type(value)(**{k: _to_numpy(v) for k, v in value.items()})
    if isinstance(value, Mapping):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_to_numpy(v) for v in value)
    if isinstance(value, list):
        return [_to_numpy(v) for v in value]
    if hasattr(value, "numpy") and hasattr(value, "shape"):
        return np.asarray(value.numpy())
    return value


def _is_lazy_collection(inputs: Any) -> bool:
    """Inputs that transformers streams (a generator, a dataset) rather than returning a list."""
    if isinstance(inputs, (types.GeneratorType, KeyDataset, KeyPairDataset, Iterator)):
        return True
    module = type(inputs).__module__ or ""
    return module.startswith("datasets.") and isinstance(inputs, Iterable)  # Dataset, Column, IterableDataset


class Pipeline:
    """Base class of every pipeline: ``__call__`` runs preprocess -> _forward (batched) -> postprocess.

    ``model``: a TFPreTrainedModel with the task's head; ``tokenizer``: its tokenizer;
    ``batch_size``: how many inputs one forward pass takes (default 1; inputs are padded per
    batch, so results do not depend on it); ``device``: -1 / "cpu" for the CPU, an int or
    "gpu:N" for a GPU; other keyword arguments are the task's (``top_k``, ...), defaults for
    every call. See the module docstring for how a task subclass plugs in.

    Example:
        >>> pipe = TextClassificationPipeline(model=model, tokenizer=tokenizer, top_k=None)
        >>> pipe(["I love it", "Awful"], batch_size=8)
    """

    # the task table row used when the pipeline is built directly (pipeline() passes task=...)
    default_task: str | None = None
    # False for pipelines that run without a tokenizer
    needs_tokenizer: bool = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        task: str = "",
        batch_size: int | None = None,
        device: int | str | None = None,
        binary_output: bool = False,
        **kwargs: Any,
    ):
        self.task = task or self.default_task or ""
        self.model = model
        self.tokenizer = tokenizer
        self.binary_output = binary_output
        self.device = device
        self._tf_device = _tf_device_name(device)
        if self.needs_tokenizer and tokenizer is None:
            raise InvalidInputError(
                f"{type(self).__name__} needs a tokenizer and none was given. Pass tokenizer=... "
                "(e.g. AutoTokenizer.from_pretrained(<the model's folder>))."
            )
        if self.task:
            check_model_head(model, resolve_task(self.task))
        self.call_count = 0
        self._batch_size = _check_batch_size(batch_size)
        kwargs.pop("num_workers", None)  # transformers' DataLoader workers: nothing to spread here
        self._preprocess_params, self._forward_params, self._postprocess_params = self._sanitize_parameters(**kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__})"

    # ---------------------------------------------------------------- the four task methods
    def _sanitize_parameters(self, **pipeline_parameters: Any) -> tuple[dict, dict, dict]:
        """Split keyword arguments into (preprocess, forward, postprocess) parameters.

        The base class takes none: an unknown argument is an error, not silently ignored.

        Example:
            >>> pipe._sanitize_parameters(top_k=2)
            ({}, {}, {'top_k': 2})
        """
        if pipeline_parameters:
            raise InvalidInputTypeError(
                f"{type(self).__name__} takes no argument(s) {sorted(pipeline_parameters)}. Remove them."
            )
        return {}, {}, {}

    def preprocess(self, input_: Any, **preprocess_parameters: Any) -> dict[str, Any]:
        """One input -> model inputs with a batch axis of 1 (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement preprocess")

    def _forward(self, input_tensors: dict[str, Any], **forward_parameters: Any) -> Mapping[str, Any]:
        """A padded batch -> the model's outputs (subclasses implement it, usually via run_model)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _forward")

    def postprocess(self, model_outputs: Mapping[str, Any], **postprocess_parameters: Any) -> Any:
        """One item's outputs -> the result the user sees (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement postprocess")

    # ---------------------------------------------------------------- helpers for subclasses
    def run_model(self, model_inputs: Mapping[str, Any], **call_kwargs: Any) -> Any:
        """Call the model on the inputs it accepts (other keys are dropped), through its inference graph.

        Example:
            >>> outputs = pipe.run_model(pipe.tokenizer(["a b"], return_tensors="np"))
            >>> outputs["logits"].shape
            (1, 2)
        """
        accepted = set(self.model._call_parameters()) if hasattr(self.model, "_call_parameters") else None
        inputs = {
            k: v for k, v in model_inputs.items() if (accepted is None or k in accepted) and isinstance(v, np.ndarray)
        }
        return self.model(**inputs, **call_kwargs)

    def forward(self, model_inputs: dict[str, Any], **forward_params: Any) -> Any:
        """``_forward`` on the pipeline's device, outputs as numpy arrays.

        Example:
            >>> pipe.forward(pipe.preprocess("a b"))["logits"].shape
            (1, 2)
        """
        scope = contextlib.nullcontext()
        if self._tf_device is not None:
            import tensorflow as tf

            scope = tf.device(self._tf_device)
        with scope:
            return _to_numpy(self._forward(model_inputs, **forward_params))

    # ---------------------------------------------------------------- calling
    def __call__(self, inputs: Any = None, *args: Any, batch_size: int | None = None, **kwargs: Any) -> Any:
        """Run the pipeline: one input -> one result, a list -> a list, a generator/dataset -> an iterator.

        Example:
            >>> pipe("I love it")
            >>> pipe(["I love it", "Awful"], batch_size=8)
            >>> for result in pipe(KeyDataset(dataset, "text")):
            ...     ...
        """
        if args:
            raise InvalidInputTypeError(
                f"{type(self).__name__} takes one positional input (a string, a list or a dataset); "
                f"got {1 + len(args)}."
            )
        kwargs.pop("num_workers", None)
        batch_size = _check_batch_size(batch_size if batch_size is not None else self._batch_size) or 1
        preprocess_params, forward_params, postprocess_params = self._sanitize_parameters(**kwargs)
        preprocess_params = {**self._preprocess_params, **preprocess_params}
        forward_params = {**self._forward_params, **forward_params}
        postprocess_params = {**self._postprocess_params, **postprocess_params}
        self.call_count += 1
        params = (preprocess_params, forward_params, postprocess_params)
        if isinstance(inputs, list):
            return list(self.get_iterator(inputs, batch_size, *params))
        if _is_lazy_collection(inputs):
            return self.get_iterator(inputs, batch_size, *params)
        return self.run_single(inputs, *params)

    def run_single(self, inputs: Any, preprocess_params: dict, forward_params: dict, postprocess_params: dict) -> Any:
        """One input through the three steps (a batch of one).

        Example:
            >>> pipe.run_single("I love it", {}, {}, {})
        """
        return next(self.get_iterator([inputs], 1, preprocess_params, forward_params, postprocess_params))

    def _preprocessed(self, inputs: Iterable[Any], preprocess_params: dict) -> Iterator[tuple[dict, bool]]:
        """(model inputs, is the input's last chunk) for each input, lazily."""
        for input_ in inputs:
            yield self.preprocess(input_, **preprocess_params), True

    def get_iterator(
        self,
        inputs: Iterable[Any],
        batch_size: int,
        preprocess_params: dict,
        forward_params: dict,
        postprocess_params: dict,
    ) -> Iterator[Any]:
        """Results one by one: inputs are preprocessed, padded and run ``batch_size`` at a time.

        Example:
            >>> list(pipe.get_iterator(["a", "b"], 2, {}, {}, {}))
        """
        if "TOKENIZERS_PARALLELISM" not in os.environ:
            os.environ["TOKENIZERS_PARALLELISM"] = "false"  # as transformers: no fork warnings
        chunks = self._preprocessed(inputs, preprocess_params)
        pending: list[Any] = []  # a ChunkPipeline's outputs for the current input
        while True:
            batch = list(itertools.islice(chunks, batch_size))
            if not batch:
                return
            outputs = self.forward(self._collate([item for item, _ in batch]), **forward_params)
            for index, (_, is_last) in enumerate(batch):
                item_outputs = _unbatch(outputs, index, len(batch))
                if not isinstance(self, ChunkPipeline):
                    yield self.postprocess(item_outputs, **postprocess_params)
                    continue
                pending.append(item_outputs)
                if is_last:
                    yield self.postprocess(pending, **postprocess_params)
                    pending = []

    def _collate(self, items: list[Mapping[str, Any]]) -> dict[str, Any]:
        """Items with a batch axis of 1 -> one batch: arrays padded per batch, other values as lists."""
        keys = list(items[0])
        for item in items[1:]:
            if set(item) != set(keys):
                raise InvalidInputError(
                    f"The inputs of one batch hold different keys ({sorted(item)} vs {sorted(keys)}); "
                    "run them with batch_size=1."
                )
        return {key: self._pad([_to_numpy(item[key]) for item in items], key) for key in keys}

    def _pad(self, values: list[Any], key: str) -> Any:
        if not all(isinstance(v, np.ndarray) and v.ndim >= 1 for v in values):
            return list(values)
        if values[0].ndim == 1 or len({v.shape[1:] for v in values}) == 1:
            return np.concatenate(values, axis=0)
        length = max(v.shape[1] for v in values)
        if key == "input_ids":
            pad_value = getattr(self.tokenizer, "pad_token_id", None)
            if pad_value is None:
                raise InvalidInputError(
                    "Inputs of different lengths need padding but the tokenizer has no pad token. Set "
                    "pipe.tokenizer.pad_token = pipe.tokenizer.eos_token, or use batch_size=1."
                )
        else:
            pad_value = 1 if key in _PAD_WITH_ONE else 0
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        padded = []
        for value in values:
            width = [(0, 0)] * value.ndim
            width[1] = (length - value.shape[1], 0) if left else (0, length - value.shape[1])
            padded.append(np.pad(value, width, constant_values=pad_value))
        return np.concatenate(padded, axis=0)

    # ---------------------------------------------------------------- scikit-learn style and saving
    def transform(self, X: Any) -> Any:
        """Scikit-learn style: the pipeline's results for X.

        Example:
            >>> pipe.transform(["I love it"])
        """
        return self(X)

    def predict(self, X: Any) -> Any:
        """Scikit-learn style: the pipeline's results for X.

        Example:
            >>> pipe.predict(["I love it"])
        """
        return self(X)

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Save the model and the tokenizer into one folder (``pipeline(task, model=folder)`` reloads it).

        Example:
            >>> pipe.save_pretrained("my-pipeline")
        """
        self.model.save_pretrained(save_directory, **kwargs)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(save_directory)


class ChunkPipeline(Pipeline):
    """A pipeline whose ``preprocess`` yields several model inputs per input (``"is_last"`` on the last).

    ``postprocess`` gets the list of one input's chunk outputs. Chunks of several inputs share
    batches.

    Example:
        >>> class PairsPipeline(ChunkPipeline):
        ...     def preprocess(self, text, candidate_labels=()):
        ...         for i, label in enumerate(candidate_labels):
        ...             encoding = self.tokenizer(text, label, return_tensors="np")
        ...             yield {**encoding, "is_last": i == len(candidate_labels) - 1}
    """

    def _preprocessed(self, inputs: Iterable[Any], preprocess_params: dict) -> Iterator[tuple[dict, bool]]:
        for input_ in inputs:
            chunks = list(self.preprocess(input_, **preprocess_params))
            if not chunks:
                raise InvalidInputError(f"{type(self).__name__} made no model inputs from {input_!r}.")
            for index, chunk in enumerate(chunks):
                yield chunk, bool(chunk.get("is_last", index == len(chunks) - 1))


def _unbatch(outputs: Any, index: int, batch: int) -> Any:
    """Item ``index`` of a batch's outputs: arrays keep a batch axis of 1, lists give their entry."""
    if isinstance(outputs, ModelOutput):
        return type(outputs)(**{k: _unbatch(v, index, batch) for k, v in outputs.items()})
    if isinstance(outputs, Mapping):
        return {k: _unbatch(v, index, batch) for k, v in outputs.items()}
    if isinstance(outputs, tuple):
        return tuple(_unbatch(v, index, batch) for v in outputs)
    if isinstance(outputs, list) and len(outputs) == batch:
        return outputs[index]
    if isinstance(outputs, np.ndarray) and outputs.ndim >= 1 and outputs.shape[0] == batch:
        return outputs[index : index + 1]
    return outputs


def _check_batch_size(batch_size: Any) -> int | None:
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise InvalidInputError(f"batch_size must be a positive int, got {batch_size!r}.")
    return batch_size


def _tf_device_name(device: Any) -> str | None:
    """transformers' device argument as a TF device name (None: TF's own placement)."""
    if device is None or device == -1 or device == "cpu":
        return None if device is None else "/CPU:0"
    if isinstance(device, int) and not isinstance(device, bool) and device >= 0:
        return f"/GPU:{device}"
    if isinstance(device, str):
        kind, _, number = device.lower().partition(":")
        if kind in ("cpu", "gpu", "cuda") and (number or "0").isdigit():
            return f"/{'CPU' if kind == 'cpu' else 'GPU'}:{number or 0}"
    raise InvalidInputError(f"Unknown device {device!r}. Use -1 or 'cpu' for the CPU, 0 or 'gpu:0' for a GPU.")


def check_model_head(model: Any, task: Task) -> None:
    """Raise when ``model`` is not the class the task's auto class loads for its config (it lacks the head).

    Example:
        >>> check_model_head(TFBertModel(config), resolve_task("fill-mask"))
        Traceback (most recent call last):
        kerasformers.errors.InvalidInputTypeError: The fill-mask pipeline needs ... TFBertForMaskedLM ...
    """
    from kerasformers.models import auto

    auto_class = getattr(auto, task.auto_class)
    config = getattr(model, "config", None)
    if config is None or not callable(model):
        raise InvalidInputTypeError(
            f"The {task.name} pipeline needs a kerasformers model, got {type(model).__name__}. "
            f"Pass model=<a checkpoint folder or name> or a {task.auto_class}.from_pretrained(...) model."
        )
    try:
        expected = auto_class.model_class(config)
    except UnsupportedModelTypeError as error:
        raise InvalidInputTypeError(
            f"The {task.name} pipeline needs a {task.auto_class} head, which {type(model).__name__} "
            f"(model_type {getattr(config, 'model_type', None)!r}) does not have: {error}"
        ) from None
    if not isinstance(model, expected):
        raise InvalidInputTypeError(
            f"The {task.name} pipeline needs a model with the {task.registry_key} head ({expected.__name__}); "
            f"got {type(model).__name__}. Load it with {task.auto_class}.from_pretrained(...), or pass the "
            "checkpoint path as model=..."
        )
