"""The end-to-end exports' post-processing, in TensorFlow ops (mirrors transformers' pipelines).

One function per task, registered against the task's pipeline name with :func:`postprocessor`;
:func:`export_pipeline` looks the task up in :data:`POSTPROCESSORS`, so a new task is a new
function here, not another branch in the export code.
"""

from __future__ import annotations

from typing import Callable

from kerasformers.errors import ExportError
from kerasformers.serving._tensorflow import tf
from kerasformers.tasks import resolve_task

__all__ = ["POSTPROCESSORS", "postprocessor", "task_outputs"]

# task name ("text-classification", ...) -> fn(model, tokenizer, encoded, outputs, **options) -> {name: tensor}
POSTPROCESSORS: dict[str, Callable[..., dict]] = {}


def postprocessor(task: str) -> Callable:
    """Decorator: register the function as ``task``'s post-processor.

    The task table (:mod:`kerasformers.tasks`) names each task's post-processor; the function
    must be the one named there, so the table and this registry cannot drift apart. It takes
    ``(model, tokenizer, encoded, outputs, **options)`` (``encoded``: the tokenizer layer's
    output; ``outputs``: the model's) and returns the signature's named outputs.

    Example (how this module registers text-classification's):
        >>> @postprocessor("text-classification")
        ... def sequence_labels(model, tokenizer, encoded, outputs, **options):
        ...     return {"logits": outputs["logits"]}
    """

    def register(function: Callable) -> Callable:
        expected = resolve_task(task).postprocessor
        if function.__name__ != expected:
            raise ExportError(
                f"The task table names {expected!r} as {task!r}'s post-processor, not {function.__name__!r}."
            )
        if task in POSTPROCESSORS:
            raise ExportError(f"Task {task!r} already has a post-processor ({POSTPROCESSORS[task].__name__}).")
        POSTPROCESSORS[task] = function
        return function

    return register


def task_outputs(task: str, model, tokenizer, encoded: dict, outputs, **options) -> dict:
    """Run ``task``'s registered post-processor.

    Example:
        >>> task_outputs("text-classification", model, tokenizer, encoded, model(inputs))["labels"]
    """
    task = resolve_task(task).name
    if task not in POSTPROCESSORS:
        raise ExportError(f"Task {task!r} has no post-processor; these do: {', '.join(POSTPROCESSORS)}.")
    return POSTPROCESSORS[task](model, tokenizer, encoded, outputs, **options)


def _label_names(config):
    """The id2label names, one per label, ``LABEL_i`` where the config names none."""
    id2label = getattr(config, "id2label", None) or {}
    num_labels = int(getattr(config, "num_labels", len(id2label)) or len(id2label))
    return [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(num_labels)]


def _best_labels(logits, probabilities, names) -> dict:
    """The outputs every labelling task shares: logits, probabilities, the best label, its score."""
    label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return {
        "logits": logits,
        "probabilities": probabilities,
        "label_ids": label_ids,
        "labels": tf.gather(tf.constant(names), label_ids),
        "scores": tf.reduce_max(probabilities, axis=-1),
    }


def _softmax_masked(logits, keep):
    logits = tf.where(keep, logits, tf.fill(tf.shape(logits), tf.constant(-10000.0, logits.dtype)))
    return tf.nn.softmax(logits, axis=-1)


@postprocessor("feature-extraction")
def mean_pooled_embeddings(model, tokenizer, encoded, outputs, **options):
    """Mean pooling over the attended tokens (as sentence-transformers), and its L2-normalised form."""
    mask = tf.cast(encoded["attention_mask"], tf.float32)
    hidden = outputs["last_hidden_state"]
    summed = tf.reduce_sum(hidden * mask[:, :, None], axis=1)
    count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1e-9)
    pooled = summed / count
    return {
        "embeddings": pooled,
        "normalized_embeddings": tf.math.l2_normalize(pooled, axis=-1),
        "last_hidden_state": hidden,
    }


@postprocessor("text-classification")
def sequence_labels(model, tokenizer, encoded, outputs, **options):
    """Probabilities (sigmoid for multi-label or one label, else softmax), the best label and its score."""
    config = model.config
    names = _label_names(config)
    logits = outputs["logits"]
    multi = getattr(config, "problem_type", None) == "multi_label_classification" or len(names) == 1
    probabilities = tf.sigmoid(logits) if multi else tf.nn.softmax(logits, axis=-1)
    return _best_labels(logits, probabilities, names)


@postprocessor("token-classification")
def token_labels(model, tokenizer, encoded, outputs, **options):
    """Per token: softmax probabilities, the best label and its score, with the tokens themselves."""
    names = _label_names(model.config)
    logits = outputs["logits"]
    probabilities = tf.nn.softmax(logits, axis=-1)
    return {
        **_best_labels(logits, probabilities, names),
        "input_ids": encoded["input_ids"],
        "tokens": tokenizer.ids_to_tokens(encoded["input_ids"]),
        "special_tokens_mask": encoded["special_tokens_mask"],
        "attention_mask": encoded["attention_mask"],
    }


@postprocessor("question-answering")
def answer_span(model, tokenizer, encoded, outputs, *, max_answer_len: int = 15, **options):
    """The best answer span in the context, its score and text."""
    start_logits, end_logits = outputs["start_logits"], outputs["end_logits"]
    # As transformers' pipeline: only context tokens (and [CLS]) are candidates; softmax,
    # then [CLS] is dropped; the best (start, end) with start <= end < start + max_answer_len.
    context = tf.logical_and(tf.equal(encoded["token_type_ids"], 1), tf.equal(encoded["special_tokens_mask"], 0))
    is_cls = tf.equal(tf.range(tf.shape(start_logits)[1])[None, :], 0)
    keep = tf.logical_and(tf.logical_or(context, is_cls), tf.equal(encoded["attention_mask"], 1))
    start = _softmax_masked(start_logits, keep)
    end = _softmax_masked(end_logits, keep)
    not_cls = tf.cast(tf.logical_not(is_cls), start.dtype)
    start, end = start * not_cls, end * not_cls
    scores = start[:, :, None] * end[:, None, :]
    length = tf.shape(scores)[1]
    # band_part refuses a band wider than the matrix, so a sequence shorter than
    # max_answer_len (a short question and context) caps the band at its length.
    band = tf.cast(tf.minimum(max_answer_len - 1, length - 1), tf.int64)
    scores = tf.linalg.band_part(scores, tf.constant(0, tf.int64), band)
    flat = tf.reshape(scores, [tf.shape(scores)[0], -1])
    best = tf.argmax(flat, axis=-1, output_type=tf.int32)
    start_index, end_index = best // length, best % length
    positions = tf.range(length)[None, :]
    in_span = tf.logical_and(positions >= start_index[:, None], positions <= end_index[:, None])
    span_ids = tf.ragged.boolean_mask(encoded["input_ids"], in_span)
    return {
        "start": start_index,
        "end": end_index,
        "score": tf.reduce_max(flat, axis=-1),
        "answer": tokenizer.detokenize(span_ids),
        "start_logits": start_logits,
        "end_logits": end_logits,
    }
