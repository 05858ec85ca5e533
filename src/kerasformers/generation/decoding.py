"""The decode loop behind ``generate()`` and the text-generation export, and its settings.

- :class:`DecodeSettings`: every setting the loop depends on, resolved once from a
  :class:`GenerationConfig` (kwargs already applied) and the prompt length. Frozen and hashable,
  so it keys the per-model cache of compiled loops directly.
- :func:`build_decode_loop`: the one builder of the compiled loop
  ``(ids, mask, prompt_length, seed) -> (sequences, steps)``; ``generate()`` and
  ``kerasformers.serving.text_generation`` both call it.
- Greedy and sampling pick tokens with one step function (:func:`_decode_step`), shared by the
  compiled loop and the streaming path; beam search carries a named :class:`BeamState`.

Models provide ``init_cache(batch, max_length)`` and accept ``attention_mask`` over cache slots,
``position_ids``, ``past_key_values``, ``cache_position`` and ``logits_to_keep``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
from keras import ops

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.generation.logits_process import (
    CallerProcessor,
    DecodeContext,
    LogitsProcessorList,
    build_logits_processors,
)

logger = logging.getLogger("kerasformers")

MIN_BUCKET = 16
STRATEGIES = ("greedy", "sample", "beam")


def prompt_bucket(length: int, limit: int | None = None) -> int:
    """The padded prompt length used for compilation: the next power of two >= length (>= 16).

    Example:
        >>> prompt_bucket(5), prompt_bucket(17), prompt_bucket(100)
        (16, 32, 128)
    """
    bucket = MIN_BUCKET
    while bucket < length:
        bucket *= 2
    if limit is not None and length <= limit < bucket:
        bucket = limit  # never pad past what the model can attend to
    return bucket


def new_tokens_bucket(max_new_tokens: int, limit: int | None = None) -> int:
    """The number of new-token slots a loop is compiled for: the next power of two >= max_new_tokens
    (>= 16), then multiples of 512 past 512.

    ``generate()`` compiles one loop per bucket and passes the call's own ``max_new_tokens`` to it, so
    calls asking for 20, 25 or 32 new tokens share one compiled program. ``limit`` (free cache slots
    after the prompt bucket) caps the bucket, never below ``max_new_tokens`` itself.

    Example:
        >>> new_tokens_bucket(1), new_tokens_bucket(20), new_tokens_bucket(128), new_tokens_bucket(700)
        (16, 32, 128, 1024)
    """
    bucket = MIN_BUCKET
    while bucket < max_new_tokens and bucket < 512:
        bucket *= 2
    if bucket < max_new_tokens:
        bucket = -(-max_new_tokens // 512) * 512
    if limit is not None and max_new_tokens <= limit < bucket:
        bucket = limit
    return bucket


def _frozen(value):
    """Lists (and arrays) as tuples, recursively, so the settings hash."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


