"""PretrainedConfig: Hugging Face config.json in and out, and the model_type registry."""

from __future__ import annotations

import copy
import difflib
import json
import os
import sys
import typing
from pathlib import Path
from typing import Any, ClassVar

from kerasformers.errors import ConfigError, MissingFileError, UnsupportedModelTypeError  # noqa: F401  (re-exported)
from kerasformers.hub import atomic_folder_write, pop_download_options, resolve_checkpoint
from kerasformers.logging import get_logger

CONFIG_NAME = "config.json"

# the library logger, configured on first use (level from KERASFORMERS_VERBOSITY), as transformers does
logger = get_logger()

# Keys transformers' PreTrainedConfig itself accepts or writes. A keyword among these is never
# reported as a typo even when a config class does not declare it: it is kept as an attribute
# and written back, as transformers does.
_COMMON_KEYS = frozenset(
    {
        "architectures",
        "output_hidden_states",
        "output_attentions",
        "return_dict",
        "problem_type",
        "id2label",
        "label2id",
        "num_labels",
        "dtype",
        "torch_dtype",
        "transformers_version",
        "name_or_path",
        "_name_or_path",
        "_commit_hash",
        "attn_implementation",
        "experts_implementation",
        "chunk_size_feed_forward",
        "is_encoder_decoder",
        "is_decoder",
        "add_cross_attention",
        "use_cache",
        "pad_token_id",
        "bos_token_id",
        "eos_token_id",
        "sep_token_id",
        "decoder_start_token_id",
        "tie_word_embeddings",
        "tokenizer_class",
        "prefix",
        "task_specific_params",
        "finetuning_task",
        "model_type",
    }
)

# transformers' PreTrainedConfig() values of its own keys: to_diff_dict() leaves a key out when it
# still has this value (every key a model's config class adds is kept, as in transformers)
_BASE_DEFAULTS = {
    "architectures": None,
    "output_hidden_states": False,
    "output_attentions": False,
    "return_dict": True,
    "dtype": None,
    "torch_dtype": None,
    "chunk_size_feed_forward": 0,
    "is_encoder_decoder": False,
    "problem_type": None,
    "_name_or_path": "",
    "name_or_path": "",
    "id2label": {"0": "LABEL_0", "1": "LABEL_1"},
    "label2id": {"LABEL_0": 0, "LABEL_1": 1},
}

_CONFIG_REGISTRY: dict[str, type["PretrainedConfig"]] = {}


def register_config(cls: type["PretrainedConfig"]) -> type["PretrainedConfig"]:
    """Class decorator: make ``cls`` the config for its ``model_type`` (and its aliases)."""
    for model_type in (cls.model_type, *cls.model_type_aliases):
        _CONFIG_REGISTRY[model_type] = cls
    return cls


def fill_registries() -> None:
    """Have the package register every architecture (its ``__init__`` owns that, see ARCHITECTURE.md).

    Core reaches the package through the already imported package object, so core itself never
    imports ``kerasformers.models``.

    Example:
        >>> fill_registries(); "bert" in _CONFIG_REGISTRY
        True
    """
    sys.modules[__name__.rpartition(".")[0]].fill_registries()


def supported_model_types() -> list[str]:
    """Every registered model_type.

    Example:
        >>> "llama" in supported_model_types()
        True
    """
    fill_registries()
    return sorted(_CONFIG_REGISTRY)


def read_config_json(path: str | os.PathLike) -> dict[str, Any]:
    """The dict of values in a config.json, or one clear error when it is not a JSON object.

    Example:
        >>> read_config_json("path/to/bert/config.json")["model_type"]
        'bert'
    """
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid JSON ({error}). Re-download or re-save it.") from None
    if not isinstance(values, dict):
        raise ConfigError(
            f"{path} holds a JSON {type(values).__name__}, not an object of config values. Re-download or re-save it."
        )
    return values


