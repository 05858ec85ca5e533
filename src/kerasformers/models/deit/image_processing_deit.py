"""DeiTImageProcessor: resize to 256x256 (bicubic), center crop 224x224, rescale, normalize (mean = std = 0.5)."""

from __future__ import annotations

from kerasformers.image_processing import (
    IMAGENET_STANDARD_MEAN,
    IMAGENET_STANDARD_STD,
    BaseImageProcessor,
    PILImageResampling,
    register_image_processor_class,
)

__all__ = ["DeiTImageProcessor", "DeiTFeatureExtractor"]


class DeiTImageProcessor(BaseImageProcessor):
    """DeiT's image processor with transformers' defaults (its slow, PIL processor).

    Example:
        >>> DeiTImageProcessor()(Image.open("cat.jpg"), return_tensors="np").pixel_values.shape
        (1, 3, 224, 224)
    """

    resample = PILImageResampling.BICUBIC
    image_mean = IMAGENET_STANDARD_MEAN
    image_std = IMAGENET_STANDARD_STD
    size = {"height": 256, "width": 256}
    crop_size = {"height": 224, "width": 224}
    do_center_crop = True


DeiTFeatureExtractor = DeiTImageProcessor  # transformers' older name

register_image_processor_class(DeiTImageProcessor, names=("DeiTFeatureExtractor",), model_types=("deit",))
