"""LiteRT (TFLite) export: a Whisper model as one ``.tflite`` file with its encoder and a fixed-length greedy
decoder, runnable with the ``ai-edge-litert`` interpreter (builtin ops only, no TensorFlow at run time)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kerasformers.errors import ExportError, NotSupportedError
from kerasformers.serving._tensorflow import tf
from kerasformers.utils.backend import require_tensorflow_backend

__all__ = ["export_litert", "export_whisper_litert"]

DEFAULT_MAX_NEW_TOKENS = 64


def export_litert(model, output_path: str | os.PathLike, **options) -> Path:
    """Write ``model`` as a LiteRT flatbuffer; the entry point ``kerasformers export --format litert`` calls.

    Whisper models (:func:`export_whisper_litert`) are provided; other architectures are not yet.

    Example:
        >>> export_litert(TFWhisperForConditionalGeneration.from_pretrained("path/to/whisper"), "whisper.tflite",
        ...               language="en")
    """
    require_tensorflow_backend("export_litert() (the TFLite converter)")
    if getattr(getattr(model, "config", None), "model_type", None) == "whisper":
        return export_whisper_litert(model, output_path, **options)
    raise NotSupportedError(
        f"LiteRT export is provided for Whisper speech recognition only, not for {type(model).__name__} yet: "
        "export a SavedModel (kerasformers export) and convert it with tf.lite.TFLiteConverter."
    )


def export_whisper_litert(
    model,
    output_path: str | os.PathLike,
    *,
    language: str | None = None,
    task: str | None = None,
    max_new_tokens: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Whisper as a ``.tflite`` file: ``input_features`` [1, mels, frames] in, ``token_ids`` [max_new_tokens] out.

    In the flatbuffer: the encoder once, then a while loop of ``max_new_tokens`` greedy steps, each
    running the decoder over a fixed-length token buffer (the prompt then the tokens so far; causal
    attention makes later slots irrelevant) with the checkpoint's suppress / begin-suppress tokens;
    after ``<|endoftext|>`` the rest is the pad token. The prompt (start, ``language``, ``task``,
    no-timestamps) is fixed at export, as the ids ``generate()`` returns after its prompt. Compute
    the features with :class:`~kerasformers.WhisperFeatureExtractor` (or ``log_mel_features``).

    Example:
        >>> export_whisper_litert(model, "whisper.tflite", language="en", max_new_tokens=64)
        >>> from ai_edge_litert.interpreter import Interpreter
        >>> runner = Interpreter("whisper.tflite").get_signature_runner()
        >>> runner(input_features=features)["token_ids"]
    """
    output_path = Path(output_path)
    if output_path.exists() and not overwrite:
        raise ExportError(f"{output_path} exists: pass overwrite=True (--overwrite) to replace it.")
    if not hasattr(model, "_init_tokens"):
        raise ExportError(f"LiteRT Whisper export needs TFWhisperForConditionalGeneration, got {type(model).__name__}.")
    config = model.generation_config.update()
    if language is None and getattr(config, "lang_to_id", None) and getattr(config, "is_multilingual", True):
        raise ExportError("A multilingual Whisper LiteRT export needs language= (e.g. 'en'): the prompt is fixed.")
    if language is not None:
        config.language = language
    if task is not None:
        config.task = task
    config.return_timestamps = False
    if not model.built:
        model.build_with_dummy_inputs()
    prompt = [int(token) for token in model._init_tokens(config, None, None, 1)[0]]
    prompt_length = len(prompt)
    max_new = int(max_new_tokens or config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
    max_new = min(max_new, model.config.max_target_positions - prompt_length)
    eos = config.eos_token_id if config.eos_token_id is not None else model.config.eos_token_id
    eos = int(eos[0] if isinstance(eos, (list, tuple)) else eos)
    pad = int(config.pad_token_id if config.pad_token_id is not None else eos)
    vocab = int(model.config.vocab_size)
    suppress = np.zeros([vocab], bool)
    suppress[[t for t in (config.suppress_tokens or model.config.suppress_tokens or []) if t < vocab]] = True
    begin = np.zeros([vocab], bool)
    begin[[t for t in (config.begin_suppress_tokens or model.config.begin_suppress_tokens or []) if t < vocab]] = True
    mels, frames = int(model.config.num_mel_bins), 2 * int(model.config.max_source_positions)
    encoder, decoder = model.get_encoder(), model.get_decoder()
    length = prompt_length + max_new

    def transcribe(input_features):
        states = encoder(input_features, training=False)["last_hidden_state"]
        buffer = tf.concat([tf.constant([prompt], tf.int32), tf.fill([1, max_new], pad)], axis=1)

        def step(index, buffer, done):
            hidden = decoder(input_ids=buffer, encoder_hidden_states=states, training=False)["last_hidden_state"]
            last = tf.gather(hidden, prompt_length - 1 + index, axis=1)  # [1, d_model]
            logits = model.lm_logits(last)
            blocked = tf.logical_or(tf.constant(suppress), tf.logical_and(tf.equal(index, 0), tf.constant(begin)))
            logits = tf.where(blocked[None], tf.constant(-1e9, logits.dtype), logits)
            token = tf.argmax(logits, axis=-1, output_type=tf.int32)[0]
            token = tf.where(done, pad, token)
            position = tf.reshape(prompt_length + index, [1, 1])
            buffer = tf.tensor_scatter_nd_update(buffer, tf.concat([tf.zeros([1, 1], tf.int32), position], 1), [token])
            return index + 1, buffer, tf.logical_or(done, tf.equal(token, eos))

        _, buffer, _ = tf.while_loop(
            lambda index, *_: index < max_new,
            step,
            (tf.constant(0), buffer, tf.constant(False)),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([1, length]), tf.TensorShape([])),
        )
        return {"token_ids": buffer[0, prompt_length:]}

    function = tf.function(
        transcribe, input_signature=[tf.TensorSpec([1, mels, frames], tf.float32, name="input_features")]
    )
    concrete = function.get_concrete_function()
    module = tf.__internal__.tracking.AutoTrackable()
    module.model_variables = [getattr(v, "value", v) for v in model.variables]
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # the converter's errors are many types; one clear message
        raise ExportError(f"TFLite conversion of Whisper failed: {error}") from error
    output_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = output_path.with_name(f".{output_path.name}.tmp-{os.getpid()}")
    temporary.write_bytes(flatbuffer)
    temporary.replace(output_path)  # the file appears only complete
    return output_path
