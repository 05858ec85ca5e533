"""Whisper's ``generate()``: its decoder prompt, suppressed tokens, timestamps and language detection.

It runs the seq2seq protocol of :mod:`kerasformers.generation.seq2seq` as one XLA program per
(settings, batch): the encoder on the (batch, mels, 3000) features, the cross-attention keys and
values once, then the shared decode loop. Around it, as transformers' Whisper does for audio of
up to 30 s (short form):

- the decoder prompt ``<|startoftranscript|> <|lang|> <|task|> [<|notimestamps|>]`` from
  ``language`` / ``task`` / ``return_timestamps`` (or the old ``forced_decoder_ids`` of
  generation_config.json when neither is given);
- the language detected from the first decoder step when the model is multilingual and no
  language is given (one extra encoder + decoder pass, as transformers does);
- ``suppress_tokens`` at every step and ``begin_suppress_tokens`` at the first generated one;
- with ``return_timestamps=True``, :class:`WhisperTimeStampLogitsProcessor` (timestamps in pairs,
  never decreasing, a timestamp first).

The result is what transformers' TensorFlow Whisper returned: the prompt, then the generated
tokens, then ``pad_token_id`` after a row's end (decode with ``skip_special_tokens=True``).
PyTorch transformers 5 returns only the generated part; :func:`strip_prompt` gives that form.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.generation import GenerationMixin
from kerasformers.generation.configuration_utils import check_generate_kwargs
from kerasformers.generation.decoding import DecodeSettings, build_decode_loop, compile_once
from kerasformers.generation.logits_process import DecodeContext, LogitsProcessor, processor_style
from kerasformers.generation.seq2seq import DecoderAsCausalLM, decoder_start_token_id
from kerasformers.input_checks import as_concrete_array
from kerasformers.utils.backend import require_tensorflow_backend

__all__ = [
    "LANGUAGES",
    "TO_LANGUAGE_CODE",
    "TASK_IDS",
    "SuppressTokensLogitsProcessor",
    "SuppressTokensAtBeginLogitsProcessor",
    "WhisperTimeStampLogitsProcessor",
    "WhisperGenerationMixin",
    "strip_prompt",
]

# Whisper's languages in token order (code -> name), as OpenAI's Whisper and transformers'
# tokenization_whisper.py list them; a name or code picks the <|code|> token.
LANGUAGES = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean",
    "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan",
    "nl": "dutch", "ar": "arabic", "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi",
    "fi": "finnish", "vi": "vietnamese", "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay",
    "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian", "la": "latin",
    "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak", "te": "telugu", "fa": "persian",
    "lv": "latvian", "bn": "bengali", "sr": "serbian", "az": "azerbaijani", "sl": "slovenian", "kn": "kannada",
    "et": "estonian", "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian", "sw": "swahili",
    "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala", "km": "khmer", "sn": "shona",
    "yo": "yoruba", "so": "somali", "af": "afrikaans", "oc": "occitan", "ka": "georgian", "be": "belarusian",
    "tg": "tajik", "sd": "sindhi", "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao",
    "uz": "uzbek", "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan", "tl": "tagalog",
    "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian", "ln": "lingala", "ha": "hausa",
    "ba": "bashkir", "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}  # fmt: skip
TO_LANGUAGE_CODE = {
    **{name: code for code, name in LANGUAGES.items()},
    "burmese": "my", "valencian": "ca", "flemish": "nl", "haitian": "ht", "letzeburgesch": "lb", "pushto": "ps",
    "panjabi": "pa", "moldavian": "ro", "moldovan": "ro", "sinhalese": "si", "castilian": "es", "mandarin": "zh",
}  # fmt: skip
TASK_IDS = ["translate", "transcribe"]

NEG_INF = float("-inf")


def _token_hits(scores, tokens):
    """(1, vocab) bool: True at each of ``tokens`` (ids past the vocabulary match nothing)."""
    vocab = int(scores.shape[-1]) if scores.shape[-1] is not None else None
    if vocab is not None:
        hits = np.zeros((1, vocab), bool)
        hits[0, [t for t in tokens if 0 <= t < vocab]] = True
        return tf.constant(hits)
    positions = tf.range(tf.shape(scores)[-1])[None, :]
    return tf.reduce_any(positions[..., None] == tf.constant(list(tokens), tf.int32), axis=-1)


class _EqualBySettings:
    """Processors equal when their settings are, so generate() calls with the same settings reuse one compiled
    loop (the loop's cache key holds the processors)."""

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self).__name__, *sorted(vars(self).items())))


