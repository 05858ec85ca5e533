"""T5 (v1.0, v1.1, Flan-T5) and mT5 in Keras 3: an encoder-decoder with relative position buckets.

- Layer norm without mean or bias (RMS), applied before each sub-layer; a final norm per stack.
- Attention without the 1/sqrt(d) scaling; a learned bias per (bucketed relative position, head),
  held by the first layer of each stack and shared by all its layers. Encoder buckets are
  bidirectional, decoder buckets look back only; cross-attention has no position bias.
- Feed-forward ``wo(act(wi(x)))`` (``feed_forward_proj="relu"``) or gated
  ``wo(act(wi_0(x)) * wi_1(x))`` (``"gated-gelu"``, T5 v1.1 / Flan-T5 / mT5).
- One embedding matrix (``shared``) for encoder and decoder. Tied head (T5 v1.0): logits are the
  decoder output times ``d_model ** -0.5`` against ``shared``; untied: an own ``lm_head``, no rescale.

Layer attribute names follow PyTorch's module names (``encoder.block.0.layer.0.SelfAttention.q``),
so checkpoints load by name (kerasformers.weights).

Generation follows the encoder-decoder protocol of :mod:`kerasformers.generation.seq2seq`:
:meth:`TFT5PreTrainedModel.init_cache` returns, per decoder layer, a static self-attention cache
``(batch, heads, max_length, d_kv)`` and the cross-attention keys/values of the encoder states,
computed once; a decoder call with ``past_key_values`` writes its keys/values at ``cache_position``
and attends over all slots, ``decoder_attention_mask`` then covering the slots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import keras
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import ConfigError
from kerasformers.generation import GenerationMixin
from kerasformers.layers import WordEmbeddings, mask_value
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel, alias_class
from kerasformers.models.t5.configuration_t5 import MT5Config, T5Config
from kerasformers.outputs import (
    TFBaseModelOutput,
    TFBaseModelOutputWithPastAndCrossAttentions,
    TFSeq2SeqLMOutput,
    TFSeq2SeqModelOutput,
)


def dense(units, stddev, name):
    return keras.layers.Dense(
        units, use_bias=False, kernel_initializer=keras.initializers.RandomNormal(stddev=stddev), name=name
    )


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    """T5's bucket of each relative position (key position - query position), int32.

    Half the buckets hold exact distances, the other half logarithmically wider bins up to
    ``max_distance``; bidirectional buckets split again by sign. The float arithmetic is
    transformers' (float32 log, truncation), so buckets match it exactly.

    Example:
        >>> relative_position_bucket(ops.convert_to_tensor([-3, 0, 3, 100]))
        [3, 0, 19, 31]
    """
    relative_position = ops.cast(relative_position, "int32")
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets = ops.cast(relative_position > 0, "int32") * num_buckets
        relative_position = ops.abs(relative_position)
    else:
        relative_position = -ops.minimum(relative_position, 0)
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    # max(., 1): the log's argument is only used where the position is not small
    ratio = ops.cast(ops.maximum(relative_position, 1), "float32") / float(max_exact)
    scaled = ops.log(ratio) / math.log(max_distance / max_exact) * float(num_buckets - max_exact)
    large = ops.minimum(max_exact + ops.cast(scaled, "int32"), num_buckets - 1)
    return buckets + ops.where(is_small, relative_position, large)


class T5LayerNorm(keras.layers.Layer):
    """x / sqrt(mean(x^2) + eps) * weight: no mean, no bias; the variance in float32 as transformers does."""

    def __init__(self, hidden_size, eps=1e-6, **kwargs):
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


class T5DenseActDense(keras.layers.Layer):
    """T5 v1.0's feed-forward: wo(act(wi(x)))."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        factor = config.initializer_factor
        self.wi = dense(config.d_ff, factor * config.d_model**-0.5, "wi")
        self.wo = dense(config.d_model, factor * config.d_ff**-0.5, "wo")
        self.dropout = Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)

    def call(self, hidden_states, training=False):
        return self.wo(self.dropout(self.act(self.wi(hidden_states)), training=training))


