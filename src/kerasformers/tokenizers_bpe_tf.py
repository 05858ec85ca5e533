"""In-graph byte-level BPE tokenizer (GPT-2 style) as a Keras layer.

:class:`TFByteLevelBPETokenizer` reproduces ``tokenizers``' ByteLevel pre-tokenizer (GPT-2
regex) + BPE model with TensorFlow / tensorflow-text ops only, so its ids equal the Python
tokenizer's on the same ``tokenizer.json`` (or ``vocab.json`` + ``merges.txt``).

Pipeline, all in-graph:

1. added (special) tokens written in the text are split off first;
2. GPT-2 pre-tokenisation. RE2 has no lookahead, so ``\\s+(?!\\S)`` is emulated: the text is
   cut into whitespace runs and non-whitespace runs; a whitespace run followed by more text
   gives up its last character (a space joins the next word, any other whitespace character
   becomes its own piece), then the GPT-2 pattern without the lookahead splits each piece;
3. bytes -> GPT-2's byte-to-unicode alphabet (a static table);
4. BPE merges in a ``tf.while_loop`` over all words at once: per word, the lowest-rank
   adjacent pair is merged (every non-overlapping occurrence, left to right) until none is in
   the merges table;
5. vocabulary lookup.

Example:
    >>> tokenizer = TFByteLevelBPETokenizer.from_pretrained("path/to/gpt2")
    >>> tokenizer(tf.constant(["Hello world!"]))["input_ids"]
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import tensorflow as tf

from kerasformers.tokenizers_tf import UnsupportedTokenizerError, _InGraphTokenizer, _tf_text

__all__ = ["TFByteLevelBPETokenizer", "bytes_to_unicode"]

# Unicode White_Space, as Oniguruma's \s (used by the tokenizers library) matches
_WS = "\\t\\n\\x{b}\\f\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
_WS_CLASS = f"[{_WS}]"
_RUNS = f"{_WS_CLASS}+|[^{_WS}]+"
# GPT-2's pattern without the `\s+(?!\S)` alternative (emulated around it)
_GPT2_PATTERN = ("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" + _WS + "\\p{L}\\p{N}]+|" + _WS_CLASS + "+")
_NO_RANK = tf.int64.max


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class TFByteLevelBPETokenizer(_InGraphTokenizer):
    """GPT-2 style byte-level BPE tokenizer as a Keras layer: strings in, int64 ids out.

    ``call`` returns ``input_ids`` and ``attention_mask`` padded to the longest sequence (see
    :class:`kerasformers.tokenizers_tf._InGraphTokenizer` for padding / truncation options);
    :meth:`tokenize` gives the unpadded ids as a RaggedTensor.

    Example:
        >>> tokenizer = TFByteLevelBPETokenizer.from_pretrained("path/to/gpt2")
        >>> tokenizer.tokenize(tf.constant(["Hello world!"]))
    """

    def __init__(self, vocab: dict[str, int], merges: list[str], *, add_prefix_space: bool = False,
                 special_tokens: dict[str, int] | None = None, unk_token: str | None = None,
                 pad_token: str | None = None, bos_ids=(), eos_ids=(), **kwargs):
        vocab = {str(k): int(v) for k, v in vocab.items()}
        special_tokens = dict(special_tokens or {})
        ids = {**vocab, **special_tokens}
        if pad_token is not None and pad_token not in ids:
            raise ValueError(f"pad_token {pad_token!r} is not in the vocabulary.")
        kwargs.setdefault("pad_id", ids[pad_token] if pad_token is not None else 0)
        kwargs.setdefault("cls_id", None)
        kwargs.setdefault("sep_id", None)
        kwargs.setdefault("pair_template", "bos_eos")
        kwargs.setdefault("return_token_type_ids", False)
        kwargs.setdefault("max_length", None)
        kwargs.setdefault("truncation", False)
        super().__init__(bos_ids=bos_ids, eos_ids=eos_ids, **kwargs)
        self.vocab = vocab
        self.merges = [" ".join(m) if isinstance(m, (list, tuple)) else str(m) for m in merges]
        self.add_prefix_space = bool(add_prefix_space)
        self.special_tokens = special_tokens
        self.unk_token = unk_token
        self.pad_token = pad_token
        self._build_graph_parts()

    def _build_graph_parts(self):
        encoder = bytes_to_unicode()
        self._byte_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant([bytes([b]) for b in range(256)]),
                                                tf.constant([encoder[b] for b in range(256)])),
            default_value="")
        self._merge_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(self.merges or ["\x00 \x00"], tf.string),
                                                tf.range(max(len(self.merges), 1), dtype=tf.int64)),
            default_value=_NO_RANK)
        tokens = list(self.vocab)
        unk = self.vocab.get(self.unk_token, -1) if self.unk_token is not None else -1
        self._vocab_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(tokens), tf.constant([self.vocab[t] for t in tokens],
                                                                                 tf.int64)),
            default_value=unk)
        inverse = [""] * (max([*self.vocab.values(), *self.special_tokens.values(), -1]) + 1)
        for token, i in {**self.vocab, **self.special_tokens}.items():
            inverse[i] = token
        self._id_to_token = tf.constant(inverse or [""])
        if self.special_tokens:
            ordered = sorted(self.special_tokens, key=len, reverse=True)
            self._special_pattern = "|".join(re.escape(t) for t in ordered)
            self._special_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(tf.constant(ordered),
                                                    tf.constant([self.special_tokens[t] for t in ordered], tf.int64)),
                default_value=-1)
        else:
            self._special_pattern = None

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "TFByteLevelBPETokenizer":
        """Build from a ``tokenizers.Tokenizer`` or a Python tokenizer with a ``tokenizers`` backend."""
        if hasattr(tokenizer, "to_str"):
            spec = json.loads(tokenizer.to_str())
        else:
            spec = json.loads(tokenizer.backend_tokenizer.to_str())
        return cls.from_spec(spec, pad_token=getattr(tokenizer, "pad_token", None), **kwargs)

    @classmethod
    def from_spec(cls, spec: dict, pad_token: str | None = None, **kwargs) -> "TFByteLevelBPETokenizer":
        """Build from the parsed contents of a ``tokenizer.json``."""
        model = spec.get("model") or {}
        if model.get("type") != "BPE":
            raise UnsupportedTokenizerError(f"TFByteLevelBPETokenizer needs a BPE model, got {model.get('type')!r}.")
        if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix") or model.get("dropout"):
            raise UnsupportedTokenizerError("BPE subword prefixes / suffixes / dropout are not supported in-graph.")
        if spec.get("normalizer"):
            raise UnsupportedTokenizerError(f"Normalizer {spec['normalizer'].get('type')!r} is not supported in-graph.")
        pre = spec.get("pre_tokenizer") or {}
        if pre.get("type") != "ByteLevel" or not pre.get("use_regex", True):
            raise UnsupportedTokenizerError(
                f"TFByteLevelBPETokenizer reproduces the GPT-2 ByteLevel pre-tokenizer only, got {pre.get('type')!r}.")
        post = spec.get("post_processor") or {}
        processors = post.get("processors", []) if post.get("type") == "Sequence" else [post] if post else []
        bos_ids, eos_ids = [], []
        for processor in processors:
            if processor.get("type") == "TemplateProcessing":
                bos_ids, eos_ids = _bos_eos_from_template(processor)
            elif processor.get("type") != "ByteLevel":
                raise UnsupportedTokenizerError(
                    f"Post-processor {processor.get('type')!r} is not supported in-graph.")
        added = spec.get("added_tokens", [])
        if any(t.get("lstrip") or t.get("rstrip") or t.get("single_word") for t in added):
            raise UnsupportedTokenizerError(
                "Added tokens with lstrip / rstrip / single_word are not supported in-graph.")
        special = {t["content"]: int(t["id"]) for t in added}
        options = dict(add_prefix_space=pre.get("add_prefix_space", False), special_tokens=special,
                       unk_token=model.get("unk_token"), pad_token=pad_token, bos_ids=bos_ids, eos_ids=eos_ids)
        options.update(kwargs)
        return cls(model["vocab"], model.get("merges", []), **options)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, **kwargs) -> "TFByteLevelBPETokenizer":
        """Build from a folder with ``tokenizer.json`` (or ``vocab.json`` + ``merges.txt``).

        Keyword arguments are layer options (``padding``, ``max_length``, ``pad_token``, ...).
        """
        folder = Path(folder)
        if (folder / "tokenizer.json").is_file():
            spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
            return cls.from_spec(spec, **kwargs)
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
        merges = [line for line in lines if line and not line.startswith("#version")]
        return cls(vocab, merges, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(vocab=dict(self.vocab), merges=list(self.merges), add_prefix_space=self.add_prefix_space,
                      special_tokens=dict(self.special_tokens), unk_token=self.unk_token, pad_token=self.pad_token)
        return config

    # ---------------------------------------------------------------- graph
    def pre_tokenize(self, text):
        """Strings [N] -> RaggedTensor [N, words] of GPT-2 pre-tokenised words (raw UTF-8).

        With ``add_prefix_space``, a space is put before each non-empty text not starting with
        one (as the library does for every piece of text between added tokens).
        """
        tf_text = _tf_text()
        if self.add_prefix_space:
            add = ~tf.strings.regex_full_match(text, "(?s) .*") & (tf.strings.length(text) > 0)
            text = tf.where(add, tf.strings.join([" ", text]), text)
        runs = tf_text.regex_split(text, _RUNS, _RUNS)
        flat = runs.flat_values
        lengths = runs.row_lengths()
        position = tf.ragged.range(lengths).flat_values
        has_next = position < tf.repeat(lengths, lengths) - 1
        is_ws = tf.strings.regex_full_match(flat, _WS_CLASS + "+")
        chars = tf.strings.length(flat, unit="UTF8_CHAR")
        head = tf.strings.substr(flat, tf.zeros_like(chars), tf.maximum(chars - 1, 0), unit="UTF8_CHAR")
        last = tf.strings.substr(flat, tf.maximum(chars - 1, 0), tf.ones_like(chars), unit="UTF8_CHAR")
        cut = is_ws & has_next
        gives_space = cut & tf.equal(last, " ")
        takes_space = tf.concat([[False], gives_space], axis=0)[:-1] & (position > 0)
        first = tf.where(cut, head, tf.where(takes_space, tf.strings.join([" ", flat]), flat))
        second = tf.where(cut & ~gives_space, last, "")
        pieces = tf.stack([first, second], axis=1)
        pieces = tf.ragged.boolean_mask(pieces, tf.strings.length(pieces) > 0)
        pieces = runs.with_flat_values(pieces).merge_dims(1, 2)
        words = tf_text.regex_split(pieces.flat_values, _GPT2_PATTERN, _GPT2_PATTERN)
        return pieces.with_flat_values(words).merge_dims(1, 2)

    def bpe(self, words):
        """Flat strings [W] (raw UTF-8 words) -> RaggedTensor [W, pieces] of BPE token strings."""
        chars = tf.strings.bytes_split(words)
        symbols = tf.ragged.map_flat_values(self._byte_table.lookup, chars)
        table = self._merge_table

        def step(values, splits):
            word = tf.RaggedTensor.from_row_splits(values, splits, validate=False)
            left, right = word[:, :-1], word[:, 1:]
            ranks = table.lookup(tf.strings.join([left.flat_values, right.flat_values], separator=" "))
            pair_rows = left.value_rowids()
            best = tf.math.unsorted_segment_min(ranks, pair_rows, tf.shape(splits, out_type=tf.int64)[0] - 1)
            match = tf.equal(ranks, tf.gather(best, pair_rows)) & (ranks < _NO_RANK)
            # non-overlapping occurrences, left to right: even offsets within each run of matches
            pair_position = tf.ragged.range(left.row_lengths()).flat_values
            previous = tf.concat([[False], match], axis=0)[:-1] & (pair_position > 0)
            start = match & ~previous
            count = tf.cumsum(tf.cast(match, tf.int64))
            run = tf.cumsum(tf.cast(start, tf.int64)) - 1
            start_count = tf.gather(tf.concat([tf.boolean_mask(count, start), [0]], axis=0), tf.maximum(run, 0))
            chosen = match & tf.equal((count - start_count) % 2, 0)
            symbol_index = tf.range(tf.shape(ranks, out_type=tf.int64)[0]) + pair_rows
            chosen_index = tf.boolean_mask(symbol_index, chosen)[:, None]
            n = tf.shape(values, out_type=tf.int64)[0]
            ones = tf.ones_like(chosen_index[:, 0], tf.int32)
            merged_here = tf.scatter_nd(chosen_index, ones, [n]) > 0
            removed = tf.scatter_nd(chosen_index + 1, ones, [n]) > 0
            following = tf.concat([values, [""]], axis=0)[1:]
            values = tf.where(merged_here, tf.strings.join([values, following]), values)
            word = tf.ragged.boolean_mask(tf.RaggedTensor.from_row_splits(values, splits, validate=False),
                                         tf.RaggedTensor.from_row_splits(~removed, splits, validate=False))
            return word.flat_values, word.row_splits, tf.reduce_any(chosen)

        def body(values, splits, _):
            return step(values, splits)

        values, splits = symbols.flat_values, symbols.row_splits
        values, splits, _ = tf.while_loop(
            lambda v, s, go: go, body, (values, splits, tf.constant(True)),
            shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]), tf.TensorShape([])))
        return tf.RaggedTensor.from_row_splits(values, splits, validate=False)

    def _tokenize_plain(self, text):
        words = self.pre_tokenize(text)
        tokens = self.bpe(words.flat_values)
        ids = tf.ragged.map_flat_values(self._vocab_table.lookup, tokens)
        ids = tf.ragged.boolean_mask(ids, ids >= 0)  # tokens missing from the vocabulary are dropped, as BPE does
        return words.with_flat_values(ids).merge_dims(1, 2)

    def tokenize(self, text):
        """Strings [N] -> int64 RaggedTensor [N, tokens] of ids, without special tokens added."""
        if self._special_pattern is None:
            return self._tokenize_plain(text)
        return self._tokenize_around_special_tokens(text)

    def ids_to_tokens(self, ids):
        """int ids -> token strings (same shape)."""
        size = int(self._id_to_token.shape[0])
        return tf.gather(self._id_to_token, tf.clip_by_value(tf.cast(ids, tf.int64), 0, size - 1))


def _bos_eos_from_template(processor: dict) -> tuple[list[int], list[int]]:
    """(bos ids, eos ids) of a TemplateProcessing ``[bos] $A [eos]`` (pairs: ``[bos] $A [eos] [bos] $B [eos]``)."""

    def layout(items):
        return [item["SpecialToken"]["id"] if "SpecialToken" in item else "$" + item["Sequence"]["id"]
                for item in items]

    single = layout(processor.get("single", []))
    if single.count("$A") != 1 or any(p.startswith("$") and p != "$A" for p in single):
        raise UnsupportedTokenizerError(f"Cannot read the template {single!r} in-graph.")
    cut = single.index("$A")
    bos, eos = single[:cut], single[cut + 1:]
    pair = layout(processor.get("pair", []))
    if pair and pair != bos + ["$A"] + eos + bos + ["$B"] + eos:
        raise UnsupportedTokenizerError(f"Cannot reproduce the pair template {pair!r} in-graph.")
    specials = processor.get("special_tokens", {})

    def ids(tokens):
        return [i for token in tokens for i in specials[token]["ids"]]

    return ids(bos), ids(eos)
