"""GPT-2 in Keras 3: learned positions, pre-norm blocks, Conv1D projections, tied LM head.

GPT-2's ``Conv1D`` stores its weight as (in, out), the layout Keras uses, so :class:`Conv1D`
keeps a plain ``weight`` variable and the checkpoint tensor loads without a transpose.
Layer attribute names follow PyTorch's module names (``transformer.h.0.attn.c_attn``).

The static KV cache (used by kerasformers.generation) works as in the Llama file:
``past_key_values`` holds per layer ``(key, value)`` of (batch, heads, max_length, head_dim),
``cache_position`` is where this call's tokens go and ``attention_mask`` covers cache slots.

With ``config.add_cross_attention`` each block also attends to ``encoder_hidden_states`` (a
VisionEncoderDecoder's image states); a cache entry is then ``(key, value, cross_key, cross_value)``,
the cross keys/values computed once (:meth:`GPT2CrossAttention.key_value`) and returned unchanged.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import InvalidInputError
from kerasformers.generation import GenerationMixin
from kerasformers.layers import TFSequenceSummary, WordEmbeddings, flatten_choices, last_non_pad_logits, mask_value
from kerasformers.layers.dropout import Dropout
from kerasformers.layers.tied_head import tied_logits
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.gpt2.configuration_gpt2 import GPT2Config
from kerasformers.outputs import (
    ModelOutput,
    SequenceClassifierOutputWithPast,
    TFBaseModelOutputWithPastAndCrossAttentions,
    TFCausalLMOutputWithCrossAttentions,
)


class Conv1D(keras.layers.Layer):
    """A dense layer whose weight is stored (in_features, out_features), as in GPT-2 checkpoints."""

    def __init__(self, nf, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.nf = nf
        self.initializer_range = initializer_range

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=self.initializer_range)
        self.weight = self.add_weight(shape=(input_shape[-1], self.nf), initializer=init, name="weight")
        self.bias = self.add_weight(shape=(self.nf,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x):
        return ops.matmul(x, self.weight) + self.bias


def layer_norm(config, name):
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_epsilon, name=name)


class GPT2Attention(keras.layers.Layer):
    def __init__(self, config, layer_idx, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = config.n_head
        self.head_dim = config.n_embd // config.n_head
        if self.head_dim * self.num_heads != config.n_embd:
            raise InvalidInputError(f"n_embd ({config.n_embd}) must be a multiple of n_head ({config.n_head}).")
        self.scale = (self.head_dim**-0.5) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scale /= float(layer_idx + 1)
        self.c_attn = Conv1D(3 * config.n_embd, config.initializer_range, name="c_attn")
        self.c_proj = Conv1D(config.n_embd, config.initializer_range, name="c_proj")
        self.attn_dropout = Dropout(config.attn_pdrop)
        self.resid_dropout = Dropout(config.resid_pdrop)

    def _heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def call(
        self,
        hidden_states,
        keep,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
    ):
        query, key, value = ops.split(self.c_attn(hidden_states), 3, axis=-1)
        query, key, value = self._heads(query), self._heads(key), self._heads(value)
        if cache_key is not None:
            start = (0, 0, cache_position, 0)
            key = ops.slice_update(cache_key, start, ops.cast(key, cache_key.dtype))
            value = ops.slice_update(cache_value, start, ops.cast(value, cache_value.dtype))
        new_cache = (key, value) if cache_key is not None else None
        scores = ops.cast(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), "float32") * self.scale
        scores = ops.where(keep, scores, mask_value("float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        context = ops.matmul(self.attn_dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        output = self.resid_dropout(self.c_proj(context), training=training)
        return output, new_cache, (probs if output_attentions else None)


class GPT2CrossAttention(keras.layers.Layer):
    """Attention from the decoder's tokens to encoder states (``config.add_cross_attention``), no mask but padding."""

    def __init__(self, config, layer_idx, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.scale = (self.head_dim**-0.5) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scale /= float(layer_idx + 1)
        self.c_attn = Conv1D(2 * config.n_embd, config.initializer_range, name="c_attn")  # keys and values
        self.q_attn = Conv1D(config.n_embd, config.initializer_range, name="q_attn")
        self.c_proj = Conv1D(config.n_embd, config.initializer_range, name="c_proj")
        self.attn_dropout = Dropout(config.attn_pdrop)
        self.resid_dropout = Dropout(config.resid_pdrop)

    def _heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def key_value(self, encoder_hidden_states):
        """The encoder states' (key, value), each (batch, heads, source_length, head_dim)."""
        key, value = ops.split(self.c_attn(encoder_hidden_states), 2, axis=-1)
        return self._heads(key), self._heads(value)

    def call(self, hidden_states, key, value, encoder_keep=None, output_attentions=False, training=False):
        query = self._heads(self.q_attn(hidden_states))
        scores = ops.cast(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), "float32") * self.scale
        if encoder_keep is not None:
            scores = ops.where(encoder_keep, scores, mask_value("float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        context = ops.matmul(self.attn_dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        output = self.resid_dropout(self.c_proj(context), training=training)
        return output, (probs if output_attentions else None)


class GPT2MLP(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.c_fc = Conv1D(inner, config.initializer_range, name="c_fc")
        self.c_proj = Conv1D(config.n_embd, config.initializer_range, name="c_proj")
        self.act = get_activation(config.activation_function)
        self.dropout = Dropout(config.resid_pdrop)

    def call(self, x, training=False):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))), training=training)


