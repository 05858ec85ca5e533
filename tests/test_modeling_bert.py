import transformers
from model_tester import ModelTesterMixin


class TestBert(ModelTesterMixin):
    torch_config = transformers.BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        type_vocab_size=2,
        num_labels=3,
    )
    input_names = ("input_ids", "attention_mask", "token_type_ids")
    heads = {
        "TFBertModel": "BertModel",
        "TFBertForSequenceClassification": "BertForSequenceClassification",
        "TFBertForTokenClassification": "BertForTokenClassification",
        "TFBertForQuestionAnswering": "BertForQuestionAnswering",
        "TFBertForMaskedLM": "BertForMaskedLM",
        "TFBertForMultipleChoice": "BertForMultipleChoice",
    }
