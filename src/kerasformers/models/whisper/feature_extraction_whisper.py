"""WhisperFeatureExtractor: 16 kHz audio -> (batch, 80, 3000) log-mel features, as transformers computes them.

The audio is padded with zeros (or cut) to ``chunk_length`` seconds, framed by a centred STFT
(periodic Hann window of ``n_fft`` samples, ``hop_length`` apart, reflect padding), its power
spectrum mapped by a Slaney-normalised mel filter bank (0-8 kHz), then ``log10`` (floored at
1e-10), clipped to 8 below each example's maximum, and scaled ``(x + 4) / 4``; the last frame is
dropped. Audio may be a numpy array, a list, a file path (read with soundfile) or a ``datasets``
Audio value (``{"array": ..., "sampling_rate": ...}`` or ``{"path": ...}``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.hub import atomic_folder_write, resolve_checkpoint
from kerasformers.image_processing.base import BatchFeature, read_processor_config

__all__ = ["WhisperFeatureExtractor", "mel_filter_bank", "load_audio"]

FEATURE_EXTRACTOR_NAME = "preprocessor_config.json"
_LOADING_KEYS = ("revision", "cache_dir", "token", "local_files_only", "force_download", "subfolder")


def _hz_to_mel(freq):
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    freq = np.asarray(freq, np.float64)
    logstep = 27.0 / np.log(6.4)
    return np.where(freq < 1000.0, 3.0 * freq / 200.0, 15.0 + np.log(np.maximum(freq, 1e-10) / 1000.0) * logstep)


def _mel_to_hz(mels):
    mels = np.asarray(mels, np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(mels < 15.0, 200.0 * mels / 3.0, 1000.0 * np.exp(logstep * (mels - 15.0)))


def mel_filter_bank(num_frequency_bins, num_mel_filters, min_frequency, max_frequency, sampling_rate):
    """(num_frequency_bins, num_mel_filters) triangular filters on Slaney's mel scale, Slaney-normalised (area 1).

    Example:
        >>> mel_filter_bank(201, 80, 0.0, 8000.0, 16000).shape
        (201, 80)
    """
    mel_points = np.linspace(_hz_to_mel(min_frequency), _hz_to_mel(max_frequency), num_mel_filters + 2)
    edges = _mel_to_hz(mel_points)
    fft_freqs = np.linspace(0, sampling_rate // 2, num_frequency_bins)
    widths = np.diff(edges)
    offsets = edges[None, :] - fft_freqs[:, None]
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters *= (2.0 / (edges[2 : num_mel_filters + 2] - edges[:num_mel_filters]))[None, :]
    return filters


def load_audio(audio, sampling_rate: int) -> np.ndarray:
    """One mono float32 waveform from an array, a list, a file path or a ``datasets`` Audio value.

    Example:
        >>> load_audio("speech.wav", 16000).dtype
        dtype('float32')
    """
    rate = None
    if isinstance(audio, dict):
        if "array" in audio:
            audio, rate = audio["array"], audio.get("sampling_rate")
        elif audio.get("path"):
            audio = audio["path"]
        else:
            raise InvalidInputError("An audio dict needs 'array' (with 'sampling_rate') or 'path', as datasets' Audio.")
    if isinstance(audio, (str, os.PathLike)):
        import soundfile

        path = Path(audio)
        if not path.is_file():
            raise InvalidInputError(f"Audio file {str(path)!r} does not exist.")
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)  # mono
    if isinstance(audio, (bytes, bytearray)):
        import io

        import soundfile

        audio, rate = soundfile.read(io.BytesIO(audio), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
    if rate is not None and int(rate) != sampling_rate:
        raise InvalidInputError(
            f"The audio is sampled at {rate} Hz but Whisper needs {sampling_rate} Hz: resample it first "
            "(e.g. datasets' cast_column('audio', Audio(sampling_rate=16000)))."
        )
    array = np.asarray(audio, np.float32)
    if array.ndim != 1:
        raise InvalidInputError(f"Audio must be mono (one channel, 1-D), got shape {array.shape}.")
    return array


class WhisperFeatureExtractor:
    """Log-mel features for Whisper; settings and output as transformers' ``WhisperFeatureExtractor``.

    Example:
        >>> fe = WhisperFeatureExtractor()
        >>> fe(np.zeros(16000, np.float32), sampling_rate=16000, return_tensors="np").input_features.shape
        (1, 80, 3000)
    """

    model_input_names = ["input_features"]

    def __init__(
        self,
        feature_size: int = 80,
        sampling_rate: int = 16000,
        hop_length: int = 160,
        chunk_length: int = 30,
        n_fft: int = 400,
        padding_value: float = 0.0,
        dither: float = 0.0,
        return_attention_mask: bool = False,
        **kwargs: Any,
    ):
        self.feature_size = feature_size
        self.sampling_rate = sampling_rate
        self.hop_length = hop_length
        self.chunk_length = chunk_length
        self.n_fft = n_fft
        self.padding_value = padding_value
        self.dither = dither
        self.return_attention_mask = return_attention_mask
        self.padding_side = kwargs.pop("padding_side", "right")
        kwargs.pop("feature_extractor_type", None)
        kwargs.pop("processor_class", None)
        self.extra = kwargs  # other keys of preprocessor_config.json, written back as they were
        self.n_samples = chunk_length * sampling_rate
        self.nb_max_frames = self.n_samples // hop_length
        self.mel_filters = mel_filter_bank(1 + n_fft // 2, feature_size, 0.0, 8000.0, sampling_rate)

    # ------------------------------------------------------------------ the features
    def log_mel(self, waveforms: np.ndarray) -> np.ndarray:
        """(batch, samples) float -> (batch, feature_size, samples // hop_length) log-mel features.

        Example:
            >>> fe.log_mel(np.zeros((1, 480000), np.float32)).shape
            (1, 80, 3000)
        """
        # float64 as transformers' numpy path (its reference); its torch.stft path is float32 and
        # differs from that reference by up to ~5e-5 in quiet bins after log10
        waveforms = np.asarray(waveforms, np.float64)
        if self.dither:
            waveforms = waveforms + self.dither * np.random.standard_normal(waveforms.shape)
        half = self.n_fft // 2
        padded = np.pad(waveforms, ((0, 0), (half, half)), mode="reflect")
        frames = 1 + (padded.shape[1] - self.n_fft) // self.hop_length
        index = np.arange(self.n_fft)[None, :] + self.hop_length * np.arange(frames)[:, None]
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.n_fft) / self.n_fft)  # periodic Hann
        spectrum = np.fft.rfft(padded[:, index] * window, axis=-1)  # (batch, frames, bins)
        power = np.abs(spectrum[:, :-1]) ** 2
        mel = np.matmul(self.mel_filters.T[None], np.transpose(power, (0, 2, 1)))
        log_spec = np.log10(np.maximum(mel, 1e-10))
        peak = log_spec.max(axis=(1, 2), keepdims=True)
        log_spec = np.maximum(log_spec, peak - 8.0)
        return ((log_spec + 4.0) / 4.0).astype(np.float32)

    def __call__(
        self,
        raw_speech,
        truncation: bool = True,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        return_attention_mask: bool | None = None,
        padding: str = "max_length",
        max_length: int | None = None,
        sampling_rate: int | None = None,
        do_normalize: bool | None = None,
        **kwargs: Any,
    ) -> BatchFeature:
        """One waveform or a batch -> ``BatchFeature(input_features=(batch, feature_size, frames))``.

        Example:
            >>> fe([wave_a, wave_b], sampling_rate=16000, return_tensors="np").input_features.shape
            (2, 80, 3000)
        """
        if sampling_rate is not None and sampling_rate != self.sampling_rate:
            raise InvalidInputError(
                f"WhisperFeatureExtractor works at {self.sampling_rate} Hz; the audio given is at {sampling_rate} Hz: "
                "resample it first."
            )
        batched = (isinstance(raw_speech, np.ndarray) and raw_speech.ndim > 1) or (
            isinstance(raw_speech, (list, tuple)) and len(raw_speech) > 0 and not np.isscalar(raw_speech[0])
        )
        if isinstance(raw_speech, np.ndarray) and raw_speech.ndim > 2:
            raise InvalidInputError(f"Only mono audio is supported; got an array of shape {raw_speech.shape}.")
        items = list(raw_speech) if batched else [raw_speech]
        waves = [load_audio(item, self.sampling_rate) for item in items]
        target = max_length or self.n_samples
        if padding == "longest":
            target = max(len(w) for w in waves)
        if pad_to_multiple_of:
            target = int(math.ceil(target / pad_to_multiple_of) * pad_to_multiple_of)
        batch = np.full((len(waves), target), self.padding_value, np.float32)
        mask = np.zeros((len(waves), target), np.int32)
        for row, wave in enumerate(waves):
            if len(wave) > target and not truncation:
                raise InvalidInputError(
                    f"Audio of {len(wave)} samples is longer than {target} and truncation=False: cut it, or use "
                    "pipeline('automatic-speech-recognition', chunk_length_s=30) for long audio."
                )
            wave = wave[:target]
            batch[row, : len(wave)] = wave
            mask[row, : len(wave)] = 1
        if do_normalize:
            for row in range(len(waves)):
                length = int(mask[row].sum())
                valid = batch[row, :length]
                batch[row, :length] = (valid - valid.mean()) / np.sqrt(valid.var() + 1e-7)
                batch[row, length:] = self.padding_value
        out = BatchFeature({"input_features": self.log_mel(batch)})
        if return_attention_mask if return_attention_mask is not None else self.return_attention_mask:
            frames = mask[:, :: self.hop_length]
            if target % self.hop_length:
                frames = frames[:, :-1]
            out["attention_mask"] = frames
        return out.convert_to_tensors(return_tensors)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "feature_extractor_type": "WhisperFeatureExtractor",
            "feature_size": self.feature_size,
            "sampling_rate": self.sampling_rate,
            "hop_length": self.hop_length,
            "chunk_length": self.chunk_length,
            "n_fft": self.n_fft,
            "n_samples": self.n_samples,
            "nb_max_frames": self.nb_max_frames,
            "padding_value": self.padding_value,
            "padding_side": self.padding_side,
            "dither": self.dither,
            "return_attention_mask": self.return_attention_mask,
        }

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> list[str]:
        """Write ``preprocessor_config.json`` into ``save_directory`` (other files there stay).

        Example:
            >>> WhisperFeatureExtractor().save_pretrained("out")
            ['out/preprocessor_config.json']
        """
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        with atomic_folder_write(save_directory) as folder:
            (Path(folder) / FEATURE_EXTRACTOR_NAME).write_text(text, encoding="utf-8")
        return [str(Path(save_directory) / FEATURE_EXTRACTOR_NAME)]

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any):
        """Read ``preprocessor_config.json`` from a checkpoint folder or Hub name; ``kwargs`` override settings.

        Example:
            >>> WhisperFeatureExtractor.from_pretrained("path/to/whisper-tiny").feature_size
            80
        """
        values = _feature_extractor_settings(pretrained_model_name_or_path, kwargs)
        for derived in ("n_samples", "nb_max_frames", "mel_filters"):
            values.pop(derived, None)
        return cls(**{**values, **kwargs})

    def __repr__(self) -> str:
        return f"WhisperFeatureExtractor {json.dumps(self.to_dict(), indent=2, sort_keys=True)}"


def _feature_extractor_settings(name_or_path, kwargs: dict) -> dict[str, Any]:
    """``preprocessor_config.json``'s settings, or those transformers 5 nests under ``feature_extractor`` in
    ``processor_config.json`` (loading options are taken out of ``kwargs``)."""
    lookup = {key: kwargs.pop(key) for key in _LOADING_KEYS if key in kwargs}
    folder = resolve_checkpoint(name_or_path, **{k: v for k, v in lookup.items() if k != "subfolder"})
    folder = folder / (lookup.get("subfolder") or "")
    nested_file = folder / "processor_config.json"
    if not (folder / FEATURE_EXTRACTOR_NAME).is_file() and nested_file.is_file():
        try:
            nested = json.loads(nested_file.read_text(encoding="utf-8")).get("feature_extractor")
        except (ValueError, AttributeError):
            nested = None
        if isinstance(nested, dict):
            for key in ("use_fast", "trust_remote_code", "proxies", "resume_download", "use_auth_token"):
                kwargs.pop(key, None)
            return dict(nested)
    return read_processor_config(folder, kwargs)
