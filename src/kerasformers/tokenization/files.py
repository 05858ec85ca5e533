"""Readers of tokenizer files, shared by the Python tokenizer and every in-graph tokenizer.

Two groups:

- file readers (:func:`read_text_file`, :func:`read_json_file`, :func:`read_tokenizer_json`,
  :func:`load_tokenizer_file`, :func:`read_bpe_files`, :func:`read_json_object`): every loader
  goes through them, so a damaged file gives one :class:`TokenizerFileError` naming it instead
  of a raw ``tokenizers`` / ``json`` traceback;
- ``tokenizer.json`` readers (:func:`tokenizer_spec`, :func:`tokenizer_kind`,
  :func:`post_processors`, :func:`template_tokens`, :func:`bos_eos_from_template`,
  :func:`added_token_ids`): what an in-graph tokenizer needs to know about a tokenizer's
  model kind, special tokens and templates.

Example:
    >>> spec = read_tokenizer_json("path/to/bert/tokenizer.json")
    >>> tokenizer_kind(spec), template_tokens(spec["post_processor"])
    ('wordpiece', ('[CLS]', '[SEP]'))
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from kerasformers.errors import TokenizerFileError, UnsupportedTokenizerError

__all__ = [
    "read_text_file",
    "read_json_file",
    "read_json_object",
    "read_tokenizer_json",
    "load_tokenizer_file",
    "read_bpe_files",
    "file_error",
    "tokenizer_spec",
    "tokenizer_kind",
    "post_processors",
    "template_tokens",
    "bos_eos_from_template",
    "added_token_ids",
]

TOKENIZER_FILE = "tokenizer.json"

_FIX_FILE = (
    "Re-download the checkpoint's tokenizer files, or write them again with "
    "tokenizer.save_pretrained(folder) from a tokenizer that loads."
)


# ------------------------------------------------------------------------------- file readers


def file_error(path: str | os.PathLike, problem: str) -> TokenizerFileError:
    """The TokenizerFileError for a damaged tokenizer file: its path, the problem and the fix.

    Example:
        >>> raise file_error("vocab.txt", "is empty")
        Traceback (most recent call last):
        kerasformers.errors.TokenizerFileError: vocab.txt is empty. Re-download the checkpoint's ...
    """
    return TokenizerFileError(f"{os.fspath(path)} {problem}. {_FIX_FILE}")


def read_text_file(path: str | os.PathLike, allow_empty: bool = False) -> str:
    """A tokenizer text file (vocab.txt, merges.txt, any JSON file) as text; TokenizerFileError if
    it is empty (unless ``allow_empty``) or not UTF-8.

    Example:
        >>> read_text_file("path/to/bert/vocab.txt").splitlines()[:2]
        ['[PAD]', '[unused0]']
    """
    data = Path(path).read_bytes()
    if not data.strip() and not allow_empty:
        raise file_error(path, "is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise file_error(
            path, f"is not UTF-8 text (byte {error.start} cannot be decoded; a binary or damaged file?)"
        ) from None


def read_json_file(path: str | os.PathLike) -> Any:
    """A JSON file's content; TokenizerFileError naming the file if it is empty, not UTF-8 or not JSON.

    Example:
        >>> read_json_file("path/to/gpt2/vocab.json")["hello"]
        31373
    """
    text = read_text_file(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # an error at the very end of the text is a file cut short (an interrupted download)
        cut_short = error.pos >= len(text.rstrip())
        problem = "is truncated (the JSON ends early)" if cut_short else "is not valid JSON"
        raise file_error(path, f"{problem}: {error.msg} at line {error.lineno} column {error.colno}") from None


def read_json_object(path: str | os.PathLike) -> dict:
    """An optional JSON object file (tokenizer_config.json, config.json...): {} when absent.

    Example:
        >>> read_json_object("path/to/bert/tokenizer_config.json").get("do_lower_case")
        True
    """
    path = Path(path)
    if not path.is_file():
        return {}
    content = read_json_file(path)
    if not isinstance(content, dict):
        raise file_error(path, f"should hold a JSON object, but holds a JSON {type(content).__name__}")
    return content


def read_tokenizer_json(path: str | os.PathLike) -> dict:
    """The content of a ``tokenizer.json``, checked to be a tokenizer (a JSON object with a "model").

    Example:
        >>> read_tokenizer_json("path/to/bert/tokenizer.json")["model"]["type"]
        'WordPiece'
    """
    spec = read_json_file(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("model"), dict):
        found = f"keys {sorted(spec)[:8]}" if isinstance(spec, dict) else f"a JSON {type(spec).__name__}"
        raise file_error(
            path, f"is JSON but not a tokenizer (a tokenizer.json is an object with a 'model'; found {found})"
        )
    return spec


def load_tokenizer_file(path: str | os.PathLike) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` from a ``tokenizer.json``, or a TokenizerFileError saying what is wrong.

    Example:
        >>> load_tokenizer_file("path/to/bert/tokenizer.json").encode("hello").ids
        [101, 7592, 102]
    """
    try:
        return Tokenizer.from_file(os.fspath(path))
    except Exception as error:  # tokenizers raises a bare Exception for every kind of bad file
        if not Path(path).is_file():
            raise
        read_tokenizer_json(path)  # names the problem when it is the text or the JSON
        raise file_error(
            path,
            f"is a JSON tokenizer the tokenizers library cannot read ({error}); it may come "
            "from a newer tokenizers version or be damaged",
        ) from None


