"""Tokenizers stored in GGUF files (llama.cpp's format), as ``tokenizer.json`` and Python tokenizers.

A GGUF file keeps its tokenizer as metadata: the tokens, their types, BPE merges (``gpt2``
model) or SentencePiece scores (``llama`` model), the special token ids and the name of the
pre-tokeniser (``tokenizer.ggml.pre``). :func:`read_gguf_vocab` reads those fields;
:func:`gguf_tokenizer_json` rebuilds the Hugging Face ``tokenizer.json`` that the original
checkpoint shipped, so that the ``tokenizers`` library (and the in-graph tokenizers built
from it) give the ids the original tokenizer gave, those in llama.cpp's reference files.
Every pre-tokeniser name llama.cpp gives a byte-level BPE vocabulary is in
:data:`GGUF_PRE_TOKENIZERS` (its ``Split`` regexes, as llama.cpp's ``llama-vocab.cpp`` lists
them); the few that no ``tokenizer.json`` pre-tokeniser reproduces raise
:class:`~kerasformers.errors.UnsupportedGGUFTokenizerError`. :func:`gguf_tokenizer_config`
gives the matching ``tokenizer_config.json`` (special tokens, BOS/EOS, chat template) and
:func:`save_gguf_tokenizer` writes both into a folder.

This module reads the format only; :func:`kerasformers.tokenization.tokenizer_from_gguf` (in
``fast.py``) makes the Python tokenizer and ``TFSentencePieceTokenizer.from_gguf`` the in-graph one.

Example:
    >>> spec = gguf_tokenizer_json(read_gguf_vocab("ggml-vocab-llama-bpe.gguf"))  # doctest: +SKIP
    >>> spec["pre_tokenizer"]["type"]  # doctest: +SKIP
    'Sequence'
"""

from __future__ import annotations

import dataclasses
import json
import mmap
import os
import struct
from pathlib import Path

import numpy as np

from kerasformers.errors import TokenizerFileError, UnsupportedGGUFTokenizerError
from kerasformers.hub import atomic_folder_write

__all__ = [
    "GGUFVocab",
    "read_gguf_metadata",
    "read_gguf_vocab",
    "gguf_tokenizer_json",
    "sentencepiece_merges",
    "PRE_TOKENIZER_PATTERNS",
    "GGUFPreTokenizer",
    "GGUF_PRE_TOKENIZERS",
    "UNSUPPORTED_PRE_TOKENIZERS",
    "gguf_pre_tokenizer",
    "gguf_adds_bos_eos",
    "gguf_tokenizer_config",
    "save_gguf_tokenizer",
]

# llama.cpp token types (llama_token_type), the same numbers as SentencePiece's piece types
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

SPM_SPACE = "\u2581"  # SentencePiece's visible space
# Llama 2's (legacy) normaliser in tokenizer.json: a leading "▁", every space as "▁"
LLAMA_LEGACY_NORMALIZERS = [
    {"type": "Prepend", "prepend": SPM_SPACE},
    {"type": "Replace", "pattern": {"String": " "}, "content": SPM_SPACE},
]


@dataclasses.dataclass
class GGUFVocab:
    """The tokenizer fields of a GGUF file (``tokenizer.ggml.*``)."""

    model: str  # "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    pre: str  # the pre-tokeniser's name, e.g. "llama-bpe", "qwen2", "default"
    tokens: list[str]
    token_types: list[int]
    scores: list[float] | None  # SentencePiece scores
    merges: list[str] | None  # BPE merges, "left right"
    bos_token_id: int | None
    eos_token_id: int | None
    unknown_token_id: int | None
    padding_token_id: int | None
    add_bos_token: bool | None
    add_eos_token: bool | None
    chat_template: str | None
    # more chat templates by name (tokenizer.chat_templates lists the names of tokenizer.chat_template.<name>)
    named_chat_templates: dict[str, str] = dataclasses.field(default_factory=dict)

    def token(self, token_id: int | None) -> str | None:
        """The token string of an id, None for None.

        Example:
            >>> read_gguf_vocab("ggml-vocab-gpt-2.gguf").token(0)  # doctest: +SKIP
            '!'
        """
        return None if token_id is None else self.tokens[token_id]


