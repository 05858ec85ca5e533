"""Llama, Mistral and Qwen2 in Keras 3: one decoder, switched by its config.

- Llama: RMSNorm, SwiGLU MLP, rotary positions (default, linear, dynamic-NTK and Llama 3
  scaling, with inverse frequencies computed as transformers computes them), grouped-query
  attention, tied or untied LM head.
- Mistral: the same, with sliding-window attention (a key is seen while
  ``query_index - key_index < sliding_window``).
- Qwen2: q/k/v projections with biases, sliding windows only on the layers ``layer_types`` says.

Layer attribute names follow PyTorch's module names (``model.layers.0.self_attn.q_proj``),
so checkpoints load by name (kerasformers.weights).

Static KV cache (used by kerasformers.generation): ``past_key_values`` is a tuple with one
``(key, value)`` pair per layer, each ``(batch, num_key_value_heads, max_length, head_dim)``,
allocated once by :meth:`TFLlamaPreTrainedModel.init_cache`. A call writes its keys and values
at slots ``cache_position .. cache_position + seq_len`` and attends over all ``max_length``
slots; ``attention_mask`` then covers the slots (1 = a real token there), not only the input.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import ConfigError, NotSupportedError
from kerasformers.generation import GenerationMixin
from kerasformers.layers import WordEmbeddings, last_non_pad_logits, mask_value
from kerasformers.layers.dropout import Dropout
from kerasformers.layers.tied_head import tied_logits
from kerasformers.modeling_utils import TFPreTrainedModel, alias_class
from kerasformers.models.llama.configuration_llama import LlamaConfig, MistralConfig, Qwen2Config
from kerasformers.outputs import BaseModelOutputWithPast, CausalLMOutputWithPast, SequenceClassifierOutputWithPast


def dense(units, config, name, use_bias=False):
    init = keras.initializers.RandomNormal(stddev=config.initializer_range)
    return keras.layers.Dense(units, use_bias=use_bias, kernel_initializer=init, name=name)


class LlamaRMSNorm(keras.layers.Layer):
    """x / sqrt(mean(x^2) + eps) * weight, computed in float32 as transformers does."""

    def __init__(self, hidden_size, eps, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.eps = eps

    def build(self, input_shape=None):
        self.weight = self.add_weight(shape=(self.hidden_size,), initializer="ones", name="weight")
        self.built = True

    def call(self, hidden_states):
        dtype = hidden_states.dtype
        x = ops.cast(hidden_states, "float32")
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.eps)
        return ops.cast(self.weight, dtype) * ops.cast(x, dtype)


def rope_inverse_frequencies(config) -> tuple[np.ndarray, float]:
    """The rotary inverse frequencies at initialisation and the cos/sin scale, per ``rope_type``.

    Follows transformers' ``ROPE_INIT_FUNCTIONS`` for "default", "linear", "dynamic" (its
    frequencies change with the sequence length; see :func:`dynamic_inverse_frequencies`) and
    "llama3".

    Example:
        >>> inv_freq, scale = rope_inverse_frequencies(LlamaConfig(hidden_size=64, num_attention_heads=4))
        >>> inv_freq.shape, scale
        ((8,), 1.0)
    """
    rope = config.rope_parameters
    rope_type = rope.get("rope_type", "default")
    dim = int(config.head_dim * rope.get("partial_rotary_factor", 1.0))
    exponents = np.arange(0, dim, 2, dtype=np.int64).astype(np.float32) / dim
    inv_freq = (1.0 / (rope["rope_theta"] ** exponents)).astype(np.float32)
    if rope_type in ("default", "dynamic"):
        return inv_freq, 1.0
    if rope_type == "linear":
        return (inv_freq / rope["factor"]).astype(np.float32), 1.0
    if rope_type == "llama3":
        factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
        old_context = rope["original_max_position_embeddings"]
        low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
        wavelen = 2 * math.pi / inv_freq
        scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        return np.where(medium, smoothed, scaled).astype(np.float32), 1.0
    raise NotSupportedError(
        f"rope_type {rope_type!r} is not supported yet; supported: default, linear, dynamic, llama3."
    )


def dynamic_inverse_frequencies(config, seq_len):
    """Dynamic-NTK frequencies for a sequence of ``seq_len`` positions (a tensor).

    transformers enlarges the base once the sequence outgrows ``max_position_embeddings``:
    ``base * (factor * L / max_pos - (factor - 1)) ** (dim / (dim - 2))`` with
    ``L = max(seq_len, max_pos)``.
    """
    rope = config.rope_parameters
    dim = int(config.head_dim * rope.get("partial_rotary_factor", 1.0))
    factor = float(rope["factor"])
    max_pos = float(config.max_position_embeddings)
    length = ops.maximum(ops.cast(seq_len, "float32"), max_pos)
    base = rope["rope_theta"] * ops.power(factor * length / max_pos - (factor - 1.0), dim / (dim - 2))
    exponents = ops.convert_to_tensor(np.arange(0, dim, 2, dtype=np.float32) / dim)
    return 1.0 / ops.power(base, exponents)


class LlamaRotaryEmbedding(keras.layers.Layer):
    """cos and sin of position * inverse frequency, (batch, seq, head_dim), in float32 then cast."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        inv_freq, self.attention_scaling = rope_inverse_frequencies(config)
        self.inv_freq = inv_freq  # a constant, not a weight (transformers does not save it)
        self.dynamic = config.rope_parameters.get("rope_type") == "dynamic"

    def call(self, position_ids, dtype="float32"):
        positions = ops.cast(position_ids, "float32")
        if self.dynamic:
            inv_freq = dynamic_inverse_frequencies(self.config, ops.max(position_ids) + 1)
        else:
            inv_freq = ops.convert_to_tensor(self.inv_freq)
        freqs = positions[:, :, None] * inv_freq[None, None, :]
        emb = ops.concatenate([freqs, freqs], axis=-1)
        cos = ops.cos(emb) * self.attention_scaling
        sin = ops.sin(emb) * self.attention_scaling
        return ops.cast(cos, dtype), ops.cast(sin, dtype)