def read_bpe_files(vocab_json: str | os.PathLike, merges_txt: str | os.PathLike) -> tuple[dict[str, int], list[str]]:
    """(token -> id, merge lines) of a byte-level BPE ``vocab.json`` + ``merges.txt``, checked.

    Example:
        >>> vocab, merges = read_bpe_files("path/to/gpt2/vocab.json", "path/to/gpt2/merges.txt")
        >>> merges[0]
        'Ġ t'
    """
    vocab = read_json_file(vocab_json)
    if not isinstance(vocab, dict) or not all(isinstance(i, int) for i in vocab.values()):
        raise file_error(vocab_json, "is JSON but not a vocabulary (a vocab.json maps token -> id)")
    lines = read_text_file(merges_txt, allow_empty=True).splitlines()  # no merges: a character-level BPE
    merges = [line for line in lines if line and not line.startswith("#version")]
    return vocab, merges


# ------------------------------------------------------------------------------- tokenizer.json readers


def tokenizer_spec(tokenizer) -> dict:
    """The ``tokenizer.json`` contents of a ``tokenizers.Tokenizer`` or of a Python tokenizer's backend.

    Example:
        >>> tokenizer_spec(AutoTokenizer.from_pretrained("path/to/bert"))["model"]["type"]
        'WordPiece'
    """
    backend = tokenizer if hasattr(tokenizer, "to_str") else tokenizer.backend_tokenizer
    return json.loads(backend.to_str())


def tokenizer_kind(spec: dict) -> str | None:
    """Which in-graph tokenizer reproduces a ``tokenizer.json``: "wordpiece", "byte_level_bpe",
    "sentencepiece", or None for none.

    The kind is read off the model and pre-tokenizer only; the chosen layer checks the rest and
    raises :class:`UnsupportedTokenizerError` for a part it cannot reproduce.

    Example:
        >>> tokenizer_kind({"model": {"type": "BPE"}, "pre_tokenizer": {"type": "ByteLevel"}})
        'byte_level_bpe'
    """
    model = spec.get("model") or {}
    kind = model.get("type")
    if kind == "WordPiece":
        return "wordpiece"
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    if kind == "BPE" and any(step.get("type") == "ByteLevel" for step in steps):
        return "byte_level_bpe"  # GPT-2's ByteLevel, or Sequence[Split(regex), ByteLevel] (Llama 3, Qwen2)
    if kind == "BPE" and model.get("byte_fallback"):
        return "sentencepiece"  # SentencePiece BPE converted to tokenizer.json (Llama 2 kind)
    if kind == "Unigram":
        return "sentencepiece"  # SentencePiece Unigram converted to tokenizer.json (T5 kind)
    return None


def post_processors(spec: dict) -> list[dict]:
    """The post-processors of a ``tokenizer.json``, a ``Sequence`` unrolled ([] for none).

    Example:
        >>> [p["type"] for p in post_processors({"post_processor": {"type": "ByteLevel"}})]
        ['ByteLevel']
    """
    post = spec.get("post_processor") or {}
    if post.get("type") == "Sequence":
        return list(post.get("processors", []))
    return [post] if post else []


def template_tokens(post_processor: dict | None) -> tuple[str, str]:
    """(cls, sep) token strings from a BertProcessing / RobertaProcessing / TemplateProcessing post-processor.

    Example:
        >>> template_tokens({"type": "BertProcessing", "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]})
        ('[CLS]', '[SEP]')
    """
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
                return template_tokens(processor)
    raise UnsupportedTokenizerError(f"Cannot read [CLS]/[SEP] from the post-processor {kind!r}.")


def bos_eos_from_template(processor: dict) -> tuple[list[int], list[int]]:
    """(bos ids, eos ids) of a TemplateProcessing ``[bos] $A [eos]`` (pairs: ``[bos] $A [eos] [bos] $B [eos]``).

    Example:
        >>> bos_eos_from_template({"single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}],
        ...                        "special_tokens": {"<s>": {"ids": [1]}}})
        ([1], [])
    """

    def layout(items):
        return [
            item["SpecialToken"]["id"] if "SpecialToken" in item else "$" + item["Sequence"]["id"] for item in items
        ]

    single = layout(processor.get("single", []))
    if single.count("$A") != 1 or any(p.startswith("$") and p != "$A" for p in single):
        raise UnsupportedTokenizerError(f"Cannot read the template {single!r} in-graph.")
    cut = single.index("$A")
    bos, eos = single[:cut], single[cut + 1 :]
    pair = layout(processor.get("pair", []))
    if pair and pair != bos + ["$A"] + eos + bos + ["$B"] + eos:
        raise UnsupportedTokenizerError(f"Cannot reproduce the pair template {pair!r} in-graph.")
    specials = processor.get("special_tokens", {})

    def ids(tokens):
        return [i for token in tokens for i in specials[token]["ids"]]

    return ids(bos), ids(eos)


def added_token_ids(spec: dict, unnormalized_only: bool = False) -> dict[str, int]:
    """Added token -> id of a ``tokenizer.json``; with ``unnormalized_only``, only those matched on
    the raw text (``normalized: false``), as the special tokens of BERT-family tokenizers.

    Example:
        >>> added_token_ids({"added_tokens": [{"content": "[PAD]", "id": 0, "normalized": False}]})
        {'[PAD]': 0}
    """
    return {
        token["content"]: int(token["id"])
        for token in spec.get("added_tokens", [])
        if not (unnormalized_only and token.get("normalized", True))
    }
