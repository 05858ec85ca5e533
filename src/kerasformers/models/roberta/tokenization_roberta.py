"""RobertaTokenizerFast and XLMRobertaTokenizerFast, as transformers builds them.

Example:
    >>> tokenizer = RobertaTokenizerFast(vocab_file="vocab.json", merges_file="merges.txt")
    >>> tokenizer("Hello world")["input_ids"][0] == tokenizer.cls_token_id
    True
"""

from __future__ import annotations

import base64
import os

from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from kerasformers.models.gpt2.tokenization_gpt2 import byte_level_bpe_model, read_bpe_vocab_and_merges
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class
from kerasformers.tokenization.files import read_tokenizer_json

__all__ = ["RobertaTokenizerFast", "RobertaTokenizer", "XLMRobertaTokenizerFast", "XLMRobertaTokenizer"]


class RobertaTokenizerFast(PreTrainedTokenizerFast):
    """RoBERTa's tokenizer (byte-level BPE with ``<s> A </s></s> B </s>``), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``) or a ``vocab.json`` + ``merges.txt``
    (``vocab_file``, ``merges_file``, or ``vocab`` / ``merges``). As in transformers, the
    byte-level pipeline and the template come from this class (``add_prefix_space``,
    ``trim_offsets``). ``RobertaTokenizer`` is another name for this class: no slow Python
    tokenizer here.

    Example:
        >>> tokenizer = RobertaTokenizerFast("vocab.json", "merges.txt")
        >>> tokenizer.mask_token, tokenizer.model_input_names
        ('<mask>', ['input_ids', 'attention_mask'])
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        merges_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        errors: str = "replace",
        bos_token: str | AddedToken = "<s>",
        eos_token: str | AddedToken = "</s>",
        sep_token: str | AddedToken = "</s>",
        cls_token: str | AddedToken = "<s>",
        unk_token: str | AddedToken = "<unk>",
        pad_token: str | AddedToken = "<pad>",
        mask_token: str | AddedToken = "<mask>",
        add_prefix_space: bool = False,
        trim_offsets: bool = True,
        *,
        vocab: dict[str, int] | None = None,
        merges: list | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        if vocab is None and vocab_file is not None and tokenizer_file is None:
            vocab, merges = read_bpe_vocab_and_merges(vocab_file, merges_file)
        default_vocab = {str(t): i for i, t in enumerate((pad_token, unk_token, cls_token, sep_token, mask_token))}
        backend = build_backend(
            byte_level_bpe_model, tokenizer_object, tokenizer_file, vocab, merges, default_vocab=default_vocab
        )
        backend.normalizer = None
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
        backend.decoder = decoders.ByteLevel()
        self.add_prefix_space = add_prefix_space
        super().__init__(
            backend,
            errors=errors,
            bos_token=bos_token,
            eos_token=eos_token,
            sep_token=sep_token,
            cls_token=cls_token,
            unk_token=unk_token,
            pad_token=pad_token,
            mask_token=mask_token,
            add_prefix_space=add_prefix_space,
            trim_offsets=trim_offsets,
            **kwargs,
        )
        self.backend_tokenizer.post_processor = processors.RobertaProcessing(
            (str(sep_token), self.sep_token_id),
            (str(cls_token), self.cls_token_id),
            trim_offsets=trim_offsets,
            add_prefix_space=add_prefix_space,
        )


RobertaTokenizer = RobertaTokenizerFast


class XLMRobertaTokenizerFast(PreTrainedTokenizerFast):
    """XLM-RoBERTa's tokenizer (SentencePiece Unigram with ``<s> A </s></s> B </s>``), with transformers' defaults.

    Built from a ``tokenizer.json`` only (``tokenizer_file``; the ``sentencepiece.bpe.model``
    protobuf is not read here) or a ``vocab`` list of ``(piece, score)``. As in transformers,
    the pre-tokenizer (whitespace split, then ``▁`` prefix when ``add_prefix_space``), the
    decoder and the template come from this class; the normaliser is the file's precompiled
    character map. ``XLMRobertaTokenizer`` is another name for this class.

    Example:
        >>> tokenizer = XLMRobertaTokenizerFast(tokenizer_file="tokenizer.json")
        >>> tokenizer("Hello", "world")["input_ids"][:1] == [tokenizer.bos_token_id]
        True
    """

    vocab_files_names = {"tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        bos_token: str | AddedToken = "<s>",
        eos_token: str | AddedToken = "</s>",
        sep_token: str | AddedToken = "</s>",
        cls_token: str | AddedToken = "<s>",
        unk_token: str | AddedToken = "<unk>",
        pad_token: str | AddedToken = "<pad>",
        mask_token: str | AddedToken = "<mask>",
        add_prefix_space: bool = True,
        *,
        vocab: list[tuple[str, float]] | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        default_vocab = [(str(t), 0.0) for t in (bos_token, pad_token, eos_token, unk_token, mask_token)]
        backend = build_backend(
            lambda pieces, _: Unigram(vocab=pieces, unk_id=3, byte_fallback=False),
            tokenizer_object,
            tokenizer_file,
            vocab,
            default_vocab=default_vocab,
        )
        charsmap = _precompiled_charsmap(tokenizer_file) if tokenizer_file is not None else None
        backend.normalizer = normalizers.Precompiled(charsmap) if charsmap is not None else None
        prepend_scheme = "always" if add_prefix_space else "never"
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=prepend_scheme)]
        )
        backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme=prepend_scheme)
        self.add_prefix_space = add_prefix_space
        super().__init__(
            backend,
            bos_token=bos_token,
            eos_token=eos_token,
            sep_token=sep_token,
            cls_token=cls_token,
            unk_token=unk_token,
            pad_token=pad_token,
            mask_token=mask_token,
            add_prefix_space=add_prefix_space,
            **kwargs,
        )
        bos, eos = str(bos_token), str(eos_token)
        self.backend_tokenizer.post_processor = processors.TemplateProcessing(
            single=[bos, "$A", eos],
            pair=[bos, "$A", eos, eos, "$B", eos],
            special_tokens=[(bos, self.bos_token_id), (eos, self.eos_token_id)],
        )


def _precompiled_charsmap(tokenizer_file) -> bytes | None:
    """The SentencePiece character map of a tokenizer.json's normaliser (transformers keeps only that part)."""
    normalizer = read_tokenizer_json(tokenizer_file).get("normalizer") or {}
    steps = normalizer.get("normalizers", []) if normalizer.get("type") == "Sequence" else [normalizer]
    for step in steps:
        if step.get("type") == "Precompiled" and step.get("precompiled_charsmap"):
            return base64.b64decode(step["precompiled_charsmap"])
    return None


XLMRobertaTokenizer = XLMRobertaTokenizerFast

register_tokenizer_class(
    RobertaTokenizerFast,
    names=("RobertaTokenizer", "BartTokenizer", "LongformerTokenizer", "LEDTokenizer"),
    model_types=("roberta", "roberta-prelayernorm", "bart", "longformer", "data2vec-text", "ibert"),
)
register_tokenizer_class(XLMRobertaTokenizerFast, names=("XLMRobertaTokenizer",), model_types=("xlm-roberta",))
