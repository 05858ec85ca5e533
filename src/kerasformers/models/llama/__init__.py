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

for _type, _name in (("llama", "Llama"), ("mistral", "Mistral"), ("qwen2", "Qwen2")):
    register_auto_classes(
        _type,
        base=globals()[f"TF{_name}Model"],
        causal_lm=globals()[f"TF{_name}ForCausalLM"],
        sequence_classification=globals()[f"TF{_name}ForSequenceClassification"],
    )
