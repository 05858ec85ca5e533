"""BERT configuration (transformers' defaults)."""

from __future__ import annotations

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class BertConfig(PretrainedConfig):
    """Configuration of a BERT model; keys and defaults as in transformers' BertConfig.

    Example:
        >>> config = BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2)
    """

    model_type = "bert"

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 0
    classifier_dropout: float | None = None
