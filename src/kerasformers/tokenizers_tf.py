"""In-graph tokenizers: Keras layers that turn strings into model inputs inside a TF graph.

They are built from the same files as the Python tokenizer (through
:class:`kerasformers.AutoTokenizer`'s ``tokenizers`` backend) and give the same ids, so a
SavedModel can take raw strings. Only TensorFlow and tensorflow-text ops are used, so an
exported graph loads where ``import tensorflow_text`` works, without kerasformers.

- :class:`TFWordPieceTokenizer` (BERT family): BERT normalisation and pre-tokenisation with
  character classes read off the ``tokenizers`` library itself (so accents, CJK, control and
  whitespace characters behave exactly as in Python), then tf-text's FastWordpieceTokenizer.
- :class:`TFAutoTokenizer.from_pretrained` picks the layer for a checkpoint.

Each layer's ``call(text, text_pair=None, ...)`` returns a dict of ``input_ids``,
``token_type_ids`` (when the model uses them) and ``attention_mask``: int64, padded to the
longest sequence in the batch (``padding="longest"``) or to ``max_length``, truncated as
transformers does (``longest_first`` for pairs).

Example:
    >>> tokenizer = TFAutoTokenizer.from_pretrained("path/to/all-MiniLM-L6-v2")
    >>> tokenizer(tf.constant(["Hello world!"]))["input_ids"]
    <tf.Tensor: shape=(1, 5), dtype=int64, numpy=array([[ 101, 7592, 2088,  999,  102]])>
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

__all__ = ["TFWordPieceTokenizer", "TFAutoTokenizer", "UnsupportedTokenizerError"]

# Unicode White_Space as an RE2 class (RE2's \s is ASCII only; tokenizers uses the Unicode property)
UNICODE_WHITESPACE = ("[\\t\\n\\x{b}\\f\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
                      "\\x{205f}\\x{3000}]")
PADDING = ("longest", "max_length", "do_not_pad")
# Layer options of tokenizers with a BOS / EOS template (GPT-2, Llama...): no token types, no length limit
DECODER_LAYER_DEFAULTS = dict(cls_id=None, sep_id=None, pair_template="bos_eos", return_token_type_ids=False,
                              max_length=None, truncation=False)
TRUNCATION = ("longest_first", "only_first", "only_second", "do_not_truncate")


class UnsupportedTokenizerError(ValueError):
    """The checkpoint's tokenizer pipeline has a part no in-graph tokenizer reproduces."""


def _tf_text():
    import tensorflow_text  # noqa: F401  (registers the ops; imported lazily: it is slow)

    return tensorflow_text


