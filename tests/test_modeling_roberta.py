import transformers

from model_tester import ModelTesterMixin


class TestRoberta(ModelTesterMixin):
    torch_config = transformers.RobertaConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=37, max_position_embeddings=64, type_vocab_size=2, num_labels=3,
    )
    input_names = ("input_ids", "attention_mask", "token_type_ids")
    pad_with_pad_token_id = True
    heads = {
        "TFRobertaModel": "RobertaModel",
        "TFRobertaForSequenceClassification": "RobertaForSequenceClassification",
        "TFRobertaForTokenClassification": "RobertaForTokenClassification",
        "TFRobertaForQuestionAnswering": "RobertaForQuestionAnswering",
        "TFRobertaForMaskedLM": "RobertaForMaskedLM",
        "TFRobertaForMultipleChoice": "RobertaForMultipleChoice",
    }


class TestXLMRoberta(ModelTesterMixin):
    # XLM-R checkpoints have one token type and no token_type_ids from their tokenizer
    torch_config = transformers.XLMRobertaConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=37, max_position_embeddings=66, type_vocab_size=1, num_labels=2,
    )
    pad_with_pad_token_id = True
    heads = {
        "TFXLMRobertaModel": "XLMRobertaModel",
        "TFXLMRobertaForSequenceClassification": "XLMRobertaForSequenceClassification",
        "TFXLMRobertaForTokenClassification": "XLMRobertaForTokenClassification",
        "TFXLMRobertaForQuestionAnswering": "XLMRobertaForQuestionAnswering",
        "TFXLMRobertaForMaskedLM": "XLMRobertaForMaskedLM",
        "TFXLMRobertaForMultipleChoice": "XLMRobertaForMultipleChoice",
    }
