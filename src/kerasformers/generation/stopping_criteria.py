"""Stopping criteria for ``generate()``, with transformers' names and calling convention.

A criterion is called after each new token as ``criterion(input_ids, scores) -> (batch,) bool``:
``input_ids`` holds every token so far (prompt included), ``scores`` the processed scores of the
steps so far (a tuple, possibly None). ``True`` marks a row as done.

Inside ``generate()`` the built-in criteria run in the compiled XLA loop: ``MaxLengthCriteria``
and ``EosTokenCriteria`` set the loop's length and end tokens, ``StopStringCriteria`` is compiled
into token tables (its ``stop_in_loop`` reads the loop's static token buffer). Any other
criterion (``MaxTimeCriteria``, your own subclass) is Python: ``generate()`` then runs the loop one
compiled step at a time and calls it on the real tokens after each step (greedy and sampling).

Example:
    >>> class StopAfterToken7(StoppingCriteria):
    ...     def __call__(self, input_ids, scores, **kwargs):
    ...         return input_ids[:, -1] == 7
    >>> model.generate(ids, max_new_tokens=20, stopping_criteria=StoppingCriteriaList([StopAfterToken7()]))
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import tensorflow as tf

from kerasformers.errors import InvalidInputError

__all__ = [
    "StoppingCriteria",
    "StoppingCriteriaList",
    "MaxLengthCriteria",
    "MaxTimeCriteria",
    "EosTokenCriteria",
    "StopStringCriteria",
]


class StoppingCriteria:
    """Base class: ``criterion(input_ids, scores, **kwargs)`` returns a (batch,) bool tensor, True = stop that row.

    Example:
        >>> class StopOnToken(StoppingCriteria):
        ...     def __init__(self, token_id):
        ...         self.token_id = token_id
        ...     def __call__(self, input_ids, scores, **kwargs):
        ...         return input_ids[:, -1] == self.token_id
    """

    def __call__(self, input_ids, scores, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(input_ids, scores, **kwargs).")


class StoppingCriteriaList(list):
    """Several criteria: a row stops when any of them says so.

    Example:
        >>> criteria = StoppingCriteriaList([MaxLengthCriteria(30), EosTokenCriteria(2)])
        >>> done = criteria(tf.constant([[5, 2]]), None)  # [True]
    """

    def __call__(self, input_ids, scores, **kwargs):
        input_ids = tf.convert_to_tensor(input_ids)
        done = tf.zeros((tf.shape(input_ids)[0],), tf.bool)
        for criterion in self:
            done |= tf.cast(tf.convert_to_tensor(criterion(input_ids, scores, **kwargs)), tf.bool)
        return done

    @property
    def max_length(self) -> int | None:
        for criterion in self:
            if isinstance(criterion, MaxLengthCriteria):
                return criterion.max_length
        return None


class MaxLengthCriteria(StoppingCriteria):
    """Stop when a sequence (prompt included) reaches ``max_length`` tokens.

    Example:
        >>> MaxLengthCriteria(max_length=3)(tf.constant([[1, 2, 3]]), None)  # [True]
    """

    def __init__(self, max_length: int, max_position_embeddings: int | None = None):
        self.max_length = int(max_length)
        self.max_position_embeddings = max_position_embeddings

    def __call__(self, input_ids, scores, **kwargs):
        input_ids = tf.convert_to_tensor(input_ids)
        return tf.fill((tf.shape(input_ids)[0],), tf.shape(input_ids)[-1] >= self.max_length)

    def stop_in_loop(self, tokens, first_column, length):
        """The same test on generate()'s static buffer (the sequence is ``tokens[:, first_column:length]``)."""
        return tf.fill((tf.shape(tokens)[0],), length - first_column >= self.max_length)

    def __eq__(self, other):  # equal criteria share one compiled loop
        return type(other) is type(self) and other.max_length == self.max_length

    def __hash__(self):
        return hash((type(self).__name__, self.max_length))


class MaxTimeCriteria(StoppingCriteria):
    """Stop every row once ``max_time`` seconds have passed since ``initial_timestamp`` (default: creation).

    A Python criterion: ``generate()`` runs its loop step by step to consult the clock.

    Example:
        >>> model.generate(ids, max_new_tokens=500, stopping_criteria=StoppingCriteriaList([MaxTimeCriteria(2.0)]))
    """

    def __init__(self, max_time: float, initial_timestamp: float | None = None):
        self.max_time = max_time
        self.initial_timestamp = time.time() if initial_timestamp is None else initial_timestamp

    def __call__(self, input_ids, scores, **kwargs):
        input_ids = tf.convert_to_tensor(input_ids)
        return tf.fill((tf.shape(input_ids)[0],), time.time() - self.initial_timestamp > self.max_time)


