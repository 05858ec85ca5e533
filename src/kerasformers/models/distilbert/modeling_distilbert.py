"""DistilBERT in Keras 3: embeddings, transformer blocks and every task head.

Layer attribute names follow PyTorch transformers' module names (``transformer.layer.0.
attention.q_lin``, ``ffn.lin1``, ``sa_layer_norm``...), so checkpoint tensors map onto
variables by name (see kerasformers.weights). DistilBERT has no token types and no pooler;
its heads read the first token's hidden state.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import ConfigError
from kerasformers.layers import WordEmbeddings, attention_bias, flatten_choices, span_outputs
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.distilbert.configuration_distilbert import DistilBertConfig
from kerasformers.outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

LAYER_NORM_EPS = 1e-12  # fixed in DistilBERT, not a config key


def sinusoidal_embeddings(n_pos: int, dim: int) -> np.ndarray:
    """The fixed sin/cos position table DistilBERT uses when ``sinusoidal_pos_embds`` is set.

    Example:
        >>> sinusoidal_embeddings(512, 768).shape
        (512, 768)
    """
    position = np.arange(n_pos)[:, None] / np.power(10000, 2 * (np.arange(dim) // 2) / dim)[None, :]
    table = np.zeros((n_pos, dim), np.float32)
    table[:, 0::2] = np.sin(position[:, 0::2])
    table[:, 1::2] = np.cos(position[:, 1::2])
    return table


def dense(units, config, name=None):
    init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
    return keras.layers.Dense(units, kernel_initializer=init, name=name)


def layer_norm(name):
    return keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPS, name=name)


class Embeddings(keras.layers.Layer):
    """Word + position embeddings (learned, or sinusoidal if the config says so), LayerNorm, dropout."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
        self.word_embeddings = WordEmbeddings(
            config.vocab_size, config.dim, embeddings_initializer=init, name="word_embeddings"
        )
        if config.sinusoidal_pos_embds:
            n_pos, dim = config.max_position_embeddings, config.dim

            def position_init(shape, dtype=None):
                return ops.cast(sinusoidal_embeddings(n_pos, dim), dtype or "float32")
        else:
            position_init = init
        self.position_embeddings = keras.layers.Embedding(
            config.max_position_embeddings, config.dim, embeddings_initializer=position_init, name="position_embeddings"
        )
        self.LayerNorm = layer_norm("LayerNorm")
        self.dropout = Dropout(config.dropout)

    def call(self, input_ids, position_ids=None, training=False):
        if position_ids is None:
            position_ids = ops.arange(ops.shape(input_ids)[1])[None, :]
        embeddings = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings), training=training)


class DistilBertSelfAttention(keras.layers.Layer):
    """Multi-head self-attention with q_lin / k_lin / v_lin / out_lin projections."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        if config.dim % config.n_heads:
            raise ConfigError(f"dim ({config.dim}) must be a multiple of n_heads ({config.n_heads}).")
        self.num_heads = config.n_heads
        self.head_size = config.dim // config.n_heads
        self.q_lin = dense(config.dim, config, "q_lin")
        self.k_lin = dense(config.dim, config, "k_lin")
        self.v_lin = dense(config.dim, config, "v_lin")
        self.out_lin = dense(config.dim, config, "out_lin")
        self.dropout = Dropout(config.attention_dropout)

    def split_heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_size)), (0, 2, 1, 3))

    def call(self, hidden_states, bias, output_attentions=False, training=False):
        query = self.split_heads(self.q_lin(hidden_states))
        key = self.split_heads(self.k_lin(hidden_states))
        value = self.split_heads(self.v_lin(hidden_states))
        scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))) / math.sqrt(self.head_size)
        probs = ops.softmax(scores + bias, axis=-1)
        context = ops.matmul(self.dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        return self.out_lin(context), (probs if output_attentions else None)


class FFN(keras.layers.Layer):
    """lin1, activation, lin2, dropout."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.lin1 = dense(config.hidden_dim, config, "lin1")
        self.lin2 = dense(config.dim, config, "lin2")
        self.activation = get_activation(config.activation)
        self.dropout = Dropout(config.dropout)

    def call(self, hidden_states, training=False):
        return self.dropout(self.lin2(self.activation(self.lin1(hidden_states))), training=training)


