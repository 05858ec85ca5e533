"""The zero-shot-classification pipeline: any labels, scored by an NLI (entailment) sequence classifier.

As transformers 5.23: each candidate label becomes the hypothesis ``hypothesis_template.format(label)``
paired with the sequence (the premise); the model's entailment logit scores the label. With one label
or ``multi_label=True`` each label gets softmax(contradiction, entailment)[entailment] on its own;
otherwise the entailment logits are softmaxed over the labels.

Example:
    >>> from kerasformers import pipeline
    >>> classifier = pipeline("zero-shot-classification", model="./my-mnli-model")
    >>> classifier("The match went to penalties.", candidate_labels=["sports", "politics"])
    {'sequence': 'The match went to penalties.', 'labels': ['sports', 'politics'], 'scores': [0.97, 0.03]}
"""

from __future__ import annotations

import numpy as np

from kerasformers.errors import ConfigError, InvalidInputError
from kerasformers.pipelines.base import ChunkPipeline, register_pipeline

__all__ = ["ZeroShotClassificationPipeline", "ZeroShotClassificationArgumentHandler", "entailment_label_id"]

DEFAULT_HYPOTHESIS_TEMPLATE = "This example is {}."


def entailment_label_id(config) -> int:
    """The id of the config's entailment label (the first label2id name starting with "entail"), or -1.

    Example:
        >>> entailment_label_id(type("C", (), {"label2id": {"contradiction": 0, "entailment": 2}})())
        2
    """
    for label, index in (getattr(config, "label2id", None) or {}).items():
        if str(label).lower().startswith("entail"):
            return int(index)
    return -1


class ZeroShotClassificationArgumentHandler:
    """Turns sequences and candidate labels into (premise, hypothesis) pairs.

    Example:
        >>> ZeroShotClassificationArgumentHandler()("Nice goal!", ["sports"], "This example is {}.")
        ([['Nice goal!', 'This example is sports.']], ['Nice goal!'])
    """

    def _parse_labels(self, labels):
        # a string is a comma-separated list of labels
        if isinstance(labels, str):
            labels = [label.strip() for label in labels.split(",") if label.strip()]
        return labels

    def __call__(self, sequences, labels, hypothesis_template):
        if not labels or not sequences:
            raise InvalidInputError(
                "zero-shot-classification needs at least one sequence and one label: pass candidate_labels=[...]."
            )
        if hypothesis_template.format(labels[0]) == hypothesis_template:
            raise InvalidInputError(
                f"The hypothesis_template {hypothesis_template!r} has no place for the label: include {{}} where "
                "the label goes, as in 'This example is {}.'."
            )
        if isinstance(sequences, str):
            sequences = [sequences]
        pairs = [[sequence, hypothesis_template.format(label)] for sequence in sequences for label in labels]
        return pairs, sequences


def zero_shot_scores(logits, entailment_id: int, multi_label: bool):
    """Scores of the candidate labels from their NLI logits ``(labels, classes)`` (see the module docstring).

    Example:
        >>> zero_shot_scores(np.array([[0.0, 2.0], [0.0, 0.0]]), 1, multi_label=False).round(3)
        array([0.881, 0.119])
    """
    logits = np.asarray(logits, dtype=np.float32)
    if multi_label or logits.shape[0] == 1:
        # transformers takes index 0 as contradiction, or the last class when entailment is class 0
        contradiction_id = -1 if entailment_id == 0 else 0
        pair = logits[..., [contradiction_id, entailment_id]]
        scores = np.exp(pair) / np.exp(pair).sum(-1, keepdims=True)
        return scores[..., 1]
    entail = logits[..., entailment_id]
    return np.exp(entail) / np.exp(entail).sum(-1, keepdims=True)


