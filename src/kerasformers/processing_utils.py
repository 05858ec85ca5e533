"""Processors: a tokenizer and an image processor behind one call (transformers' ``ProcessorMixin``), and AutoProcessor.

A processor (``CLIPProcessor``...) holds an ``image_processor`` and a ``tokenizer``;
``processor(text=..., images=...)`` runs each on its input and returns one
:class:`~kerasformers.image_processing.BatchFeature` (``input_ids``, ``attention_mask``,
``pixel_values``). Saved, it is the tokenizer's files plus ``preprocessor_config.json`` with
``processor_class`` in both, as transformers 4 wrote it; transformers 5's
``processor_config.json`` (the image processor's settings nested in it) is read too.

:class:`AutoProcessor` picks the processor class a checkpoint names (``processor_class`` in
``processor_config.json``, ``preprocessor_config.json``, ``tokenizer_config.json`` or
``config.json``), else the one registered for its ``model_type``, and otherwise falls back, as
transformers does, to the tokenizer alone, then to the image processor alone.

Example:
    >>> processor = AutoProcessor.from_pretrained("openai/clip-vit-base-patch32")
    >>> batch = processor(text=["a cat", "a dog"], images=image, return_tensors="tf", padding=True)
    >>> sorted(batch)
    ['attention_mask', 'input_ids', 'pixel_values']
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kerasformers.configuration import fill_registries
from kerasformers.errors import CheckpointNotFoundError, ConfigError, InvalidInputError, KerasformersError
from kerasformers.hub import resolve_checkpoint
from kerasformers.image_processing import AutoImageProcessor, BaseImageProcessor, BatchFeature
from kerasformers.tokenization import AutoTokenizer, PreTrainedTokenizerFast

__all__ = [
    "ProcessorMixin",
    "AutoProcessor",
    "register_processor_class",
    "AutoFeatureExtractor",
    "register_feature_extractor_class",
]

PROCESSOR_NAME = "processor_config.json"
IMAGE_PROCESSOR_NAME = "preprocessor_config.json"
_LOADING_KEYS = ("revision", "cache_dir", "token", "local_files_only", "force_download", "subfolder")
# keywords of a processor call that go to the image processor; the rest go to the tokenizer
_IMAGE_KEYWORDS = frozenset((*BaseImageProcessor._SETTINGS, "data_format", "input_data_format"))


class ProcessorMixin:
    """The base of processors that pair an image processor with a tokenizer (transformers' ``ProcessorMixin``).

    A subclass names its parts' classes: ``image_processor_class`` (an image processor class) and
    ``tokenizer_class`` (a tokenizer class, or ``None`` for whatever the checkpoint's
    tokenizer is). Call it with ``text=``, ``images=`` or both.

    Example:
        >>> processor = CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tokenizer)
        >>> processor(text="a cat", images=image, return_tensors="np")["pixel_values"].shape
        (1, 3, 224, 224)
    """

    attributes = ["image_processor", "tokenizer"]
    image_processor_class: type[BaseImageProcessor] = BaseImageProcessor
    tokenizer_class: type[PreTrainedTokenizerFast] | None = None

    def __init__(self, image_processor: BaseImageProcessor | None = None, tokenizer=None, **kwargs: Any):
        if image_processor is None:
            image_processor = kwargs.pop("feature_extractor", None)  # transformers' older name
        if kwargs:
            raise InvalidInputError(
                f"{type(self).__name__} takes image_processor= and tokenizer=; unexpected: {', '.join(sorted(kwargs))}."
            )
        if image_processor is None or tokenizer is None:
            missing = "image_processor" if image_processor is None else "tokenizer"
            raise InvalidInputError(
                f"{type(self).__name__} needs {missing}=: pass both an image processor and a tokenizer."
            )
        if not isinstance(image_processor, BaseImageProcessor):
            raise InvalidInputError(
                f"image_processor must be an image processor (e.g. {self.image_processor_class.__name__}()), "
                f"got {type(image_processor).__name__}."
            )
        if not callable(getattr(tokenizer, "batch_decode", None)):
            raise InvalidInputError(
                f"tokenizer must be a tokenizer (e.g. AutoTokenizer), got {type(tokenizer).__name__}."
            )
        self.image_processor = image_processor
        self.tokenizer = tokenizer

    def __call__(
        self,
        text=None,
        images=None,
        return_tensors: str | None = None,
        text_kwargs: dict | None = None,
        images_kwargs: dict | None = None,
        **kwargs: Any,
    ) -> BatchFeature:
        """Tokenize ``text`` and preprocess ``images``: one dict with both parts' outputs.

        Keywords the image processor has (``do_resize``, ``size``, ``data_format``...) go to it,
        the others (``padding``, ``truncation``, ``max_length``...) to the tokenizer;
        ``text_kwargs`` / ``images_kwargs`` give each part keywords explicitly. ``return_tensors``
        (``"np"`` or ``"tf"``) goes to both.

        Example:
            >>> processor(text=["a cat", "a photo of a dog"], padding=True, return_tensors="np")["input_ids"].shape
            (2, 7)
        """
        if text is None and images is None:
            raise InvalidInputError(f"{type(self).__name__} needs text=, images= or both.")
        for_images = {k: v for k, v in kwargs.items() if k in _IMAGE_KEYWORDS}
        for_text = {k: v for k, v in kwargs.items() if k not in _IMAGE_KEYWORDS}
        outputs = BatchFeature()
        if images is not None:
            outputs.update(
                self.image_processor(images, return_tensors=return_tensors, **{**for_images, **(images_kwargs or {})})
            )
        if text is not None:
            outputs.update(self.tokenizer(text, return_tensors=return_tensors, **{**for_text, **(text_kwargs or {})}))
        return outputs

    def batch_decode(self, *args: Any, **kwargs: Any) -> list[str]:
        """The tokenizer's ``batch_decode``.

        Example:
            >>> processor.batch_decode([[49406, 320, 2368, 49407]], skip_special_tokens=True)
            ['a cat']
        """
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> str:
        """The tokenizer's ``decode``.

        Example:
            >>> processor.decode([49406, 320, 2368, 49407], skip_special_tokens=True)
            'a cat'
        """
        return self.tokenizer.decode(*args, **kwargs)

    @property
    def model_input_names(self) -> list[str]:
        """The tokenizer's input names, then the image processor's (without repeats)."""
        names = list(self.tokenizer.model_input_names) + list(self.image_processor.model_input_names)
        return list(dict.fromkeys(names))

    @property
    def feature_extractor(self) -> BaseImageProcessor:
        """transformers' older name for ``image_processor``."""
        return self.image_processor

    def __repr__(self) -> str:
        return f"{type(self).__name__}:\n- image_processor: {self.image_processor!r}\n- tokenizer: {self.tokenizer!r}"

    # ---------------------------------------------------------------- saving and loading
    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> list[str]:
        """Write the tokenizer's files and ``preprocessor_config.json``, each naming this processor class.

        Both kerasformers' and transformers' ``AutoProcessor`` load the folder back.

        Example:
            >>> processor.save_pretrained("out")
        """
        if kwargs.get("push_to_hub"):
            raise InvalidInputError("push_to_hub=True is not supported for processors yet: save, then upload.")
        name = type(self).__name__
        tokenizer_options = self.tokenizer.init_kwargs
        had_class = "processor_class" in tokenizer_options
        previous = tokenizer_options.get("processor_class")
        tokenizer_options["processor_class"] = name  # written into tokenizer_config.json
        try:
            files = list(self.tokenizer.save_pretrained(save_directory))
        finally:
            if had_class:
                tokenizer_options["processor_class"] = previous
            else:
                tokenizer_options.pop("processor_class")
        extra = self.image_processor.extra_settings
        previous_extra = dict(extra)
        extra["processor_class"] = name
        try:
            files += self.image_processor.save_pretrained(save_directory)
        finally:
            extra.clear()
            extra.update(previous_extra)
        return files

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> "ProcessorMixin":
        """The processor of a checkpoint folder or Hub name: its tokenizer and its image processor.

        Keywords that are image processor settings override ``preprocessor_config.json``; the rest
        go to the tokenizer.

        Example:
            >>> processor = CLIPProcessor.from_pretrained("openai/clip-vit-base-patch32")
        """
        loading = {k: kwargs.pop(k) for k in _LOADING_KEYS if k in kwargs}
        image_options = {k: kwargs.pop(k) for k in list(kwargs) if k in _IMAGE_KEYWORDS}
        folder = _checkpoint_folder(pretrained_model_name_or_path, loading)
        if (folder / IMAGE_PROCESSOR_NAME).is_file():
            image_processor = cls._image_processor_from_file(folder, image_options)
        else:  # transformers 5 nests the image processor's settings in processor_config.json
            settings = _read_json(folder / PROCESSOR_NAME).get("image_processor")
            if not isinstance(settings, dict):
                raise CheckpointNotFoundError(
                    f"{pretrained_model_name_or_path} has neither {IMAGE_PROCESSOR_NAME} nor an image_processor in "
                    f"{PROCESSOR_NAME}: save the processor there with save_pretrained()."
                )
            image_processor = cls.image_processor_class.from_dict(settings, **image_options)
        tokenizer_loader = cls.tokenizer_class or AutoTokenizer
        tokenizer = tokenizer_loader.from_pretrained(folder, **kwargs)
        return cls(image_processor=image_processor, tokenizer=tokenizer)

    @classmethod
    def _image_processor_from_file(cls, folder: Path, options: dict) -> BaseImageProcessor:
        if cls.image_processor_class is BaseImageProcessor:
            return AutoImageProcessor.from_pretrained(folder, **options)
        return cls.image_processor_class.from_pretrained(folder, **options)


