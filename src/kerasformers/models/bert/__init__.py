from kerasformers.models.auto import register_auto_classes
from kerasformers.models.bert.configuration_bert import BertConfig
from kerasformers.models.bert.modeling_bert import (
    TFBertForMaskedLM,
    TFBertForMultipleChoice,
    TFBertForQuestionAnswering,
    TFBertForSequenceClassification,
    TFBertForTokenClassification,
    TFBertModel,
    TFBertPreTrainedModel,
)

register_auto_classes(
    "bert",
    base=TFBertModel,
    sequence_classification=TFBertForSequenceClassification,
    token_classification=TFBertForTokenClassification,
    question_answering=TFBertForQuestionAnswering,
    masked_lm=TFBertForMaskedLM,
    multiple_choice=TFBertForMultipleChoice,
)