class T5DenseGatedActDense(keras.layers.Layer):
    """T5 v1.1's gated feed-forward: wo(act(wi_0(x)) * wi_1(x))."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        factor = config.initializer_factor
        self.wi_0 = dense(config.d_ff, factor * config.d_model**-0.5, "wi_0")
        self.wi_1 = dense(config.d_ff, factor * config.d_model**-0.5, "wi_1")
        self.wo = dense(config.d_model, factor * config.d_ff**-0.5, "wo")
        self.dropout = Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)

    def call(self, hidden_states, training=False):
        gated = self.act(self.wi_0(hidden_states)) * self.wi_1(hidden_states)
        return self.wo(self.dropout(gated, training=training))


class T5LayerFF(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        block = T5DenseGatedActDense if config.is_gated_act else T5DenseActDense
        self.DenseReluDense = block(config, name="DenseReluDense")
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, name="layer_norm")
        self.dropout = Dropout(config.dropout_rate)

    def call(self, hidden_states, training=False):
        forwarded = self.DenseReluDense(self.layer_norm(hidden_states), training=training)
        return hidden_states + self.dropout(forwarded, training=training)


class T5Attention(keras.layers.Layer):
    """Multi-head attention without score scaling; the first layer of a stack owns the position bias."""

    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, **kwargs):
        super().__init__(**kwargs)
        self.is_decoder = is_decoder
        self.has_relative_attention_bias = has_relative_attention_bias
        self.num_buckets = config.relative_attention_num_buckets
        self.max_distance = config.relative_attention_max_distance
        self.n_heads = config.num_heads
        self.d_kv = config.d_kv
        inner = self.n_heads * self.d_kv
        factor, d_model = config.initializer_factor, config.d_model
        self.q = dense(inner, factor * (d_model * self.d_kv) ** -0.5, "q")
        self.k = dense(inner, factor * d_model**-0.5, "k")
        self.v = dense(inner, factor * d_model**-0.5, "v")
        self.o = dense(d_model, factor * inner**-0.5, "o")
        if has_relative_attention_bias:
            self.relative_attention_bias = keras.layers.Embedding(
                self.num_buckets,
                self.n_heads,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=factor * d_model**-0.5),
                name="relative_attention_bias",
            )
        self.dropout = Dropout(config.dropout_rate)

    def compute_bias(self, query_positions, key_length):
        """(1, heads, queries, keys) bias for queries at ``query_positions`` over keys 0..key_length-1."""
        relative = ops.arange(key_length, dtype="int32")[None, :] - ops.cast(query_positions, "int32")[:, None]
        bucket = relative_position_bucket(
            relative, bidirectional=not self.is_decoder, num_buckets=self.num_buckets, max_distance=self.max_distance
        )
        values = self.relative_attention_bias(bucket)  # (queries, keys, heads)
        return ops.transpose(values, (2, 0, 1))[None]

    def heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.n_heads, self.d_kv)), (0, 2, 1, 3))

    def key_values(self, states):
        """Keys and values (batch, heads, length, d_kv) of ``states``: what the cross-attention cache holds."""
        return self.heads(self.k(states)), self.heads(self.v(states))

    def call(
        self,
        hidden_states,
        keep,
        position_bias=None,
        key_value_states=None,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        """Self-attention, or attention over ``key_value_states`` (cross-attention).

        ``keep``: boolean, broadcastable to (batch, heads, queries, keys). Self-attention with a cache
        writes this call's keys/values at ``cache_position``; cross-attention with a cache reads the
        cached keys/values instead of projecting ``key_value_states``. Returns (output, (key, value), probs).
        """
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        query = self.heads(self.q(hidden_states))
        if key_value_states is None:  # self-attention
            key, value = self.key_values(hidden_states)
            if cache_key is not None:
                start = (0, 0, cache_position, 0)
                key = ops.slice_update(cache_key, start, ops.cast(key, cache_key.dtype))
                value = ops.slice_update(cache_value, start, ops.cast(value, cache_value.dtype))
        elif cache_key is not None:  # cross-attention over keys/values computed once
            key, value = cache_key, cache_value
        else:
            key, value = self.key_values(key_value_states)
        scores = ops.cast(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), "float32")
        if position_bias is not None:
            scores = scores + ops.cast(position_bias, "float32")
        scores = ops.where(keep, scores, mask_value("float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        context = ops.matmul(self.dropout(probs, training=training), value)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, self.n_heads * self.d_kv))
        return self.o(context), (key, value), probs if output_attentions else None


class T5LayerSelfAttention(keras.layers.Layer):
    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, **kwargs):
        super().__init__(**kwargs)
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, is_decoder, name="SelfAttention")
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, name="layer_norm")
        self.dropout = Dropout(config.dropout_rate)

    def call(self, hidden_states, keep, position_bias, cache=(None, None), cache_position=None, **kwargs):
        attended, key_value, probs = self.SelfAttention(
            self.layer_norm(hidden_states),
            keep,
            position_bias,
            cache_key=cache[0],
            cache_value=cache[1],
            cache_position=cache_position,
            **kwargs,
        )
        return hidden_states + self.dropout(attended, training=kwargs.get("training", False)), key_value, probs


class T5LayerCrossAttention(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.EncDecAttention = T5Attention(config, False, is_decoder=True, name="EncDecAttention")
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, name="layer_norm")
        self.dropout = Dropout(config.dropout_rate)

    def call(self, hidden_states, keep, key_value_states, cache=(None, None), **kwargs):
        attended, key_value, probs = self.EncDecAttention(
            self.layer_norm(hidden_states),
            keep,
            key_value_states=key_value_states,
            cache_key=cache[0],
            cache_value=cache[1],
            **kwargs,
        )
        return hidden_states + self.dropout(attended, training=kwargs.get("training", False)), key_value, probs


class T5Block(keras.layers.Layer):
    """Self-attention, (decoder only) cross-attention, feed-forward: ``block.N.layer.{0,1,2}``."""

    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, **kwargs):
        super().__init__(**kwargs)
        self.is_decoder = is_decoder
        self.layer = [T5LayerSelfAttention(config, has_relative_attention_bias, is_decoder, name="layer_0")]
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(config, name="layer_1"))
        self.layer.append(T5LayerFF(config, name=f"layer_{len(self.layer)}"))

    def call(
        self,
        hidden_states,
        keep,
        position_bias,
        encoder_hidden_states=None,
        encoder_keep=None,
        cache=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        options = {"output_attentions": output_attentions, "training": training}
        cache = cache or (None, None, None, None)
        hidden_states, self_kv, self_probs = self.layer[0](
            hidden_states, keep, position_bias, cache=cache[:2], cache_position=cache_position, **options
        )
        cross_kv, cross_probs = (None, None), None
        if self.is_decoder and (encoder_hidden_states is not None or cache[2] is not None):
            hidden_states, cross_kv, cross_probs = self.layer[1](
                hidden_states, encoder_keep, encoder_hidden_states, cache=cache[2:], **options
            )
        hidden_states = self.layer[-1](hidden_states, training=training)
        return hidden_states, (*self_kv, *cross_kv), self_probs, cross_probs


class T5Stack(keras.layers.Layer):
    """The encoder or the decoder: embeddings (the shared matrix), blocks, final norm.

    Called as ``stack(input_ids, attention_mask=mask)`` it is transformers' ``model.encoder`` /
    ``model.decoder``; ``get_encoder()`` returns the encoder stack.
    """

    def __init__(self, config, embed_tokens, is_decoder, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.is_decoder = is_decoder
        self.embed_tokens = embed_tokens  # the model's ``shared`` layer (named there)
        layers = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = [T5Block(config, i == 0, is_decoder, name=f"block_{i}") for i in range(layers)]
        self.final_layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, name="final_layer_norm")
        self.dropout = Dropout(config.dropout_rate)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        inputs_embeds=None,
        past_key_values=None,
        cache_position=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        hidden = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = ops.shape(hidden)[0], ops.shape(hidden)[1]
        start = ops.convert_to_tensor(0 if cache_position is None else cache_position, "int32")
        query_index = start + ops.arange(length, dtype="int32")
        key_count = length if past_key_values is None else ops.shape(past_key_values[0][0])[2]
        if attention_mask is None:
            attention_mask = ops.ones((batch, key_count), "int32")
        keep = ops.cast(attention_mask, "bool")[:, None, None, :]
        if self.is_decoder:  # causal: a query sees the keys at or before its slot
            causal = ops.arange(key_count, dtype="int32")[None, :] <= query_index[:, None]
            keep = ops.logical_and(keep, causal[None, None])
        encoder_keep = None
        if self.is_decoder:
            if encoder_attention_mask is None:
                source = ops.shape(encoder_hidden_states if past_key_values is None else past_key_values[0][2])[-2]
                encoder_attention_mask = ops.ones((batch, source), "int32")
            encoder_keep = ops.cast(encoder_attention_mask, "bool")[:, None, None, :]
        position_bias = self.block[0].layer[0].SelfAttention.compute_bias(query_index, key_count)

        hidden = self.dropout(hidden, training=training)
        all_hidden = [] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        all_cross = [] if output_attentions and self.is_decoder else None
        new_cache = [] if past_key_values is not None else None
        for index, block in enumerate(self.block):
            if output_hidden_states:
                all_hidden.append(hidden)
            hidden, layer_cache, self_probs, cross_probs = block(
                hidden,
                keep,
                position_bias,
                encoder_hidden_states=encoder_hidden_states,
                encoder_keep=encoder_keep,
                cache=past_key_values[index] if past_key_values is not None else None,
                cache_position=start,
                output_attentions=output_attentions,
                training=training,
            )
            if new_cache is not None:
                new_cache.append(layer_cache)
            if output_attentions:
                all_attentions.append(self_probs)
                if all_cross is not None:
                    all_cross.append(cross_probs)
        hidden = self.dropout(self.final_layer_norm(hidden), training=training)
        if output_hidden_states:
            all_hidden.append(hidden)  # transformers reports the last layer's output after the final norm
        return TFBaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden,
            past_key_values=tuple(new_cache) if new_cache is not None else None,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
            cross_attentions=tuple(all_cross) if all_cross else None,
        )


def encoder_states(encoder_outputs):
    """The encoder's last hidden state from ``encoder_outputs`` as transformers accepts it.

    A ModelOutput (or dict) with ``last_hidden_state``, a tuple whose first item it is, or that
    tuple already turned into one (1, batch, length, d_model) tensor by the model's input conversion.
    """
    if isinstance(encoder_outputs, Mapping):
        return encoder_outputs["last_hidden_state"]
    if isinstance(encoder_outputs, (list, tuple)):
        return encoder_outputs[0]
    if len(encoder_outputs.shape) == 4:
        return encoder_outputs[0]
    return encoder_outputs


class TFT5PreTrainedModel(TFPreTrainedModel):
    config_class = T5Config
    base_model_prefix = "transformer"
    # tied copies of ``shared`` some checkpoints store, and a bias T5's cross-attention never uses
    keys_to_ignore_on_load_unexpected = (
        r"^encoder\.embed_tokens\.weight$",
        r"^decoder\.embed_tokens\.weight$",
        r"^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$",
    )

    @property
    def dummy_inputs(self):
        ids = [[7, 6, 0, 0, 1], [1, 2, 3, 0, 0], [0, 0, 0, 4, 5]]
        return {
            "input_ids": ops.convert_to_tensor(ids, "int32"),
            "decoder_input_ids": ops.convert_to_tensor(ids, "int32"),
        }

    def get_input_embeddings(self):
        return self.shared

    def get_encoder(self):
        """The encoder stack, callable as ``encoder(input_ids, attention_mask=mask)``.

        Example:
            >>> model.get_encoder()(ids, attention_mask=mask).last_hidden_state.shape
        """
        return self.encoder

    def get_decoder(self):
        return self.decoder

    def input_id_limits(self):
        limits = {k: v for k, v in super().input_id_limits().items() if k != "position_ids"}
        limits["decoder_input_ids"] = (self.config.vocab_size, "vocab_size")
        return limits

    @property
    def max_input_length(self):
        return None  # relative positions index no table

    def _shift_right(self, input_ids):
        """Labels -> decoder inputs: decoder_start_token_id first, the rest shifted right, -100 -> pad.

        Example:
            >>> model._shift_right(np.array([[5, 6, -100]]))  # [[0, 5, 6]] for T5
        """
        start, pad = self.config.decoder_start_token_id, self.config.pad_token_id
        if start is None:
            raise ConfigError(
                "config.decoder_start_token_id is not set; T5 uses pad_token_id (0). Set "
                "model.config.decoder_start_token_id to build decoder inputs from labels."
            )
        if pad is None:
            raise ConfigError("config.pad_token_id is not set; set it to replace -100 in the shifted labels.")
        input_ids = ops.cast(input_ids, "int32")
        first = ops.full((ops.shape(input_ids)[0], 1), start, "int32")
        shifted = ops.concatenate([first, input_ids[:, :-1]], axis=1)
        return ops.where(shifted == -100, pad, shifted)

    def prepare_decoder_input_ids_from_labels(self, labels):
        return self._shift_right(labels)

    def init_cache(self, batch_size: int, max_length: int, encoder_hidden_states, dtype=None):
        """The decoder cache of :mod:`kerasformers.generation.seq2seq`'s protocol.

        Per decoder layer ``(self_key, self_value, cross_key, cross_value)``: zeros
        ``(batch_size, heads, max_length, d_kv)`` and the cross-attention keys/values of
        ``encoder_hidden_states`` (computed here, once).

        Example:
            >>> cache = model.init_cache(1, 32, encoder_states)
        """
        config = self.config
        dtype = dtype or self.compute_dtype
        shape = (batch_size, config.num_heads, max_length, config.d_kv)
        cache = []
        for block in self.decoder.block:
            cross_key, cross_value = block.layer[1].EncDecAttention.key_values(encoder_hidden_states)
            cache.append(
                (
                    ops.zeros(shape, dtype),
                    ops.zeros(shape, dtype),
                    ops.cast(cross_key, dtype),
                    ops.cast(cross_value, dtype),
                )
            )
        return tuple(cache)

    def run_encoder_decoder(
        self,
        input_ids,
        attention_mask,
        decoder_input_ids,
        decoder_attention_mask,
        encoder_outputs,
        past_key_values,
        cache_position,
        inputs_embeds,
        decoder_inputs_embeds,
        output_attentions,
        output_hidden_states,
        training,
    ):
        output_attentions = bool(output_attentions or self.config.output_attentions)
        output_hidden_states = bool(output_hidden_states or self.config.output_hidden_states)
        if encoder_outputs is None:
            if inputs_embeds is None:
                self.check_input_ids(input_ids)
            encoder_outputs = self.encoder(
                input_ids,
                attention_mask=attention_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                training=training,
            )
        elif not isinstance(encoder_outputs, Mapping):
            encoder_outputs = TFBaseModelOutput(last_hidden_state=encoder_states(encoder_outputs))
        decoder_outputs = self.decoder(
            decoder_input_ids,
            attention_mask=decoder_attention_mask,
            encoder_hidden_states=encoder_outputs["last_hidden_state"],
            encoder_attention_mask=attention_mask,
            inputs_embeds=decoder_inputs_embeds,
            past_key_values=past_key_values,
            cache_position=cache_position,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        return encoder_outputs, decoder_outputs


class TFT5Model(TFT5PreTrainedModel):
    """The bare T5 encoder-decoder: the decoder's last hidden state (and the encoder's).

    Example:
        >>> model = TFT5Model.from_pretrained("path/to/t5")
        >>> out = model(input_ids=ids, decoder_input_ids=decoder_ids)
        >>> out.last_hidden_state.shape, out.encoder_last_hidden_state.shape
    """

    keys_to_ignore_on_load_unexpected = TFT5PreTrainedModel.keys_to_ignore_on_load_unexpected + (r"^lm_head\.",)

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.shared = WordEmbeddings(
            config.vocab_size,
            config.d_model,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=config.initializer_factor),
            name="shared",
        )
        self.encoder = T5Stack(config, self.shared, is_decoder=False, name="encoder")
        self.decoder = T5Stack(config, self.shared, is_decoder=True, name="decoder")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        decoder_inputs_embeds=None,
        use_cache=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        encoder_outputs, decoder_outputs = self.run_encoder_decoder(
            input_ids,
            attention_mask,
            decoder_input_ids,
            decoder_attention_mask,
            encoder_outputs,
            past_key_values,
            cache_position,
            inputs_embeds,
            decoder_inputs_embeds,
            output_attentions,
            output_hidden_states,
            training,
        )
        return TFSeq2SeqModelOutput(
            last_hidden_state=decoder_outputs.last_hidden_state,
            past_key_values=decoder_outputs.past_key_values,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs["last_hidden_state"],
            encoder_hidden_states=encoder_outputs.get("hidden_states"),
            encoder_attentions=encoder_outputs.get("attentions"),
        )


class TFT5ForConditionalGeneration(GenerationMixin, TFT5PreTrainedModel):
    """T5 with its language-model head; ``generate()`` runs the seq2seq loop (one XLA program).

    ``labels`` give the loss (cross-entropy over the positions whose label is not -100) and, when
    no ``decoder_input_ids`` are given, the decoder inputs: the labels shifted right behind
    ``decoder_start_token_id``, -100 replaced by ``pad_token_id``, as transformers does.

    Example:
        >>> model = TFT5ForConditionalGeneration.from_pretrained("path/to/t5")
        >>> batch = tokenizer(["translate English to German: How old are you?"], return_tensors="np")
        >>> tokenizer.batch_decode(model.generate(**batch, num_beams=4, max_new_tokens=40), skip_special_tokens=True)
        >>> labels = tokenizer(text_target=["Wie alt bist du?"], return_tensors="np").input_ids
        >>> loss = model(**batch, labels=labels).loss
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.shared = WordEmbeddings(
            config.vocab_size,
            config.d_model,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=config.initializer_factor),
            name="shared",
        )
        self.encoder = T5Stack(config, self.shared, is_decoder=False, name="encoder")
        self.decoder = T5Stack(config, self.shared, is_decoder=True, name="decoder")
        if not config.tie_word_embeddings:
            self.lm_head = dense(config.vocab_size, config.initializer_factor, "lm_head")

    @property
    def keys_to_ignore_on_load_unexpected(self):
        ignored = TFT5PreTrainedModel.keys_to_ignore_on_load_unexpected
        # a tied head may still be stored as its own tensor; it is the shared matrix
        return ignored + ((r"^lm_head\.weight$",) if self.config.tie_word_embeddings else ())

    def get_lm_head(self):
        """The untied ``lm_head`` Dense layer, or None when the head is the shared embeddings."""
        return None if self.config.tie_word_embeddings else self.lm_head

    def get_output_embeddings(self):
        return self.shared if self.config.tie_word_embeddings else self.lm_head

    def logits(self, hidden_states):
        if self.config.scale_decoder_outputs:
            hidden_states = hidden_states * (self.config.d_model**-0.5)
        if self.config.tie_word_embeddings:
            return ops.matmul(hidden_states, ops.transpose(ops.cast(self.shared.embeddings, hidden_states.dtype)))
        return self.lm_head(hidden_states)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        encoder_outputs=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        decoder_inputs_embeds=None,
        labels=None,
        use_cache=None,
        output_attentions=None,
        output_hidden_states=None,
        logits_to_keep=0,
        training=False,
    ):
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self._shift_right(labels)
        encoder_outputs, decoder_outputs = self.run_encoder_decoder(
            input_ids,
            attention_mask,
            decoder_input_ids,
            decoder_attention_mask,
            encoder_outputs,
            past_key_values,
            cache_position,
            inputs_embeds,
            decoder_inputs_embeds,
            output_attentions,
            output_hidden_states,
            training,
        )
        hidden = decoder_outputs.last_hidden_state
        if logits_to_keep:  # generation only needs the last position's logits
            hidden = hidden[:, -logits_to_keep:]
        logits = self.logits(hidden)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return TFSeq2SeqLMOutput(
            loss=loss,
            logits=logits,
            past_key_values=decoder_outputs.past_key_values,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs["last_hidden_state"],
            encoder_hidden_states=encoder_outputs.get("hidden_states"),
            encoder_attentions=encoder_outputs.get("attentions"),
        )


