"""DeiT configuration (transformers' keys and defaults: ViT's)."""

from __future__ import annotations

from kerasformers.configuration import register_config
from kerasformers.models.vit.configuration_vit import ViTConfig


@register_config
class DeiTConfig(ViTConfig):
    """Configuration of a DeiT model; keys and defaults as in transformers' DeiTConfig (those of ViTConfig).

    Example:
        >>> DeiTConfig(image_size=32, patch_size=8).model_type
        'deit'
    """

    model_type = "deit"
