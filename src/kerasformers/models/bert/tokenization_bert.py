"""BertTokenizerFast: BERT's WordPiece tokenizer, as transformers builds it.

There are no slow (pure Python) tokenizers here: ``BertTokenizer`` is the same class, as in
transformers 5.

Example:
    >>> tokenizer = BertTokenizerFast(vocab_file="vocab.txt", do_lower_case=True)
    >>> tokenizer("Hello world")["input_ids"]
    [101, 7592, 2088, 102]
"""

from __future__ import annotations

import os

from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class
from kerasformers.tokenization.files import read_text_file

__all__ = ["BertTokenizerFast", "BertTokenizer"]


class BertTokenizerFast(PreTrainedTokenizerFast):
    """BERT's tokenizer (WordPiece), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``), a ``vocab.txt`` (``vocab_file``, or the
    first argument) or a ``{token: id}`` dict (``vocab``). As in transformers, the text pipeline
    (lower-casing, accents, Chinese characters, punctuation split) and the ``[CLS] A [SEP] B
    [SEP]`` template always come from this class's arguments, whatever a tokenizer.json says.
    ``BertTokenizer`` is another name for this class: no slow Python tokenizer here.

    Example:
        >>> tokenizer = BertTokenizerFast("vocab.txt", do_lower_case=False)
        >>> tokenizer("Hello", "world")["token_type_ids"]
        [0, 0, 0, 1, 1]
        >>> BertTokenizerFast.from_pretrained("path/to/bert")  # tokenizer.json or vocab.txt
    """

    vocab_files_names = {"vocab_file": "vocab.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | dict[str, int] | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        do_lower_case: bool = True,
        unk_token: str | AddedToken = "[UNK]",
        sep_token: str | AddedToken = "[SEP]",
        pad_token: str | AddedToken = "[PAD]",
        cls_token: str | AddedToken = "[CLS]",
        mask_token: str | AddedToken = "[MASK]",
        tokenize_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        *,
        vocab: dict[str, int] | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        if isinstance(vocab_file, dict):  # transformers 5's first argument is the vocabulary itself
            vocab, vocab_file = vocab_file, None
        if vocab is None and vocab_file is not None and tokenizer_file is None:
            read_text_file(vocab_file)  # one clear error for an empty or binary file
            vocab = WordPiece.read_file(os.fspath(vocab_file))
        unk = str(unk_token)
        default_vocab = {str(pad_token): 0, unk: 1, str(cls_token): 2, str(sep_token): 3, str(mask_token): 4}
        backend = build_backend(
            lambda words, _: WordPiece(words, unk_token=unk),
            tokenizer_object,
            tokenizer_file,
            vocab,
            default_vocab=default_vocab,
        )
        backend.normalizer = normalizers.BertNormalizer(
            clean_text=True,
            handle_chinese_chars=tokenize_chinese_chars,
            strip_accents=strip_accents,
            lowercase=do_lower_case,
        )
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece(prefix="##")
        self.do_lower_case = do_lower_case
        super().__init__(
            backend,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            do_lower_case=do_lower_case,
            tokenize_chinese_chars=tokenize_chinese_chars,
            strip_accents=strip_accents,
            **kwargs,
        )
        cls, sep = self.cls_token, self.sep_token
        cls_id = self.cls_token_id if self.cls_token_id is not None else 2
        sep_id = self.sep_token_id if self.sep_token_id is not None else 3
        self.backend_tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{cls}:0 $A:0 {sep}:0",
            pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
            special_tokens=[(cls, cls_id), (sep, sep_id)],
        )


BertTokenizer = BertTokenizerFast

# transformers classes that are BERT's tokenizer under another name
register_tokenizer_class(
    BertTokenizerFast,
    names=(
        "BertTokenizer",
        "ElectraTokenizer",
        "ConvBertTokenizer",
        "MobileBertTokenizer",
        "SqueezeBertTokenizer",
        "LayoutLMTokenizer",
    ),
    model_types=("bert", "electra", "convbert", "layoutlm", "megatron-bert", "mobilebert", "squeezebert"),
    for_bare_files=True,
)
