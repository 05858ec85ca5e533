"""RoBERTa and XLM-RoBERTa configurations (transformers' defaults)."""

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
    defaults = {
        "vocab_size": 50265,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "classifier_dropout": None,
    }


@register_config
class XLMRobertaConfig(RobertaConfig):
    """Configuration of an XLM-RoBERTa model: RoBERTa's architecture under model_type "xlm-roberta".

    Example:
        >>> config = XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1)
    """

    model_type = "xlm-roberta"
    defaults = {**RobertaConfig.defaults, "vocab_size": 30522}
