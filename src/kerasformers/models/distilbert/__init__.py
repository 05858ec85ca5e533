from kerasformers.models.auto import register_auto_classes
from kerasformers.models.distilbert.configuration_distilbert import DistilBertConfig
from kerasformers.models.distilbert.modeling_distilbert import (
    TFDistilBertForMaskedLM,
    TFDistilBertForMultipleChoice,
    TFDistilBertForQuestionAnswering,
    TFDistilBertForSequenceClassification,
    TFDistilBertForTokenClassification,
    TFDistilBertModel,
    TFDistilBertPreTrainedModel,
)
from kerasformers.models.distilbert.tokenization_distilbert import DistilBertTokenizer, DistilBertTokenizerFast

register_auto_classes(
    "distilbert",
    base=TFDistilBertModel,
    sequence_classification=TFDistilBertForSequenceClassification,
    token_classification=TFDistilBertForTokenClassification,
    question_answering=TFDistilBertForQuestionAnswering,
    masked_lm=TFDistilBertForMaskedLM,
    multiple_choice=TFDistilBertForMultipleChoice,
    pretraining=TFDistilBertForMaskedLM,
    lm_head=TFDistilBertForMaskedLM,
)
