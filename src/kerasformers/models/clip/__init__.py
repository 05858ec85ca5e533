from kerasformers.models.auto import register_auto_classes
from kerasformers.models.clip.configuration_clip import CLIPConfig, CLIPTextConfig, CLIPVisionConfig
from kerasformers.models.clip.modeling_clip import (
    TFCLIPModel,
    TFCLIPOutput,
    TFCLIPPreTrainedModel,
    TFCLIPTextModel,
    TFCLIPVisionModel,
)

register_auto_classes("clip", base=TFCLIPModel)
register_auto_classes("clip_text_model", base=TFCLIPTextModel)
register_auto_classes("clip_vision_model", base=TFCLIPVisionModel)
