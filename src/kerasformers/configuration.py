"""PretrainedConfig: Hugging Face config.json in and out, and the model_type registry."""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any

from kerasformers.hub import atomic_folder_write, resolve_checkpoint
from kerasformers.errors import ConfigError, MissingFileError, UnsupportedModelTypeError  # noqa: F401  (re-exported)

CONFIG_NAME = "config.json"

# Keys every config has, with transformers' defaults.
_COMMON_DEFAULTS: dict[str, Any] = {
    "output_hidden_states": False,
    "output_attentions": False,
    "problem_type": None,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
    "tie_word_embeddings": True,
}

_CONFIG_REGISTRY: dict[str, type["PretrainedConfig"]] = {}




def register_config(cls: type["PretrainedConfig"]) -> type["PretrainedConfig"]:
    """Class decorator: make ``cls`` the config for its ``model_type`` (and its aliases)."""
    for model_type in (cls.model_type, *cls.model_type_aliases):
        _CONFIG_REGISTRY[model_type] = cls
    return cls


def supported_model_types() -> list[str]:
    return sorted(_CONFIG_REGISTRY)


class PretrainedConfig:
    """A model's hyper-parameters, read from and written to Hugging Face ``config.json``.

    Every key of the file becomes an attribute and is written back unchanged, unknown keys
    included. Subclasses give ``model_type`` and ``defaults``.

    Example:
        >>> config = AutoConfig.from_pretrained("path/to/bert", num_labels=3)
        >>> config.num_labels, config.id2label[0]
        (3, 'LABEL_0')
    """

    model_type: str = ""
    model_type_aliases: tuple[str, ...] = ()
    defaults: dict[str, Any] = {}
    # attribute aliases: name users ask for -> key in config.json (e.g. GPT-2's n_embd)
    attribute_map: dict[str, str] = {}

    def __init__(self, **kwargs: Any):
        values = {**_COMMON_DEFAULTS, **copy.deepcopy(self.defaults)}
        num_labels = kwargs.pop("num_labels", None)
        id2label = kwargs.pop("id2label", None)
        label2id = kwargs.pop("label2id", None)
        values.update(kwargs)
        if self.model_type:
            values["model_type"] = self.model_type
        for key, value in values.items():
            setattr(self, key, value)
        if id2label is not None:
            self.id2label = id2label
        elif num_labels is not None:
            self.num_labels = num_labels
        elif not hasattr(self, "_id2label"):
            self.num_labels = 2
        if label2id is not None and id2label is not None:
            self.label2id = {str(k): int(v) for k, v in label2id.items()}

    # attribute aliases ------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        alias = type(self).attribute_map.get(name)
        if alias is not None:
            return getattr(self, alias)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        name = type(self).attribute_map.get(name, name)
        super().__setattr__(name, value)

    # labels -----------------------------------------------------------------------------------
    @property
    def id2label(self) -> dict[int, str]:
        return self._id2label

    @id2label.setter
    def id2label(self, mapping: dict) -> None:
        self._id2label = {int(k): str(v) for k, v in mapping.items()}
        self.label2id = {v: k for k, v in self._id2label.items()}

    @property
    def num_labels(self) -> int:
        return len(self._id2label)

    @num_labels.setter
    def num_labels(self, count: int) -> None:
        if not isinstance(count, int) or count < 1:
            raise ConfigError(f"num_labels must be a positive integer, got {count!r}.")
        if getattr(self, "_id2label", None) is None or len(self._id2label) != count:
            self.id2label = {i: f"LABEL_{i}" for i in range(count)}

    @property
    def use_return_dict(self) -> bool:
        return True

    # dict in and out --------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **overrides: Any) -> "PretrainedConfig":
        """A config from a config.json dict; ``overrides`` win over the file's values.

        Label overrides replace the file's labels: ``num_labels=5`` on a 3-label file gives
        LABEL_0..LABEL_4, as in transformers.

        Example:
            >>> BertConfig.from_dict({"hidden_size": 64, "id2label": {"0": "a", "1": "b"}}, num_labels=3).num_labels
            3
        """
        values = dict(config_dict)
        values.pop("model_type", None)
        labels = {k: overrides.pop(k) for k in ("num_labels", "id2label", "label2id") if k in overrides}
        values.update(overrides)
        config = cls(**values)
        if labels.get("id2label") is not None:
            config.id2label = labels["id2label"]
        elif labels.get("num_labels") is not None:
            config.num_labels = labels["num_labels"]
        if labels.get("label2id") is not None:
            config.label2id = {str(k): int(v) for k, v in labels["label2id"].items()}
        return config

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key.startswith("_"):
                continue
            out[key] = copy.deepcopy(value)
        out["id2label"] = {str(k): v for k, v in self._id2label.items()}
        out["label2id"] = dict(self.label2id)
        out["model_type"] = self.model_type
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    # files ------------------------------------------------------------------------------------
    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> dict[str, Any]:
        try:
            values = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path} is not valid JSON ({error}). Re-download or re-save it.") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path} holds a JSON {type(values).__name__}, not an object of config values. "
                             "Re-download or re-save it.")
        return values

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, revision: str | None = None,
                        cache_dir: str | None = None, **overrides: Any) -> "PretrainedConfig":
        """Read ``config.json`` from a checkpoint; keyword arguments override its values.

        Example:
            >>> BertConfig.from_pretrained("path/to/bert", num_labels=3, id2label={0: "a", 1: "b", 2: "c"})
        """
        folder = resolve_checkpoint(name_or_path, revision=revision, cache_dir=cache_dir)
        path = folder / CONFIG_NAME
        if not path.is_file():
            raise MissingFileError(
                f"{folder} has no {CONFIG_NAME}; a checkpoint folder needs one. "
                "Save the model with save_pretrained() to write it."
            )
        config_dict = cls.from_json_file(path)
        if cls is PretrainedConfig or not cls.model_type:
            cls = config_class_for(config_dict.get("model_type"), path)
        elif config_dict.get("model_type") not in (None, cls.model_type, *cls.model_type_aliases):
            logging.getLogger("kerasformers").warning(
                f"You are using a model of type {config_dict['model_type']} to instantiate a model of type "
                f"{cls.model_type}. This is not supported for all configurations of models and can yield errors."
            )
        return cls.from_dict(config_dict, **overrides)

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        """Write ``config.json`` into ``save_directory`` (atomically)."""
        with atomic_folder_write(save_directory) as tmp:
            (tmp / CONFIG_NAME).write_text(self.to_json_string(), encoding="utf-8")


def config_class_for(model_type: str | None, where: Any = "config") -> type[PretrainedConfig]:
    """The registered config class for ``model_type``, or one clear error."""
    import kerasformers.models  # noqa: F401  (registers every architecture)

    if model_type in _CONFIG_REGISTRY:
        return _CONFIG_REGISTRY[model_type]
    raise UnsupportedModelTypeError(
        f"{where} has model_type={model_type!r}, which kerasformers does not support. "
        f"Supported model types: {', '.join(supported_model_types())}."
    )


class AutoConfig:
    """Picks the config class from ``model_type`` in config.json.

    Example:
        >>> config = AutoConfig.from_pretrained("path/to/checkpoint")
    """

    @staticmethod
    def from_pretrained(name_or_path, **kwargs) -> PretrainedConfig:
        return PretrainedConfig.from_pretrained(name_or_path, **kwargs)

    @staticmethod
    def for_model(model_type: str, /, **kwargs) -> PretrainedConfig:
        """A config of ``model_type`` from keyword values (e.g. a transformers config's to_dict())."""
        kwargs.pop("model_type", None)
        return config_class_for(model_type).from_dict(kwargs)