def rotate_half(x):
    half = ops.shape(x)[-1] // 2
    return ops.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def apply_rotary(x, cos, sin):
    """x: (batch, heads, seq, head_dim); cos, sin: (batch, seq, head_dim)."""
    return x * cos[:, None] + rotate_half(x) * sin[:, None]


class LlamaAttention(keras.layers.Layer):
    def __init__(self, config, layer_idx, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = config.num_attention_heads
        self.num_kv_heads = config.num_key_value_heads
        if self.num_heads % self.num_kv_heads:
            raise ConfigError(
                f"num_attention_heads ({self.num_heads}) must be a multiple of "
                f"num_key_value_heads ({self.num_kv_heads})."
            )
        self.head_dim = config.head_dim
        self.scaling = self.head_dim**-0.5
        qkv_bias = bool(config.attention_bias or config.qkv_bias)
        self.q_proj = dense(self.num_heads * self.head_dim, config, "q_proj", qkv_bias)
        self.k_proj = dense(self.num_kv_heads * self.head_dim, config, "k_proj", qkv_bias)
        self.v_proj = dense(self.num_kv_heads * self.head_dim, config, "v_proj", qkv_bias)
        self.o_proj = dense(config.hidden_size, config, "o_proj", bool(config.attention_bias))
        self.dropout = Dropout(config.attention_dropout)

    def _heads(self, x, heads):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, heads, self.head_dim)), (0, 2, 1, 3))

    def call(
        self,
        hidden_states,
        cos,
        sin,
        keep,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        query = apply_rotary(self._heads(self.q_proj(hidden_states), self.num_heads), cos, sin)
        key = apply_rotary(self._heads(self.k_proj(hidden_states), self.num_kv_heads), cos, sin)
        value = self._heads(self.v_proj(hidden_states), self.num_kv_heads)
        if cache_key is not None:  # write this step's keys/values into the static cache
            start = (0, 0, cache_position, 0)
            key = ops.slice_update(cache_key, start, ops.cast(key, cache_key.dtype))
            value = ops.slice_update(cache_value, start, ops.cast(value, cache_value.dtype))
        new_cache = (key, value) if cache_key is not None else None
        # Grouped-query attention without copying keys: the query heads that share one
        # key/value head are folded into its sequence axis.
        groups = self.num_heads // self.num_kv_heads
        q = ops.reshape(query, (batch, self.num_kv_heads, groups * length, self.head_dim))
        scores = ops.matmul(q, ops.transpose(key, (0, 1, 3, 2))) * self.scaling
        scores = ops.reshape(scores, (batch, self.num_kv_heads, groups, length, -1))
        scores = ops.cast(scores, "float32")
        scores = ops.where(keep[:, :, None], scores, mask_value("float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        dropped = ops.reshape(self.dropout(probs, training=training), (batch, self.num_kv_heads, groups * length, -1))
        context = ops.matmul(dropped, value)  # (batch, kv_heads, groups * length, head_dim)
        context = ops.reshape(context, (batch, self.num_heads, length, self.head_dim))
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        attentions = ops.reshape(probs, (batch, self.num_heads, length, -1)) if output_attentions else None
        return self.o_proj(context), new_cache, attentions


class LlamaMLP(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        bias = bool(config.mlp_bias) if hasattr(config, "mlp_bias") else False
        self.gate_proj = dense(config.intermediate_size, config, "gate_proj", bias)
        self.up_proj = dense(config.intermediate_size, config, "up_proj", bias)
        self.down_proj = dense(config.hidden_size, config, "down_proj", bias)
        self.act_fn = get_activation(config.hidden_act)

    def call(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(keras.layers.Layer):
    def __init__(self, config, layer_idx, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = LlamaAttention(config, layer_idx, name="self_attn")
        self.mlp = LlamaMLP(config, name="mlp")
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, name="input_layernorm")
        self.post_attention_layernorm = LlamaRMSNorm(
            config.hidden_size, config.rms_norm_eps, name="post_attention_layernorm"
        )

    def call(
        self,
        hidden_states,
        cos,
        sin,
        keep,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        attended, new_cache, attentions = self.self_attn(
            self.input_layernorm(hidden_states),
            cos,
            sin,
            keep,
            cache_key=cache_key,
            cache_value=cache_value,
            cache_position=cache_position,
            output_attentions=output_attentions,
            training=training,
        )
        hidden_states = hidden_states + attended
        hidden_states = hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))
        return hidden_states, new_cache, attentions


class LlamaMainLayer(keras.layers.Layer):
    """Embeddings, decoder layers and final norm: ``LlamaModel`` in transformers."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.RandomNormal(stddev=config.initializer_range)
        self.embed_tokens = WordEmbeddings(
            config.vocab_size, config.hidden_size, embeddings_initializer=init, name="embed_tokens"
        )
        self.layers = [LlamaDecoderLayer(config, i, name=f"layers_{i}") for i in range(config.num_hidden_layers)]
        self.norm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, name="norm")
        self.rotary_emb = LlamaRotaryEmbedding(config, name="rotary_emb")
        self.attention_types = config.attention_types()

    def _keep_masks(self, attention_mask, query_index, key_count):
        """Boolean (batch, 1, queries, keys) masks: causal, padding and (if any) sliding window."""
        key_index = ops.arange(key_count, dtype="int32")
        causal = key_index[None, :] <= query_index[:, None]
        padding = ops.cast(attention_mask, "bool")[:, None, None, :]
        full = ops.logical_and(causal[None, None], padding)
        window = getattr(self.config, "sliding_window", None)
        if window is None or "sliding_attention" not in self.attention_types:
            return {"full_attention": full}
        in_window = key_index[None, :] > query_index[:, None] - window
        return {"full_attention": full, "sliding_attention": ops.logical_and(full, in_window[None, None])}

    def call(
        self,
        input_ids,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        hidden = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = ops.shape(hidden)[0], ops.shape(hidden)[1]
        start = ops.convert_to_tensor(0 if cache_position is None else cache_position, "int32")
        query_index = start + ops.arange(length, dtype="int32")
        if position_ids is None:
            position_ids = ops.broadcast_to(query_index[None, :], (batch, length))
        key_count = length if past_key_values is None else ops.shape(past_key_values[0][0])[2]
        if attention_mask is None:
            attention_mask = ops.ones((batch, key_count), "int32")
        keep = self._keep_masks(attention_mask, query_index, key_count)
        cos, sin = self.rotary_emb(position_ids, dtype=hidden.dtype)

        all_hidden = [hidden] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        new_cache = [] if past_key_values is not None else None
        for index, layer in enumerate(self.layers):
            cache_key, cache_value = past_key_values[index] if past_key_values is not None else (None, None)
            hidden, layer_cache, attentions = layer(
                hidden,
                cos,
                sin,
                keep[self.attention_types[index]],
                cache_key=cache_key,
                cache_value=cache_value,
                cache_position=start,
                output_attentions=output_attentions,
                training=training,
            )
            if new_cache is not None:
                new_cache.append(layer_cache)
            if output_hidden_states:
                all_hidden.append(hidden)
            if output_attentions:
                all_attentions.append(attentions)
        hidden = self.norm(hidden)
        if output_hidden_states:
            all_hidden[-1] = hidden  # transformers reports the last layer's output after the final norm
        return BaseModelOutputWithPast(
            last_hidden_state=hidden,
            past_key_values=tuple(new_cache) if new_cache is not None else None,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class TFLlamaPreTrainedModel(TFPreTrainedModel):
    config_class = LlamaConfig
    base_model_prefix = "model"
    # buffers some older checkpoints saved
    keys_to_ignore_on_load_unexpected = (r"rotary_emb\.inv_freq$",)

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def input_id_limits(self):
        # rotary positions index no table: any position id is valid
        return {k: v for k, v in super().input_id_limits().items() if k != "position_ids"}

    @property
    def max_input_length(self):
        return None  # rotary positions have no table (transformers only warns past the trained length)

    @property
    def max_generation_length(self):
        # RoPE scaling (linear, dynamic, llama3, yarn) stretches the trained context by its factor
        factor = float((self.config.rope_parameters or {}).get("factor") or 1.0)
        return int(self.config.max_position_embeddings * max(factor, 1.0))

    def init_cache(self, batch_size: int, max_length: int, dtype=None):
        """A zeroed static KV cache: per layer (key, value), (batch, kv_heads, max_length, head_dim).

        Example:
            >>> cache = model.init_cache(2, 64)
            >>> out = model(ids, attention_mask=slot_mask, past_key_values=cache, cache_position=0)
        """
        config = self.config
        dtype = dtype or self.compute_dtype
        shape = (batch_size, config.num_key_value_heads, max_length, config.head_dim)
        return tuple((ops.zeros(shape, dtype), ops.zeros(shape, dtype)) for _ in range(config.num_hidden_layers))

    def decode(
        self,
        input_ids,
        attention_mask,
        position_ids,
        past_key_values,
        cache_position,
        inputs_embeds,
        output_attentions,
        output_hidden_states,
        training,
    ):
        if inputs_embeds is None:
            self.check_input_ids(input_ids)
        return self.model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            cache_position=cache_position,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions or self.config.output_attentions,
            output_hidden_states=output_hidden_states or self.config.output_hidden_states,
            training=training,
        )


class TFLlamaModel(TFLlamaPreTrainedModel):
    """The bare Llama / Mistral / Qwen2 decoder: last_hidden_state (after the final norm).

    Example:
        >>> model = TFLlamaModel.from_pretrained("path/to/llama")
        >>> model(tokenizer(["Hello"], return_tensors="np")).last_hidden_state.shape
    """

    torch_module_names = {"model": ""}  # PyTorch's LlamaModel has no "model." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = LlamaMainLayer(config, name="model")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        return self.decode(
            input_ids,
            attention_mask,
            position_ids,
            past_key_values,
            cache_position,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
            training,
        )


class TFLlamaForCausalLM(GenerationMixin, TFLlamaPreTrainedModel):
    """Llama-family decoder with its language-model head; ``generate()`` comes from GenerationMixin.

    With ``tie_word_embeddings`` the head reuses the input embedding matrix.

    Example:
        >>> model = TFLlamaForCausalLM.from_pretrained("path/to/smollm2")
        >>> ids = model.generate(**tokenizer(["Hi"], return_tensors="np"), max_new_tokens=8)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = LlamaMainLayer(config, name="model")
        if not config.tie_word_embeddings:
            self.lm_head = dense(config.vocab_size, config, "lm_head")

    def get_lm_head(self):
        """The untied ``lm_head`` Dense layer, or None when the head is the tied token embeddings."""
        return None if self.config.tie_word_embeddings else self.lm_head

    def get_output_embeddings(self):
        return self.get_input_embeddings() if self.config.tie_word_embeddings else self.lm_head

    @property
    def keys_to_ignore_on_load_unexpected(self):
        ignored = TFLlamaPreTrainedModel.keys_to_ignore_on_load_unexpected
        # a tied head may still be stored as its own tensor; it is the embedding matrix
        return ignored + ((r"^lm_head\.weight$",) if self.config.tie_word_embeddings else ())

    def logits(self, hidden_states, training=False):
        if self.config.tie_word_embeddings:
            return tied_logits(hidden_states, self.model.embed_tokens.embeddings, training=training)
        return self.lm_head(hidden_states)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        logits_to_keep=0,
        training=False,
    ):
        out = self.decode(
            input_ids,
            attention_mask,
            position_ids,
            past_key_values,
            cache_position,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
            training,
        )
        hidden = out.last_hidden_state
        if logits_to_keep:  # generation only needs the last position's logits
            hidden = hidden[:, -logits_to_keep:]
        logits = self.logits(hidden, training=training)
        loss = None if labels is None else losses.causal_lm_loss(labels, logits)
        return CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )


class TFLlamaForSequenceClassification(TFLlamaPreTrainedModel):
    """Llama-family decoder scoring the last non-pad token of each sequence.

    Example:
        >>> model = TFLlamaForSequenceClassification.from_pretrained("path/to/llama", num_labels=2)
        >>> model(batch).logits.shape
        TensorShape([2, 2])
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = LlamaMainLayer(config, name="model")
        self.score = dense(config.num_labels, config, "score")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        out = self.decode(
            input_ids,
            attention_mask,
            position_ids,
            None,
            None,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
            training,
        )
        logits = last_non_pad_logits(self.score(out.last_hidden_state), input_ids, self.config.pad_token_id)
        loss = None if labels is None else losses.sequence_classification_loss(self.config, labels, logits)
        return SequenceClassifierOutputWithPast(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


# Families that run Llama's forward pass under their own name and config (as XLM-RoBERTa is made).
TFMistralModel = alias_class(TFLlamaModel, "TFMistralModel", MistralConfig)
TFMistralForCausalLM = alias_class(TFLlamaForCausalLM, "TFMistralForCausalLM", MistralConfig)
TFMistralForSequenceClassification = alias_class(
    TFLlamaForSequenceClassification, "TFMistralForSequenceClassification", MistralConfig
)
TFQwen2Model = alias_class(TFLlamaModel, "TFQwen2Model", Qwen2Config)
TFQwen2ForCausalLM = alias_class(TFLlamaForCausalLM, "TFQwen2ForCausalLM", Qwen2Config)
TFQwen2ForSequenceClassification = alias_class(
    TFLlamaForSequenceClassification, "TFQwen2ForSequenceClassification", Qwen2Config
)

__all__ = [
    "LlamaRMSNorm",
    "LlamaRotaryEmbedding",
    "LlamaMainLayer",
    "TFLlamaPreTrainedModel",
    "TFLlamaModel",
    "TFLlamaForCausalLM",
    "TFLlamaForSequenceClassification",
    "TFMistralModel",
    "TFMistralForCausalLM",
    "TFMistralForSequenceClassification",
    "TFQwen2Model",
    "TFQwen2ForCausalLM",
    "TFQwen2ForSequenceClassification",
    "rope_inverse_frequencies",
]
