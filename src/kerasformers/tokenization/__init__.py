"""Tokenizers for Hugging Face checkpoints: Python (``tokenizers`` library) and in-graph (Keras layers).

Layout, each module importing only the ones above it:

- ``files``: readers of tokenizer files and of ``tokenizer.json`` (templates, special tokens, kinds);
- ``gguf``: tokenizers stored in llama.cpp GGUF files, as ``tokenizer.json``;
- ``fast``: :class:`PreTrainedTokenizerFast`, :class:`BatchEncoding` and the checkpoint loader;
- ``in_graph``: :class:`TFTokenizerLayer`, the base of the in-graph kinds, and their shared pieces;
- ``wordpiece``, ``bpe``, ``sentencepiece``: one in-graph kind each;
- ``auto``: :class:`AutoTokenizer` and :class:`TFAutoTokenizer`, the only module that knows every kind.

Example:
    >>> from kerasformers.tokenization import AutoTokenizer, TFAutoTokenizer
    >>> tokenizer = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
    >>> tokenizer("Hello world")["input_ids"]
    [101, 7592, 2088, 102]
"""

from __future__ import annotations

from kerasformers.errors import (
    TokenizerFileError,
    TokenizerFilesNotFoundError,
    UnsupportedGGUFTokenizerError,
    UnsupportedTokenizerError,
)
from kerasformers.tokenization.auto import AutoTokenizer, TFAutoTokenizer
from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer
from kerasformers.tokenization.fast import BatchEncoding, PreTrainedTokenizerFast, tokenizer_from_gguf
from kerasformers.tokenization.in_graph import TFTokenizerLayer
from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer
from kerasformers.tokenization.wordpiece import TFWordPieceTokenizer

__all__ = [
    "AutoTokenizer",
    "BatchEncoding",
    "PreTrainedTokenizerFast",
    "TFAutoTokenizer",
    "TFTokenizerLayer",
    "TFWordPieceTokenizer",
    "TFByteLevelBPETokenizer",
    "TFSentencePieceTokenizer",
    "tokenizer_from_gguf",
    "TokenizerFileError",
    "TokenizerFilesNotFoundError",
    "UnsupportedTokenizerError",
    "UnsupportedGGUFTokenizerError",
]
