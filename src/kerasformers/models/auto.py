"""TFAutoModel*: pick the architecture class from config.json's model_type.

Each architecture registers its classes here with :func:`register_auto_classes`; the auto
classes then resolve ``model_type`` -> class for their task. Which auto classes exist, and the
keyword each registers under, is the task table's (:mod:`kerasformers.tasks`).
"""

from __future__ import annotations

import os
from typing import Any

from kerasformers.configuration import PretrainedConfig, UnsupportedModelTypeError, fill_registries
from kerasformers.errors import CheckpointNotFoundError, ConfigError
from kerasformers.hub import DOWNLOAD_OPTIONS, resolve_checkpoint
from kerasformers.processing_utils import AutoProcessor  # transformers' models.auto has it too
from kerasformers.tasks import TASKS, Task, task_for_registry_key

__all__ = [
    "register_auto_classes",
    "TFAutoModel",
    "TFAutoModelForSequenceClassification",
    "TFAutoModelForTokenClassification",
    "TFAutoModelForQuestionAnswering",
    "TFAutoModelForMaskedLM",
    "TFAutoModelForMultipleChoice",
    "TFAutoModelForCausalLM",
    "TFAutoModelForSeq2SeqLM",
    "TFAutoModelForImageClassification",
    "TFAutoModelForMaskedImageModeling",
    "TFAutoModelForZeroShotImageClassification",
    "TFAutoModelForVision2Seq",
    "TFAutoModelForSpeechSeq2Seq",
    "TFAutoModelForAudioClassification",
    "AutoProcessor",
    "TFAutoModelForPreTraining",
    "TFAutoModelForNextSentencePrediction",
    "TFAutoModelWithLMHead",
]

_MAPPINGS: dict[str, dict[str, type]] = {}


def register_auto_classes(model_type: str, **task_classes: type) -> None:
    """Register ``model_type``'s classes per task, keyed by the task table's ``registry_key``.

    Example:
        >>> register_auto_classes("bert", base=TFBertModel, sequence_classification=TFBertForSequenceClassification)
    """
    for key, cls in task_classes.items():
        task_for_registry_key(key)  # an unknown keyword is an error, not a head no auto class finds
        _MAPPINGS.setdefault(key, {})[model_type] = cls


def registered_class(registry_key: str, model_type: str) -> type | None:
    """The model class ``model_type`` registered for a task (the task table's ``registry_key``), or None.

    Example:
        >>> registered_class("sequence_classification", "bert").__name__
        'TFBertForSequenceClassification'
    """
    fill_registries()
    return _MAPPINGS.get(registry_key, {}).get(model_type)


class _AutoModel:
    task: str = "base"  # the task table's registry_key
    task_info: Task | None = None  # the task table's row

    def __init__(self, *args, **kwargs):
        raise EnvironmentError(
            f"{type(self).__name__} is not built directly: use {type(self).__name__}.from_pretrained(name) "
            f"or {type(self).__name__}.from_config(config)."
        )

    @classmethod
    def model_class(cls, config: PretrainedConfig) -> type:
        fill_registries()

        mapping = _MAPPINGS.get(cls.task, {})
        model_type = config.model_type
        if model_type not in mapping:
            raise UnsupportedModelTypeError(
                f"{cls.__name__} does not support model_type {model_type!r}. "
                f"Model types with this task: {', '.join(sorted(mapping)) or 'none'}."
            )
        return mapping[model_type]

    @classmethod
    def register(cls, config_class: type, model_class: type, exist_ok: bool = False) -> None:
        """Use ``model_class`` for checkpoints whose config is ``config_class`` (transformers' API for
        custom models; register the config with ``AutoConfig.register`` too).

        Example:
            >>> AutoConfig.register("my-bert", MyBertConfig)
            >>> TFAutoModelForSequenceClassification.register(MyBertConfig, TFMyBertForSequenceClassification)
        """
        model_type = getattr(config_class, "model_type", None)
        if not model_type:
            raise ConfigError(f"{config_class.__name__} has no model_type: give the config class a model_type.")
        config_of_model = getattr(model_class, "config_class", None)
        if config_of_model is not None and config_of_model is not config_class:
            raise ConfigError(
                f"{model_class.__name__}.config_class is {config_of_model.__name__}, not {config_class.__name__}: "
                "register the model with the config class it declares."
            )
        fill_registries()
        if not exist_ok and model_type in _MAPPINGS.get(cls.task, {}):
            raise ConfigError(
                f"{cls.__name__} already has a class for model_type {model_type!r} "
                f"({_MAPPINGS[cls.task][model_type].__name__}); pass exist_ok=True to replace it."
            )
        register_auto_classes(model_type, **{cls.task: model_class})

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any):
        """A randomly initialised model of the right architecture for ``config``.

        Example:
            >>> model = TFAutoModel.from_config(BertConfig(num_hidden_layers=2))
        """
        model = cls.model_class(config)(config, **kwargs)
        model.build_with_dummy_inputs()
        return model

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *args: Any, **kwargs: Any):
        """Load a checkpoint with the class for its model_type and this task.

        Example:
            >>> model = TFAutoModelForSequenceClassification.from_pretrained("path/to/bert", num_labels=2)
        """
        config = kwargs.get("config")
        if config is None:  # the config file names the architecture; the model class applies the arguments
            loading = {k: kwargs[k] for k in _RESOLVE_ARGUMENTS if k in kwargs}
            folder = resolve_checkpoint(pretrained_model_name_or_path, **loading)
            subfolder = kwargs.get("subfolder") or ""
            if not (folder / subfolder).is_dir():
                raise CheckpointNotFoundError(
                    f"{pretrained_model_name_or_path} has no subfolder {subfolder!r}. Check the name (subfolder=...)."
                )
            config = PretrainedConfig.from_pretrained(folder / subfolder)
            if kwargs.get("force_download"):
                kwargs = {**kwargs, "force_download": False}  # fetched just now: the model class reads the cache
        return cls.model_class(config).from_pretrained(pretrained_model_name_or_path, *args, **kwargs)


