from kerasformers.models.auto import register_auto_classes
from kerasformers.models.bart.configuration_bart import BartConfig
from kerasformers.models.bart.modeling_bart import (
    TFBartForConditionalGeneration,
    TFBartForQuestionAnswering,
    TFBartForSequenceClassification,
    TFBartModel,
    TFBartPreTrainedModel,
    TFBartPretrainedModel,
)
from kerasformers.models.bart.tokenization_bart import BartTokenizer, BartTokenizerFast  # noqa: F401

register_auto_classes(
    "bart",
    base=TFBartModel,
    seq2seq_lm=TFBartForConditionalGeneration,
    sequence_classification=TFBartForSequenceClassification,
    question_answering=TFBartForQuestionAnswering,
    pretraining=TFBartForConditionalGeneration,
    lm_head=TFBartForConditionalGeneration,
)
