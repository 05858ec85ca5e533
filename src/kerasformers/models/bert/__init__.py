from kerasformers.models.auto import register_auto_classes
from kerasformers.models.bert.configuration_bert import BertConfig
from kerasformers.models.bert.modeling_bert import (
    TFBertForMaskedLM,
    TFBertForMultipleChoice,
    TFBertForNextSentencePrediction,
    TFBertForPreTraining,
    TFBertForPreTrainingOutput,
    TFBertForQuestionAnswering,
    TFBertForSequenceClassification,
    TFBertForTokenClassification,
    TFBertLMHeadModel,
    TFBertModel,
    TFBertPreTrainedModel,
)
from kerasformers.models.bert.tokenization_bert import BertTokenizer, BertTokenizerFast

register_auto_classes(
    "bert",
    base=TFBertModel,
    sequence_classification=TFBertForSequenceClassification,
    token_classification=TFBertForTokenClassification,
    question_answering=TFBertForQuestionAnswering,
    masked_lm=TFBertForMaskedLM,
    multiple_choice=TFBertForMultipleChoice,
    causal_lm=TFBertLMHeadModel,
    pretraining=TFBertForPreTraining,
    next_sentence_prediction=TFBertForNextSentencePrediction,
    lm_head=TFBertForMaskedLM,
)