# ---------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class DecodeSettings:
    """What one compiled decode loop is built for: strategy, lengths, token ids, processor parameters.

    Resolve it with :meth:`resolve`; ``dataclasses.replace`` gives a variant (e.g. another bucket).
    Settings that cannot change the loop are left out or normalised (greedy keeps no sampling
    warpers, non-beam strategies no beam parameters), so equal loops have equal settings.
    The processor fields keep GenerationConfig's names: ``build_logits_processors`` reads them.

    Example:
        >>> settings = DecodeSettings.resolve(GenerationConfig(max_new_tokens=8, eos_token_id=2), prompt_length=5)
        >>> settings.strategy, settings.bucket, settings.eos_token_ids, settings.pad_token_id
        ('greedy', 16, (2,), 2)
        >>> {settings: "usable as a cache key"}[settings]
        'usable as a cache key'
    """

    strategy: str  # "greedy", "sample" or "beam"
    max_new_tokens: int
    bucket: int  # padded prompt width the loop is compiled for
    eos_token_ids: tuple[int, ...] = ()
    pad_token_id: int | None = None  # written after a row's eos (eos[0] when the config has none)
    num_beams: int = 1
    num_return_sequences: int = 1
    # beam search only
    length_penalty: float | None = None
    early_stopping: bool | str | None = None
    # logits processors
    repetition_penalty: float | None = None
    no_repeat_ngram_size: int | None = None
    bad_words_ids: tuple | None = None
    min_length: int | None = None
    min_new_tokens: int | None = None
    forced_bos_token_id: int | None = None
    forced_eos_token_id: Any = None
    # sampling warpers
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    # what the loop returns besides the tokens (generate's return_dict_in_generate / output_scores / output_logits)
    return_dict_in_generate: bool = False
    output_scores: bool = False
    output_logits: bool = False
    # the caller's logits processors (applied after the built-in ones, before the warpers) and the
    # stopping criteria compiled into the loop (objects with ``stop_in_loop``, e.g. StopStringCriteria)
    logits_processor: tuple = ()
    stop_criteria: tuple = ()
    # True: the loop takes the call's max_new_tokens as a fifth input (an int32 scalar <= the field
    # above, which is then only the capacity: cache slots, output columns), so one compiled loop
    # serves every max_new_tokens of its bucket (generate() does this; see new_tokens_bucket)
    max_new_tokens_as_input: bool = False

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise InvalidInputError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}.")
        for field in fields(self):  # lists from a JSON config become tuples: the settings must hash
            object.__setattr__(self, field.name, _frozen(getattr(self, field.name)))

    @classmethod
    def resolve(
        cls, config, prompt_length: int, bucket: int | None = None, logits_processor=(), stop_criteria=()
    ) -> "DecodeSettings":
        """The settings ``config`` (a validated GenerationConfig, kwargs applied) asks for.

        ``max_new_tokens`` comes from the config, else ``max_length - prompt_length``; the pad id
        falls back to the first eos id (with transformers' warning); ``bucket`` defaults to
        ``prompt_bucket(prompt_length)``.

        Example:
            >>> DecodeSettings.resolve(GenerationConfig(max_length=20, num_beams=4), prompt_length=7).max_new_tokens
            13
        """
        if config.max_new_tokens is not None:
            max_new_tokens = config.max_new_tokens
            if (
                not isinstance(max_new_tokens, (int, np.integer))
                or isinstance(max_new_tokens, bool)
                or max_new_tokens < 1
            ):
                raise InvalidInputError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}.")
            max_new_tokens = int(max_new_tokens)
        else:
            max_new_tokens = int(config.max_length) - prompt_length
            if max_new_tokens < 1:
                raise InvalidInputError(
                    f"Nothing to generate: the prompt has {prompt_length} tokens and max_length is "
                    f"{config.max_length}. Pass max_new_tokens=N (or a larger max_length)."
                )
        eos = tuple(config.eos_token_ids)
        pad = config.pad_token_id
        if pad is None and eos:
            pad = eos[0]  # as transformers does, with the same warning
            logger.warning(f"Setting pad_token_id to eos_token_id:{pad} for open-end generation.")
        if config.num_beams > 1:
            if config.do_sample:
                raise NotSupportedError("Beam sampling (num_beams > 1 with do_sample=True) is not implemented.")
            strategy = "beam"
        else:
            strategy = "sample" if config.do_sample else "greedy"
        sampling, beam = strategy == "sample", strategy == "beam"
        return cls(
            strategy=strategy,
            max_new_tokens=max_new_tokens,
            bucket=prompt_bucket(prompt_length) if bucket is None else int(bucket),
            eos_token_ids=eos,
            pad_token_id=pad,
            num_beams=int(config.num_beams),
            num_return_sequences=int(config.num_return_sequences),
            length_penalty=float(config.length_penalty) if beam else None,
            early_stopping=config.early_stopping if beam else None,
            repetition_penalty=config.repetition_penalty,
            no_repeat_ngram_size=config.no_repeat_ngram_size,
            bad_words_ids=config.bad_words_ids,
            min_length=config.min_length,
            min_new_tokens=config.min_new_tokens,
            forced_bos_token_id=config.forced_bos_token_id,
            forced_eos_token_id=config.forced_eos_token_id,
            # the warpers only run when sampling: greedy loops compile alike whatever they say
            temperature=config.temperature if sampling else None,
            top_k=config.top_k if sampling else None,
            top_p=config.top_p if sampling else None,
            min_p=config.min_p if sampling else None,
            return_dict_in_generate=bool(getattr(config, "return_dict_in_generate", False)),
            output_scores=bool(
                getattr(config, "return_dict_in_generate", False) and getattr(config, "output_scores", False)
            ),
            output_logits=bool(
                getattr(config, "return_dict_in_generate", False) and getattr(config, "output_logits", False)
            ),
            logits_processor=tuple(logits_processor),
            stop_criteria=tuple(stop_criteria),
        )

    @property
    def sampling(self) -> bool:
        return self.strategy == "sample"

    @property
    def rows(self) -> int:
        """How many times each prompt is decoded: its beams, or its returned samples."""
        return self.num_beams if self.strategy == "beam" else self.num_return_sequences

    def logits_processors(self, prompt_length, max_new_tokens=None) -> LogitsProcessorList:
        """The processors (and warpers when sampling) for a prompt of ``prompt_length`` columns.

        ``max_new_tokens``: the call's (a tensor when the loop takes it as an input), else the field.
        """
        return build_logits_processors(
            self,
            prompt_length,
            prompt_length + (self.max_new_tokens if max_new_tokens is None else max_new_tokens),
            self.sampling,
            custom=[CallerProcessor(p) for p in self.logits_processor],
        )


