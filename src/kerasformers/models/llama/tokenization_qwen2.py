"""Qwen2TokenizerFast: Qwen2's byte-level BPE tokenizer, as transformers builds it.

Example:
    >>> tokenizer = Qwen2TokenizerFast(vocab_file="vocab.json", merges_file="merges.txt")
    >>> tokenizer.pad_token
    '<|endoftext|>'
"""

from __future__ import annotations

import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import BPE

from kerasformers.models.gpt2.tokenization_gpt2 import read_bpe_vocab_and_merges
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class

__all__ = ["Qwen2TokenizerFast", "Qwen2Tokenizer"]

# Qwen2's pre-tokenizer split (transformers' models/qwen2/tokenization_qwen2.py)
PRETOKENIZE_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""  # noqa: E501


class Qwen2TokenizerFast(PreTrainedTokenizerFast):
    """Qwen2's tokenizer (NFC, a regex split, byte-level BPE), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``) or a ``vocab.json`` + ``merges.txt``
    (``vocab_file``, ``merges_file``, or ``vocab`` / ``merges``). As in transformers, the text
    pipeline comes from this class, ``<|endoftext|>`` is the unknown, end and padding token and
    there is no beginning token. ``Qwen2Tokenizer`` is another name for this class: no slow
    Python tokenizer here.

    Example:
        >>> tokenizer = Qwen2TokenizerFast.from_pretrained("path/to/qwen2")
        >>> tokenizer.bos_token is None
        True
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        merges_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        unk_token: str | AddedToken = "<|endoftext|>",
        bos_token: str | AddedToken | None = None,
        eos_token: str | AddedToken = "<|endoftext|>",
        pad_token: str | AddedToken = "<|endoftext|>",
        add_prefix_space: bool | None = None,
        *,
        vocab: dict[str, int] | None = None,
        merges: list | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        self.add_prefix_space = False if add_prefix_space is None else add_prefix_space
        if vocab is None and vocab_file is not None and tokenizer_file is None:
            vocab, merges = read_bpe_vocab_and_merges(vocab_file, merges_file)
        backend = build_backend(
            lambda words, pairs: BPE(
                vocab=words,
                merges=pairs or [],
                dropout=None,
                unk_token=None,
                continuing_subword_prefix="",
                end_of_word_suffix="",
                fuse_unk=False,
                byte_fallback=False,
            ),
            tokenizer_object,
            tokenizer_file,
            vocab,
            merges,
            default_vocab={"<|endoftext|>": 0},
        )
        backend.decoder = decoders.ByteLevel()
        backend.normalizer = normalizers.NFC()
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=self.add_prefix_space, use_regex=False),
            ]
        )
        super().__init__(
            backend,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            pad_token=pad_token,
            add_prefix_space=add_prefix_space,
            **kwargs,
        )
        self.add_tokens([AddedToken(token, special=True) for token in self.all_special_tokens])


Qwen2Tokenizer = Qwen2TokenizerFast

register_tokenizer_class(Qwen2TokenizerFast, names=("Qwen2Tokenizer",), model_types=("qwen2",))
