"""Logits processors and warpers, in TensorFlow, usable inside an XLA-compiled decoding loop.

Each one matches the transformers processor of the same name. They all take
``(input_ids, scores, context=None)``:

- ``input_ids`` (batch, columns): the tokens so far. Inside ``generate()`` it is a static
  buffer wider than the tokens written; ``context`` then says which columns count.
- ``scores`` (batch, vocab) float32: the next-token logits (log-probabilities in beam search).
- ``context``: a :class:`DecodeContext` or None (then every column of ``input_ids`` counts,
  which is exactly transformers' calling convention).

Example:
    >>> processor = RepetitionPenaltyLogitsProcessor(1.3)
    >>> new_scores = processor(tf.constant([[5, 7]]), tf.random.normal((1, 100)))
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from kerasformers.errors import InvalidInputError, NotSupportedError

NEG_INF = float("-inf")


@dataclass
class DecodeContext:
    """Where the tokens are inside ``generate()``'s static buffer (all int32 tensors or ints).

    - ``length``: columns written so far (the next token goes to column ``length``).
    - ``offset``: the first column transformers would see; columns before it are bucket padding.
    - ``first_token`` (batch,): each row's first non-pad column (repetition penalty skips padding).
    - ``prompt_length``: the prompt's width as given (padding included).
    """

    length: Any
    offset: Any = 0
    first_token: Any = None
    prompt_length: Any = None

    @classmethod
    def of(cls, input_ids, context: "DecodeContext | None") -> "DecodeContext":
        if context is not None:
            return context
        length = tf.shape(input_ids)[1]
        return cls(
            length=length, offset=0, first_token=tf.zeros((tf.shape(input_ids)[0],), tf.int32), prompt_length=length
        )

    def cur_len(self):
        """transformers' ``input_ids.shape[-1]``."""
        return self.length - self.offset


def _columns(input_ids):
    return tf.range(tf.shape(input_ids)[1], dtype=tf.int32)[None, :]


def token_mask(input_ids, counted, vocab_size):
    """(batch, vocab) bool: which tokens occur in ``input_ids`` where ``counted`` is true."""
    batch, columns = tf.shape(input_ids)[0], tf.shape(input_ids)[1]
    rows = tf.broadcast_to(tf.range(batch)[:, None], (batch, columns))
    ids = tf.clip_by_value(tf.cast(input_ids, tf.int32), 0, vocab_size - 1)
    indices = tf.reshape(tf.stack([rows, ids], axis=-1), (-1, 2))
    updates = tf.reshape(tf.broadcast_to(tf.cast(counted, tf.int32), (batch, columns)), (-1,))
    return tf.tensor_scatter_nd_max(tf.zeros((batch, vocab_size), tf.int32), indices, updates) > 0


class LogitsProcessor:
    """Base class: ``processor(input_ids, scores, context=None) -> scores``."""

    def __call__(self, input_ids, scores, context: DecodeContext | None = None):
        raise NotImplementedError


