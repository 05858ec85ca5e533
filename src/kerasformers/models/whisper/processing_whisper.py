"""WhisperProcessor: Whisper's feature extractor and tokenizer behind one call."""

from __future__ import annotations

import inspect
import os
from typing import Any

from kerasformers.errors import InvalidInputError
from kerasformers.models.whisper.feature_extraction_whisper import WhisperFeatureExtractor
from kerasformers.processing_utils import ProcessorMixin, register_processor_class
from kerasformers.tokenization import AutoTokenizer

__all__ = ["WhisperProcessor"]

_LOADING_KEYS = ("revision", "cache_dir", "token", "local_files_only", "force_download", "subfolder")
# keywords that go to the feature extractor (its settings and call options); the rest go to the tokenizer
_AUDIO_KEYWORDS = frozenset(
    name
    for function in (WhisperFeatureExtractor.__init__, WhisperFeatureExtractor.__call__)
    for name in inspect.signature(function).parameters
    if name not in ("self", "raw_speech", "kwargs", "return_tensors")
)


class WhisperProcessor(ProcessorMixin):
    """A :class:`WhisperFeatureExtractor` and a :class:`WhisperTokenizerFast` (transformers' ``WhisperProcessor``).

    ``processor(audio=..., sampling_rate=16000)`` gives ``input_features``; with ``text=`` too, the
    text's ids come back as ``labels`` (text alone gives the tokenizer's output). ``batch_decode``
    and ``decode`` are the tokenizer's (timestamp options included).

    Example:
        >>> processor = WhisperProcessor.from_pretrained("openai/whisper-tiny")
        >>> features = processor(audio_array, sampling_rate=16000, return_tensors="np").input_features
        >>> ids = model.generate(input_features=features, language="en", task="transcribe")
        >>> processor.batch_decode(ids, skip_special_tokens=True)
        [' Hello world.']
    """

    attributes = ["feature_extractor", "tokenizer"]
    feature_extractor_class = WhisperFeatureExtractor

    def __init__(self, feature_extractor: WhisperFeatureExtractor | None = None, tokenizer=None, **kwargs: Any):
        if kwargs:
            raise InvalidInputError(
                f"WhisperProcessor takes feature_extractor= and tokenizer=; unexpected: {', '.join(sorted(kwargs))}."
            )
        if not isinstance(feature_extractor, WhisperFeatureExtractor):
            raise InvalidInputError(
                "WhisperProcessor needs feature_extractor= (a WhisperFeatureExtractor), got "
                f"{type(feature_extractor).__name__}."
            )
        if not callable(getattr(tokenizer, "batch_decode", None)):
            raise InvalidInputError(
                f"WhisperProcessor needs tokenizer= (e.g. WhisperTokenizerFast), got {type(tokenizer).__name__}."
            )
        self.image_processor = feature_extractor  # the base class's slot; read it as .feature_extractor
        self.tokenizer = tokenizer

    def __call__(self, audio=None, sampling_rate: int | None = None, text=None, **kwargs: Any):
        """Features of ``audio`` and/or ids of ``text`` (``labels`` when both are given).

        Example:
            >>> batch = processor(audio=wave, sampling_rate=16000, text=" one two", return_tensors="np")
            >>> sorted(batch)
            ['input_features', 'labels']
        """
        if audio is None and text is None:
            raise InvalidInputError("WhisperProcessor needs audio= (16 kHz samples or a file path), text= or both.")
        for_audio = {k: v for k, v in kwargs.items() if k in _AUDIO_KEYWORDS}
        for_text = {k: v for k, v in kwargs.items() if k not in _AUDIO_KEYWORDS}
        if "return_tensors" in kwargs:
            for_audio["return_tensors"] = kwargs["return_tensors"]
        inputs = None
        if audio is not None:
            inputs = self.feature_extractor(audio, sampling_rate=sampling_rate, **for_audio)
        if text is None:
            return inputs
        encodings = self.tokenizer(text, **for_text)
        if inputs is None:
            return encodings
        inputs["labels"] = encodings["input_ids"]
        return inputs

    @property
    def feature_extractor(self) -> WhisperFeatureExtractor:
        """The :class:`WhisperFeatureExtractor`."""
        return self.image_processor

    @property
    def model_input_names(self) -> list[str]:
        """The feature extractor's input names, then the tokenizer's."""
        names = list(self.feature_extractor.model_input_names) + list(self.tokenizer.model_input_names)
        return list(dict.fromkeys(names))

    def get_decoder_prompt_ids(self, task: str | None = None, language: str | None = None, no_timestamps=True):
        """The tokenizer's :meth:`~WhisperTokenizerFast.get_decoder_prompt_ids`.

        Example:
            >>> processor.get_decoder_prompt_ids(language="en", task="transcribe")
            [(1, 50259), (2, 50359), (3, 50363)]
        """
        return self.tokenizer.get_decoder_prompt_ids(task=task, language=language, no_timestamps=no_timestamps)

    def get_prompt_ids(self, text: str, return_tensors: str | None = "np"):
        """The tokenizer's :meth:`~WhisperTokenizerFast.get_prompt_ids`.

        Example:
            >>> prompt_ids = processor.get_prompt_ids("Kerasformers")
        """
        return self.tokenizer.get_prompt_ids(text, return_tensors=return_tensors)

    def __repr__(self) -> str:
        return f"WhisperProcessor:\n- feature_extractor: {self.feature_extractor!r}\n- tokenizer: {self.tokenizer!r}"

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> list[str]:
        """The tokenizer's files and ``preprocessor_config.json``, each naming ``WhisperProcessor``.

        transformers' ``WhisperProcessor`` / ``AutoProcessor`` load the folder back.

        Example:
            >>> processor.save_pretrained("out")
        """
        if kwargs.get("push_to_hub"):
            raise InvalidInputError("push_to_hub=True is not supported for processors yet: save, then upload.")
        options = self.tokenizer.init_kwargs
        previous = dict(options)
        options["processor_class"] = "WhisperProcessor"
        try:
            files = list(self.tokenizer.save_pretrained(save_directory))
        finally:
            options.clear()
            options.update(previous)
        extra = self.feature_extractor.extra
        previous_extra = dict(extra)
        extra["processor_class"] = "WhisperProcessor"
        try:
            files += self.feature_extractor.save_pretrained(save_directory)
        finally:
            extra.clear()
            extra.update(previous_extra)
        return files

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> WhisperProcessor:
        """The processor of a checkpoint folder or Hub name; feature extractor settings in ``kwargs`` override
        ``preprocessor_config.json``, the rest go to the tokenizer (``language=``, ``task=``...).

        Example:
            >>> processor = WhisperProcessor.from_pretrained("openai/whisper-tiny", language="en", task="transcribe")
        """
        loading = {k: kwargs.pop(k) for k in _LOADING_KEYS if k in kwargs}
        audio_options = {k: kwargs.pop(k) for k in list(kwargs) if k in _AUDIO_KEYWORDS}
        feature_extractor = WhisperFeatureExtractor.from_pretrained(
            pretrained_model_name_or_path, **loading, **audio_options
        )
        tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, **loading, **kwargs)
        return cls(feature_extractor=feature_extractor, tokenizer=tokenizer)


register_processor_class(WhisperProcessor, model_types=("whisper",))