# GGUF metadata value types: numeric ones by struct format, then string (8) and array (9)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def read_gguf_metadata(path: str | os.PathLike) -> dict:
    """The key/value metadata of a GGUF file (version 2 or 3), without its tensors.

    The ``gguf`` package's reader indexes every tensor and array element first, which takes
    ~15 s on a Llama 3 vocabulary; this reads the header alone in well under a second.

    Example:
        >>> read_gguf_metadata("ggml-vocab-gpt-2.gguf")["tokenizer.ggml.model"]  # doctest: +SKIP
        'gpt2'
    """
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise TokenizerFileError(f"{os.fspath(path)} is empty, not a GGUF file. Re-download the GGUF file.")
        # mapped, not read: the metadata is the first few MB of a file that may hold GBs of weights
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            data = memoryview(mapped)
            try:
                return _parse_gguf_metadata(data, path)
            finally:
                data.release()


def _parse_gguf_metadata(data: memoryview, path: str | os.PathLike) -> dict:
    if bytes(data[:4]) != b"GGUF":
        raise TokenizerFileError(f"{os.fspath(path)} is not a GGUF file (it does not start with b'GGUF').")
    if len(data) < 24:
        raise TokenizerFileError(
            f"{os.fspath(path)} is truncated ({len(data)} bytes, shorter than a GGUF "
            "header). Re-download the GGUF file."
        )
    version, _, count = struct.unpack_from("<IQQ", data, 4)
    if version not in (2, 3):
        raise UnsupportedGGUFTokenizerError(
            f"{os.fspath(path)} is GGUF version {version}; versions 2 and 3 are supported."
        )
    offset = 24

    def string():
        nonlocal offset
        (length,) = struct.unpack_from("<Q", data, offset)
        offset += 8 + length
        return str(data[offset - length : offset], "utf-8")

    def value(kind):
        nonlocal offset
        if kind == _STRING:
            return string()
        if kind == _ARRAY:
            item_kind, length = struct.unpack_from("<IQ", data, offset)
            offset += 12
            if item_kind in _SCALARS:  # numbers: one numpy array (over a copy: the file's mapping is closed after)
                dtype = np.dtype(_SCALARS[item_kind])
                size = dtype.itemsize * length
                items = np.frombuffer(bytes(data[offset : offset + size]), dtype, length)
                offset += size
                return items.tolist()
            return [value(item_kind) for _ in range(length)]
        (item,) = struct.unpack_from(_SCALARS[kind], data, offset)
        offset += struct.calcsize(_SCALARS[kind])
        return item

    metadata = {}
    try:
        for _ in range(count):
            key = string()
            (kind,) = struct.unpack_from("<I", data, offset)
            offset += 4
            metadata[key] = value(kind)
    except (struct.error, ValueError, KeyError) as error:  # ValueError: np.frombuffer past the end, bad UTF-8
        cut_short = offset >= len(data) or isinstance(error, struct.error) or "smaller" in str(error)
        problem = "is truncated" if cut_short else "is damaged"
        raise TokenizerFileError(
            f"{os.fspath(path)} {problem}: its metadata stops making sense at byte {min(offset, len(data))} of "
            f"{len(data)} ({error}). Re-download the GGUF file."
        ) from None
    return metadata


