"""End-to-end speech-recognition export (Whisper): 16 kHz float audio in, text out, with the log-mel
feature extractor (tf.signal), the XLA-compiled Whisper generate loop and the detokeniser inside the graph."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from kerasformers.errors import ExportError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.saved_model import check_export_target, exportable_module, write_saved_model
from kerasformers.serving.text_generation import generated_lengths

__all__ = ["export_speech_recognition", "log_mel_features"]

DEFAULT_MAX_NEW_TOKENS = 64


def log_mel_features(audio, mel_filters, n_fft: int = 400, hop_length: int = 160, n_samples: int = 480000):
    """Whisper's log-mel features in TF ops: float32 audio [batch, samples] -> [batch, mels, n_samples // hop].

    The same steps as :class:`~kerasformers.WhisperFeatureExtractor` (zero padding or cutting to
    ``n_samples``, centred STFT with reflect padding and a periodic Hann window, power spectrum,
    Slaney mel bank, log10 floored at 1e-10, clipped to 8 below each example's peak, ``(x + 4) / 4``,
    last frame dropped), in float32 where the numpy extractor works in float64.

    Example:
        >>> fe = WhisperFeatureExtractor()
        >>> log_mel_features(tf.zeros([1, 16000]), fe.mel_filters).shape
        TensorShape([1, 80, 3000])
    """
    audio = tf.cast(audio, tf.float32)[:, :n_samples]
    audio = tf.pad(audio, [[0, 0], [0, n_samples - tf.shape(audio)[1]]])
    audio = tf.reshape(audio, [-1, n_samples])
    half = n_fft // 2
    padded = tf.pad(audio, [[0, 0], [half, half]], mode="REFLECT")
    frames = tf.signal.frame(padded, n_fft, hop_length)  # [batch, frames, n_fft]
    window = tf.signal.hann_window(n_fft, periodic=True, dtype=tf.float32)
    spectrum = tf.signal.rfft(frames * window)[:, :-1]
    power = tf.math.square(tf.math.real(spectrum)) + tf.math.square(tf.math.imag(spectrum))
    mel = tf.einsum("btf,fm->bmt", power, tf.constant(np.asarray(mel_filters, np.float32)))
    log_spec = tf.math.log(tf.maximum(mel, 1e-10)) / tf.math.log(10.0)
    peak = tf.reduce_max(log_spec, axis=[1, 2], keepdims=True)
    log_spec = tf.maximum(log_spec, peak - 8.0)
    return (log_spec + 4.0) / 4.0


def _detokenizer_layer(source):
    """The in-graph byte-level BPE layer of a Whisper checkpoint's vocabulary, for detokenize(ids).

    Whisper's prefix template (``<|startoftranscript|>`` ... before the text) has no in-graph
    counterpart and the export builds the prompt itself, so the layer is made from the same
    vocabulary with a plain template.
    """
    from tokenizers import Tokenizer

    from kerasformers.tokenization import AutoTokenizer, PreTrainedTokenizerFast, TFAutoTokenizer

    python_tokenizer = AutoTokenizer.from_pretrained(source)
    backend = Tokenizer.from_str(python_tokenizer.backend_tokenizer.to_str())
    backend.post_processor = None
    plain = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=python_tokenizer.eos_token,
        pad_token=python_tokenizer.pad_token,
        unk_token=python_tokenizer.unk_token,
    )
    return TFAutoTokenizer.from_tokenizer(plain)


def export_speech_recognition(
    model,
    export_dir: str | os.PathLike,
    *,
    feature_extractor=None,
    tokenizer=None,
    version: int | None = None,
    language: str | None = None,
    task: str | None = None,
    overwrite: bool = False,
    **generate_kwargs,
) -> Path:
    """Export a Whisper model as raw 16 kHz audio in, transcripts out.

    ``serving_default`` takes ``audio`` (float32 [batch, samples] at 16 kHz; shorter rows zero-padded
    by the caller, up to 30 s are read) and returns ``text`` (as ``processor.batch_decode(ids,
    skip_special_tokens=True)``), ``generated_ids`` (int32, the tokens after the prompt) and
    ``num_generated_tokens``. In the graph: :func:`log_mel_features`, the prompt
    (``<|startoftranscript|>``, ``language``, ``task``, ``<|notimestamps|>``; fixed at export, so a
    multilingual model needs ``language``), the compiled greedy generate loop with Whisper's
    suppressions, and the in-graph byte-level BPE detokeniser. ``generate_kwargs``: ``max_new_tokens``
    (default 64) and other greedy settings. Serving needs TensorFlow (and tensorflow-text), not kerasformers.

    Example:
        >>> model = TFWhisperForConditionalGeneration.from_pretrained("path/to/whisper-tiny")
        >>> export_speech_recognition(model, "serving/whisper", language="en", max_new_tokens=64)
        >>> serve = tf.saved_model.load("serving/whisper/1").signatures["serving_default"]
        >>> serve(audio=tf.constant(wave[None]))["text"]
    """
    from kerasformers.generation import DecodeSettings
    from kerasformers.models.whisper.feature_extraction_whisper import WhisperFeatureExtractor
    from kerasformers.models.whisper.generation_whisper import WhisperGenerationMixin, build_whisper_loop

    if not isinstance(model, WhisperGenerationMixin):
        raise ExportError(
            f"automatic-speech-recognition export needs a Whisper model with generate() "
            f"(TFWhisperForConditionalGeneration), got {type(model).__name__}."
        )
    check_export_target(export_dir, version, overwrite)
    source = getattr(model, "name_or_path", None)
    if feature_extractor is None or tokenizer is None:
        if not source:
            raise ExportError("Pass feature_extractor= and tokenizer=: the model does not say which checkpoint it is.")
        feature_extractor = feature_extractor or WhisperFeatureExtractor.from_pretrained(source)
        tokenizer = tokenizer or _detokenizer_layer(source)
    if not hasattr(tokenizer, "detokenize"):
        raise ExportError(f"The tokenizer layer {type(tokenizer).__name__} has no detokenize(ids).")
    config = model.generation_config.update(**generate_kwargs)
    if getattr(config, "num_beams", 1) not in (None, 1) or getattr(config, "do_sample", False):
        raise ExportError("The speech-recognition export decodes greedily: drop num_beams / do_sample.")
    if language is None and getattr(config, "lang_to_id", None) and getattr(config, "is_multilingual", True):
        raise ExportError(
            "A multilingual Whisper export needs language= (e.g. 'en'): the prompt is fixed in the graph."
        )
    if language is not None:
        config.language = language
    if task is not None:
        config.task = task
    config.return_timestamps = False
    max_new = int(config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
    config = config.update(max_new_tokens=max_new, return_dict_in_generate=False)
    if not model.built:
        model.build_with_dummy_inputs()
    prompt = [int(token) for token in model._init_tokens(config, None, None, 1)[0]]
    prompt_length = len(prompt)
    if max_new + prompt_length > model.config.max_target_positions:
        max_new = model.config.max_target_positions - prompt_length
        config = config.update(max_new_tokens=max_new)
    config.suppress_tokens = getattr(config, "suppress_tokens", None)
    config.begin_suppress_tokens = getattr(config, "begin_suppress_tokens", None)
    processors = model._whisper_processors(config, prompt_length)
    config.suppress_tokens = None
    config.begin_suppress_tokens = None
    settings = DecodeSettings.resolve(config, prompt_length, bucket=prompt_length, logits_processor=processors)
    mels, frames = feature_extractor.feature_size, 2 * model.config.max_source_positions
    loop = build_whisper_loop(model, settings, None, (mels, frames), False, True)
    eos = settings.eos_token_ids
    pad = settings.pad_token_id if settings.pad_token_id is not None else 0
    fe = feature_extractor

    def transcribe(audio):
        features = log_mel_features(audio, fe.mel_filters, fe.n_fft, fe.hop_length, fe.n_samples)
        rows = tf.shape(features)[0]
        decoder_ids = tf.tile(tf.constant([prompt], tf.int32), [rows, 1])
        sequences, steps = loop(features, decoder_ids, tf.zeros([2], tf.int32))
        new = sequences[:, prompt_length : prompt_length + steps]
        count = generated_lengths(new, steps, eos)
        ragged = tf.RaggedTensor.from_tensor(new, lengths=count)
        return {
            "text": tokenizer.detokenize(ragged),
            "generated_ids": ragged.to_tensor(default_value=pad),
            "num_generated_tokens": count,
        }

    signature = tf.function(transcribe, input_signature=[tf.TensorSpec([None, None], tf.float32, name="audio")])
    signatures = {"serving_default": signature.get_concrete_function()}
    module = exportable_module(model, tokenizer)
    export = {"max_new_tokens": max_new, "decoder_prompt": [int(t) for t in prompt], "sampling_rate": fe.sampling_rate}
    extra = {
        "config.json": model.config.to_json_string(),
        "task.txt": "automatic-speech-recognition",
        "preprocessor_config.json": json.dumps(fe.to_dict(), indent=2, sort_keys=True),
        "export.json": json.dumps(export, indent=2),
    }
    return write_saved_model(module, signatures, export_dir, version, extra, overwrite=overwrite)
