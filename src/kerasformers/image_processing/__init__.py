"""Image processors: the Python one (PIL, equal to transformers') and the in-graph Keras layer.

See :mod:`kerasformers.image_processing.base` and :mod:`kerasformers.image_processing.in_graph`.
"""

from kerasformers.image_processing.base import (
    IMAGENET_DEFAULT_MEAN,
    IMAGENET_DEFAULT_STD,
    IMAGENET_STANDARD_MEAN,
    IMAGENET_STANDARD_STD,
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    AutoImageProcessor,
    BaseImageProcessor,
    BatchFeature,
    PILImageResampling,
    get_size_dict,
    load_image,
    register_image_processor_class,
)
from kerasformers.image_processing.in_graph import TFImageProcessorLayer

__all__ = [
    "AutoImageProcessor",
    "BaseImageProcessor",
    "BatchFeature",
    "TFImageProcessorLayer",
    "PILImageResampling",
    "get_size_dict",
    "load_image",
    "register_image_processor_class",
    "IMAGENET_DEFAULT_MEAN",
    "IMAGENET_DEFAULT_STD",
    "IMAGENET_STANDARD_MEAN",
    "IMAGENET_STANDARD_STD",
    "OPENAI_CLIP_MEAN",
    "OPENAI_CLIP_STD",
]
