"""CLIPProcessor: CLIP's image processor and tokenizer behind one call."""

from __future__ import annotations

from kerasformers.models.clip.image_processing_clip import CLIPImageProcessor
from kerasformers.processing_utils import ProcessorMixin, register_processor_class

__all__ = ["CLIPProcessor"]


class CLIPProcessor(ProcessorMixin):
    """A :class:`CLIPImageProcessor` and a CLIP tokenizer: ``processor(text=..., images=...)`` gives both inputs.

    Example:
        >>> processor = CLIPProcessor.from_pretrained("openai/clip-vit-base-patch32")
        >>> inputs = processor(text=["a cat", "a dog"], images=image, return_tensors="tf", padding=True)
        >>> outputs = TFCLIPModel.from_pretrained("openai/clip-vit-base-patch32")(**inputs)
    """

    image_processor_class = CLIPImageProcessor


register_processor_class(CLIPProcessor, model_types=("clip",))
