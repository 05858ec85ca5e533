from kerasformers.models.auto import register_auto_classes
from kerasformers.models.roberta.configuration_roberta import RobertaConfig, XLMRobertaConfig
from kerasformers.models.roberta.modeling_roberta import (
    TFRobertaForCausalLM,
    TFRobertaForMaskedLM,
    TFRobertaForMultipleChoice,
    TFRobertaForQuestionAnswering,
    TFRobertaForSequenceClassification,
    TFRobertaForTokenClassification,
    TFRobertaModel,
    TFRobertaPreTrainedModel,
    TFXLMRobertaForCausalLM,
    TFXLMRobertaForMaskedLM,
    TFXLMRobertaForMultipleChoice,
    TFXLMRobertaForQuestionAnswering,
    TFXLMRobertaForSequenceClassification,
    TFXLMRobertaForTokenClassification,
    TFXLMRobertaModel,
    TFXLMRobertaPreTrainedModel,
)
from kerasformers.models.roberta.tokenization_roberta import (
    RobertaTokenizer,
    RobertaTokenizerFast,
    XLMRobertaTokenizer,
    XLMRobertaTokenizerFast,
)

register_auto_classes(
    "roberta",
    base=TFRobertaModel,
    sequence_classification=TFRobertaForSequenceClassification,
    token_classification=TFRobertaForTokenClassification,
    question_answering=TFRobertaForQuestionAnswering,
    masked_lm=TFRobertaForMaskedLM,
    multiple_choice=TFRobertaForMultipleChoice,
    causal_lm=TFRobertaForCausalLM,
    pretraining=TFRobertaForMaskedLM,
    lm_head=TFRobertaForMaskedLM,
)
register_auto_classes(
    "xlm-roberta",
    base=TFXLMRobertaModel,
    sequence_classification=TFXLMRobertaForSequenceClassification,
    token_classification=TFXLMRobertaForTokenClassification,
    question_answering=TFXLMRobertaForQuestionAnswering,
    masked_lm=TFXLMRobertaForMaskedLM,
    multiple_choice=TFXLMRobertaForMultipleChoice,
    causal_lm=TFXLMRobertaForCausalLM,
    pretraining=TFXLMRobertaForMaskedLM,
    lm_head=TFXLMRobertaForMaskedLM,
)
