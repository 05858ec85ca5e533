"""BartTokenizerFast: BART's byte-level BPE tokenizer (RoBERTa's, under BART's name), as transformers builds it.

Example:
    >>> tokenizer = BartTokenizerFast(vocab_file="vocab.json", merges_file="merges.txt")
    >>> tokenizer("Hello world")["input_ids"][0] == tokenizer.bos_token_id
    True
"""

from __future__ import annotations

from kerasformers.models.roberta.tokenization_roberta import RobertaTokenizerFast
from kerasformers.tokenization.fast import register_tokenizer_class

__all__ = ["BartTokenizerFast", "BartTokenizer"]


class BartTokenizerFast(RobertaTokenizerFast):
    """BART's tokenizer: byte-level BPE with ``<s> A </s></s> B </s>``, RoBERTa's defaults.

    transformers 4.57 had a class of its own with RoBERTa's behaviour, and 5.23 makes
    ``BartTokenizer`` another name for ``RobertaTokenizer``; here it is a subclass, so a saved
    tokenizer says ``BartTokenizer`` as BART checkpoints do. ``BartTokenizer`` is another name
    for this class.

    Example:
        >>> tokenizer = BartTokenizerFast.from_pretrained("path/to/bart")
        >>> tokenizer("Hello", text_target="Bonjour")["labels"][0] == tokenizer.bos_token_id
        True
    """


BartTokenizer = BartTokenizerFast

register_tokenizer_class(BartTokenizerFast, names=("BartTokenizer",), model_types=("bart",))