class LogitsProcessorList(list):
    """Apply processors in order.

    Example:
        >>> processors = LogitsProcessorList([TemperatureLogitsWarper(0.7), TopKLogitsWarper(50)])
        >>> scores = processors(input_ids, scores)
    """

    def __call__(self, input_ids, scores, context: DecodeContext | None = None):
        for processor in self:
            scores = processor(input_ids, scores, context)
        return scores


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Divide the positive (multiply the negative) logits of tokens already present by ``penalty``.

    Left padding is not counted, as in transformers (``prompt_ignore_length``).
    """

    def __init__(self, penalty: float):
        if not penalty > 0:
            raise InvalidInputError(f"repetition_penalty must be > 0, got {penalty}.")
        self.penalty = float(penalty)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        columns = _columns(input_ids)
        counted = (columns >= context.first_token[:, None]) & (columns < context.length) & (columns >= context.offset)
        present = token_mask(input_ids, counted, tf.shape(scores)[-1])
        penalised = tf.where(scores < 0, scores * self.penalty, scores / self.penalty)
        return tf.where(present, penalised, scores)


class NoRepeatNGramLogitsProcessor(LogitsProcessor):
    """Ban every token that would repeat an n-gram already in the sequence (padding included)."""

    def __init__(self, ngram_size: int):
        if not isinstance(ngram_size, int) or ngram_size <= 0:
            raise InvalidInputError(f"no_repeat_ngram_size must be a positive integer, got {ngram_size!r}.")
        self.n = ngram_size

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        n, columns = self.n, tf.shape(input_ids)[1]
        if input_ids.shape[1] is not None and input_ids.shape[1] < n:
            return scores  # no n-gram fits yet
        if n == 1:  # every token already present is banned
            cols = _columns(input_ids)
            counted = (cols >= context.offset) & (cols < context.length)
            return tf.where(token_mask(input_ids, counted, tf.shape(scores)[-1]), NEG_INF, scores)
        windows = columns - n + 1  # n-gram start columns 0 .. windows-1
        starts = tf.range(windows, dtype=tf.int32)[None, :]
        # an n-gram counts if it lies wholly inside the seen columns
        inside = (starts >= context.offset) & (starts + n <= context.length)
        matches = inside
        for k in range(n - 1):
            last_k = tf.gather(input_ids, tf.maximum(context.length - (n - 1) + k, 0), axis=1)
            matches &= input_ids[:, k : k + windows] == last_k[:, None]
        banned = token_mask(input_ids[:, n - 1 : n - 1 + windows], matches, tf.shape(scores)[-1])
        banned &= context.cur_len() + 1 >= n
        return tf.where(banned, NEG_INF, scores)


class MinLengthLogitsProcessor(LogitsProcessor):
    """Forbid EOS while the sequence (prompt and padding included) is shorter than ``min_length``."""

    def __init__(self, min_length: int, eos_token_id):
        self.min_length = int(min_length)
        self.eos = _as_list(eos_token_id)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        return _ban(scores, self.eos, context.cur_len() < self.min_length)


class MinNewTokensLengthLogitsProcessor(LogitsProcessor):
    """Forbid EOS until ``min_new_tokens`` tokens follow the prompt of ``prompt_length_to_skip``."""

    def __init__(self, prompt_length_to_skip: int, min_new_tokens: int, eos_token_id):
        self.prompt_length = prompt_length_to_skip
        self.min_new_tokens = int(min_new_tokens)
        self.eos = _as_list(eos_token_id)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        new_tokens = context.cur_len() - self.prompt_length
        return _ban(scores, self.eos, new_tokens < self.min_new_tokens)


class NoBadWordsLogitsProcessor(LogitsProcessor):
    """Never produce the token sequences in ``bad_words_ids`` (the last token is banned after the rest)."""

    def __init__(self, bad_words_ids, eos_token_id=None):
        eos = _as_list(eos_token_id)
        if not isinstance(bad_words_ids, (list, tuple)) or not all(
            isinstance(w, (list, tuple)) and w and all(isinstance(t, int) and t >= 0 for t in w) for w in bad_words_ids
        ):
            raise InvalidInputError(
                f"bad_words_ids must be a list of non-empty lists of token ids, got {bad_words_ids!r}."
            )
        # transformers lets EOS through even if it is listed alone
        self.bad_words = [list(w) for w in bad_words_ids if not (len(w) == 1 and w[0] in eos)]

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        for word in self.bad_words:
            prefix, last = word[:-1], word[-1]
            if not prefix:
                scores = _ban(scores, [last], tf.constant(True))
                continue
            match = tf.fill((tf.shape(input_ids)[0],), context.cur_len() > len(prefix))
            for k, token in enumerate(prefix):
                column = tf.maximum(context.length - len(prefix) + k, 0)
                match &= tf.gather(input_ids, column, axis=1) == token
            scores = _ban(scores, [last], match[:, None])
        return scores


class ForcedBOSTokenLogitsProcessor(LogitsProcessor):
    """Force ``bos_token_id`` as the token after a one-token sequence."""

    def __init__(self, bos_token_id: int):
        self.bos = int(bos_token_id)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        return _force(scores, [self.bos], context.cur_len() == 1)


class ForcedEOSTokenLogitsProcessor(LogitsProcessor):
    """Force EOS (any of them) as the last token when ``max_length`` is reached."""

    def __init__(self, max_length: int, eos_token_id):
        self.max_length = max_length
        self.eos = _as_list(eos_token_id)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        return _force(scores, self.eos, context.cur_len() == self.max_length - 1)


class TemperatureLogitsWarper(LogitsProcessor):
    """scores / temperature."""

    def __init__(self, temperature: float):
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise InvalidInputError(f"temperature must be a strictly positive float, got {temperature!r}.")
        self.temperature = float(temperature)

    def __call__(self, input_ids, scores, context=None):
        return scores / self.temperature


class TopKLogitsWarper(LogitsProcessor):
    """Keep the ``top_k`` highest logits (ties with the k-th kept too), -inf for the rest."""

    def __init__(self, top_k: int, min_tokens_to_keep: int = 1):
        if not isinstance(top_k, int) or top_k <= 0:
            raise InvalidInputError(f"top_k must be a positive integer, got {top_k!r}.")
        self.top_k = max(top_k, min_tokens_to_keep)

    def __call__(self, input_ids, scores, context=None):
        k = min(self.top_k, scores.shape[-1])
        kth = tf.math.top_k(scores, k=k).values[:, -1:]
        return tf.where(scores < kth, NEG_INF, scores)


def _sorted_ascending(scores):
    """Indices that sort each row ascending, ties in index order (as torch.sort on CPU)."""
    return tf.argsort(scores, axis=-1, direction="ASCENDING", stable=True)


def _scatter_rows(sorted_values, indices):
    """Undo a per-row gather: out[b, indices[b, j]] = sorted_values[b, j]."""
    batch, width = tf.shape(indices)[0], tf.shape(indices)[1]
    rows = tf.broadcast_to(tf.range(batch)[:, None], (batch, width))
    return tf.scatter_nd(tf.stack([rows, indices], axis=-1), sorted_values, tf.shape(indices))


class TopPLogitsWarper(LogitsProcessor):
    """Nucleus sampling: keep the smallest set of tokens whose probability adds up to ``top_p``."""

    def __init__(self, top_p: float, min_tokens_to_keep: int = 1):
        if not 0.0 <= top_p <= 1.0:
            raise InvalidInputError(f"top_p must be in [0, 1], got {top_p}.")
        self.top_p = float(top_p)
        self.min_tokens_to_keep = int(min_tokens_to_keep)

    def __call__(self, input_ids, scores, context=None):
        order = _sorted_ascending(scores)
        sorted_logits = tf.gather(scores, order, batch_dims=1)
        cumulative = tf.cumsum(tf.nn.softmax(sorted_logits, axis=-1), axis=-1)
        remove = cumulative <= (1.0 - self.top_p)
        width = scores.shape[-1]
        keep_last = tf.range(width)[None, :] >= width - self.min_tokens_to_keep
        remove &= ~keep_last
        return tf.where(_scatter_rows(tf.cast(remove, tf.int32), order) > 0, NEG_INF, scores)


class MinPLogitsWarper(LogitsProcessor):
    """Drop tokens whose probability is below ``min_p`` times the top token's probability."""

    def __init__(self, min_p: float, min_tokens_to_keep: int = 1):
        if not 0.0 <= min_p <= 1.0:
            raise InvalidInputError(f"min_p must be in [0, 1], got {min_p}.")
        self.min_p = float(min_p)
        self.min_tokens_to_keep = int(min_tokens_to_keep)

    def __call__(self, input_ids, scores, context=None):
        probs = tf.nn.softmax(scores, axis=-1)
        remove = probs < self.min_p * tf.reduce_max(probs, axis=-1, keepdims=True)
        # the min_tokens_to_keep most likely tokens always stay
        order = tf.argsort(scores, axis=-1, direction="DESCENDING", stable=True)
        first = tf.range(scores.shape[-1])[None, :] < self.min_tokens_to_keep
        keep = _scatter_rows(tf.cast(tf.broadcast_to(first, tf.shape(order)), tf.int32), order) > 0
        return tf.where(remove & ~keep, NEG_INF, scores)


