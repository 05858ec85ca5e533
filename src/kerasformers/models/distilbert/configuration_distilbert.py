"""DistilBERT configuration (transformers' defaults and attribute names)."""

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class DistilBertConfig(PretrainedConfig):
    """Configuration of a DistilBERT model; keys and defaults as in transformers' DistilBertConfig.

    ``hidden_size``, ``num_attention_heads`` and ``num_hidden_layers`` are aliases of ``dim``,
    ``n_heads`` and ``n_layers``, as in transformers.

    Example:
        >>> config = DistilBertConfig(dim=128, n_layers=2, n_heads=2, hidden_dim=256)
        >>> config.hidden_size
        128
    """

    model_type = "distilbert"
    attribute_map = {"hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"}
    defaults = {
        "vocab_size": 30522,
        "max_position_embeddings": 512,
        "sinusoidal_pos_embds": False,
        "n_layers": 6,
        "n_heads": 12,
        "dim": 768,
        "hidden_dim": 4 * 768,
        "dropout": 0.1,
        "attention_dropout": 0.1,
        "activation": "gelu",
        "initializer_range": 0.02,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "pad_token_id": 0,
    }
