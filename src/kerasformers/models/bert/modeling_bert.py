"""BERT in Keras 3: embeddings, encoder, pooler and every task head.

Layer attribute names follow PyTorch transformers' module names, so checkpoint tensors map
onto variables by name (see kerasformers.weights). Where Keras reserves a name ("output"),
``torch_module_names`` says which PyTorch name the attribute stands for.
"""

from __future__ import annotations

import logging
import math

import keras
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import ConfigError
from kerasformers.layers import (
    WordEmbeddings,
    attention_bias,
    classifier_dropout_rate,
    flatten_choices,
    mask_value,
    span_outputs,
)
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.bert.configuration_bert import BertConfig
from kerasformers.outputs import (
    CausalLMOutputWithCrossAttentions,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    NextSentencePredictorOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TFBaseModelOutputWithPoolingAndCrossAttentions,
    TokenClassifierOutput,
)

logger = logging.getLogger("kerasformers")


def dense(units, config, name=None, activation=None):
    init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
    return keras.layers.Dense(units, kernel_initializer=init, activation=activation, name=name)


def layer_norm(config, name="LayerNorm"):
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name=name)


class BertEmbeddings(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
        self.word_embeddings = WordEmbeddings(
            config.vocab_size, config.hidden_size, embeddings_initializer=init, name="word_embeddings"
        )
        self.position_embeddings = keras.layers.Embedding(
            config.max_position_embeddings, config.hidden_size, embeddings_initializer=init, name="position_embeddings"
        )
        self.token_type_embeddings = keras.layers.Embedding(
            config.type_vocab_size, config.hidden_size, embeddings_initializer=init, name="token_type_embeddings"
        )
        self.LayerNorm = layer_norm(config)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def call(self, input_ids, token_type_ids=None, position_ids=None, training=False):
        if position_ids is None:
            position_ids = ops.arange(ops.shape(input_ids)[1])[None, :]
        if token_type_ids is None:
            token_type_ids = ops.zeros_like(input_ids)
        embeddings = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(position_ids)
            + self.token_type_embeddings(token_type_ids)
        )
        return self.dropout(self.LayerNorm(embeddings), training=training)


