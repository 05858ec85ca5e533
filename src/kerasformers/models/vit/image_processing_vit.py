"""ViTImageProcessor: resize to 224x224 (bilinear), rescale to [0, 1], normalize with mean = std = 0.5."""

from __future__ import annotations

from kerasformers.image_processing import (
    IMAGENET_STANDARD_MEAN,
    IMAGENET_STANDARD_STD,
    BaseImageProcessor,
    PILImageResampling,
    register_image_processor_class,
)

__all__ = ["ViTImageProcessor", "ViTFeatureExtractor"]


class ViTImageProcessor(BaseImageProcessor):
    """ViT's image processor with transformers' defaults (its slow, PIL processor; ``...Fast`` names load it too).

    Example:
        >>> processor = ViTImageProcessor()
        >>> processor(Image.open("cat.jpg"), return_tensors="np").pixel_values.shape
        (1, 3, 224, 224)
    """

    resample = PILImageResampling.BILINEAR
    image_mean = IMAGENET_STANDARD_MEAN
    image_std = IMAGENET_STANDARD_STD
    size = {"height": 224, "width": 224}


ViTFeatureExtractor = ViTImageProcessor  # transformers' older name

register_image_processor_class(ViTImageProcessor, names=("ViTFeatureExtractor",), model_types=("vit",))
