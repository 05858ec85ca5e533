"""image-classification: labels and scores for images from an image-classification head (ViT, DeiT).

Example:
    >>> classifier = pipeline("image-classification", model="path/to/vit-checkpoint")
    >>> classifier("cat.jpg", top_k=2)
    [{'label': 'tabby cat', 'score': 0.9...}, {'label': 'tiger cat', 'score': 0.0...}]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.image_processing import load_image
from kerasformers.pipelines.base import Pipeline, register_pipeline
from kerasformers.pipelines.text_classification import ClassificationFunction, sigmoid, softmax

__all__ = ["ImageClassificationPipeline", "pipeline_image"]


def pipeline_image(image: Any) -> Any:
    """An input image as transformers' pipelines read it: a path opened with PIL, EXIF rotation applied, RGB.

    Arrays pass through unchanged (the image processor reads them).

    Example:
        >>> pipeline_image("cat.png").mode
        'RGB'
    """
    from PIL import Image, ImageOps

    image = load_image(image)
    if isinstance(image, Image.Image):
        return ImageOps.exif_transpose(image).convert("RGB")
    if isinstance(image, np.ndarray) or hasattr(image, "shape"):
        return image
    raise InvalidInputError(
        f"An image pipeline takes PIL images, numpy arrays or paths to image files; got {type(image).__name__}."
    )


@register_pipeline
class ImageClassificationPipeline(Pipeline):
    """Classify images with an image-classification head.

    Call arguments: ``top_k`` (5 by default, at most ``num_labels``), ``function_to_apply``
    (``"sigmoid"``, ``"softmax"``, ``"none"``; the default follows ``config.problem_type`` /
    ``num_labels`` as transformers'), ``timeout`` (accepted; nothing is downloaded). One image
    gives a list of ``{"label", "score"}``; a list of images gives one such list per image.

    Example:
        >>> classifier = pipeline("image-classification", model="path/to/vit")
        >>> classifier(["a.jpg", "b.png"], top_k=1)
    """

    default_task = "image-classification"
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

    def _sanitize_parameters(self, top_k=None, function_to_apply=None, timeout=None):
        postprocess_params: dict[str, Any] = {}
        if top_k is not None:
            if not isinstance(top_k, int) or top_k < 1:
                raise InvalidInputError(f"top_k must be a positive integer, got {top_k!r}.")
            postprocess_params["top_k"] = top_k
        if function_to_apply is not None:
            try:
                postprocess_params["function_to_apply"] = ClassificationFunction(str(function_to_apply).lower())
            except ValueError:
                raise InvalidInputError(
                    f"function_to_apply={function_to_apply!r} is not one of 'sigmoid', 'softmax', 'none'."
                ) from None
        return {}, {}, postprocess_params

    def preprocess(self, image: Any) -> dict[str, Any]:
        return dict(self.image_processor(pipeline_image(image), return_tensors="np"))

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        return {"logits": np.asarray(self.run_model(model_inputs)["logits"])}

    def postprocess(self, model_outputs, function_to_apply=None, top_k=5):
        config = self.model.config
        if function_to_apply is None:
            if config.problem_type == "regression":
                function_to_apply = ClassificationFunction.NONE
            elif config.problem_type == "multi_label_classification" or config.num_labels == 1:
                function_to_apply = ClassificationFunction.SIGMOID
            else:
                function_to_apply = ClassificationFunction.SOFTMAX
        top_k = min(top_k, config.num_labels)
        logits = np.asarray(model_outputs["logits"][0], np.float32)
        if function_to_apply == ClassificationFunction.SIGMOID:
            scores = sigmoid(logits)
        elif function_to_apply == ClassificationFunction.SOFTMAX:
            scores = softmax(logits)
        else:
            scores = logits
        ranked = [{"label": config.id2label[i], "score": float(score)} for i, score in enumerate(scores)]
        ranked.sort(key=lambda item: item["score"], reverse=True)
        return ranked[:top_k]
