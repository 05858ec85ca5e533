"""The Trainer's small result types and helpers, as transformers' ``trainer_utils`` names them."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "PREFIX_CHECKPOINT_DIR",
    "EvalPrediction",
    "PredictionOutput",
    "TrainOutput",
    "get_last_checkpoint",
    "speed_metrics",
]

PREFIX_CHECKPOINT_DIR = "checkpoint"
_CHECKPOINT_RE = re.compile(r"^" + PREFIX_CHECKPOINT_DIR + r"\-(\d+)$")
# written last into a checkpoint: a folder without it was never completed
CHECKPOINT_COMPLETE_FILE = "trainer_state.json"


class EvalPrediction:
    """What ``compute_metrics`` receives: ``predictions`` and ``label_ids`` (numpy), unpackable as a pair.

    Example:
        >>> def compute_metrics(eval_pred):
        ...     logits, labels = eval_pred
        ...     return {"accuracy": float((logits.argmax(-1) == labels).mean())}
    """

    def __init__(self, predictions, label_ids, inputs=None, losses=None):
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs
        self.losses = losses
        self.elements = (predictions, label_ids)
        if inputs is not None:
            self.elements += (inputs,)
        if losses is not None:
            self.elements += (losses,)

    def __iter__(self):
        return iter(self.elements)

    def __getitem__(self, index):
        if index < 0 or index >= len(self.elements):
            raise IndexError("EvalPrediction index out of range")
        return self.elements[index]

    def __len__(self):
        return len(self.elements)


class TrainOutput(NamedTuple):
    """``Trainer.train()``'s result: ``(global_step, training_loss, metrics)``.

    Example:
        >>> TrainOutput(10, 0.52, {"train_runtime": 1.0}).global_step
        10
    """

    global_step: int
    training_loss: float
    metrics: dict[str, float]


class PredictionOutput(NamedTuple):
    """``Trainer.predict()``'s result: ``(predictions, label_ids, metrics)``.

    Example:
        >>> out = PredictionOutput(np.zeros((2, 3)), np.array([0, 1]), {"test_loss": 0.1})
        >>> out.predictions.shape
        (2, 3)
    """

    predictions: np.ndarray | tuple[np.ndarray, ...]
    label_ids: np.ndarray | tuple[np.ndarray, ...] | None
    metrics: dict[str, float] | None


def get_last_checkpoint(folder: str | os.PathLike) -> str | None:
    """The newest complete ``checkpoint-<step>`` folder in ``folder``, or None.

    A checkpoint counts once its ``trainer_state.json`` is there (it is written into the folder
    before the folder is renamed into place).

    Example:
        >>> get_last_checkpoint("out")  # doctest: +SKIP
        'out/checkpoint-20'
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = []
    for path in folder.iterdir():
        match = _CHECKPOINT_RE.match(path.name)
        if match and path.is_dir() and (path / CHECKPOINT_COMPLETE_FILE).is_file():
            found.append((int(match.group(1)), path))
    if not found:
        return None
    return str(max(found)[1])


def sorted_checkpoints(folder: str | os.PathLike) -> list[Path]:
    """The ``checkpoint-<step>`` folders of ``folder``, oldest step first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CHECKPOINT_RE.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def speed_metrics(
    split: str, start_time: float, num_samples: int | None = None, num_steps: int | None = None
) -> dict[str, Any]:
    """``<split>_runtime``, ``<split>_samples_per_second`` and ``<split>_steps_per_second`` (transformers' keys).

    Example:
        >>> sorted(speed_metrics("eval", time.time() - 2, num_samples=10))
        ['eval_runtime', 'eval_samples_per_second']
    """
    runtime = time.time() - start_time
    result = {f"{split}_runtime": round(runtime, 4)}
    if runtime == 0:
        return result
    if num_samples is not None:
        result[f"{split}_samples_per_second"] = round(num_samples / runtime, 3)
    if num_steps is not None:
        result[f"{split}_steps_per_second"] = round(num_steps / runtime, 3)
    return result
