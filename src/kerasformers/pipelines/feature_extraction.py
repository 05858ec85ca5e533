"""feature-extraction: the model's last hidden state for each token of a text.

Example:
    >>> extractor = pipeline("feature-extraction", model="path/to/checkpoint")
    >>> features = extractor("Hello world")   # [1][tokens][hidden] nested lists
"""

from __future__ import annotations

from typing import Any

from kerasformers.errors import InvalidInputError
from kerasformers.pipelines.base import Pipeline, register_pipeline

__all__ = ["FeatureExtractionPipeline"]


@register_pipeline
class FeatureExtractionPipeline(Pipeline):
    """The base model's first output (the last hidden state) per token, as nested lists.

    Call arguments: ``truncation``, ``tokenize_kwargs`` (a dict for the tokenizer),
    ``return_tensors=True`` for a ``tf.Tensor`` of shape (1, tokens, hidden) instead of lists.
    Each text gives its own number of tokens, whatever the batch size (padding is cut off).

    Example:
        >>> extractor(["Hello world", "A longer sentence"], batch_size=2, return_tensors=True)[0].shape
        TensorShape([1, 4, 384])
    """

    default_task = "feature-extraction"

    def _sanitize_parameters(self, truncation=None, tokenize_kwargs=None, return_tensors=None, **kwargs):
        if kwargs:
            raise InvalidInputError(
                f"feature-extraction takes no argument(s) {sorted(kwargs)}; tokenizer arguments go in "
                "tokenize_kwargs={...}."
            )
        tokenize_kwargs = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in tokenize_kwargs:
                raise InvalidInputError(
                    "truncation given twice (as an argument and inside tokenize_kwargs): give it once."
                )
            tokenize_kwargs["truncation"] = truncation
        postprocess_params = {} if return_tensors is None else {"return_tensors": return_tensors}
        return tokenize_kwargs, {}, postprocess_params

    def preprocess(self, inputs: Any, **tokenize_kwargs: Any) -> dict[str, Any]:
        if isinstance(inputs, dict):
            encoding = dict(self.tokenizer(**inputs, return_tensors="np", **tokenize_kwargs))
        else:
            encoding = dict(self.tokenizer(inputs, return_tensors="np", **tokenize_kwargs))
        encoding["unpadded_length"] = int(encoding["input_ids"].shape[1])
        return encoding

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = self.run_model(model_inputs)
        return {"features": outputs[0], "unpadded_length": model_inputs["unpadded_length"]}

    def postprocess(self, model_outputs, return_tensors=False):
        features = model_outputs["features"]
        length = model_outputs["unpadded_length"]
        # cut the per-batch padding off, so a text's features do not depend on batch_size
        if getattr(self.tokenizer, "padding_side", "right") == "left":
            features = features[:, features.shape[1] - length :]
        else:
            features = features[:, :length]
        if return_tensors:
            import tensorflow as tf

            return tf.convert_to_tensor(features)
        return features.tolist()