class TransformerBlock(keras.layers.Layer):
    """Post-norm block: attention + residual -> sa_layer_norm; ffn + residual -> output_layer_norm."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.attention = DistilBertSelfAttention(config, name="attention")
        self.sa_layer_norm = layer_norm("sa_layer_norm")
        self.ffn = FFN(config, name="ffn")
        self.output_layer_norm = layer_norm("output_layer_norm")

    def call(self, hidden_states, bias, output_attentions=False, training=False):
        attended, probs = self.attention(hidden_states, bias, output_attentions=output_attentions, training=training)
        attended = self.sa_layer_norm(attended + hidden_states)
        return self.output_layer_norm(self.ffn(attended, training=training) + attended), probs


# Copied from kerasformers.models.bert.modeling_bert.BertEncoder with BertEncoder->Transformer, BertLayer->TransformerBlock, num_hidden_layers->n_layers  # noqa: E501
class Transformer(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.layer = [TransformerBlock(config, name=f"layer_{i}") for i in range(config.n_layers)]

    def call(self, hidden_states, bias, output_attentions=False, output_hidden_states=False, training=False):
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for layer in self.layer:
            hidden_states, probs = layer(hidden_states, bias, output_attentions=output_attentions, training=training)
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if output_attentions:
                all_attentions.append(probs)
        return hidden_states, all_hidden, all_attentions


class DistilBertMainLayer(keras.layers.Layer):
    """Embeddings and transformer: ``DistilBertModel`` in transformers."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = Embeddings(config, name="embeddings")
        self.transformer = Transformer(config, name="transformer")

    def call(
        self,
        input_ids,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        output_attentions = output_attentions or self.config.output_attentions
        output_hidden_states = output_hidden_states or self.config.output_hidden_states
        if attention_mask is None:
            attention_mask = ops.ones_like(input_ids)
        hidden = self.embeddings(input_ids, position_ids=position_ids, training=training)
        bias = attention_bias(attention_mask, hidden.dtype)
        hidden, all_hidden, all_attentions = self.transformer(
            hidden,
            bias,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        return BaseModelOutput(
            last_hidden_state=hidden,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class TFDistilBertPreTrainedModel(TFPreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"
    pads_inference_to_buckets = True  # masked keys: right padding leaves the real tokens' outputs alone
    # older checkpoints store the tied projector matrix and the position_ids buffer
    keys_to_ignore_on_load_unexpected = (r"^vocab_projector\.weight$", r"position_ids$")

    def get_lm_head(self):
        """The MLM output layer (tied projector and its bias), or None for other heads."""
        return getattr(self, "vocab_projector", None)

    def encode(self, input_ids, attention_mask, position_ids, output_attentions, output_hidden_states, training):
        self.check_input_ids(input_ids)
        return self.distilbert(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )


class TFDistilBertModel(TFDistilBertPreTrainedModel):
    """The bare DistilBERT encoder: last_hidden_state (no pooler).

    Example:
        >>> model = TFDistilBertModel.from_pretrained("path/to/distilbert")
        >>> model(tokenizer(["Hello!"], return_tensors="np")).last_hidden_state.shape
    """

    torch_module_names = {"distilbert": ""}  # PyTorch's DistilBertModel has no "distilbert." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.distilbert = DistilBertMainLayer(config, name="distilbert")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        return self.encode(input_ids, attention_mask, position_ids, output_attentions, output_hidden_states, training)


class TFDistilBertForSequenceClassification(TFDistilBertPreTrainedModel):
    """DistilBERT with pre_classifier + ReLU + classifier on the first token (single-label,
    multi-label or regression).

    Example:
        >>> model = TFDistilBertForSequenceClassification.from_pretrained("path/to/distilbert", num_labels=3)
        >>> model(batch).logits.shape
        TensorShape([2, 3])
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.distilbert = DistilBertMainLayer(config, name="distilbert")
        self.pre_classifier = dense(config.dim, config, "pre_classifier")
        self.classifier = dense(config.num_labels, config, "classifier")
        self.dropout = Dropout(config.seq_classif_dropout)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(input_ids, attention_mask, position_ids, output_attentions, output_hidden_states, training)
        pooled = ops.relu(self.pre_classifier(out.last_hidden_state[:, 0]))
        logits = self.classifier(self.dropout(pooled, training=training))
        loss = None if labels is None else losses.sequence_classification_loss(self.config, labels, logits)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFDistilBertForTokenClassification(TFDistilBertPreTrainedModel):
    """DistilBERT with a per-token classifier (NER, POS). Labels of -100 are ignored by the loss.

    Example:
        >>> model = TFDistilBertForTokenClassification.from_pretrained("path/to/distilbert", num_labels=9)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.distilbert = DistilBertMainLayer(config, name="distilbert")
        self.dropout = Dropout(config.dropout)
        self.classifier = dense(config.num_labels, config, "classifier")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(input_ids, attention_mask, position_ids, output_attentions, output_hidden_states, training)
        logits = self.classifier(self.dropout(out.last_hidden_state, training=training))
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFDistilBertForQuestionAnswering(TFDistilBertPreTrainedModel):
    """DistilBERT with a span head: start_logits and end_logits over the tokens.

    Example:
        >>> model = TFDistilBertForQuestionAnswering.from_pretrained("path/to/distilbert")
        >>> out = model(tokenizer(q, c, return_tensors="np"))
        >>> out.start_logits.shape
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        if config.num_labels != 2:
            raise ConfigError(
                f"config.num_labels must be 2 (start, end) for question answering, got {config.num_labels}."
            )
        self.distilbert = DistilBertMainLayer(config, name="distilbert")
        self.qa_outputs = dense(config.num_labels, config, "qa_outputs")
        self.dropout = Dropout(config.qa_dropout)

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        start_positions=None,
        end_positions=None,
        training=False,
    ):
        out = self.encode(input_ids, attention_mask, position_ids, output_attentions, output_hidden_states, training)
        logits = self.qa_outputs(self.dropout(out.last_hidden_state, training=training))
        start_logits, end_logits, loss = span_outputs(logits, start_positions, end_positions)
        return QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )


class VocabProjector(keras.layers.Layer):
    """The MLM output layer: its matrix is the (tied) word embeddings, its bias is its own."""

    def __init__(self, config, word_embeddings, **kwargs):
        super().__init__(**kwargs)
        # Tied to the input embeddings: kept out of Keras' tracking so the matrix has one owner.
        object.__setattr__(self, "_word_embeddings", word_embeddings)
        self.vocab_size = config.vocab_size

    @property
    def output_embeddings(self):
        """The embedding layer whose matrix is the (tied) projector."""
        return self._word_embeddings

    def build(self, input_shape=None):
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, hidden_states):
        return ops.matmul(hidden_states, ops.transpose(self._word_embeddings.embeddings)) + self.bias


class TFDistilBertForMaskedLM(TFDistilBertPreTrainedModel):
    """DistilBERT with its masked-language-model head (vocab_projector tied to the input embeddings).

    Example:
        >>> logits = TFDistilBertForMaskedLM.from_pretrained("path/to/distilbert")(batch).logits
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.activation = get_activation(config.activation)
        self.distilbert = DistilBertMainLayer(config, name="distilbert")
        self.vocab_transform = dense(config.dim, config, "vocab_transform")
        self.vocab_layer_norm = layer_norm("vocab_layer_norm")
        self.vocab_projector = VocabProjector(
            config, self.distilbert.embeddings.word_embeddings, name="vocab_projector"
        )

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(input_ids, attention_mask, position_ids, output_attentions, output_hidden_states, training)
        hidden = self.vocab_layer_norm(self.activation(self.vocab_transform(out.last_hidden_state)))
        logits = self.vocab_projector(hidden)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class TFDistilBertForMultipleChoice(TFDistilBertPreTrainedModel):
    """DistilBERT scoring each of several choices; inputs are (batch, num_choices, sequence_length).

    Example:
        >>> enc = tokenizer([prompt, prompt], [choice0, choice1], return_tensors="np", padding=True)
        >>> model({k: v[None] for k, v in enc.items()}).logits.shape
        TensorShape([1, 2])
    """

    main_input_rank = 3  # (batch_size, num_choices, sequence_length)

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.distilbert = DistilBertMainLayer(config, name="distilbert")
        self.pre_classifier = dense(config.dim, config, "pre_classifier")
        self.classifier = dense(1, config, "classifier")
        self.dropout = Dropout(config.seq_classif_dropout)

    @property
    def dummy_inputs(self):
        return {key: value[:, None, :] for key, value in super().dummy_inputs.items()}

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        self.check_input_ids(input_ids, rank=3)
        num_choices = ops.shape(input_ids)[1]

        out = self.encode(
            flatten_choices(input_ids),
            flatten_choices(attention_mask),
            flatten_choices(position_ids),
            output_attentions,
            output_hidden_states,
            training,
        )
        pooled = ops.relu(self.pre_classifier(out.last_hidden_state[:, 0]))
        logits = self.classifier(self.dropout(pooled, training=training))
        logits = ops.reshape(logits, (-1, num_choices))
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