# ---------------------------------------------------------------------------------- the builder
def build_decode_loop(model, settings: DecodeSettings, batch_size: int | None = None, jit_compile: bool = True):
    """The compiled decode loop ``(ids, mask, prompt_length, seed) -> (sequences, steps)``.

    Inputs: ``ids`` and ``mask`` int32 of shape ``(batch_size, settings.bucket)``, the prompts
    left-padded to the bucket (each prompt repeated ``settings.rows`` times, consecutively);
    ``prompt_length`` int32 scalar, the prompts' width before bucket padding (bucket padding must
    be masked out); ``seed`` int32 ``(2,)``, used when sampling. One ``tf.function`` runs the
    prefill then a ``tf.while_loop`` over a static KV cache of ``bucket + max_new_tokens`` slots.

    Outputs: ``sequences`` int32 ``(batch_size // rows * num_return_sequences,
    bucket + max_new_tokens)``, the bucket-padded prompt then the new tokens (``pad_token_id`` after
    a row's eos); ``steps`` int32 scalar, how many of the new columns were written.
    With ``settings.return_dict_in_generate`` it returns a dict instead: ``sequences``, ``steps``,
    ``iterations`` (loop steps run), ``scores`` / ``logits`` ``(max_new_tokens, rows, vocab)`` when
    asked (written per step inside the loop), and for beam search ``sequences_scores`` and
    ``beam_indices`` ``(returned rows, max_new_tokens)``.

    ``batch_size=None`` leaves the batch dynamic (XLA still compiles once per batch size it sees);
    ``jit_compile=False`` returns the plain Python function, run eagerly (slow; for debugging).

    With ``settings.max_new_tokens_as_input`` the loop takes a fifth input, the call's
    ``max_new_tokens`` (int32 scalar, at most ``settings.max_new_tokens``, which then only sizes the
    cache and the outputs): ``generate()`` builds its loops this way for :func:`new_tokens_bucket`
    buckets, so one program serves every ``max_new_tokens`` of a bucket.

    Example:
        >>> settings = DecodeSettings.resolve(model.generation_config.update(max_new_tokens=8), prompt_length=3)
        >>> loop = build_decode_loop(model, settings, batch_size=1)
        >>> ids = tf.constant([[0] * 13 + [5, 6, 7]]); mask = tf.constant([[0] * 13 + [1, 1, 1]])
        >>> sequences, steps = loop(ids, mask, tf.constant(3), tf.constant([0, 0]))
        >>> new_tokens = sequences[:, settings.bucket:settings.bucket + int(steps)]
    """
    loop = _beam_search_loop if settings.strategy == "beam" else _sample_loop

    def decode(ids, mask, prompt_length, seed, max_new_tokens=None):
        out = loop(model, settings, ids, mask, prompt_length, seed, max_new_tokens)
        if settings.return_dict_in_generate:
            return out
        return out["sequences"], out["steps"]

    if not jit_compile:
        return decode
    prompts = tf.TensorSpec((batch_size, settings.bucket), tf.int32)
    signature = [prompts, prompts, tf.TensorSpec((), tf.int32), tf.TensorSpec((2,), tf.int32)]
    if settings.max_new_tokens_as_input:
        signature.append(tf.TensorSpec((), tf.int32))
    # The loop and the models use tf.while_loop / tf.cond themselves: autograph would only rewrite
    # their source at trace time (about half of the tracing). A caller's processors or stopping
    # criteria may hold Python `if`s on tensors, so those loops keep it.
    caller_code = bool(settings.logits_processor or settings.stop_criteria)
    return compile_once(decode, input_signature=signature, autograph=caller_code)


