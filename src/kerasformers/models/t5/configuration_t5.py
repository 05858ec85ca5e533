"""T5 and mT5 configurations (transformers' keys and defaults); Flan-T5 checkpoints use T5Config.

``feed_forward_proj`` picks the feed-forward block: ``"relu"`` (T5 v1.0: ``wo(act(wi(x)))``) or
``"gated-<act>"`` (T5 v1.1, Flan-T5, mT5: ``wo(act(wi_0(x)) * wi_1(x))``; ``"gated-gelu"`` means
the tanh approximation, ``gelu_new``). ``tie_word_embeddings`` (True for T5 v1.0) makes the
language-model head the shared embedding matrix and rescales the decoder output by
``d_model ** -0.5`` first; untied checkpoints (v1.1, Flan-T5, mT5) keep their own ``lm_head`` and
no rescale.
"""

from __future__ import annotations

from typing import ClassVar

from kerasformers.configuration import PretrainedConfig, register_config
from kerasformers.errors import ConfigError


class _T5FamilyConfig(PretrainedConfig):
    attribute_map = {
        "hidden_size": "d_model",
        "num_attention_heads": "num_heads",
        "num_hidden_layers": "num_layers",
        "head_dim": "d_kv",
    }

    vocab_size: int = 32128
    d_model: int = 512
    d_kv: int = 64
    d_ff: int = 2048
    num_layers: int = 6
    num_decoder_layers: int | None = None  # None: num_layers
    num_heads: int = 8
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    initializer_factor: float = 1.0
    feed_forward_proj: str = "relu"
    is_encoder_decoder: bool = True
    use_cache: bool = True
    pad_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 1
    # not keys of transformers' T5 configs (a checkpoint's config.json may still carry them)
    bos_token_id: ClassVar[int | None] = None
    decoder_start_token_id: ClassVar[int | None] = 0
    classifier_dropout: float = 0.0
    tie_word_embeddings: bool = True
    # transformers 5 writes these derived keys; None: derived from the fields above at construction
    dense_act_fn: str | None = None
    is_gated_act: bool | None = None
    scale_decoder_outputs: bool | None = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        parts = self.feed_forward_proj.split("-")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
            raise ConfigError(
                f"feed_forward_proj {self.feed_forward_proj!r} is not valid: use '<activation>' or "
                "'gated-<activation>', e.g. 'relu' or 'gated-gelu'."
            )
        self.is_gated_act = parts[0] == "gated"
        self.dense_act_fn = "gelu_new" if self.feed_forward_proj == "gated-gelu" else parts[-1]
        if self.scale_decoder_outputs is None:
            self.scale_decoder_outputs = bool(self.tie_word_embeddings)


@register_config
class T5Config(_T5FamilyConfig):
    """Configuration of a T5 model (v1.0, v1.1, Flan-T5); keys and defaults as in transformers' T5Config.

    Example:
        >>> config = T5Config(d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, vocab_size=99,
        ...                   feed_forward_proj="gated-gelu", tie_word_embeddings=False)
        >>> config.is_gated_act, config.dense_act_fn, config.hidden_size
        (True, 'gelu_new', 32)
    """

    model_type = "t5"


@register_config
class MT5Config(_T5FamilyConfig):
    """Configuration of an mT5 model: T5 v1.1's layout with mT5's defaults (transformers' MT5Config).

    Example:
        >>> MT5Config().feed_forward_proj, MT5Config().vocab_size
        ('gated-gelu', 250112)
    """

    model_type = "mt5"

    vocab_size: int = 250112
    d_ff: int = 1024
    num_layers: int = 8
    num_heads: int = 6
    feed_forward_proj: str = "gated-gelu"
    tie_word_embeddings: bool = True  # transformers 5's default; mT5 checkpoints set False in config.json


__all__ = ["T5Config", "MT5Config"]
