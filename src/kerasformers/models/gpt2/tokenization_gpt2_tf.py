"""TFGPT2Tokenizer: the in-graph GPT-2 tokenizer under the name transformers' TF side used.

transformers 4.57 built it on keras-nlp's BytePairTokenizer; here it is
:class:`~kerasformers.tokenization.bpe.TFByteLevelBPETokenizer` (tf-text ops), with the same
constructor, ``from_tokenizer`` / ``from_pretrained`` and ``call(x, max_length=None)``.

Example:
    >>> tf_tokenizer = TFGPT2Tokenizer.from_pretrained("path/to/gpt2")
    >>> tf_tokenizer(tf.constant(["Hello world"]))["input_ids"]
"""

from __future__ import annotations

from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

__all__ = ["TFGPT2Tokenizer"]


class TFGPT2Tokenizer(TFByteLevelBPETokenizer):
    """In-graph GPT-2 tokenizer (a Keras layer): strings in, ``input_ids`` and ``attention_mask`` out,
    ids identical to ``GPT2TokenizerFast``.

    As in transformers 4.57: with ``pad_token_id`` and ``max_length`` every row is padded (and
    truncated) to ``max_length``. Without ``pad_token_id`` rows are padded to the longest with id 0
    and masked (4.57 returned unpadded rows there).

    Example:
        >>> tf_tokenizer = TFGPT2Tokenizer.from_tokenizer(GPT2TokenizerFast.from_pretrained(path),
        ...                                              max_length=16, pad_token_id=50256)
        >>> tf_tokenizer(tf.constant(["Hello world", "Hi"]))["input_ids"].shape
        TensorShape([2, 16])
    """

    def __init__(self, vocab: dict[str, int], merges: list[str], max_length=None, pad_token_id=None, **kwargs):
        if pad_token_id is not None:
            kwargs.setdefault("pad_id", int(pad_token_id))
            if max_length is not None:
                kwargs.setdefault("padding", "max_length")
                kwargs.setdefault("truncation", True)
        super().__init__(vocab, merges, max_length=max_length, **kwargs)
        self.pad_token_id = pad_token_id

    def get_config(self) -> dict:
        return {**super().get_config(), "pad_token_id": self.pad_token_id}