def build_stream_steps(model, settings: DecodeSettings, jit_compile: bool = True, compile_step: bool = True):
    """The pieces of the loop a caller drives from Python: ``(prefill, step, forward)``.

    ``prefill(ids, mask)`` and ``forward(token, slot_mask, positions, cache, cache_position)`` run
    the model; ``step(step, logits, buffer, unfinished, mask, prompt_length, seed)`` is the
    compiled loop's own token step (:func:`_decode_step`, returning the token, the buffer, the
    unfinished rows and the processed scores), so the tokens are the same. ``compile_step=False``
    runs the step eagerly (for processors that only run in Python).

    Example:
        >>> prefill, step, forward = build_stream_steps(model, settings)
    """

    def prefill(ids, mask):
        return _prefill(model, ids, mask, settings.max_new_tokens)

    def step(step, logits, buffer, unfinished, mask, prompt_length, seed):
        processors = settings.logits_processors(prompt_length)
        return _decode_step(settings, processors, step, logits, buffer, unfinished, mask, prompt_length, seed)

    def forward(token, slot_mask, positions, cache, cache_position):
        return _forward(model, token[:, None], slot_mask, positions[:, None], cache, cache_position)

    wrap = compile_once if jit_compile else (lambda f: f)
    return wrap(prefill), wrap(step) if compile_step else step, wrap(forward)


def compile_once(function, input_signature=None, autograph: bool = True):
    """``tf.function(function, jit_compile=True)`` for a function built per settings and traced once.

    Every loop this module builds comes from the same Python source, and TensorFlow counts traces
    per source function: a few ``generate()`` calls with new settings would print its "N out of the
    last M calls to ... triggered tf.function retracing" warning, although each loop is built once,
    cached and traced once by design. The flag TensorFlow itself sets on functions it restores from
    a SavedModel keeps that warning off these functions only; a caller's own tf.functions still warn.
    ``autograph=False`` traces the Python as written (faster), for code without Python control flow
    on tensors.

    Example:
        >>> step = compile_once(lambda x: x + 1)
        >>> int(step(tf.constant(1)))
        2
    """
    compiled = tf.function(function, jit_compile=True, input_signature=input_signature, autograph=autograph)
    compiled._omit_frequent_tracing_warning = True
    return compiled


# ---------------------------------------------------------------------------------- shared pieces
def _forward(model, ids, slot_mask, positions, cache, cache_position):
    out = model(
        ids,
        attention_mask=slot_mask,
        position_ids=positions,
        past_key_values=cache,
        cache_position=cache_position,
        logits_to_keep=1,
        training=False,
    )
    return tf.cast(out.logits[:, -1, :], tf.float32), tuple(out.past_key_values)


