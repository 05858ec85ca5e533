from kerasformers.models.auto import register_auto_classes
from kerasformers.models.llama.configuration_llama import LlamaConfig, MistralConfig, Qwen2Config
from kerasformers.models.llama.modeling_llama import (
    TFLlamaForCausalLM,
    TFLlamaForSequenceClassification,
    TFLlamaModel,
    TFLlamaPreTrainedModel,
    TFMistralForCausalLM,
    TFMistralForSequenceClassification,
    TFMistralModel,
    TFQwen2ForCausalLM,
    TFQwen2ForSequenceClassification,
    TFQwen2Model,
)
from kerasformers.models.llama.tokenization_llama import LlamaTokenizer, LlamaTokenizerFast
from kerasformers.models.llama.tokenization_qwen2 import Qwen2Tokenizer, Qwen2TokenizerFast

for _type, _name in (("llama", "Llama"), ("mistral", "Mistral"), ("qwen2", "Qwen2")):
    register_auto_classes(
        _type,
        base=globals()[f"TF{_name}Model"],
        causal_lm=globals()[f"TF{_name}ForCausalLM"],
        sequence_classification=globals()[f"TF{_name}ForSequenceClassification"],
    )