class BertSelfAttention(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        if config.hidden_size % config.num_attention_heads:
            raise ConfigError(
                f"hidden_size ({config.hidden_size}) must be a multiple of "
                f"num_attention_heads ({config.num_attention_heads})."
            )
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = dense(config.hidden_size, config, "query")
        self.key = dense(config.hidden_size, config, "key")
        self.value = dense(config.hidden_size, config, "value")
        self.dropout = Dropout(config.attention_probs_dropout_prob)

    def split_heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_size)), (0, 2, 1, 3))

    def call(self, hidden_states, bias, output_attentions=False, training=False):
        query = self.split_heads(self.query(hidden_states))
        key = self.split_heads(self.key(hidden_states))
        value = self.split_heads(self.value(hidden_states))
        scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))) / math.sqrt(self.head_size)
        probs = ops.softmax(scores + bias, axis=-1)
        context = ops.matmul(self.dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        return context, (probs if output_attentions else None)


class BertAddAndNorm(keras.layers.Layer):
    """Dense projection, dropout, residual add, LayerNorm (BertSelfOutput and BertOutput)."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense")
        self.dropout = Dropout(config.hidden_dropout_prob)
        self.LayerNorm = layer_norm(config)

    def call(self, hidden_states, residual, training=False):
        return self.LayerNorm(self.dropout(self.dense(hidden_states), training=training) + residual)


class BertAttention(keras.layers.Layer):
    torch_module_names = {"self_attention": "self", "attention_output": "output"}

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attention = BertSelfAttention(config, name="self")
        self.attention_output = BertAddAndNorm(config, name="output")

    def call(self, hidden_states, bias, output_attentions=False, training=False):
        context, probs = self.self_attention(
            hidden_states, bias, output_attentions=output_attentions, training=training
        )
        return self.attention_output(context, hidden_states, training=training), probs


class BertLayer(keras.layers.Layer):
    torch_module_names = {"layer_output": "output"}

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.attention = BertAttention(config, name="attention")
        self.intermediate = BertIntermediate(config, name="intermediate")
        self.layer_output = BertAddAndNorm(config, name="output")

    def call(self, hidden_states, bias, output_attentions=False, training=False):
        attended, probs = self.attention(hidden_states, bias, output_attentions=output_attentions, training=training)
        return self.layer_output(self.intermediate(attended), attended, training=training), probs


class BertIntermediate(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.intermediate_size, config, "dense")
        self.activation = get_activation(config.hidden_act)

    def call(self, hidden_states):
        return self.activation(self.dense(hidden_states))


class BertEncoder(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.layer = [BertLayer(config, name=f"layer_{i}") for i in range(config.num_hidden_layers)]

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


class BertPooler(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense", activation="tanh")

    def call(self, hidden_states):
        return self.dense(hidden_states[:, 0])


class BertMainLayer(keras.layers.Layer):
    """Embeddings, encoder and (optionally) pooler: ``BertModel`` in transformers."""

    embeddings_class = BertEmbeddings  # RoBERTa swaps in its padding-aware positions

    def __init__(self, config, add_pooling_layer=True, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = self.embeddings_class(config, name="embeddings")
        self.encoder = BertEncoder(config, name="encoder")
        self.pooler = BertPooler(config, name="pooler") if add_pooling_layer else None

    def call(
        self,
        input_ids,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        output_attentions = output_attentions or self.config.output_attentions
        output_hidden_states = output_hidden_states or self.config.output_hidden_states
        if attention_mask is None:
            attention_mask = ops.ones_like(input_ids)
        hidden = self.embeddings(input_ids, token_type_ids=token_type_ids, position_ids=position_ids, training=training)
        if getattr(self.config, "is_decoder", False):  # BERT as a decoder (TFBertLMHeadModel): causal mask
            length = ops.shape(input_ids)[1]
            positions = ops.arange(length, dtype="int32")
            causal = positions[None, :] <= positions[:, None]
            keep = ops.logical_and(causal[None, None], ops.cast(attention_mask, "bool")[:, None, None, :])
            bias = ops.where(keep, ops.cast(0.0, hidden.dtype), ops.cast(mask_value(hidden.dtype), hidden.dtype))
        else:
            bias = attention_bias(attention_mask, hidden.dtype)
        hidden, all_hidden, all_attentions = self.encoder(
            hidden,
            bias,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        return TFBaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=hidden,
            pooler_output=self.pooler(hidden) if self.pooler is not None else None,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class TFBertPreTrainedModel(TFPreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"
    pads_inference_to_buckets = True  # masked keys: right padding leaves the real tokens' outputs alone
    # transformers stores the tied MLM decoder, and pre-training checkpoints carry heads a task head drops
    keys_to_ignore_on_load_unexpected = (r"cls\.predictions\.decoder\.", r"position_ids$", r"^cls\.seq_relationship\.")

    def get_lm_head(self):
        """The masked-LM prediction head (transform, tied decoder, output bias), or None for other heads."""
        cls = getattr(self, "cls", None)
        return getattr(cls, "predictions", None)

    def encode(
        self, input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
    ):
        self.check_input_ids(input_ids)
        return self.bert(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )


class TFBertModel(TFBertPreTrainedModel):
    """The bare BERT encoder: last_hidden_state and pooler_output.

    Example:
        >>> model = TFBertModel.from_pretrained("path/to/bert")
        >>> model(tokenizer(["Hello!"], return_tensors="np")).pooler_output
    """

    torch_module_names = {"bert": ""}  # PyTorch's BertModel has no "bert." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, name="bert")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        return self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )


class TFBertForSequenceClassification(TFBertPreTrainedModel):
    """BERT with a classifier on the pooled output (single-label, multi-label or regression).

    Example:
        >>> model = TFBertForSequenceClassification.from_pretrained("path/to/bert", num_labels=3)
        >>> model(batch).logits.shape
        TensorShape([2, 3])
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, name="bert")
        self.dropout = Dropout(classifier_dropout_rate(config))
        self.classifier = dense(config.num_labels, config, "classifier")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        logits = self.classifier(self.dropout(out.pooler_output, training=training))
        loss = None if labels is None else losses.sequence_classification_loss(self.config, labels, logits)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFBertForTokenClassification(TFBertPreTrainedModel):
    """BERT with a per-token classifier (NER, POS). Labels of -100 are ignored by the loss.

    Example:
        >>> model = TFBertForTokenClassification.from_pretrained("path/to/bert", num_labels=9)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, add_pooling_layer=False, name="bert")
        self.dropout = Dropout(classifier_dropout_rate(config))
        self.classifier = dense(config.num_labels, config, "classifier")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        logits = self.classifier(self.dropout(out.last_hidden_state, training=training))
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFBertForQuestionAnswering(TFBertPreTrainedModel):
    """BERT with a span head: start_logits and end_logits over the tokens.

    Example:
        >>> out = TFBertForQuestionAnswering.from_pretrained("path/to/bert")(tokenizer(q, context, return_tensors="np"))
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, add_pooling_layer=False, name="bert")
        self.qa_outputs = dense(config.num_labels, config, "qa_outputs")  # 2: start, end

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        start_positions=None,
        end_positions=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        logits = self.qa_outputs(out.last_hidden_state)
        start_logits, end_logits, loss = span_outputs(logits, start_positions, end_positions)
        return QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )


