"""VisionEncoderDecoder configuration: an image encoder's config and a text decoder's config, as one."""

from __future__ import annotations

from typing import Any, ClassVar

from kerasformers.configuration import AutoConfig, PretrainedConfig, register_config

__all__ = ["VisionEncoderDecoderConfig"]


@register_config
class VisionEncoderDecoderConfig(PretrainedConfig):
    """The ``encoder`` (e.g. ViT) and ``decoder`` (e.g. GPT-2 with cross-attention) configs of a captioner.

    Both are held as config objects of their own model_type (dicts in config.json, as in
    transformers). ``decoder_start_token_id`` and ``pad_token_id`` (top level) steer
    ``generate()`` and the label shift.

    Example:
        >>> config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(vit_config, gpt2_config)
        >>> config.decoder.add_cross_attention, config.is_encoder_decoder
        (True, True)
    """

    model_type = "vision-encoder-decoder"
    # not keys of transformers' VisionEncoderDecoderConfig (a checkpoint's config.json may still carry them)
    tie_word_embeddings: ClassVar[bool] = False
    pad_token_id: ClassVar[int | None] = None
    bos_token_id: ClassVar[int | None] = None
    eos_token_id: ClassVar[int | None] = None
    decoder_start_token_id: ClassVar[int | None] = None

    encoder: Any = None
    decoder: Any = None
    is_encoder_decoder: bool = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.encoder = _as_config(self.encoder, "vit")
        self.decoder = _as_config(self.decoder, "gpt2")

    @classmethod
    def from_encoder_decoder_configs(
        cls, encoder_config: PretrainedConfig, decoder_config: PretrainedConfig, **kwargs: Any
    ) -> VisionEncoderDecoderConfig:
        """The combined config; the decoder becomes a decoder with cross-attention (transformers' classmethod).

        Example:
            >>> VisionEncoderDecoderConfig.from_encoder_decoder_configs(ViTConfig(), GPT2Config()).decoder.is_decoder
            True
        """
        decoder = decoder_config.to_dict()
        decoder.update(is_decoder=True, add_cross_attention=True)
        return cls(encoder=encoder_config.to_dict(), decoder=decoder, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["encoder"] = self.encoder.to_diff_dict()
        out["decoder"] = self.decoder.to_diff_dict()
        return out


def _as_config(value: Any, default_type: str) -> PretrainedConfig:
    if isinstance(value, PretrainedConfig):
        return value
    values = dict(value or {})
    return AutoConfig.for_model(values.pop("model_type", default_type), **values)
