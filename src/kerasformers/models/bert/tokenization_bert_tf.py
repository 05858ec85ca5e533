"""TFBertTokenizer: the in-graph BERT tokenizer under the name transformers' TF side used.

Example:
    >>> tokenizer = TFBertTokenizer.from_pretrained("path/to/bert")
    >>> model = TFAutoModelForSequenceClassification.from_pretrained("path/to/bert")
    >>> model(**tokenizer(tf.constant(["This is a test sentence!"])))
"""

from __future__ import annotations

from kerasformers.tokenization.wordpiece import TFWordPieceTokenizer

__all__ = ["TFBertTokenizer"]


class TFBertTokenizer(TFWordPieceTokenizer):
    """In-graph BERT tokenizer (a Keras layer): strings in, ``input_ids`` / ``token_type_ids`` /
    ``attention_mask`` out, identical to the Python tokenizer. See :class:`TFWordPieceTokenizer`.

    As in transformers, ``padding="longest"`` and ``truncation=True`` are the defaults and
    ``max_length`` defaults to the checkpoint's ``model_max_length``.

    Example:
        >>> tokenizer = TFBertTokenizer.from_pretrained("path/to/bert", max_length=128)
        >>> tokenizer(["Hello world!", "Hi"])["attention_mask"].shape
        TensorShape([2, 5])
    """
