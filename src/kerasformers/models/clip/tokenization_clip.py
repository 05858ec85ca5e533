"""CLIPTokenizerFast: CLIP's byte-level BPE tokenizer, as transformers builds it.

CLIP normalises text (NFC, runs of whitespace -> one space, lowercase), splits it with its own
pattern (letters, single digits, punctuation runs, English contractions), maps bytes to
unicode as GPT-2 does and ends every word's last piece with ``</w>``. A text becomes
``<|startoftext|> ... <|endoftext|>``; decoding turns ``</w>`` back into spaces.

Example:
    >>> tokenizer = CLIPTokenizerFast("vocab.json", "merges.txt")
    >>> tokenizer.decode(tokenizer("A photo of a CAT")["input_ids"], skip_special_tokens=True)
    'a photo of a cat'
"""

from __future__ import annotations

import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

from kerasformers.models.gpt2.tokenization_gpt2 import read_bpe_vocab_and_merges
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class

__all__ = ["CLIPTokenizerFast", "CLIPTokenizer"]

END_OF_WORD_SUFFIX = "</w>"
# CLIP's word pattern (transformers' CLIPTokenizer): the special tokens, contractions, letter runs,
# single digits, and runs of anything else that is not whitespace
CLIP_SPLIT_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def clip_bpe_model(vocab, merges, unk_token: str = "<|endoftext|>") -> BPE:
    """The BPE model of CLIP's tokenizer: ``</w>`` ends each word, unknown pieces become ``unk_token``.

    Example:
        >>> clip_bpe_model({"<|endoftext|>": 0, "a</w>": 1}, [])
    """
    return BPE(
        vocab=vocab,
        merges=merges,
        dropout=None,
        continuing_subword_prefix="",
        end_of_word_suffix=END_OF_WORD_SUFFIX,
        fuse_unk=False,
        unk_token=unk_token,
    )


class CLIPTokenizerFast(PreTrainedTokenizerFast):
    """CLIP's tokenizer (lowercasing byte-level BPE with ``</w>`` word ends), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``) or a ``vocab.json`` + ``merges.txt``
    (``vocab_file``, ``merges_file``, or ``vocab`` / ``merges`` already read). As in transformers,
    the normaliser, pre-tokenizer, decoder and the ``<|startoftext|> A <|endoftext|>`` template come
    from this class. Padding uses ``<|endoftext|>``. ``CLIPTokenizer`` is another name for this
    class: no slow Python tokenizer here.

    Example:
        >>> tokenizer = CLIPTokenizerFast("vocab.json", "merges.txt")
        >>> tokenizer(["a cat", "a photo of a dog"], padding=True)["attention_mask"][0]
        [1, 1, 1, 1, 0, 0, 0]
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        merges_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        unk_token: str | AddedToken = "<|endoftext|>",
        bos_token: str | AddedToken = "<|startoftext|>",
        eos_token: str | AddedToken = "<|endoftext|>",
        pad_token: str | AddedToken = "<|endoftext|>",
        *,
        vocab: dict[str, int] | None = None,
        merges: list | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        if vocab is None and vocab_file is not None and tokenizer_file is None:
            vocab, merges = read_bpe_vocab_and_merges(vocab_file, merges_file)
        default_vocab = {str(bos_token): 0, str(eos_token): 1, str(pad_token): 2}  # transformers' empty vocabulary
        backend = build_backend(
            lambda v, m: clip_bpe_model(v, m, str(unk_token)),
            tokenizer_object,
            tokenizer_file,
            vocab,
            merges,
            default_vocab=default_vocab,
        )
        backend.normalizer = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
        )
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(CLIP_SPLIT_PATTERN), behavior="removed", invert=True),
                pre_tokenizers.ByteLevel(add_prefix_space=False),
            ]
        )
        backend.decoder = decoders.ByteLevel()
        super().__init__(
            backend, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token, pad_token=pad_token, **kwargs
        )
        # <|startoftext|> A <|endoftext|> (a pair: A <|endoftext|><|endoftext|> B <|endoftext|>), as transformers
        self.backend_tokenizer.post_processor = processors.RobertaProcessing(
            (str(eos_token), self.eos_token_id), (str(bos_token), self.bos_token_id), False, False
        )

    def _decode_one(self, ids: list[int], skip_special_tokens: bool, clean_up: bool | None) -> str:
        # the byte-level decoder leaves each word's </w>: it is the space between words (transformers' rule)
        text = super()._decode_one(ids, skip_special_tokens, clean_up)
        return text.replace(END_OF_WORD_SUFFIX, " ").strip()


CLIPTokenizer = CLIPTokenizerFast

register_tokenizer_class(CLIPTokenizerFast, names=("CLIPTokenizer",), model_types=("clip",), for_bare_files=False)