class GPT2Block(keras.layers.Layer):
    def __init__(self, config, layer_idx, **kwargs):
        super().__init__(**kwargs)
        self.ln_1 = layer_norm(config, "ln_1")
        self.attn = GPT2Attention(config, layer_idx, name="attn")
        self.ln_2 = layer_norm(config, "ln_2")
        self.mlp = GPT2MLP(config, name="mlp")
        if getattr(config, "add_cross_attention", False):
            self.crossattention = GPT2CrossAttention(config, layer_idx, name="crossattention")
            self.ln_cross_attn = layer_norm(config, "ln_cross_attn")

    def call(
        self,
        hidden_states,
        keep,
        cache_key=None,
        cache_value=None,
        cache_position=None,
        output_attentions=False,
        training=False,
        cross_key_value=None,
        encoder_keep=None,
    ):
        attended, new_cache, probs = self.attn(
            self.ln_1(hidden_states),
            keep,
            cache_key=cache_key,
            cache_value=cache_value,
            cache_position=cache_position,
            output_attentions=output_attentions,
            training=training,
        )
        hidden_states = hidden_states + attended
        cross_probs = None
        if cross_key_value is not None:
            crossed, cross_probs = self.crossattention(
                self.ln_cross_attn(hidden_states),
                *cross_key_value,
                encoder_keep=encoder_keep,
                output_attentions=output_attentions,
                training=training,
            )
            hidden_states = hidden_states + crossed
        hidden_states = hidden_states + self.mlp(self.ln_2(hidden_states), training=training)
        if cross_key_value is not None:
            return hidden_states, new_cache, probs, cross_probs
        return hidden_states, new_cache, probs