def _allow_string_batches_in_keras() -> None:
    """Let ``model.predict(["a text", ...])`` feed strings to a model that tokenizes in-graph.

    Keras' data adapters take numpy object arrays and tf string tensors but refuse a Python
    list of ``str`` and numpy unicode arrays; those become numpy object arrays first. Nothing
    else changes.
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


_allow_string_batches_in_keras()


# ------------------------------------------------------------------------------- char classes


def _re2_class(codepoints) -> str:
    """Sorted codepoints -> an RE2 character class of ranges, e.g. ``[\\x{41}-\\x{5a}]``."""
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

    from kerasformers.data.sources import cache_dir

    folder = cache_dir() / "tokenizer_tables"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}-tokenizers{tokenizers.__version__}.json"


def _cached_json(name: str, build):
    """``build()`` once per machine: the result is kept as JSON in the kerasformers cache."""
    path = _table_cache_file(name)
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            pass
    value = build()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    os.replace(tmp, path)
    return value


_SEPARATOR = "\u2042"  # a Po character every normaliser leaves alone; splits per-char results


def _all_codepoints():
    return [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and c != ord(_SEPARATOR)]


@functools.lru_cache(maxsize=None)
def bert_normalizer_tables(clean_text: bool, handle_chinese_chars: bool, strip_accents: bool | None,
                           lowercase: bool) -> dict:
    """What ``tokenizers``' BertNormalizer does to every codepoint, read off the library itself.

    BertNormalizer works character by character, so its effect is a per-codepoint map. The
    result (``removed``, ``spaced`` (CJK), ``to_space``, ``mapped``) is cached on disk.

    Example:
        >>> tables = bert_normalizer_tables(True, True, None, True)
        >>> tables["mapped"][str(ord("É"))]
        'e'
    """
    name = f"bert-normalizer-{int(clean_text)}{int(handle_chinese_chars)}{strip_accents}{int(lowercase)}"

    def build():
        from tokenizers import normalizers

        normalizer = normalizers.BertNormalizer(clean_text=clean_text, handle_chinese_chars=handle_chinese_chars,
                                                strip_accents=strip_accents, lowercase=lowercase)
        removed, spaced, to_space, mapped = [], [], [], {}
        codepoints = _all_codepoints()
        for i in range(0, len(codepoints), 65536):
            chunk = codepoints[i:i + 65536]
            outputs = normalizer.normalize_str(_SEPARATOR.join(map(chr, chunk))).split(_SEPARATOR)
            if len(outputs) != len(chunk):
                raise RuntimeError("BertNormalizer changed the separator character; cannot read its tables.")
            for c, out in zip(chunk, outputs):
                if out == chr(c):
                    continue
                if out == "":
                    removed.append(c)
                elif out == " ":
                    to_space.append(c)
                elif len(out) >= 3 and out[0] == " " and out[-1] == " ":
                    spaced.append(c)
                    if out[1:-1] != chr(c):
                        mapped[str(c)] = out[1:-1]
                else:
                    mapped[str(c)] = out
        return {"removed": removed, "spaced": spaced, "to_space": to_space, "mapped": mapped}

    return _cached_json(name, build)


@functools.lru_cache(maxsize=None)
def bert_pre_tokenizer_tables() -> dict:
    """Codepoints ``tokenizers``' BertPreTokenizer splits on: ``whitespace`` and ``punctuation``.

    Example:
        >>> ord(".") in bert_pre_tokenizer_tables()["punctuation"]
        True
    """

    def build():
        from tokenizers import pre_tokenizers

        pre = pre_tokenizers.BertPreTokenizer()
        punctuation, whitespace = [], []
        codepoints = _all_codepoints() + [ord(_SEPARATOR)]
        for i in range(0, len(codepoints), 65536):
            chunk = codepoints[i:i + 65536]
            text = "".join("a" + chr(c) for c in chunk) + "a"
            covered = bytearray(len(text))
            for _, (start, end) in pre.pre_tokenize_str(text):
                if end - start == 1 and start % 2 == 1:
                    punctuation.append(chunk[(start - 1) // 2])
                covered[start:end] = b"\x01" * (end - start)
            whitespace.extend(c for j, c in enumerate(chunk) if not covered[2 * j + 1])
        return {"punctuation": sorted(punctuation), "whitespace": sorted(whitespace)}

    return _cached_json("bert-pre-tokenizer", build)


# ------------------------------------------------------------------------------- shared base


def _backend_json(tokenizer) -> dict:
    return json.loads(tokenizer.backend_tokenizer.to_str())


def replace_invalid_utf8(text):
    """Strings -> the same strings with each invalid UTF-8 sequence replaced by U+FFFD.

    The Python tokenizers take ``str`` only, so bytes must become text first; TF's replacement is
    the one of Python's ``bytes.decode("utf-8", errors="replace")`` (one U+FFFD per maximal
    invalid subpart), so every in-graph tokenizer gives, for any bytes, the ids of the tokenizers
    library on ``raw.decode("utf-8", errors="replace")``. Without it each kind did its own thing
    (WordPiece gave [UNK], byte-level BPE tokenized the raw bytes).
    """
    return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


def _load_python_tokenizer(checkpoint, **kwargs):
    from kerasformers.tokenization import AutoTokenizer

    return AutoTokenizer.from_pretrained(checkpoint, **kwargs)


class _InGraphTokenizer(keras.layers.Layer):
    """Shared part: truncation, special tokens, padding and the output dict."""

    # regex of what to strip from a matched special token before its lookup (lstrip / rstrip tokens)
    _special_strip = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # so a .keras file holding a tokenizer layer (e.g. a functional model on strings) loads back
        keras.saving.register_keras_serializable(package="kerasformers")(cls)

    def __init__(self, *, cls_id: int | None, sep_id: int | None, pad_id: int, bos_ids=(), eos_ids=(),
                 pair_template: str = "bert", padding: str | bool = "longest", truncation: str | bool = True,
                 max_length: int | None = 512, pad_to_multiple_of: int | None = None,
                 return_token_type_ids: bool = True, return_attention_mask: bool = True,
                 add_special_tokens: bool = True, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
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
        config.update(cls_id=self.cls_id, sep_id=self.sep_id, pad_id=self.pad_id, bos_ids=self.bos_ids,
                      eos_ids=self.eos_ids, pair_template=self.pair_template, padding=self.padding,
                      truncation=self.truncation, max_length=self.max_length,
                      pad_to_multiple_of=self.pad_to_multiple_of,
                      return_token_type_ids=self.return_token_type_ids,
                      return_attention_mask=self.return_attention_mask,
                      add_special_tokens=self.add_special_tokens)
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

    # subclasses implement: tokenize(strings [N]) -> int64 RaggedTensor [N, None]
    def tokenize(self, text):
        raise NotImplementedError

    # ---------------------------------------------------------------- pieces
    @staticmethod
    def _as_strings(text, name: str = "text"):
        if isinstance(text, (list, tuple)) and not text:
            return tf.zeros([0], tf.string)
        if text is None:
            raise TypeError(f"`{name}` must be a string, a list of strings or a string tensor, got None.")
        try:
            text = tf.convert_to_tensor(text, dtype_hint=tf.string)
        except (ValueError, TypeError) as error:  # e.g. lists of different lengths, mixed types
            raise ValueError(f"`{name}` must be a string, a list of strings or a string tensor (rank 0 or 1); "
                             f"TensorFlow cannot make a tensor of it ({error}).") from None
        if text.dtype != tf.string:
            raise TypeError(f"`{name}` must be strings, got a tensor of {text.dtype.name}.")
        if text.shape.rank == 0:
            text = text[None]
        elif text.shape.rank == 2:  # (batch, 1), as keras.Input(shape=(1,), dtype="string") gives
            text = tf.reshape(text, [-1])
        elif text.shape.rank != 1:
            raise ValueError(f"`{name}` must be a batch of strings (rank 1), got a tensor of rank {text.shape.rank} "
                             f"and shape {text.shape}.")
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
            short, long_ = tf.minimum(n1, n2), tf.maximum(n1, n2)
            long_target = tf.where(short > budget64, short, tf.maximum(short, budget64 - short))
            short_target = short
            both = short_target + long_target > budget64
            short_target = tf.where(both, budget64 // 2, short_target)
            long_target = tf.where(both, budget64 // 2 + budget64 % 2, long_target)
            target1 = tf.where(swap, long_target, short_target)
            target2 = tf.where(swap, short_target, long_target)
            keep1 = tf.where(over, tf.minimum(n1, target1), n1)
            keep2 = tf.where(over, tf.minimum(n2, target2), n2)
        return _ragged_prefix(first, keep1), _ragged_prefix(second, keep2)

    def _with_special_tokens(self, first, second):
        """[CLS] A [SEP] (B [SEP]) with token type ids; special_tokens_mask marks the added ones."""
        batch = first.nrows()

        def const(ids):
            ids = [i for i in ids if i is not None]
            return tf.RaggedTensor.from_tensor(tf.tile(tf.constant([ids], tf.int64), [batch, 1])) if ids \
                else tf.RaggedTensor.from_tensor(tf.zeros([batch, 0], tf.int64))

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

    def call(self, text, text_pair=None, padding=None, truncation=None, max_length=None,
             pad_to_multiple_of=None, return_token_type_ids=None, return_attention_mask=None,
             return_special_tokens_mask: bool = False):
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
            raise ValueError(f"padding must be one of {PADDING} (or True/False), got {padding!r}.")
        if truncation not in TRUNCATION:
            raise ValueError(f"truncation must be one of {TRUNCATION} (or True/False), got {truncation!r}.")
        if (padding == "max_length" or truncation != "do_not_truncate") and max_length is None:
            raise ValueError("padding='max_length' and truncation need max_length.")
        first = self.tokenize(self._as_strings(text))
        second = self.tokenize(self._as_strings(text_pair)) if text_pair is not None else None
        if truncation != "do_not_truncate":
            first, second = self._truncate(first, second, int(max_length), truncation)
        ids, types, special = self._with_special_tokens(first, second)
        mask = tf.ones_like(ids)
        outputs = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
                   "special_tokens_mask": special}
        if padding != "do_not_pad":
            if padding == "max_length":
                length = tf.constant(int(max_length), tf.int64)
                length = tf.maximum(length, ids.bounding_shape(axis=1))
            else:
                length = ids.bounding_shape(axis=1)
            if pad_to_multiple_of:
                multiple = tf.constant(int(pad_to_multiple_of), tf.int64)
                length = (length + multiple - 1) // multiple * multiple
            outputs = {"input_ids": self._pad(ids, self.pad_id, length),
                       "token_type_ids": self._pad(types, 0, length),
                       "attention_mask": self._pad(mask, 0, length),
                       "special_tokens_mask": self._pad(special, 1, length)}
        return_token_type_ids = self.return_token_type_ids if return_token_type_ids is None \
            else return_token_type_ids
        return_attention_mask = self.return_attention_mask if return_attention_mask is None \
            else return_attention_mask
        if not return_token_type_ids:
            outputs.pop("token_type_ids")
        if not return_attention_mask:
            outputs.pop("attention_mask")
        if not return_special_tokens_mask:
            outputs.pop("special_tokens_mask")
        return outputs

    def _build_special_token_split(self, special_tokens: dict[str, int], lstrip=(), rstrip=()):
        """The regex and table that split special tokens written in the text off, longest first.

        ``lstrip`` / ``rstrip`` tokens also take the whitespace beside them, as in tokenizers.
        """
        if not special_tokens:
            self._special_pattern = None
            return
        ordered = sorted(special_tokens, key=len, reverse=True)
        self._special_pattern = "|".join(
            (f"{UNICODE_WHITESPACE}*" if t in lstrip else "") + re.escape(t)
            + (f"{UNICODE_WHITESPACE}*" if t in rstrip else "") for t in ordered)
        # the lookup strips that whitespace again
        self._special_strip = f"^{UNICODE_WHITESPACE}+|{UNICODE_WHITESPACE}+$" if lstrip or rstrip else None
        self._special_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(ordered),
                                                tf.constant([special_tokens[t] for t in ordered], tf.int64)),
            default_value=-1)

    def _tokenize_around_special_tokens(self, text):
        """Split out special tokens written in the text (one id each) and tokenize the rest."""
        segments = _tf_text().regex_split(text, self._special_pattern, self._special_pattern)
        flat = segments.flat_values
        keys = flat if self._special_strip is None else tf.strings.regex_replace(flat, self._special_strip, "")
        special_ids = self._special_table.lookup(keys)
        is_special = special_ids >= 0
        plain = self._tokenize_plain(tf.where(is_special, "", flat))
        single = tf.RaggedTensor.from_row_lengths(tf.boolean_mask(special_ids, is_special),
                                                  tf.cast(is_special, tf.int64))
        pieces = tf.concat([single, plain], axis=1)
        return segments.with_flat_values(pieces).merge_dims(1, 2)


def _ragged_prefix(ragged, keep):
    """Keep the first ``keep[i]`` items of each row of a 2-D RaggedTensor."""
    positions = tf.ragged.range(ragged.row_lengths())
    return tf.ragged.boolean_mask(ragged, positions < keep[:, None])

# ------------------------------------------------------------------------------- WordPiece


class TFWordPieceTokenizer(_InGraphTokenizer):
    """BERT-family tokenizer as a Keras layer: strings in, padded int64 model inputs out.

    Matches ``tokenizers``' BertNormalizer + BertPreTokenizer + WordPiece + BERT template,
    including added special tokens written in the text (``"[MASK]"``). Build it with
    :meth:`from_pretrained` (a checkpoint) or :meth:`from_tokenizer` (a Python tokenizer).

    Example:
        >>> tokenizer = TFWordPieceTokenizer.from_pretrained("path/to/bert", max_length=128)
        >>> batch = tokenizer(tf.constant(["Hello world!"]), tf.constant(["Second part"]))
        >>> sorted(batch)
        ['attention_mask', 'input_ids', 'token_type_ids']
    """

    def __init__(self, vocab: list[str], *, unk_token: str = "[UNK]", continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100, clean_text: bool = True,
                 handle_chinese_chars: bool = True, strip_accents: bool | None = None, lowercase: bool = True,
                 special_tokens: dict[str, int] | None = None, cls_token: str = "[CLS]", sep_token: str = "[SEP]",
                 pad_token: str = "[PAD]", **kwargs):
        index = {token: i for i, token in enumerate(vocab)}
        for name, token in (("unk_token", unk_token), ("cls_token", cls_token), ("sep_token", sep_token),
                            ("pad_token", pad_token)):
            if token not in index and token not in (special_tokens or {}):
                raise ValueError(f"{name} {token!r} is not in the vocabulary.")
        ids = {**index, **(special_tokens or {})}
        kwargs.setdefault("cls_id", ids[cls_token])
        kwargs.setdefault("sep_id", ids[sep_token])
        kwargs.setdefault("pad_id", ids[pad_token])
        super().__init__(**kwargs)
        self.vocab = tuple(vocab)
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.normalizer_options = dict(clean_text=clean_text, handle_chinese_chars=handle_chinese_chars,
                                       strip_accents=strip_accents, lowercase=lowercase)
        self.special_tokens = dict(special_tokens or {})
        self.cls_token, self.sep_token, self.pad_token = cls_token, sep_token, pad_token
        self._build_graph_parts()

    def _build_graph_parts(self):
        tf_text = _tf_text()
        normalizer = bert_normalizer_tables(**self.normalizer_options)
        pre = bert_pre_tokenizer_tables()
        self._removed = _re2_class(normalizer["removed"])
        self._spaced = _re2_class(normalizer["spaced"])
        to_space = set(normalizer["to_space"])
        self._to_space = _re2_class(to_space)
        mapped = {int(k): v for k, v in normalizer["mapped"].items()}
        ascii_mapped = {c: v for c, v in mapped.items() if c < 128}
        self._ascii_lower = bool(ascii_mapped)
        if ascii_mapped and ascii_mapped != {c: chr(c).lower() for c in range(65, 91)}:
            raise UnsupportedTokenizerError("Unexpected ASCII mapping in the BERT normaliser.")
        wide = {chr(c): v for c, v in mapped.items() if c >= 128}
        self._wide_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(list(wide) or ["\x00"]),
                                                tf.constant(list(wide.values()) or ["\x00"])),
            default_value="") if wide else None
        punctuation = _re2_class(pre["punctuation"])
        whitespace = _re2_class(pre["whitespace"])
        self._split_delim = f"{whitespace}+|{punctuation}"
        self._split_keep = punctuation
        self._build_special_token_split(self.special_tokens)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=self.vocab, suffix_indicator=self.continuing_subword_prefix,
            max_bytes_per_word=4 * self.max_input_chars_per_word + 4, token_out_type=tf.int64,
            unknown_token=self.unk_token, no_pretokenization=True, support_detokenization=True)
        self._vocab_tensor = tf.constant(self.vocab)

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "TFWordPieceTokenizer":
        """Build from a Python tokenizer (``kerasformers.AutoTokenizer`` or a ``tokenizers.Tokenizer``).

        Example:
            >>> TFWordPieceTokenizer.from_tokenizer(AutoTokenizer.from_pretrained(path))
        """
        spec = json.loads(tokenizer.to_str()) if hasattr(tokenizer, "to_str") else _backend_json(tokenizer)
        model = spec.get("model") or {}
        if model.get("type") != "WordPiece":
            raise UnsupportedTokenizerError(f"TFWordPieceTokenizer needs a WordPiece model, got {model.get('type')!r}.")
        normalizer = spec.get("normalizer") or {}
        if normalizer.get("type") != "BertNormalizer":
            raise UnsupportedTokenizerError(
                f"TFWordPieceTokenizer reproduces the BertNormalizer only, got {normalizer.get('type')!r}.")
        pre = spec.get("pre_tokenizer") or {}
        if pre.get("type") != "BertPreTokenizer":
            raise UnsupportedTokenizerError(
                f"TFWordPieceTokenizer reproduces the BertPreTokenizer only, got {pre.get('type')!r}.")
        size = max(model["vocab"].values()) + 1
        vocab = [f"<unused-id-{i}>" for i in range(size)]
        for token, i in model["vocab"].items():
            vocab[i] = token
        special = {t["content"]: t["id"] for t in spec.get("added_tokens", []) if not t.get("normalized", True)}
        cls_token, sep_token = _template_tokens(spec.get("post_processor"))
        pad_token = getattr(tokenizer, "pad_token", None) or "[PAD]"
        options = dict(
            unk_token=model.get("unk_token", "[UNK]"),
            continuing_subword_prefix=model.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
            clean_text=normalizer.get("clean_text", True),
            handle_chinese_chars=normalizer.get("handle_chinese_chars", True),
            strip_accents=normalizer.get("strip_accents"), lowercase=normalizer.get("lowercase", True),
            special_tokens=special, cls_token=cls_token, sep_token=sep_token, pad_token=pad_token,
            max_length=_model_max_length(tokenizer),
        )
        options.update(kwargs)
        return cls(vocab, **options)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs) -> "TFWordPieceTokenizer":
        """Build from a checkpoint's tokenizer files (tokenizer.json or vocab.txt).

        Keyword arguments are layer options (``max_length``, ``padding``, ``truncation``, ...).

        Example:
            >>> tokenizer = TFWordPieceTokenizer.from_pretrained("path/to/bert", max_length=128)
        """
        loading = {k: kwargs.pop(k) for k in ("revision", "cache_dir") if k in kwargs}
        return cls.from_tokenizer(_load_python_tokenizer(pretrained_model_name_or_path, **loading), **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(vocab=list(self.vocab), unk_token=self.unk_token,
                      continuing_subword_prefix=self.continuing_subword_prefix,
                      max_input_chars_per_word=self.max_input_chars_per_word, special_tokens=dict(self.special_tokens),
                      cls_token=self.cls_token, sep_token=self.sep_token, pad_token=self.pad_token,
                      **dict(self.normalizer_options))
        return config

    # ---------------------------------------------------------------- graph
    def normalize(self, text):
        """BertNormalizer in TF ops: strings [N] -> normalised strings [N]."""
        if self._removed:
            text = tf.strings.regex_replace(text, self._removed, "")
        if self._spaced:
            text = tf.strings.regex_replace(text, f"({self._spaced})", " \\1 ")
        if self._to_space:
            text = tf.strings.regex_replace(text, self._to_space, " ")
        if self._ascii_lower:
            text = tf.strings.lower(text)  # ASCII letters only; the rest goes through the table
        if self._wide_table is not None:
            table = self._wide_table

            def per_character(strings):
                chars = tf.strings.unicode_split(strings, "UTF-8")
                mapped = tf.ragged.map_flat_values(table.lookup, chars)
                chars = tf.ragged.map_flat_values(
                    lambda c, m: tf.where(tf.equal(m, ""), c, m), chars, mapped)
                return tf.strings.reduce_join(chars, axis=-1)

            non_ascii = tf.strings.regex_full_match(text, "[\\x00-\\x7f]*")
            text = tf.cond(tf.reduce_all(non_ascii), lambda: text, lambda: per_character(text))
        return text

    def _tokenize_plain(self, text):
        tf_text = _tf_text()
        words = tf_text.regex_split(self.normalize(text), self._split_delim, self._split_keep)
        too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > self.max_input_chars_per_word
        words = words.with_flat_values(tf.where(too_long, self.unk_token, words.flat_values))
        return self._wordpiece.tokenize(words).merge_dims(1, 2)

    def tokenize(self, text):
        """Strings [N] -> int64 RaggedTensor [N, tokens] of ids, without special tokens added."""
        text = replace_invalid_utf8(text)
        if self._special_pattern is None:
            return self._tokenize_plain(text)
        if self.normalizer_options["clean_text"]:
            # regex_split stops at NUL bytes; NUL is dropped by clean_text anyway, as is \x01
            text = tf.strings.regex_replace(text, "\\x00", "\x01")
        return self._tokenize_around_special_tokens(text)

    def ids_to_tokens(self, ids):
        """int ids -> token strings (same shape)."""
        return tf.gather(self._vocab_tensor, tf.clip_by_value(tf.cast(ids, tf.int64), 0, len(self.vocab) - 1))

    def detokenize(self, ids):
        """RaggedTensor [N, tokens] of ids -> strings [N] (pieces joined, ``##`` merged)."""
        tokens = self.ids_to_tokens(ids)
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        return tf.strings.regex_replace(text, " " + re.escape(self.continuing_subword_prefix), "")


def _template_tokens(post_processor: dict | None) -> tuple[str, str]:
    """(cls, sep) from a BertProcessing / TemplateProcessing post-processor."""
    if not post_processor:
        return "[CLS]", "[SEP]"
    kind = post_processor.get("type")
    if kind in ("BertProcessing", "RobertaProcessing"):
        return post_processor["cls"][0], post_processor["sep"][0]
    if kind == "TemplateProcessing":
        specials = [item["SpecialToken"]["id"] for item in post_processor.get("single", []) if "SpecialToken" in item]
        if len(specials) == 2:
            return specials[0], specials[1]
    if kind == "Sequence":
        for processor in post_processor.get("processors", []):
            if processor.get("type") in ("BertProcessing", "RobertaProcessing", "TemplateProcessing"):
                return _template_tokens(processor)
    raise UnsupportedTokenizerError(f"Cannot read [CLS]/[SEP] from the post-processor {kind!r}.")


def _model_max_length(tokenizer) -> int | None:
    value = getattr(tokenizer, "model_max_length", None)
    if value is None or value > 1_000_000:
        return None
    return int(value)


# ------------------------------------------------------------------------------- auto


class TFAutoTokenizer:
    """Picks the in-graph tokenizer layer for a checkpoint from its tokenizer files.

    Example:
        >>> tokenizer = TFAutoTokenizer.from_pretrained("path/to/all-MiniLM-L6-v2", max_length=128)
        >>> tokenizer(tf.constant(["hi"]))["input_ids"]
    """

    def __init__(self):
        raise EnvironmentError("Use TFAutoTokenizer.from_pretrained(checkpoint).")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs) -> _InGraphTokenizer:
        """The in-graph tokenizer for ``pretrained_model_name_or_path`` (layer options as kwargs)."""
        loading = {k: kwargs.pop(k) for k in ("revision", "cache_dir") if k in kwargs}
        tokenizer = _load_python_tokenizer(pretrained_model_name_or_path, **loading)
        return cls.from_tokenizer(tokenizer, **kwargs)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> _InGraphTokenizer:
        """The in-graph tokenizer reproducing a Python tokenizer."""
        spec = json.loads(tokenizer.to_str()) if hasattr(tokenizer, "to_str") else _backend_json(tokenizer)
        kind = (spec.get("model") or {}).get("type")
        if kind == "WordPiece":
            return TFWordPieceTokenizer.from_tokenizer(tokenizer, **kwargs)
        pre = spec.get("pre_tokenizer") or {}
        steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
        if kind == "BPE" and any(step.get("type") == "ByteLevel" for step in steps):
            # GPT-2's ByteLevel, or Sequence[Split(regex), ByteLevel] (Llama 3, Qwen2); raises if another form
            from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer

            return TFByteLevelBPETokenizer.from_tokenizer(tokenizer, **kwargs)
        if kind == "BPE" and (spec.get("model") or {}).get("byte_fallback"):
            # SentencePiece BPE converted to tokenizer.json (Llama 2 kind); raises if it is another kind
            from kerasformers.tokenizers_spm_tf import TFSentencePieceTokenizer

            return TFSentencePieceTokenizer.from_tokenizer(tokenizer, **kwargs)
        raise UnsupportedTokenizerError(f"No in-graph tokenizer for a {kind!r} tokenizer model yet.")
