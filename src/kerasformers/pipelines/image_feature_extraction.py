"""image-feature-extraction: an image model's last hidden state (or its pooled output) as features.

Example:
    >>> extractor = pipeline("image-feature-extraction", model="path/to/vit-checkpoint")
    >>> features = extractor("cat.jpg")   # [1][tokens][hidden] nested lists
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.pipelines.base import Pipeline, register_pipeline
from kerasformers.pipelines.image_classification import pipeline_image

__all__ = ["ImageFeatureExtractionPipeline"]


@register_pipeline
class ImageFeatureExtractionPipeline(Pipeline):
    """The base model's last hidden state per image (``pool=True``: its pooler output), as nested lists.

    Call arguments: ``pool``, ``return_tensors=True`` for a ``tf.Tensor`` instead of lists,
    ``image_processor_kwargs`` (a dict for the image processor), ``timeout`` (accepted).

    Example:
        >>> extractor("cat.jpg", pool=True, return_tensors=True).shape
        TensorShape([1, 768])
    """

    default_task = "image-feature-extraction"
    needs_tokenizer = False
    needs_image_processor = True

    def __init__(self, model: Any, tokenizer: Any = None, image_processor: Any = None, **kwargs: Any):
        if image_processor is None:
            raise InvalidInputError(
                f"{type(self).__name__} needs an image processor: pass image_processor=AutoImageProcessor."
                "from_pretrained(<checkpoint>)."
            )
        self.image_processor = image_processor
        super().__init__(model, tokenizer=tokenizer, **kwargs)

    def _sanitize_parameters(self, image_processor_kwargs=None, return_tensors=None, pool=None, timeout=None):
        postprocess_params: dict[str, Any] = {}
        if pool is not None:
            postprocess_params["pool"] = pool
        if return_tensors is not None:
            postprocess_params["return_tensors"] = return_tensors
        return dict(image_processor_kwargs or {}), {}, postprocess_params

    def preprocess(self, image: Any, **image_processor_kwargs: Any) -> dict[str, Any]:
        return dict(self.image_processor(pipeline_image(image), return_tensors="np", **image_processor_kwargs))

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = self.run_model(model_inputs)
        pooled = outputs.get("pooler_output") if hasattr(outputs, "get") else None
        result = {"features": np.asarray(outputs[0])}
        if pooled is not None:
            result["pooler_output"] = np.asarray(pooled)
        return result

    def postprocess(self, model_outputs, pool=False, return_tensors=False):
        if pool:
            if "pooler_output" not in model_outputs:
                raise InvalidInputError(
                    "No pooled output was returned: pool=True needs a model with a pooler layer (e.g. TFViTModel)."
                )
            features = model_outputs["pooler_output"]
        else:
            features = model_outputs["features"]
        if return_tensors:
            import tensorflow as tf

            return tf.convert_to_tensor(features)
        return features.tolist()
