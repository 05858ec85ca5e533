"""BERT configuration (transformers' defaults)."""

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class BertConfig(PretrainedConfig):
    """Configuration of a BERT model; keys and defaults as in transformers' BertConfig.

    Example:
        >>> config = BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2)
    """

    model_type = "bert"
    defaults = {
        "vocab_size": 30522,
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
        "pad_token_id": 0,
        "classifier_dropout": None,
    }
