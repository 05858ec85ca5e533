import numpy as np
import pytest
import torch
import transformers
from model_tester import ModelTesterMixin
from tiny_configs import BERT_KWARGS

import kerasformers


class TestRoberta(ModelTesterMixin):
    torch_config = transformers.RobertaConfig(**BERT_KWARGS, type_vocab_size=2, num_labels=3)
    input_names = ("input_ids", "attention_mask", "token_type_ids")
    pad_with_pad_token_id = True
    heads = {
        "TFRobertaModel": "RobertaModel",
        "TFRobertaForSequenceClassification": "RobertaForSequenceClassification",
        "TFRobertaForTokenClassification": "RobertaForTokenClassification",
        "TFRobertaForQuestionAnswering": "RobertaForQuestionAnswering",
        "TFRobertaForMaskedLM": "RobertaForMaskedLM",
        "TFRobertaForMultipleChoice": "RobertaForMultipleChoice",
        "TFRobertaForCausalLM": "RobertaForCausalLM",
    }

    def config_for(self, head):
        config = super().config_for(head)
        config.is_decoder = head == "TFRobertaForCausalLM"  # RoBERTa as a causal decoder
        return config

    def fit_heads(self):
        # the causal LM loss is checked against PyTorch and under XLA; fit() label routing is generic
        return [h for h in self.trainable_heads() if h != "TFRobertaForCausalLM"]


class TestXLMRoberta(ModelTesterMixin):
    # XLM-R checkpoints have one token type and no token_type_ids from their tokenizer
    torch_config = transformers.XLMRobertaConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=66,
        type_vocab_size=1,
        num_labels=2,
    )
    pad_with_pad_token_id = True
    heads = {
        # the other heads are RoBERTa's classes unchanged (see test_xlm_roberta_auto_classes)
        "TFXLMRobertaModel": "XLMRobertaModel",
        "TFXLMRobertaForSequenceClassification": "XLMRobertaForSequenceClassification",
        "TFXLMRobertaForMaskedLM": "XLMRobertaForMaskedLM",
    }


@pytest.mark.parametrize(
    "auto_name, ours",
    [
        ("TFAutoModel", "TFXLMRobertaModel"),
        ("TFAutoModelForSequenceClassification", "TFXLMRobertaForSequenceClassification"),
        ("TFAutoModelForTokenClassification", "TFXLMRobertaForTokenClassification"),
        ("TFAutoModelForQuestionAnswering", "TFXLMRobertaForQuestionAnswering"),
        ("TFAutoModelForMaskedLM", "TFXLMRobertaForMaskedLM"),
        ("TFAutoModelForMultipleChoice", "TFXLMRobertaForMultipleChoice"),
        ("TFAutoModelForCausalLM", "TFXLMRobertaForCausalLM"),
        ("TFAutoModelForPreTraining", "TFXLMRobertaForMaskedLM"),
        ("TFAutoModelWithLMHead", "TFXLMRobertaForMaskedLM"),
    ],
)
def test_xlm_roberta_auto_classes(auto_name, ours):
    """model_type "xlm-roberta" gets the XLM-R classes, which transformers' names on save."""
    config = kerasformers.AutoConfig.for_model("xlm-roberta", **TestXLMRoberta.torch_config.to_dict())
    assert type(config) is kerasformers.XLMRobertaConfig and config.model_type == "xlm-roberta"
    model = getattr(kerasformers, auto_name).from_config(config)
    assert type(model) is getattr(kerasformers, ours)
    assert isinstance(model, kerasformers.TFRobertaPreTrainedModel)
    assert hasattr(transformers, ours.removeprefix("TF"))  # the architecture name save_pretrained writes


def test_position_ids_skip_padding():
    """transformers' create_position_ids_from_input_ids: real tokens from pad+1, padding gets pad."""
    from transformers.models.roberta.modeling_roberta import RobertaEmbeddings

    from kerasformers.models.roberta.modeling_roberta import create_position_ids_from_input_ids

    ids = np.array([[0, 5, 6, 2, 1, 1], [0, 7, 2, 1, 1, 1], [0, 5, 6, 7, 8, 2]])
    theirs = RobertaEmbeddings.create_position_ids_from_input_ids(torch.tensor(ids), padding_idx=1).numpy()
    np.testing.assert_array_equal(np.asarray(create_position_ids_from_input_ids(ids, 1)), theirs)


def test_longest_input_is_two_less_than_position_table():
    """RoBERTa reserves positions 0..pad_token_id: 64 positions hold 62 tokens."""
    model = kerasformers.TFRobertaModel(
        kerasformers.AutoConfig.for_model("roberta", **TestRoberta.torch_config.to_dict())
    )
    model.build_with_dummy_inputs()
    assert model.max_input_length == 62
    model(np.full((1, 62), 5))
    with pytest.raises(ValueError, match="at most 62"):
        model(np.full((1, 63), 5))
