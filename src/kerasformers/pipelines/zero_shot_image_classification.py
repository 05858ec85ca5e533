"""zero-shot-image-classification: score an image against label texts with CLIP.

Each candidate label fills ``hypothesis_template`` ("This is a photo of {}."); the image and the
texts go through the model and the softmax of ``logits_per_image`` gives one probability per
label, as transformers' pipeline does.

Example:
    >>> classifier = pipeline("zero-shot-image-classification", model="openai/clip-vit-base-patch32")
    >>> classifier("cat.jpg", candidate_labels=["a cat", "a dog"])
    [{'score': 0.99..., 'label': 'a cat'}, {'score': 0.00..., 'label': 'a dog'}]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.pipelines.base import Pipeline, register_pipeline
from kerasformers.pipelines.image_classification import pipeline_image
from kerasformers.pipelines.text_classification import softmax

__all__ = ["ZeroShotImageClassificationPipeline"]

DEFAULT_HYPOTHESIS_TEMPLATE = "This is a photo of {}."


def check_candidate_labels(candidate_labels: Any) -> list[str]:
    """The candidate labels as a list of strings (one string is one label).

    Example:
        >>> check_candidate_labels("a cat")
        ['a cat']
    """
    if isinstance(candidate_labels, str):
        candidate_labels = [candidate_labels]
    if (
        not isinstance(candidate_labels, (list, tuple))
        or not candidate_labels
        or not all(isinstance(label, str) for label in candidate_labels)
    ):
        raise InvalidInputError(
            "candidate_labels must be a non-empty list of strings, e.g. candidate_labels=['a cat', 'a dog']; "
            f"got {candidate_labels!r}."
        )
    return list(candidate_labels)


@register_pipeline
class ZeroShotImageClassificationPipeline(Pipeline):
    """Zero-shot image classification with a CLIP model: which of ``candidate_labels`` fits the image.

    Call arguments: ``candidate_labels`` (required), ``hypothesis_template`` (default
    ``"This is a photo of {}."``; pass ``"{}"`` for labels already written as sentences),
    ``tokenizer_kwargs`` (for the label texts), ``timeout`` (accepted; nothing is downloaded).
    One image gives a list of ``{"score", "label"}`` sorted by score; a list of images gives one
    such list per image.

    Example:
        >>> classifier = pipeline("zero-shot-image-classification", model="path/to/clip")
        >>> classifier(["a.jpg", "b.png"], candidate_labels=["cat", "dog"], hypothesis_template="a photo of a {}")
    """

    default_task = "zero-shot-image-classification"
    needs_image_processor = True

    def __init__(self, model: Any, tokenizer: Any = None, image_processor: Any = None, **kwargs: Any):
        if image_processor is None:
            raise InvalidInputError(
                f"{type(self).__name__} needs an image processor: pass image_processor=AutoImageProcessor."
                "from_pretrained(<checkpoint>)."
            )
        self.image_processor = image_processor
        super().__init__(model, tokenizer=tokenizer, **kwargs)

    def __call__(self, image: Any = None, candidate_labels: Any = None, **kwargs: Any) -> Any:
        """Scores of ``candidate_labels`` for one image (or a list of images).

        Example:
            >>> classifier(image, candidate_labels=["a cat", "a dog"])
        """
        if "images" in kwargs:
            image = kwargs.pop("images")
        if image is None:
            raise InvalidInputError("The zero-shot-image-classification pipeline needs an image (or images=...).")
        if candidate_labels is not None:
            kwargs["candidate_labels"] = candidate_labels
        return super().__call__(image, **kwargs)

    def _sanitize_parameters(
        self, candidate_labels=None, hypothesis_template=None, tokenizer_kwargs=None, timeout=None
    ):
        preprocess_params: dict[str, Any] = {}
        if candidate_labels is not None:
            preprocess_params["candidate_labels"] = check_candidate_labels(candidate_labels)
        if hypothesis_template is not None:
            if not isinstance(hypothesis_template, str) or "{}" not in hypothesis_template:
                raise InvalidInputError(
                    f"hypothesis_template must be a string with a {{}} for the label, got {hypothesis_template!r}."
                )
            preprocess_params["hypothesis_template"] = hypothesis_template
        if tokenizer_kwargs is not None:
            preprocess_params["tokenizer_kwargs"] = dict(tokenizer_kwargs)
        return preprocess_params, {}, {}

    def preprocess(
        self,
        image: Any,
        candidate_labels: list[str] | None = None,
        hypothesis_template: str = DEFAULT_HYPOTHESIS_TEMPLATE,
        tokenizer_kwargs: dict | None = None,
    ) -> dict[str, Any]:
        if candidate_labels is None:
            raise InvalidInputError(
                "The zero-shot-image-classification pipeline needs candidate_labels=['a cat', 'a dog', ...]."
            )
        pixel_values = self.image_processor(pipeline_image(image), return_tensors="np")["pixel_values"]
        sequences = [hypothesis_template.format(label) for label in candidate_labels]
        text_inputs = self.tokenizer(sequences, return_tensors="np", **{"padding": True, **(tokenizer_kwargs or {})})
        # one image with its own label texts: the texts of several images are not padded together
        return {
            "pixel_values": pixel_values,
            "text_inputs": (dict(text_inputs),),
            "candidate_labels": (candidate_labels,),
        }

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        rows = []
        for index, (text_inputs,) in enumerate(model_inputs["text_inputs"]):
            pixels = model_inputs["pixel_values"][index : index + 1]
            outputs = self.run_model({**text_inputs, "pixel_values": pixels})
            rows.append(np.asarray(outputs["logits_per_image"]))
        return {"logits": rows, "candidate_labels": [labels for (labels,) in model_inputs["candidate_labels"]]}

    def postprocess(self, model_outputs: dict[str, Any]) -> list[dict[str, Any]]:
        labels = model_outputs["candidate_labels"]
        logits = np.asarray(model_outputs["logits"], np.float32).reshape(-1)
        scores = softmax(logits)
        ranked = sorted(zip(scores.tolist(), labels), key=lambda pair: -pair[0])
        return [{"score": score, "label": label} for score, label in ranked]