class SuppressTokensLogitsProcessor(_EqualBySettings, LogitsProcessor):
    """-inf on ``suppress_tokens`` at every step (transformers' ``SuppressTokensLogitsProcessor``).

    Example:
        >>> SuppressTokensLogitsProcessor([1, 3])(tf.constant([[0]]), tf.zeros((1, 5)))
    """

    def __init__(self, suppress_tokens):
        self.suppress_tokens = tuple(int(t) for t in suppress_tokens)

    def __call__(self, input_ids, scores, context=None):
        return tf.where(_token_hits(scores, self.suppress_tokens), NEG_INF, scores)


class SuppressTokensAtBeginLogitsProcessor(_EqualBySettings, LogitsProcessor):
    """-inf on ``begin_suppress_tokens`` for the token at column ``begin_index`` (the first generated one).

    Example:
        >>> SuppressTokensAtBeginLogitsProcessor([2], begin_index=1)(tf.constant([[0]]), tf.zeros((1, 5)))
    """

    def __init__(self, begin_suppress_tokens, begin_index: int):
        self.begin_suppress_tokens = tuple(int(t) for t in begin_suppress_tokens)
        self.begin_index = int(begin_index)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        at_begin = tf.equal(context.cur_len(), self.begin_index)
        return tf.where(_token_hits(scores, self.begin_suppress_tokens) & at_begin, NEG_INF, scores)


class WhisperTimeStampLogitsProcessor(_EqualBySettings, LogitsProcessor):
    """Whisper's timestamp rules, in TF ops for the compiled loop (transformers' processor of that name).

    ``<|notimestamps|>`` is never chosen; timestamps come in pairs (two in a row are followed by
    text, one after text by another timestamp or eos); they never decrease; the first generated
    token is a timestamp (at most ``max_initial_timestamp_index`` steps in); and when the
    timestamps together are likelier than any text token, a timestamp is taken.

    Example:
        >>> WhisperTimeStampLogitsProcessor(no_timestamps_token_id=50, eos_token_id=40, begin_index=3)
    """

    def __init__(
        self,
        no_timestamps_token_id: int,
        eos_token_id: int,
        begin_index: int,
        max_initial_timestamp_index: int | None = None,
        detect_timestamp_from_logprob: bool = True,
    ):
        self.no_timestamps_token_id = int(no_timestamps_token_id)
        self.timestamp_begin = self.no_timestamps_token_id + 1
        self.eos_token_id = int(eos_token_id)
        self.begin_index = int(begin_index)
        self.max_initial_timestamp_index = max_initial_timestamp_index
        self.detect_timestamp_from_logprob = detect_timestamp_from_logprob

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        begin = self.timestamp_begin
        ids = tf.cast(input_ids, tf.int32)
        length = context.length  # columns written (the prompt is never padded in Whisper's loop)
        generated = length - self.begin_index
        vocab = tf.range(tf.shape(scores)[-1], dtype=tf.int32)[None, :]
        scores = tf.where(tf.equal(vocab, self.no_timestamps_token_id), NEG_INF, scores)

        width = tf.shape(ids)[1]
        last = tf.gather(ids, tf.maximum(length - 1, 0), axis=1)
        penultimate = tf.gather(ids, tf.maximum(length - 2, 0), axis=1)
        last_was_ts = tf.logical_and(generated >= 1, last >= begin)[:, None]
        penultimate_was_ts = tf.logical_or(generated < 2, penultimate >= begin)[:, None]
        scores = tf.where(last_was_ts & penultimate_was_ts & (vocab >= begin), NEG_INF, scores)
        scores = tf.where(last_was_ts & ~penultimate_was_ts & (vocab < self.eos_token_id), NEG_INF, scores)

        columns = tf.range(width, dtype=tf.int32)[None, :]
        is_ts = (columns >= self.begin_index) & (columns < length) & (ids >= begin)
        last_ts_column = tf.reduce_max(tf.where(is_ts, columns, -1), axis=1)
        last_ts = tf.gather(ids, tf.maximum(last_ts_column, 0), axis=1, batch_dims=1)[:, None]
        any_ts = (last_ts_column >= 0)[:, None]
        floor = tf.where(last_was_ts & ~penultimate_was_ts, last_ts, last_ts + 1)
        floor = tf.where(any_ts, floor, begin)
        scores = tf.where((vocab >= begin) & (vocab < floor), NEG_INF, scores)

        at_begin = tf.equal(generated, 0)
        scores = tf.where(at_begin & (vocab < begin), NEG_INF, scores)
        if self.max_initial_timestamp_index is not None:
            last_allowed = begin + int(self.max_initial_timestamp_index)
            scores = tf.where(at_begin & (vocab > last_allowed), NEG_INF, scores)

        if self.detect_timestamp_from_logprob:
            logprobs = tf.nn.log_softmax(tf.cast(scores, tf.float32), axis=-1)
            timestamp_logprob = tf.reduce_logsumexp(logprobs[:, begin:], axis=-1)
            max_text = tf.reduce_max(logprobs[:, :begin], axis=-1)
            take_timestamp = (timestamp_logprob > max_text)[:, None]
            scores = tf.where(take_timestamp & (vocab < begin), NEG_INF, scores)
        return scores


