"""TFAutoModel*: pick the architecture class from config.json's model_type.

Each architecture registers its classes here with :func:`register_auto_classes`; the auto
classes then resolve ``model_type`` -> class for their task.
"""

from __future__ import annotations

import os
from typing import Any

from kerasformers.configuration import PretrainedConfig, UnsupportedModelTypeError

_MAPPINGS: dict[str, dict[str, type]] = {}


def register_auto_classes(model_type: str, **task_classes: type) -> None:
    """Register ``model_type``'s classes per task, e.g. ``register_auto_classes("bert", base=TFBertModel)``."""
    for task, cls in task_classes.items():
        _MAPPINGS.setdefault(task, {})[model_type] = cls


class _AutoModel:
    task: str = "base"

    def __init__(self, *args, **kwargs):
        raise EnvironmentError(
            f"{type(self).__name__} is not built directly: use {type(self).__name__}.from_pretrained(name) "
            f"or {type(self).__name__}.from_config(config)."
        )

    @classmethod
    def model_class(cls, config: PretrainedConfig) -> type:
        import kerasformers.models  # noqa: F401  (registers every architecture)

        mapping = _MAPPINGS.get(cls.task, {})
        model_type = config.model_type
        if model_type not in mapping:
            raise UnsupportedModelTypeError(
                f"{cls.__name__} does not support model_type {model_type!r}. "
                f"Model types with this task: {', '.join(sorted(mapping)) or 'none'}."
            )
        return mapping[model_type]

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
        config = kwargs.pop("config", None)
        if config is None:
            loading = {k: kwargs.pop(k) for k in ("revision", "cache_dir") if k in kwargs}
            overrides = {k: kwargs.pop(k) for k in list(kwargs) if k not in _LOADING_ARGUMENTS}
            config = PretrainedConfig.from_pretrained(pretrained_model_name_or_path, **loading, **overrides)
            kwargs.update(loading)
        return cls.model_class(config).from_pretrained(pretrained_model_name_or_path, *args,
                                                       config=config, **kwargs)


_LOADING_ARGUMENTS = {"dtype", "torch_dtype", "ignore_mismatched_sizes", "allow_pickle",
                      "output_loading_info", "from_pt", "revision", "cache_dir"}


class TFAutoModel(_AutoModel):
    task = "base"


class TFAutoModelForSequenceClassification(_AutoModel):
    task = "sequence_classification"


class TFAutoModelForTokenClassification(_AutoModel):
    task = "token_classification"


class TFAutoModelForQuestionAnswering(_AutoModel):
    task = "question_answering"


class TFAutoModelForMaskedLM(_AutoModel):
    task = "masked_lm"


class TFAutoModelForMultipleChoice(_AutoModel):
    task = "multiple_choice"


class TFAutoModelForCausalLM(_AutoModel):
    task = "causal_lm"
