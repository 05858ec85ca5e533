"""pipeline(): transformers' one-line entry point (``pipeline("sentiment-analysis", model=...)``).

The task table (:mod:`kerasformers.tasks`) names each task, its aliases, the auto class that
loads its model and its pipeline class; the task modules below register their classes with
``@register_pipeline`` when imported (see :mod:`kerasformers.pipelines.base` for how a task
module plugs in).

Example:
    >>> from kerasformers import pipeline
    >>> classifier = pipeline("sentiment-analysis", model="path/to/checkpoint")
    >>> classifier(["I love this movie", "Terrible plot"])
    [{'label': 'POSITIVE', 'score': 0.99...}, {'label': 'NEGATIVE', 'score': 0.98...}]
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from pathlib import Path
from typing import Any

from kerasformers.errors import InvalidInputError, NotSupportedError, UnsupportedModelTypeError
from kerasformers.pipelines.base import (
    PIPELINE_CLASSES,
    ChunkPipeline,
    KeyDataset,
    KeyPairDataset,
    Pipeline,
    check_model_head,
    register_pipeline,
)
from kerasformers.pipelines.feature_extraction import FeatureExtractionPipeline
from kerasformers.pipelines.fill_mask import FillMaskPipeline
from kerasformers.pipelines.text_classification import ClassificationFunction, TextClassificationPipeline
from kerasformers.pipelines.token_classification import AggregationStrategy, NerPipeline, TokenClassificationPipeline
from kerasformers.tasks import Task, pipeline_tasks, resolve_task

# Every task module; each registers its Pipeline subclass on import. A module not written yet is skipped.
_TASK_MODULES = (
    "feature_extraction",
    "text_classification",
    "token_classification",
    "fill_mask",
    "question_answering",
    "zero_shot_classification",
    "text_generation",
    "text2text_generation",
    "image_classification",
    "image_feature_extraction",
    "zero_shot_image_classification",
    "image_to_text",
    "automatic_speech_recognition",
)
for _name in _TASK_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _error:
        if _error.name != f"{__name__}.{_name}":
            raise
globals().update(PIPELINE_CLASSES)  # TextClassificationPipeline, ... as transformers.pipelines has them

__all__ = [
    "pipeline",
    "Pipeline",
    "ChunkPipeline",
    "KeyDataset",
    "KeyPairDataset",
    "register_pipeline",
    "SUPPORTED_TASKS",
    "AggregationStrategy",
    "ClassificationFunction",
    "NerPipeline",
    *sorted(PIPELINE_CLASSES),
]

# transformers' default Hub checkpoint per task, named in the error when model= is missing
_TRANSFORMERS_DEFAULTS = {
    "feature-extraction": "distilbert/distilbert-base-cased",
    "text-classification": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "token-classification": "dbmdz/bert-large-cased-finetuned-conll03-english",
    "question-answering": "distilbert/distilbert-base-cased-distilled-squad",
    "fill-mask": "distilbert/distilroberta-base",
}


def _supported_tasks() -> dict[str, Task]:
    return {task.name: task for task in pipeline_tasks() if task.pipeline in PIPELINE_CLASSES}


SUPPORTED_TASKS: dict[str, Task] = _supported_tasks()  # task name -> its task table row


def _resolve_pipeline_task(name: str) -> Task:
    """The row for a pipeline task name or alias; unknown names suggest close ones."""
    supported = _supported_tasks()
    names = sorted({*supported, *(alias for task in supported.values() for alias in task.aliases)})
    if isinstance(name, str) and re.fullmatch(r"translation_[^_]+_to_[^_]+", name):
        name = "translation"  # transformers' translation_xx_to_yy names: the languages are the pipeline's
    try:
        task = resolve_task(name) if isinstance(name, str) else None
    except UnsupportedModelTypeError:
        task = None
    if task is None or task.name not in supported:
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnsupportedModelTypeError(f"Unknown pipeline task {name!r}.{hint} Tasks: {', '.join(names)}.") from None
    return task


def _task_from_config(config: Any) -> Task:
    """The pipeline task a checkpoint's ``architectures`` name (``BertForTokenClassification`` -> ner)."""
    architectures = list(getattr(config, "architectures", None) or [])
    for task in _supported_tasks().values():
        suffix = task.auto_class[len("TFAutoModel") :]
        if suffix and task.name != "zero-shot-classification":
            if any(arch.endswith(suffix) for arch in architectures):
                return task
    raise InvalidInputError(
        f"pipeline() cannot tell the task from the checkpoint (architectures: {architectures or 'none'}). "
        f"Pass it: pipeline(<task>, model=...), one of {', '.join(_supported_tasks())}."
    )


def _load_tokenizer(tokenizer: Any, model: Any, model_name: str | None) -> Any:
    from kerasformers.tokenization import AutoTokenizer

    if isinstance(tokenizer, tuple):  # transformers accepts (name, kwargs)
        name, tokenizer_kwargs = tokenizer
        return AutoTokenizer.from_pretrained(name, **tokenizer_kwargs)
    if isinstance(tokenizer, (str, os.PathLike)):
        return AutoTokenizer.from_pretrained(tokenizer)
    if tokenizer is not None:
        return tokenizer
    if model_name is None:  # a model object: its checkpoint folder may hold the tokenizer
        config = getattr(model, "config", None)
        candidate = getattr(config, "_name_or_path", "") or getattr(config, "name_or_path", "")
        if candidate and Path(candidate).is_dir():
            model_name = str(candidate)
    if model_name is None:
        raise InvalidInputError(
            "pipeline() got a model object but no tokenizer, and cannot find one from the model. Pass "
            "tokenizer=AutoTokenizer.from_pretrained(<checkpoint>) (or the checkpoint's name)."
        )
    return AutoTokenizer.from_pretrained(model_name)


