import numpy as np
import transformers
from model_tester import ModelTesterMixin
from tiny_configs import BERT_KWARGS


class TestBert(ModelTesterMixin):
    torch_config = transformers.BertConfig(**BERT_KWARGS, type_vocab_size=2, num_labels=3)
    input_names = ("input_ids", "attention_mask", "token_type_ids")
    heads = {
        "TFBertModel": "BertModel",
        "TFBertForSequenceClassification": "BertForSequenceClassification",
        "TFBertForTokenClassification": "BertForTokenClassification",
        "TFBertForQuestionAnswering": "BertForQuestionAnswering",
        "TFBertForMaskedLM": "BertForMaskedLM",
        "TFBertForMultipleChoice": "BertForMultipleChoice",
        "TFBertForPreTraining": "BertForPreTraining",
        "TFBertForNextSentencePrediction": "BertForNextSentencePrediction",
        "TFBertLMHeadModel": "BertLMHeadModel",
    }

    def config_for(self, head):
        config = super().config_for(head)
        config.is_decoder = head == "TFBertLMHeadModel"  # BERT as a causal decoder
        return config

    def trainable_heads(self):
        return [*super().trainable_heads(), "TFBertLMHeadModel"]  # "LMHeadModel" ends in "Model"

    def fit_heads(self):
        # fit() on one new head is enough (two label arguments); the others' losses are checked against PyTorch
        return [h for h in self.trainable_heads() if h not in ("TFBertForNextSentencePrediction", "TFBertLMHeadModel")]

    def make_labels(self, head, inputs, num_labels):
        next_sentence_label = np.random.RandomState(3).randint(0, 2, (inputs["input_ids"].shape[0],))
        if head == "TFBertForPreTraining":
            return {**super().make_labels("MaskedLM", inputs, num_labels), "next_sentence_label": next_sentence_label}
        if head == "TFBertForNextSentencePrediction":
            return {"next_sentence_label": next_sentence_label}
        return super().make_labels(head.replace("LMHeadModel", "ForCausalLM"), inputs, num_labels)

    def torch_labels(self, head, labels):
        if head == "TFBertForNextSentencePrediction":  # transformers 5.23 (PyTorch) names it labels
            return {"labels": labels["next_sentence_label"]}
        return labels
