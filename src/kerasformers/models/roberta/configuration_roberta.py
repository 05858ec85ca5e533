"""RoBERTa and XLM-RoBERTa configurations (transformers' defaults)."""

from __future__ import annotations

from kerasformers.configuration import register_config
from kerasformers.models.bert.configuration_bert import BertConfig


@register_config
class RobertaConfig(BertConfig):
    """Configuration of a RoBERTa model; keys and defaults as in transformers' RobertaConfig.

    RoBERTa is BERT's encoder with position ids that start after ``pad_token_id`` (so
    ``max_position_embeddings`` is 2 more than the longest input) and usually one token type.

    Example:
        >>> config = RobertaConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2)
        >>> config.pad_token_id
        1
    """

    model_type = "roberta"

    # BERT's fields (declared there); RoBERTa's checkpoints differ only in these defaults
    vocab_size = 50265
    pad_token_id = 1
    bos_token_id = 0
    eos_token_id = 2


@register_config
class XLMRobertaConfig(RobertaConfig):
    """Configuration of an XLM-RoBERTa model: RoBERTa's architecture under model_type "xlm-roberta".

    Example:
        >>> config = XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1)
    """

    model_type = "xlm-roberta"

    vocab_size: int = 30522  # transformers' XLMRobertaConfig default (real checkpoints have 250002)
