"""DistilBertTokenizerFast: BERT's tokenizer without token type ids, as in transformers.

Example:
    >>> tokenizer = DistilBertTokenizerFast(vocab_file="vocab.txt")
    >>> list(tokenizer("Hello world"))
    ['input_ids', 'attention_mask']
"""

from __future__ import annotations

from kerasformers.models.bert.tokenization_bert import BertTokenizerFast
from kerasformers.tokenization.fast import register_tokenizer_class

__all__ = ["DistilBertTokenizerFast", "DistilBertTokenizer"]


class DistilBertTokenizerFast(BertTokenizerFast):
    """DistilBERT's tokenizer: :class:`BertTokenizerFast` giving ``input_ids`` and ``attention_mask`` only.

    ``DistilBertTokenizer`` is another name for this class: no slow Python tokenizer here.

    Example:
        >>> tokenizer = DistilBertTokenizerFast.from_pretrained("path/to/distilbert")
        >>> tokenizer("Hello", "world")["input_ids"]
        [101, 7592, 102, 2088, 102]
    """

    model_input_names = ["input_ids", "attention_mask"]


DistilBertTokenizer = DistilBertTokenizerFast

register_tokenizer_class(DistilBertTokenizerFast, names=("DistilBertTokenizer",), model_types=("distilbert",))
