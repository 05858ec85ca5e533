"""Tokenizers stored in GGUF files (llama.cpp's format), as ``tokenizer.json`` and Python tokenizers.

A GGUF file keeps its tokenizer as metadata: the tokens, their types, BPE merges (``gpt2``
model) or SentencePiece scores (``llama`` model), the special token ids and the name of the
pre-tokeniser (``tokenizer.ggml.pre``). :func:`read_gguf_vocab` reads those fields;
:func:`gguf_tokenizer_json` rebuilds the Hugging Face ``tokenizer.json`` that the original
checkpoint shipped, so that the ``tokenizers`` library (and the in-graph tokenizers built
from it) give the ids the original tokenizer gave, those in llama.cpp's reference files.

This module reads the format only; :func:`kerasformers.tokenization.tokenizer_from_gguf` (in
``fast.py``) makes the Python tokenizer and ``TFSentencePieceTokenizer.from_gguf`` the in-graph one.

Example:
    >>> spec = gguf_tokenizer_json(read_gguf_vocab("ggml-vocab-llama-bpe.gguf"))  # doctest: +SKIP
    >>> spec["pre_tokenizer"]["type"]  # doctest: +SKIP
    'Sequence'
"""

from __future__ import annotations

import dataclasses
import os
import struct
from pathlib import Path

import numpy as np

from kerasformers.errors import TokenizerFileError, UnsupportedGGUFTokenizerError

__all__ = [
    "GGUFVocab",
    "read_gguf_metadata",
    "read_gguf_vocab",
    "gguf_tokenizer_json",
    "sentencepiece_merges",
    "PRE_TOKENIZER_PATTERNS",
]

# llama.cpp token types (llama_token_type), the same numbers as SentencePiece's piece types
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

# The Split regexes of the original tokenizer.json files, by llama.cpp's ``tokenizer.ggml.pre`` name
PRE_TOKENIZER_PATTERNS = {
    "llama-bpe": (
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
        "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    ),
    "qwen2": (
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
        "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    ),
}
# Byte-level BPE vocabularies whose pre-tokeniser is GPT-2's own regex
_GPT2_PRE = ("default", "gpt-2")
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
    data = memoryview(Path(path).read_bytes())
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
            if item_kind in _SCALARS:  # numbers: one numpy view
                dtype = np.dtype(_SCALARS[item_kind])
                items = np.frombuffer(data, dtype, length, offset)
                offset += dtype.itemsize * length
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
    )


def gguf_tokenizer_json(vocab: GGUFVocab) -> dict:
    """The ``tokenizer.json`` contents of the Hugging Face tokenizer a GGUF vocabulary came from.

    Byte-level BPE (``gpt2`` model) keeps the file's merges and gets the pre-tokeniser its
    ``pre`` name stands for (GPT-2, Llama 3 with ``ignore_merges``, Qwen2 with NFC).
    SentencePiece (``llama`` model) becomes a byte-fallback BPE whose merges are ordered by
    the pieces' scores, with Llama 2's normaliser (a leading "▁", spaces as "▁").

    Example:
        >>> spec = gguf_tokenizer_json(read_gguf_vocab("ggml-vocab-gpt-2.gguf"))  # doctest: +SKIP
        >>> spec["model"]["type"]  # doctest: +SKIP
        'BPE'
    """
    if vocab.model == "gpt2":
        spec = _byte_level_bpe_json(vocab)
        add_bos_default = vocab.pre == "llama-bpe"
    elif vocab.model == "llama":
        spec = _sentencepiece_bpe_json(vocab)
        add_bos_default = True
    else:
        raise UnsupportedGGUFTokenizerError(
            f"GGUF tokenizer model {vocab.model!r} is not supported; supported: 'gpt2' (byte-level BPE), "
            "'llama' (SentencePiece)."
        )
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
    add_bos = add_bos_default if vocab.add_bos_token is None else bool(vocab.add_bos_token)
    add_eos = bool(vocab.add_eos_token)
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
    if vocab.pre in _GPT2_PRE:
        spec["pre_tokenizer"] = byte_level
    elif vocab.pre in PRE_TOKENIZER_PATTERNS:
        split = {
            "type": "Split",
            "pattern": {"Regex": PRE_TOKENIZER_PATTERNS[vocab.pre]},
            "behavior": "Isolated",
            "invert": False,
        }
        spec["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [split, {**byte_level, "use_regex": False}]}
        if vocab.pre == "llama-bpe":
            model["ignore_merges"] = True  # Llama 3: a word that is a token is never split
        if vocab.pre == "qwen2":
            spec["normalizer"] = {"type": "NFC"}
    else:
        raise UnsupportedGGUFTokenizerError(
            f"Pre-tokeniser {vocab.pre!r} is not supported; supported: "
            f"{', '.join([*_GPT2_PRE, *PRE_TOKENIZER_PATTERNS])}."
        )
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
