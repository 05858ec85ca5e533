from kerasformers.models.auto import register_auto_classes
from kerasformers.models.whisper.configuration_whisper import WhisperConfig
from kerasformers.models.whisper.feature_extraction_whisper import WhisperFeatureExtractor
from kerasformers.models.whisper.generation_whisper import (
    SuppressTokensAtBeginLogitsProcessor,
    SuppressTokensLogitsProcessor,
    WhisperTimeStampLogitsProcessor,
)
from kerasformers.models.whisper.modeling_whisper import (
    TFWhisperForAudioClassification,
    TFWhisperForConditionalGeneration,
    TFWhisperModel,
    TFWhisperPreTrainedModel,
)

__all__ = [
    "WhisperConfig",
    "WhisperFeatureExtractor",
    "TFWhisperModel",
    "TFWhisperPreTrainedModel",
    "TFWhisperForConditionalGeneration",
    "TFWhisperForAudioClassification",
    "SuppressTokensLogitsProcessor",
    "SuppressTokensAtBeginLogitsProcessor",
    "WhisperTimeStampLogitsProcessor",
]

register_auto_classes("whisper", base=TFWhisperModel)
