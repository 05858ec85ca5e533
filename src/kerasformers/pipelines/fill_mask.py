"""fill-mask: the most likely tokens for each mask token of a text.

Example:
    >>> unmasker = pipeline("fill-mask", model="path/to/checkpoint")
    >>> unmasker("Paris is the [MASK] of France.", top_k=2)
    [{'score': 0.9.., 'token': 3007, 'token_str': 'capital', 'sequence': 'paris is the capital of france.'}, ...]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.logging import get_logger
from kerasformers.pipelines.base import Pipeline, register_pipeline

__all__ = ["FillMaskPipeline"]

logger = get_logger(__name__)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@register_pipeline
class FillMaskPipeline(Pipeline):
    """Predict the tokens behind the tokenizer's mask token (one list of candidates per mask).

    Call arguments: ``top_k`` (5 by default), ``targets`` (a word or list of words to score
    instead of the whole vocabulary; a word outside the vocabulary is replaced by its first
    token, with a warning, as transformers does), ``tokenizer_kwargs``. Each candidate:
    ``score``, ``token``, ``token_str``, ``sequence`` (the text with the mask filled). With several
    masks in one text the result is one list per mask.

    Example:
        >>> unmasker("The [MASK] sat on the [MASK].", targets=["cat", "mat"])
    """

    default_task = "fill-mask"

    def _sanitize_parameters(self, top_k=None, targets=None, tokenizer_kwargs=None):
        preprocess_params: dict[str, Any] = {}
        if tokenizer_kwargs is not None:
            preprocess_params["tokenizer_kwargs"] = tokenizer_kwargs
        postprocess_params: dict[str, Any] = {}
        if targets is not None:
            postprocess_params["target_ids"] = self.get_target_ids(targets)
        if top_k is not None:
            postprocess_params["top_k"] = top_k
        if self.tokenizer.mask_token_id is None:
            raise InvalidInputError(
                "fill-mask needs a tokenizer with a mask token and this one has none. Use the model's own tokenizer."
            )
        return preprocess_params, {}, postprocess_params

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Fill the masks of one text (a list of candidates) or of several (a list of lists).

        Example:
            >>> unmasker(["A [MASK] day.", "The [MASK] is blue."], batch_size=2)
        """
        outputs = super().__call__(inputs, **kwargs)
        if isinstance(inputs, list) and len(inputs) == 1:
            return outputs[0]  # as transformers: a one-text list gives that text's result
        return outputs

    def get_target_ids(self, targets: str | list[str]) -> np.ndarray:
        """Vocabulary ids of the target words (a word outside the vocabulary: its first token).

        Example:
            >>> unmasker.get_target_ids(["cat", "dog"])
            array([4937, 3899])
        """
        targets = [targets] if isinstance(targets, str) else list(targets)
        vocab = self.tokenizer.get_vocab()
        target_ids = []
        for target in targets:
            token_id = vocab.get(target)
            if token_id is None:
                ids = self.tokenizer(
                    target,
                    add_special_tokens=False,
                    return_attention_mask=False,
                    return_token_type_ids=False,
                    max_length=1,
                    truncation=True,
                )["input_ids"]
                if len(ids) == 0:
                    logger.warning(
                        f"The specified target token `{target}` does not exist in the model vocabulary. "
                        "We cannot replace it with anything meaningful, ignoring it"
                    )
                    continue
                token_id = ids[0]
                logger.warning(
                    f"The specified target token `{target}` does not exist in the model vocabulary. "
                    f"Replacing with `{self.tokenizer.convert_ids_to_tokens(token_id)}`."
                )
            target_ids.append(int(token_id))
        if not target_ids:
            raise InvalidInputError(f"None of the targets {targets} gives a token: pass at least one word.")
        return np.array(sorted(set(target_ids)))

    def preprocess(self, inputs: Any, return_tensors=None, tokenizer_kwargs=None, **unused: Any) -> dict[str, Any]:
        if not isinstance(inputs, str):
            raise InvalidInputError(f"fill-mask takes strings, got {type(inputs).__name__}.")
        encoding = dict(self.tokenizer(inputs, return_tensors="np", **(tokenizer_kwargs or {})))
        if not (encoding["input_ids"] == self.tokenizer.mask_token_id).any():
            raise InvalidInputError(
                f"No mask_token ({self.tokenizer.mask_token}) found on the input {inputs!r}: put "
                f"{self.tokenizer.mask_token} where the missing word goes."
            )
        return encoding

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        return {"logits": self.run_model(model_inputs)["logits"], "input_ids": model_inputs["input_ids"]}

    def postprocess(self, model_outputs, top_k=5, target_ids=None):
        if target_ids is not None and target_ids.shape[0] < top_k:
            top_k = target_ids.shape[0]
        input_ids = np.asarray(model_outputs["input_ids"][0])
        masked_index = np.flatnonzero(input_ids == self.tokenizer.mask_token_id)
        probs = _softmax(np.asarray(model_outputs["logits"][0, masked_index, :], dtype=np.float32))
        if target_ids is not None:
            probs = probs[..., target_ids]
        single_mask = len(masked_index) == 1
        result = []
        for mask_number, mask_probs in enumerate(probs):
            best = np.argsort(-mask_probs, kind="stable")[:top_k]
            row = []
            for position in best:
                token = int(target_ids[position]) if target_ids is not None else int(position)
                tokens = input_ids.copy()
                tokens[masked_index[mask_number]] = token
                tokens = tokens[tokens != self.tokenizer.pad_token_id]  # per-batch padding
                row.append(
                    {
                        "score": float(mask_probs[position]),
                        "token": token,
                        "token_str": self.tokenizer.decode([token]),
                        "sequence": self.tokenizer.decode(tokens, skip_special_tokens=single_mask),
                    }
                )
            result.append(row)
        return result[0] if single_mask else result
