"""Marian (MarianMT translation models) in Keras 3: a post-norm encoder-decoder with sinusoidal positions.

Layer attribute names follow PyTorch's module names (``model.encoder.layers.0.self_attn.q_proj``),
so checkpoint tensors map by name. The sinusoidal position tables are built from the config, not
read from the checkpoint (transformers does not save them either). The LM head is tied to the
decoder's token embeddings (``model.shared`` unless ``share_encoder_decoder_embeddings`` is False)
and ``final_logits_bias`` is added to its logits. The decoder starts from the pad token.

Generation follows the encoder-decoder protocol of :mod:`kerasformers.generation.seq2seq`: the
decoder cache holds per layer ``(self_key, self_value, cross_key, cross_value)``; the
self-attention part is a static cache of ``max_length`` slots written at ``cache_position``, the
cross-attention part is computed once by :meth:`TFMarianPreTrainedModel.init_cache`.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import InvalidInputError
from kerasformers.generation import GenerationMixin
from kerasformers.layers import WordEmbeddings
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel, replace_variable
from kerasformers.models.marian.configuration_marian import MarianConfig
from kerasformers.outputs import (
    ModelOutput,
    TFBaseModelOutput,
    TFBaseModelOutputWithPastAndCrossAttentions,
    TFSeq2SeqLMOutput,
    TFSeq2SeqModelOutput,
)

__all__ = ["TFMarianPreTrainedModel", "TFMarianModel", "TFMarianMTModel"]


# Copied from kerasformers.models.bart.modeling_bart.shift_tokens_right
def shift_tokens_right(input_ids, pad_token_id: int, decoder_start_token_id: int):
    """Labels -> decoder inputs: shift one step right, start with ``decoder_start_token_id``, -100 -> pad.

    As transformers' ``shift_tokens_right`` (BART, Marian).

    Example:
        >>> shift_tokens_right(np.array([[5, 6, -100]]), pad_token_id=1, decoder_start_token_id=2)
        <tf.Tensor: ... [[2, 5, 6]]>
    """
    if pad_token_id is None:
        raise InvalidInputError("config.pad_token_id must be set to build decoder_input_ids from labels.")
    if decoder_start_token_id is None:
        raise InvalidInputError("config.decoder_start_token_id must be set to build decoder_input_ids from labels.")
    input_ids = ops.cast(input_ids, "int32")
    start = ops.full((ops.shape(input_ids)[0], 1), decoder_start_token_id, "int32")
    shifted = ops.concatenate([start, input_ids[:, :-1]], axis=1)
    return ops.where(ops.equal(shifted, -100), ops.cast(pad_token_id, "int32"), shifted)


# Copied from kerasformers.models.bart.modeling_bart.layer_norm
def layer_norm(name):
    return keras.layers.LayerNormalization(epsilon=1e-5, name=name)


# Copied from kerasformers.models.bart.modeling_bart.dense
def dense(units, config, name, use_bias=True):
    init = keras.initializers.RandomNormal(stddev=config.init_std)
    return keras.layers.Dense(units, use_bias=use_bias, kernel_initializer=init, name=name)


# Copied from kerasformers.models.bart.modeling_bart.BartAttention with Bart->Marian
class MarianAttention(keras.layers.Layer):
    """Multi-head attention; self-attention (with an optional static cache) or cross-attention."""

    def __init__(self, config, num_heads, **kwargs):
        super().__init__(**kwargs)
        embed_dim = config.d_model
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise InvalidInputError(f"d_model ({embed_dim}) must be a multiple of the number of heads ({num_heads}).")
        self.scaling = self.head_dim**-0.5
        self.k_proj = dense(embed_dim, config, "k_proj")
        self.v_proj = dense(embed_dim, config, "v_proj")
        self.q_proj = dense(embed_dim, config, "q_proj")
        self.out_proj = dense(embed_dim, config, "out_proj")
        self.attn_dropout = Dropout(config.attention_dropout)

    def heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def project_key_value(self, states):
        """(batch, length, d_model) -> keys and values, each (batch, heads, length, head_dim)."""
        return self.heads(self.k_proj(states)), self.heads(self.v_proj(states))

    def call(
        self,
        hidden_states,
        keep,
        key_value_states=None,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        """``keep``: (batch or 1, 1, queries, keys) booleans. Returns (output, (key, value) or None, probs)."""
        query = self.heads(self.q_proj(hidden_states))
        new_cache = None
        if key_value_states is not None:  # cross-attention: keys and values of the encoder states
            if cache_key is not None:
                key, value = cache_key, cache_value  # computed once by init_cache
                new_cache = (key, value)
            else:
                key, value = self.project_key_value(key_value_states)
        else:
            key, value = self.project_key_value(hidden_states)
            if cache_key is not None:
                start = (0, 0, cache_position, 0)
                key = ops.slice_update(cache_key, start, ops.cast(key, cache_key.dtype))
                value = ops.slice_update(cache_value, start, ops.cast(value, cache_value.dtype))
                new_cache = (key, value)
        scores = ops.cast(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), "float32") * self.scaling
        scores = ops.where(keep, scores, ops.cast(float(np.finfo(np.float32).min), "float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        context = ops.matmul(self.attn_dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        return self.out_proj(context), new_cache, (probs if output_attentions else None)


# Copied from kerasformers.models.bart.modeling_bart.BartEncoderLayer with Bart->Marian
class MarianEncoderLayer(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = MarianAttention(config, config.encoder_attention_heads, name="self_attn")
        self.self_attn_layer_norm = layer_norm("self_attn_layer_norm")
        self.activation_fn = get_activation(config.activation_function)
        self.fc1 = dense(config.encoder_ffn_dim, config, "fc1")
        self.fc2 = dense(config.d_model, config, "fc2")
        self.final_layer_norm = layer_norm("final_layer_norm")
        self.dropout = Dropout(config.dropout)
        self.activation_dropout = Dropout(config.activation_dropout)

    def call(self, hidden_states, keep, output_attentions=False, training=False):
        attended, _, probs = self.self_attn(hidden_states, keep, output_attentions=output_attentions, training=training)
        hidden_states = self.self_attn_layer_norm(hidden_states + self.dropout(attended, training=training))
        inner = self.activation_dropout(self.activation_fn(self.fc1(hidden_states)), training=training)
        hidden_states = self.final_layer_norm(hidden_states + self.dropout(self.fc2(inner), training=training))
        return hidden_states, probs


# Copied from kerasformers.models.bart.modeling_bart.BartDecoderLayer with Bart->Marian
class MarianDecoderLayer(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = MarianAttention(config, config.decoder_attention_heads, name="self_attn")
        self.self_attn_layer_norm = layer_norm("self_attn_layer_norm")
        self.encoder_attn = MarianAttention(config, config.decoder_attention_heads, name="encoder_attn")
        self.encoder_attn_layer_norm = layer_norm("encoder_attn_layer_norm")
        self.activation_fn = get_activation(config.activation_function)
        self.fc1 = dense(config.decoder_ffn_dim, config, "fc1")
        self.fc2 = dense(config.d_model, config, "fc2")
        self.final_layer_norm = layer_norm("final_layer_norm")
        self.dropout = Dropout(config.dropout)
        self.activation_dropout = Dropout(config.activation_dropout)

    def call(
        self,
        hidden_states,
        self_keep,
        encoder_hidden_states,
        cross_keep,
        layer_cache=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        self_key, self_value, cross_key, cross_value = layer_cache if layer_cache is not None else (None,) * 4
        attended, self_cache, self_probs = self.self_attn(
            hidden_states,
            self_keep,
            cache_key=self_key,
            cache_value=self_value,
            cache_position=cache_position,
            output_attentions=output_attentions,
            training=training,
        )
        hidden_states = self.self_attn_layer_norm(hidden_states + self.dropout(attended, training=training))
        attended, cross_cache, cross_probs = self.encoder_attn(
            hidden_states,
            cross_keep,
            key_value_states=encoder_hidden_states,
            cache_key=cross_key,
            cache_value=cross_value,
            output_attentions=output_attentions,
            training=training,
        )
        hidden_states = self.encoder_attn_layer_norm(hidden_states + self.dropout(attended, training=training))
        inner = self.activation_dropout(self.activation_fn(self.fc1(hidden_states)), training=training)
        hidden_states = self.final_layer_norm(hidden_states + self.dropout(self.fc2(inner), training=training))
        new_cache = (*self_cache, *cross_cache) if layer_cache is not None else None
        return hidden_states, new_cache, self_probs, cross_probs


# Copied from kerasformers.models.bart.modeling_bart.seq2seq_fields with BART->Marian
def seq2seq_fields(out) -> dict:
    """The encoder and decoder outputs every Marian head returns beside its own."""
    return {
        "past_key_values": out.get("past_key_values"),
        "decoder_hidden_states": out.get("decoder_hidden_states"),
        "decoder_attentions": out.get("decoder_attentions"),
        "cross_attentions": out.get("cross_attentions"),
        "encoder_last_hidden_state": out.encoder_last_hidden_state,
        "encoder_hidden_states": out.get("encoder_hidden_states"),
        "encoder_attentions": out.get("encoder_attentions"),
    }


class MarianSinusoidalPositionalEmbedding(keras.layers.Layer):
    """Fixed sinusoidal positions, laid out as transformers' Marian builds them (not a checkpoint weight).

    Row ``pos``: ``sin(pos / 10000^(2i/dim))`` in the first half of the features, the matching
    ``cos`` in the second half (not interleaved), computed in float64 then cast to float32.
    """

    def __init__(self, num_positions, embedding_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_positions = num_positions
        self.embedding_dim = embedding_dim
        self.table = sinusoidal_table(num_positions, embedding_dim)

    def call(self, position_ids):
        return ops.take(ops.convert_to_tensor(self.table, self.compute_dtype), ops.cast(position_ids, "int32"), axis=0)


def sinusoidal_table(num_positions: int, dim: int) -> np.ndarray:
    """(num_positions, dim) float32: sines in the first half of the features, cosines in the second."""
    exponents = 2 * (np.arange(dim) // 2) / dim
    angles = np.arange(num_positions, dtype=np.float64)[:, None] / np.power(10000, exponents)[None, :]
    sentinel = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    table = np.empty((num_positions, dim), np.float32)
    table[:, :sentinel] = np.sin(angles[:, 0::2])
    table[:, sentinel:] = np.cos(angles[:, 1::2])
    return table


class MarianEncoder(keras.layers.Layer):
    """Token embeddings times ``embed_scale`` + sinusoidal positions, then the encoder layers."""

    def __init__(self, config, embed_tokens, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embed_tokens = embed_tokens
        self.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.embed_positions = MarianSinusoidalPositionalEmbedding(
            config.max_position_embeddings, config.d_model, name="embed_positions"
        )
        self.layers = [MarianEncoderLayer(config, name=f"layers_{i}") for i in range(config.encoder_layers)]
        self.dropout = Dropout(config.dropout)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        inputs_embeds=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        # as transformers' Marian: the scale applies to embeddings looked up here, not to given ones
        hidden = self.embed_tokens(input_ids) * self.embed_scale if inputs_embeds is None else inputs_embeds
        batch, length = ops.shape(hidden)[0], ops.shape(hidden)[1]
        hidden = hidden + self.embed_positions(ops.arange(length, dtype="int32")[None, :])
        hidden = self.dropout(hidden, training=training)
        if attention_mask is None:
            attention_mask = ops.ones((batch, length), "int32")
        keep = ops.cast(attention_mask, "bool")[:, None, None, :]
        all_hidden = [] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for layer in self.layers:
            if output_hidden_states:
                all_hidden.append(hidden)
            hidden, probs = layer(hidden, keep, output_attentions=output_attentions, training=training)
            if output_attentions:
                all_attentions.append(probs)
        if output_hidden_states:
            all_hidden.append(hidden)
        return TFBaseModelOutput(
            last_hidden_state=hidden,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class MarianDecoder(keras.layers.Layer):
    """Causal decoder: token embeddings times ``embed_scale`` + sinusoidal positions, cross-attention."""

    def __init__(self, config, embed_tokens, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embed_tokens = embed_tokens
        self.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.embed_positions = MarianSinusoidalPositionalEmbedding(
            config.max_position_embeddings, config.d_model, name="embed_positions"
        )
        self.layers = [MarianDecoderLayer(config, name=f"layers_{i}") for i in range(config.decoder_layers)]
        self.dropout = Dropout(config.dropout)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        # as transformers' Marian: the decoder scales given embeddings too
        hidden = (self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds) * self.embed_scale
        batch, length = ops.shape(hidden)[0], ops.shape(hidden)[1]
        start = ops.convert_to_tensor(0 if cache_position is None else cache_position, "int32")
        query_index = start + ops.arange(length, dtype="int32")
        if position_ids is None:
            position_ids = query_index[None, :]
        hidden = self.dropout(hidden + self.embed_positions(position_ids), training=training)

        key_count = length if past_key_values is None else ops.shape(past_key_values[0][0])[2]
        causal = ops.arange(key_count, dtype="int32")[None, :] <= query_index[:, None]
        self_keep = causal[None, None]
        if attention_mask is not None:
            self_keep = ops.logical_and(self_keep, ops.cast(attention_mask, "bool")[:, None, None, :])
        source_length = ops.shape(encoder_hidden_states)[1]
        if encoder_attention_mask is None:
            encoder_attention_mask = ops.ones((batch, source_length), "int32")
        cross_keep = ops.cast(encoder_attention_mask, "bool")[:, None, None, :]

        all_hidden = [] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        all_cross = [] if output_attentions else None
        new_cache = [] if past_key_values is not None else None
        for index, layer in enumerate(self.layers):
            if output_hidden_states:
                all_hidden.append(hidden)
            hidden, layer_cache, self_probs, cross_probs = layer(
                hidden,
                self_keep,
                encoder_hidden_states,
                cross_keep,
                layer_cache=past_key_values[index] if past_key_values is not None else None,
                cache_position=start,
                output_attentions=output_attentions,
                training=training,
            )
            if new_cache is not None:
                new_cache.append(layer_cache)
            if output_attentions:
                all_attentions.append(self_probs)
                all_cross.append(cross_probs)
        if output_hidden_states:
            all_hidden.append(hidden)
        return TFBaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden,
            past_key_values=tuple(new_cache) if new_cache is not None else None,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
            cross_attentions=tuple(all_cross) if all_cross else None,
        )


class TFMarianMainLayer(keras.layers.Layer):
    """The token embeddings (shared unless ``share_encoder_decoder_embeddings`` is False), encoder and decoder."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.RandomNormal(stddev=config.init_std)
        if config.share_encoder_decoder_embeddings:
            self.shared = WordEmbeddings(config.vocab_size, config.d_model, embeddings_initializer=init, name="shared")
            encoder_embeddings = decoder_embeddings = self.shared
        else:  # separate source and target vocabularies
            encoder_embeddings = WordEmbeddings(
                config.vocab_size, config.d_model, embeddings_initializer=init, name="embed_tokens"
            )
            decoder_embeddings = WordEmbeddings(
                config.decoder_vocab_size, config.d_model, embeddings_initializer=init, name="embed_tokens"
            )
        self.encoder = MarianEncoder(config, encoder_embeddings, name="encoder")
        self.decoder = MarianDecoder(config, decoder_embeddings, name="decoder")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        decoder_position_ids=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        decoder_inputs_embeds=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        if decoder_input_ids is None and decoder_inputs_embeds is None:
            raise InvalidInputError(
                "Marian needs decoder_input_ids (the target so far, starting with the pad token), "
                "or labels on TFMarianMTModel (shifted right into decoder_input_ids)."
            )
        if encoder_outputs is None:
            encoder_outputs = self.encoder(
                input_ids,
                attention_mask=attention_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                training=training,
            )
        elif not isinstance(encoder_outputs, ModelOutput):
            encoder_outputs = TFBaseModelOutput(*encoder_outputs)
        decoder_outputs = self.decoder(
            decoder_input_ids,
            attention_mask=decoder_attention_mask,
            position_ids=decoder_position_ids,
            encoder_hidden_states=encoder_outputs.last_hidden_state,
            encoder_attention_mask=attention_mask,
            past_key_values=past_key_values,
            cache_position=cache_position,
            inputs_embeds=decoder_inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        return TFSeq2SeqModelOutput(
            last_hidden_state=decoder_outputs.last_hidden_state,
            past_key_values=decoder_outputs.past_key_values,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.get("hidden_states"),
            encoder_attentions=encoder_outputs.get("attentions"),
        )


class TFMarianPreTrainedModel(TFPreTrainedModel):
    """Base class of the Marian models: loading, the encoder, and the decoder cache for ``generate()``.

    Example:
        >>> model = TFMarianMTModel.from_pretrained("path/to/opus-mt-en-de")
        >>> model.get_encoder()(input_ids).last_hidden_state.shape
    """

    config_class = MarianConfig
    base_model_prefix = "model"
    # tied copies of the shared embeddings (older checkpoints save them) and the sinusoidal tables
    keys_to_ignore_on_load_unexpected = (
        r"(^|\.)embed_positions\.weight$",
        r"^lm_head\.weight$",
        r"\.version$",
        r"^final_logits_bias$",
    )

    @property
    def dummy_inputs(self):
        inputs = super().dummy_inputs
        return {**inputs, "decoder_input_ids": inputs["input_ids"]}

    def get_input_embeddings(self):
        return self.model.encoder.embed_tokens

    def get_encoder(self):
        """The encoder layer: ``encoder(input_ids, attention_mask=...)`` -> ``last_hidden_state``.

        Example:
            >>> states = model.get_encoder()(input_ids, attention_mask=mask).last_hidden_state
        """
        return self.model.encoder

    def get_decoder(self):
        """The decoder layer.

        Example:
            >>> model.get_decoder().layers[0]
        """
        return self.model.decoder

    def input_id_limits(self):
        limits = super().input_id_limits()
        limits["decoder_input_ids"] = (self.config.decoder_vocab_size, "decoder_vocab_size")
        limits.pop("position_ids", None)
        return limits

    def init_cache(self, batch_size: int, max_length: int, encoder_hidden_states, dtype=None):
        """The decoder cache: per layer (self_key, self_value, cross_key, cross_value).

        Self-attention slots are zeros (batch_size, heads, max_length, head_dim); the
        cross-attention keys and values of ``encoder_hidden_states`` are computed here once.

        Example:
            >>> cache = model.init_cache(2, 32, model.get_encoder()(input_ids).last_hidden_state)
        """
        config = self.config
        heads = config.decoder_attention_heads
        shape = (batch_size, heads, max_length, config.d_model // heads)
        dtype = dtype or self.compute_dtype
        cache = []
        for layer in self.get_decoder().layers:
            cross_key, cross_value = layer.encoder_attn.project_key_value(encoder_hidden_states)
            self_key, self_value = ops.zeros(shape, dtype), ops.zeros(shape, dtype)
            cache.append((self_key, self_value, ops.cast(cross_key, dtype), ops.cast(cross_value, dtype)))
        return tuple(cache)

    def run_model(self, input_ids, config_flags, **kwargs):
        if input_ids is not None:
            self.check_input_ids(input_ids)
        output_attentions, output_hidden_states = config_flags
        return self.model(
            input_ids,
            output_attentions=bool(output_attentions or self.config.output_attentions),
            output_hidden_states=bool(output_hidden_states or self.config.output_hidden_states),
            **kwargs,
        )


class TFMarianModel(TFMarianPreTrainedModel):
    """The bare Marian encoder-decoder: the decoder's last hidden state (and the encoder's).

    ``decoder_input_ids`` are required (Marian does not shift ``input_ids`` as BART does).

    Example:
        >>> model = TFMarianModel.from_pretrained("path/to/opus-mt-en-de")
        >>> out = model(input_ids=ids, decoder_input_ids=np.array([[model.config.pad_token_id]]))
        >>> out.last_hidden_state.shape
    """

    torch_module_names = {"model": ""}  # PyTorch's MarianModel has no "model." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = TFMarianMainLayer(config, name="model")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        decoder_position_ids=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        decoder_inputs_embeds=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        return self.run_model(
            input_ids,
            (output_attentions, output_hidden_states),
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            decoder_position_ids=decoder_position_ids,
            encoder_outputs=encoder_outputs,
            past_key_values=past_key_values,
            cache_position=cache_position,
            inputs_embeds=inputs_embeds,
            decoder_inputs_embeds=decoder_inputs_embeds,
            training=training,
        )


class TFMarianMTModel(GenerationMixin, TFMarianPreTrainedModel):
    """Marian translation model: LM head tied to the decoder's token embeddings, plus ``final_logits_bias``.

    ``labels`` shift right into ``decoder_input_ids`` (starting with the pad token) when those are
    not given. The loss ignores -100 and, as transformers' TensorFlow Marian did, labels equal to
    ``pad_token_id``.

    Example:
        >>> model = TFMarianMTModel.from_pretrained("path/to/opus-mt-en-de")
        >>> ids = model.generate(**tokenizer(["How old are you?"], return_tensors="np"), num_beams=4)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = TFMarianMainLayer(config, name="model")
        if not config.tie_word_embeddings:
            self.lm_head = dense(config.decoder_vocab_size, config, "lm_head", use_bias=False)
        # a buffer in PyTorch, not trained (transformers' TF Marian kept it non-trainable too)
        self.final_logits_bias = self.add_weight(
            name="final_logits_bias", shape=(1, config.decoder_vocab_size), initializer="zeros", trainable=False
        )

    def get_output_embeddings(self):
        return self.lm_head if not self.config.tie_word_embeddings else self.model.decoder.embed_tokens

    def resize_token_embeddings(self, new_num_tokens=None, pad_to_multiple_of=None, mean_resizing=True):
        """Resize the token embeddings; ``final_logits_bias`` is cut or grows with zeros, as transformers does.

        Example:
            >>> model.resize_token_embeddings(len(tokenizer)).weight.shape[0] == len(tokenizer)
            True
        """
        resizes_head = self.config.share_encoder_decoder_embeddings
        object.__setattr__(self, "_kf_resizing_embeddings", True)  # the base class must not touch the bias
        try:
            embeddings = super().resize_token_embeddings(new_num_tokens, pad_to_multiple_of, mean_resizing)
        finally:
            object.__setattr__(self, "_kf_resizing_embeddings", False)
        if resizes_head and embeddings.input_dim != self.final_logits_bias.shape[-1]:
            old = np.asarray(keras.ops.convert_to_numpy(self.final_logits_bias))[0]
            bias = np.zeros((1, embeddings.input_dim), np.float32)
            bias[0, : min(old.shape[0], embeddings.input_dim)] = old[: embeddings.input_dim]
            self.set_bias({"final_logits_bias": bias})
        if resizes_head:
            self.config.decoder_vocab_size = embeddings.input_dim
        return embeddings

    def get_bias(self):
        """``{"final_logits_bias": variable}`` (1, decoder_vocab_size), as transformers' TF Marian.

        Example:
            >>> model.get_bias()["final_logits_bias"].shape
        """
        if self.__dict__.get("_kf_resizing_embeddings"):
            return None
        return {"final_logits_bias": self.final_logits_bias}

    def set_bias(self, value):
        """Replace ``final_logits_bias`` with ``value["final_logits_bias"]`` (1, decoder_vocab_size).

        Example:
            >>> model.set_bias({"final_logits_bias": np.zeros((1, model.config.decoder_vocab_size), np.float32)})
        """
        bias = np.asarray(keras.ops.convert_to_numpy(value["final_logits_bias"]), np.float32).reshape(1, -1)
        replace_variable(self, "final_logits_bias", bias)
        self.reset_compiled_functions()

    def lm_logits(self, hidden):
        if self.config.tie_word_embeddings:
            logits = ops.matmul(hidden, ops.transpose(self.model.decoder.embed_tokens.embeddings))
        else:
            logits = self.lm_head(hidden)
        return logits + ops.cast(self.final_logits_bias, logits.dtype)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        decoder_position_ids=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        decoder_inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        logits_to_keep=0,
        training=False,
    ):
        if labels is not None:
            labels = ops.cast(labels, "int32")
            # transformers' TF Marian: pad labels are ignored like -100 (the decoder inputs are the same)
            labels = ops.where(ops.equal(labels, self.config.pad_token_id), -100, labels)
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = shift_tokens_right(
                    labels, self.config.pad_token_id, self.config.decoder_start_token_id
                )
        out = self.run_model(
            input_ids,
            (output_attentions, output_hidden_states),
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            decoder_position_ids=decoder_position_ids,
            encoder_outputs=encoder_outputs,
            past_key_values=past_key_values,
            cache_position=cache_position,
            inputs_embeds=inputs_embeds,
            decoder_inputs_embeds=decoder_inputs_embeds,
            training=training,
        )
        hidden = out.last_hidden_state
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        logits = self.lm_logits(hidden)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return TFSeq2SeqLMOutput(loss=loss, logits=logits, **seq2seq_fields(out))
