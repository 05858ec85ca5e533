"""transformers' ``tokenization_utils_base`` import path: ``PreTrainedTokenizerBase`` and friends.

Every kerasformers tokenizer is a fast tokenizer, so the base class is
:class:`~kerasformers.tokenization.PreTrainedTokenizerFast` (``isinstance(tokenizer,
PreTrainedTokenizerBase)`` holds for all of them).

Example:
    >>> from kerasformers.tokenization_utils_base import PaddingStrategy, PreTrainedTokenizerBase
    >>> isinstance(AutoTokenizer.from_pretrained(path), PreTrainedTokenizerBase)
    True
"""

from kerasformers.tokenization import BatchEncoding, PreTrainedTokenizerFast
from kerasformers.utils import PaddingStrategy, TensorType, TruncationStrategy

PreTrainedTokenizerBase = PreTrainedTokenizerFast

__all__ = ["PreTrainedTokenizerBase", "BatchEncoding", "PaddingStrategy", "TruncationStrategy", "TensorType"]
