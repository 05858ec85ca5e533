from kerasformers.models.auto import register_auto_classes
from kerasformers.models.deit.configuration_deit import DeiTConfig
from kerasformers.models.deit.image_processing_deit import DeiTFeatureExtractor, DeiTImageProcessor
from kerasformers.models.deit.modeling_deit import (
    TFDeiTForImageClassification,
    TFDeiTForImageClassificationWithTeacher,
    TFDeiTForImageClassificationWithTeacherOutput,
    TFDeiTForMaskedImageModeling,
    TFDeiTModel,
    TFDeiTPreTrainedModel,
)

__all__ = [
    "DeiTConfig",
    "DeiTImageProcessor",
    "DeiTFeatureExtractor",
    "TFDeiTModel",
    "TFDeiTPreTrainedModel",
    "TFDeiTForImageClassification",
    "TFDeiTForImageClassificationWithTeacher",
    "TFDeiTForImageClassificationWithTeacherOutput",
    "TFDeiTForMaskedImageModeling",
]

register_auto_classes(
    "deit",
    base=TFDeiTModel,
    image_classification=TFDeiTForImageClassification,
    masked_image_modeling=TFDeiTForMaskedImageModeling,
)
