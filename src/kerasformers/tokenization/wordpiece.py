"""In-graph WordPiece tokenizer (BERT family) as a Keras layer.

:class:`TFWordPieceTokenizer` runs BERT normalisation and pre-tokenisation with character
classes read off the ``tokenizers`` library itself (so accents, CJK, control and whitespace
characters behave exactly as in Python), then tf-text's FastWordpieceTokenizer, then the BERT
template. Its ids equal the Python tokenizer's on the same files.

Example:
    >>> tokenizer = TFWordPieceTokenizer.from_pretrained("path/to/all-MiniLM-L6-v2")
    >>> tokenizer(tf.constant(["Hello world!"]))["input_ids"]
    <tf.Tensor: shape=(1, 5), dtype=int64, numpy=array([[ 101, 7592, 2088,  999,  102]])>
"""

from __future__ import annotations

import functools
import os
import re

import tensorflow as tf

from kerasformers.errors import InvalidInputError, UnsupportedTokenizerError
from kerasformers.tokenization.fast import load_pretrained_tokenizer
from kerasformers.tokenization.files import added_token_ids, template_tokens, tokenizer_spec
from kerasformers.tokenization.in_graph import TFTokenizerLayer, cached_json, re2_class, replace_invalid_utf8, tf_text

__all__ = ["TFWordPieceTokenizer", "bert_normalizer_tables", "bert_pre_tokenizer_tables"]


# ------------------------------------------------------------------------------- char classes

_SEPARATOR = "\u2042"  # a Po character every normaliser leaves alone; splits per-char results


def _all_codepoints():
    return [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and c != ord(_SEPARATOR)]


