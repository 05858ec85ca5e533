"""BART configuration (transformers' keys and defaults)."""

from __future__ import annotations

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class BartConfig(PretrainedConfig):
    """Configuration of a BART model; keys and defaults as in transformers' BartConfig.

    ``hidden_size``, ``num_attention_heads`` and ``num_hidden_layers`` are aliases of ``d_model``,
    ``encoder_attention_heads`` and ``encoder_layers``. Without labels given, a BART config has
    three (LABEL_0..LABEL_2), as transformers' has (the MNLI heads BART was released with).

    Example:
        >>> config = BartConfig(d_model=32, encoder_layers=2, decoder_layers=2)
        >>> config.hidden_size, config.num_labels
        (32, 3)
    """

    model_type = "bart"
    attribute_map = {
        "num_attention_heads": "encoder_attention_heads",
        "hidden_size": "d_model",
        "num_hidden_layers": "encoder_layers",
    }

    vocab_size: int = 50265
    max_position_embeddings: int = 1024
    encoder_layers: int = 12
    encoder_ffn_dim: int = 4096
    encoder_attention_heads: int = 16
    decoder_layers: int = 12
    decoder_ffn_dim: int = 4096
    decoder_attention_heads: int = 16
    encoder_layerdrop: float = 0.0
    decoder_layerdrop: float = 0.0
    activation_function: str = "gelu"
    d_model: int = 1024
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    init_std: float = 0.02
    classifier_dropout: float = 0.0
    scale_embedding: bool = False
    use_cache: bool = True
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 2
    is_encoder_decoder: bool = True
    decoder_start_token_id: int | None = 2
    forced_eos_token_id: int | list[int] | None = 2
    is_decoder: bool = False
    tie_word_embeddings: bool = True

    def __init__(self, **kwargs):
        if kwargs.get("id2label") is None and kwargs.get("num_labels") is None:
            kwargs["num_labels"] = 3  # transformers' BartConfig default
        super().__init__(**kwargs)