class BertPredictionHeadTransform(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense")
        self.activation = get_activation(config.hidden_act)
        self.LayerNorm = layer_norm(config)

    def call(self, hidden_states):
        return self.LayerNorm(self.activation(self.dense(hidden_states)))


class BertLMPredictionHead(keras.layers.Layer):
    """Transform, then the decoder tied to the word embeddings, plus an output bias."""

    @property
    def output_embeddings(self):
        """The embedding layer whose matrix is the (tied) decoder."""
        return self._word_embeddings

    def __init__(self, config, word_embeddings, **kwargs):
        super().__init__(**kwargs)
        self.transform = BertPredictionHeadTransform(config, name="transform")
        # Tied to the input embeddings: kept out of Keras' tracking so the matrix has one owner.
        object.__setattr__(self, "_word_embeddings", word_embeddings)
        self.vocab_size = config.vocab_size

    def build(self, input_shape=None):
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, hidden_states):
        hidden_states = self.transform(hidden_states)
        logits = ops.matmul(hidden_states, ops.transpose(self._word_embeddings.embeddings))
        return logits + self.bias


class BertOnlyMLMHead(keras.layers.Layer):
    def __init__(self, config, word_embeddings, **kwargs):
        super().__init__(**kwargs)
        self.predictions = BertLMPredictionHead(config, word_embeddings, name="predictions")

    def call(self, hidden_states):
        return self.predictions(hidden_states)


class TFBertForMaskedLM(TFBertPreTrainedModel):
    """BERT with its masked-language-model head (decoder tied to the input embeddings).

    Example:
        >>> logits = TFBertForMaskedLM.from_pretrained("path/to/bert")(batch).logits
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, add_pooling_layer=False, name="bert")
        self.cls = BertOnlyMLMHead(config, self.bert.embeddings.word_embeddings, name="cls")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        logits = self.cls(out.last_hidden_state)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class TFBertForMultipleChoice(TFBertPreTrainedModel):
    """BERT scoring each of several choices; inputs are (batch, num_choices, sequence_length).

    Example:
        >>> enc = tokenizer([prompt, prompt], [choice0, choice1], return_tensors="np", padding=True)
        >>> model({k: v[None] for k, v in enc.items()}).logits.shape
        TensorShape([1, 2])
    """

    main_input_rank = 3  # (batch_size, num_choices, sequence_length)

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, name="bert")
        self.dropout = Dropout(classifier_dropout_rate(config))
        self.classifier = dense(1, config, "classifier")

    @property
    def dummy_inputs(self):
        return {key: value[:, None, :] for key, value in super().dummy_inputs.items()}

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
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
            flatten_choices(token_type_ids),
            flatten_choices(position_ids),
            output_attentions,
            output_hidden_states,
            training,
        )
        logits = self.classifier(self.dropout(out.pooler_output, training=training))
        logits = ops.reshape(logits, (-1, num_choices))
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class BertPreTrainingHeads(keras.layers.Layer):
    """The masked-LM head and the next-sentence classifier of BERT's pre-training."""

    def __init__(self, config, word_embeddings, **kwargs):
        super().__init__(**kwargs)
        self.predictions = BertLMPredictionHead(config, word_embeddings, name="predictions")
        self.seq_relationship = dense(2, config, "seq_relationship")

    def call(self, sequence_output, pooled_output):
        return self.predictions(sequence_output), self.seq_relationship(pooled_output)