def _prefill(model, ids, mask, max_new_tokens):
    """Run the prompt through the model; returns logits, cache, slot mask and next positions."""
    rows, bucket = tf.shape(ids)[0], ids.shape[1]
    # a static batch where there is one; a dynamic one in exported graphs
    cache = model.init_cache(ids.shape[0] if ids.shape[0] is not None else rows, bucket + max_new_tokens)
    # generated slots are all real tokens; causality keeps queries off the unwritten ones
    slot_mask = tf.concat([mask, tf.ones((rows, max_new_tokens), tf.int32)], axis=1)
    positions = tf.cumsum(mask, axis=1) - 1
    positions = tf.where(mask == 0, 0, positions)  # transformers' position_ids for padding
    logits, cache = _forward(model, ids, slot_mask, positions, cache, tf.constant(0, tf.int32))
    next_position = tf.reduce_sum(mask, axis=1)
    return logits, cache, slot_mask, next_position


def _context(mask, bucket, step, prompt_length):
    offset = bucket - prompt_length
    # each row's first real column at or after the offset (the offset if it has none); a mask, not
    # mask[:, offset:], whose shape would make XLA compile the loop again for every prompt length
    real = (mask != 0) & (tf.range(bucket)[None, :] >= offset)
    found = tf.cast(tf.argmax(tf.cast(real, tf.int32), axis=1), tf.int32)
    first = tf.where(tf.reduce_any(real, axis=1), found, offset)
    return DecodeContext(length=bucket + step, offset=offset, first_token=first, prompt_length=prompt_length)


def choose_tokens(scores, sampling: bool, seed, step):
    """argmax of processed ``scores`` (batch, vocab), or a sample from their softmax when ``sampling``.

    Sampling is Gumbel-max, stateless: the draw depends only on ``seed`` and ``step``.

    Example:
        >>> choose_tokens(tf.math.log([[0.5, 0.3, 0.2]]), True, tf.constant([7, 7]), tf.constant(0))
    """
    if not sampling:
        return tf.argmax(scores, axis=-1, output_type=tf.int32)
    # Gumbel-max: argmax(scores + Gumbel noise) is a sample from softmax(scores)
    step_seed = tf.random.experimental.stateless_fold_in(seed, step)
    uniform = tf.random.stateless_uniform(tf.shape(scores), seed=step_seed, minval=1e-20, maxval=1.0)
    return tf.argmax(scores - tf.math.log(-tf.math.log(uniform)), axis=-1, output_type=tf.int32)


def stop_in_loop(settings, tokens, first_column, length):
    """(rows,) bool: which rows the compiled stopping criteria (stop strings) end."""
    done = tf.zeros((tf.shape(tokens)[0],), tf.bool)
    for criterion in settings.stop_criteria:
        done |= criterion.stop_in_loop(tokens, first_column, length)
    return done


def _decode_step(settings, processors, step, logits, buffer, unfinished, mask, prompt_length, seed):
    """The greedy/sampling token step: choose, pad finished rows, write column ``bucket + step``.

    The one implementation for the compiled loop and the step-by-step path; returns the token,
    the buffer, the still unfinished rows and the processed scores the token was chosen from.
    """
    context = _context(mask, settings.bucket, step, prompt_length)
    scores = processors(buffer, logits, context)
    token = choose_tokens(scores, settings.sampling, seed, step)
    if settings.pad_token_id is not None:
        token = tf.where(unfinished, token, settings.pad_token_id)
    buffer = _write_column(buffer, token, settings.bucket + step)
    for eos in settings.eos_token_ids:
        unfinished &= token != eos
    if settings.stop_criteria:
        unfinished &= ~stop_in_loop(settings, buffer, context.offset, settings.bucket + step + 1)
    return token, buffer, unfinished, scores


def _record(buffer, values, step):
    """buffer[step] = values for a (steps, rows, vocab) buffer."""
    return ops.slice_update(buffer, (step, 0, 0), tf.cast(values, buffer.dtype)[None])


