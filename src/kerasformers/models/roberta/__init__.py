from kerasformers.models.auto import register_auto_classes
from kerasformers.models.roberta.configuration_roberta import RobertaConfig, XLMRobertaConfig
from kerasformers.models.roberta.modeling_roberta import (
    TFRobertaForMaskedLM,
    TFRobertaForMultipleChoice,
    TFRobertaForQuestionAnswering,
    TFRobertaForSequenceClassification,
    TFRobertaForTokenClassification,
    TFRobertaModel,
    TFRobertaPreTrainedModel,
    TFXLMRobertaForMaskedLM,
    TFXLMRobertaForMultipleChoice,
    TFXLMRobertaForQuestionAnswering,
    TFXLMRobertaForSequenceClassification,
    TFXLMRobertaForTokenClassification,
    TFXLMRobertaModel,
    TFXLMRobertaPreTrainedModel,
)

register_auto_classes(
    "roberta",
    base=TFRobertaModel,
    sequence_classification=TFRobertaForSequenceClassification,
    token_classification=TFRobertaForTokenClassification,
    question_answering=TFRobertaForQuestionAnswering,
    masked_lm=TFRobertaForMaskedLM,
    multiple_choice=TFRobertaForMultipleChoice,
)
register_auto_classes(
    "xlm-roberta",
    base=TFXLMRobertaModel,
    sequence_classification=TFXLMRobertaForSequenceClassification,
    token_classification=TFXLMRobertaForTokenClassification,
    question_answering=TFXLMRobertaForQuestionAnswering,
    masked_lm=TFXLMRobertaForMaskedLM,
    multiple_choice=TFXLMRobertaForMultipleChoice,
)