def _as_list(token_ids) -> list[int]:
    if token_ids is None:
        return []
    if isinstance(token_ids, (list, tuple)):
        return [int(t) for t in token_ids]
    if hasattr(token_ids, "tolist"):
        value = token_ids.tolist()
        return [int(t) for t in value] if isinstance(value, list) else [int(value)]
    return [int(token_ids)]


def _vocab_hits(scores, tokens):
    vocab = tf.range(tf.shape(scores)[-1], dtype=tf.int32)[None, :]
    hit = tf.zeros_like(vocab, dtype=tf.bool)
    for token in tokens:
        hit |= vocab == token
    return hit


def _ban(scores, tokens, condition):
    """-inf on ``tokens`` where ``condition`` (scalar or (batch, 1)) holds."""
    if not tokens:
        return scores
    return tf.where(_vocab_hits(scores, tokens) & condition, NEG_INF, scores)


def _force(scores, tokens, condition):
    """Where ``condition`` holds: 0 on ``tokens``, -inf elsewhere."""
    if not tokens:
        return scores
    forced = tf.where(_vocab_hits(scores, tokens), 0.0, NEG_INF)
    return tf.where(condition, tf.broadcast_to(forced, tf.shape(scores)), scores)


def processor_style(processor) -> str:
    """How ``generate()`` calls a caller's processor, read from its ``__call__``.

    ``"context"``: kerasformers' own ``(input_ids, scores, context)``; ``"cur_len"``: TF-side
    transformers' ``(input_ids, scores, cur_len)`` (runs in the compiled loop); ``"python"``: the
    PyTorch-side ``(input_ids, scores)`` on the real tokens (the loop then runs step by step).

    Example:
        >>> processor_style(TemperatureLogitsWarper(0.7)), processor_style(lambda input_ids, scores: scores)
        ('context', 'python')
    """
    if type(processor).__module__ == __name__:
        return "context"
    call = processor if inspect.isfunction(processor) else processor.__call__
    names = [
        p.name
        for p in inspect.signature(call).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(names) >= 3:
        return "context" if names[2] == "context" else "cur_len"
    return "python"


class CallerProcessor(LogitsProcessor):
    """A caller's processor inside ``generate()``: hands it the tokens the way its ``__call__`` expects.

    Inside the loop ``input_ids`` is a static buffer behind bucket padding; a ``cur_len`` processor
    gets it rotated so the tokens start at column 0 (TF-side transformers' layout), a ``python``
    one gets exactly the tokens so far (eager only: ``generate()`` steps such loops from Python).

    Example:
        >>> CallerProcessor(TFTopKLogitsWarper(5))(buffer, scores, context)
    """

    def __init__(self, processor):
        self.processor = processor
        self.style = processor_style(processor)

    def __call__(self, input_ids, scores, context=None):
        context = DecodeContext.of(input_ids, context)
        if self.style == "context":
            return self.processor(input_ids, scores, context)
        width = tf.shape(input_ids)[1]
        ids = tf.gather(input_ids, (tf.range(width) + context.offset) % width, axis=1)
        if self.style == "cur_len":
            out = self.processor(ids, scores, context.cur_len())
        else:
            if not tf.executing_eagerly():
                raise NotSupportedError(
                    f"{type(self.processor).__name__}.__call__(input_ids, scores) needs the real token count, which "
                    "a compiled loop does not have: write it as __call__(input_ids, scores, cur_len) in TF ops "
                    "(TFLogitsProcessor) to compile it."
                )
            out = self.processor(ids[:, : int(context.cur_len())], scores)
        return tf.cast(tf.convert_to_tensor(out), scores.dtype)


def build_logits_processors(config, prompt_length, max_length, sampling: bool, custom=()) -> LogitsProcessorList:
    """The processors (and, when sampling, warpers) a GenerationConfig asks for, in transformers' order.

    ``config`` may also be a :class:`~kerasformers.generation.decoding.DecodeSettings` (same field
    names), which is how the decode loop calls it.

    Example:
        >>> build_logits_processors(GenerationConfig(repetition_penalty=1.2), 5, 25, False)
        [<...RepetitionPenaltyLogitsProcessor ...>]
    """
    eos = config.eos_token_ids
    processors = LogitsProcessorList()
    if config.repetition_penalty is not None and config.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(config.repetition_penalty))
    if config.no_repeat_ngram_size:
        processors.append(NoRepeatNGramLogitsProcessor(config.no_repeat_ngram_size))
    if config.bad_words_ids is not None:
        processors.append(NoBadWordsLogitsProcessor(config.bad_words_ids, eos))
    if config.min_length is not None and eos and config.min_length > 0:
        processors.append(MinLengthLogitsProcessor(config.min_length, eos))
    if config.min_new_tokens is not None and eos and config.min_new_tokens > 0:
        processors.append(MinNewTokensLengthLogitsProcessor(prompt_length, config.min_new_tokens, eos))
    if config.forced_bos_token_id is not None:
        processors.append(ForcedBOSTokenLogitsProcessor(config.forced_bos_token_id))
    if config.forced_eos_token_id is not None:
        processors.append(ForcedEOSTokenLogitsProcessor(max_length, config.forced_eos_token_id))
    processors.extend(custom)  # the caller's processors run before the warpers, as in transformers
    if sampling:
        keep = 2 if config.num_beams > 1 else 1  # beam sampling keeps room for the EOS candidates
        if config.temperature is not None and config.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(config.temperature))
        if config.top_k is not None and config.top_k != 0:
            processors.append(TopKLogitsWarper(config.top_k, keep))
        if config.top_p is not None and config.top_p < 1.0:
            processors.append(TopPLogitsWarper(config.top_p, keep))
        if config.min_p is not None:
            processors.append(MinPLogitsWarper(config.min_p, keep))
    return processors