def strip_prompt(sequences, prompt_length: int, eos_token_id, pad_token_id, timestamp_begin: int | None = None):
    """generate()'s rows in PyTorch transformers 5's short-form form: without the prompt and eos, right-padded.

    With ``timestamp_begin``, tokens after the last pair of timestamps are dropped unless the row
    ends on a single timestamp, as transformers' segment splitting does.

    Example:
        >>> strip_prompt(model.generate(input_features=f, language="en"), 4, eos_token_id=50257, pad_token_id=50257)
    """
    eos = set(eos_token_id if isinstance(eos_token_id, (list, tuple)) else [eos_token_id])
    rows = []
    for row in np.asarray(sequences)[:, prompt_length:].tolist():
        while row and row[-1] == pad_token_id:
            row = row[:-1]
        if row and row[-1] in eos:
            row = row[:-1]
        if timestamp_begin is not None and row:
            is_ts = [t >= timestamp_begin for t in row]
            pairs = [i + 1 for i in range(len(row) - 1) if is_ts[i] and is_ts[i + 1]]
            if pairs and is_ts[-2:] != [False, True]:
                row = row[: pairs[-1] + 1]
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    return np.array([r + [pad_token_id] * (width - len(r)) for r in rows], np.int64).reshape(len(rows), width)


_WHISPER_KEYWORDS = ("language", "task", "return_timestamps", "is_multilingual")
_NOT_PROVIDED = (
    "prompt_ids",
    "prompt_condition_type",
    "condition_on_prev_tokens",
    "temperature_fallback",
    "compression_ratio_threshold",
    "logprob_threshold",
    "no_speech_threshold",
    "return_token_timestamps",
    "return_segments",
    "assistant_model",
)