class TFT5EncoderModel(TFT5PreTrainedModel):
    """T5's encoder alone (sentence embeddings, T5-based text encoders): ``last_hidden_state``.

    Example:
        >>> model = TFT5EncoderModel.from_pretrained("path/to/t5")
        >>> model(tokenizer(["Hello"], return_tensors="np")).last_hidden_state.shape
    """

    keys_to_ignore_on_load_unexpected = (r"^encoder\.embed_tokens\.weight$", r"^decoder\.", r"^lm_head\.")

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.shared = WordEmbeddings(
            config.vocab_size,
            config.d_model,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=config.initializer_factor),
            name="shared",
        )
        self.encoder = T5Stack(config, self.shared, is_decoder=False, name="encoder")

    @property
    def dummy_inputs(self):
        return {"input_ids": ops.convert_to_tensor([[7, 6, 0, 0, 1], [1, 2, 3, 0, 0]], "int32")}

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        inputs_embeds=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        if inputs_embeds is None:
            self.check_input_ids(input_ids)
        out = self.encoder(
            input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=bool(output_attentions or self.config.output_attentions),
            output_hidden_states=bool(output_hidden_states or self.config.output_hidden_states),
            training=training,
        )
        return TFBaseModelOutput(
            last_hidden_state=out.last_hidden_state, hidden_states=out.hidden_states, attentions=out.attentions
        )


# mT5 runs T5's forward pass under its own names and config (as transformers' TFMT5* classes did).
TFMT5Model = alias_class(TFT5Model, "TFMT5Model", MT5Config)
TFMT5ForConditionalGeneration = alias_class(TFT5ForConditionalGeneration, "TFMT5ForConditionalGeneration", MT5Config)
TFMT5EncoderModel = alias_class(TFT5EncoderModel, "TFMT5EncoderModel", MT5Config)

__all__ = [
    "T5LayerNorm",
    "T5Stack",
    "TFT5PreTrainedModel",
    "TFT5Model",
    "TFT5ForConditionalGeneration",
    "TFT5EncoderModel",
    "TFMT5Model",
    "TFMT5ForConditionalGeneration",
    "TFMT5EncoderModel",
    "relative_position_bucket",
]