class EosTokenCriteria(StoppingCriteria):
    """Stop a row whose last token is one of ``eos_token_id`` (an int or a list).

    Example:
        >>> EosTokenCriteria([2, 7])(tf.constant([[5, 7], [7, 5]]), None)  # [True, False]
    """

    def __init__(self, eos_token_id):
        if isinstance(eos_token_id, (int, np.integer)):
            eos_token_id = [eos_token_id]
        self.eos_token_id = [int(t) for t in np.asarray(eos_token_id).reshape(-1)]

    def __call__(self, input_ids, scores, **kwargs):
        return self._is_eos(tf.convert_to_tensor(input_ids)[:, -1])

    def _is_eos(self, last):
        done = tf.zeros_like(last, tf.bool)
        for token in self.eos_token_id:
            done |= last == tf.cast(token, last.dtype)
        return done

    def stop_in_loop(self, tokens, first_column, length):
        """The same test on generate()'s static buffer (the sequence is ``tokens[:, first_column:length]``)."""
        return self._is_eos(tf.gather(tokens, length - 1, axis=1))

    def __eq__(self, other):  # equal criteria share one compiled loop
        return type(other) is type(self) and other.eos_token_id == self.eos_token_id

    def __hash__(self):
        return hash((type(self).__name__, tuple(self.eos_token_id)))