class GPT2MainLayer(keras.layers.Layer):
    """Token and position embeddings, the blocks and the final LayerNorm: ``GPT2Model`` in transformers."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.RandomNormal(stddev=config.initializer_range)
        self.wte = WordEmbeddings(config.vocab_size, config.n_embd, embeddings_initializer=init, name="wte")
        self.wpe = keras.layers.Embedding(config.n_positions, config.n_embd, embeddings_initializer=init, name="wpe")
        self.drop = Dropout(config.embd_pdrop)
        self.h = [GPT2Block(config, i, name=f"h_{i}") for i in range(config.n_layer)]
        self.ln_f = layer_norm(config, "ln_f")

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
        encoder_hidden_states=None,
        encoder_attention_mask=None,
    ):
        hidden = self.wte(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = ops.shape(hidden)[0], ops.shape(hidden)[1]
        start = ops.convert_to_tensor(0 if cache_position is None else cache_position, "int32")
        query_index = start + ops.arange(length, dtype="int32")
        if position_ids is None:
            position_ids = ops.broadcast_to(query_index[None, :], (batch, length))
        hidden = self.drop(hidden + self.wpe(position_ids), training=training)
        key_count = length if past_key_values is None else ops.shape(past_key_values[0][0])[2]
        if attention_mask is None:
            attention_mask = ops.ones((batch, key_count), "int32")
        causal = ops.arange(key_count, dtype="int32")[None, :] <= query_index[:, None]
        keep = ops.logical_and(causal[None, None], ops.cast(attention_mask, "bool")[:, None, None, :])

        # cross-attention (add_cross_attention): keys/values from the cache, else from encoder_hidden_states
        crossing = encoder_hidden_states is not None or (past_key_values is not None and len(past_key_values[0]) == 4)
        encoder_keep = None
        if crossing and encoder_attention_mask is not None:
            encoder_keep = ops.cast(encoder_attention_mask, "bool")[:, None, None, :]
        all_hidden = [] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        all_cross = [] if output_attentions and crossing else None
        new_cache = [] if past_key_values is not None else None
        for index, block in enumerate(self.h):
            if output_hidden_states:
                all_hidden.append(hidden)
            cache_key, cache_value = past_key_values[index][:2] if past_key_values is not None else (None, None)
            cross_key_value = None
            if crossing:
                if past_key_values is not None and len(past_key_values[index]) == 4:
                    cross_key_value = tuple(past_key_values[index][2:])
                else:
                    cross_key_value = block.crossattention.key_value(encoder_hidden_states)
            hidden, layer_cache, probs, *cross_probs = block(
                hidden,
                keep,
                cache_key=cache_key,
                cache_value=cache_value,
                cache_position=start,
                output_attentions=output_attentions,
                training=training,
                cross_key_value=cross_key_value,
                encoder_keep=encoder_keep,
            )
            if new_cache is not None:
                new_cache.append(layer_cache if cross_key_value is None else (*layer_cache, *cross_key_value))
            if output_attentions:
                all_attentions.append(probs)
                if all_cross is not None:
                    all_cross.append(cross_probs[0])
        hidden = self.ln_f(hidden)
        if output_hidden_states:
            all_hidden.append(hidden)
        return TFBaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden,
            past_key_values=tuple(new_cache) if new_cache is not None else None,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
            cross_attentions=tuple(all_cross) if all_cross else None,
        )


class TFGPT2PreTrainedModel(TFPreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # causal-mask buffers that older checkpoints saved, and the tied head's copy
    keys_to_ignore_on_load_unexpected = (
        r"\.attn\.bias$",
        r"\.attn\.masked_bias$",
        r"\.crossattention\.bias$",
        r"\.crossattention\.masked_bias$",
        r"^lm_head\.weight$",
    )

    def get_input_embeddings(self):
        return self.transformer.wte

    @property
    def dummy_inputs(self):
        inputs = super().dummy_inputs
        if getattr(self.config, "add_cross_attention", False) and "encoder_hidden_states" in self._call_parameters():
            batch = inputs["input_ids"].shape[0]  # encoder states build the cross-attention layers
            inputs["encoder_hidden_states"] = keras.ops.zeros((batch, 2, self.config.n_embd))
        return inputs

    def init_cache(self, batch_size: int, max_length: int, dtype=None):
        """A zeroed static KV cache: per layer (key, value), (batch, heads, max_length, head_dim).

        Example:
            >>> cache = model.init_cache(2, 64)
        """
        config = self.config
        shape = (batch_size, config.n_head, max_length, config.n_embd // config.n_head)
        dtype = dtype or self.compute_dtype
        return tuple((ops.zeros(shape, dtype), ops.zeros(shape, dtype)) for _ in range(config.n_layer))

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
        encoder_hidden_states=None,
        encoder_attention_mask=None,
    ):
        if inputs_embeds is None:
            self.check_input_ids(input_ids)
        return self.transformer(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            cache_position=cache_position,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions or self.config.output_attentions,
            output_hidden_states=output_hidden_states or self.config.output_hidden_states,
            training=training,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
        )


class TFGPT2Model(TFGPT2PreTrainedModel):
    """The bare GPT-2 transformer: last_hidden_state after the final LayerNorm.

    Example:
        >>> model = TFGPT2Model.from_pretrained("path/to/gpt2")
        >>> model(tokenizer(["Hello"], return_tensors="np")).last_hidden_state.shape
    """

    torch_module_names = {"transformer": ""}  # PyTorch's GPT2Model has no "transformer." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.transformer = GPT2MainLayer(config, name="transformer")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
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
            encoder_hidden_states,
            encoder_attention_mask,
        )


class TFGPT2LMHeadModel(GenerationMixin, TFGPT2PreTrainedModel):
    """GPT-2 with its language-model head, tied to the token embeddings; ``generate()`` included.

    Example:
        >>> model = TFGPT2LMHeadModel.from_pretrained("path/to/gpt2")
        >>> ids = model.generate(**tokenizer(["Hello"], return_tensors="np"), max_new_tokens=8)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.transformer = GPT2MainLayer(config, name="transformer")

    def get_output_embeddings(self):
        return self.get_input_embeddings()  # the head is the tied token embeddings

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        cache_position=None,
        inputs_embeds=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
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
            encoder_hidden_states,
            encoder_attention_mask,
        )
        hidden = out.last_hidden_state
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        logits = tied_logits(hidden, self.transformer.wte.embeddings, training=training)
        loss = None if labels is None else losses.causal_lm_loss(labels, logits)
        return TFCausalLMOutputWithCrossAttentions(
            loss=loss,
            logits=logits,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
            cross_attentions=out.cross_attentions,
        )