class WhisperGenerationMixin(GenerationMixin):
    """``generate()`` for Whisper (see the module docstring); the rest of :class:`GenerationMixin` as is."""

    def _whisper_compiled(self) -> dict:
        cache = self.__dict__.get("_kf_whisper_compiled")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_kf_whisper_compiled", cache)
        return cache

    def detect_language(self, input_features=None, encoder_outputs=None, generation_config=None):
        """The likeliest language token per row (ids of ``generation_config.lang_to_id``), from one decoder step.

        Example:
            >>> model.detect_language(features)  # e.g. [50259] for <|en|>
        """
        config = generation_config or self.generation_config
        lang_to_id = getattr(config, "lang_to_id", None)
        if not lang_to_id:
            raise InvalidInputError(
                "detect_language() needs generation_config.lang_to_id (from a multilingual Whisper's "
                "generation_config.json)."
            )
        if encoder_outputs is None:
            if input_features is None:
                raise InvalidInputError("detect_language() needs input_features or encoder_outputs.")
            states = self.get_encoder()(tf.constant(np.asarray(input_features, np.float32)))["last_hidden_state"]
        else:
            states = encoder_outputs["last_hidden_state"] if isinstance(encoder_outputs, dict) else encoder_outputs[0]
        batch = int(states.shape[0])
        start = decoder_start_token_id(self, config)
        logits = self(
            decoder_input_ids=np.full((batch, 1), start, np.int32), encoder_outputs=(states,), training=False
        ).logits[:, -1]
        logits = np.asarray(logits)
        allowed = np.full(logits.shape[-1], -np.inf, np.float32)
        allowed[list(lang_to_id.values())] = 0.0
        return np.argmax(logits + allowed, axis=-1).astype(np.int64)

    def _language_id(self, config, language: str) -> int:
        lang_to_id = getattr(config, "lang_to_id", None) or {}
        language = language.lower()
        if language in lang_to_id:
            token = language
        elif language in TO_LANGUAGE_CODE:
            token = f"<|{TO_LANGUAGE_CODE[language]}|>"
        elif language in TO_LANGUAGE_CODE.values():
            token = f"<|{language}|>"
        else:
            raise InvalidInputError(
                f"Unsupported language {language!r}: give a code (e.g. 'en') or a name (e.g. 'english') of "
                f"{sorted(TO_LANGUAGE_CODE.values())}."
            )
        if token not in lang_to_id:
            raise InvalidInputError(
                f"{token} is not in this model's generation_config.lang_to_id: the checkpoint does not know that "
                "language (an English-only model knows none)."
            )
        return int(lang_to_id[token])

    def _init_tokens(self, config, features, encoder_outputs, batch: int) -> np.ndarray:
        """Each row's decoder prompt, as transformers' ``_retrieve_init_tokens``."""
        task, language = getattr(config, "task", None), getattr(config, "language", None)
        init = [decoder_start_token_id(self, config)]
        if task is None and language is None:
            forced = getattr(config, "forced_decoder_ids", None) or getattr(self.config, "forced_decoder_ids", None)
            if forced and forced[0][0] == 1:
                forced, index = list(forced), 1
                while forced and forced[0][0] == index:
                    init.append(forced[0][1])
                    forced, index = forced[1:], index + 1
                if forced:
                    raise InvalidInputError(
                        f"forced_decoder_ids {forced} do not follow Whisper's prompt pattern (an entry for every "
                        "index from 1): pass language= and task= instead."
                    )
        language_undefined = len(init) <= 1 or init[1] is None
        if isinstance(language, (list, tuple)):
            if len(language) != batch or any(lang is None for lang in language):
                raise InvalidInputError(
                    f"language as a list needs one language per row ({batch}), no None; got {language}."
                )
            languages = list(language)
        else:
            languages = [language] * batch if language is not None else [None] * batch
        lang_ids = None
        if language is not None:
            lang_ids = [self._language_id(config, lang) for lang in languages]
        elif getattr(config, "lang_to_id", None) and language_undefined:
            lang_ids = self.detect_language(features, encoder_outputs, config).tolist()
        rows = []
        for row_index in range(batch):
            row = list(init)
            if lang_ids is not None:
                if len(row) > 1:
                    row[1] = lang_ids[row_index]
                else:
                    row.append(lang_ids[row_index])
            task_ids = getattr(config, "task_to_id", None) or {}
            if task is not None:
                if task not in TASK_IDS:
                    raise InvalidInputError(f"task must be one of {TASK_IDS}, got {task!r}.")
                task_id = task_ids[task]
                if any(t in row for t in task_ids.values()):
                    row = [task_id if t in task_ids.values() else t for t in row]
                else:
                    row.append(task_id)
            elif language is not None and task_ids and not any(t in row for t in task_ids.values()):
                row.append(task_ids["transcribe"])
            no_ts = getattr(config, "no_timestamps_token_id", None)
            if not config.return_timestamps and no_ts is not None and row[-1] != no_ts:
                row.append(no_ts)
            elif config.return_timestamps and row[-1] == no_ts:
                row = row[:-1]
            rows.append([t for t in row if t is not None])
        if len({len(r) for r in rows}) != 1:
            raise InvalidInputError(f"The decoder prompts of the rows differ in length: {rows}.")
        return np.asarray(rows, np.int32)

    def _whisper_processors(self, config, begin_index: int) -> list:
        processors = []
        begin_suppress = getattr(config, "begin_suppress_tokens", None)
        if begin_suppress is None:
            begin_suppress = getattr(self.config, "begin_suppress_tokens", None)
        suppress = getattr(config, "suppress_tokens", None)
        if suppress is None:
            suppress = getattr(self.config, "suppress_tokens", None)
        # transformers' order: begin-suppress, suppress, timestamps, then the caller's
        if begin_suppress:
            processors.append(SuppressTokensAtBeginLogitsProcessor(begin_suppress, begin_index))
        if suppress:
            processors.append(SuppressTokensLogitsProcessor(suppress))
        if config.return_timestamps:
            eos = config.eos_token_id if config.eos_token_id is not None else config.bos_token_id
            eos = eos[0] if isinstance(eos, (list, tuple)) else eos
            processors.append(
                WhisperTimeStampLogitsProcessor(
                    config.no_timestamps_token_id,
                    eos,
                    begin_index,
                    getattr(config, "max_initial_timestamp_index", None),
                    getattr(config, "_detect_timestamp_from_logprob", True),
                )
            )
        return processors

    def generate(
        self,
        inputs=None,
        generation_config=None,
        logits_processor=None,
        seed=None,
        return_timestamps=None,
        task=None,
        language=None,
        is_multilingual=None,
        input_features=None,
        encoder_outputs=None,
        attention_mask=None,
        jit_compile: bool = True,
        **kwargs,
    ):
        """Transcribe or translate (batch, mels, 3000) log-mel ``input_features``: token ids, prompt first.

        ``language`` ("en", "english", "<|en|>", or a list with one per row; detected when not given
        on a multilingual model), ``task`` ("transcribe" or "translate"), ``return_timestamps``
        (timestamp tokens between segments) and every generation setting of
        :meth:`GenerationMixin.generate` (``max_new_tokens``, ``num_beams``...).

        Example:
            >>> features = processor(audio, sampling_rate=16000, return_tensors="np").input_features
            >>> ids = model.generate(input_features=features, language="en", task="transcribe", max_new_tokens=64)
            >>> processor.batch_decode(ids, skip_special_tokens=True)
        """
        require_tensorflow_backend(  # issue 20: Whisper's own decode loop (timestamps, suppression) is TF ops
            "Whisper's generate()", "On JAX, T5 / BART / Marian and decoder-only models generate; Whisper does not yet."
        )
        del attention_mask  # the features' mask: not used by Whisper's short-form generation
        for name in _NOT_PROVIDED:
            if kwargs.get(name) not in (None, False):
                raise NotSupportedError(
                    f"Whisper generate({name}=...) is not implemented: it transcribes up to 30 s at a time; for "
                    "longer audio use pipeline('automatic-speech-recognition', chunk_length_s=30)."
                )
            kwargs.pop(name, None)
        if kwargs.pop("decoder_input_ids", None) is not None:
            raise NotSupportedError(
                "Whisper's generate() builds the decoder prompt itself: pass language= / task= instead of "
                "decoder_input_ids."
            )
        features = input_features if input_features is not None else inputs
        if tf.inside_function():
            raise NotSupportedError(
                "Whisper generate() inside tf.function is not supported: call it eagerly (it already runs as one "
                "XLA program), or export it with `kerasformers export`."
            )
        check_generate_kwargs(kwargs)
        config = (generation_config or self.generation_config).update(**kwargs)
        if return_timestamps is None:
            return_timestamps = bool(getattr(config, "return_timestamps", False))
        if return_timestamps and getattr(config, "no_timestamps_token_id", None) is None:
            raise InvalidInputError(
                "return_timestamps=True needs generation_config.no_timestamps_token_id (a Whisper checkpoint's "
                "generation_config.json has it)."
            )
        if is_multilingual is not None:
            config.is_multilingual = is_multilingual
        if getattr(config, "is_multilingual", True) is False and (task is not None or language is not None):
            raise InvalidInputError(
                "Cannot give task or language to an English-only Whisper; pass is_multilingual=True if it is not."
            )
        if language is not None:
            config.language = language
        if task is not None:
            config.task = task
        config.return_timestamps = return_timestamps
        user_processors = list(logits_processor or ())
        if any(processor_style(p) == "python" for p in user_processors):
            raise NotSupportedError(
                "An (input_ids, scores) logits processor needs a Python loop, which Whisper's compiled generate() does "
                "not run: write it as TF ops with __call__(input_ids, scores, cur_len)."
            )
        if config.return_dict_in_generate:
            raise NotSupportedError(
                "Whisper generate(return_dict_in_generate=True) is not implemented: it returns the sequences."
            )

        if encoder_outputs is not None:
            states = encoder_outputs["last_hidden_state"] if isinstance(encoder_outputs, dict) else encoder_outputs[0]
            source = np.asarray(states, np.float32)
            from_states = True
        else:
            if features is None:
                raise InvalidInputError("generate() needs input_features (the feature extractor's output).")
            array = as_concrete_array(features, "input_features")
            source = np.asarray(features if array is None else array, np.float32)
            if source.ndim == 2:
                source = source[None]
            frames = 2 * self.config.max_source_positions
            if source.ndim == 3 and source.shape[-1] > frames:
                raise NotSupportedError(
                    f"input_features of {source.shape[-1]} frames are long-form audio (over 30 s); Whisper's "
                    "generate() here transcribes up to 30 s: use "
                    "pipeline('automatic-speech-recognition', chunk_length_s=30)."
                )
            self.validate_inputs({"input_features": source}, caller="generate()")
            from_states = False
        batch = source.shape[0]

        prompt = self._init_tokens(config, None if from_states else source, (source,) if from_states else None, batch)
        prompt_length = prompt.shape[1]
        max_target = self.config.max_target_positions
        if config.max_new_tokens is not None and config.max_new_tokens + prompt_length > max_target:
            config.max_new_tokens = max_target - prompt_length  # as transformers caps it
        elif config.max_new_tokens is None:
            config.max_length = min(int(config.max_length) + prompt_length, max_target)
        # Whisper's suppressions run as processors here; the generic validation refuses them as settings
        config.suppress_tokens = getattr(config, "suppress_tokens", None)
        config.begin_suppress_tokens = getattr(config, "begin_suppress_tokens", None)
        processors = self._whisper_processors(config, prompt_length) + user_processors
        config.suppress_tokens = None
        config.begin_suppress_tokens = None
        config.validate()
        settings = DecodeSettings.resolve(config, prompt_length, bucket=prompt_length, logits_processor=processors)
        if settings.rows > 1:
            prompt = np.repeat(prompt, settings.rows, axis=0)
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1, size=2)
        seed = tf.constant(np.asarray(seed, np.int32).reshape(2))
        key = ("whisper", settings, batch, from_states, jit_compile, source.shape[1:])
        compiled = self._whisper_compiled()
        if key not in compiled:
            compiled[key] = build_whisper_loop(self, settings, batch, source.shape[1:], from_states, jit_compile)
        sequences, steps = compiled[key](tf.constant(source), tf.constant(prompt), seed)
        return tf.convert_to_tensor(sequences)[:, : prompt_length + int(steps)]