# The from_pretrained arguments that say where and how the checkpoint files are fetched.
_RESOLVE_ARGUMENTS = ("revision", "cache_dir", *DOWNLOAD_OPTIONS, "allow_pickle")


def _auto_class(name: str) -> type:
    """The auto class ``name`` of the task table: a ``_AutoModel`` subclass for its row's task."""
    task = {task.auto_class: task for task in TASKS}[name]
    doc = f"Loads the {task.name} model class for a checkpoint's model_type (registered as ``{task.registry_key}``)."
    return type(
        name,
        (_AutoModel,),
        {"task": task.registry_key, "task_info": task, "__doc__": doc, "__module__": __name__, "__qualname__": name},
    )


# Written out, not generated in a loop, so each name is visible to readers and tools.
TFAutoModel = _auto_class("TFAutoModel")
TFAutoModelForSequenceClassification = _auto_class("TFAutoModelForSequenceClassification")
TFAutoModelForTokenClassification = _auto_class("TFAutoModelForTokenClassification")
TFAutoModelForQuestionAnswering = _auto_class("TFAutoModelForQuestionAnswering")
TFAutoModelForMaskedLM = _auto_class("TFAutoModelForMaskedLM")
TFAutoModelForMultipleChoice = _auto_class("TFAutoModelForMultipleChoice")
TFAutoModelForCausalLM = _auto_class("TFAutoModelForCausalLM")
TFAutoModelForSeq2SeqLM = _auto_class("TFAutoModelForSeq2SeqLM")
TFAutoModelForImageClassification = _auto_class("TFAutoModelForImageClassification")
TFAutoModelForMaskedImageModeling = _auto_class("TFAutoModelForMaskedImageModeling")
TFAutoModelForZeroShotImageClassification = _auto_class("TFAutoModelForZeroShotImageClassification")
TFAutoModelForVision2Seq = _auto_class("TFAutoModelForVision2Seq")
TFAutoModelForSpeechSeq2Seq = _auto_class("TFAutoModelForSpeechSeq2Seq")
TFAutoModelForAudioClassification = _auto_class("TFAutoModelForAudioClassification")
TFAutoModelForPreTraining = _auto_class("TFAutoModelForPreTraining")
TFAutoModelForNextSentencePrediction = _auto_class("TFAutoModelForNextSentencePrediction")
# Deprecated in transformers (use TFAutoModelForCausalLM / ForMaskedLM); kept importable as there.
TFAutoModelWithLMHead = _auto_class("TFAutoModelWithLMHead")
AUTO_CLASSES: dict[str, type] = {task.name: globals()[task.auto_class] for task in TASKS}  # task name -> class
