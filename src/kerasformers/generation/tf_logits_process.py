"""transformers' TensorFlow logits processors (``transformers.generation.tf_logits_process`` in 4.x).

They keep TF-side transformers' constructors and calling convention,
``processor(input_ids, scores, cur_len) -> scores``: ``input_ids`` is a (batch, width) buffer whose
first ``cur_len`` columns are the tokens so far (the rest is unwritten), ``scores`` (batch, vocab).
``cur_len`` may be a Python int or an int32 tensor: every processor here is made of TF ops, so it
also runs inside ``generate()``'s XLA loop. Pass them (or your own subclass written in TF ops) as
``model.generate(..., logits_processor=TFLogitsProcessorList([...]))``.

Example:
    >>> processors = TFLogitsProcessorList([TFRepetitionPenaltyLogitsProcessor(1.2), TFTopKLogitsWarper(20)])
    >>> scores = processors(tf.constant([[5, 7, 0, 0]]), tf.random.normal((1, 100)), cur_len=2)
"""

from __future__ import annotations

import inspect

import numpy as np
import tensorflow as tf

from kerasformers.errors import InvalidInputError

__all__ = [
    "TFLogitsProcessor",
    "TFLogitsWarper",
    "TFLogitsProcessorList",
    "TFTemperatureLogitsWarper",
    "TFTopKLogitsWarper",
    "TFTopPLogitsWarper",
    "TFMinLengthLogitsProcessor",
    "TFRepetitionPenaltyLogitsProcessor",
    "TFNoBadWordsLogitsProcessor",
    "TFNoRepeatNGramLogitsProcessor",
    "TFForcedBOSTokenLogitsProcessor",
    "TFForcedEOSTokenLogitsProcessor",
    "TFSuppressTokensAtBeginLogitsProcessor",
    "TFSuppressTokensLogitsProcessor",
    "TFForceTokensLogitsProcessor",
]

NEG_INF = -float("inf")


class TFLogitsProcessor:
    """Base class of the processors: ``__call__(input_ids, scores, cur_len) -> scores`` in TF ops.

    Example:
        >>> class BanToken(TFLogitsProcessor):
        ...     def __init__(self, token_id):
        ...         self.token_id = token_id
        ...     def __call__(self, input_ids, scores, cur_len):
        ...         return tf.where(tf.range(tf.shape(scores)[-1]) == self.token_id, -float("inf"), scores)
    """

    def __call__(self, input_ids, scores, cur_len):
        raise NotImplementedError(f"{type(self).__name__} is abstract: subclasses implement __call__.")


class TFLogitsWarper:
    """Base class of the sampling warpers (same call as :class:`TFLogitsProcessor`).

    Example:
        >>> class Halve(TFLogitsWarper):
        ...     def __call__(self, input_ids, scores, cur_len):
        ...         return scores / 2.0
    """

    def __call__(self, input_ids, scores, cur_len):
        raise NotImplementedError(f"{type(self).__name__} is abstract: subclasses implement __call__.")


class TFLogitsProcessorList(list):
    """Apply processors in order; extra keyword arguments reach processors whose ``__call__`` takes them.

    Example:
        >>> scores = TFLogitsProcessorList([TFTemperatureLogitsWarper(0.7)])(input_ids, scores, cur_len=5)
    """

    def __call__(self, input_ids, scores, cur_len, **kwargs):
        for processor in self:
            parameters = inspect.signature(processor.__call__).parameters
            if len(parameters) > 3:
                missing = [name for name in list(parameters)[3:] if name not in kwargs]
                if missing:
                    raise InvalidInputError(
                        f"{type(processor).__name__} needs {missing}: pass them to the processor list call."
                    )
                scores = processor(input_ids, scores, cur_len, **kwargs)
            else:
                scores = processor(input_ids, scores, cur_len)
        return scores


def _vocab_positions(scores):
    return tf.range(tf.shape(scores)[-1])[None, :]


def _seen_columns(input_ids, cur_len):
    """(1, width) bool: the columns that hold tokens (the first ``cur_len``)."""
    return tf.range(tf.shape(input_ids)[1])[None, :] < cur_len


def _present_tokens(input_ids, counted, vocab_size):
    """(batch, vocab) bool: which tokens occur in ``input_ids`` where ``counted``."""
    batch, width = tf.shape(input_ids)[0], tf.shape(input_ids)[1]
    rows = tf.broadcast_to(tf.range(batch)[:, None], (batch, width))
    ids = tf.clip_by_value(tf.cast(input_ids, tf.int32), 0, vocab_size - 1)
    indices = tf.reshape(tf.stack([rows, ids], axis=-1), (-1, 2))
    updates = tf.reshape(tf.cast(tf.broadcast_to(counted, (batch, width)), tf.int32), (-1,))
    return tf.tensor_scatter_nd_max(tf.zeros((batch, vocab_size), tf.int32), indices, updates) > 0