# ------------------------------------------------------------------------------------------ stop strings
def _bytes_to_unicode() -> dict[int, str]:
    """The byte -> printable character table of byte-level BPE vocabularies (GPT-2's)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:  # unprintable bytes move past 255, in order
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def _decoder_types(tokenizer) -> set[str]:
    """The decoder types of the tokenizer's backend (the ``tokenizers`` library's JSON)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return set()
    try:
        decoder = json.loads(backend.to_str()).get("decoder")
    except (AttributeError, ValueError):
        return set()
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("type"), str):
                found.add(node["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(decoder)
    return found


def token_strings(tokenizer) -> tuple[str, dict[int, Any]]:
    """Each vocabulary id's text as the stop-string matcher sees it: bytes for byte-level and
    byte-fallback vocabularies, else the string the token adds when decoded after other text.

    Returns ``(mode, {id: text})`` with mode ``"byte_level"``, ``"byte_fallback"`` or ``"text"``.

    Example:
        >>> mode, texts = token_strings(tokenizer)  # GPT-2: ("byte_level", {..., 995: b" world", ...})
    """
    types = _decoder_types(tokenizer)
    mode = "byte_fallback" if "ByteFallback" in types else "byte_level" if "ByteLevel" in types else "text"
    byte_decoder = {char: byte for byte, char in _bytes_to_unicode().items()}
    prefix = "abcdef"
    prefix_tokens = tokenizer.convert_ids_to_tokens(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    texts: dict[int, Any] = {}
    for token, index in tokenizer.get_vocab().items():
        text = None
        if mode == "byte_level" and all(char in byte_decoder for char in token):
            text = bytes(byte_decoder[char] for char in token)
        elif mode == "byte_fallback" and len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
            try:
                text = bytes([int(token[3:5], 16)])
            except ValueError:
                text = None
        if text is None:
            # decoding after a fixed prefix keeps the leading space a token carries (SentencePiece's ▁)
            decoded = tokenizer.convert_tokens_to_string(list(prefix_tokens) + [token])
            text = decoded[decoded.index(prefix) + len(prefix) :] if prefix in decoded else decoded
            if mode != "text":
                text = text.encode("utf-8")
        texts[int(index)] = text
    return mode, texts


class StopStringCriteria(StoppingCriteria):
    """Stop a row once its text ends with one of ``stop_strings``, as transformers decides it: the stop
    string must overlap the last token (it may start or end inside a token).

    Built as tables over the vocabulary, so it also runs inside the compiled generate loop: for each
    token, where in the stop string it can sit (counted from the string's end), how much of the string's
    end its start can cover, and its length. The match then walks back from the last token.

    Example:
        >>> criteria = StopStringCriteria(tokenizer, ["\\n\\n", "Texas"])
        >>> model.generate(**inputs, max_new_tokens=40, stopping_criteria=StoppingCriteriaList([criteria]))
        >>> model.generate(**inputs, max_new_tokens=40, stop_strings=["Texas"], tokenizer=tokenizer)  # the same
    """

    def __init__(self, tokenizer, stop_strings):
        if isinstance(stop_strings, str):
            stop_strings = [stop_strings]
        if not stop_strings or not all(isinstance(s, str) and s for s in stop_strings):
            raise InvalidInputError(f"stop_strings must be a non-empty string or list of them, got {stop_strings!r}.")
        self.stop_strings = tuple(stop_strings)
        mode, texts = token_strings(tokenizer)
        targets = [s.encode("utf-8") if mode != "text" else s for s in self.stop_strings]
        vocab = max(texts) + 2  # one extra row: ids past the vocabulary match nothing
        self._tables = [self._tables_for(target, texts, vocab) for target in targets]
        self._lengths = np.zeros((vocab,), np.int32)
        for index, text in texts.items():
            self._lengths[index] = len(text)
        self._vocab = vocab
        self._window = max(len(t) for t in targets)  # tokens looked back: one per character of the longest
        self._key = (self.stop_strings, mode, hash(tuple(sorted((i, t) for i, t in texts.items()))))

    @staticmethod
    def _tables_for(target, texts, vocab):
        """(positions (vocab, P), end_overlaps (vocab, E)) for one stop string; -1 pads both."""
        size = len(target)
        positions: dict[int, list[int]] = {}
        overlaps: dict[int, list[int]] = {}
        for index, text in texts.items():
            found = []
            for matched in range(1, size):  # the token ends where `matched` characters are left of the end
                room = size - matched
                if len(text) <= room:
                    hit = target[room - len(text) : room] == text
                else:  # runs off the start of the stop string
                    hit = text[len(text) - room :] == target[:room]
                if hit:
                    found.append(matched)
            if found:
                positions[index] = found
            ends = []
            for cut in range(1, len(text) + 1):  # the stop string ends after text[:cut]
                head = text[:cut]
                if cut <= size:
                    if target[size - cut :] == head:
                        ends.append(cut)
                elif head.endswith(target):
                    ends.append(size)
            if ends:
                overlaps[index] = ends
        if not overlaps:
            raise InvalidInputError(
                f"No token of the vocabulary can end the stop string {target!r}: check it for characters the "
                "tokenizer cannot produce."
            )
        width_p = max((len(v) for v in positions.values()), default=1)
        width_e = max(len(v) for v in overlaps.values())
        position_table = np.full((vocab, width_p), -1, np.int32)
        overlap_table = np.full((vocab, width_e), -1, np.int32)
        for index, values in positions.items():
            position_table[index, : len(values)] = values
        for index, values in overlaps.items():
            overlap_table[index, : len(values)] = values
        return size, position_table, overlap_table

    def __eq__(self, other):
        return isinstance(other, StopStringCriteria) and other._key == self._key

    def __hash__(self):
        return hash(self._key)

    def stop_in_loop(self, tokens, first_column, length):
        """(batch,) bool: does the text of ``tokens[:, first_column:length]`` end in a stop string?

        ``tokens`` is a (batch, columns) int tensor (a static buffer inside the compiled loop);
        columns before ``first_column`` or from ``length`` on are not part of the sequence.
        """
        tokens = tf.cast(tokens, tf.int32)
        batch = tf.shape(tokens)[0]
        lengths = tf.constant(self._lengths)
        done = tf.zeros((batch,), tf.bool)

        def token_back(j):  # the j-th token from the end (0 = last), and whether it exists
            column = length - 1 - j
            exists = tf.fill((batch,), column >= first_column)
            token = tf.gather(tokens, tf.maximum(column, 0), axis=1)
            token = tf.where((token < 0) | (token >= self._vocab - 1), self._vocab - 1, token)
            return token, exists

        for size, position_table, overlap_table in self._tables:
            positions, overlaps = tf.constant(position_table), tf.constant(overlap_table)
            last, exists = token_back(0)
            start = tf.gather(overlaps, last)  # (batch, E): characters of the string's end the last token covers
            matched = start  # per start option
            alive = (start > 0) & exists[:, None]
            complete = alive & (matched >= size)
            for j in range(1, self._window):
                token, exists = token_back(j)
                allowed = tf.gather(positions, token)  # (batch, P)
                fits = tf.reduce_any(allowed[:, None, :] == matched[:, :, None], axis=-1)
                alive &= ~complete & fits & exists[:, None]
                matched += tf.where(alive, tf.gather(lengths, token)[:, None], 0)
                complete |= alive & (matched >= size)
            done |= tf.reduce_any(complete, axis=-1)
        return done

    def __call__(self, input_ids, scores, **kwargs):
        input_ids = tf.convert_to_tensor(input_ids)
        return self.stop_in_loop(input_ids, 0, tf.shape(input_ids)[1])