def build_whisper_loop(
    model, settings: DecodeSettings, batch_size, source_shape, from_encoder_states=False, jit_compile=True
):
    """The compiled Whisper generate: ``(features or encoder states, decoder_prompt, seed) -> (sequences, steps)``.

    One program: the encoder on the features (unless given its states), the states repeated per
    beam/sample, the cross-attention keys/values once, then the shared decode loop over the decoder
    (the cross-attention sees every encoder position: Whisper's states are never padded).

    Example:
        >>> loop = build_whisper_loop(model, settings, 1, (80, 3000))
        >>> sequences, steps = loop(features, prompt, tf.zeros(2, tf.int32))
    """

    @tf.autograph.experimental.do_not_convert
    def generate(source, decoder_ids, seed):
        if from_encoder_states:
            states = source
        else:
            states = model.get_encoder()(source, training=False)["last_hidden_state"]
        if settings.rows > 1:
            states = tf.repeat(states, settings.rows, axis=0)
        decoder = DecoderAsCausalLM(model, states, None)
        decode = build_decode_loop(decoder, settings, batch_size=None, jit_compile=False)
        return decode(decoder_ids, tf.ones_like(decoder_ids), tf.constant(settings.bucket, tf.int32), seed)

    if not jit_compile:
        return generate
    rows = None if batch_size is None else batch_size * settings.rows
    signature = [
        tf.TensorSpec((batch_size, *source_shape), tf.float32),
        tf.TensorSpec((rows, settings.bucket), tf.int32),
        tf.TensorSpec((2,), tf.int32),
    ]
    return compile_once(generate, input_signature=signature)