@functools.lru_cache(maxsize=None)
def bert_normalizer_tables(
    clean_text: bool, handle_chinese_chars: bool, strip_accents: bool | None, lowercase: bool
) -> dict:
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

        normalizer = normalizers.BertNormalizer(
            clean_text=clean_text,
            handle_chinese_chars=handle_chinese_chars,
            strip_accents=strip_accents,
            lowercase=lowercase,
        )
        removed, spaced, to_space, mapped = [], [], [], {}
        codepoints = _all_codepoints()
        for i in range(0, len(codepoints), 65536):
            chunk = codepoints[i : i + 65536]
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

    return cached_json(name, build)


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
            chunk = codepoints[i : i + 65536]
            text = "".join("a" + chr(c) for c in chunk) + "a"
            covered = bytearray(len(text))
            for _, (start, end) in pre.pre_tokenize_str(text):
                if end - start == 1 and start % 2 == 1:
                    punctuation.append(chunk[(start - 1) // 2])
                covered[start:end] = b"\x01" * (end - start)
            whitespace.extend(c for j, c in enumerate(chunk) if not covered[2 * j + 1])
        return {"punctuation": sorted(punctuation), "whitespace": sorted(whitespace)}

    return cached_json("bert-pre-tokenizer", build)


# ------------------------------------------------------------------------------- the layer


class TFWordPieceTokenizer(TFTokenizerLayer):
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

    def __init__(
        self,
        vocab: list[str],
        *,
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        lowercase: bool = True,
        special_tokens: dict[str, int] | None = None,
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        **kwargs,
    ):
        index = {token: i for i, token in enumerate(vocab)}
        for name, token in (
            ("unk_token", unk_token),
            ("cls_token", cls_token),
            ("sep_token", sep_token),
            ("pad_token", pad_token),
        ):
            if token not in index and token not in (special_tokens or {}):
                raise InvalidInputError(f"{name} {token!r} is not in the vocabulary.")
        ids = {**index, **(special_tokens or {})}
        kwargs.setdefault("cls_id", ids[cls_token])
        kwargs.setdefault("sep_id", ids[sep_token])
        kwargs.setdefault("pad_id", ids[pad_token])
        super().__init__(**kwargs)
        self.vocab = tuple(vocab)
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.normalizer_options = dict(
            clean_text=clean_text,
            handle_chinese_chars=handle_chinese_chars,
            strip_accents=strip_accents,
            lowercase=lowercase,
        )
        self.special_tokens = dict(special_tokens or {})
        self.cls_token, self.sep_token, self.pad_token = cls_token, sep_token, pad_token
        self._build_graph_parts()

    def _build_graph_parts(self):
        text_ops = tf_text()
        normalizer = bert_normalizer_tables(**self.normalizer_options)
        pre = bert_pre_tokenizer_tables()
        self._removed = re2_class(normalizer["removed"])
        self._spaced = re2_class(normalizer["spaced"])
        to_space = set(normalizer["to_space"])
        self._to_space = re2_class(to_space)
        mapped = {int(k): v for k, v in normalizer["mapped"].items()}
        ascii_mapped = {c: v for c, v in mapped.items() if c < 128}
        self._ascii_lower = bool(ascii_mapped)
        if ascii_mapped and ascii_mapped != {c: chr(c).lower() for c in range(65, 91)}:
            raise UnsupportedTokenizerError("Unexpected ASCII mapping in the BERT normaliser.")
        wide = {chr(c): v for c, v in mapped.items() if c >= 128}
        self._wide_table = (
            tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(list(wide) or ["\x00"]), tf.constant(list(wide.values()) or ["\x00"])
                ),
                default_value="",
            )
            if wide
            else None
        )
        punctuation = re2_class(pre["punctuation"])
        whitespace = re2_class(pre["whitespace"])
        self._split_delim = f"{whitespace}+|{punctuation}"
        self._split_keep = punctuation
        self.use_special_tokens(self.special_tokens)
        self._wordpiece = text_ops.FastWordpieceTokenizer(
            vocab=self.vocab,
            suffix_indicator=self.continuing_subword_prefix,
            max_bytes_per_word=4 * self.max_input_chars_per_word + 4,
            token_out_type=tf.int64,
            unknown_token=self.unk_token,
            no_pretokenization=True,
            support_detokenization=True,
        )
        self._vocab_tensor = tf.constant(self.vocab)

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "TFWordPieceTokenizer":
        """Build from a Python tokenizer (``kerasformers.AutoTokenizer`` or a ``tokenizers.Tokenizer``).

        Example:
            >>> TFWordPieceTokenizer.from_tokenizer(AutoTokenizer.from_pretrained(path))
        """
        spec = tokenizer_spec(tokenizer)
        model = spec.get("model") or {}
        if model.get("type") != "WordPiece":
            raise UnsupportedTokenizerError(f"TFWordPieceTokenizer needs a WordPiece model, got {model.get('type')!r}.")
        normalizer = spec.get("normalizer") or {}
        if normalizer.get("type") != "BertNormalizer":
            raise UnsupportedTokenizerError(
                f"TFWordPieceTokenizer reproduces the BertNormalizer only, got {normalizer.get('type')!r}."
            )
        pre = spec.get("pre_tokenizer") or {}
        if pre.get("type") != "BertPreTokenizer":
            raise UnsupportedTokenizerError(
                f"TFWordPieceTokenizer reproduces the BertPreTokenizer only, got {pre.get('type')!r}."
            )
        size = max(model["vocab"].values()) + 1
        vocab = [f"<unused-id-{i}>" for i in range(size)]
        for token, i in model["vocab"].items():
            vocab[i] = token
        special = added_token_ids(spec, unnormalized_only=True)
        cls_token, sep_token = template_tokens(spec.get("post_processor"))
        pad_token = getattr(tokenizer, "pad_token", None) or "[PAD]"
        options = dict(
            unk_token=model.get("unk_token", "[UNK]"),
            continuing_subword_prefix=model.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
            clean_text=normalizer.get("clean_text", True),
            handle_chinese_chars=normalizer.get("handle_chinese_chars", True),
            strip_accents=normalizer.get("strip_accents"),
            lowercase=normalizer.get("lowercase", True),
            special_tokens=special,
            cls_token=cls_token,
            sep_token=sep_token,
            pad_token=pad_token,
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
        return cls.from_tokenizer(load_pretrained_tokenizer(pretrained_model_name_or_path, **loading), **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            vocab=list(self.vocab),
            unk_token=self.unk_token,
            continuing_subword_prefix=self.continuing_subword_prefix,
            max_input_chars_per_word=self.max_input_chars_per_word,
            special_tokens=dict(self.special_tokens),
            cls_token=self.cls_token,
            sep_token=self.sep_token,
            pad_token=self.pad_token,
            **dict(self.normalizer_options),
        )
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
                chars = tf.ragged.map_flat_values(lambda c, m: tf.where(tf.equal(m, ""), c, m), chars, mapped)
                return tf.strings.reduce_join(chars, axis=-1)

            non_ascii = tf.strings.regex_full_match(text, "[\\x00-\\x7f]*")
            text = tf.cond(tf.reduce_all(non_ascii), lambda: text, lambda: per_character(text))
        return text

    def tokenize_plain(self, text):
        """Strings [N] without special tokens -> int64 RaggedTensor [N, tokens] of WordPiece ids."""
        text_ops = tf_text()
        words = text_ops.regex_split(self.normalize(text), self._split_delim, self._split_keep)
        too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > self.max_input_chars_per_word
        words = words.with_flat_values(tf.where(too_long, self.unk_token, words.flat_values))
        return self._wordpiece.tokenize(words).merge_dims(1, 2)

    def tokenize(self, text):
        """Strings [N] -> int64 RaggedTensor [N, tokens] of ids, without special tokens added."""
        text = replace_invalid_utf8(text)
        if self.special_pattern is None:
            return self.tokenize_plain(text)
        if self.normalizer_options["clean_text"]:
            # regex_split stops at NUL bytes; NUL is dropped by clean_text anyway, as is \x01
            text = tf.strings.regex_replace(text, "\\x00", "\x01")
        return self.tokenize_with_special_tokens(text)

    def ids_to_tokens(self, ids):
        """int ids -> token strings (same shape)."""
        return tf.gather(self._vocab_tensor, tf.clip_by_value(tf.cast(ids, tf.int64), 0, len(self.vocab) - 1))

    def detokenize(self, ids):
        """RaggedTensor [N, tokens] of ids -> strings [N] (pieces joined, ``##`` merged)."""
        tokens = self.ids_to_tokens(ids)
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        return tf.strings.regex_replace(text, " " + re.escape(self.continuing_subword_prefix), "")


def _model_max_length(tokenizer) -> int | None:
    value = getattr(tokenizer, "model_max_length", None)
    if value is None or value > 1_000_000:
        return None
    return int(value)