def _only(scores, token, value_elsewhere):
    """0 on ``token``, ``value_elsewhere`` on every other entry."""
    return tf.where(
        _vocab_positions(scores) == token, tf.zeros_like(scores), tf.fill(tf.shape(scores), value_elsewhere)
    )


class TFTemperatureLogitsWarper(TFLogitsWarper):
    """Divide the scores by ``temperature`` (a float > 0).

    Example:
        >>> TFTemperatureLogitsWarper(0.5)(ids, tf.constant([[1.0, 2.0]]), 1)  # [[2.0, 4.0]]
    """

    def __init__(self, temperature: float):
        if not isinstance(temperature, float) or not temperature > 0:
            raise InvalidInputError(f"`temperature` has to be a strictly positive float, but is {temperature}")
        self.temperature = temperature

    def __call__(self, input_ids, scores, cur_len):
        return scores / self.temperature


class TFTopKLogitsWarper(TFLogitsWarper):
    """Keep the ``top_k`` highest scores (and ties with the k-th), ``filter_value`` elsewhere.

    Example:
        >>> TFTopKLogitsWarper(1)(ids, tf.constant([[1.0, 3.0, 2.0]]), 1)  # [[-inf, 3.0, -inf]]
    """

    def __init__(self, top_k: int, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        if not isinstance(top_k, int) or top_k <= 0:
            raise InvalidInputError(f"`top_k` has to be a strictly positive integer, but is {top_k}")
        self.top_k = max(top_k, min_tokens_to_keep)
        self.filter_value = filter_value

    def __call__(self, input_ids, scores, cur_len):
        k = min(self.top_k, scores.shape[-1])
        kth = tf.math.top_k(scores, k=k).values[..., -1:]
        return tf.where(scores < kth, self.filter_value, scores)


class TFTopPLogitsWarper(TFLogitsWarper):
    """Nucleus filtering: keep the most likely tokens until their probabilities reach ``top_p``.

    A token stays while the probability of the tokens ranked above it is below ``top_p`` (so the
    token that crosses it stays too); the ``min_tokens_to_keep`` best always stay.

    Example:
        >>> TFTopPLogitsWarper(0.5)(ids, tf.math.log([[0.6, 0.3, 0.1]]), 1)  # keeps only the first
    """

    def __init__(self, top_p: float, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        if not isinstance(top_p, float) or not 0.0 <= top_p <= 1.0:
            raise InvalidInputError(f"`top_p` has to be a float > 0 and < 1, but is {top_p}")
        if not isinstance(min_tokens_to_keep, int) or min_tokens_to_keep < 1:
            raise InvalidInputError(f"`min_tokens_to_keep` has to be a positive integer, but is {min_tokens_to_keep}")
        self.top_p = top_p
        self.filter_value = filter_value
        self.min_tokens_to_keep = min_tokens_to_keep

    def __call__(self, input_ids, scores, cur_len):
        vocab = scores.shape[-1]
        sorted_scores, order = tf.math.top_k(scores, k=vocab)
        cumulative = tf.math.cumsum(tf.nn.softmax(sorted_scores, axis=-1), axis=-1)
        rank = tf.range(vocab)[None, :]
        # the probability mass ranked above each token; the first min_tokens_to_keep always stay
        above = tf.concat([tf.zeros_like(cumulative[:, :1]), cumulative[:, :-1]], axis=-1)
        keep = (above < self.top_p) | (rank < self.min_tokens_to_keep)
        kept = tf.where(keep, sorted_scores, self.filter_value)
        rows = tf.broadcast_to(tf.range(tf.shape(scores)[0])[:, None], tf.shape(order))
        return tf.scatter_nd(tf.stack([rows, order], axis=-1), kept, tf.shape(scores))


class TFMinLengthLogitsProcessor(TFLogitsProcessor):
    """-inf on ``eos_token_id`` while ``cur_len < min_length``.

    Example:
        >>> TFMinLengthLogitsProcessor(min_length=5, eos_token_id=2)(ids, scores, cur_len=3)  # eos banned
    """

    def __init__(self, min_length: int, eos_token_id: int):
        if not isinstance(min_length, int) or min_length < 0:
            raise InvalidInputError(f"`min_length` has to be a positive integer, but is {min_length}")
        if not isinstance(eos_token_id, int) or eos_token_id < 0:
            raise InvalidInputError(f"`eos_token_id` has to be a positive integer, but is {eos_token_id}")
        self.min_length = min_length
        self.eos_token_id = eos_token_id

    def __call__(self, input_ids, scores, cur_len):
        ban = (_vocab_positions(scores) == self.eos_token_id) & (cur_len < self.min_length)
        return tf.where(ban, NEG_INF, scores)


class TFRepetitionPenaltyLogitsProcessor(TFLogitsProcessor):
    """Tokens among the first ``cur_len`` columns: positive scores divided by ``penalty``, negative multiplied.

    Example:
        >>> TFRepetitionPenaltyLogitsProcessor(2.0)(tf.constant([[1]]), tf.constant([[1.0, 4.0, -1.0]]), 1)
        ... # [[1.0, 2.0, -1.0]]
    """

    def __init__(self, penalty: float):
        if not isinstance(penalty, float) or not penalty > 0:
            raise InvalidInputError(f"`penalty` has to be a strictly positive float, but is {penalty}")
        self.penalty = penalty

    def __call__(self, input_ids, scores, cur_len):
        present = _present_tokens(input_ids, _seen_columns(input_ids, cur_len), tf.shape(scores)[-1])
        penalised = tf.where(scores > 0, scores / self.penalty, scores * self.penalty)
        return tf.where(present, penalised, scores)


class TFNoBadWordsLogitsProcessor(TFLogitsProcessor):
    """Never complete a sequence of ``bad_words_ids``: its last token gets -inf after the rest of it.

    One-token entries are always banned; a longer entry counts once it fits in ``cur_len``.

    Example:
        >>> TFNoBadWordsLogitsProcessor([[5], [7, 8]], eos_token_id=2)  # 5 never; 8 never right after 7
    """

    def __init__(self, bad_words_ids: list[list[int]], eos_token_id: int):
        if not isinstance(bad_words_ids, list) or len(bad_words_ids) == 0:
            raise InvalidInputError(f"`bad_words_ids` has to be a non-empty list, but is {bad_words_ids}.")
        if any(not isinstance(word, list) for word in bad_words_ids):
            raise InvalidInputError(f"`bad_words_ids` has to be a list of lists, but is {bad_words_ids}.")
        if any(any(not isinstance(t, (int, np.integer)) or t < 0 for t in word) for word in bad_words_ids):
            raise InvalidInputError(
                f"Each list in `bad_words_ids` has to be a list of positive integers, but is {bad_words_ids}."
            )
        if any(len(word) == 0 for word in bad_words_ids):
            raise InvalidInputError(f"Banned words token sequences {bad_words_ids} cannot have an empty list")
        self.bad_words_ids = [[int(t) for t in word] for word in bad_words_ids]
        self.eos_token_id = eos_token_id

    def __call__(self, input_ids, scores, cur_len):
        batch = tf.shape(input_ids)[0]
        vocab = _vocab_positions(scores)
        for word in self.bad_words_ids:
            prefix, last = word[:-1], word[-1]
            match = tf.fill((batch,), True)
            if prefix:
                match &= len(word) <= cur_len
                for k, token in enumerate(prefix):
                    column = tf.maximum(cur_len - len(prefix) + k, 0)
                    match &= tf.gather(tf.cast(input_ids, tf.int32), column, axis=1) == token
            scores = tf.where((vocab == last) & match[:, None], NEG_INF, scores)
        return scores


class TFNoRepeatNGramLogitsProcessor(TFLogitsProcessor):
    """Ban the tokens that would repeat an n-gram of size ``ngram_size`` within the first ``cur_len`` tokens.

    Unlike transformers 4.x (eager only), it is made of TF ops and runs under XLA.

    Example:
        >>> TFNoRepeatNGramLogitsProcessor(2)(tf.constant([[3, 4, 3]]), scores, 3)  # token 4 banned
    """

    def __init__(self, ngram_size: int):
        if not isinstance(ngram_size, int) or ngram_size <= 0:
            raise InvalidInputError(f"`ngram_size` has to be a strictly positive integer, but is {ngram_size}")
        self.ngram_size = ngram_size

    def __call__(self, input_ids, scores, cur_len):
        n = self.ngram_size
        input_ids = tf.cast(input_ids, tf.int32)
        width = input_ids.shape[1]
        if width is not None and width < n:
            return scores
        windows = tf.shape(input_ids)[1] - n + 1
        starts = tf.range(windows)[None, :]
        matches = starts + n <= cur_len  # n-grams wholly inside the tokens so far
        for k in range(n - 1):  # the n-gram's first n-1 tokens equal the last n-1 tokens
            last_k = tf.gather(input_ids, tf.maximum(cur_len - (n - 1) + k, 0), axis=1)
            matches &= input_ids[:, k : k + windows] == last_k[:, None]
        banned = _present_tokens(input_ids[:, n - 1 : n - 1 + windows], matches, tf.shape(scores)[-1])
        return tf.where(banned & (cur_len + 1 >= n), NEG_INF, scores)


class TFForcedBOSTokenLogitsProcessor(TFLogitsProcessor):
    """At ``cur_len == 1``: 0 on ``bos_token_id``, -inf elsewhere.

    Example:
        >>> TFForcedBOSTokenLogitsProcessor(0)(ids, tf.constant([[1.0, 2.0]]), 1)  # [[0.0, -inf]]
    """

    def __init__(self, bos_token_id: int):
        if bos_token_id < 0:
            raise InvalidInputError(f"The forced bos token id  must be a non-negative integer, got {bos_token_id}")
        self.bos_token_id = bos_token_id

    def __call__(self, input_ids, scores, cur_len):
        return tf.where(tf.equal(cur_len, 1), _only(scores, self.bos_token_id, NEG_INF), scores)


class TFForcedEOSTokenLogitsProcessor(TFLogitsProcessor):
    """At ``cur_len == max_length - 1``: 0 on ``eos_token_id``, -inf elsewhere.

    Example:
        >>> TFForcedEOSTokenLogitsProcessor(max_length=10, eos_token_id=2)(ids, scores, 9)  # eos forced
    """

    def __init__(self, max_length: int, eos_token_id: int):
        if eos_token_id < 0:
            raise InvalidInputError(f"The forced eos token id must be a non-negative integer, got {eos_token_id}")
        self.max_length = max_length
        self.eos_token_id = eos_token_id

    def __call__(self, input_ids, scores, cur_len):
        return tf.where(tf.equal(cur_len, self.max_length - 1), _only(scores, self.eos_token_id, NEG_INF), scores)


class TFSuppressTokensAtBeginLogitsProcessor(TFLogitsProcessor):
    """-inf on ``begin_suppress_tokens`` when ``cur_len == begin_index`` (the first generated token).

    Example:
        >>> TFSuppressTokensAtBeginLogitsProcessor([2], begin_index=4)(ids, scores, 4)  # token 2 banned
    """

    def __init__(self, begin_suppress_tokens, begin_index):
        self.begin_suppress_tokens = list(begin_suppress_tokens)
        self.begin_index = begin_index

    def __call__(self, input_ids, scores, cur_len):
        hit = tf.zeros_like(_vocab_positions(scores), tf.bool)
        for token in self.begin_suppress_tokens:  # ids past the vocabulary match nothing
            hit |= _vocab_positions(scores) == token
        return tf.where(hit & tf.equal(cur_len, self.begin_index), NEG_INF, scores)


class TFSuppressTokensLogitsProcessor(TFLogitsProcessor):
    """-inf on ``suppress_tokens`` at every step.

    Example:
        >>> TFSuppressTokensLogitsProcessor([0, 3])(ids, scores, 1)  # tokens 0 and 3 banned
    """

    def __init__(self, suppress_tokens):
        self.suppress_tokens = list(suppress_tokens)

    def __call__(self, input_ids, scores, cur_len):
        hit = tf.zeros_like(_vocab_positions(scores), tf.bool)
        for token in self.suppress_tokens:
            hit |= _vocab_positions(scores) == token
        return tf.where(hit, NEG_INF, scores)


class TFForceTokensLogitsProcessor(TFLogitsProcessor):
    """Force token ``t`` at ``cur_len == i`` for each ``[i, t]`` of ``force_token_map``: 0 on it, the
    dtype's lowest value elsewhere (``None`` as a token forces nothing).

    Example:
        >>> TFForceTokensLogitsProcessor([[1, 50], [2, 7]])(ids, scores, 2)  # token 7 forced
    """

    def __init__(self, force_token_map: list[list[int]]):
        force_token_map = dict(force_token_map)
        table = np.full((max(force_token_map.keys()) + 1,), -1, np.int32)
        for index, token in force_token_map.items():
            if token is not None:
                table[index] = token
        self.force_token_array = tf.convert_to_tensor(table, dtype=tf.int32)

    def __call__(self, input_ids, scores, cur_len):
        size = int(self.force_token_array.shape[0])
        token = tf.gather(self.force_token_array, tf.clip_by_value(cur_len, 0, size - 1))
        active = (cur_len < size) & (token >= 0)
        forced = _only(scores, token, scores.dtype.min)
        return tf.where(active, forced, scores)
