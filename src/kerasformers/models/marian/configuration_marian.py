"""Marian configuration (transformers' keys and defaults)."""

from __future__ import annotations

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class MarianConfig(PretrainedConfig):
    """Configuration of a Marian translation model; keys and defaults as in transformers' MarianConfig.

    ``decoder_vocab_size`` defaults to ``vocab_size``; it differs only when
    ``share_encoder_decoder_embeddings`` is False (separate source and target vocabularies).
    ``hidden_size``, ``num_attention_heads`` and ``num_hidden_layers`` are aliases of ``d_model``,
    ``encoder_attention_heads`` and ``encoder_layers``.

    Example:
        >>> config = MarianConfig(vocab_size=99, d_model=32, pad_token_id=98, decoder_start_token_id=98)
        >>> config.decoder_vocab_size
        99
    """

    model_type = "marian"
    attribute_map = {
        "num_attention_heads": "encoder_attention_heads",
        "hidden_size": "d_model",
        "num_hidden_layers": "encoder_layers",
    }

    vocab_size: int = 58101
    decoder_vocab_size: int | None = None
    max_position_embeddings: int = 1024
    encoder_layers: int = 12
    encoder_ffn_dim: int = 4096
    encoder_attention_heads: int = 16
    decoder_layers: int = 12
    decoder_ffn_dim: int = 4096
    decoder_attention_heads: int = 16
    encoder_layerdrop: float = 0.0
    decoder_layerdrop: float = 0.0
    use_cache: bool = True
    is_encoder_decoder: bool = True
    activation_function: str = "gelu"
    d_model: int = 1024
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    init_std: float = 0.02
    decoder_start_token_id: int = 58100
    scale_embedding: bool = False
    pad_token_id: int | None = 58100
    eos_token_id: int | list[int] | None = 0
    bos_token_id: int | None = None
    forced_eos_token_id: int | list[int] | None = 0
    share_encoder_decoder_embeddings: bool = True
    is_decoder: bool = False
    tie_word_embeddings: bool = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.decoder_vocab_size = self.decoder_vocab_size or self.vocab_size  # as transformers' __post_init__
