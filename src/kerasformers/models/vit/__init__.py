from kerasformers.models.auto import register_auto_classes
from kerasformers.models.vit.configuration_vit import ViTConfig
from kerasformers.models.vit.image_processing_vit import ViTFeatureExtractor, ViTImageProcessor
from kerasformers.models.vit.modeling_vit import (
    TFViTForImageClassification,
    TFViTForMaskedImageModeling,
    TFViTModel,
    TFViTPreTrainedModel,
)

__all__ = [
    "ViTConfig",
    "ViTImageProcessor",
    "ViTFeatureExtractor",
    "TFViTModel",
    "TFViTPreTrainedModel",
    "TFViTForImageClassification",
    "TFViTForMaskedImageModeling",
]

register_auto_classes(
    "vit",
    base=TFViTModel,
    image_classification=TFViTForImageClassification,
    masked_image_modeling=TFViTForMaskedImageModeling,
)