def read_gguf_vocab(path: str | os.PathLike) -> GGUFVocab:
    """The tokenizer metadata of a GGUF file (weights are not read).

    Example:
        >>> vocab = read_gguf_vocab("ggml-vocab-qwen2.gguf")  # doctest: +SKIP
        >>> vocab.model, vocab.pre, len(vocab.tokens)  # doctest: +SKIP
        ('gpt2', 'qwen2', 151936)
    """
    metadata = read_gguf_metadata(path)

    def field(name, default=None):
        return metadata.get(f"tokenizer.ggml.{name}", metadata.get(f"tokenizer.{name}", default))

    if field("tokens") is None:
        raise UnsupportedGGUFTokenizerError(f"{os.fspath(path)} holds no tokenizer (no tokenizer.ggml.tokens field).")
    count = len(field("tokens"))
    for name in ("bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"):
        token_id = field(name)
        if token_id is not None and not 0 <= token_id < count:
            raise TokenizerFileError(
                f"{os.fspath(path)} is damaged: tokenizer.ggml.{name} is {token_id}, but the vocabulary has "
                f"{count} tokens. Re-download the GGUF file."
            )
    named = {name: metadata.get(f"tokenizer.chat_template.{name}") for name in field("chat_templates", [])}
    return GGUFVocab(
        model=field("model"),
        pre=field("pre", "default"),
        tokens=list(field("tokens")),
        token_types=[int(t) for t in field("token_type", [])],
        scores=field("scores"),
        merges=field("merges"),
        bos_token_id=field("bos_token_id"),
        eos_token_id=field("eos_token_id"),
        unknown_token_id=field("unknown_token_id"),
        padding_token_id=field("padding_token_id"),
        add_bos_token=field("add_bos_token"),
        add_eos_token=field("add_eos_token"),
        chat_template=field("chat_template"),
        named_chat_templates={name: template for name, template in named.items() if isinstance(template, str)},
    )


def gguf_tokenizer_json(vocab: GGUFVocab) -> dict:
    """The ``tokenizer.json`` contents of the Hugging Face tokenizer a GGUF vocabulary came from.

    Byte-level BPE (``gpt2`` model) keeps the file's merges and gets the pre-tokeniser its
    ``pre`` name stands for (:func:`gguf_pre_tokenizer`: GPT-2's regex, Llama 3's with
    ``ignore_merges``, StarCoder's digits, Qwen2's with NFC, ...).
    SentencePiece (``llama`` model) becomes a byte-fallback BPE whose merges are ordered by
    the pieces' scores, with Llama 2's normaliser (a leading "▁", spaces as "▁").

    Example:
        >>> spec = gguf_tokenizer_json(read_gguf_vocab("ggml-vocab-gpt-2.gguf"))  # doctest: +SKIP
        >>> spec["model"]["type"]  # doctest: +SKIP
        'BPE'
    """
    if vocab.model == "gpt2":
        spec = _byte_level_bpe_json(vocab)
    elif vocab.model == "llama":
        spec = _sentencepiece_bpe_json(vocab)
    else:
        raise _unsupported_model(vocab.model)
    spec["added_tokens"] = [
        {
            "id": i,
            "content": token,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": kind == CONTROL or kind == UNKNOWN,
        }
        for i, (token, kind) in enumerate(zip(vocab.tokens, vocab.token_types))
        if kind in (CONTROL, USER_DEFINED, UNKNOWN)
    ]
    add_bos, add_eos = gguf_adds_bos_eos(vocab)
    specials = [
        (vocab.token(i), i)
        for i, on in ((vocab.bos_token_id, add_bos), (vocab.eos_token_id, add_eos))
        if on and i is not None
    ]
    template = _template(
        vocab.token(vocab.bos_token_id) if add_bos else None,
        vocab.token(vocab.eos_token_id) if add_eos else None,
        specials,
    )
    post = spec.pop("post_processor", None)
    spec["post_processor"] = (
        {"type": "Sequence", "processors": [post, template]} if post and template else post or template
    )
    spec.setdefault("version", "1.0")
    spec.setdefault("truncation", None)
    spec.setdefault("padding", None)
    return spec


