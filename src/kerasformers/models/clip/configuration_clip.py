"""CLIP configurations (transformers' keys and defaults): the text tower, the vision tower, and both."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from kerasformers.configuration import CONFIG_NAME, PretrainedConfig, read_config_json, register_config
from kerasformers.hub import pop_download_options, resolve_checkpoint

__all__ = ["CLIPConfig", "CLIPTextConfig", "CLIPVisionConfig"]


class _CLIPTowerConfig(PretrainedConfig):
    """A tower's config; reading a whole CLIP config.json takes its ``<tower>_config`` entry."""

    _tower_key = ""  # "text_config" or "vision_config" in a CLIPConfig file
    # generic keys transformers' CLIP configs do not have: class-level, never written to config.json
    tie_word_embeddings: ClassVar[bool] = True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PretrainedConfig) or not hasattr(other, "to_dict"):
            return super().__eq__(other)
        # a transformers config (e.g. CLIPConfig().text_config): equal when every field both have is
        return all(getattr(other, k) == getattr(self, k) for k in self.declared_fields() if hasattr(other, k))

    __hash__ = None

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], return_unused_kwargs: bool = False, **overrides: Any):
        if isinstance(config_dict, dict) and config_dict.get("model_type") == CLIPConfig.model_type:
            config_dict = dict(config_dict.get(cls._tower_key) or {})  # as transformers: the tower's part
        return super().from_dict(config_dict, return_unused_kwargs=return_unused_kwargs, **overrides)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike, revision: str | None = None, cache_dir: str | None = None, **overrides
    ):
        download = pop_download_options(dict(overrides))
        folder = resolve_checkpoint(name_or_path, revision=revision, cache_dir=cache_dir, **download)
        path = folder / CONFIG_NAME
        if path.is_file() and read_config_json(path).get("model_type") == CLIPConfig.model_type:
            for key in download:
                overrides.pop(key, None)
            return cls.from_dict(read_config_json(path), **overrides)
        return super().from_pretrained(name_or_path, revision=revision, cache_dir=cache_dir, **overrides)


@register_config
class CLIPTextConfig(_CLIPTowerConfig):
    """CLIP's text tower; keys and defaults as in transformers' CLIPTextConfig.

    ``from_pretrained`` on a whole CLIP checkpoint reads its ``text_config``.

    Example:
        >>> config = CLIPTextConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
        >>> config.max_position_embeddings
        77
    """

    model_type = "clip_text_model"
    _tower_key = "text_config"

    vocab_size: int = 49408
    hidden_size: int = 512
    intermediate_size: int = 2048
    projection_dim: int = 512
    num_hidden_layers: int = 12
    num_attention_heads: int = 8
    max_position_embeddings: int = 77
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-5
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0
    pad_token_id: int | None = 1
    bos_token_id: int | None = 49406
    eos_token_id: int | list[int] | None = 49407


@register_config
class CLIPVisionConfig(_CLIPTowerConfig):
    """CLIP's vision tower (a ViT with a class token); keys and defaults as in transformers' CLIPVisionConfig.

    Example:
        >>> config = CLIPVisionConfig(image_size=32, patch_size=8, hidden_size=32)
        >>> (config.image_size // config.patch_size) ** 2  # patches per image
        16
    """

    model_type = "clip_vision_model"
    _tower_key = "vision_config"
    pad_token_id: ClassVar[None] = None
    bos_token_id: ClassVar[None] = None
    eos_token_id: ClassVar[None] = None

    hidden_size: int = 768
    intermediate_size: int = 3072
    projection_dim: int = 512
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    num_channels: int = 3
    image_size: int = 224
    patch_size: int = 32
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-5
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0


@register_config
class CLIPConfig(PretrainedConfig):
    """CLIP: a text config, a vision config, the shared projection size and the initial logit scale.

    ``text_config`` / ``vision_config`` may be dicts (as in config.json) or config objects;
    they are held as :class:`CLIPTextConfig` / :class:`CLIPVisionConfig`.

    Example:
        >>> config = CLIPConfig(text_config={"hidden_size": 32}, vision_config={"hidden_size": 48}, projection_dim=16)
        >>> config.text_config.hidden_size, config.vision_config.hidden_size
        (32, 48)
        >>> config = CLIPConfig.from_text_vision_configs(CLIPTextConfig(), CLIPVisionConfig())
    """

    model_type = "clip"
    pad_token_id: ClassVar[None] = None
    bos_token_id: ClassVar[None] = None
    eos_token_id: ClassVar[None] = None
    tie_word_embeddings: ClassVar[bool] = True

    text_config: Any = None
    vision_config: Any = None
    projection_dim: int = 512
    logit_scale_init_value: float = 2.6592
    initializer_factor: float = 1.0

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.text_config = _as_config(self.text_config, CLIPTextConfig)
        self.vision_config = _as_config(self.vision_config, CLIPVisionConfig)

    @classmethod
    def from_text_vision_configs(
        cls, text_config: CLIPTextConfig, vision_config: CLIPVisionConfig, **kwargs: Any
    ) -> CLIPConfig:
        """A CLIPConfig from a text and a vision config (transformers' classmethod).

        Example:
            >>> CLIPConfig.from_text_vision_configs(CLIPTextConfig(), CLIPVisionConfig()).projection_dim
            512
        """
        return cls(text_config=text_config.to_dict(), vision_config=vision_config.to_dict(), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["text_config"] = self.text_config.to_diff_dict()
        out["vision_config"] = self.vision_config.to_diff_dict()
        return out


def _as_config(value: Any, config_class: type[PretrainedConfig]) -> PretrainedConfig:
    if isinstance(value, config_class):
        return value
    if isinstance(value, PretrainedConfig):
        value = value.to_dict()
    return config_class.from_dict(dict(value or {}))
