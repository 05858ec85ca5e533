"""GPT-2 configuration (transformers' keys and defaults)."""

from __future__ import annotations

from kerasformers.configuration import PretrainedConfig, register_config


@register_config
class GPT2Config(PretrainedConfig):
    """Configuration of a GPT-2 model; keys and defaults as in transformers' GPT2Config.

    ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads`` and ``max_position_embeddings``
    are aliases of ``n_embd``, ``n_layer``, ``n_head`` and ``n_positions``.

    Example:
        >>> config = GPT2Config(n_embd=32, n_layer=2, n_head=4)
        >>> config.hidden_size
        32
    """

    model_type = "gpt2"
    attribute_map = {
        "hidden_size": "n_embd",
        "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer",
    }

    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    n_inner: int | None = None  # None: 4 * n_embd
    activation_function: str = "gelu_new"
    resid_pdrop: float = 0.1
    embd_pdrop: float = 0.1
    attn_pdrop: float = 0.1
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02
    scale_attn_weights: bool = True
    use_cache: bool = True
    bos_token_id: int | None = 50256
    eos_token_id: int | list[int] | None = 50256
    pad_token_id: int | None = None
    # the multiple-choice head of TFGPT2DoubleHeadsModel (kerasformers.layers.TFSequenceSummary)
    summary_type: str = "cls_index"
    summary_use_proj: bool = True
    summary_activation: str | None = None
    summary_proj_to_labels: bool = True
    summary_first_dropout: float = 0.1
    scale_attn_by_inverse_layer_idx: bool = False
    reorder_and_upcast_attn: bool = False
    tie_word_embeddings: bool = True