# ------------------------------------------------------------------------------ pre-tokenisers
# Regexes of the original tokenizer.json files (Oniguruma syntax), as llama.cpp's llama-vocab.cpp
# lists them per LLAMA_VOCAB_PRE_TYPE (its own comments give the originals it had to rewrite)
_GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
_CONTRACTIONS = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
_LLAMA3 = _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
_QWEN2 = _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
_QWEN35 = (
    _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_JAIS2 = (
    _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)"
    r"|\s{1,2}(?!\S)|\s{1}"
)
_CASED_WORDS = (  # Tekken / GPT-4o: an upper-case run and the lower-case run after it are one word
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+<C>"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*<C>"
)
_TEKKEN = _CASED_WORDS.replace("<C>", "") + r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
_GPT4O = (
    _CASED_WORDS.replace("<C>", _CONTRACTIONS + "?")
    + r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_GRANITE_EMBED = (  # llama.cpp's own pattern (GPT-4o's lookahead form, with combining marks kept on their letters)
    r"[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+" + _CONTRACTIONS + "?"
    r"|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*" + _CONTRACTIONS + "?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_DEEPSEEK_CJK = "[一-龥ࠀ-一가-퟿]+"
_DEEPSEEK_LETTERS = (  # Latin, Greek, Cyrillic, ... letters (llama.cpp spells them as characters)
    "A-Za-z\xb5\xc0-\xd6\xd8-\xf6\xf8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
    "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481"
    "\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf"
    "\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d"
    "\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6"
    "-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-"
    "\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145"
    "-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680"
    "-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21"
    "-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80"
    "-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943"
)
_DEEPSEEK_LLM = (
    "[\r\n]",
    "\\s?[" + _DEEPSEEK_LETTERS + "]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s+$",
    _DEEPSEEK_CJK,
    "\\p{N}+",
)
_DEEPSEEK_CODER = ("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", _DEEPSEEK_CJK, "\\p{N}")
_DEEPSEEK_V3_WORDS = (  # llama.cpp's spelling: CR and LF as characters
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
)
_KANA_HAN = "[一-龥぀-ゟ゠-ヿ]+"
_SPARK_WORDS = (
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+"
)
_YOUTU = (
    "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+" + _CONTRACTIONS + "?"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*" + _CONTRACTIONS + "?"
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
)
_FALCON = (r"[\p{P}\$\+<=>\^~\|`]+", _GPT2, "[0-9][0-9][0-9]")
_BLOOM = r" ?[^(\s|.,!?…。，、।۔،)]+"
_CHAMELEON = (
    "<sentinel:[0-9]+>",
    "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
    "([\\t\\n]|    |  )",
    r"\p{N}",
    r"[\p{P}!-/:-@\[-`{-~]",
    _GPT2,
)
_TINY_AYA = (
    r"\d{1,3}(?=(?:\d{3})*\b)",
    _CASED_WORDS.replace("<C>", _CONTRACTIONS + "?")
    + r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
)
_BAILING = (  # the original's possessive quantifiers (?+, ++): Oniguruma has them
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"
)
_SEED_CODER = _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"
_UFAKZEKA = r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
_AFMOE = (
    r"\p{N}{1,3}(?=(?:\p{N}{3})*(?!\p{N}))",  # llama.cpp's \p{AFMoE_digits}: digit runs in threes from the right
    "[一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+",
    r'[!"#$%&' + r"'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
    r"| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
)
_EXAONE_MOE = (
    _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?"
    r"|\s*[\r\n]|\s+(?!\S)|\s+"
)
_MINICPM5 = (
    r"\p{N}{1,3}",
    _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
)


@dataclasses.dataclass(frozen=True)
class GGUFPreTokenizer:
    """How a byte-level BPE vocabulary cuts text into words, by llama.cpp's ``tokenizer.ggml.pre`` name.

    ``splits`` are ``Split(regex, Isolated)`` steps applied in order before the byte-level
    mapping (empty: GPT-2's own ``ByteLevel`` regex); ``ignore_merges`` keeps a word that is a
    token whole (Llama 3); ``add_bos`` is whether llama.cpp adds BOS when the file does not say;
    ``normalizer`` a Unicode form applied first ("NFC" for Qwen).

    Example:
        >>> GGUF_PRE_TOKENIZERS["smollm"].splits[0]
        '\\\\p{N}'
    """

    splits: tuple[str, ...] = ()
    ignore_merges: bool = False
    add_bos: bool = False
    normalizer: str | None = None


def _rule(splits: str | tuple[str, ...] = (), **options) -> GGUFPreTokenizer:
    return GGUFPreTokenizer((splits,) if isinstance(splits, str) else tuple(splits), **options)


_GPT2_RULE = _rule()
_STARCODER_RULE = _rule((r"\p{N}", _GPT2))  # Digits(individual_digits) then GPT-2's regex
_LLAMA3_RULE = _rule(_LLAMA3, ignore_merges=True, add_bos=True)
_QWEN2_RULE = _rule(_QWEN2, normalizer="NFC")
_GPT4O_RULE = _rule(_GPT4O)
_DEEPSEEK_V3_RULE = _rule((r"\p{N}{1,3}", _KANA_HAN, _DEEPSEEK_V3_WORDS))

# Every pre-tokeniser name llama.cpp accepts for a byte-level BPE vocabulary (llama-vocab.cpp)
GGUF_PRE_TOKENIZERS: dict[str, GGUFPreTokenizer] = {
    # "default" (or no name): GPT-2's regex, as transformers' GGUF loader reads such files
    **dict.fromkeys(
        (
            "default",
            "gpt-2",
            "phi-2",
            "jina-es",
            "jina-de",
            "gigachat",
            "jina-v2-es",
            "jina-v2-de",
            "a.x-4.0",
            "mellum",
            "modern-bert",
            "jina-v1-en",
            "jina-v2-code",
            "roberta-bpe",
            "exaone4",
            "mpt",
            "olmo",
            "jais",
            "trillion",
            "granite-docling",
        ),
        _GPT2_RULE,
    ),
    **dict.fromkeys(
        ("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"),
        _LLAMA3_RULE,
    ),
    **dict.fromkeys(("dbrx", "smaug-bpe", "chatglm-bpe"), _rule(_LLAMA3)),
    **dict.fromkeys(("glm4", "glm5"), _rule(_LLAMA3, ignore_merges=True)),
    "jais-2": _rule(_JAIS2),
    "deepseek-llm": _rule(_DEEPSEEK_LLM),
    "deepseek-coder": _rule(_DEEPSEEK_CODER),
    **dict.fromkeys(("deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"), _DEEPSEEK_V3_RULE),
    "spark2_5": _rule((r"\p{N}{1,3}", _KANA_HAN, _SPARK_WORDS, r"\p{N}")),
    "youtu": _rule(_YOUTU, ignore_merges=True),
    "falcon": _rule(_FALCON),
    **dict.fromkeys(
        ("starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"), _STARCODER_RULE
    ),
    **dict.fromkeys(("qwen2", "deepseek-r1-qwen"), _QWEN2_RULE),
    **dict.fromkeys(("kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"), _rule(_QWEN2)),
    "qwen35": _rule(_QWEN35),  # no NFC: llama.cpp's reference ids keep decomposed accents apart
    **dict.fromkeys(("poro-chat", "bloom", "gpt3-finnish"), _rule(_BLOOM)),
    "viking": _rule((_BLOOM, r"\p{N}")),
    "tekken": _rule(_TEKKEN, ignore_merges=True, add_bos=True),
    "chameleon": _rule(_CHAMELEON, add_bos=True),
    **dict.fromkeys(("gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"), _GPT4O_RULE),
    "granite-embed-multi-97m": _rule(_GRANITE_EMBED, ignore_merges=True),
    **dict.fromkeys(("tiny_aya", "cohere2moe"), _rule(_TINY_AYA)),
    "superbpe": _rule((r"\p{N}+", r"(?=(\d{3})+(?!\d))")),
    **dict.fromkeys(("bailingmoe", "bailingmoe2", "llada-moe"), _rule(_BAILING)),
    "seed-coder": _rule(_SEED_CODER),
    "ufakzeka": _rule(_UFAKZEKA),
    "grok-2": _rule(_QWEN2),
    "afmoe": _rule(_AFMOE),
    "laguna": _rule(("[^\\n]+|[\\n]+", _QWEN2)),
    "exaone-moe": _rule(_EXAONE_MOE),
    "minicpm5": _rule(_MINICPM5, ignore_merges=True),
}
# Names llama.cpp knows whose tokenizer has no tokenizer.json form we rebuild, and why
UNSUPPORTED_PRE_TOKENIZERS = {
    "kimi-k2": "its tokenizer is tiktoken's, split by code in llama.cpp and stored without BPE merges",
    "whitespace": "its BPE runs on raw UTF-8 words (no byte-level mapping) with a normaliser the file does not carry",
    "gemma4": "it is a SentencePiece-style BPE on raw UTF-8 ('▁' for spaces), not a byte-level one",
    "granite-embed-multi-311m": "it is a SentencePiece-style BPE on raw UTF-8 ('▁' for spaces), not a byte-level one",
    "sarvam-moe": "it is a SentencePiece-style BPE on raw UTF-8 ('▁' for spaces), not a byte-level one",
}
# The single Split regex of each pre-tokeniser that has one (what the in-graph tokenizer can run)
PRE_TOKENIZER_PATTERNS = {name: rule.splits[0] for name, rule in GGUF_PRE_TOKENIZERS.items() if len(rule.splits) == 1}


def gguf_pre_tokenizer(name: str) -> GGUFPreTokenizer:
    """The pre-tokeniser a ``tokenizer.ggml.pre`` name stands for; a clear error for one that has none.

    Example:
        >>> gguf_pre_tokenizer("llama-bpe").ignore_merges
        True
    """
    if name in GGUF_PRE_TOKENIZERS:
        return GGUF_PRE_TOKENIZERS[name]
    if name in UNSUPPORTED_PRE_TOKENIZERS:
        raise UnsupportedGGUFTokenizerError(
            f"The GGUF pre-tokeniser {name!r} cannot be rebuilt as a byte-level BPE tokenizer.json: "
            f"{UNSUPPORTED_PRE_TOKENIZERS[name]}. Load the model's original tokenizer files instead "
            "(AutoTokenizer.from_pretrained on the Hugging Face repository the GGUF was converted from)."
        )
    raise UnsupportedGGUFTokenizerError(
        f"Unknown GGUF pre-tokeniser {name!r} (tokenizer.ggml.pre); llama.cpp's names are supported: "
        f"{', '.join(sorted(GGUF_PRE_TOKENIZERS))}. Load the model's original tokenizer files instead "
        "(AutoTokenizer.from_pretrained on the Hugging Face repository the GGUF was converted from)."
    )


def gguf_adds_bos_eos(vocab: GGUFVocab) -> tuple[bool, bool]:
    """Whether the tokenizer adds BOS and EOS: the file's ``add_bos_token`` / ``add_eos_token``, else
    llama.cpp's default for the vocabulary (BOS for SentencePiece, Llama 3, Tekken, Chameleon).

    Example:
        >>> gguf_adds_bos_eos(read_gguf_vocab("ggml-vocab-llama-bpe.gguf"))  # doctest: +SKIP
        (True, False)
    """
    if vocab.add_bos_token is not None:
        add_bos = bool(vocab.add_bos_token)
    elif vocab.model == "llama":
        add_bos = True
    else:
        add_bos = vocab.model == "gpt2" and vocab.pre in GGUF_PRE_TOKENIZERS and GGUF_PRE_TOKENIZERS[vocab.pre].add_bos
    if add_bos and vocab.bos_token_id is None:
        add_bos = False  # nothing to add
    add_eos = bool(vocab.add_eos_token) and vocab.eos_token_id is not None
    return add_bos, add_eos


def gguf_tokenizer_config(vocab: GGUFVocab) -> dict:
    """The ``tokenizer_config.json`` contents that go with :func:`gguf_tokenizer_json`.

    The special tokens (bos/eos/unk/pad, as token strings), whether BOS / EOS are added, and
    the chat template (``tokenizer.chat_template``; with named ones too, the list of
    ``{"name", "template"}`` that ``tokenizer_config.json`` holds for several). The class is
    ``PreTrainedTokenizerFast``: tokenizer.json as it is, in kerasformers and transformers alike.

    Example:
        >>> config = gguf_tokenizer_config(read_gguf_vocab("SmolLM2-135M-Instruct.Q4_1.gguf"))  # doctest: +SKIP
        >>> config["eos_token"], config["add_bos_token"]  # doctest: +SKIP
        ('<|im_end|>', False)
    """
    add_bos, add_eos = gguf_adds_bos_eos(vocab)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": add_bos, "add_eos_token": add_eos}
    for name, token_id in (
        ("bos_token", vocab.bos_token_id),
        ("eos_token", vocab.eos_token_id),
        ("unk_token", vocab.unknown_token_id),
        ("pad_token", vocab.padding_token_id),
    ):
        if token_id is not None:
            config[name] = vocab.token(token_id)
    config["clean_up_tokenization_spaces"] = False
    if vocab.named_chat_templates:
        named = {"default": vocab.chat_template} if vocab.chat_template else {}
        named.update(vocab.named_chat_templates)
        config["chat_template"] = [{"name": name, "template": template} for name, template in named.items()]
    elif vocab.chat_template:
        config["chat_template"] = vocab.chat_template
    return config


# The files :func:`save_gguf_tokenizer` writes, and the tokenizer files of an earlier save it replaces
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


def save_gguf_tokenizer(path: str | os.PathLike, save_directory: str | os.PathLike, **config) -> tuple[str, str]:
    """Write the tokenizer of a GGUF file into a folder as ``tokenizer.json`` + ``tokenizer_config.json``.

    ``AutoTokenizer.from_pretrained(save_directory)`` (kerasformers' or transformers') then loads
    it with its special tokens and chat template. Keyword arguments go into
    ``tokenizer_config.json`` (``model_max_length=8192``, ...). The files replace those of an
    earlier tokenizer in one atomic step (with a stale ``chat_template.jinja``); other files of the
    folder (weights, config.json) stay.

    Example:
        >>> save_gguf_tokenizer("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2")  # doctest: +SKIP
        ('smollm2/tokenizer.json', 'smollm2/tokenizer_config.json')
    """
    vocab = read_gguf_vocab(path)
    spec = gguf_tokenizer_json(vocab)
    tokenizer_config = {**gguf_tokenizer_config(vocab), **config}
    with atomic_folder_write(save_directory, replaces=_TOKENIZER_FILES.__contains__) as tmp:
        (tmp / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        (tmp / "tokenizer_config.json").write_text(
            json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    folder = Path(save_directory)
    return str(folder / "tokenizer.json"), str(folder / "tokenizer_config.json")


def _unsupported_model(model: str | None) -> UnsupportedGGUFTokenizerError:
    why = {
        "bert": "a WordPiece vocabulary (BERT)",
        "t5": "a Unigram vocabulary (T5)",
        "gemma4": "Gemma 4's BPE on raw UTF-8 with '▁' for spaces",
        "rwkv": "RWKV's trie tokenizer",
        "plamo2": "PLaMo 2's tokenizer",
    }.get(model, "a tokenizer model llama.cpp added later")
    return UnsupportedGGUFTokenizerError(
        f"GGUF tokenizer model {model!r} ({why}) cannot be rebuilt here; supported: 'gpt2' (byte-level BPE, every "
        "llama.cpp pre-tokeniser that maps onto one) and 'llama' (SentencePiece). Load the model's original "
        "tokenizer files instead (AutoTokenizer.from_pretrained on the Hugging Face repository the GGUF came from)."
    )


# ------------------------------------------------------------------------------ builders
def _byte_level_bpe_json(vocab: GGUFVocab) -> dict:
    if vocab.merges is None:
        raise UnsupportedGGUFTokenizerError("A byte-level BPE GGUF vocabulary needs tokenizer.ggml.merges.")
    model = {
        "type": "BPE",
        "dropout": None,
        "unk_token": None,
        "continuing_subword_prefix": None,
        "end_of_word_suffix": None,
        "fuse_unk": False,
        "byte_fallback": False,
        "ignore_merges": False,
        "vocab": {token: i for i, token in enumerate(vocab.tokens)},
        "merges": list(vocab.merges),
    }
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    spec = {
        "normalizer": None,
        "model": model,
        "decoder": dict(byte_level),
        "post_processor": {**byte_level, "trim_offsets": False},
    }
    rule = gguf_pre_tokenizer(vocab.pre)
    if not rule.splits:
        spec["pre_tokenizer"] = byte_level
    else:
        splits = [
            {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}
            for regex in rule.splits
        ]
        spec["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [*splits, {**byte_level, "use_regex": False}]}
    model["ignore_merges"] = rule.ignore_merges
    if rule.normalizer:
        spec["normalizer"] = {"type": rule.normalizer}
    return spec


def sentencepiece_merges(pieces: dict[str, int], scores: dict[str, float]) -> list[list[str]]:
    """BPE merges equivalent to SentencePiece BPE scores: every split of a piece into two
    pieces is a merge, higher-scored results first (ties: vocabulary order, then ids).

    Example:
        >>> sentencepiece_merges({"a": 0, "b": 1, "ab": 2}, {"ab": -1.0})
        [['a', 'b']]
    """
    merges = []
    for piece, score in scores.items():
        local = [
            (piece[:cut], piece[cut:])
            for cut in range(1, len(piece))
            if piece[:cut] in pieces and piece[cut:] in pieces
        ]
        local.sort(key=lambda pair: (pieces[pair[0]], pieces[pair[1]]))
        merges.extend((score, left, right) for left, right in local)
    merges.sort(key=lambda merge: -merge[0])  # stable: equal scores keep the order above
    return [[left, right] for _, left, right in merges]


def _sentencepiece_bpe_json(vocab: GGUFVocab) -> dict:
    if vocab.scores is None:
        raise UnsupportedGGUFTokenizerError("A SentencePiece GGUF vocabulary needs tokenizer.ggml.scores.")
    pieces = {token: i for i, token in enumerate(vocab.tokens)}
    mergeable = {
        token: float(score)
        for token, score, kind in zip(vocab.tokens, vocab.scores, vocab.token_types)
        if kind in (NORMAL, USER_DEFINED)
    }
    unk = vocab.token(vocab.unknown_token_id)
    model = {
        "type": "BPE",
        "dropout": None,
        "unk_token": unk,
        "continuing_subword_prefix": None,
        "end_of_word_suffix": None,
        "fuse_unk": True,
        "byte_fallback": BYTE in vocab.token_types,
        "ignore_merges": False,
        "vocab": pieces,
        "merges": sentencepiece_merges(pieces, mergeable),
    }
    normalizer = {"type": "Sequence", "normalizers": [dict(step) for step in LLAMA_LEGACY_NORMALIZERS]}
    decoder = {
        "type": "Sequence",
        "decoders": [
            {"type": "Replace", "pattern": {"String": SPM_SPACE}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ],
    }
    return {"normalizer": normalizer, "pre_tokenizer": None, "model": model, "decoder": decoder}


def _template(bos: str | None, eos: str | None, specials: list[tuple[str, int]]) -> dict | None:
    if bos is None and eos is None:
        return None

    def sequence(name, type_id):
        items = [{"SpecialToken": {"id": bos, "type_id": type_id}}] if bos else []
        items.append({"Sequence": {"id": name, "type_id": type_id}})
        if eos:
            items.append({"SpecialToken": {"id": eos, "type_id": type_id}})
        return items

    return {
        "type": "TemplateProcessing",
        "single": sequence("A", 0),
        "pair": sequence("A", 0) + sequence("B", 1),
        "special_tokens": {token: {"id": token, "ids": [i], "tokens": [token]} for token, i in specials},
    }
