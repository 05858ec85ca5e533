"""automatic-speech-recognition: text from speech with a speech seq2seq model (Whisper).

As transformers' pipeline for Whisper: audio (a file path, WAV/FLAC bytes, a 16 kHz float
array, or a ``{"array"/"raw", "sampling_rate"}`` dict as ``datasets`` gives) becomes log-mel
features; with ``chunk_length_s`` long audio is cut into overlapping chunks (``stride_length_s``
on each side, default a sixth of a chunk), each chunk is transcribed (``batch_size`` chunks per
``generate()`` call) and the chunks' tokens are merged on their overlap; ``return_timestamps=True``
adds segment-level ``chunks``. Generation options go through ``generate_kwargs`` (``language``,
``task``, ``max_new_tokens``...) or as keywords.

Example:
    >>> asr = pipeline("automatic-speech-recognition", model="path/to/whisper-tiny")
    >>> asr("speech.wav", chunk_length_s=30, batch_size=4)
    {'text': ' Hello world.'}
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.models.whisper.feature_extraction_whisper import load_audio
from kerasformers.pipelines.base import ChunkPipeline, register_pipeline
from kerasformers.processing_utils import AutoFeatureExtractor

__all__ = ["AutomaticSpeechRecognitionPipeline"]

# transformers' AutomaticSpeechRecognitionPipeline._default_generation_config (4.57 and 5.23)
_GENERATION_DEFAULTS = {"max_new_tokens": 256, "num_beams": 5}


@register_pipeline
class AutomaticSpeechRecognitionPipeline(ChunkPipeline):
    """Transcribe speech with a Whisper model (``TFAutoModelForSpeechSeq2Seq``).

    Call arguments: ``chunk_length_s``, ``stride_length_s`` (a number or ``[left, right]``),
    ``return_timestamps`` (``True``: segment-level ``chunks`` with ``(start, end)`` seconds),
    ``return_language``, ``generate_kwargs`` and other ``generate()`` keywords. One input gives
    ``{"text": ...}``; a list gives one such dict per input.

    Example:
        >>> asr = pipeline("automatic-speech-recognition", model="path/to/whisper")
        >>> asr(["a.wav", {"array": wave, "sampling_rate": 16000}], batch_size=2, generate_kwargs={"language": "en"})
    """

    default_task = "automatic-speech-recognition"

    def __init__(self, model: Any, tokenizer: Any = None, feature_extractor: Any = None, **kwargs: Any):
        if feature_extractor is None or isinstance(feature_extractor, (str, os.PathLike)):
            source = (
                feature_extractor
                or getattr(model, "name_or_path", "")
                or getattr(getattr(model, "config", None), "_name_or_path", "")
            )
            if not source or not os.path.isdir(source):
                raise InvalidInputError(
                    "AutomaticSpeechRecognitionPipeline needs a feature extractor: pass "
                    "feature_extractor=AutoFeatureExtractor.from_pretrained(<checkpoint>)."
                )
            feature_extractor = AutoFeatureExtractor.from_pretrained(source)
        self.feature_extractor = feature_extractor
        if getattr(getattr(model, "config", None), "model_type", None) != "whisper":
            raise NotSupportedError(
                "The automatic-speech-recognition pipeline runs Whisper models only here (CTC models such as "
                "Wav2Vec2 are not provided)."
            )
        super().__init__(model, tokenizer=tokenizer, **kwargs)

    def __call__(self, inputs: Any = None, **kwargs: Any) -> Any:
        """Transcripts of one audio input (or a list of them).

        Example:
            >>> asr("speech.wav", return_timestamps=True)
            {'text': ' Hello world.', 'chunks': [{'text': ' Hello world.', 'timestamp': (0.0, 1.2)}]}
        """
        if inputs is None:
            raise InvalidInputError("The automatic-speech-recognition pipeline needs audio (a path, bytes or array).")
        if isinstance(inputs, np.ndarray) and inputs.ndim == 2:
            raise InvalidInputError(
                "A 2-D array is ambiguous here: pass one 1-D waveform, or a list of waveforms for a batch."
            )
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        chunk_length_s=None,
        stride_length_s=None,
        ignore_warning=None,
        decoder_kwargs=None,
        return_timestamps=None,
        return_language=None,
        generate_kwargs=None,
        max_new_tokens=None,
        **more_generate_kwargs,
    ):
        preprocess, forward, postprocess = {}, {}, {}
        if chunk_length_s is not None:
            preprocess["chunk_length_s"] = chunk_length_s
        if stride_length_s is not None:
            preprocess["stride_length_s"] = stride_length_s
        if decoder_kwargs is not None:
            raise NotSupportedError("decoder_kwargs is for CTC models with a language model; Whisper has none.")
        forward.update(generate_kwargs or {})
        forward.update(more_generate_kwargs)
        if max_new_tokens is not None:
            if "max_new_tokens" in forward:
                raise InvalidInputError("max_new_tokens is given both as an argument and in generate_kwargs.")
            forward["max_new_tokens"] = max_new_tokens
        generation_config = getattr(self.model, "generation_config", None)
        if getattr(generation_config, "return_timestamps", False):
            return_timestamps = return_timestamps or generation_config.return_timestamps
        if return_timestamps is not None:
            if return_timestamps == "char":
                raise InvalidInputError("Whisper cannot return 'char' timestamps: use return_timestamps=True.")
            if return_timestamps == "word":
                raise NotSupportedError(
                    "return_timestamps='word' is not provided: use return_timestamps=True (segment timestamps)."
                )
            forward["return_timestamps"] = bool(return_timestamps)
            postprocess["return_timestamps"] = return_timestamps
        if return_language is not None:
            postprocess["return_language"] = return_language
        return preprocess, forward, postprocess

    def preprocess(self, inputs: Any, chunk_length_s: float = 0, stride_length_s=None):
        extractor = self.feature_extractor
        rate = extractor.sampling_rate
        if isinstance(inputs, dict):
            inputs = dict(inputs)
            if "stride" in inputs:
                raise NotSupportedError("A 'stride' in the input dict is for CTC models; use chunk_length_s.")
            if "raw" in inputs:
                inputs["array"] = inputs.pop("raw")
            if "array" not in inputs or "sampling_rate" not in inputs:
                raise InvalidInputError(
                    "An input dict needs 'array' (or 'raw') with the samples and 'sampling_rate', as datasets' Audio."
                )
        wave = load_audio(inputs, rate)
        if chunk_length_s:
            if stride_length_s is None:
                stride_length_s = chunk_length_s / 6
            if isinstance(stride_length_s, (int, float)):
                stride_length_s = [stride_length_s, stride_length_s]
            chunk = int(round(chunk_length_s * rate))
            left, right = (int(round(seconds * rate)) for seconds in stride_length_s)
            if chunk < left + right:
                raise InvalidInputError(
                    f"chunk_length_s ({chunk_length_s}) must be longer than both strides together ({stride_length_s})."
                )
            yield from self._chunks(wave, chunk, left, right)
            return
        if len(wave) > extractor.n_samples:
            raise NotSupportedError(
                f"The audio is {len(wave) / rate:.1f} s long, longer than Whisper's {extractor.chunk_length} s window, "
                f"and long-form generation is not provided: pass chunk_length_s={extractor.chunk_length}."
            )
        yield {"is_last": True, **extractor(wave, sampling_rate=rate, return_tensors="np")}

    def _chunks(self, wave: np.ndarray, chunk: int, stride_left: int, stride_right: int):
        """Overlapping pieces of ``wave`` with their strides in samples, as transformers' chunk_iter cuts them."""
        step = chunk - stride_left - stride_right
        for start in range(0, len(wave), step):
            piece = wave[start : start + chunk]
            is_last = start + chunk >= len(wave)
            left = 0 if start == 0 else stride_left
            right = 0 if is_last else stride_right
            if len(piece) > left:
                features = self.feature_extractor(piece, sampling_rate=self.feature_extractor.sampling_rate)
                yield {"is_last": is_last, "stride": (len(piece), left, right), **features}
            if is_last:
                break

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any) -> dict[str, Any]:
        features = np.asarray(model_inputs["input_features"])
        generate_kwargs = self._with_pipeline_defaults(generate_kwargs)
        tokens = np.asarray(self.model.generate(input_features=features, **generate_kwargs))
        outputs = {"tokens": tokens}
        if "stride" in model_inputs:
            outputs["stride"] = model_inputs["stride"]
        return outputs

    def _with_pipeline_defaults(self, generate_kwargs: dict) -> dict:
        """transformers' pipeline defaults for speech (beam search of 5, as OpenAI's Whisper; 256 new tokens) where
        neither the call nor the model's generation_config.json sets them (a set max_length keeps its length)."""
        config = getattr(self.model, "generation_config", None)
        already = {**(config.to_diff_dict() if config is not None else {}), **generate_kwargs}
        added = {key: value for key, value in _GENERATION_DEFAULTS.items() if key not in already}
        if "max_length" in already:
            added.pop("max_new_tokens", None)
        return {**generate_kwargs, **added}

    def postprocess(self, model_outputs: list[dict[str, Any]], return_timestamps=None, return_language=None):
        rate = self.feature_extractor.sampling_rate
        time_precision = self.feature_extractor.chunk_length / self.model.config.max_source_positions
        outputs = []
        for output in model_outputs:
            item = {"tokens": np.asarray(output["tokens"])}
            if "stride" in output:
                chunk, left, right = output["stride"]
                item["stride"] = (chunk / rate, left / rate, right / rate)
            outputs.append(item)
        text, optional = self.tokenizer._decode_asr(
            outputs, return_timestamps=return_timestamps, return_language=return_language, time_precision=time_precision
        )
        return {"text": text, **optional}
