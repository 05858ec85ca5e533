"""SavedModel export: serving signatures for any model, and end-to-end models from strings.

Two kinds of export, both written in TF Serving's layout (``<dir>/<version>/saved_model.pb``):

- :func:`export_saved_model` (also ``model.export(dir)`` and
  ``model.save_pretrained(dir, saved_model=True)``): the model alone. ``serving_default`` takes
  int32 ``input_ids`` / ``attention_mask`` / ``token_type_ids`` of shape (batch, sequence),
  both dynamic; ``serving_int64`` takes the same as int64. Outputs are named after the
  model's output fields (``logits``, ``last_hidden_state``, ``pooler_output``, ...).
- :func:`export_pipeline` (also ``kerasformers export <checkpoint> <dir> --task ...
  --with-tokenizer``): tokenizer + model + the task's post-processing in one graph. The
  signature takes strings and returns predictions (labels, probabilities, answer spans,
  embeddings).

The exported directory needs TensorFlow (and tensorflow-text when a tokenizer is inside) to
load, never kerasformers::

    import tensorflow as tf, tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    serve = tf.saved_model.load("out/1").signatures["serving_default"]
    serve(text=tf.constant(["I loved it"]))["labels"]
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


class _LazyTensorFlow:
    """``tensorflow``, imported on first use, so ``kerasformers --help`` stays fast."""

    def __getattr__(self, name: str):
        import tensorflow

        return getattr(tensorflow, name)


tf = _LazyTensorFlow()

__all__ = [
    "TASKS",
    "serving_input_names",
    "serving_functions",
    "export_saved_model",
    "export_pipeline",
    "next_version",
    "load_tokenizer_layer",
]

SERVING_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

TASKS = ("feature-extraction", "text-classification", "token-classification", "question-answering")
_TASK_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification",
                 "sentence-similarity": "feature-extraction", "embeddings": "feature-extraction"}


# ---------------------------------------------------------------------------------- helpers


def serving_input_names(model) -> list[str]:
    """The integer inputs a serving signature of ``model`` takes, in order.

    Example:
        >>> serving_input_names(TFBertModel.from_pretrained(path))
        ['input_ids', 'attention_mask', 'token_type_ids']
    """
    parameters = model._call_parameters()
    return [name for name in SERVING_INPUTS if name in parameters]


def _input_rank(model) -> int:
    return int(np.ndim(model.dummy_inputs["input_ids"]))


def _named_outputs(outputs) -> dict[str, tf.Tensor]:
    """ModelOutput -> a flat {name: tensor} dict (tuples such as hidden_states become name_i)."""
    named = {}
    for name, value in dict(outputs).items():
        if name == "past_key_values" or value is None:
            continue
        if isinstance(value, (tuple, list)):
            for index, item in enumerate(value):
                named[f"{name}_{index}"] = tf.convert_to_tensor(item)
        else:
            named[name] = tf.convert_to_tensor(value)
    return named


def _call_model(model, inputs: dict, **options) -> Any:
    parameters = model._call_parameters()
    if "use_cache" in parameters:
        options.setdefault("use_cache", False)
    options = {k: v for k, v in options.items() if k in parameters}
    return model(inputs, training=False, **options)


def serving_functions(model, *, int64: bool = True, output_hidden_states: bool = False,
                      output_attentions: bool = False) -> dict[str, Any]:
    """Concrete serving functions of ``model``: ``serving_default`` (int32) and ``serving_int64``.

    Batch and sequence length are dynamic. Outputs are the model's named outputs.

    Example:
        >>> fns = serving_functions(model)
        >>> fns["serving_default"](input_ids=tf.constant([[101, 102]]), ...)["logits"]
    """
    names = serving_input_names(model)
    shape = [None] * _input_rank(model)
    options = {"output_hidden_states": output_hidden_states, "output_attentions": output_attentions}
    functions = {}
    for signature, dtype in (("serving_default", tf.int32), ("serving_int64", tf.int64)):
        if dtype == tf.int64 and not int64:
            continue
        specs = {name: tf.TensorSpec(shape, dtype, name=name) for name in names}

        def serve(inputs, _names=tuple(names)):
            inputs = {name: tf.cast(inputs[name], tf.int32) for name in _names}
            return _named_outputs(_call_model(model, inputs, **options))

        functions[signature] = tf.function(serve, input_signature=[specs]).get_concrete_function()
    return functions


def next_version(export_dir: str | os.PathLike) -> int:
    """The next TF Serving version number under ``export_dir``: one more than the largest there.

    Example:
        >>> next_version("empty_or_missing_dir")
        1
    """
    folder = Path(export_dir)
    versions = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] \
        if folder.is_dir() else []
    return max(versions, default=0) + 1


def _write_atomically(module, signatures: dict, export_dir: str | os.PathLike,
                      version: int | None, extra_files: dict[str, str] | None = None) -> Path:
    """tf.saved_model.save into ``export_dir/<version>`` via a temporary folder and a rename."""
    root = Path(export_dir)
    root.mkdir(parents=True, exist_ok=True)
    version = next_version(root) if version is None else version
    final = root / str(version)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=root))
    try:
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(tmp), signatures=signatures, options=options)
        for name, text in (extra_files or {}).items():
            (tmp / "assets.extra").mkdir(exist_ok=True)
            (tmp / "assets.extra" / name).write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _Exportable(model, tokenizer=None):
    """What gets saved: the model's variables and the tokenizer (its tables).

    The plain tf.Variables are tracked (as Keras' ExportArchive does, but one level down):
    TF1-style loaders such as ``saved_model_cli run`` only restore variables saved that way.
    """
    module = tf.__internal__.tracking.AutoTrackable()
    module.variables = [getattr(v, "value", v) for v in model.variables]
    if tokenizer is not None:
        module.tokenizer = tokenizer
    return module


# ---------------------------------------------------------------------------------- model only


def export_saved_model(model, export_dir: str | os.PathLike, *, version: int | str | None = None,
                       int64: bool = True, output_hidden_states: bool = False,
                       output_attentions: bool = False) -> Path:
    """Write ``model`` as a SavedModel into ``export_dir/<version>/`` and return that folder.

    Signatures: ``serving_default`` (int32 inputs) and ``serving_int64``; inputs are
    ``input_ids``, ``attention_mask`` and (when the model takes them) ``token_type_ids``, with
    dynamic batch and sequence length. ``version`` defaults to one more than the largest
    existing version folder (a non-numeric ``version`` is used as the folder name). Loading
    it needs only TensorFlow.

    Example:
        >>> path = export_saved_model(model, "serving/bert")   # serving/bert/1
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(input_ids=ids, attention_mask=mask, token_type_ids=types)["logits"]
    """
    if not model.built:
        model.build_with_dummy_inputs()
    signatures = serving_functions(model, int64=int64, output_hidden_states=output_hidden_states,
                                   output_attentions=output_attentions)
    module = _Exportable(model)
    return _write_atomically(module, signatures, export_dir, version,
                             {"config.json": model.config.to_json_string()})


# ---------------------------------------------------------------------------------- end to end


def load_tokenizer_layer(checkpoint: str | os.PathLike, **kwargs):
    """The in-graph tokenizer layer for ``checkpoint`` (WordPiece for BERT-style vocabularies).

    Example:
        >>> tokenizer = load_tokenizer_layer("path/to/bert", max_length=128)
    """
    from kerasformers.tokenizers_tf import TFAutoTokenizer

    return TFAutoTokenizer.from_pretrained(checkpoint, **kwargs)


def _softmax_masked(logits, keep):
    logits = tf.where(keep, logits, tf.fill(tf.shape(logits), tf.constant(-10000.0, logits.dtype)))
    return tf.nn.softmax(logits, axis=-1)


def _task_outputs(task: str, model, tokenizer, encoded: dict, outputs,
                  max_answer_len: int = 15) -> dict[str, tf.Tensor]:
    """Post-processing of each task, in TensorFlow ops (mirrors transformers' pipelines)."""
    config = model.config
    mask = tf.cast(encoded["attention_mask"], tf.float32)
    if task == "feature-extraction":
        hidden = outputs["last_hidden_state"]
        summed = tf.reduce_sum(hidden * mask[:, :, None], axis=1)
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1e-9)
        pooled = summed / count
        return {"embeddings": pooled, "normalized_embeddings": tf.math.l2_normalize(pooled, axis=-1),
                "last_hidden_state": hidden}
    id2label = getattr(config, "id2label", None) or {}
    num_labels = int(getattr(config, "num_labels", len(id2label)) or len(id2label))
    names = tf.constant([str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(num_labels)])
    if task == "text-classification":
        logits = outputs["logits"]
        multi = getattr(config, "problem_type", None) == "multi_label_classification" or num_labels == 1
        probabilities = tf.sigmoid(logits) if multi else tf.nn.softmax(logits, axis=-1)
        label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"logits": logits, "probabilities": probabilities, "label_ids": label_ids,
                "labels": tf.gather(names, label_ids), "scores": tf.reduce_max(probabilities, axis=-1)}
    if task == "token-classification":
        logits = outputs["logits"]
        probabilities = tf.nn.softmax(logits, axis=-1)
        label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"logits": logits, "probabilities": probabilities, "label_ids": label_ids,
                "labels": tf.gather(names, label_ids), "scores": tf.reduce_max(probabilities, axis=-1),
                "input_ids": encoded["input_ids"], "tokens": tokenizer.ids_to_tokens(encoded["input_ids"]),
                "special_tokens_mask": encoded["special_tokens_mask"],
                "attention_mask": encoded["attention_mask"]}
    if task == "question-answering":
        start_logits, end_logits = outputs["start_logits"], outputs["end_logits"]
        # As transformers' pipeline: only context tokens (and [CLS]) are candidates; softmax,
        # then [CLS] is dropped; the best (start, end) with start <= end < start + max_answer_len.
        context = tf.logical_and(tf.equal(encoded["token_type_ids"], 1),
                                 tf.equal(encoded["special_tokens_mask"], 0))
        is_cls = tf.equal(tf.range(tf.shape(start_logits)[1])[None, :], 0)
        keep = tf.logical_and(tf.logical_or(context, is_cls), tf.equal(encoded["attention_mask"], 1))
        start = _softmax_masked(start_logits, keep)
        end = _softmax_masked(end_logits, keep)
        not_cls = tf.cast(tf.logical_not(is_cls), start.dtype)
        start, end = start * not_cls, end * not_cls
        scores = start[:, :, None] * end[:, None, :]
        scores = tf.linalg.band_part(scores, 0, max_answer_len - 1)
        length = tf.shape(scores)[1]
        flat = tf.reshape(scores, [tf.shape(scores)[0], -1])
        best = tf.argmax(flat, axis=-1, output_type=tf.int32)
        start_index, end_index = best // length, best % length
        positions = tf.range(length)[None, :]
        in_span = tf.logical_and(positions >= start_index[:, None], positions <= end_index[:, None])
        span_ids = tf.ragged.boolean_mask(encoded["input_ids"], in_span)
        return {"start": start_index, "end": end_index, "score": tf.reduce_max(flat, axis=-1),
                "answer": tokenizer.detokenize(span_ids), "start_logits": start_logits,
                "end_logits": end_logits}
    raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")


