"""Llama, Mistral and Qwen2 configurations (transformers' keys and defaults).

All three run on the one Llama model file; their configs differ in defaults and in the
switches the model reads: ``attention_bias`` (Qwen2 q/k/v bias), ``sliding_window`` and
``layer_types`` (Mistral, Qwen2), ``rope_parameters`` (or the older ``rope_scaling`` /
``rope_theta`` keys, which are folded into it as transformers does).
"""

from __future__ import annotations

from typing import Any, ClassVar

from kerasformers.configuration import PretrainedConfig, register_config


class _LlamaFamilyConfig(PretrainedConfig):
    # Llama's fields and transformers' LlamaConfig defaults; Mistral and Qwen2 change some.
    vocab_size: int = 32000
    hidden_size: int = 4096
    intermediate_size: int = 11008
    num_hidden_layers: int = 32
    num_attention_heads: int = 32
    num_key_value_heads: int | None = None  # None: num_attention_heads (no grouped-query attention)
    head_dim: int | None = None  # None: hidden_size // num_attention_heads
    hidden_act: str = "silu"
    max_position_embeddings: int = 2048
    initializer_range: float = 0.02
    rms_norm_eps: float = 1e-6
    use_cache: bool = True
    pad_token_id: int | None = None
    bos_token_id: int | None = 1
    eos_token_id: int | list[int] | None = 2
    tie_word_embeddings: bool = False
    rope_parameters: dict[str, Any] | None = None  # filled in by __init__ (see below)
    attention_bias: bool = False
    attention_dropout: float = 0.0
    mlp_bias: bool = False

    qkv_bias: ClassVar[bool] = False  # q/k/v projections carry a bias even without attention_bias

    def __init__(self, **kwargs):
        rope_scaling = kwargs.pop("rope_scaling", None)
        rope_theta = kwargs.pop("rope_theta", None)
        super().__init__(**kwargs)
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
        # transformers v5 keeps every RoPE setting in one dict; older files split it over
        # rope_theta and rope_scaling (whose "type" key is now "rope_type").
        rope = dict(rope_scaling or self.rope_parameters or {})
        rope.setdefault("rope_theta", rope_theta if rope_theta is not None else 10000.0)
        rope.setdefault("rope_type", rope.get("type", "default"))
        if rope["rope_type"] in ("llama3", "yarn", "longrope"):
            rope.setdefault("original_max_position_embeddings", self.max_position_embeddings)
        self.rope_parameters = rope

    def attention_types(self) -> list[str]:
        """Per layer "full_attention" or "sliding_attention" (``layer_types`` when the config has it)."""
        if getattr(self, "layer_types", None):
            return list(self.layer_types)
        kind = "sliding_attention" if getattr(self, "sliding_window", None) else "full_attention"
        return [kind] * self.num_hidden_layers


@register_config
class LlamaConfig(_LlamaFamilyConfig):
    """Configuration of a Llama model; keys and defaults as in transformers' LlamaConfig.

    Example:
        >>> config = LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        ...                      num_key_value_heads=2, rope_scaling={"rope_type": "linear", "factor": 2.0})
    """

    model_type = "llama"


@register_config
class MistralConfig(_LlamaFamilyConfig):
    """Configuration of a Mistral model: Llama with sliding-window attention.

    Example:
        >>> config = MistralConfig(hidden_size=64, num_hidden_layers=2, sliding_window=4)
    """

    model_type = "mistral"

    intermediate_size: int = 14336
    num_key_value_heads: int | None = 8
    max_position_embeddings: int = 4096 * 32
    sliding_window: int | None = 4096


@register_config
class Qwen2Config(_LlamaFamilyConfig):
    """Configuration of a Qwen2 model: Llama with q/k/v biases and optional sliding windows.

    Example:
        >>> config = Qwen2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=4)
    """

    model_type = "qwen2"

    vocab_size: int = 151936
    intermediate_size: int = 22016
    num_key_value_heads: int | None = 32
    max_position_embeddings: int = 32768
    use_sliding_window: bool = False
    sliding_window: int | None = 4096  # used only when use_sliding_window
    max_window_layers: int = 28  # layers from this index on use the sliding window
    layer_types: list[str] | None = None  # None: derived from the three fields above
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None

    qkv_bias = True  # Qwen2 always has q/k/v biases (and no o_proj bias)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.layer_types is None:
            window = self.sliding_window if self.use_sliding_window else None
            self.layer_types = [
                "sliding_attention" if window is not None and i >= self.max_window_layers else "full_attention"
                for i in range(self.num_hidden_layers)
            ]
