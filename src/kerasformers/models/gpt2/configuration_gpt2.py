"""GPT-2 configuration (transformers' keys and defaults)."""

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
    attribute_map = {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
                     "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"}
    defaults = {
        "vocab_size": 50257,
        "n_positions": 1024,
        "n_embd": 768,
        "n_layer": 12,
        "n_head": 12,
        "n_inner": None,
        "activation_function": "gelu_new",
        "resid_pdrop": 0.1,
        "embd_pdrop": 0.1,
        "attn_pdrop": 0.1,
        "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "use_cache": True,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
        "pad_token_id": None,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True,
    }