def _auto_class_for(task: str):
    from kerasformers.models import auto

    return {"feature-extraction": auto.TFAutoModel,
            "text-classification": auto.TFAutoModelForSequenceClassification,
            "token-classification": auto.TFAutoModelForTokenClassification,
            "question-answering": auto.TFAutoModelForQuestionAnswering}[task]


def normalize_task(task: str) -> str:
    """Canonical task name (``sentiment-analysis`` -> ``text-classification`` ...).

    Example:
        >>> normalize_task("ner")
        'token-classification'
    """
    task = _TASK_ALIASES.get(task, task)
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}. Tasks: {', '.join(TASKS)} "
                         f"(aliases: {', '.join(sorted(_TASK_ALIASES))}).")
    return task


def export_pipeline(checkpoint_or_model, export_dir: str | os.PathLike, *,
                    task: str = "text-classification", tokenizer=None, version: int | None = None,
                    max_length: int | None = None, max_answer_len: int = 15,
                    with_tokenizer: bool = True) -> Path:
    """Export tokenizer + model + the task's post-processing as one SavedModel.

    ``checkpoint_or_model`` is a checkpoint (then the model class follows ``task``) or a
    built model (then ``tokenizer`` defaults to the in-graph tokenizer of its checkpoint).
    With ``with_tokenizer`` the ``serving_default`` signature takes strings:

    - text-classification: ``text`` (and signature ``serving_pair``: ``text``, ``text_pair``)
      -> ``logits``, ``probabilities``, ``labels`` (id2label names), ``label_ids``, ``scores``.
    - feature-extraction: ``text`` -> ``embeddings`` (mean-pooled, as sentence-transformers),
      ``normalized_embeddings``, ``last_hidden_state``.
    - token-classification: ``text`` -> per-token ``labels``, ``scores``, ``tokens``, ...
    - question-answering: ``question``, ``context`` -> ``answer``, ``start``, ``end``, ``score``.

    Without ``with_tokenizer`` this is :func:`export_saved_model`. Returns ``export_dir/<version>``.

    Example:
        >>> path = export_pipeline("path/to/bert-sst2", "serving/sst2", task="text-classification")
        >>> tf.saved_model.load(str(path)).signatures["serving_default"](
        ...     text=tf.constant(["great film"]))["labels"]
    """
    task = normalize_task(task)
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        model = _auto_class_for(task).from_pretrained(checkpoint_or_model)
        source = checkpoint_or_model
    else:
        model = checkpoint_or_model
        source = getattr(model, "name_or_path", None)
    if not with_tokenizer:
        return export_saved_model(model, export_dir, version=version)
    if tokenizer is None:
        if source is None:
            raise ValueError("Pass tokenizer=... (an in-graph tokenizer layer): the model does not "
                             "say which checkpoint it came from.")
        limit = max_length or int(getattr(model.config, "max_position_embeddings", 512) or 512)
        tokenizer = load_tokenizer_layer(source, max_length=min(limit, 512))
    model_inputs = serving_input_names(model)

    def run(text, text_pair=None):
        encoded = tokenizer(text, text_pair, return_special_tokens_mask=True)
        inputs = {name: tf.cast(encoded[name], tf.int32) for name in model_inputs}
        outputs = _call_model(model, inputs)
        return _task_outputs(task, model, tokenizer, encoded, outputs, max_answer_len=max_answer_len)

    string = tf.TensorSpec([None], tf.string)
    signatures = {}
    if task == "question-answering":
        signatures["serving_default"] = tf.function(
            lambda question, context: run(question, context),
            input_signature=[tf.TensorSpec([None], tf.string, name="question"),
                             tf.TensorSpec([None], tf.string, name="context")]).get_concrete_function()
    else:
        signatures["serving_default"] = tf.function(
            lambda text: run(text), input_signature=[tf.TensorSpec([None], tf.string, name="text")]
        ).get_concrete_function()
        if task == "text-classification":
            signatures["serving_pair"] = tf.function(
                lambda text, text_pair: run(text, text_pair),
                input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                 tf.TensorSpec([None], tf.string, name="text_pair")]).get_concrete_function()
    del string
    module = _Exportable(model, tokenizer)
    extra = {"config.json": model.config.to_json_string(), "task.txt": task}
    return _write_atomically(module, signatures, export_dir, version, extra)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