# ---------------------------------------------------------------------------------- greedy / sampling
def _sample_loop(model, settings, ids, mask, prompt_length, seed, max_new_tokens=None):
    """Greedy or multinomial decoding, all inside one graph (``max_new_tokens``: see build_decode_loop)."""
    max_new, bucket = settings.max_new_tokens, settings.bucket  # the capacity
    limit = max_new if max_new_tokens is None else max_new_tokens  # the call's
    processors = settings.logits_processors(prompt_length, limit)
    logits, cache, slot_mask, next_position = _prefill(model, ids, mask, max_new)
    rows = tf.shape(ids)[0]
    buffer = tf.concat([ids, tf.zeros((rows, max_new), tf.int32)], axis=1)
    unfinished = tf.ones((rows,), tf.bool)
    # per-step outputs, only when asked: the scores (processed) and logits (raw) of each step
    names = [n for n, on in (("scores", settings.output_scores), ("logits", settings.output_logits)) if on]
    records = tuple(tf.zeros((max_new, rows, logits.shape[-1]), tf.float32) for _ in names)

    def pick(step, logits, buffer, unfinished, records):
        token, buffer, unfinished, scores = _decode_step(
            settings, processors, step, logits, buffer, unfinished, mask, prompt_length, seed
        )
        values = {"scores": scores, "logits": logits}
        records = tuple(_record(r, values[n], step) for r, n in zip(records, names))
        return token, buffer, unfinished, records

    token, buffer, unfinished, records = pick(tf.constant(0), logits, buffer, unfinished, records)

    def cond(step, token, buffer, unfinished, cache, records):
        return (step < limit) & tf.reduce_any(unfinished)

    def body(step, token, buffer, unfinished, cache, records):
        logits, cache = _forward(
            model, token[:, None], slot_mask, (next_position + step - 1)[:, None], cache, bucket + step - 1
        )
        token, buffer, unfinished, records = pick(step, logits, buffer, unfinished, records)
        return step + 1, token, buffer, unfinished, cache, records

    step, _, buffer, _, _, records = tf.while_loop(
        cond, body, (tf.constant(1), token, buffer, unfinished, cache, records)
    )
    return {"sequences": buffer, "steps": step, "iterations": step, **dict(zip(names, records))}


# ---------------------------------------------------------------------------------- beam search
class BeamState(NamedTuple):
    """Beam search's loop variables (``batch`` prompts x ``beams``; ``total = bucket + max_new_tokens``)."""

    step: Any  # () int32: tokens generated so far
    going: Any  # () bool: some beam may still improve the finished set
    logits: Any  # (batch * beams, vocab): next-token logits of the running beams
    cache: Any  # the KV cache, its rows following the running beams
    running: Any  # (batch, beams, total): the running beams' tokens
    running_scores: Any  # (batch, beams): their summed log-probabilities
    sequences: Any  # (batch, beams, total): the finished hypotheses, best first
    beam_scores: Any  # (batch, beams): their length-penalised scores (-1e9: empty slot)
    finished: Any  # (batch, beams) bool: which hypothesis slots are filled
    lengths: Any  # (batch, beams) int32: generated tokens of each finished hypothesis
    heuristic_open: Any  # (batch, 1) bool: may a running beam still beat the worst finished one?
    running_indices: Any  # (batch, beams, max_new_tokens): the row each running beam's tokens came from
    indices: Any  # (batch, beams, max_new_tokens): the same for the finished hypotheses (-1: none)
    records: Any  # (max_new_tokens, batch * beams, vocab) buffers of the asked per-step scores / logits


def _gather_beams(tensor, indices):
    """tensor (batch, beams, ...) -> rows ``indices`` (batch, k) of each batch's beams."""
    return tf.gather(tensor, indices, axis=1, batch_dims=1)