class BertOnlyNSPHead(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.seq_relationship = dense(2, config, "seq_relationship")

    def call(self, pooled_output):
        return self.seq_relationship(pooled_output)


class TFBertForPreTrainingOutput(ModelOutput):
    """Outputs of :class:`TFBertForPreTraining`: MLM logits and next-sentence logits.

    Example:
        >>> out = model(batch)
        >>> out.prediction_logits.shape, out.seq_relationship_logits.shape
    """

    fields = ("loss", "prediction_logits", "seq_relationship_logits", "hidden_states", "attentions")


class TFBertForPreTraining(TFBertPreTrainedModel):
    """BERT with both pre-training heads: masked LM and next-sentence prediction.

    The loss (when both ``labels`` and ``next_sentence_label`` are given) is the masked-LM
    loss plus the next-sentence loss, labels of -100 ignored, as transformers computes it.

    Example:
        >>> model = TFBertForPreTraining.from_pretrained("path/to/bert")
        >>> out = model(tokenizer("A", "B", return_tensors="np"))
        >>> out.prediction_logits.shape, out.seq_relationship_logits.shape
    """

    keys_to_ignore_on_load_unexpected = (r"cls\.predictions\.decoder\.", r"position_ids$")

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, name="bert")
        self.cls = BertPreTrainingHeads(config, self.bert.embeddings.word_embeddings, name="cls")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        next_sentence_label=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        prediction_logits, seq_relationship_logits = self.cls(out.last_hidden_state, out.pooler_output)
        loss = None
        if labels is not None and next_sentence_label is not None:
            loss = losses.masked_sparse_categorical_crossentropy(
                labels, prediction_logits
            ) + losses.masked_sparse_categorical_crossentropy(next_sentence_label, seq_relationship_logits)
        return TFBertForPreTrainingOutput(
            loss=loss,
            prediction_logits=prediction_logits,
            seq_relationship_logits=seq_relationship_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )


class TFBertForNextSentencePrediction(TFBertPreTrainedModel):
    """BERT scoring whether sentence B follows sentence A (logits: 0 = follows, 1 = random).

    The label argument is ``next_sentence_label``, as in transformers' TensorFlow model.

    Example:
        >>> model = TFBertForNextSentencePrediction.from_pretrained("path/to/bert")
        >>> model(tokenizer("The sky is blue.", "It is sunny.", return_tensors="np")).logits.shape
        TensorShape([1, 2])
    """

    keys_to_ignore_on_load_unexpected = (r"^cls\.predictions\.", r"position_ids$")

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.bert = BertMainLayer(config, name="bert")
        self.cls = BertOnlyNSPHead(config, name="cls")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        next_sentence_label=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        logits = self.cls(out.pooler_output)
        loss = None
        if next_sentence_label is not None:
            loss = losses.masked_sparse_categorical_crossentropy(next_sentence_label, logits)
        return NextSentencePredictorOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFBertLMHeadModel(TFBertPreTrainedModel):
    """BERT as a causal decoder (set ``is_decoder=True``): next-token logits, loss on shifted labels.

    Forward pass and loss only: ``generate()`` is not offered (BERT's layers keep no KV cache).

    Example:
        >>> model = TFBertLMHeadModel.from_pretrained("path/to/bert", is_decoder=True)
        >>> out = model(batch, labels=batch["input_ids"])  # labels are shifted inside the model
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        if not getattr(config, "is_decoder", False):
            logger.warning("If you want to use TFBertLMHeadModel as a standalone, add `is_decoder=True`.")
        self.bert = BertMainLayer(config, add_pooling_layer=False, name="bert")
        self.cls = BertOnlyMLMHead(config, self.bert.embeddings.word_embeddings, name="cls")

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        labels=None,
        training=False,
    ):
        out = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
        )
        logits = self.cls(out.last_hidden_state)
        loss = None if labels is None else losses.causal_lm_loss(labels, logits)
        return CausalLMOutputWithCrossAttentions(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
