"""Whisper in Keras 3: a pre-norm encoder-decoder over log-mel audio features.

The encoder reads ``input_features`` (batch, num_mel_bins, 2 * max_source_positions): two 1-D
convolutions (kernel 3, the second with stride 2, GELU after each), fixed sinusoidal positions,
pre-norm layers and a final ``layer_norm``. The decoder is a pre-norm causal decoder with learned
positions and cross-attention; the LM head (``proj_out``) is tied to the token embeddings.

Layer attribute names follow PyTorch's module names (``model.encoder.conv1.weight``,
``model.decoder.layers.0.encoder_attn.k_proj``), so checkpoint tensors map by name.

Generation follows the encoder-decoder protocol of :mod:`kerasformers.generation.seq2seq`: the
decoder cache holds per layer ``(self_key, self_value, cross_key, cross_value)``, the
cross-attention part computed once by :meth:`TFWhisperPreTrainedModel.init_cache`;
``generate()`` itself (Whisper's prompt, suppressed tokens, timestamps, language detection) is in
:mod:`kerasformers.models.whisper.generation_whisper`.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import InvalidInputError
from kerasformers.input_checks import as_concrete_array
from kerasformers.layers import WordEmbeddings
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.whisper.configuration_whisper import WhisperConfig
from kerasformers.models.whisper.generation_whisper import WhisperGenerationMixin
from kerasformers.outputs import (
    ModelOutput,
    TFBaseModelOutput,
    TFBaseModelOutputWithPastAndCrossAttentions,
    TFSeq2SeqLMOutput,
    TFSeq2SeqModelOutput,
    TFSequenceClassifierOutput,
)

__all__ = [
    "sinusoids",
    "TFWhisperPreTrainedModel",
    "TFWhisperModel",
    "TFWhisperForConditionalGeneration",
    "TFWhisperForAudioClassification",
]


def sinusoids(length: int, channels: int, max_timescale: float = 10000) -> np.ndarray:
    """Whisper's encoder positions: ``[sin(t * f), cos(t * f)]`` over ``channels // 2`` log-spaced frequencies.

    As transformers' ``sinusoids`` (float32).

    Example:
        >>> sinusoids(1500, 384).shape
        (1500, 384)
    """
    if channels % 2:
        raise InvalidInputError(f"Sinusoidal positions need an even number of channels, got {channels}.")
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = np.exp(-increment * np.arange(channels // 2, dtype=np.float32)).astype(np.float32)
    scaled = np.arange(length, dtype=np.float32)[:, None] * inv_timescales[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


def shift_tokens_right(input_ids, pad_token_id: int, decoder_start_token_id: int):
    """Labels -> decoder inputs: shift one step right, start with ``decoder_start_token_id``, -100 -> pad.

    Example:
        >>> shift_tokens_right(np.array([[5, 6, -100]]), pad_token_id=0, decoder_start_token_id=1)
    """
    input_ids = ops.cast(input_ids, "int32")
    start = ops.full((ops.shape(input_ids)[0], 1), decoder_start_token_id, "int32")
    shifted = ops.concatenate([start, input_ids[:, :-1]], axis=1)
    return ops.where(ops.equal(shifted, -100), ops.cast(pad_token_id, "int32"), shifted)


# Copied from kerasformers.models.bart.modeling_bart.layer_norm
def layer_norm(name):
    return keras.layers.LayerNormalization(epsilon=1e-5, name=name)  # PyTorch nn.LayerNorm's epsilon


# Copied from kerasformers.models.bart.modeling_bart.dense
def dense(units, config, name, use_bias=True):
    init = keras.initializers.RandomNormal(stddev=config.init_std)
    return keras.layers.Dense(units, use_bias=use_bias, kernel_initializer=init, name=name)


class WhisperConv1d(keras.layers.Layer):
    """PyTorch's ``Conv1d(kernel_size=3, padding=1, stride)`` on (batch, time, channels), as one matmul.

    ``weight`` is PyTorch's (out, in, 3). The three shifted views of the zero-padded input are
    concatenated on the channel axis and multiplied by the flattened kernel: no convolution op, so
    XLA and LiteRT see a plain matmul.
    """

    def __init__(self, in_channels, out_channels, stride=1, init_std=0.02, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.init_std = init_std

    def build(self, input_shape=None):
        init = keras.initializers.RandomNormal(stddev=self.init_std)
        self.weight = self.add_weight(shape=(self.out_channels, self.in_channels, 3), initializer=init, name="weight")
        self.bias = self.add_weight(shape=(self.out_channels,), initializer="zeros", name="bias")
        self.built = True

    def call(self, inputs):
        length = ops.shape(inputs)[1]
        padded = ops.pad(inputs, ((0, 0), (1, 1), (0, 0)))
        out_length = (length - 1) // self.stride + 1
        views = [padded[:, k : k + self.stride * (out_length - 1) + 1 : self.stride] for k in range(3)]
        kernel = ops.reshape(ops.transpose(self.weight, (2, 1, 0)), (3 * self.in_channels, self.out_channels))
        stacked = ops.concatenate(views, axis=-1)
        return ops.matmul(stacked, ops.cast(kernel, stacked.dtype)) + ops.cast(self.bias, stacked.dtype)


class WhisperAttention(keras.layers.Layer):
    """Multi-head attention (``k_proj`` without bias); self-attention with a static cache, or cross-attention."""

    def __init__(self, config, num_heads, **kwargs):
        super().__init__(**kwargs)
        embed_dim = config.d_model
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise InvalidInputError(f"d_model ({embed_dim}) must be a multiple of the number of heads ({num_heads}).")
        self.scaling = self.head_dim**-0.5
        self.k_proj = dense(embed_dim, config, "k_proj", use_bias=False)
        self.v_proj = dense(embed_dim, config, "v_proj")
        self.q_proj = dense(embed_dim, config, "q_proj")
        self.out_proj = dense(embed_dim, config, "out_proj")
        self.attn_dropout = Dropout(config.attention_dropout)

    # Copied from kerasformers.models.bart.modeling_bart.BartAttention.heads
    def heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    # Copied from kerasformers.models.bart.modeling_bart.BartAttention.project_key_value
    def project_key_value(self, states):
        """(batch, length, d_model) -> keys and values, each (batch, heads, length, head_dim)."""
        return self.heads(self.k_proj(states)), self.heads(self.v_proj(states))

    def call(
        self,
        hidden_states,
        keep=None,
        key_value_states=None,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        """``keep``: (batch or 1, 1, queries, keys) booleans or None. Returns (output, (key, value) or None, probs)."""
        # the query is scaled before the product, as transformers and OpenAI's Whisper do
        query = self.heads(self.q_proj(hidden_states) * self.scaling)
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
        scores = ops.cast(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), "float32")
        if keep is not None:
            scores = ops.where(keep, scores, ops.cast(float(np.finfo(np.float32).min), "float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        context = ops.matmul(self.attn_dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        return self.out_proj(context), new_cache, (probs if output_attentions else None)


class WhisperEncoderLayer(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = WhisperAttention(config, config.encoder_attention_heads, name="self_attn")
        self.self_attn_layer_norm = layer_norm("self_attn_layer_norm")
        self.activation_fn = get_activation(config.activation_function)
        self.fc1 = dense(config.encoder_ffn_dim, config, "fc1")
        self.fc2 = dense(config.d_model, config, "fc2")
        self.final_layer_norm = layer_norm("final_layer_norm")
        self.dropout = Dropout(config.dropout)
        self.activation_dropout = Dropout(config.activation_dropout)

    def call(self, hidden_states, output_attentions=False, training=False):
        attended, _, probs = self.self_attn(
            self.self_attn_layer_norm(hidden_states), output_attentions=output_attentions, training=training
        )
        hidden_states = hidden_states + self.dropout(attended, training=training)
        inner = self.activation_dropout(
            self.activation_fn(self.fc1(self.final_layer_norm(hidden_states))), training=training
        )
        hidden_states = hidden_states + self.dropout(self.fc2(inner), training=training)
        return hidden_states, probs


class WhisperDecoderLayer(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = WhisperAttention(config, config.decoder_attention_heads, name="self_attn")
        self.self_attn_layer_norm = layer_norm("self_attn_layer_norm")
        self.encoder_attn = WhisperAttention(config, config.decoder_attention_heads, name="encoder_attn")
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
        cross_keep=None,
        layer_cache=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        self_key, self_value, cross_key, cross_value = layer_cache if layer_cache is not None else (None,) * 4
        attended, self_cache, self_probs = self.self_attn(
            self.self_attn_layer_norm(hidden_states),
            self_keep,
            cache_key=self_key,
            cache_value=self_value,
            cache_position=cache_position,
            output_attentions=output_attentions,
            training=training,
        )
        hidden_states = hidden_states + self.dropout(attended, training=training)
        attended, cross_cache, cross_probs = self.encoder_attn(
            self.encoder_attn_layer_norm(hidden_states),
            cross_keep,
            key_value_states=encoder_hidden_states,
            cache_key=cross_key,
            cache_value=cross_value,
            output_attentions=output_attentions,
            training=training,
        )
        hidden_states = hidden_states + self.dropout(attended, training=training)
        inner = self.activation_dropout(
            self.activation_fn(self.fc1(self.final_layer_norm(hidden_states))), training=training
        )
        hidden_states = hidden_states + self.dropout(self.fc2(inner), training=training)
        new_cache = (*self_cache, *cross_cache) if layer_cache is not None else None
        return hidden_states, new_cache, self_probs, cross_probs


class TFWhisperEncoder(keras.layers.Layer):
    """conv1 -> GELU -> conv2 (stride 2) -> GELU, + sinusoidal positions, the layers, ``layer_norm``.

    ``encoder(input_features)`` -> ``last_hidden_state`` (batch, max_source_positions, d_model).
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.conv1 = WhisperConv1d(config.num_mel_bins, config.d_model, 1, config.init_std, name="conv1")
        self.conv2 = WhisperConv1d(config.d_model, config.d_model, 2, config.init_std, name="conv2")
        table = sinusoids(config.max_source_positions, config.d_model)
        # fixed in Whisper (not trained), but a checkpoint tensor: loaded and saved by name
        self.embed_positions = keras.layers.Embedding(
            config.max_source_positions,
            config.d_model,
            embeddings_initializer=keras.initializers.Constant(table),
            trainable=False,
            name="embed_positions",
        )
        self.layers = [WhisperEncoderLayer(config, name=f"layers_{i}") for i in range(config.encoder_layers)]
        self.layer_norm = layer_norm("layer_norm")
        self.dropout = Dropout(config.dropout)
        self.gelu = get_activation("gelu")

    @property
    def expected_frames(self) -> int:
        return 2 * self.config.max_source_positions

    def call(
        self, input_features, attention_mask=None, output_attentions=False, output_hidden_states=False, training=False
    ):
        del attention_mask  # Whisper does not mask its features (transformers keeps the argument for compatibility)
        frames = input_features.shape[-1]
        if frames is not None and frames != self.expected_frames:
            raise InvalidInputError(
                f"Whisper expects input_features of {self.expected_frames} frames (the feature extractor pads to "
                f"{self.expected_frames // 100} s), got {frames}. Use the model's WhisperFeatureExtractor."
            )
        features = ops.transpose(ops.cast(input_features, self.compute_dtype), (0, 2, 1))  # (batch, frames, mels)
        hidden = self.gelu(self.conv1(features))
        hidden = self.gelu(self.conv2(hidden))
        positions = ops.arange(self.config.max_source_positions, dtype="int32")
        hidden = hidden + ops.cast(self.embed_positions(positions), hidden.dtype)[None]
        hidden = self.dropout(hidden, training=training)
        all_hidden = [] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for layer in self.layers:
            if output_hidden_states:
                all_hidden.append(hidden)
            hidden, probs = layer(hidden, output_attentions=output_attentions, training=training)
            if output_attentions:
                all_attentions.append(probs)
        hidden = self.layer_norm(hidden)
        if output_hidden_states:
            all_hidden.append(hidden)
        return TFBaseModelOutput(
            last_hidden_state=hidden,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class TFWhisperDecoder(keras.layers.Layer):
    """Causal decoder: token embeddings + learned positions, pre-norm layers with cross-attention, ``layer_norm``."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.RandomNormal(stddev=config.init_std)
        self.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.embed_tokens = WordEmbeddings(
            config.vocab_size, config.d_model, embeddings_initializer=init, name="embed_tokens"
        )
        self.embed_positions = keras.layers.Embedding(
            config.max_target_positions, config.d_model, embeddings_initializer=init, name="embed_positions"
        )
        self.layers = [WhisperDecoderLayer(config, name=f"layers_{i}") for i in range(config.decoder_layers)]
        self.layer_norm = layer_norm("layer_norm")
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
        # transformers' decoder does not scale the token embeddings (embed_scale is unused there too)
        hidden = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        length = ops.shape(hidden)[1]
        start = ops.convert_to_tensor(0 if cache_position is None else cache_position, "int32")
        query_index = start + ops.arange(length, dtype="int32")
        if position_ids is None:
            position_ids = query_index[None, :]
        hidden = hidden + ops.cast(self.embed_positions(ops.cast(position_ids, "int32")), hidden.dtype)
        hidden = self.dropout(hidden, training=training)

        key_count = length if past_key_values is None else ops.shape(past_key_values[0][0])[2]
        causal = ops.arange(key_count, dtype="int32")[None, :] <= query_index[:, None]
        self_keep = causal[None, None]
        if attention_mask is not None:
            self_keep = ops.logical_and(self_keep, ops.cast(attention_mask, "bool")[:, None, None, :])
        cross_keep = None
        if encoder_attention_mask is not None:
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
        hidden = self.layer_norm(hidden)
        if output_hidden_states:
            all_hidden.append(hidden)
        return TFBaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden,
            past_key_values=tuple(new_cache) if new_cache is not None else None,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
            cross_attentions=tuple(all_cross) if all_cross else None,
        )


class TFWhisperMainLayer(keras.layers.Layer):
    """The encoder and the decoder: ``WhisperModel`` in transformers."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.encoder = TFWhisperEncoder(config, name="encoder")
        self.decoder = TFWhisperDecoder(config, name="decoder")

    def call(
        self,
        input_features=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        decoder_position_ids=None,
        encoder_outputs=None,
        encoder_attention_mask=None,
        past_key_values=None,
        cache_position=None,
        decoder_inputs_embeds=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        if decoder_input_ids is None and decoder_inputs_embeds is None:
            raise InvalidInputError(
                "Whisper needs decoder_input_ids (or labels, shifted right): e.g. [[config.decoder_start_token_id]]."
            )
        if encoder_outputs is None:
            if input_features is None:
                raise InvalidInputError("Pass input_features (the feature extractor's output) or encoder_outputs.")
            encoder_outputs = self.encoder(
                input_features,
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
            encoder_attention_mask=encoder_attention_mask,
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


def check_input_features(config, input_features):
    """One clear error for concrete ``input_features`` of the wrong rank, channels or length."""
    array = as_concrete_array(input_features, "input_features")
    if array is None:
        return
    if array.dtype.kind not in "fiu":
        raise InvalidInputError(f"input_features must be float log-mel features, got {array.dtype}.")
    frames = 2 * config.max_source_positions
    if array.ndim != 3 or array.shape[1] != config.num_mel_bins or array.shape[2] != frames:
        raise InvalidInputError(
            f"input_features must have shape (batch, {config.num_mel_bins}, {frames}), got {tuple(array.shape)}. "
            "Make them with the model's WhisperFeatureExtractor (it pads or cuts audio to 30 s)."
        )


class TFWhisperPreTrainedModel(TFPreTrainedModel):
    """Base class of the Whisper models: ``input_features`` in, loading, and the decoder cache for ``generate()``.

    Example:
        >>> model = TFWhisperForConditionalGeneration.from_pretrained("path/to/whisper-tiny")
        >>> model.get_encoder()(features).last_hidden_state.shape
    """

    config_class = WhisperConfig
    base_model_prefix = "model"
    main_input_name = "input_features"
    main_input_rank = 3
    keys_to_ignore_on_load_unexpected = (r"^proj_out\.weight$",)

    @property
    def dummy_inputs(self):
        config = self.config
        rng = np.random.default_rng(0)
        features = rng.standard_normal((2, config.num_mel_bins, 2 * config.max_source_positions)).astype("float32")
        start = config.decoder_start_token_id if config.decoder_start_token_id is not None else 0
        return {"input_features": features, "decoder_input_ids": np.array([[start], [start]], np.int32)}

    def input_id_limits(self):
        return {"decoder_input_ids": (self.config.vocab_size, "vocab_size")}

    def validate_inputs(self, inputs, caller=None):
        features = inputs.get("input_features")
        if features is not None:
            check_input_features(self.config, features)
        rest = {k: v for k, v in inputs.items() if k != "input_features"}
        super().validate_inputs(rest, caller)

    def get_input_embeddings(self):
        return self.get_decoder().embed_tokens

    def get_encoder(self):
        """The encoder layer: ``encoder(input_features)`` -> ``last_hidden_state``.

        Example:
            >>> states = model.get_encoder()(features).last_hidden_state
        """
        return self.model.encoder

    def get_decoder(self):
        """The decoder layer.

        Example:
            >>> model.get_decoder().layers[0]
        """
        return self.model.decoder

    def init_cache(self, batch_size: int, max_length: int, encoder_hidden_states, dtype=None):
        """The decoder cache: per layer (self_key, self_value, cross_key, cross_value).

        Self-attention slots are zeros (batch_size, heads, max_length, head_dim); the
        cross-attention keys and values of ``encoder_hidden_states`` are computed here once.

        Example:
            >>> cache = model.init_cache(1, 32, model.get_encoder()(features).last_hidden_state)
        """
        config = self.config
        heads = config.decoder_attention_heads
        shape = (batch_size, heads, max_length, config.d_model // heads)
        dtype = dtype or self.compute_dtype
        cache = []
        for layer in self.get_decoder().layers:
            cross_key, cross_value = layer.encoder_attn.project_key_value(encoder_hidden_states)
            cache.append(
                (
                    ops.zeros(shape, dtype),
                    ops.zeros(shape, dtype),
                    ops.cast(cross_key, dtype),
                    ops.cast(cross_value, dtype),
                )
            )
        return tuple(cache)

    def run_model(self, input_features, config_flags, **kwargs):
        output_attentions, output_hidden_states = config_flags
        return self.model(
            input_features,
            output_attentions=bool(output_attentions or self.config.output_attentions),
            output_hidden_states=bool(output_hidden_states or self.config.output_hidden_states),
            **kwargs,
        )


def seq2seq_fields(out) -> dict:
    return {
        "past_key_values": out.get("past_key_values"),
        "decoder_hidden_states": out.get("decoder_hidden_states"),
        "decoder_attentions": out.get("decoder_attentions"),
        "cross_attentions": out.get("cross_attentions"),
        "encoder_last_hidden_state": out.encoder_last_hidden_state,
        "encoder_hidden_states": out.get("encoder_hidden_states"),
        "encoder_attentions": out.get("encoder_attentions"),
    }


class TFWhisperModel(TFWhisperPreTrainedModel):
    """The bare Whisper encoder-decoder: the decoder's last hidden state (and the encoder's).

    Example:
        >>> model = TFWhisperModel.from_pretrained("path/to/whisper-tiny")
        >>> model(features, decoder_input_ids=[[50258, 50258]]).last_hidden_state.shape
    """

    torch_module_names = {"model": ""}  # PyTorch's WhisperModel has no "model." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = TFWhisperMainLayer(config, name="model")

    def call(
        self,
        input_features=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        decoder_position_ids=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        decoder_inputs_embeds=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        del attention_mask  # the features' mask: Whisper does not use it (only SpecAugment would)
        return self.run_model(
            input_features,
            (output_attentions, output_hidden_states),
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            decoder_position_ids=decoder_position_ids,
            encoder_outputs=encoder_outputs,
            past_key_values=past_key_values,
            cache_position=cache_position,
            decoder_inputs_embeds=decoder_inputs_embeds,
            training=training,
        )


class TFWhisperForConditionalGeneration(WhisperGenerationMixin, TFWhisperPreTrainedModel):
    """Whisper with its LM head ``proj_out`` (tied to the decoder's token embeddings); ``generate()`` included.

    ``labels`` shift right into ``decoder_input_ids`` when those are not given; the loss ignores -100.

    Example:
        >>> model = TFWhisperForConditionalGeneration.from_pretrained("path/to/whisper-tiny")
        >>> features = processor(audio, sampling_rate=16000, return_tensors="np").input_features
        >>> ids = model.generate(input_features=features, language="en", task="transcribe")
        >>> processor.batch_decode(ids, skip_special_tokens=True)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.model = TFWhisperMainLayer(config, name="model")
        if not config.tie_word_embeddings:
            self.proj_out = dense(config.vocab_size, config, "proj_out", use_bias=False)

    def get_output_embeddings(self):
        return self.proj_out if not self.config.tie_word_embeddings else self.get_input_embeddings()

    def lm_logits(self, hidden):
        if self.config.tie_word_embeddings:
            return ops.matmul(hidden, ops.transpose(ops.cast(self.get_input_embeddings().embeddings, hidden.dtype)))
        return self.proj_out(hidden)

    def call(
        self,
        input_features=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        decoder_position_ids=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        decoder_inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        logits_to_keep=0,
        training=False,
    ):
        if labels is not None:
            labels = ops.cast(labels, "int32")
            if labels.shape[1] is not None and labels.shape[1] > self.config.max_target_positions:
                raise InvalidInputError(
                    f"labels have {labels.shape[1]} tokens, more than max_target_positions "
                    f"({self.config.max_target_positions}): cut the transcripts shorter."
                )
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = shift_tokens_right(
                    labels, self.config.pad_token_id, self.config.decoder_start_token_id
                )
        # inside generate() the source mask the seq2seq protocol hands over covers the encoder
        # states (cross-attention); a caller's attention_mask covers the features and is unused
        cross_mask = attention_mask if past_key_values is not None else None
        out = self.run_model(
            input_features,
            (output_attentions, output_hidden_states),
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            decoder_position_ids=decoder_position_ids,
            encoder_outputs=encoder_outputs,
            encoder_attention_mask=cross_mask,
            past_key_values=past_key_values,
            cache_position=cache_position,
            decoder_inputs_embeds=decoder_inputs_embeds,
            training=training,
        )
        hidden = out.last_hidden_state
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        logits = self.lm_logits(hidden)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return TFSeq2SeqLMOutput(loss=loss, logits=logits, **seq2seq_fields(out))


class TFWhisperForAudioClassification(TFWhisperPreTrainedModel):
    """The Whisper encoder with a classification head: ``projector``, mean over time, ``classifier``.

    With ``config.use_weighted_layer_sum`` the encoder's hidden states (embeddings and every
    layer) are mixed with softmax-normalised ``layer_weights`` first, as transformers does.

    Example:
        >>> model = TFWhisperForAudioClassification.from_pretrained("path/to/whisper-lang-id")
        >>> model(features).logits.shape
    """

    torch_module_names = {}

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.encoder = TFWhisperEncoder(config, name="encoder")
        if config.use_weighted_layer_sum:
            layers = config.encoder_layers + 1
            self.layer_weights = self.add_weight(
                name="layer_weights", shape=(layers,), initializer=keras.initializers.Constant(1.0 / layers)
            )
        self.projector = dense(config.classifier_proj_size, config, "projector")
        self.classifier = dense(config.num_labels, config, "classifier")

    @property
    def dummy_inputs(self):
        return {"input_features": super().dummy_inputs["input_features"]}

    def get_encoder(self):
        return self.encoder

    def get_decoder(self):
        return None

    def get_input_embeddings(self):
        return None

    def call(
        self,
        input_features=None,
        encoder_outputs=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        output_attentions = bool(output_attentions or self.config.output_attentions)
        output_hidden_states = bool(output_hidden_states or self.config.output_hidden_states)
        if encoder_outputs is None:
            if input_features is None:
                raise InvalidInputError("Pass input_features (the feature extractor's output) or encoder_outputs.")
            encoder_outputs = self.encoder(
                input_features,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states or self.config.use_weighted_layer_sum,
                training=training,
            )
        elif not isinstance(encoder_outputs, ModelOutput):
            encoder_outputs = TFBaseModelOutput(*encoder_outputs)
        if self.config.use_weighted_layer_sum:
            stacked = ops.stack(encoder_outputs.hidden_states, axis=1)
            weights = ops.softmax(ops.cast(self.layer_weights, stacked.dtype), axis=-1)
            hidden = ops.sum(stacked * weights[None, :, None, None], axis=1)
        else:
            hidden = encoder_outputs.last_hidden_state
        pooled = ops.mean(self.projector(hidden), axis=1)
        logits = self.classifier(pooled)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return TFSequenceClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=encoder_outputs.get("hidden_states") if output_hidden_states else None,
            attentions=encoder_outputs.get("attentions"),
        )