def _load_image_processor(image_processor: Any, model: Any, model_name: str | None) -> Any:
    from kerasformers.image_processing import AutoImageProcessor

    if isinstance(image_processor, (str, os.PathLike)):
        return AutoImageProcessor.from_pretrained(image_processor)
    if image_processor is not None:
        return image_processor
    if model_name is None:  # a model object: its checkpoint folder may hold the processor
        config = getattr(model, "config", None)
        candidate = getattr(model, "name_or_path", "") or getattr(config, "_name_or_path", "")
        if candidate and Path(candidate).is_dir():
            model_name = str(candidate)
    if model_name is None:
        raise InvalidInputError(
            "pipeline() got a model object but no image processor, and cannot find one from the model. Pass "
            "image_processor=AutoImageProcessor.from_pretrained(<checkpoint>) (or the checkpoint's name)."
        )
    return AutoImageProcessor.from_pretrained(model_name)


def pipeline(
    task: str | None = None,
    model: Any = None,
    config: Any = None,
    tokenizer: Any = None,
    framework: str | None = None,
    device: int | str | None = None,
    batch_size: int | None = None,
    *,
    revision: str | None = None,
    model_kwargs: dict[str, Any] | None = None,
    pipeline_class: type | None = None,
    **kwargs: Any,
) -> Pipeline:
    """Build the pipeline for a task: load the model (with the task's head) and its tokenizer.

    ``task``: a task name or alias (``"sentiment-analysis"``, ``"ner"``, ...); None reads it from
    the checkpoint's ``architectures``. ``model``: a checkpoint folder, a Hub name (through the
    local hub / HF cache) or a model object; it is required (transformers downloads a default
    checkpoint; kerasformers does not). ``tokenizer``: a tokenizer, a name, or None to load the
    model checkpoint's. ``framework``: None or ``"tf"``. ``device``: -1 / ``"cpu"``, or a GPU
    index. ``batch_size``: inputs per forward pass. Other keyword arguments go to the task
    pipeline (``top_k``, ``aggregation_strategy``, ...).

    Example:
        >>> ner = pipeline("ner", model="path/to/checkpoint", aggregation_strategy="simple")
        >>> ner("My name is Wolfgang and I live in Berlin")
    """
    if framework not in (None, "tf", "keras"):
        raise NotSupportedError(
            f"framework={framework!r}: kerasformers runs TensorFlow/Keras models only. Drop framework= or pass 'tf'."
        )
    for ignored in ("trust_remote_code", "use_fast", "token", "device_map", "dtype", "torch_dtype", "use_auth_token"):
        kwargs.pop(ignored, None)  # transformers' loading switches that have no meaning here
    if task is None and model is None:
        raise InvalidInputError(
            "pipeline() needs a task and a model, e.g. pipeline('sentiment-analysis', model=<checkpoint>)."
        )
    from kerasformers.configuration import PretrainedConfig

    if isinstance(config, (str, os.PathLike)):
        config = PretrainedConfig.from_pretrained(config)
    model_name = str(model) if isinstance(model, (str, os.PathLike)) else None
    if task is None:
        if model_name is not None and config is None:
            config = PretrainedConfig.from_pretrained(model_name)
        task_row = _task_from_config(config if config is not None else getattr(model, "config", None))
    else:
        task_row = _resolve_pipeline_task(task)
    if model is None:
        default = _TRANSFORMERS_DEFAULTS.get(task_row.name)
        suggestion = f" (transformers' default is {default!r})" if default else ""
        raise InvalidInputError(
            f"pipeline({task!r}) needs model=...: kerasformers does not pick a default checkpoint from the "
            f"Hub. Pass a checkpoint folder or name{suggestion}."
        )
    if model_name is not None:
        from kerasformers.models import auto

        loading = dict(model_kwargs or {})
        if config is not None:
            loading["config"] = config
        if revision is not None:
            loading["revision"] = revision
        model = getattr(auto, task_row.auto_class).from_pretrained(model_name, **loading)
    else:
        check_model_head(model, task_row)
    cls = pipeline_class or PIPELINE_CLASSES[task_row.pipeline]
    if cls.needs_tokenizer or tokenizer is not None:
        tokenizer_object = _load_tokenizer(tokenizer, model, model_name)
    else:
        tokenizer_object = None
    if getattr(cls, "needs_image_processor", False):  # image pipelines: the checkpoint's preprocessor_config.json
        kwargs["image_processor"] = _load_image_processor(kwargs.get("image_processor"), model, model_name)
    task_name = task if task_row.name == "translation" and isinstance(task, str) else task_row.name
    return cls(model=model, tokenizer=tokenizer_object, task=task_name, batch_size=batch_size, device=device, **kwargs)
