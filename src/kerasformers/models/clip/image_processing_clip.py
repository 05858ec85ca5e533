"""CLIPImageProcessor: shortest edge to 224 (bicubic), center crop 224x224, rescale, OpenAI CLIP mean/std, RGB."""

from __future__ import annotations

from kerasformers.image_processing import (
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    BaseImageProcessor,
    PILImageResampling,
    register_image_processor_class,
)

__all__ = ["CLIPImageProcessor", "CLIPFeatureExtractor"]


class CLIPImageProcessor(BaseImageProcessor):
    """CLIP's image processor with transformers' defaults (its slow, PIL processor; ``...Fast`` names load it too).

    The shortest edge is resized to ``size["shortest_edge"]`` keeping the aspect ratio, then the
    centre ``crop_size`` window is kept; images are converted to RGB first (``do_convert_rgb``),
    so greyscale and RGBA photos work without options.

    Example:
        >>> processor = CLIPImageProcessor()
        >>> processor(Image.open("cat.jpg"), return_tensors="np").pixel_values.shape
        (1, 3, 224, 224)
    """

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 224}
    default_to_square = False
    crop_size = {"height": 224, "width": 224}
    do_center_crop = True
    do_convert_rgb = True

    def __init__(self, **kwargs):
        if kwargs.pop("use_square_size", False):  # an older option (KOSMOS-2): a square resize
            edge = _shortest_edge(kwargs.get("size", self.size))
            kwargs["size"] = {"height": edge, "width": edge}
        super().__init__(**kwargs)


def _shortest_edge(size) -> int:
    """The edge length of a ``size`` setting given as an int or ``{"shortest_edge": n}``."""
    return int(size["shortest_edge"]) if isinstance(size, dict) else int(size)


CLIPFeatureExtractor = CLIPImageProcessor  # transformers' older name

register_image_processor_class(CLIPImageProcessor, names=("CLIPFeatureExtractor",), model_types=("clip",))
