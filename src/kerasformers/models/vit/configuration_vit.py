"""ViT configuration (transformers' keys and defaults)."""

from __future__ import annotations

from typing import ClassVar

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class ViTConfig(PretrainedConfig):
    """Configuration of a Vision Transformer; keys and defaults as in transformers' ViTConfig.

    ``image_size`` and ``patch_size`` are an int (square) or a (height, width) pair.
    ``pooler_output_size`` defaults to ``hidden_size``.

    Example:
        >>> config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2)
        >>> config.pooler_output_size
        32
    """

    model_type = "vit"
    # not keys of transformers' ViTConfig: an image encoder has no token ids or tied embeddings
    pad_token_id: ClassVar[int | None] = None
    bos_token_id: ClassVar[int | None] = None
    eos_token_id: ClassVar[int | None] = None
    tie_word_embeddings: ClassVar[bool] = False

    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    image_size: int | list[int] = 224
    patch_size: int | list[int] = 16
    num_channels: int = 3
    qkv_bias: bool = True
    encoder_stride: int = 16
    pooler_output_size: int | None = None
    pooler_act: str = "tanh"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.pooler_output_size:
            self.pooler_output_size = self.hidden_size
