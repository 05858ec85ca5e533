"""GPT2TokenizerFast: GPT-2's byte-level BPE tokenizer, as transformers builds it.

Example:
    >>> tokenizer = GPT2TokenizerFast(vocab_file="vocab.json", merges_file="merges.txt")
    >>> tokenizer.decode(tokenizer("Hello world")["input_ids"])
    'Hello world'
"""

from __future__ import annotations

import os

from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers
from tokenizers.models import BPE

from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class
from kerasformers.tokenization.files import read_bpe_files

__all__ = ["GPT2TokenizerFast", "GPT2Tokenizer", "byte_level_bpe_model", "read_bpe_vocab_and_merges"]


def byte_level_bpe_model(vocab, merges) -> BPE:
    """The BPE model of GPT-2-style tokenizers (no dropout, no subword prefix or suffix, no unknown token).

    Example:
        >>> byte_level_bpe_model({"a": 0, "b": 1, "ab": 2}, [("a", "b")])
    """
    return BPE(
        vocab=vocab, merges=merges, dropout=None, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False
    )


def read_bpe_vocab_and_merges(vocab_file, merges_file) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(vocabulary, merges) of a ``vocab.json`` + ``merges.txt``, with a clear error for a damaged file.

    Example:
        >>> vocab, merges = read_bpe_vocab_and_merges("vocab.json", "merges.txt")
    """
    read_bpe_files(vocab_file, merges_file)  # names the file and the problem, as the in-graph loader does
    return BPE.read_file(os.fspath(vocab_file), os.fspath(merges_file))


class GPT2TokenizerFast(PreTrainedTokenizerFast):
    """GPT-2's tokenizer (byte-level BPE), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``) or a ``vocab.json`` + ``merges.txt``
    (``vocab_file``, ``merges_file``, or ``vocab`` / ``merges`` already read). The byte-level
    pipeline comes from this class (``add_prefix_space``); special tokens are added only with
    ``add_bos_token`` / ``add_eos_token`` (or by a tokenizer.json's post-processor).
    ``GPT2Tokenizer`` is another name for this class: no slow Python tokenizer here.

    Example:
        >>> tokenizer = GPT2TokenizerFast("vocab.json", "merges.txt", add_prefix_space=True)
        >>> tokenizer.eos_token
        '<|endoftext|>'
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        merges_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        unk_token: str | AddedToken = "<|endoftext|>",
        bos_token: str | AddedToken = "<|endoftext|>",
        eos_token: str | AddedToken = "<|endoftext|>",
        pad_token: str | AddedToken | None = None,
        add_prefix_space: bool = False,
        *,
        vocab: dict[str, int] | None = None,
        merges: list | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        if vocab is None and vocab_file is not None and tokenizer_file is None:
            vocab, merges = read_bpe_vocab_and_merges(vocab_file, merges_file)
        backend = build_backend(byte_level_bpe_model, tokenizer_object, tokenizer_file, vocab, merges, default_vocab={})
        backend.normalizer = None
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
        backend.decoder = decoders.ByteLevel()
        self.add_prefix_space = add_prefix_space
        super().__init__(
            backend,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            pad_token=pad_token,
            add_prefix_space=add_prefix_space,
            **kwargs,
        )


GPT2Tokenizer = GPT2TokenizerFast

register_tokenizer_class(
    GPT2TokenizerFast,
    names=("GPT2Tokenizer",),
    model_types=("gpt2", "gpt_neo", "gptj", "codegen", "opt"),
    for_bare_files=True,
)
