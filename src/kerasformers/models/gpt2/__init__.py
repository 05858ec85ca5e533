from kerasformers.models.auto import register_auto_classes
from kerasformers.models.gpt2.configuration_gpt2 import GPT2Config
from kerasformers.models.gpt2.modeling_gpt2 import (
    TFGPT2DoubleHeadsModel,
    TFGPT2DoubleHeadsModelOutput,
    TFGPT2ForSequenceClassification,
    TFGPT2LMHeadModel,
    TFGPT2Model,
    TFGPT2PreTrainedModel,
)
from kerasformers.models.gpt2.tokenization_gpt2 import GPT2Tokenizer, GPT2TokenizerFast
from kerasformers.models.gpt2.tokenization_gpt2_tf import TFGPT2Tokenizer

register_auto_classes(
    "gpt2",
    base=TFGPT2Model,
    causal_lm=TFGPT2LMHeadModel,
    sequence_classification=TFGPT2ForSequenceClassification,
    pretraining=TFGPT2LMHeadModel,
    lm_head=TFGPT2LMHeadModel,
)