_PROCESSOR_CLASSES: dict[str, type[ProcessorMixin]] = {}
_MODEL_TYPE_PROCESSORS: dict[str, type[ProcessorMixin]] = {}


def register_processor_class(cls: type[ProcessorMixin], model_types: tuple[str, ...] = ()) -> type[ProcessorMixin]:
    """Make ``AutoProcessor`` build ``cls`` for checkpoints that name it or are of ``model_types``.

    Example:
        >>> register_processor_class(CLIPProcessor, model_types=("clip",))
    """
    _PROCESSOR_CLASSES[cls.__name__] = cls
    for model_type in model_types:
        _MODEL_TYPE_PROCESSORS[model_type] = cls
    return cls


class AutoProcessor:
    """Loads a checkpoint's processor: its processor class, else its tokenizer, else its image processor.

    Example:
        >>> processor = AutoProcessor.from_pretrained("openai/clip-vit-base-patch32")
        >>> type(processor).__name__
        'CLIPProcessor'
        >>> type(AutoProcessor.from_pretrained("google/vit-base-patch16-224")).__name__
        'ViTImageProcessor'
    """

    def __init__(self):
        raise OSError("Use AutoProcessor.from_pretrained(checkpoint).")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any):
        """The processor for a checkpoint folder or Hub name (keywords as for the class it picks).

        Example:
            >>> AutoProcessor.from_pretrained("path/to/clip", padding_side="left")
        """
        fill_registries()
        loading = {k: kwargs[k] for k in _LOADING_KEYS if k in kwargs}
        folder = _checkpoint_folder(pretrained_model_name_or_path, loading)
        processor_class = _named_processor_class(folder)
        if processor_class is not None:
            return processor_class.from_pretrained(pretrained_model_name_or_path, **kwargs)
        failures = []
        for loader in (AutoTokenizer, AutoImageProcessor):
            try:
                return loader.from_pretrained(pretrained_model_name_or_path, **kwargs)
            except KerasformersError as error:
                failures.append(f"{loader.__name__}: {error}")
        raise CheckpointNotFoundError(
            f"{pretrained_model_name_or_path} has no processor, tokenizer or image processor kerasformers can load "
            f"({'; '.join(failures)}). Save one there with save_pretrained()."
        )

    @staticmethod
    def register(config_class, processor_class: type[ProcessorMixin], exist_ok: bool = False) -> None:
        """Use ``processor_class`` for checkpoints of ``config_class``'s model_type.

        Example:
            >>> AutoProcessor.register(MyConfig, MyProcessor)
        """
        model_type = getattr(config_class, "model_type", None)
        if not exist_ok and model_type in _MODEL_TYPE_PROCESSORS:
            raise ConfigError(f"model_type {model_type!r} already has a processor; pass exist_ok=True.")
        register_processor_class(processor_class, model_types=(model_type,))