# ---------------------------------------------------------------------------------- command line


def add_export_parser(subparsers) -> None:
    """Declare ``kerasformers export CHECKPOINT DIR [--task ...] [--with-tokenizer]``."""
    p = subparsers.add_parser(
        "export", help="write a checkpoint as a TF Serving SavedModel",
        description="Export a checkpoint as a SavedModel in TF Serving's layout (DIR/<version>/). With "
                    "--with-tokenizer the serving signature takes strings and returns the task's "
                    "predictions; without it, int32/int64 token ids and the model's outputs.")
    p.add_argument("checkpoint", help="checkpoint folder or name")
    p.add_argument("output_dir", help="export folder; the model goes into OUTPUT_DIR/<version>/")
    p.add_argument("--task", default="text-classification",
                   help=f"one of {', '.join(TASKS)} (aliases: {', '.join(sorted(_TASK_ALIASES))})")
    p.add_argument("--with-tokenizer", action="store_true", help="put the tokenizer into the graph")
    p.add_argument("--version", type=int, help="version folder (default: one more than the largest there)")
    p.add_argument("--max-length", type=int, help="truncate texts to this many tokens")
    p.add_argument("--max-answer-len", type=int, default=15, help="question-answering: longest answer")
    p.set_defaults(run=run_export)


def run_export(args) -> Path:
    """Run ``kerasformers export`` from parsed arguments; prints the written folder."""
    path = export_pipeline(args.checkpoint, args.output_dir, task=args.task, version=args.version,
                           max_length=args.max_length, max_answer_len=args.max_answer_len,
                           with_tokenizer=args.with_tokenizer)
    print(path)
    return path
