"""RoBERTa (and XLM-RoBERTa) in Keras 3: what differs from BERT, and every task head.

The encoder is BERT's (imported from modeling_bert). RoBERTa differs in its embeddings
(position ids count real tokens from ``pad_token_id + 1``; padding tokens get position
``pad_token_id``), its sequence-classification head (dense + tanh + out_proj on ``<s>``),
its LM head (dense, gelu, layer_norm, decoder tied to the word embeddings, plus a bias)
and the ``roberta.`` prefix of its weight names. XLM-RoBERTa is the same code under its
own model_type and class names.
"""

from __future__ import annotations

import logging

import keras
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.layers import classifier_dropout_rate, flatten_choices, span_outputs
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel, alias_class
from kerasformers.models.bert.modeling_bert import BertEmbeddings, BertMainLayer, dense, layer_norm
from kerasformers.models.roberta.configuration_roberta import RobertaConfig, XLMRobertaConfig
from kerasformers.outputs import (
    CausalLMOutputWithCrossAttentions,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

logger = logging.getLogger("kerasformers")


def create_position_ids_from_input_ids(input_ids, padding_idx: int):
    """Positions of real tokens count from ``padding_idx + 1``; padding tokens get ``padding_idx``.

    Example:
        >>> create_position_ids_from_input_ids(np.array([[0, 5, 6, 2, 1, 1]]), padding_idx=1)
        [[2, 3, 4, 5, 1, 1]]
    """
    mask = ops.cast(ops.not_equal(input_ids, padding_idx), "int32")
    return ops.cumsum(mask, axis=1) * mask + padding_idx


class RobertaEmbeddings(BertEmbeddings):
    """BERT's embeddings, with position ids counted from ``pad_token_id + 1`` (padding gets ``pad_token_id``)."""

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.padding_idx = config.pad_token_id

    def call(self, input_ids, token_type_ids=None, position_ids=None, training=False):
        if position_ids is None:
            position_ids = create_position_ids_from_input_ids(input_ids, self.padding_idx)
        return super().call(input_ids, token_type_ids=token_type_ids, position_ids=position_ids, training=training)


class RobertaMainLayer(BertMainLayer):
    """BERT's embeddings (with RoBERTa's positions), encoder and pooler: ``RobertaModel`` in transformers."""

    embeddings_class = RobertaEmbeddings


class TFRobertaPreTrainedModel(TFPreTrainedModel):
    config_class = RobertaConfig
    base_model_prefix = "roberta"
    pads_inference_to_buckets = True  # masked keys: right padding leaves the real tokens' outputs alone
    # older checkpoints store the tied decoder (weight and bias) and the position_ids buffer
    keys_to_ignore_on_load_unexpected = (r"lm_head\.decoder\.", r"position_ids$", r"token_type_ids$")

    @property
    def max_input_length(self) -> int:
        # positions start at pad_token_id + 1, so the last usable one is max_position_embeddings - 1
        return self.config.max_position_embeddings - self.config.pad_token_id - 1

    def get_lm_head(self):
        """The LM head (dense, layer_norm, tied decoder, output bias), or None for other heads."""
        return getattr(self, "lm_head", None)

    def encode(
        self, input_ids, attention_mask, token_type_ids, position_ids, output_attentions, output_hidden_states, training
    ):
        self.check_input_ids(input_ids)
        return self.roberta(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )


class TFRobertaModel(TFRobertaPreTrainedModel):
    """The bare RoBERTa encoder: last_hidden_state and pooler_output.

    Example:
        >>> model = TFRobertaModel.from_pretrained("path/to/roberta")
        >>> model(tokenizer(["Hello!"], return_tensors="np")).last_hidden_state.shape
    """

    torch_module_names = {"roberta": ""}  # PyTorch's RobertaModel has no "roberta." prefix

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.roberta = RobertaMainLayer(config, name="roberta")

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


class RobertaClassificationHead(keras.layers.Layer):
    """Sentence-level head on the ``<s>`` token: dropout, dense, tanh, dropout, out_proj."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense")
        self.dropout = Dropout(classifier_dropout_rate(config))
        self.out_proj = dense(config.num_labels, config, "out_proj")

    def call(self, hidden_states, training=False):
        x = self.dropout(hidden_states[:, 0], training=training)
        x = ops.tanh(self.dense(x))
        return self.out_proj(self.dropout(x, training=training))


class TFRobertaForSequenceClassification(TFRobertaPreTrainedModel):
    """RoBERTa with its classification head (single-label, multi-label or regression).

    Example:
        >>> model = TFRobertaForSequenceClassification.from_pretrained("path/to/roberta", num_labels=3)
        >>> model(batch).logits.shape
        TensorShape([2, 3])
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.roberta = RobertaMainLayer(config, add_pooling_layer=False, name="roberta")
        self.classifier = RobertaClassificationHead(config, name="classifier")

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
        logits = self.classifier(out.last_hidden_state, training=training)
        loss = None if labels is None else losses.sequence_classification_loss(self.config, labels, logits)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFRobertaForTokenClassification(TFRobertaPreTrainedModel):
    """RoBERTa with a per-token classifier (NER, POS). Labels of -100 are ignored by the loss.

    Example:
        >>> model = TFRobertaForTokenClassification.from_pretrained("path/to/roberta", num_labels=9)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.roberta = RobertaMainLayer(config, add_pooling_layer=False, name="roberta")
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


class TFRobertaForQuestionAnswering(TFRobertaPreTrainedModel):
    """RoBERTa with a span head: start_logits and end_logits over the tokens.

    Example:
        >>> out = TFRobertaForQuestionAnswering.from_pretrained("path/to/roberta")(tokenizer(q, c, return_tensors="np"))
        >>> out.start_logits.shape, out.end_logits.shape
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.roberta = RobertaMainLayer(config, add_pooling_layer=False, name="roberta")
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


class RobertaLMHead(keras.layers.Layer):
    """dense, gelu, layer_norm, then the decoder tied to the word embeddings plus a bias."""

    def __init__(self, config, word_embeddings, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense")
        self.layer_norm = layer_norm(config, name="layer_norm")
        self.activation = get_activation("gelu")
        # Tied to the input embeddings: kept out of Keras' tracking so the matrix has one owner.
        object.__setattr__(self, "_word_embeddings", word_embeddings)
        self.vocab_size = config.vocab_size

    @property
    def output_embeddings(self):
        """The embedding layer whose matrix is the (tied) decoder."""
        return self._word_embeddings

    def build(self, input_shape=None):
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, hidden_states):
        x = self.layer_norm(self.activation(self.dense(hidden_states)))
        return ops.matmul(x, ops.transpose(self._word_embeddings.embeddings)) + self.bias


class TFRobertaForMaskedLM(TFRobertaPreTrainedModel):
    """RoBERTa with its masked-language-model head (decoder tied to the input embeddings).

    Example:
        >>> logits = TFRobertaForMaskedLM.from_pretrained("path/to/roberta")(batch).logits
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.roberta = RobertaMainLayer(config, add_pooling_layer=False, name="roberta")
        self.lm_head = RobertaLMHead(config, self.roberta.embeddings.word_embeddings, name="lm_head")

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
        logits = self.lm_head(out.last_hidden_state)
        loss = None if labels is None else losses.masked_sparse_categorical_crossentropy(labels, logits)
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class TFRobertaForCausalLM(TFRobertaPreTrainedModel):
    """RoBERTa as a causal decoder (set ``is_decoder=True``): next-token logits, loss on shifted labels.

    Forward pass and loss only: ``generate()`` is not offered (the encoder layers keep no KV cache).

    Example:
        >>> model = TFRobertaForCausalLM.from_pretrained("path/to/roberta", is_decoder=True)
        >>> out = model(batch, labels=batch["input_ids"])  # labels are shifted inside the model
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        if not getattr(config, "is_decoder", False):
            logger.warning("If you want to use TFRobertaForCausalLM as a standalone, add `is_decoder=True`.")
        self.roberta = RobertaMainLayer(config, add_pooling_layer=False, name="roberta")
        self.lm_head = RobertaLMHead(config, self.roberta.embeddings.word_embeddings, name="lm_head")

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
        logits = self.lm_head(out.last_hidden_state)
        loss = None if labels is None else losses.causal_lm_loss(labels, logits)
        return CausalLMOutputWithCrossAttentions(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class TFRobertaForMultipleChoice(TFRobertaPreTrainedModel):
    """RoBERTa scoring each of several choices; inputs are (batch, num_choices, sequence_length).

    Example:
        >>> enc = tokenizer([prompt, prompt], [choice0, choice1], return_tensors="np", padding=True)
        >>> model({k: v[None] for k, v in enc.items()}).logits.shape
        TensorShape([1, 2])
    """

    main_input_rank = 3  # (batch_size, num_choices, sequence_length)

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.roberta = RobertaMainLayer(config, name="roberta")
        self.dropout = Dropout(config.hidden_dropout_prob)
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


# XLM-RoBERTa runs RoBERTa's forward pass under its own name and config (as Mistral and Qwen2 run
# Llama's); save_pretrained writes its own class names.
TFXLMRobertaPreTrainedModel = alias_class(TFRobertaPreTrainedModel, "TFXLMRobertaPreTrainedModel", XLMRobertaConfig)
TFXLMRobertaModel = alias_class(TFRobertaModel, "TFXLMRobertaModel", XLMRobertaConfig)
TFXLMRobertaForSequenceClassification = alias_class(
    TFRobertaForSequenceClassification, "TFXLMRobertaForSequenceClassification", XLMRobertaConfig
)
TFXLMRobertaForTokenClassification = alias_class(
    TFRobertaForTokenClassification, "TFXLMRobertaForTokenClassification", XLMRobertaConfig
)
TFXLMRobertaForQuestionAnswering = alias_class(
    TFRobertaForQuestionAnswering, "TFXLMRobertaForQuestionAnswering", XLMRobertaConfig
)
TFXLMRobertaForCausalLM = alias_class(TFRobertaForCausalLM, "TFXLMRobertaForCausalLM", XLMRobertaConfig)
TFXLMRobertaForMaskedLM = alias_class(TFRobertaForMaskedLM, "TFXLMRobertaForMaskedLM", XLMRobertaConfig)
TFXLMRobertaForMultipleChoice = alias_class(
    TFRobertaForMultipleChoice, "TFXLMRobertaForMultipleChoice", XLMRobertaConfig
)
