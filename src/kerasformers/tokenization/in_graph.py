"""The base of the in-graph tokenizers: Keras layers that turn strings into model inputs inside a TF graph.

:class:`TFTokenizerLayer` holds what every kind shares: the input checks, truncation (as
transformers, ``longest_first`` for pairs), the special-token templates (BERT, RoBERTa, BOS / EOS),
padding and the output dict. A kind (``wordpiece.py``, ``bpe.py``, ``sentencepiece.py``) adds
``tokenize(strings) -> ragged ids``. The shared pieces a kind uses are public functions here:
the special-token splitter (:func:`special_token_pattern`, :func:`special_token_table`,
:func:`split_special_tokens`), :data:`UNICODE_WHITESPACE`, :func:`replace_invalid_utf8`,
:func:`re2_class` and the on-disk table cache :func:`cached_json`.

Only TensorFlow and tensorflow-text ops run in the graph, so an exported graph loads where
``import tensorflow_text`` works, without kerasformers.

Each layer's ``call(text, text_pair=None, ...)`` returns a dict of ``input_ids``,
``token_type_ids`` (when the model uses them) and ``attention_mask``: int64, padded to the
longest sequence in the batch (``padding="longest"``) or to ``max_length``.

Example:
    >>> tokenizer = TFAutoTokenizer.from_pretrained("path/to/all-MiniLM-L6-v2")
    >>> tokenizer(tf.constant(["Hello world!"]))["input_ids"]
    <tf.Tensor: shape=(1, 5), dtype=int64, numpy=array([[ 101, 7592, 2088,  999,  102]])>
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from kerasformers.errors import InvalidInputError, InvalidInputTypeError
from kerasformers.hub import cache_dir
from kerasformers.utils.backend import require_tensorflow_backend

__all__ = [
    "TFTokenizerLayer",
    "UNICODE_WHITESPACE",
    "DECODER_LAYER_DEFAULTS",
    "replace_invalid_utf8",
    "special_token_pattern",
    "special_token_table",
    "split_special_tokens",
    "allow_string_batches_in_keras",
    "tf_text",
    "re2_class",
    "cached_json",
    "ragged_prefix",
]

# Unicode White_Space as an RE2 class (RE2's \s is ASCII only; tokenizers uses the Unicode property)
UNICODE_WHITESPACE = (
    "[\\t\\n\\x{b}\\f\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
)
PADDING = ("longest", "max_length", "do_not_pad")
# Layer options of tokenizers with a BOS / EOS template (GPT-2, Llama...): no token types, no length limit
DECODER_LAYER_DEFAULTS = dict(
    cls_id=None, sep_id=None, pair_template="bos_eos", return_token_type_ids=False, max_length=None, truncation=False
)
TRUNCATION = ("longest_first", "only_first", "only_second", "do_not_truncate")


def tf_text():
    """The ``tensorflow_text`` module, imported on first use (it is slow to import; it registers the ops).

    Example:
        >>> tf_text().regex_split(["a b"], " ")
        <tf.RaggedTensor [[b'a', b'b']]>
    """
    import tensorflow_text

    return tensorflow_text


def allow_string_batches_in_keras() -> None:
    """Let ``model.predict(["a text", ...])`` feed strings to a model that tokenizes in-graph.

    Keras' data adapters take numpy object arrays and tf string tensors but refuse a Python
    list of ``str`` and numpy unicode arrays; those become numpy object arrays first. Nothing
    else changes. Every :class:`TFTokenizerLayer` calls it when it is made (before a model
    holding it can see data), so ``import kerasformers`` alone leaves Keras untouched; calling
    it again does nothing.

    Example:
        >>> allow_string_batches_in_keras()
        >>> model.predict(["a text", "another"])  # a model whose first layer is an in-graph tokenizer
    """
    from keras.src.trainers import data_adapters

    original = data_adapters.get_data_adapter
    if getattr(original, "_kerasformers_strings", False):
        return

    def as_object_array(value):
        import numpy as np

        if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, bytes)) for v in value):
            return np.array(value, dtype=object)
        if isinstance(value, np.ndarray) and value.dtype.kind in "US":
            return value.astype(object)
        return value

    def get_data_adapter(x, *args, **kwargs):
        return original(as_object_array(x), *args, **kwargs)

    get_data_adapter._kerasformers_strings = True
    data_adapters.get_data_adapter = get_data_adapter


# ------------------------------------------------------------------------------- char classes and tables


def re2_class(codepoints) -> str:
    """Codepoints -> an RE2 character class of ranges ("" for none).

    Example:
        >>> re2_class([0x41, 0x42, 0x43, 0x5F])
        '[\\x{41}-\\x{43}\\x{5f}]'
    """
    ranges, start, previous = [], None, None
    for c in sorted(codepoints):
        if start is None:
            start = previous = c
        elif c == previous + 1:
            previous = c
        else:
            ranges.append((start, previous))
            start = previous = c
    if start is not None:
        ranges.append((start, previous))
    if not ranges:
        return ""
    parts = [f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


def _table_cache_file(name: str) -> Path:
    import tokenizers

    folder = cache_dir() / "tokenizer_tables"
    folder.mkdir(parents=True, exist_ok=True)
    # the tables are read off the tokenizers library: a new version may change them
    return folder / f"{name}-tokenizers{tokenizers.__version__}.json"


def cached_json(name: str, build):
    """``build()`` once per machine: the result is kept as JSON in the kerasformers cache.

    For tables read off the ``tokenizers`` library (per-codepoint behaviour), which take seconds
    to build; the cache file is per ``tokenizers`` version.

    Example:
        >>> cached_json("squares", lambda: [i * i for i in range(4)])
        [0, 1, 4, 9]
    """
    path = _table_cache_file(name)
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # a damaged cache file is built again
            pass
    value = build()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    os.replace(tmp, path)
    return value


# ------------------------------------------------------------------------------- shared graph pieces


def replace_invalid_utf8(text):
    """Strings -> the same strings with each invalid UTF-8 sequence replaced by U+FFFD.

    The Python tokenizers take ``str`` only, so bytes must become text first; TF's replacement is
    the one of Python's ``bytes.decode("utf-8", errors="replace")`` (one U+FFFD per maximal
    invalid subpart), so every in-graph tokenizer gives, for any bytes, the ids of the tokenizers
    library on ``raw.decode("utf-8", errors="replace")``. Without it each kind did its own thing
    (WordPiece gave [UNK], byte-level BPE tokenized the raw bytes).

    Example:
        >>> replace_invalid_utf8(tf.constant([b"caf\\xe9"])).numpy()[0].decode()
        'caf\ufffd'
    """
    return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


def special_token_pattern(tokens, lstrip=(), rstrip=()) -> tuple[str | None, str | None]:
    """(RE2 regex matching the special tokens written in a text, regex of the whitespace to strip
    from a match before its lookup, or None); (None, None) when there are no tokens.

    Longest tokens come first, so "<|end|>" wins over "<|e". ``lstrip`` / ``rstrip`` tokens also
    take the whitespace beside them, as in tokenizers.

    Example:
        >>> special_token_pattern(["[CLS]", "[SEP]"])
        ('\\[CLS\\]|\\[SEP\\]', None)
    """
    if not tokens:
        return None, None
    ordered = sorted(tokens, key=len, reverse=True)
    pattern = "|".join(
        (f"{UNICODE_WHITESPACE}*" if t in lstrip else "")
        + re.escape(t)
        + (f"{UNICODE_WHITESPACE}*" if t in rstrip else "")
        for t in ordered
    )
    strip = f"^{UNICODE_WHITESPACE}+|{UNICODE_WHITESPACE}+$" if lstrip or rstrip else None
    return pattern, strip


def special_token_table(special_tokens: dict[str, int]) -> tf.lookup.StaticHashTable:
    """A table special token -> id, -1 for any other string.

    Example:
        >>> special_token_table({"[CLS]": 101}).lookup(tf.constant(["[CLS]", "hello"]))
        <tf.Tensor: shape=(2,), dtype=int64, numpy=array([101,  -1])>
    """
    tokens = list(special_tokens)
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(tokens, tf.string), tf.constant([special_tokens[t] for t in tokens], tf.int64)
        ),
        default_value=-1,
    )


def split_special_tokens(text, pattern: str, table, tokenize_plain, strip: str | None = None):
    """Strings [N] -> int64 RaggedTensor [N, ids]: special tokens written in the text one id each,
    the text between them through ``tokenize_plain`` (strings [M] -> ragged ids [M, None]).

    ``pattern``, ``strip`` come from :func:`special_token_pattern`, ``table`` from
    :func:`special_token_table`.

    Example:
        >>> pattern, strip = special_token_pattern(["[SEP]"])
        >>> split_special_tokens(tf.constant(["a[SEP]b"]), pattern, special_token_table({"[SEP]": 102}),
        ...                      layer.tokenize_plain)
        <tf.RaggedTensor [[1037, 102, 1038]]>
    """
    segments = tf_text().regex_split(text, pattern, pattern)
    flat = segments.flat_values
    keys = flat if strip is None else tf.strings.regex_replace(flat, strip, "")
    special_ids = table.lookup(keys)
    is_special = special_ids >= 0
    plain = tokenize_plain(tf.where(is_special, "", flat))
    single = tf.RaggedTensor.from_row_lengths(tf.boolean_mask(special_ids, is_special), tf.cast(is_special, tf.int64))
    pieces = tf.concat([single, plain], axis=1)
    return segments.with_flat_values(pieces).merge_dims(1, 2)


def ragged_prefix(ragged, keep):
    """Keep the first ``keep[i]`` items of each row of a 2-D RaggedTensor.

    Example:
        >>> ragged_prefix(tf.ragged.constant([[1, 2, 3], [4]]), tf.constant([2, 1], tf.int64))
        <tf.RaggedTensor [[1, 2], [4]]>
    """
    positions = tf.ragged.range(ragged.row_lengths())
    return tf.ragged.boolean_mask(ragged, positions < keep[:, None])


# ------------------------------------------------------------------------------- the base layer


class TFTokenizerLayer(keras.layers.Layer):
    """The base of the in-graph tokenizers: truncation, special-token templates, padding and the output dict.

    A kind implements :meth:`tokenize` (strings [N] -> int64 RaggedTensor [N, None] of ids,
    without special tokens added), and :meth:`tokenize_plain` when it splits special tokens
    written in the text off first (:meth:`use_special_tokens`). ``pair_template`` is "bert"
    (``[CLS] A [SEP] B [SEP]``), "roberta" (``<s> A </s></s> B </s>``) or "bos_eos"
    (``bos A eos bos B eos``). Subclasses are registered as Keras serializable, so a ``.keras``
    file holding one (e.g. a functional model on strings) loads back.

    Example:
        >>> class Characters(TFTokenizerLayer):
        ...     def tokenize(self, text):
        ...         return tf.cast(tf.strings.unicode_decode(text, "UTF-8"), tf.int64)
        >>> Characters(cls_id=1, sep_id=2, pad_id=0)(["ab", "c"])["input_ids"]
        <tf.Tensor: shape=(2, 4), dtype=int64, numpy=array([[ 1, 97, 98,  2], [ 1, 99,  2,  0]])>
    """

    special_pattern = None  # set by use_special_tokens
    special_strip = None
    special_table = None

    def __new__(cls, *args, **kwargs):
        # issue 20: string tensors, tf.text and lookup tables exist only on TensorFlow
        require_tensorflow_backend(
            f"{cls.__name__} (an in-graph tokenizer)",
            "Tokenize with the Python tokenizer (AutoTokenizer.from_pretrained) on this backend.",
        )
        return super().__new__(cls, *args, **kwargs)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # so a .keras file holding a tokenizer layer (e.g. a functional model on strings) loads back
        keras.saving.register_keras_serializable(package="kerasformers")(cls)

    def __init__(
        self,
        *,
        cls_id: int | None,
        sep_id: int | None,
        pad_id: int,
        bos_ids=(),
        eos_ids=(),
        pair_template: str = "bert",
        padding: str | bool = "longest",
        truncation: str | bool = True,
        max_length: int | None = 512,
        pad_to_multiple_of: int | None = None,
        return_token_type_ids: bool = True,
        return_attention_mask: bool = True,
        add_special_tokens: bool = True,
        **kwargs,
    ):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        # done here, not on import: a model holding this layer may get a list of str in predict()
        allow_string_batches_in_keras()
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, int(pad_id)
        self.bos_ids, self.eos_ids = list(bos_ids), list(eos_ids)
        self.pair_template = pair_template
        self.padding = padding
        self.truncation = truncation
        self.max_length = max_length
        self.pad_to_multiple_of = pad_to_multiple_of
        self.return_token_type_ids = return_token_type_ids
        self.return_attention_mask = return_attention_mask
        self.add_special_tokens = add_special_tokens

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            cls_id=self.cls_id,
            sep_id=self.sep_id,
            pad_id=self.pad_id,
            bos_ids=self.bos_ids,
            eos_ids=self.eos_ids,
            pair_template=self.pair_template,
            padding=self.padding,
            truncation=self.truncation,
            max_length=self.max_length,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_token_type_ids=self.return_token_type_ids,
            return_attention_mask=self.return_attention_mask,
            add_special_tokens=self.add_special_tokens,
        )
        return config

    def __call__(self, text, text_pair=None, **kwargs):
        """Python strings and lists of strings are accepted as well as string tensors.

        Symbolic inputs (``keras.Input(shape=(), dtype="string")``) pass through to Keras, so the
        layer builds functional models; ``call`` converts them once they are tensors.
        """
        if not isinstance(text, keras.KerasTensor):
            text = self._as_strings(text, "text")
        if text_pair is not None and not isinstance(text_pair, keras.KerasTensor):
            text_pair = self._as_strings(text_pair, "text_pair")
        return super().__call__(text, text_pair, **kwargs)

    def tokenize(self, text):
        """Strings [N] -> int64 RaggedTensor [N, None] of ids, without special tokens added (per kind)."""
        raise NotImplementedError

    def tokenize_plain(self, text):
        """Strings [N] without special tokens in them -> int64 RaggedTensor [N, None] (per kind)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- pieces
    @staticmethod
    def _as_strings(text, name: str = "text"):
        if isinstance(text, (list, tuple)) and not text:
            return tf.zeros([0], tf.string)
        if text is None:
            raise InvalidInputTypeError(f"`{name}` must be a string, a list of strings or a string tensor, got None.")
        try:
            text = tf.convert_to_tensor(text, dtype_hint=tf.string)
        except (ValueError, TypeError) as error:  # e.g. lists of different lengths, mixed types
            raise InvalidInputError(
                f"`{name}` must be a string, a list of strings or a string tensor (rank 0 or 1); "
                f"TensorFlow cannot make a tensor of it ({error})."
            ) from None
        if text.dtype != tf.string:
            raise InvalidInputTypeError(f"`{name}` must be strings, got a tensor of {text.dtype.name}.")
        if text.shape.rank == 0:
            text = text[None]
        elif text.shape.rank == 2:  # (batch, 1), as keras.Input(shape=(1,), dtype="string") gives
            text = tf.reshape(text, [-1])
        elif text.shape.rank != 1:
            raise InvalidInputError(
                f"`{name}` must be a batch of strings (rank 1), got a tensor of rank "
                f"{text.shape.rank} and shape {text.shape}."
            )
        return text

    def _num_special(self, pair: bool) -> int:
        if not self.add_special_tokens:
            return 0
        if self.pair_template == "bert":
            return 3 if pair else 2
        if self.pair_template == "roberta":
            return 4 if pair else 2
        return (len(self.bos_ids) + len(self.eos_ids)) * (2 if pair else 1)

    def _truncate(self, first, second, max_length: int, strategy: str):
        budget = max_length - self._num_special(second is not None)
        n1 = first.row_lengths()
        if second is None:
            return first[:, :budget], None
        n2 = second.row_lengths()
        total = n1 + n2
        over = total > budget
        budget64 = tf.cast(budget, tf.int64)
        if strategy == "only_first":
            keep1 = tf.where(over, tf.maximum(n1 - (total - budget64), 0), n1)
            # transformers refuses when the first sequence cannot absorb it: keep it unchanged then
            keep1 = tf.where(n1 > total - budget64, keep1, n1)
            keep2 = n2
        elif strategy == "only_second":
            keep2 = tf.where(over, tf.maximum(n2 - (total - budget64), 0), n2)
            keep2 = tf.where(n2 > total - budget64, keep2, n2)
            keep1 = n1
        else:  # longest_first, as tokenizers' truncate_encodings
            swap = n1 > n2
            short = tf.minimum(n1, n2)
            long_target = tf.where(short > budget64, short, tf.maximum(short, budget64 - short))
            short_target = short
            both = short_target + long_target > budget64
            short_target = tf.where(both, budget64 // 2, short_target)
            long_target = tf.where(both, budget64 // 2 + budget64 % 2, long_target)
            target1 = tf.where(swap, long_target, short_target)
            target2 = tf.where(swap, short_target, long_target)
            keep1 = tf.where(over, tf.minimum(n1, target1), n1)
            keep2 = tf.where(over, tf.minimum(n2, target2), n2)
        return ragged_prefix(first, keep1), ragged_prefix(second, keep2)

    def _with_special_tokens(self, first, second):
        """[CLS] A [SEP] (B [SEP]) with token type ids; special_tokens_mask marks the added ones."""
        batch = first.nrows()

        def const(ids):
            ids = [i for i in ids if i is not None]
            return (
                tf.RaggedTensor.from_tensor(tf.tile(tf.constant([ids], tf.int64), [batch, 1]))
                if ids
                else tf.RaggedTensor.from_tensor(tf.zeros([batch, 0], tf.int64))
            )

        if not self.add_special_tokens:
            parts = [(first, 0, 0)] + ([(second, 1, 0)] if second is not None else [])
        elif self.pair_template == "bert":
            parts = [(const([self.cls_id]), 0, 1), (first, 0, 0), (const([self.sep_id]), 0, 1)]
            if second is not None:
                parts += [(second, 1, 0), (const([self.sep_id]), 1, 1)]
        elif self.pair_template == "roberta":
            parts = [(const([self.cls_id]), 0, 1), (first, 0, 0), (const([self.sep_id]), 0, 1)]
            if second is not None:
                parts += [(const([self.sep_id]), 0, 1), (second, 0, 0), (const([self.sep_id]), 0, 1)]
        else:  # "bos_eos": BOS A EOS (BOS B EOS), as Llama / GPT-2 style templates
            parts = [(const(self.bos_ids), 0, 1), (first, 0, 0), (const(self.eos_ids), 0, 1)]
            if second is not None:
                parts += [(const(self.bos_ids), 1, 1), (second, 1, 0), (const(self.eos_ids), 1, 1)]
        ids = tf.concat([p for p, _, _ in parts], axis=1)
        types = tf.concat([tf.ones_like(p) * t for p, t, _ in parts], axis=1)
        special = tf.concat([tf.ones_like(p) * s for p, _, s in parts], axis=1)
        return ids, types, special

    def _pad(self, ragged, value, length):
        dense = ragged.to_tensor(default_value=tf.cast(value, ragged.dtype))
        missing = tf.cast(length, tf.int32) - tf.shape(dense)[1]
        return tf.pad(dense, [[0, 0], [0, missing]], constant_values=tf.cast(value, ragged.dtype))

    def call(
        self,
        text,
        text_pair=None,
        padding=None,
        truncation=None,
        max_length=None,
        pad_to_multiple_of=None,
        return_token_type_ids=None,
        return_attention_mask=None,
        return_special_tokens_mask: bool = False,
    ):
        """Tokenize a batch of strings (and optional pairs) into padded int64 model inputs."""
        padding = self.padding if padding is None else padding
        truncation = self.truncation if truncation is None else truncation
        max_length = self.max_length if max_length is None else max_length
        pad_to_multiple_of = self.pad_to_multiple_of if pad_to_multiple_of is None else pad_to_multiple_of
        if padding is True:
            padding = "longest"
        elif padding is False:
            padding = "do_not_pad"
        if truncation is True:
            truncation = "longest_first"
        elif truncation is False or truncation is None:
            truncation = "do_not_truncate"
        if padding not in PADDING:
            raise InvalidInputError(f"padding must be one of {PADDING} (or True/False), got {padding!r}.")
        if truncation not in TRUNCATION:
            raise InvalidInputError(f"truncation must be one of {TRUNCATION} (or True/False), got {truncation!r}.")
        if (padding == "max_length" or truncation != "do_not_truncate") and max_length is None:
            raise InvalidInputError("padding='max_length' and truncation need max_length.")
        first = self.tokenize(self._as_strings(text))
        second = self.tokenize(self._as_strings(text_pair)) if text_pair is not None else None
        if truncation != "do_not_truncate":
            first, second = self._truncate(first, second, int(max_length), truncation)
        ids, types, special = self._with_special_tokens(first, second)
        mask = tf.ones_like(ids)
        outputs = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask, "special_tokens_mask": special}
        if padding != "do_not_pad":
            if padding == "max_length":
                length = tf.constant(int(max_length), tf.int64)
                length = tf.maximum(length, ids.bounding_shape(axis=1))
            else:
                length = ids.bounding_shape(axis=1)
            if pad_to_multiple_of:
                multiple = tf.constant(int(pad_to_multiple_of), tf.int64)
                length = (length + multiple - 1) // multiple * multiple
            outputs = {
                "input_ids": self._pad(ids, self.pad_id, length),
                "token_type_ids": self._pad(types, 0, length),
                "attention_mask": self._pad(mask, 0, length),
                "special_tokens_mask": self._pad(special, 1, length),
            }
        return_token_type_ids = self.return_token_type_ids if return_token_type_ids is None else return_token_type_ids
        return_attention_mask = self.return_attention_mask if return_attention_mask is None else return_attention_mask
        if not return_token_type_ids:
            outputs.pop("token_type_ids")
        if not return_attention_mask:
            outputs.pop("attention_mask")
        if not return_special_tokens_mask:
            outputs.pop("special_tokens_mask")
        return outputs

    def use_special_tokens(self, special_tokens: dict[str, int], lstrip=(), rstrip=()) -> None:
        """Split these tokens off the text before tokenizing, one id each (:meth:`tokenize_with_special_tokens`).

        Sets ``special_pattern`` (None without tokens), ``special_strip`` and ``special_table``;
        ``lstrip`` / ``rstrip`` tokens also take the whitespace beside them, as in tokenizers.

        Example:
            >>> layer.use_special_tokens({"[CLS]": 101, "[SEP]": 102})
        """
        self.special_pattern, self.special_strip = special_token_pattern(special_tokens, lstrip, rstrip)
        self.special_table = special_token_table(special_tokens) if special_tokens else None

    def tokenize_with_special_tokens(self, text):
        """Strings [N] -> ragged ids: special tokens written in the text one id each, the rest
        through :meth:`tokenize_plain`.

        Example:
            >>> layer.tokenize_with_special_tokens(tf.constant(["a [SEP] b"]))
        """
        return split_special_tokens(
            text, self.special_pattern, self.special_table, self.tokenize_plain, self.special_strip
        )