class PretrainedConfig:
    """A model's hyper-parameters, read from and written to Hugging Face ``config.json``.

    Subclasses declare their fields as annotated class attributes with transformers' defaults
    (``hidden_size: int = 768``); class-level settings that are not config.json keys are
    ``ClassVar``. Every key of a file becomes an attribute and is written back unchanged,
    unknown keys included.

    Example:
        >>> config = AutoConfig.from_pretrained("path/to/bert", num_labels=3)
        >>> config.num_labels, config.id2label[0]
        (3, 'LABEL_0')
    """

    model_type: ClassVar[str] = ""
    model_type_aliases: ClassVar[tuple[str, ...]] = ()
    # attribute aliases: name users ask for -> key in config.json (e.g. GPT-2's n_embd)
    attribute_map: ClassVar[dict[str, str]] = {}

    # Fields every config has, with transformers' defaults.
    output_hidden_states: bool = False
    output_attentions: bool = False
    problem_type: str | None = None
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    tie_word_embeddings: bool = True

    # name -> default of every declared field, base classes first; filled per class below
    _field_defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        cls._field_defaults = _collect_fields(cls)

    def __init__(self, **kwargs: Any):
        # Keys read from a config.json (passed by from_dict) are never reported as typos:
        # checkpoints legitimately carry keys we do not declare.
        quiet_keys = kwargs.pop("_quiet_keys", frozenset())
        for key in kwargs:
            if key not in quiet_keys:
                self._warn_if_unknown(key)
        # deep copies, so a mutable default (a list, a dict) is never shared between configs
        values = copy.deepcopy(self._field_defaults)
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

    @classmethod
    def declared_fields(cls) -> dict[str, Any]:
        """Every declared field of this config class and its default (a fresh copy).

        Example:
            >>> BertConfig.declared_fields()["hidden_size"]
            768
        """
        return copy.deepcopy(cls._field_defaults)

    @classmethod
    def is_known_key(cls, key: str) -> bool:
        """Whether ``key`` is one of this config's fields, an alias, or a key every transformers config takes.

        Example:
            >>> BertConfig.is_known_key("num_labels"), BertConfig.is_known_key("foo")
            (True, False)
        """
        return key in cls._field_defaults or key in cls.attribute_map or key in _COMMON_KEYS

    @classmethod
    def _warn_if_unknown(cls, key: str) -> None:
        """Log a warning for a keyword that looks like a typo; it is still kept, as in transformers."""
        if cls.is_known_key(key):
            return
        close = difflib.get_close_matches(key, [*cls._field_defaults, *cls.attribute_map], n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Its fields are listed by {cls.__name__}.declared_fields()."
        logger.warning(
            f"{cls.__name__} got the keyword {key!r}, which is not one of its fields. {hint} "
            f"The value is kept as an attribute and written to {CONFIG_NAME} anyway."
        )

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
        """Whether models return ModelOutput objects (``return_dict``, True unless set otherwise)."""
        return bool(getattr(self, "return_dict", True))

    # dict in and out --------------------------------------------------------------------------
    @classmethod
    def from_dict(
        cls, config_dict: dict[str, Any], return_unused_kwargs: bool = False, **overrides: Any
    ) -> "PretrainedConfig" | tuple["PretrainedConfig", dict[str, Any]]:
        """A config from a config.json dict; ``overrides`` win over the file's values.

        Label overrides replace the file's labels: ``num_labels=5`` on a 3-label file gives
        LABEL_0..LABEL_4, as in transformers. With ``return_unused_kwargs=True`` the result is
        ``(config, unused)``: overrides that are no attribute of the config are left out of it
        and returned, as transformers does; otherwise they are kept (a likely typo warns).

        Example:
            >>> BertConfig.from_dict({"hidden_size": 64, "id2label": {"0": "a", "1": "b"}}, num_labels=3).num_labels
            3
            >>> BertConfig.from_dict({}, return_unused_kwargs=True, hidden_act="relu", foo=1)[1]
            {'foo': 1}
        """
        if not isinstance(config_dict, dict):
            raise ConfigError(f"A config needs a dict of values, got {type(config_dict).__name__}.")
        if return_unused_kwargs:
            from_file = cls.from_dict(config_dict)
            unused = {
                key: value
                for key, value in overrides.items()
                if key not in _COMMON_KEYS and not hasattr(from_file, key)
            }
            used = {key: value for key, value in overrides.items() if key not in unused}
            return cls.from_dict(config_dict, **used), unused
        values = dict(config_dict)
        values.pop("model_type", None)
        labels = {k: overrides.pop(k) for k in ("num_labels", "id2label", "label2id") if k in overrides}
        values.update(overrides)
        config = cls(**values, _quiet_keys=frozenset(config_dict))
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

    def to_diff_dict(self) -> dict[str, Any]:
        """``to_dict()`` without the generic keys that still have transformers' base defaults.

        As transformers' ``to_diff_dict``: every key the model's config class adds stays, and
        ``model_type`` always does.

        Example:
            >>> "output_attentions" in BertConfig().to_diff_dict(), "hidden_size" in BertConfig().to_diff_dict()
            (False, True)
        """
        return {
            key: value
            for key, value in self.to_dict().items()
            if key == "model_type" or key not in _BASE_DEFAULTS or value != _BASE_DEFAULTS[key]
        }

    def to_json_string(self, use_diff: bool = False) -> str:
        """The config as JSON text: every key, or with ``use_diff=True`` only :meth:`to_diff_dict`.

        Example:
            >>> json.loads(BertConfig(hidden_size=64).to_json_string())["hidden_size"]
            64
        """
        values = self.to_diff_dict() if use_diff else self.to_dict()
        return json.dumps(values, indent=2, sort_keys=True) + "\n"

    def to_json_file(self, json_file_path: str | os.PathLike, use_diff: bool = True) -> None:
        """Write :meth:`to_json_string` (the diff by default, as transformers) to ``json_file_path``, atomically.

        Example:
            >>> config.to_json_file("config.json")
        """
        path = Path(json_file_path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(self.to_json_string(use_diff=use_diff), encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def update(self, config_dict: dict[str, Any]) -> None:
        """Set every key of ``config_dict`` as an attribute.

        Example:
            >>> config.update({"hidden_dropout_prob": 0.0, "num_labels": 4})
        """
        for key, value in config_dict.items():
            setattr(self, key, value)

    def update_from_string(self, update_str: str) -> None:
        """Update existing attributes from ``"name=value,name=value"`` text, converted to each attribute's type.

        Booleans read true/false (also 1/0, y/n, yes/no); ints, floats and strings as written.

        Example:
            >>> config.update_from_string("hidden_dropout_prob=0.2,hidden_act=relu,use_cache=false")
        """
        for item in update_str.split(","):
            key, sep, text = item.partition("=")
            if not sep:
                raise ConfigError(f"update_from_string takes name=value pairs separated by commas; got {item!r}.")
            if not hasattr(self, key):
                raise ConfigError(f"{type(self).__name__} has no attribute {key!r} to update (in {update_str!r}).")
            old = getattr(self, key)
            if isinstance(old, bool):
                if text.lower() in ("true", "1", "y", "yes"):
                    value = True
                elif text.lower() in ("false", "0", "n", "no"):
                    value = False
                else:
                    raise ConfigError(f"Cannot read {text!r} as true or false (key {key}).")
            elif isinstance(old, (int, float, str)):
                try:
                    value = type(old)(text)
                except ValueError:
                    raise ConfigError(f"Cannot read {text!r} as {type(old).__name__} (key {key}).") from None
            else:
                raise ConfigError(
                    f"update_from_string updates int, float, bool or str values; {key} is {type(old).__name__}."
                )
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    # files ------------------------------------------------------------------------------------
    @classmethod
    def from_json_file(cls, json_file: str | os.PathLike) -> "PretrainedConfig":
        """A config from a JSON file of values (as transformers' ``from_json_file``).

        Example:
            >>> BertConfig.from_json_file("path/to/config.json").hidden_size
            768
        """
        return cls.from_dict(read_config_json(json_file))

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        revision: str | None = None,
        cache_dir: str | None = None,
        **overrides: Any,
    ) -> "PretrainedConfig" | tuple["PretrainedConfig", dict[str, Any]]:
        """Read ``config.json`` from a checkpoint; keyword arguments override its values.

        ``return_unused_kwargs=True`` returns ``(config, unused)`` as :meth:`from_dict` does.

        Example:
            >>> BertConfig.from_pretrained("path/to/bert", num_labels=3, id2label={0: "a", 1: "b", 2: "c"})
        """
        download = pop_download_options(overrides)
        folder = resolve_checkpoint(name_or_path, revision=revision, cache_dir=cache_dir, **download)
        path = folder / CONFIG_NAME
        if not path.is_file():
            raise MissingFileError(
                f"{folder} has no {CONFIG_NAME}; a checkpoint folder needs one. "
                "Save the model with save_pretrained() to write it."
            )
        config_dict = read_config_json(path)
        if cls is PretrainedConfig or not cls.model_type:
            cls = config_class_for(config_dict.get("model_type"), path)
        elif config_dict.get("model_type") not in (None, cls.model_type, *cls.model_type_aliases):
            logger.warning(
                f"You are using a model of type {config_dict['model_type']} to instantiate a model of type "
                f"{cls.model_type}. This is not supported for all configurations of models and can yield errors."
            )
        return cls.from_dict(config_dict, **overrides)

    def push_to_hub(self, repo_id: str, commit_message: str | None = None, **kwargs: Any):
        """Upload config.json to the Hub as one commit ("Upload config"); returns the ``CommitInfo``.

        Takes the keywords of the models' ``push_to_hub`` (``private``, ``token``, ``revision``, ``create_pr``...).

        Example:
            >>> config.push_to_hub("me/tiny-bert", create_pr=True)
        """
        from kerasformers.hub_push import push_to_hub

        return push_to_hub(self, repo_id, commit_message=commit_message, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        """Write ``config.json`` into ``save_directory`` (atomically)."""
        with atomic_folder_write(save_directory) as tmp:
            (tmp / CONFIG_NAME).write_text(self.to_json_string(), encoding="utf-8")


def config_class_for(model_type: str | None, where: Any = "config") -> type[PretrainedConfig]:
    """The registered config class for ``model_type``, or one clear error."""
    fill_registries()

    if model_type in _CONFIG_REGISTRY:
        return _CONFIG_REGISTRY[model_type]
    raise UnsupportedModelTypeError(
        f"{where} has model_type={model_type!r}, which kerasformers does not support. "
        f"Supported model types: {', '.join(supported_model_types())}."
    )


def _collect_fields(cls: type) -> dict[str, Any]:
    """Name -> default of the annotated (non-ClassVar, public) class attributes of ``cls`` and its bases.

    The default is looked up on ``cls``, so a subclass may change a base's default with a plain
    assignment (``vocab_size = 30522``) without repeating the annotation.
    """
    fields: dict[str, Any] = {}
    for name, hint in typing.get_type_hints(cls).items():  # base classes first
        if name.startswith("_") or typing.get_origin(hint) is ClassVar:
            continue
        if not hasattr(cls, name):
            raise TypeError(f"{cls.__name__}.{name} is declared without a default; every config field needs one.")
        fields[name] = getattr(cls, name)
    return fields


PretrainedConfig._field_defaults = _collect_fields(PretrainedConfig)


class AutoConfig:
    """Picks the config class from ``model_type`` in config.json.

    Example:
        >>> config = AutoConfig.from_pretrained("path/to/checkpoint")
    """

    @staticmethod
    def from_pretrained(name_or_path, **kwargs) -> PretrainedConfig:
        return PretrainedConfig.from_pretrained(name_or_path, **kwargs)

    @staticmethod
    def register(model_type: str, config: type[PretrainedConfig], exist_ok: bool = False) -> None:
        """Make ``config`` the config class for ``model_type`` (a custom architecture).

        Example:
            >>> class MyConfig(PretrainedConfig):
            ...     model_type = "my-model"
            >>> AutoConfig.register("my-model", MyConfig)
        """
        if not (isinstance(config, type) and issubclass(config, PretrainedConfig)):
            raise ConfigError(f"AutoConfig.register needs a PretrainedConfig subclass, got {config!r}.")
        if config.model_type != model_type:
            raise ConfigError(
                f"{config.__name__}.model_type is {config.model_type!r}, not {model_type!r}: "
                "register it under its own model_type (or set model_type on the class)."
            )
        if model_type in _CONFIG_REGISTRY and not exist_ok:
            raise ConfigError(
                f"{model_type!r} is already registered (to {_CONFIG_REGISTRY[model_type].__name__}); "
                "pass exist_ok=True to replace it."
            )
        _CONFIG_REGISTRY[model_type] = config

    @staticmethod
    def for_model(model_type: str, /, **kwargs) -> PretrainedConfig:
        """A config of ``model_type`` from keyword values (e.g. a transformers config's to_dict())."""
        kwargs.pop("model_type", None)
        return config_class_for(model_type).from_dict(kwargs)
