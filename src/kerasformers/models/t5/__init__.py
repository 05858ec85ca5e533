from kerasformers.models.auto import register_auto_classes
from kerasformers.models.t5.configuration_t5 import MT5Config, T5Config
from kerasformers.models.t5.modeling_t5 import (
    TFMT5EncoderModel,
    TFMT5ForConditionalGeneration,
    TFMT5Model,
    TFT5EncoderModel,
    TFT5ForConditionalGeneration,
    TFT5Model,
    TFT5PreTrainedModel,
)
from kerasformers.models.t5.tokenization_t5 import T5Tokenizer, T5TokenizerFast  # noqa: F401

register_auto_classes(
    "t5",
    base=TFT5Model,
    seq2seq_lm=TFT5ForConditionalGeneration,
    pretraining=TFT5ForConditionalGeneration,
    lm_head=TFT5ForConditionalGeneration,
)
register_auto_classes("mt5", base=TFMT5Model, seq2seq_lm=TFMT5ForConditionalGeneration)