def _beam_search_loop(model, settings, ids, mask, prompt_length, seed, max_new_tokens=None):
    """Beam search as transformers runs it (same candidates, scores, finishing and stopping rules)."""
    eos, pad = list(settings.eos_token_ids), settings.pad_token_id
    max_new, bucket = settings.max_new_tokens, settings.bucket  # the capacity
    limit = max_new if max_new_tokens is None else max_new_tokens  # the call's
    num_beams = settings.num_beams
    rows = ids.shape[0]
    batch = rows // num_beams
    length_penalty = settings.length_penalty
    early_stopping = settings.early_stopping
    keep = max(2, 1 + len(eos)) * num_beams  # candidates per batch entry
    total = bucket + max_new
    fill = (pad if pad else eos[0]) if eos else -1
    processors = settings.logits_processors(prompt_length, limit)
    top_mask = tf.range(keep) < num_beams
    batch_offset = tf.range(batch)[:, None] * num_beams

    def search_step(state: BeamState):
        """Choose the next beams; returns the new state (cache and logits not yet moved), rows, tokens."""
        step = state.step
        cur_len = prompt_length + step  # transformers' cur_len before this token
        flat_running = tf.reshape(state.running, (rows, total))
        context = _context(mask, bucket, step, prompt_length)
        log_probs = processors(flat_running, tf.nn.log_softmax(state.logits, axis=-1), context)
        values = {"scores": log_probs, "logits": state.logits}
        records = tuple(_record(r, values[n], step) for r, n in zip(state.records, names))
        vocab = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, (batch, num_beams, vocab)) + state.running_scores[:, :, None]
        log_probs = tf.reshape(log_probs, (batch, num_beams * vocab))
        top_scores, top_indices = tf.math.top_k(log_probs, k=keep)
        source_beam = top_indices // vocab
        tokens = top_indices % vocab
        candidates = _gather_beams(state.running, source_beam)
        candidates = _write_column3(candidates, tokens, bucket + step)
        candidate_indices = _write_column3(
            _gather_beams(state.running_indices, source_beam), source_beam + batch_offset, step
        )
        hits = tf.fill((batch, keep), step + 1 >= limit)  # max_length reached
        for e in eos:
            hits |= tokens == e
        if settings.stop_criteria:
            flat = tf.reshape(candidates, (batch * keep, total))
            stopped = stop_in_loop(settings, flat, context.offset, bucket + step + 1)
            hits |= tf.reshape(stopped, (batch, keep))
        # running beams: the best candidates that did not stop
        running_candidates = top_scores + tf.cast(hits, tf.float32) * -1e9
        next_beams = tf.math.top_k(running_candidates, k=num_beams).indices
        running = _gather_beams(candidates, next_beams)
        running_scores = _gather_beams(running_candidates, next_beams)
        running_indices = _gather_beams(candidate_indices, next_beams)
        # finished beams: merge the top num_beams candidates that stopped into the finished set
        just_finished = hits & top_mask[None, :]
        normalised = top_scores / tf.cast(cur_len + 1 - prompt_length, tf.float32) ** length_penalty
        if early_stopping is True:
            full = tf.reduce_all(state.finished, axis=-1, keepdims=True)
            normalised += tf.cast(full, tf.float32) * -1e9
        normalised += tf.cast(~state.heuristic_open, tf.float32) * -1e9
        normalised += tf.cast(~just_finished, tf.float32) * -1e9
        merged_sequences = tf.concat([state.sequences, candidates], axis=1)
        merged_scores = tf.concat([state.beam_scores, normalised], axis=1)
        merged_finished = tf.concat([state.finished, just_finished], axis=1)
        merged_lengths = tf.concat([state.lengths, tf.fill((batch, keep), step + 1)], axis=1)
        merged_indices = tf.concat([state.indices, candidate_indices], axis=1)
        best = tf.math.top_k(merged_scores, k=num_beams).indices
        indices = _gather_beams(merged_indices, best)
        sequences = _gather_beams(merged_sequences, best)
        beam_scores = _gather_beams(merged_scores, best)
        finished = _gather_beams(merged_finished, best)
        lengths = _gather_beams(merged_lengths, best)
        # the cache follows the beams that keep running
        cache_rows = tf.reshape(_gather_beams(source_beam, next_beams) + batch_offset, (-1,))
        next_tokens = tf.reshape(_gather_beams(tokens, next_beams), (-1,))
        # could a running beam still beat the worst finished one?
        new_len = cur_len + 1
        if early_stopping == "never" and length_penalty > 0.0:
            best_length = prompt_length + limit - prompt_length
        else:
            best_length = new_len - prompt_length
        best_running = running_scores[:, :1] / tf.cast(best_length, tf.float32) ** length_penalty
        worst_finished = tf.where(finished, tf.reduce_min(beam_scores, axis=1, keepdims=True), -1e9)
        heuristic_open = state.heuristic_open & tf.reduce_any(best_running > worst_finished, axis=-1, keepdims=True)
        going = tf.reduce_any(heuristic_open) & ~tf.reduce_all(hits)
        if early_stopping is True:
            going &= ~tf.reduce_all(finished)
        state = state._replace(
            going=going,
            running=running,
            running_scores=running_scores,
            sequences=sequences,
            beam_scores=beam_scores,
            finished=finished,
            lengths=lengths,
            heuristic_open=heuristic_open,
            running_indices=running_indices,
            indices=indices,
            records=records,
        )
        return state, cache_rows, next_tokens

    logits, cache, slot_mask, next_position = _prefill(model, ids, mask, max_new)
    names = [n for n, on in (("scores", settings.output_scores), ("logits", settings.output_logits)) if on]
    buffer = tf.concat([ids, tf.fill((rows, max_new), tf.constant(fill, tf.int32))], axis=1)
    running = tf.reshape(buffer, (batch, num_beams, total))
    initial = BeamState(
        step=tf.constant(0),
        going=tf.constant(True),
        logits=logits,
        cache=cache,
        running=running,
        running_scores=tf.concat([tf.zeros((batch, 1)), tf.fill((batch, num_beams - 1), -1e9)], axis=1),
        sequences=running,
        beam_scores=tf.fill((batch, num_beams), -1e9),
        finished=tf.zeros((batch, num_beams), tf.bool),
        lengths=tf.zeros((batch, num_beams), tf.int32),
        heuristic_open=tf.ones((batch, 1), tf.bool),
        running_indices=tf.fill((batch, num_beams, max_new), -1),
        indices=tf.fill((batch, num_beams, max_new), -1),
        records=tuple(tf.zeros((max_new, rows, logits.shape[-1]), tf.float32) for _ in names),
    )

    def cond(state):
        return (state.step < limit) & state.going

    def body(state):
        step, logits = state.step, state.logits
        state, cache_rows, next_tokens = search_step(state)
        cache = tuple((tf.gather(k, cache_rows), tf.gather(v, cache_rows)) for k, v in state.cache)
        moved_mask = tf.gather(slot_mask, cache_rows)

        def advance():
            return _forward(
                model, next_tokens[:, None], moved_mask, (next_position + step)[:, None], cache, bucket + step
            )

        # the last step needs no forward pass
        logits, cache = tf.cond(state.going & (step + 1 < limit), advance, lambda: (logits, cache))
        return (state._replace(step=step + 1, logits=logits, cache=cache),)

    (final,) = tf.while_loop(cond, body, (initial,))
    returned = settings.num_return_sequences
    sequences = tf.reshape(final.sequences[:, :returned], (batch * returned, total))
    generated = tf.reduce_max(final.lengths[:, :returned])
    out = {"sequences": sequences, "steps": generated, "iterations": final.step, **dict(zip(names, final.records))}
    out["sequences_scores"] = tf.reshape(final.beam_scores[:, :returned], (batch * returned,))
    out["beam_indices"] = tf.reshape(final.indices[:, :returned], (batch * returned, max_new))
    return out


def _write_column(buffer, token, column):
    """buffer[:, column] = token, as a dynamic-update-slice XLA does in place."""
    return ops.slice_update(buffer, (0, column), token[:, None])


def _write_column3(tensor, token, column):
    """tensor[:, :, column] = token for a (batch, beams, columns) tensor."""
    return ops.slice_update(tensor, (0, 0, column), token[:, :, None])
