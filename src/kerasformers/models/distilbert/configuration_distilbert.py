"""DistilBERT configuration (transformers' defaults and attribute names)."""

from __future__ import annotations

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

    vocab_size: int = 30522
    max_position_embeddings: int = 512
    sinusoidal_pos_embds: bool = False
    n_layers: int = 6
    n_heads: int = 12
    dim: int = 768
    hidden_dim: int = 4 * 768
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation: str = "gelu"
    initializer_range: float = 0.02
    qa_dropout: float = 0.1
    seq_classif_dropout: float = 0.2
    pad_token_id: int | None = 0
