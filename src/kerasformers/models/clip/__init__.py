from kerasformers.models.auto import register_auto_classes
from kerasformers.models.clip.configuration_clip import CLIPConfig, CLIPTextConfig, CLIPVisionConfig
from kerasformers.models.clip.image_processing_clip import CLIPFeatureExtractor, CLIPImageProcessor
from kerasformers.models.clip.modeling_clip import (
    TFCLIPModel,
    TFCLIPOutput,
    TFCLIPPreTrainedModel,
    TFCLIPTextModel,
    TFCLIPVisionModel,
)
from kerasformers.models.clip.processing_clip import CLIPProcessor
from kerasformers.models.clip.tokenization_clip import CLIPTokenizer, CLIPTokenizerFast

__all__ = [
    "CLIPConfig",
    "CLIPTextConfig",
    "CLIPVisionConfig",
    "CLIPImageProcessor",
    "CLIPFeatureExtractor",
    "CLIPProcessor",
    "CLIPTokenizer",
    "CLIPTokenizerFast",
    "TFCLIPModel",
    "TFCLIPOutput",
    "TFCLIPPreTrainedModel",
    "TFCLIPTextModel",
    "TFCLIPVisionModel",
]

register_auto_classes("clip", base=TFCLIPModel, zero_shot_image_classification=TFCLIPModel)
register_auto_classes("clip_text_model", base=TFCLIPTextModel)
register_auto_classes("clip_vision_model", base=TFCLIPVisionModel)
