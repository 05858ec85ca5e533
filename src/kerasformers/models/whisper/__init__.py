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
from kerasformers.models.whisper.processing_whisper import WhisperProcessor
from kerasformers.models.whisper.tokenization_whisper import WhisperTokenizer, WhisperTokenizerFast
from kerasformers.processing_utils import register_feature_extractor_class

__all__ = [
    "WhisperConfig",
    "WhisperFeatureExtractor",
    "WhisperProcessor",
    "WhisperTokenizer",
    "WhisperTokenizerFast",
    "TFWhisperModel",
    "TFWhisperPreTrainedModel",
    "TFWhisperForConditionalGeneration",
    "TFWhisperForAudioClassification",
    "SuppressTokensLogitsProcessor",
    "SuppressTokensAtBeginLogitsProcessor",
    "WhisperTimeStampLogitsProcessor",
]

register_auto_classes(
    "whisper",
    base=TFWhisperModel,
    speech_seq2seq=TFWhisperForConditionalGeneration,
    audio_classification=TFWhisperForAudioClassification,
)
register_feature_extractor_class(WhisperFeatureExtractor, model_types=("whisper",))
