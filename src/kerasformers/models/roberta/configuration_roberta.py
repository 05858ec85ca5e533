"""RoBERTa and XLM-RoBERTa configurations (transformers' defaults)."""

from __future__ import annotations

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class RobertaConfig(PretrainedConfig):
    """Configuration of a RoBERTa model; keys and defaults as in transformers' RobertaConfig.

    RoBERTa is BERT's encoder with position ids that start after ``pad_token_id`` (so
    ``max_position_embeddings`` is 2 more than the longest input) and usually one token type.

    Example:
        >>> config = RobertaConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2)
        >>> config.pad_token_id
        1
    """

    model_type = "roberta"

    vocab_size: int = 50265
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
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 2
    classifier_dropout: float | None = None


@register_config
class XLMRobertaConfig(RobertaConfig):
    """Configuration of an XLM-RoBERTa model: RoBERTa's architecture under model_type "xlm-roberta".

    Example:
        >>> config = XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1)
    """

    model_type = "xlm-roberta"

    vocab_size: int = 30522  # transformers' XLMRobertaConfig default (real checkpoints have 250002)
