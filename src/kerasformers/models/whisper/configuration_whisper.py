"""Whisper configuration (transformers' keys and defaults)."""

from __future__ import annotations

from kerasformers.configuration import PretrainedConfig, register_config

__all__ = ["WhisperConfig"]


@register_config
class WhisperConfig(PretrainedConfig):
    """Configuration of a Whisper model; keys and defaults as in transformers' WhisperConfig (whisper-tiny's shape).

    ``hidden_size``, ``num_attention_heads`` and ``num_hidden_layers`` are aliases of ``d_model``,
    ``encoder_attention_heads`` and ``encoder_layers``. The encoder reads ``num_mel_bins`` log-mel
    channels over ``2 * max_source_positions`` frames (two 1-D convolutions, the second with stride 2).

    Example:
        >>> config = WhisperConfig(d_model=32, encoder_layers=1, decoder_layers=1, max_source_positions=16)
        >>> config.hidden_size, config.num_mel_bins
        (32, 80)
    """

    model_type = "whisper"
    attribute_map = {
        "num_key_value_heads": "encoder_attention_heads",
        "num_attention_heads": "encoder_attention_heads",
        "hidden_size": "d_model",
        "num_hidden_layers": "encoder_layers",
    }

    vocab_size: int = 51865
    num_mel_bins: int = 80
    encoder_layers: int = 4
    encoder_attention_heads: int = 6
    decoder_layers: int = 4
    decoder_attention_heads: int = 6
    decoder_ffn_dim: int = 1536
    encoder_ffn_dim: int = 1536
    encoder_layerdrop: float = 0.0
    decoder_layerdrop: float = 0.0
    decoder_start_token_id: int = 50257
    use_cache: bool = True
    is_encoder_decoder: bool = True
    activation_function: str = "gelu"
    d_model: int = 384
    dropout: float = 0.0
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    init_std: float = 0.02
    scale_embedding: bool = False
    max_source_positions: int = 1500
    max_target_positions: int = 448
    pad_token_id: int | None = 50256
    bos_token_id: int | None = 50256
    eos_token_id: int | list[int] | None = 50256
    suppress_tokens: list | None = None
    begin_suppress_tokens: list | tuple | None = (220, 50256)
    use_weighted_layer_sum: bool = False
    classifier_proj_size: int = 256
    apply_spec_augment: bool = False
    mask_time_prob: float = 0.05
    mask_time_length: int = 10
    mask_time_min_masks: int = 2
    mask_feature_prob: float = 0.0
    mask_feature_length: int = 10
    mask_feature_min_masks: int = 0
    median_filter_width: int = 7
    tie_word_embeddings: bool = True
