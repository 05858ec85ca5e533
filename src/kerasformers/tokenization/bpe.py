"""In-graph byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2 style) as a Keras layer.

:class:`TFByteLevelBPETokenizer` reproduces ``tokenizers``' byte-level BPE pipelines with
TensorFlow / tensorflow-text ops only, so its ids equal the Python tokenizer's on the same
``tokenizer.json`` (or ``vocab.json`` + ``merges.txt``): GPT-2's ``ByteLevel`` pre-tokenizer,
and ``Sequence[Split(regex) | Digits | WhitespaceSplit ..., ByteLevel]`` forms (Llama 3, Qwen2,
SmolLM2, StarCoder, DeepSeek-Coder, Falcon, Command-R, ...) with an NFC (NFKC, NFD, NFKD)
normalizer and the BPE option ``ignore_merges``.

Pipeline, all in-graph:

1. added (special) tokens written in the text are split off first;
2. Unicode normalisation, when the tokenizer has one;
3. pre-tokenisation: each split regex, translated to RE2 by :func:`split_pattern_to_re2`
   (``\\s+(?!\\S)`` is emulated with lead characters, see ``_LEAD``), in one global
   ``regex_replace`` that puts NULs around each match and one split at the NULs, over the
   pieces of the step before; other behaviours than Isolated drop or join pieces;
4. bytes -> GPT-2's byte-to-unicode alphabet (a static table);
5. BPE merges in a ``tf.while_loop`` over all words at once: per word, the lowest-rank
   adjacent pair is merged (every non-overlapping occurrence, left to right) until none is in
   the merges table; with ``ignore_merges`` a word that is itself a token is left whole;
6. vocabulary lookup.

Example:
    >>> tokenizer = TFByteLevelBPETokenizer.from_pretrained("path/to/gpt2")
    >>> tokenizer(tf.constant(["Hello world!"]))["input_ids"]
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import tensorflow as tf

from kerasformers.errors import InvalidInputError, UnsupportedTokenizerError
from kerasformers.tokenization.files import (
    added_token_ids,
    bos_eos_from_template,
    post_processors,
    read_bpe_files,
    read_tokenizer_json,
    tokenizer_spec,
)
from kerasformers.tokenization.in_graph import (
    DECODER_LAYER_DEFAULTS,
    UNICODE_WHITESPACE,
    TFTokenizerLayer,
    cached_json,
    re2_class,
    replace_invalid_utf8,
    tf_text,
)

__all__ = ["TFByteLevelBPETokenizer", "bytes_to_unicode"]

# Unicode White_Space, as Oniguruma's \s (used by the tokenizers library) matches
_WS_CLASS = UNICODE_WHITESPACE
_WS = UNICODE_WHITESPACE[1:-1]
# The regex of tokenizers' ByteLevel pre-tokenizer (use_regex=True), in Oniguruma syntax
GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
_NO_RANK = tf.int64.max
# The word cache of the BPE layer: as many words as the tokenizers library's BPE cache keeps, each
# of up to this many pieces (longer words are merged every time).
WORD_CACHE_CAPACITY = 10_000
WORD_CACHE_PIECES = 16
_CACHE_PAD = -2  # ids are >= -1 (-1: a byte missing from the vocabulary)
# From this many texts a graph tokenizes the two halves of the batch side by side (as the tokenizers
# library runs a batch on several threads); below it one text's latency would pay for the split.
SPLIT_BATCHES_FROM = 32

# RE2 has no lookahead. `\s+(?!\S)` is emulated with a lead character put before every whitespace
# character that is followed by a non-whitespace one: there the RE2 whitespace run stops. Every
# other atom may take one lead before it, so matches are otherwise those of the original regex.
# The same lead escapes the text's own lead characters and NUL bytes (NULs mark the matches):
# lead + a stand-in that every atom matches exactly when it matches the original character.
_LEAD = "\ufdd0"  # a Unicode noncharacter
_LEAD_RE = "\\x{fdd0}"
_STAND_INS = {"\ufdd0": "\ufdd1", "\x00": "\x01"}  # original -> stand-in (same character classes)


def _re2_char(c: str) -> str:
    return f"\\x{{{ord(c):x}}}"


def _unescape(words):
    """Escaped strings -> the original text (see ``_LEAD``)."""
    for original, stand_in in reversed(_STAND_INS.items()):  # undone in reverse order
        words = tf.strings.regex_replace(words, _LEAD_RE + _re2_char(stand_in), original)
    return words


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


def oniguruma_property_extras(name: str) -> list[int]:
    """Code points in the tokenizers library's ``\\p{name}`` (Oniguruma) that RE2's ``\\p{name}`` lacks.

    The two engines ship different Unicode versions (Oniguruma's is newer: ~4.9k more letters,
    80 more numbers); the differences are read off both engines once and cached on disk.

    Example:
        >>> 0x1C89 in oniguruma_property_extras("L")  # a Unicode 16 letter
        True
    """

    def build():
        from tokenizers import Regex, pre_tokenizers

        text = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF)
        removed = pre_tokenizers.Split(Regex(f"\\p{{{name}}}"), behavior="removed")
        onig_rest = set("".join(piece for piece, _ in removed.pre_tokenize_str(text)))
        re2_rest = set(tf.strings.regex_replace(text, f"\\p{{{name}}}", "").numpy().decode("utf-8"))
        return {
            "extra": sorted(ord(c) for c in re2_rest - onig_rest),
            "missing": sorted(ord(c) for c in onig_rest - re2_rest),
        }

    try:
        tables = cached_json(f"oniguruma-property-{re.sub(r'[^A-Za-z0-9_]', '_', name)}", build)
    except Exception as error:  # an unknown property name in either engine
        raise UnsupportedTokenizerError(f"Cannot read the Unicode property \\p{{{name}}}: {error}") from error
    if tables["missing"]:
        raise UnsupportedTokenizerError(
            f"\\p{{{name}}} holds {len(tables['missing'])} code points in RE2 that the tokenizers library's regex "
            "engine does not; such a pattern cannot be reproduced in-graph."
        )
    return tables["extra"]


def split_pattern_to_re2(pattern: str) -> tuple[str, bool]:
    """A ``Split`` regex of a ``tokenizer.json`` (Oniguruma syntax) -> (RE2 regex, uses the lead marks).

    The RE2 regex runs on text prepared by :class:`TFByteLevelBPETokenizer` (see ``_LEAD``):
    ``\\s`` becomes Unicode White_Space, ``\\p{..}`` gains the code points of Oniguruma's newer
    Unicode tables, every atom may take one lead character before it and never matches a lead
    alone, and ``\\s+(?!\\S)`` becomes a whitespace run that stops at a lead. Anything else RE2
    cannot do the same way (other lookarounds, anchors, backreferences, ``\\d``, ``\\w``, ...)
    raises :class:`UnsupportedTokenizerError`.

    Example:
        >>> regex, marks = split_pattern_to_re2("\\\\p{N}{1,3}|\\\\s+(?!\\\\S)|\\\\s+")
        >>> marks
        True
    """

    def unsupported(what: str):
        raise UnsupportedTokenizerError(
            f"The Split pattern {pattern!r} uses {what}, which the in-graph tokenizer (RE2) cannot reproduce. "
            "Supported: literals, classes, \\s \\S \\p{..} \\P{..}, groups (?: ) (?i: ), quantifiers, "
            "alternation, and \\s+(?!\\S)."
        )

    def property_body(i: int) -> tuple[str, bool, int]:
        """``\\p{Name}`` / ``\\pL`` at ``pattern[i]`` == 'p' or 'P' -> (class body, negated, next index)."""
        negated = pattern[i] == "P"
        if pattern.startswith("{", i + 1):
            end = pattern.find("}", i)
            if end < 0:
                unsupported("an unterminated \\p{")
            name, i = pattern[i + 2 : end], end + 1
        else:
            name, i = pattern[i + 1 : i + 2], i + 2
        if name.startswith("^"):
            negated, name = not negated, name[1:]
        if not re.fullmatch(r"[A-Za-z_]+", name):
            unsupported(f"the property \\p{{{name}}}")
        extras = oniguruma_property_extras(name)
        return f"\\p{{{name}}}" + re2_class(extras)[1:-1], negated, i

    def escape(i: int, in_class: bool) -> tuple[str, int]:
        """The escape at ``pattern[i]`` == '\\' -> (RE2 text: a class body inside a class, else an atom)."""
        if i + 1 >= len(pattern):
            unsupported("a trailing backslash")
        c = pattern[i + 1]
        if c == "s":
            return (_WS if in_class else _WS_CLASS), i + 2
        if c == "S" and not in_class:
            return f"[^{_WS}{_LEAD_RE}]", i + 2
        if c in "pP":
            body, negated, j = property_body(i + 1)
            if in_class:
                if negated:
                    unsupported("a negated property inside a character class")
                return body, j
            return (f"[^{body}{_LEAD_RE}]" if negated else f"[{body}]"), j
        if c in "rntfva":
            return "\\" + c, i + 2
        if c == "x":
            found = re.match(r"\\x(\{[0-9A-Fa-f]+\}|[0-9A-Fa-f]{2})", pattern[i:])
            if not found:
                unsupported("a malformed \\x escape")
            return found.group(0), i + len(found.group(0))
        if c == "u":
            found = re.match(r"\\u([0-9A-Fa-f]{4})", pattern[i:])
            if not found:
                unsupported("a malformed \\u escape")
            return f"\\x{{{found.group(1)}}}", i + 6
        if not c.isalnum() and c.isascii():
            return "\\" + c, i + 2
        unsupported(f"the escape \\{c}")

    def char_class(i: int) -> tuple[str, str, int]:
        """``[...]`` at ``pattern[i]`` -> (RE2 class that never matches a lead, the class as written, next index)."""
        i += 1
        negated = pattern.startswith("^", i)
        i += negated
        body = ""
        while i < len(pattern) and (pattern[i] != "]" or not body):
            if pattern[i] == "\\":
                part, i = escape(i, in_class=True)
            elif pattern[i] == "[" or pattern.startswith("&&", i):
                unsupported("nested classes / class intersection")
            else:
                part, i = ("\\]" if pattern[i] == "]" else pattern[i]), i + 1
            body += part
        if i >= len(pattern):
            unsupported("an unterminated character class")
        if negated:
            return f"[^{body}{_LEAD_RE}]", f"[^{body}]", i + 1
        return f"[{body}]", f"[{body}]", i + 1

    items: list[list[str]] = []  # [kind, text]: kind is atom / bare (an atom used as is) / quant / other
    plain_atoms: list[tuple[str, str]] = []  # (atom, the atom before leads were excluded) for the checks
    marks = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            atom, i = escape(i, in_class=False)
            items.append(["atom", atom])
            plain_atoms.append((atom, atom.replace(_LEAD_RE, "")))
        elif c == "[":
            atom, plain, i = char_class(i)
            items.append(["atom", atom])
            plain_atoms.append((atom, plain))
        elif c == ".":
            items.append(["atom", f"[^\\n{_LEAD_RE}]"])
            plain_atoms.append((items[-1][1], "[^\\n]"))
            i += 1
        elif c == "(":
            if pattern.startswith("(?!\\S)", i):
                if items[-2:] != [["atom", _WS_CLASS], ["quant", "+"]]:
                    unsupported("(?!\\S) after something other than \\s+")
                items[-2][0] = "bare"  # a run that cannot cross a lead: it stops before the last space
                marks = True
                i += len("(?!\\S)")
                continue
            group = re.match(r"\((\?(i?):|\?i\))?", pattern[i:]).group(0)
            if pattern.startswith("(?", i) and group in ("(", ""):
                unsupported(f"the group {pattern[i : i + 4]!r}...")
            items.append(["other", "(?:" if group == "(" else group])
            i += len(group)
        elif c in ")|":
            items.append(["other", c])
            i += 1
        elif c in "*+?{":
            found = re.match(r"([*+?]|\{\d+(,\d*)?\})([?+]?)", pattern[i:])
            if c == "{" and not found:  # Oniguruma reads a brace that is no quantifier literally
                items.append(["atom", "\\{"])
                i += 1
                continue
            if not items or not (items[-1][0] == "atom" or items[-1] == ["other", ")"]):
                unsupported("a quantifier with nothing to repeat")
            if found.group(3) == "+":
                unsupported("a possessive quantifier")
            items.append(["quant", found.group(0)])
            i += len(found.group(0))
        elif c in "^$":
            unsupported("anchors (^ $ match at line starts / ends in Oniguruma)")
        else:
            items.append(["atom", re.escape(c) if c in "]}" else c])
            plain_atoms.append((items[-1][1], items[-1][1]))
            i += 1
    regex = "".join(f"(?:{_LEAD_RE}?{text})" if kind == "atom" else text for kind, text in items)

    # every atom must never match a lead alone, and treat each stand-in as the character it stands for
    probes = tf.constant([_LEAD, "\ufdd1", "\x00", "\x01"])
    for atom, plain in plain_atoms:
        lead, lead_stand_in, _, nul_stand_in = tf.strings.regex_full_match(probes, atom).numpy()
        if lead:
            unsupported(f"the class {atom} which matches U+FDD0")
        as_written = tf.strings.regex_full_match(probes, plain).numpy()
        if as_written[0] != lead_stand_in or as_written[2] != nul_stand_in:
            unsupported(f"the class {plain} which tells U+FDD0 / U+FDD1 or NUL / U+0001 apart")
    return regex, marks


class TFByteLevelBPETokenizer(TFTokenizerLayer):
    """Byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2) as a Keras layer: strings in, int64 ids out.

    ``call`` returns ``input_ids`` and ``attention_mask`` padded to the longest sequence (see
    :class:`kerasformers.tokenization.in_graph.TFTokenizerLayer` for padding / truncation options);
    :meth:`tokenize` gives the unpadded ids as a RaggedTensor.

    Pre-tokenisation is ``pre_tokenizer_splits`` then ByteLevel, as the tokenizers library runs a
    ``Sequence``: each split acts on the pieces the one before produced. A split is a regex
    (Oniguruma syntax, as in ``tokenizer.json``; ``Split(regex, Isolated)``) or a dict
    ``{"pattern": regex, "behavior": "Isolated" | "Removed" | "MergedWithPrevious" |
    "MergedWithNext" | "Contiguous", "invert": False}``. ByteLevel puts a space before each piece
    not starting with one (``add_prefix_space``) and, with ``byte_level_regex`` (its
    ``use_regex``; default: only when there are no splits), splits it with GPT-2's regex. No
    splits is GPT-2's ``ByteLevel``; ``split_pattern=regex`` is short for one Isolated split
    (Llama 3, Qwen2). ``from_spec`` also reads ``Digits`` and ``WhitespaceSplit`` steps. ``normalization_form``
    ("NFC", "NFKC", "NFD", "NFKD") normalises the text between added tokens first;
    ``ignore_merges`` keeps a word that is itself a token whole (Llama 3).

    Example:
        >>> tokenizer = TFByteLevelBPETokenizer.from_pretrained("path/to/gpt2")
        >>> tokenizer.tokenize(tf.constant(["Hello world!"]))
        >>> # SmolLM2 / StarCoder: digits one by one, then GPT-2's regex
        >>> smol = TFByteLevelBPETokenizer(vocab, merges, pre_tokenizer_splits=["\\p{N}"], byte_level_regex=True)
    """

    def __init__(
        self,
        vocab: dict[str, int],
        merges: list[str],
        *,
        add_prefix_space: bool = False,
        special_tokens: dict[str, int] | None = None,
        unk_token: str | None = None,
        pad_token: str | None = None,
        bos_ids=(),
        eos_ids=(),
        split_pattern: str | None = None,
        pre_tokenizer_splits=(),
        byte_level_regex: bool | None = None,
        normalization_form: str | None = None,
        ignore_merges: bool = False,
        lstrip_tokens=(),
        rstrip_tokens=(),
        **kwargs,
    ):
        if normalization_form is not None and normalization_form.upper() not in ("NFC", "NFKC", "NFD", "NFKD"):
            raise InvalidInputError(
                f"normalization_form must be NFC, NFKC, NFD, NFKD or None, got {normalization_form!r}."
            )
        vocab = {str(k): int(v) for k, v in vocab.items()}
        special_tokens = dict(special_tokens or {})
        ids = {**vocab, **special_tokens}
        if pad_token is not None and pad_token not in ids:
            raise InvalidInputError(f"pad_token {pad_token!r} is not in the vocabulary.")
        kwargs.setdefault("pad_id", ids[pad_token] if pad_token is not None else 0)
        for option, value in DECODER_LAYER_DEFAULTS.items():
            kwargs.setdefault(option, value)
        super().__init__(bos_ids=bos_ids, eos_ids=eos_ids, **kwargs)
        self.vocab = vocab
        self.merges = [" ".join(m) if isinstance(m, (list, tuple)) else str(m) for m in merges]
        self.add_prefix_space = bool(add_prefix_space)
        self.special_tokens = special_tokens
        self.unk_token = unk_token
        self.pad_token = pad_token
        if split_pattern is not None and pre_tokenizer_splits:
            raise InvalidInputError(
                "Give split_pattern (one Split(regex, Isolated) step) or pre_tokenizer_splits (any number), not both."
            )
        self.pre_tokenizer_splits = [
            _split_step(step) for step in ([split_pattern] if split_pattern is not None else pre_tokenizer_splits)
        ]
        # ByteLevel's use_regex: GPT-2's regex after the splits (by default only when there are none)
        self.byte_level_regex = not self.pre_tokenizer_splits if byte_level_regex is None else bool(byte_level_regex)
        only = self.pre_tokenizer_splits
        single = len(only) == 1 and only[0]["behavior"] == "Isolated" and not self.byte_level_regex
        self.split_pattern = only[0]["pattern"] if single else None  # the one Split(regex) of the Llama 3 form
        self.normalization_form = normalization_form.upper() if normalization_form else None
        self.ignore_merges = bool(ignore_merges)
        self.lstrip_tokens = sorted(lstrip_tokens)
        self.rstrip_tokens = sorted(rstrip_tokens)
        self._build_graph_parts()

    def _build_graph_parts(self):
        steps = list(self.pre_tokenizer_splits)
        if self.byte_level_regex:
            steps.append(_split_step(GPT2_SPLIT_PATTERN))
        self._split_steps = []
        for number, step in enumerate(steps, 1):
            try:
                regex, marks = split_pattern_to_re2(step["pattern"])
            except UnsupportedTokenizerError as error:
                where = "ByteLevel's regex" if number > len(self.pre_tokenizer_splits) else f"Split step {number}"
                raise UnsupportedTokenizerError(
                    f"Pre-tokenizer {where} of {len(steps)}: {error} Tokenize with the Python tokenizer "
                    "(AutoTokenizer) for this tokenizer.json, outside the graph."
                ) from error
            if tf.strings.regex_full_match("", regex).numpy():
                raise UnsupportedTokenizerError(
                    f"The Split pattern {step['pattern']!r} matches the empty string, which the in-graph regex split "
                    "cannot take; make every alternative match at least one character."
                )
            self._split_steps.append((regex, marks, step["behavior"], step["invert"]))
        # the steps before ByteLevel's own regex (add_prefix_space is applied between the two)
        self._splits_before_byte_level = len(self.pre_tokenizer_splits)
        self._unk_id = self.vocab.get(self.unk_token, -1) if self.unk_token is not None else -1
        self._build_id_tables(bytes_to_unicode())
        inverse = [""] * (max([*self.vocab.values(), *self.special_tokens.values(), -1]) + 1)
        for token, i in {**self.vocab, **self.special_tokens}.items():
            inverse[i] = token
        self._id_to_token = tf.constant(inverse or [""])
        self.use_special_tokens(self.special_tokens, self.lstrip_tokens, self.rstrip_tokens)
        # word -> its ids, as the tokenizers library's BPE cache: a word seen before skips the merges
        self._word_cache = tf.lookup.experimental.MutableHashTable(
            tf.string, tf.int64, default_value=tf.fill([WORD_CACHE_PIECES], tf.constant(_CACHE_PAD, tf.int64))
        )

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "TFByteLevelBPETokenizer":
        """Build from a ``tokenizers.Tokenizer`` or a Python tokenizer with a ``tokenizers`` backend."""
        return cls.from_spec(tokenizer_spec(tokenizer), pad_token=getattr(tokenizer, "pad_token", None), **kwargs)

    @classmethod
    def from_spec(cls, spec: dict, pad_token: str | None = None, **kwargs) -> "TFByteLevelBPETokenizer":
        """Build from the parsed contents of a ``tokenizer.json``."""
        model = spec.get("model") or {}
        if model.get("type") != "BPE":
            raise UnsupportedTokenizerError(f"TFByteLevelBPETokenizer needs a BPE model, got {model.get('type')!r}.")
        if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix") or model.get("dropout"):
            raise UnsupportedTokenizerError("BPE subword prefixes / suffixes / dropout are not supported in-graph.")
        if model.get("byte_fallback"):
            raise UnsupportedTokenizerError("BPE byte_fallback is not supported by the byte-level BPE layer.")
        form = _normalization_form(spec.get("normalizer"))
        splits, byte_level_regex, add_prefix_space = _byte_level_pre_tokenizer(spec.get("pre_tokenizer"))
        bos_ids, eos_ids, template = [], [], {}
        for processor in post_processors(spec):
            if processor.get("type") == "TemplateProcessing":
                bos_ids, eos_ids = bos_eos_from_template(processor)
            elif processor.get("type") == "RobertaProcessing":  # <s> A </s></s> B </s>
                template = dict(
                    pair_template="roberta", cls_id=int(processor["cls"][1]), sep_id=int(processor["sep"][1])
                )
            elif processor.get("type") != "ByteLevel":
                raise UnsupportedTokenizerError(f"Post-processor {processor.get('type')!r} is not supported in-graph.")
        added = spec.get("added_tokens", [])
        if any(t.get("single_word") for t in added):
            raise UnsupportedTokenizerError("Added tokens with single_word are not supported in-graph.")
        if form and any(t.get("normalized") for t in added):
            raise UnsupportedTokenizerError(
                f"Added tokens with normalized: true are matched after the {form} normalizer in the tokenizers "
                "library; the in-graph layer matches added tokens before normalising (set normalized: false "
                "when the tokens are plain ASCII)."
            )
        special = added_token_ids(spec)
        options = dict(
            add_prefix_space=add_prefix_space,
            special_tokens=special,
            unk_token=model.get("unk_token"),
            pad_token=pad_token,
            bos_ids=bos_ids,
            eos_ids=eos_ids,
            pre_tokenizer_splits=splits,
            byte_level_regex=byte_level_regex,
            normalization_form=form,
            ignore_merges=model.get("ignore_merges", False),
            lstrip_tokens=[t["content"] for t in added if t.get("lstrip")],
            rstrip_tokens=[t["content"] for t in added if t.get("rstrip")],
            **template,
        )
        options.update(kwargs)
        return cls(model["vocab"], model.get("merges", []), **options)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, **kwargs) -> "TFByteLevelBPETokenizer":
        """Build from a folder with ``tokenizer.json`` (or ``vocab.json`` + ``merges.txt``).

        Keyword arguments are layer options (``padding``, ``max_length``, ``pad_token``, ...).
        """
        folder = Path(folder)
        if (folder / "tokenizer.json").is_file():
            return cls.from_spec(read_tokenizer_json(folder / "tokenizer.json"), **kwargs)
        vocab, merges = read_bpe_files(folder / "vocab.json", folder / "merges.txt")
        return cls(vocab, merges, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            vocab=dict(self.vocab),
            merges=list(self.merges),
            add_prefix_space=self.add_prefix_space,
            special_tokens=dict(self.special_tokens),
            unk_token=self.unk_token,
            pad_token=self.pad_token,
            pre_tokenizer_splits=[dict(step) for step in self.pre_tokenizer_splits],
            byte_level_regex=self.byte_level_regex,
            normalization_form=self.normalization_form,
            ignore_merges=self.ignore_merges,
            lstrip_tokens=self.lstrip_tokens,
            rstrip_tokens=self.rstrip_tokens,
        )
        return config

    # ---------------------------------------------------------------- graph
    def pre_tokenize(self, text):
        """Strings [N] -> RaggedTensor [N, words] of pre-tokenised words (raw UTF-8), before byte mapping.

        With ``add_prefix_space``, a space is put before each non-empty text (GPT-2 form; the
        library does it for every piece of text between added tokens) or each word (Split form)
        not starting with one. No normalisation here: see :meth:`tokenize`.
        """
        return self._pre_tokenize_escaped(self._escape(text))

    @staticmethod
    def _escape(text):
        """The text's own lead characters and NUL bytes -> lead + stand-in (see ``_LEAD``)."""
        for original, stand_in in _STAND_INS.items():  # leads first: the NUL escape adds leads
            text = tf.strings.regex_replace(text, _re2_char(original), _LEAD + stand_in)
        return text

    def _pre_tokenize_escaped(self, text, still_escaped: bool = False):
        pieces = tf.RaggedTensor.from_tensor(text[:, None])
        pieces = tf.ragged.boolean_mask(pieces, tf.strings.length(pieces) > 0)  # an empty text has no words
        for index, step in enumerate(self._split_steps):
            if index == self._splits_before_byte_level and self.add_prefix_space:
                pieces = _with_prefix_space(pieces)
            pieces = _split_pieces(pieces, *step)
        if self.add_prefix_space and not self.byte_level_regex:
            pieces = _with_prefix_space(pieces)
        return pieces if still_escaped else pieces.with_flat_values(_unescape(pieces.flat_values))

    def _build_id_tables(self, encoder: dict[int, str]):
        """The tables the merge loop runs on: it merges token ids, as the tokenizers library does.

        - ``_byte_ids``: byte value -> id of its byte-level symbol (-1 when not in the vocabulary);
        - ``_pair_table``: ``left_id << 32 | right_id`` -> ``rank << 32 | merged_id``; merges whose
          parts or result are not in the vocabulary are left out (the tokenizers library refuses
          such a model);
        - ``_word_table`` (``ignore_merges``): a raw UTF-8 word that is itself a token -> its id.
        """
        vocab = self.vocab
        self._byte_ids = tf.constant([vocab.get(encoder[b], -1) for b in range(256)], tf.int64)
        pairs = {}
        for rank, merge in enumerate(self.merges):
            left, _, right = merge.partition(" ")
            ids = vocab.get(left), vocab.get(right), vocab.get(left + right)
            if None not in ids:
                pairs[(ids[0] << 32) | ids[1]] = (rank << 32) | ids[2]  # a repeated pair: the last rank, as tokenizers
        self._pair_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(pairs) or [-1], tf.int64), tf.constant(list(pairs.values()) or [_NO_RANK], tf.int64)
            ),
            default_value=_NO_RANK,
        )
        self._word_table = None
        if self.ignore_merges:
            decoder = {c: b for b, c in encoder.items()}
            words = {
                bytes(decoder[c] for c in token): i
                for token, i in vocab.items()
                if token and all(c in decoder for c in token)
            }
            self._word_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(list(words) or [b""], tf.string), tf.constant(list(words.values()) or [-1], tf.int64)
                ),
                default_value=-1,
            )

    def bpe(self, words):
        """Flat strings [W] (raw UTF-8 words) -> RaggedTensor [W, pieces] of BPE token strings.

        A byte whose symbol is not in the vocabulary gives the unk token (``""`` without one).

        Example:
            >>> tokenizer.bpe(tf.constant(["Hello", " world"])).to_list()
        """
        ids = self.bpe_ids(words)
        if self._unk_id >= 0:
            ids = tf.ragged.map_flat_values(lambda i: tf.where(i < 0, tf.constant(self._unk_id, tf.int64), i), ids)
        ids = tf.ragged.map_flat_values(lambda i: tf.where(i < 0, tf.constant(-1, tf.int64), i), ids)
        size = int(self._id_to_token.shape[0])
        tokens = tf.gather(self._id_to_token, tf.clip_by_value(ids.flat_values, 0, size - 1))
        return ids.with_flat_values(tf.where(ids.flat_values < 0, tf.constant(""), tokens))

    def bpe_ids(self, words):
        """Flat strings [W] (raw UTF-8 words) -> int64 RaggedTensor [W, pieces] of BPE token ids.

        A byte whose symbol is not in the vocabulary is -1 (dropped before merging when there is
        no unk token, as the tokenizers library does).

        Example:
            >>> tokenizer.bpe_ids(tf.constant(["Hello", " world"])).to_list()
        """
        # Latin-1 decoding turns each byte into its value: one gather gives the byte-level symbol ids
        symbols = tf.ragged.map_flat_values(
            tf.gather, self._byte_ids, tf.cast(tf.strings.unicode_decode(words, "ISO-8859-1"), tf.int64)
        )
        if self._unk_id < 0:
            # as tokenizers' BPE: with no unk token a symbol missing from the vocabulary is dropped
            # before merging (not after), so its neighbours meet and may merge
            symbols = tf.ragged.boolean_mask(symbols, symbols >= 0)
        several = symbols.row_lengths() > 1
        if self._word_table is not None:  # ignore_merges: a word that is a token stays whole
            whole = self._word_table.lookup(words)
            found = whole >= 0
            symbols = tf.ragged.boolean_mask(
                symbols, symbols.with_flat_values(tf.repeat(~found, symbols.row_lengths()))
            )
            symbols = tf.concat(
                [symbols, tf.RaggedTensor.from_tensor(whole[:, None], lengths=tf.cast(found, tf.int64))], 1
            )
            several &= ~found
        # Only words of two or more symbols can merge: the loop runs on those alone (with
        # ignore_merges most words of real text are whole tokens) and the rest rejoin after.
        active = tf.ragged.boolean_mask(symbols, several)
        merged = _merge_pairs(active.flat_values, active.value_rowids(), active.nrows(), self._pair_table)
        order = tf.concat([tf.where(several)[:, 0], tf.where(~several)[:, 0]], axis=0)
        rows = tf.concat([merged, tf.ragged.boolean_mask(symbols, ~several)], axis=0)
        return tf.gather(rows, tf.math.invert_permutation(order))

    def _cached_bpe_ids(self, words):
        """:meth:`bpe_ids` of distinct words, reading and filling the word cache.

        The tokenizers library keeps the same kind of cache (``WORD_CACHE_CAPACITY`` words), so
        text with recurring words costs both sides a lookup per word; the ids are the same.
        """
        cache = self._word_cache
        cached = tf.reshape(cache.lookup(words), [-1, WORD_CACHE_PIECES])  # _CACHE_PAD after a word's pieces
        hit = cached[:, 0] != _CACHE_PAD
        missed = tf.boolean_mask(words, ~hit)
        computed = self.bpe_ids(missed)
        fits = computed.row_lengths() <= WORD_CACHE_PIECES
        room = cache.size() < WORD_CACHE_CAPACITY
        padded = computed.to_tensor(default_value=_CACHE_PAD, shape=[None, WORD_CACHE_PIECES])
        store = tf.cond(
            room, lambda: cache.insert(tf.boolean_mask(missed, fits), tf.boolean_mask(padded, fits)), tf.no_op
        )
        with tf.control_dependencies([store]):
            found = tf.RaggedTensor.from_tensor(tf.boolean_mask(cached, hit), padding=_CACHE_PAD)
            order = tf.concat([tf.where(hit)[:, 0], tf.where(~hit)[:, 0]], axis=0)
            rows = tf.concat([found, computed], axis=0)
            return tf.gather(rows, tf.math.invert_permutation(order))

    def tokenize_plain(self, text):
        """Escaped strings [N] without special tokens (see :meth:`tokenize`) -> int64 RaggedTensor [N, tokens]."""
        # `text` is escaped (tokenize does it before added tokens are split off); NFC & co leave
        # the noncharacter leads and control stand-ins alone
        if self.normalization_form:
            text = tf_text().normalize_utf8(text, self.normalization_form)
        words = self._pre_tokenize_escaped(text, still_escaped=True)
        unique, index = tf.unique(words.flat_values)  # words repeat: merge each distinct one once
        unique = _unescape(unique)  # escaping is one-to-one: distinct words stay distinct
        ids = self._cached_bpe_ids(unique)
        if self._unk_id >= 0:
            ids = tf.ragged.map_flat_values(lambda i: tf.where(i < 0, tf.constant(self._unk_id, tf.int64), i), ids)
        ids = tf.ragged.boolean_mask(ids, ids >= 0)  # tokens missing from the vocabulary are dropped, as BPE does
        return words.with_flat_values(tf.gather(ids, index)).merge_dims(1, 2)

    def tokenize(self, text):
        """Strings [N] -> int64 RaggedTensor [N, tokens] of ids, without special tokens added.

        Example:
            >>> tokenizer.tokenize(tf.constant(["Hello world!", ""])).to_list()
        """
        text = self._escape(replace_invalid_utf8(text))
        tokenize = self.tokenize_plain if self.special_pattern is None else self.tokenize_with_special_tokens
        if tf.executing_eagerly():
            return tokenize(text)

        def halves():  # two independent subgraphs, which TensorFlow runs on two cores at once
            middle = tf.shape(text, out_type=tf.int64)[0] // 2
            return tf.concat([tokenize(text[:middle]), tokenize(text[middle:])], axis=0)

        return tf.cond(tf.size(text) >= SPLIT_BATCHES_FROM, halves, lambda: tokenize(text))

    def ids_to_tokens(self, ids):
        """int ids -> token strings (same shape)."""
        size = int(self._id_to_token.shape[0])
        return tf.gather(self._id_to_token, tf.clip_by_value(tf.cast(ids, tf.int64), 0, size - 1))

    def detokenize(self, ids):
        """ids [N, tokens] (ragged or dense) -> strings [N], as ``decode(ids, skip_special_tokens=True)``.

        Added tokens are dropped (all of them: the layer keeps no special / non-special flag), the
        others go back through GPT-2's byte table, and invalid UTF-8 (a character cut between
        tokens) becomes U+FFFD as in the ByteLevel decoder's ``from_utf8_lossy``.

        Example:
            >>> tokenizer.detokenize(tokenizer.tokenize(tf.constant(["Café 😀"])))
            <tf.Tensor: shape=(1,), dtype=string, numpy=array([b'Caf\\xc3\\xa9 \\xf0\\x9f\\x98\\x80'], dtype=object)>
        """
        ids = tf.cast(ids if isinstance(ids, tf.RaggedTensor) else tf.convert_to_tensor(ids), tf.int64)
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids if ids.shape.rank == 2 else tf.reshape(ids, [1, -1]))
        special = tf.constant(sorted(self.special_tokens.values()) or [-1], tf.int64)
        ids = tf.ragged.boolean_mask(ids, tf.reduce_all(ids[..., None] != special, axis=-1))
        tokens = self.ids_to_tokens(ids)
        # a constant (not a table), so the method can first run inside a traced function
        decoder = {ord(c): b for b, c in bytes_to_unicode().items()}
        top = max(decoder)
        byte_of = tf.constant([bytes([decoder.get(c, 0)]) for c in range(top + 1)])
        in_table = tf.constant([c in decoder for c in range(top + 1)])
        codepoints = tf.strings.unicode_decode(tokens.flat_values, "UTF-8")
        index = tf.ragged.map_flat_values(tf.minimum, codepoints, top)
        known = tf.ragged.map_flat_values(lambda c, i: (c <= top) & tf.gather(in_table, i), codepoints, index)
        mapped = tf.strings.reduce_join(tf.ragged.map_flat_values(tf.gather, byte_of, index), axis=-1)
        # as the ByteLevel decoder: a token with a character outside the table keeps its own bytes
        token_bytes = tf.where(tf.reduce_all(known, axis=-1), mapped, tokens.flat_values)
        raw = tf.strings.reduce_join(tokens.with_flat_values(token_bytes), axis=-1)
        return tf.strings.unicode_transcode(raw, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


def _normalization_form(normalizer: dict | None) -> str | None:
    """A tokenizer.json normalizer -> "NFC" / "NFKC" / "NFD" / "NFKD" / None (no normalizer)."""
    if not normalizer:
        return None
    if normalizer.get("type") == "Sequence" and len(normalizer.get("normalizers", [])) <= 1:
        return _normalization_form((normalizer.get("normalizers") or [None])[0])
    if normalizer.get("type") in ("NFC", "NFKC", "NFD", "NFKD"):
        return normalizer["type"]
    raise UnsupportedTokenizerError(
        f"Normalizer {normalizer.get('type')!r} is not supported by the in-graph byte-level BPE layer "
        "(supported: none, NFC, NFKC, NFD, NFKD)."
    )


_BEHAVIORS = ("Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous")


def _split_step(step) -> dict:
    """A regex (``Split(regex, Isolated)``) or ``{"pattern", "behavior", "invert"}`` -> the full step dict."""
    if isinstance(step, str):
        step = {"pattern": step}
    if not isinstance(step, dict) or not isinstance(step.get("pattern"), str):
        raise InvalidInputError(
            f"A pre-tokenizer split is a regex string or a dict with a 'pattern' regex string, got {step!r}."
        )
    behavior = step.get("behavior", "Isolated")
    if behavior not in _BEHAVIORS:
        raise UnsupportedTokenizerError(
            f"Split behavior {behavior!r} is not supported in-graph; use one of {', '.join(_BEHAVIORS)}."
        )
    return {"pattern": step["pattern"], "behavior": behavior, "invert": bool(step.get("invert", False))}


def _with_prefix_space(pieces):
    """ByteLevel's add_prefix_space: a space before every piece that does not start with one."""
    flat = pieces.flat_values
    return pieces.with_flat_values(
        tf.where(tf.strings.regex_full_match(flat, "(?s) .*"), flat, tf.strings.join([" ", flat]))
    )


def _regroup(pieces, flags, starts):
    """Pieces [N, P] joined into groups that begin where ``starts`` is true (true at every row start)."""
    flat = pieces.flat_values
    group = tf.cumsum(tf.cast(starts, tf.int64)) - 1
    joined = tf.strings.unsorted_segment_join(flat, group, tf.reduce_sum(tf.cast(starts, tf.int64)))
    lengths = tf.reduce_sum(tf.cast(pieces.with_flat_values(starts), tf.int64), axis=1)
    return tf.RaggedTensor.from_row_lengths(joined, lengths, validate=False), tf.boolean_mask(flags, starts)


def _split_pieces(pieces, regex, marks, behavior, invert):
    """One ``Split`` step on every piece (RaggedTensor [N, P] of escaped strings) -> [N, P'].

    As the tokenizers library: the regex's matches and the gaps between them are the new pieces,
    then ``behavior`` drops or joins them (``invert`` swaps which are matches).
    """
    flat = pieces.flat_values
    if marks:
        # a lead before each whitespace character followed by a non-whitespace one: `\s+(?!\S)` stops there
        flat = tf.strings.regex_replace(flat, f"({_WS_CLASS})([^{_WS}])", _LEAD + "\\1\\2")
    # Each match wrapped in NULs (the escaped text has none), then one split at the NULs: the
    # parts alternate gap, match, gap, ... (gaps may be empty). One global replace is ~6x faster
    # than tensorflow-text's regex_split, which extracts every match with a capture.
    parts = tf.strings.split(tf.strings.regex_replace(flat, regex, "\x00\\0\x00"), "\x00")
    match = tf.ragged.range(parts.row_lengths()).flat_values % 2 == 1
    keep = tf.strings.length(parts.flat_values) > 0
    parts = tf.ragged.boolean_mask(parts, parts.with_flat_values(keep))
    # [pieces, parts]: behaviours join parts of one piece only, never across pieces
    parts = _behave(parts, tf.boolean_mask(match, keep), marks, behavior, invert)
    return pieces.with_flat_values(parts).merge_dims(1, 2)


def _behave(pieces, match, marks, behavior, invert):
    """The parts [P, parts] of each piece and which are regex matches -> as ``behavior`` keeps them.

    The lead marks are removed.
    """
    if behavior == "Isolated" and not marks:
        return pieces
    flat = pieces.flat_values
    first = tf.ragged.range(pieces.row_lengths()).flat_values == 0
    if marks:
        # Where no match starts at a lead, the original regex has none at the whitespace after it
        # (every other atom takes a lead) and a gap begins there; the emulation then matches that
        # one whitespace character alone with the run that cannot cross leads. So a lone lead
        # marks a gap: it goes, the character after it is a gap, and gaps in a row join up.
        lone = tf.equal(flat, _LEAD)
        after_lone = tf.concat([[False], lone[:-1]], axis=0) & ~first
        keep = ~lone
        pieces = tf.ragged.boolean_mask(pieces, pieces.with_flat_values(keep))
        match = tf.boolean_mask(match & ~after_lone, keep)
        first = tf.ragged.range(pieces.row_lengths()).flat_values == 0
        previous = tf.concat([[False], match[:-1]], axis=0)
        pieces, match = _regroup(pieces, match, first | match | previous)
        pieces = pieces.with_flat_values(
            tf.strings.regex_replace(pieces.flat_values, f"{_LEAD_RE}({_WS_CLASS})", "\\1")
        )
        first = tf.ragged.range(pieces.row_lengths()).flat_values == 0
    if behavior == "Isolated":
        return pieces
    match = match != invert
    previous = tf.concat([[False], match[:-1]], axis=0) & ~first
    if behavior == "Removed":
        return tf.ragged.boolean_mask(pieces, pieces.with_flat_values(~match))
    if behavior == "MergedWithPrevious":  # a match joins the piece before it, unless that one is a match
        starts = first | ~(match & ~previous)
    elif behavior == "MergedWithNext":  # a match joins the piece after it, unless that one is a match
        starts = first | ~(previous & ~match)
    else:  # Contiguous: runs of matches and runs of gaps
        starts = first | (match != previous)
    return _regroup(pieces, match, starts)[0]


def _pre_tokenizer_steps(pre: dict | None) -> list[dict]:
    """A tokenizer.json pre_tokenizer -> its steps, nested Sequences flattened."""
    if not pre:
        return []
    if pre.get("type") == "Sequence":
        return [step for inner in pre.get("pretokenizers", []) for step in _pre_tokenizer_steps(inner)]
    return [pre]


def _byte_level_pre_tokenizer(pre: dict | None) -> tuple[list[dict], bool, bool]:
    """A tokenizer.json pre_tokenizer -> (Split steps, ByteLevel's use_regex, add_prefix_space).

    Split(Regex or String), Digits and WhitespaceSplit steps in any number, then ByteLevel.
    """
    steps = _pre_tokenizer_steps(pre)
    kinds = [step.get("type") for step in steps]
    if not steps or kinds[-1] != "ByteLevel" or "ByteLevel" in kinds[:-1]:
        raise UnsupportedTokenizerError(
            f"TFByteLevelBPETokenizer reproduces pre-tokenizers that end in one ByteLevel step (GPT-2's alone, or "
            f"Split / Digits / WhitespaceSplit steps then ByteLevel), got {(pre or {}).get('type')!r} {kinds}. "
            "Use the Python tokenizer for this tokenizer.json."
        )
    splits = []
    for step in steps[:-1]:
        kind = step.get("type")
        if kind == "Digits":  # char::is_numeric (Unicode N*), one piece per digit or per digit run
            splits.append({"pattern": "\\p{N}" if step.get("individual_digits") else "\\p{N}+"})
        elif kind == "WhitespaceSplit":  # char::is_whitespace characters removed
            splits.append({"pattern": "\\s+", "behavior": "Removed"})
        elif kind == "Split":
            pattern = step.get("pattern") or {}
            if "Regex" in pattern:
                regex = pattern["Regex"]
            elif pattern.get("String"):
                regex = "".join(f"\\x{{{ord(c):x}}}" for c in pattern["String"])
            else:
                raise UnsupportedTokenizerError(f"Split with the pattern {pattern!r} is not supported in-graph.")
            behavior = step.get("behavior")
            if behavior not in _BEHAVIORS:
                raise UnsupportedTokenizerError(
                    f"Split behavior {behavior!r} is not supported in-graph; supported: {', '.join(_BEHAVIORS)}."
                )
            splits.append({"pattern": regex, "behavior": behavior, "invert": bool(step.get("invert"))})
        else:
            raise UnsupportedTokenizerError(
                f"The pre-tokenizer step {kind!r} (in {kinds}) is not supported by the in-graph byte-level BPE layer "
                "(supported before ByteLevel: Split, Digits, WhitespaceSplit). Use the Python tokenizer."
            )
    byte_level = steps[-1]
    return splits, bool(byte_level.get("use_regex", True)), bool(byte_level.get("add_prefix_space", False))


def _merge_pairs(values, rows, nrows, pair_table):
    """BPE merges on token ids: flat ids [n] of words (row ids [n], sorted) -> RaggedTensor [nrows, pieces].

    Per word, the lowest-rank adjacent pair of ``pair_table`` is merged (every non-overlapping
    occurrence, left to right) until none is left. Ids < 0 (unknown bytes) never merge.
    """

    def step(values, rows, _):
        left, right = values[:-1], values[1:]
        pair_rows = rows[:-1]
        mergeable = tf.equal(pair_rows, rows[1:]) & (left >= 0) & (right >= 0)
        packed = tf.where(mergeable, pair_table.lookup(left * (1 << 32) + right), _NO_RANK)  # rank << 32 | id
        best = tf.math.unsorted_segment_min(packed, pair_rows, nrows)
        match = tf.equal(packed, tf.gather(best, pair_rows)) & (packed < _NO_RANK)
        # non-overlapping occurrences, left to right: even offsets within each run of matches
        # (a run is one pair repeated inside one word, as in "aaaa")
        previous = tf.concat([[False], match[:-1]], axis=0)
        start = match & ~previous
        count = tf.cumsum(tf.cast(match, tf.int64))
        run = tf.cumsum(tf.cast(start, tf.int64)) - 1
        start_count = tf.gather(tf.concat([tf.boolean_mask(count, start), [0]], axis=0), tf.maximum(run, 0))
        chosen = match & tf.equal((count - start_count) % 2, 0)
        merged_here = tf.concat([chosen, [False]], axis=0)
        removed = tf.concat([[False], chosen], axis=0)
        merged_id = tf.concat([packed % (1 << 32), [0]], axis=0)
        values = tf.where(merged_here, merged_id, values)
        keep = ~removed
        return tf.boolean_mask(values, keep), tf.boolean_mask(rows, keep), tf.reduce_any(chosen)

    values, rows, _ = tf.while_loop(
        lambda v, r, go: go,
        step,
        (values, rows, tf.size(values) > 1),
        shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]), tf.TensorShape([])),
    )
    return tf.RaggedTensor.from_value_rowids(values, rows, nrows=nrows, validate=False)