class TFGPT2ForSequenceClassification(TFGPT2PreTrainedModel):
    """GPT-2 scoring the last non-pad token of each sequence.

    Example:
        >>> model = TFGPT2ForSequenceClassification.from_pretrained("path/to/gpt2", num_labels=2)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.transformer = GPT2MainLayer(config, name="transformer")
        init = keras.initializers.RandomNormal(stddev=config.initializer_range)
        self.score = keras.layers.Dense(config.num_labels, use_bias=False, kernel_initializer=init, name="score")

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


class TFGPT2DoubleHeadsModelOutput(ModelOutput):
    """Outputs of :class:`TFGPT2DoubleHeadsModel`: LM logits per choice and one score per choice.

    Example:
        >>> out = model(input_ids, mc_token_ids=mc_token_ids)
        >>> out.logits.shape, out.mc_logits.shape  # (batch, choices, length, vocab), (batch, choices)
    """

    fields = ("loss", "mc_loss", "logits", "mc_logits", "past_key_values", "hidden_states", "attentions")


class TFGPT2DoubleHeadsModel(TFGPT2PreTrainedModel):
    """GPT-2 with its LM head and a multiple-choice head on the token at ``mc_token_ids``.

    Inputs are (batch, num_choices, sequence_length). ``mc_token_ids`` (batch, num_choices) says
    which token of each choice the multiple-choice head reads (the last one when None).
    ``labels`` give the next-token loss (shifted inside, -100 ignored) and ``mc_labels`` the
    multiple-choice loss: ``mc_loss`` is that loss alone, ``loss`` the sum of the losses whose
    labels were given (what compile() without a loss trains on). Hidden states and attentions
    keep the choice axis, as transformers' TensorFlow model returned them.

    Example:
        >>> model = TFGPT2DoubleHeadsModel.from_pretrained("path/to/gpt2")
        >>> out = model(input_ids[None], mc_token_ids=np.array([[5, 7]]))
        >>> out.mc_logits.shape
        TensorShape([1, 2])
    """

    main_input_rank = 3  # (batch_size, num_choices, sequence_length)

    def __init__(self, config, **kwargs):
        config.num_labels = 1  # one score per choice, as transformers sets it
        super().__init__(config, **kwargs)
        self.transformer = GPT2MainLayer(config, name="transformer")
        self.multiple_choice_head = TFSequenceSummary(
            config, initializer_range=config.initializer_range, name="multiple_choice_head"
        )

    @property
    def dummy_inputs(self):
        return {key: value[:, None, :] for key, value in super().dummy_inputs.items()}

    def get_output_embeddings(self):
        return self.get_input_embeddings()

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        mc_token_ids=None,
        labels=None,
        mc_labels=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        if inputs_embeds is None:
            self.check_input_ids(input_ids, rank=3)
            choices_shape = ops.shape(input_ids)
            flat_embeds = None
        else:
            choices_shape = ops.shape(inputs_embeds)[:-1]
            flat_embeds = ops.reshape(inputs_embeds, (-1, choices_shape[-1], ops.shape(inputs_embeds)[-1]))
        out = self.decode(
            flatten_choices(input_ids),
            flatten_choices(attention_mask),
            flatten_choices(position_ids),
            None,
            None,
            flat_embeds,
            output_attentions,
            output_hidden_states,
            training,
        )
        batch, num_choices = choices_shape[0], choices_shape[1]

        def unflatten(x):  # (batch * num_choices, ...) -> (batch, num_choices, ...)
            return ops.reshape(x, (batch, num_choices, *ops.shape(x)[1:]))

        flat_logits = ops.matmul(out.last_hidden_state, ops.transpose(self.transformer.wte.embeddings))
        lm_loss = None if labels is None else losses.causal_lm_loss(flatten_choices(labels), flat_logits)
        hidden = unflatten(out.last_hidden_state)
        mc_logits = ops.squeeze(self.multiple_choice_head(hidden, cls_index=mc_token_ids, training=training), -1)
        mc_loss = None if mc_labels is None else losses.masked_sparse_categorical_crossentropy(mc_labels, mc_logits)
        given = [x for x in (lm_loss, mc_loss) if x is not None]
        return TFGPT2DoubleHeadsModelOutput(
            loss=(given[0] if len(given) == 1 else given[0] + given[1]) if given else None,
            mc_loss=mc_loss,
            logits=unflatten(flat_logits),
            mc_logits=mc_logits,
            hidden_states=tuple(unflatten(h) for h in out.hidden_states) if out.hidden_states else None,
            attentions=tuple(unflatten(a) for a in out.attentions) if out.attentions else None,
        )
