"""image-to-text: captions for images from an image-to-text model (VisionEncoderDecoder: ViT + GPT-2).

As transformers 4.57's pipeline: the image processor makes ``pixel_values``, ``generate()`` runs
(``max_new_tokens``, ``generate_kwargs``; greedy unless the generation config or the call says
otherwise) and each output is decoded with ``skip_special_tokens=True``.

Example:
    >>> captioner = pipeline("image-to-text", model="path/to/vit-gpt2-captioner")
    >>> captioner("cat.jpg", max_new_tokens=20)
    [{'generated_text': 'a cat sitting on a couch'}]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.pipelines.base import Pipeline, register_pipeline
from kerasformers.pipelines.image_classification import pipeline_image

__all__ = ["ImageToTextPipeline"]


@register_pipeline
class ImageToTextPipeline(Pipeline):
    """Caption images with an image-to-text model (``TFAutoModelForVision2Seq``).

    Call arguments: ``max_new_tokens``, ``generate_kwargs`` (any ``generate()`` argument:
    ``num_beams``, ``do_sample``...), ``timeout`` (accepted; nothing is downloaded). One image
    gives ``[{"generated_text": ...}]``; a list of images gives one such list per image.

    Example:
        >>> captioner = pipeline("image-to-text", model="path/to/captioner")
        >>> captioner(["a.jpg", "b.png"], max_new_tokens=16, generate_kwargs={"num_beams": 3})
    """

    default_task = "image-to-text"
    needs_image_processor = True

    def __init__(self, model: Any, tokenizer: Any = None, image_processor: Any = None, **kwargs: Any):
        if image_processor is None:
            raise InvalidInputError(
                f"{type(self).__name__} needs an image processor: pass image_processor=AutoImageProcessor."
                "from_pretrained(<checkpoint>)."
            )
        self.image_processor = image_processor
        super().__init__(model, tokenizer=tokenizer, **kwargs)

    def __call__(self, inputs: Any = None, **kwargs: Any) -> Any:
        """Captions of one image (or a list of images).

        Example:
            >>> captioner(image, max_new_tokens=20)
        """
        if "images" in kwargs:
            inputs = kwargs.pop("images")
        if inputs is None:
            raise InvalidInputError("The image-to-text pipeline needs an image (or images=...).")
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(self, max_new_tokens=None, generate_kwargs=None, prompt=None, timeout=None):
        if prompt is not None:
            raise NotSupportedError(
                "prompt= (conditional captioning) is not supported: VisionEncoderDecoder captions from the image "
                "alone, as in transformers. Drop prompt=."
            )
        forward_params = dict(generate_kwargs or {})
        if max_new_tokens is not None:
            if "max_new_tokens" in forward_params:
                raise InvalidInputError(
                    "max_new_tokens is given both as an argument and in generate_kwargs: give it once."
                )
            forward_params["max_new_tokens"] = max_new_tokens
        return {}, forward_params, {}

    def preprocess(self, image: Any) -> dict[str, Any]:
        return dict(self.image_processor(pipeline_image(image), return_tensors="np"))

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any) -> dict[str, Any]:
        sequences = self.model.generate(model_inputs["pixel_values"], **generate_kwargs)
        rows = int(np.shape(model_inputs["pixel_values"])[0])
        sequences = np.asarray(sequences)
        # num_return_sequences > 1: each image's sequences stay together
        return {"output_ids": list(sequences.reshape(rows, -1, sequences.shape[-1]))}

    def postprocess(self, model_outputs: dict[str, Any]) -> list[dict[str, str]]:
        return [
            {"generated_text": self.tokenizer.decode(ids.tolist(), skip_special_tokens=True)}
            for ids in model_outputs["output_ids"]
        ]