_FEATURE_EXTRACTOR_CLASSES: dict[str, type] = {}
_MODEL_TYPE_FEATURE_EXTRACTORS: dict[str, type] = {}


def register_feature_extractor_class(cls: type, model_types: tuple[str, ...] = ()) -> type:
    """Make ``AutoFeatureExtractor`` build ``cls`` (a class with ``from_pretrained``) for checkpoints whose
    ``feature_extractor_type`` names it or whose ``model_type`` is in ``model_types``.

    Example:
        >>> register_feature_extractor_class(WhisperFeatureExtractor, model_types=("whisper",))
    """
    _FEATURE_EXTRACTOR_CLASSES[cls.__name__] = cls
    for model_type in model_types:
        _MODEL_TYPE_FEATURE_EXTRACTORS[model_type] = cls
    return cls


class AutoFeatureExtractor:
    """Loads a checkpoint's feature extractor (transformers' ``AutoFeatureExtractor``).

    The class comes from ``feature_extractor_type`` in ``preprocessor_config.json`` (or in the
    ``feature_extractor`` settings transformers 5 nests in ``processor_config.json``), else from
    ``config.json``'s ``model_type``; image checkpoints (``ViTFeatureExtractor``...) give their
    image processor, as transformers does.

    Example:
        >>> fe = AutoFeatureExtractor.from_pretrained("openai/whisper-tiny")
        >>> type(fe).__name__
        'WhisperFeatureExtractor'
    """

    def __init__(self):
        raise OSError("Use AutoFeatureExtractor.from_pretrained(checkpoint).")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any):
        """The feature extractor of a checkpoint folder or Hub name; ``kwargs`` override its settings.

        Example:
            >>> AutoFeatureExtractor.from_pretrained("path/to/whisper", return_attention_mask=True)
        """
        fill_registries()
        loading = {k: kwargs[k] for k in _LOADING_KEYS if k in kwargs}
        folder = _checkpoint_folder(pretrained_model_name_or_path, loading)
        nested = _read_json(folder / PROCESSOR_NAME).get("feature_extractor")
        settings = _read_json(folder / IMAGE_PROCESSOR_NAME) or (nested if isinstance(nested, dict) else {})
        extractor_class = _FEATURE_EXTRACTOR_CLASSES.get(str(settings.get("feature_extractor_type") or ""))
        if extractor_class is None:
            model_type = _read_json(folder / "config.json").get("model_type")
            extractor_class = _MODEL_TYPE_FEATURE_EXTRACTORS.get(model_type)
        if extractor_class is not None:
            return extractor_class.from_pretrained(pretrained_model_name_or_path, **kwargs)
        try:
            return AutoImageProcessor.from_pretrained(pretrained_model_name_or_path, **kwargs)
        except KerasformersError as error:
            known = ", ".join(sorted(_FEATURE_EXTRACTOR_CLASSES)) or "none"
            raise ConfigError(
                f"{pretrained_model_name_or_path} names no feature extractor kerasformers provides (known: {known}; "
                f"as an image processor: {error})."
            ) from None

    @staticmethod
    def register(config_class, feature_extractor_class: type, exist_ok: bool = False) -> None:
        """Use ``feature_extractor_class`` for checkpoints of ``config_class``'s model_type.

        Example:
            >>> AutoFeatureExtractor.register(MyConfig, MyFeatureExtractor)
        """
        model_type = getattr(config_class, "model_type", None)
        if not exist_ok and model_type in _MODEL_TYPE_FEATURE_EXTRACTORS:
            raise ConfigError(f"model_type {model_type!r} already has a feature extractor; pass exist_ok=True.")
        register_feature_extractor_class(feature_extractor_class, model_types=(model_type,))


def _checkpoint_folder(name_or_path, loading: dict) -> Path:
    options = {k: v for k, v in loading.items() if k != "subfolder"}
    return resolve_checkpoint(name_or_path, **options) / (loading.get("subfolder") or "")


def _named_processor_class(folder: Path) -> type[ProcessorMixin] | None:
    """The processor class a checkpoint's files name, else the one registered for its model_type."""
    model_config = _read_json(folder / "config.json")
    for file_name in (PROCESSOR_NAME, IMAGE_PROCESSOR_NAME, "tokenizer_config.json", "config.json"):
        name = _read_json(folder / file_name).get("processor_class")
        if name:
            if name not in _PROCESSOR_CLASSES:
                known = ", ".join(sorted(_PROCESSOR_CLASSES)) or "none"
                raise ConfigError(
                    f"{folder / file_name} names processor_class {name!r}, not provided here. Known: {known}."
                )
            return _PROCESSOR_CLASSES[name]
    return _MODEL_TYPE_PROCESSORS.get(model_config.get("model_type"))


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}).") from None
    return value if isinstance(value, dict) else {}
