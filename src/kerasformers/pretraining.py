"""Masked-LM pretraining from scratch, on one device or under a ``tf.distribute`` strategy.

``kerasformers pretrain`` runs :func:`pretrain`: train a tokenizer of the model type's kind on a
folder of text files (``train_new_from_iterator``), tokenise and group the text into blocks,
write sharded TFRecords, mask inside tf.data (:mod:`kerasformers.data.mlm`), train a
``TFAutoModelForMaskedLM`` built from a small config with ``fit()`` under the chosen strategy,
report held-out MLM loss and perplexity per epoch, keep a ``BackupAndRestore`` checkpoint, and
``save_pretrained`` a folder that PyTorch transformers loads. Only the chief writes.

Example:
    >>> from kerasformers.pretraining import pretrain
    >>> metrics = pretrain("texts/", "pretrained/", model_type="roberta", vocab_size=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os

from kerasformers.errors import InvalidInputError

__all__ = ["make_strategy", "is_chief", "STRATEGIES"]

STRATEGIES = ("none", "mirrored", "multi-worker")


def make_strategy(name: str = "none"):
    """The ``tf.distribute`` strategy for ``name``: ``none`` (the default strategy, one device),
    ``mirrored`` (every local device) or ``multi-worker`` (workers from ``TF_CONFIG``).

    Example:
        >>> strategy = make_strategy("mirrored")
        >>> with strategy.scope():
        ...     model = TFAutoModelForMaskedLM.from_config(config)
    """
    import tensorflow as tf

    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise InvalidInputError(
                "--strategy multi-worker needs TF_CONFIG: set it on every worker to "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": i}}.'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InvalidInputError(f"Unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}.")


def is_chief() -> bool:
    """Whether this process writes files: always on one machine; under ``TF_CONFIG``, the chief
    (or worker 0 when the cluster has no chief), as TensorFlow's multi-worker guide says.

    Example:
        >>> if is_chief():
        ...     model.save_pretrained("out")
    """
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    cluster = config.get("cluster") or {}
    kind, index = task.get("type"), int(task.get("index", 0))
    if not kind:
        return True
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in cluster
