"""text-classification / sentiment-analysis: labels and scores from a sequence-classification head.

Example:
    >>> classifier = pipeline("sentiment-analysis", model="path/to/checkpoint")
    >>> classifier("This movie is disgustingly good !")
    [{'label': 'POSITIVE', 'score': 0.99...}]
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.pipelines.base import Pipeline, register_pipeline

__all__ = ["TextClassificationPipeline", "ClassificationFunction"]


class ClassificationFunction(str, enum.Enum):
    """What turns logits into scores: ``sigmoid``, ``softmax`` or ``none`` (transformers' enum).

    Example:
        >>> ClassificationFunction("softmax")
        <ClassificationFunction.SOFTMAX: 'softmax'>
    """

    SIGMOID = "sigmoid"
    SOFTMAX = "softmax"
    NONE = "none"


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - np.max(values, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _classification_function(value: Any) -> ClassificationFunction:
    if isinstance(value, ClassificationFunction):
        return value
    try:
        return ClassificationFunction(str(value).lower())
    except ValueError:
        raise InvalidInputError(f"function_to_apply={value!r} is not one of 'sigmoid', 'softmax', 'none'.") from None


@register_pipeline
class TextClassificationPipeline(Pipeline):
    """Classify texts (or text pairs) with a sequence-classification head.

    Call arguments: ``top_k`` (1 by default, giving one dict per input; an int or None gives a
    sorted list of the top labels, None all of them), ``function_to_apply`` (``"sigmoid"``,
    ``"softmax"``, ``"none"``; the default follows ``config.problem_type`` / ``num_labels``),
    and tokenizer arguments (``truncation``, ``max_length``, ...). A text pair is
    ``{"text": ..., "text_pair": ...}``.

    Example:
        >>> classifier = pipeline("text-classification", model="path/to/checkpoint")
        >>> classifier(["I love it", {"text": "A", "text_pair": "B"}], top_k=None)
    """

    default_task = "text-classification"

    def _sanitize_parameters(self, function_to_apply=None, top_k="", **tokenizer_kwargs):
        # "" marks "not given": top_k=None means "every label"
        postprocess_params: dict[str, Any] = {}
        if isinstance(top_k, int) or top_k is None:
            postprocess_params["top_k"] = top_k
            postprocess_params["_legacy"] = False
        if function_to_apply is not None:
            postprocess_params["function_to_apply"] = _classification_function(function_to_apply)
        return tokenizer_kwargs, {}, postprocess_params

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Classify one text (a one-element list), a list of texts, or a dataset/generator of them.

        Example:
            >>> classifier("I love it")
            [{'label': 'POSITIVE', 'score': 0.98...}]
        """
        result = super().__call__(inputs, **kwargs)
        if isinstance(inputs, str) and "top_k" not in kwargs:
            return [result]  # as transformers: a single text gives a list
        return result

    def preprocess(self, inputs: Any, **tokenizer_kwargs: Any) -> dict[str, Any]:
        if isinstance(inputs, dict):
            return dict(self.tokenizer(**inputs, return_tensors="np", **tokenizer_kwargs))
        if isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], list) and len(inputs[0]) == 2:
            # the old [[text, pair]] form transformers still accepts
            pair = inputs[0]
            return dict(self.tokenizer(text=pair[0], text_pair=pair[1], return_tensors="np", **tokenizer_kwargs))
        if not isinstance(inputs, str):
            raise InvalidInputError(
                f"text-classification takes strings or {{'text': ..., 'text_pair': ...}} dicts, got "
                f"{type(inputs).__name__}. To classify a text pair, send {{'text': 'My text', 'text_pair': 'My pair'}}."
            )
        return dict(self.tokenizer(inputs, return_tensors="np", **tokenizer_kwargs))

    def _forward(self, model_inputs: dict[str, Any]) -> Any:
        return self.run_model(model_inputs)

    def _default_function(self) -> ClassificationFunction:
        config = self.model.config
        problem_type = getattr(config, "problem_type", None)
        if problem_type == "regression":
            return ClassificationFunction.NONE
        if problem_type == "multi_label_classification" or config.num_labels == 1:
            return ClassificationFunction.SIGMOID
        if problem_type == "single_label_classification" or config.num_labels > 1:
            return ClassificationFunction.SOFTMAX
        if getattr(config, "function_to_apply", None) is not None:
            return _classification_function(config.function_to_apply)
        return ClassificationFunction.NONE

    def postprocess(self, model_outputs, function_to_apply=None, top_k=1, _legacy=True):
        function = function_to_apply if function_to_apply is not None else self._default_function()
        logits = np.asarray(model_outputs["logits"][0], dtype=np.float32)
        if function == ClassificationFunction.SIGMOID:
            scores = sigmoid(logits)
        elif function == ClassificationFunction.SOFTMAX:
            scores = softmax(logits)
        else:
            scores = logits
        id2label = self.model.config.id2label
        if top_k == 1 and _legacy:
            return {"label": id2label[int(scores.argmax())], "score": float(scores.max())}
        results = [{"label": id2label[i], "score": float(score)} for i, score in enumerate(scores)]
        if not _legacy:
            results.sort(key=lambda entry: entry["score"], reverse=True)
            if top_k is not None:
                results = results[:top_k]
        return results