@register_pipeline
class ZeroShotClassificationPipeline(ChunkPipeline):
    """Zero-shot classification with an NLI ``TFAutoModelForSequenceClassification`` model.

    The model config's ``label2id`` must name an entailment label (e.g. ``{"contradiction": 0,
    "neutral": 1, "entailment": 2}``). Call with the sequence(s) and ``candidate_labels`` (a list, or
    one comma-separated string; also the second positional argument), ``hypothesis_template``
    ("This example is {}.") and ``multi_label`` (False). Returns ``{"sequence", "labels", "scores"}``
    with the labels sorted by score, a list of them for a list of sequences.

    Example:
        >>> classifier = pipeline("zero-shot-classification", model="./my-mnli-model")
        >>> classifier(["Goal!", "Taxes rise"], candidate_labels="sports, politics", multi_label=True)
        [{'sequence': 'Goal!', 'labels': ['sports', 'politics'], 'scores': [0.9, 0.1]}, ...]
    """

    default_task = "zero-shot-classification"

    def __init__(self, *args, args_parser=None, **kwargs):
        self._args_parser = args_parser or ZeroShotClassificationArgumentHandler()
        super().__init__(*args, **kwargs)
        if self.entailment_id == -1:
            names = dict(getattr(self.model.config, "label2id", None) or {})
            raise ConfigError(
                f"zero-shot-classification needs an NLI model whose config.label2id names an entailment label; "
                f"this one has {names}. Use a model fine-tuned on NLI (MNLI, XNLI), or set config.label2id / "
                "config.id2label to its classes, e.g. {'contradiction': 0, 'neutral': 1, 'entailment': 2}."
            )

    @property
    def entailment_id(self) -> int:
        """The class index of the entailment label in the model's config (-1 when there is none)."""
        return entailment_label_id(self.model.config)

    def _sanitize_parameters(self, candidate_labels=None, hypothesis_template=None, multi_label=None, **kwargs):
        if kwargs:
            raise InvalidInputError(
                f"zero-shot-classification takes candidate_labels, hypothesis_template and multi_label; got "
                f"{sorted(kwargs)}."
            )
        preprocess = {}
        if candidate_labels is not None:
            preprocess["candidate_labels"] = self._args_parser._parse_labels(candidate_labels)
        if hypothesis_template is not None:
            preprocess["hypothesis_template"] = hypothesis_template
        postprocess = {} if multi_label is None else {"multi_label": multi_label}
        return preprocess, {}, postprocess

    def __call__(self, sequences, *args, **kwargs):
        """Classify the sequence(s) into the candidate labels (see the class docstring).

        Example:
            >>> classifier("Goal!", ["sports", "politics"])
        """
        if len(args) == 1 and "candidate_labels" not in kwargs:
            kwargs["candidate_labels"] = args[0]
        elif args:
            raise InvalidInputError(
                f"Unable to understand extra arguments {args}: pass candidate_labels= (and hypothesis_template=)."
            )
        return super().__call__(sequences, **kwargs)

    def preprocess(self, inputs, candidate_labels=None, hypothesis_template=DEFAULT_HYPOTHESIS_TEMPLATE):
        """One (sequence, hypothesis) model input per candidate label.

        Example:
            >>> [chunk["candidate_label"] for chunk in classifier.preprocess("Goal!", ["sports", "politics"])]
            ['sports', 'politics']
        """
        pairs, sequences = self._args_parser(inputs, candidate_labels or [], hypothesis_template)
        for index, (label, pair) in enumerate(zip(candidate_labels, pairs)):
            yield {
                "candidate_label": label,
                "sequence": sequences[0],
                "is_last": index == len(candidate_labels) - 1,
                **self._tokenize_pair(pair),
            }

    def _tokenize_pair(self, pair) -> dict:
        tokenizer = self.tokenizer
        if tokenizer.pad_token is None:
            # as transformers: padding needs a pad token; the end-of-sequence token stands in
            tokenizer.pad_token = tokenizer.eos_token
        try:
            # only the premise is truncated: the hypothesis carries the label
            encoded = tokenizer([pair], padding=True, truncation="only_first", return_tensors="np")
        except Exception as error:  # noqa: BLE001 -- as transformers: nothing to truncate is not an error
            if "too short" not in str(error):
                raise
            encoded = tokenizer([pair], padding=True, truncation=False, return_tensors="np")
        return {name: np.asarray(encoded[name]) for name in tokenizer.model_input_names if name in encoded}

    def _forward(self, model_inputs):
        outputs = self.run_model(model_inputs)
        return {
            "candidate_label": model_inputs["candidate_label"],
            "sequence": model_inputs["sequence"],
            "logits": outputs["logits"],
        }

    def postprocess(self, model_outputs, multi_label=False):
        """The labels of one sequence, sorted by score.

        Example:
            >>> classifier.postprocess(chunk_outputs, multi_label=False)
            {'sequence': 'Goal!', 'labels': ['sports', 'politics'], 'scores': [0.9, 0.1]}
        """
        labels = [output["candidate_label"] for output in model_outputs]
        logits = np.concatenate([np.asarray(output["logits"], dtype=np.float32) for output in model_outputs])
        scores = zero_shot_scores(logits, self.entailment_id, multi_label)
        order = list(reversed(scores.argsort()))
        return {
            "sequence": model_outputs[0]["sequence"],
            "labels": [labels[i] for i in order],
            "scores": scores[order].tolist(),
        }
