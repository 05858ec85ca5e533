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
  embeddings), or for ``text-generation`` the generated continuations, with the XLA-compiled
  generate loop inside the graph (:func:`export_text_generation`).

The exported directory needs TensorFlow (and tensorflow-text when a tokenizer is inside) to
load, never kerasformers::

    import tensorflow as tf, tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    serve = tf.saved_model.load("out/1").signatures["serving_default"]
    serve(text=tf.constant(["I loved it"]))["labels"]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from kerasformers.errors import ExportError, InvalidInputTypeError, NotAFolderError, NotSupportedError, TargetExistsError


class _LazyTensorFlow:
    """``tensorflow``, imported on first use, so ``kerasformers --help`` stays fast."""

    def __getattr__(self, name: str):
        import tensorflow

        return getattr(tensorflow, name)


tf = _LazyTensorFlow()

__all__ = [
    "TASKS",
    "serving_input_names",
    "serving_function",
    "serving_functions",
    "check_export_target",
    "export_saved_model",
    "export_pipeline",
    "export_text_generation",
    "next_version",
    "load_tokenizer_layer",
]

SERVING_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

TASKS = ("feature-extraction", "text-classification", "token-classification", "question-answering",
         "text-generation")
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


def serving_function(model, *, output_hidden_states: bool = False, output_attentions: bool = False):
    """The model's serving ``tf.function``: a dict of int32 or int64 token ids -> named outputs.

    One function for both dtypes (ids are cast to int32 inside), so a SavedModel that keeps it
    (as ``serve``) takes the int64 arrays tokenizers return as well as int32.

    Example:
        >>> serve = serving_function(model)
        >>> serve({"input_ids": ids, "attention_mask": mask})["logits"]
    """
    names = tuple(serving_input_names(model))
    options = {"output_hidden_states": output_hidden_states, "output_attentions": output_attentions}

    def serve(inputs):
        inputs = {name: tf.cast(inputs[name], tf.int32) for name in names}
        return _named_outputs(_call_model(model, inputs, **options))

    return tf.function(serve)


def serving_functions(model, *, int64: bool = True, output_hidden_states: bool = False,
                      output_attentions: bool = False, function=None) -> dict[str, Any]:
    """Concrete serving functions of ``model``: ``serving_default`` (int32) and ``serving_int64``.

    Batch and sequence length are dynamic. Outputs are the model's named outputs. A signature
    has fixed input types (TF Serving's contract), so int64 ids go to ``serving_int64``;
    ``tf.saved_model.load(path).serve({...})`` takes either.

    Example:
        >>> fns = serving_functions(model)
        >>> fns["serving_default"](input_ids=tf.constant([[101, 102]]), ...)["logits"]
    """
    names = serving_input_names(model)
    shape = [None] * _input_rank(model)
    if function is None:
        function = serving_function(model, output_hidden_states=output_hidden_states,
                                    output_attentions=output_attentions)
    functions = {}
    for signature, dtype in (("serving_default", tf.int32), ("serving_int64", tf.int64)):
        if dtype == tf.int64 and not int64:
            continue
        specs = {name: tf.TensorSpec(shape, dtype, name=name) for name in names}
        functions[signature] = function.get_concrete_function(specs)
    return functions


def next_version(export_dir: str | os.PathLike) -> int:
    """The next TF Serving version number under ``export_dir``: one more than the largest there.

    Hidden folders (a ``.tmp-*`` export in progress, a ``.old-*`` version being replaced) are
    not versions.

    Example:
        >>> next_version("empty_or_missing_dir")
        1
    """
    folder = Path(export_dir)
    versions = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] \
        if folder.is_dir() else []
    return max(versions, default=0) + 1


def check_export_target(export_dir: str | os.PathLike, version: int | str | None = None,
                        overwrite: bool = False) -> None:
    """Refuse, before any work, an export that could not be written or would replace a version.

    ``export_dir`` must be a folder (or not exist yet); ``version`` (when given) a whole number
    >= 0 or a plain folder name; ``export_dir/<version>`` must not exist unless ``overwrite``.

    Example:
        >>> check_export_target("serving/bert", 1)   # FileExistsError if serving/bert/1 exists
    """
    root = Path(export_dir)
    if root.exists() and not root.is_dir():
        raise NotAFolderError(f"The export folder {str(root)!r} is an existing file: give a folder path "
                                 "(versions go into <folder>/<version>/).")
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotAFolderError(f"The export folder {str(root)!r} cannot be created: {str(existing)!r} is a "
                                 "file, not a folder.")
    if version is None:
        return
    name = str(version)
    if isinstance(version, bool) or (isinstance(version, int) and version < 0) or not name \
            or name.startswith(".") or "/" in name or os.sep in name:
        raise ExportError(f"version={version!r} is not a version folder name: use a whole number >= 0 "
                         "(TF Serving's versions) or a plain folder name not starting with '.'.")
    if (root / name).exists() and not overwrite:
        raise TargetExistsError(f"{str(root / name)!r} already exists: pass overwrite=True (kerasformers export "
                              f"--overwrite) to replace it, or leave the version out to write the next free "
                              f"one ({next_version(root)}).")


def _write_atomically(module, signatures: dict, export_dir: str | os.PathLike,
                      version: int | str | None, extra_files: dict[str, str] | None = None,
                      overwrite: bool = False) -> Path:
    """tf.saved_model.save into ``export_dir/<version>`` via a hidden temporary folder and a rename.

    The version folder appears only complete: a kill during the save leaves a hidden
    ``.tmp-*`` folder (never a version, see :func:`next_version`). Replacing a version
    (``overwrite``) first moves the old one to a hidden ``.old-*`` name, so it is never deleted
    before the new one is in place.
    """
    root = Path(export_dir)
    check_export_target(root, version, overwrite)
    root.mkdir(parents=True, exist_ok=True)
    version = next_version(root) if version is None else version
    final = root / str(version)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=root))
    old = None
    try:
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(tmp), signatures=signatures, options=options)
        for name, text in (extra_files or {}).items():
            (tmp / "assets.extra").mkdir(exist_ok=True)
            (tmp / "assets.extra" / name).write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        check_export_target(root, version, overwrite)  # another writer may have taken it meanwhile
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{version}-", dir=root))
            os.replace(final, old / "version")
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not final.exists():  # the new one failed to land: put the old one back
            os.replace(old / "version", final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
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
                       output_attentions: bool = False, overwrite: bool = False) -> Path:
    """Write ``model`` as a SavedModel into ``export_dir/<version>/`` and return that folder.

    Signatures: ``serving_default`` (int32 inputs) and ``serving_int64``; inputs are
    ``input_ids``, ``attention_mask`` and (when the model takes them) ``token_type_ids``, with
    dynamic batch and sequence length. ``version`` defaults to one more than the largest
    existing version folder (a non-numeric ``version`` is used as the folder name); an existing
    ``version`` is replaced only with ``overwrite=True`` (else FileExistsError, before any work).
    The loaded object's ``serve({...})`` takes int32 or int64 ids (a signature takes one dtype:
    int64 ids go to ``serving_int64``). Loading it needs only TensorFlow.

    Example:
        >>> path = export_saved_model(model, "serving/bert")   # serving/bert/1
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(input_ids=ids, attention_mask=mask, token_type_ids=types)["logits"]
        >>> tf.saved_model.load(str(path)).serve(dict(tokenizer(texts, return_tensors="np")))
    """
    check_export_target(export_dir, version, overwrite)
    if not model.built:
        model.build_with_dummy_inputs()
    function = serving_function(model, output_hidden_states=output_hidden_states,
                                output_attentions=output_attentions)
    signatures = serving_functions(model, int64=int64, function=function)
    module = _Exportable(model)
    module.serve = function  # both traced dtypes: tf.saved_model.load(path).serve takes int32 or int64
    return _write_atomically(module, signatures, export_dir, version,
                             {"config.json": model.config.to_json_string()}, overwrite=overwrite)


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
        return {"start": start_index, "end": end_index, "score": tf.reduce_max(flat, axis=-1),
                "answer": tokenizer.detokenize(span_ids), "start_logits": start_logits,
                "end_logits": end_logits}
    raise ExportError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")


def _auto_class_for(task: str):
    from kerasformers.models import auto

    return {"feature-extraction": auto.TFAutoModel,
            "text-classification": auto.TFAutoModelForSequenceClassification,
            "token-classification": auto.TFAutoModelForTokenClassification,
            "question-answering": auto.TFAutoModelForQuestionAnswering,
            "text-generation": auto.TFAutoModelForCausalLM}[task]


def normalize_task(task: str) -> str:
    """Canonical task name (``sentiment-analysis`` -> ``text-classification`` ...).

    Example:
        >>> normalize_task("ner")
        'token-classification'
    """
    task = _TASK_ALIASES.get(task, task)
    if task not in TASKS:
        raise ExportError(f"Unknown task {task!r}. Tasks: {', '.join(TASKS)} "
                         f"(aliases: {', '.join(sorted(_TASK_ALIASES))}).")
    return task


def export_pipeline(checkpoint_or_model, export_dir: str | os.PathLike, *,
                    task: str = "text-classification", tokenizer=None, version: int | None = None,
                    max_length: int | None = None, max_answer_len: int = 15,
                    with_tokenizer: bool = True, overwrite: bool = False, **generation_options) -> Path:
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
    - text-generation: ``text`` (prompts) -> ``generated_text``, ``generated_ids``, ... (decoder-only
      models; ``generation_options`` such as ``max_new_tokens``, ``do_sample``, ``temperature``,
      ``max_prompt_length``: see :func:`export_text_generation`).

    Without ``with_tokenizer`` this is :func:`export_saved_model`. Returns ``export_dir/<version>``;
    an existing ``version`` is replaced only with ``overwrite=True`` (checked before loading).

    Example:
        >>> path = export_pipeline("path/to/bert-sst2", "serving/sst2", task="text-classification")
        >>> tf.saved_model.load(str(path)).signatures["serving_default"](
        ...     text=tf.constant(["great film"]))["labels"]
    """
    task = normalize_task(task)
    if generation_options and task != "text-generation":
        raise InvalidInputTypeError(f"{', '.join(sorted(generation_options))}: generation options, for task='text-generation' "
                        f"only (the task is {task!r}).")
    if task == "text-generation" and not with_tokenizer:
        raise ExportError("A text-generation export takes and returns strings, so it needs the tokenizer: pass "
                         "with_tokenizer=True (--with-tokenizer). For token ids in and logits out, export the "
                         "model alone with export_saved_model / model.export(dir).")
    if not isinstance(max_answer_len, int) or max_answer_len < 1:
        raise ExportError(f"max_answer_len must be a whole number >= 1 (tokens in an answer), got {max_answer_len!r}.")
    check_export_target(export_dir, version, overwrite)  # before the (slow) load and trace
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        model = _auto_class_for(task).from_pretrained(checkpoint_or_model)
        source = checkpoint_or_model
    else:
        model = checkpoint_or_model
        source = getattr(model, "name_or_path", None)
    if not with_tokenizer:
        return export_saved_model(model, export_dir, version=version, overwrite=overwrite)
    if task == "text-generation":
        return export_text_generation(model, export_dir, tokenizer=tokenizer, version=version,
                                      overwrite=overwrite, **generation_options)
    if tokenizer is None:
        if source is None:
            raise ExportError("Pass tokenizer=... (an in-graph tokenizer layer): the model does not "
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
    return _write_atomically(module, signatures, export_dir, version, extra, overwrite=overwrite)


# ---------------------------------------------------------------------------------- text generation

DEFAULT_MAX_NEW_TOKENS = 20  # transformers' default max_length, when the checkpoint sets no max_new_tokens
DEFAULT_MAX_PROMPT_LENGTH = 512
PROMPT_TRUNCATION = ("error", "left")


def _prompt_buckets(max_prompt_length: int) -> list[int]:
    """The padded prompt lengths compiled for: powers of two from 16, the last one capped at the limit.

    These are generate()'s buckets (``prompt_bucket(n, max_prompt_length)``), so an exported
    model runs the programs ``model.generate`` runs on the same batch (up to the last bucket,
    which generate() would not cap).
    """
    from kerasformers.generation.utils import MIN_BUCKET

    buckets, bucket = [], MIN_BUCKET
    while bucket < max_prompt_length:
        buckets.append(bucket)
        bucket *= 2
    return buckets + [max_prompt_length]


def _left_pad(ids, lengths, longest, width: int, generation_pad: int, tokenizer_pad: int):
    """Ragged prompts -> (ids, mask) of shape (batch, width), right-aligned.

    As generate() sees a left-padded batch: the tokenizer's pad id up to the longest prompt,
    the generation pad id in the bucket padding before it.
    """
    rows = tf.shape(lengths)[0]
    columns = tf.range(width)[None, :]
    fill = tf.where(columns < width - longest, generation_pad, tokenizer_pad)
    base = tf.broadcast_to(fill, [rows, width])
    starts = width - lengths
    targets = tf.ragged.range(lengths) + tf.cast(starts, tf.int32)[:, None]
    indices = tf.stack([tf.cast(targets.value_rowids(), tf.int32), targets.flat_values], axis=1)
    padded = tf.tensor_scatter_nd_update(base, indices, ids.flat_values)
    mask = tf.tensor_scatter_nd_update(tf.zeros([rows, width], tf.int32), indices,
                                       tf.ones_like(ids.flat_values))
    return padded, mask


def export_text_generation(model, export_dir: str | os.PathLike, *, tokenizer=None, version: int | None = None,
                           max_prompt_length: int | None = None, prompt_truncation: str = "error",
                           overwrite: bool = False, **generate_kwargs) -> Path:
    """Export prompt strings in, generated strings out: tokenizer + compiled generate loop + detokenizer.

    ``serving_default`` takes ``text`` (a batch of prompts, any batch size) and returns
    ``generated_text`` (the continuation only, special tokens skipped: transformers' pipeline
    with ``return_full_text=False``), ``generated_ids`` (int32, (batch, steps): the new tokens,
    ``pad_token_id`` after a row's eos, exactly what ``model.generate`` appends),
    ``num_generated_tokens`` (per row, eos included) and ``num_prompt_tokens`` (after truncation).

    ``tokenizer`` is an in-graph tokenizer layer, by default the one of the model's checkpoint.
    In the graph: the tokenizer (BOS as its template adds it), left padding of the
    ragged ids, then generate()'s XLA-compiled loop (greedy, or sampling with a fresh seed per
    call) for the prompt bucket that fits the longest prompt; each row stops at eos. Settings
    come from the checkpoint's generation_config, overridden by ``generate_kwargs``
    (``max_new_tokens`` (default: the config's, else 20), ``do_sample``, ``temperature``,
    ``top_k``, ``top_p``, ``min_p``, ``repetition_penalty``, ``eos_token_id``, ...); beam search
    is not exported. Prompts may have up to ``max_prompt_length`` tokens (default
    ``min(512, max_position_embeddings - max_new_tokens)``); a longer one fails the call with an
    error naming the limit, or with ``prompt_truncation="left"`` keeps its last
    ``max_prompt_length`` tokens. XLA compiles one program per (batch size, prompt bucket) on
    first use, in the serving process. An existing ``version`` is replaced only with ``overwrite=True``.

    Example:
        >>> model = TFAutoModelForCausalLM.from_pretrained("path/to/smollm2")
        >>> path = export_text_generation(model, "serving/smollm2", max_new_tokens=32)
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(text=tf.constant(["The capital of France is"]))["generated_text"]
    """
    from kerasformers.generation.configuration_utils import _DEFAULTS

    if not hasattr(model, "_gen_sample_loop"):
        raise ExportError(f"text-generation needs a decoder-only language model with generate() "
                         f"(TFAutoModelForCausalLM), got {type(model).__name__}.")
    unknown = sorted(set(generate_kwargs) - set(_DEFAULTS))
    if unknown:
        raise InvalidInputTypeError(f"Unknown generation options {unknown}; known: {', '.join(sorted(_DEFAULTS))}.")
    if prompt_truncation not in PROMPT_TRUNCATION:
        raise ExportError(f"prompt_truncation must be one of {PROMPT_TRUNCATION}, got {prompt_truncation!r}.")
    check_export_target(export_dir, version, overwrite)
    config = model.generation_config.update(**generate_kwargs)
    config.validate()
    if config.num_beams > 1 or config.num_return_sequences > 1:
        raise NotSupportedError("Exported generation runs greedy decoding or sampling, one sequence per "
                                  "prompt: pass num_beams=1 and num_return_sequences=1.")
    max_new = int(config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
    config = config.update(max_new_tokens=max_new)
    limit = int(getattr(model.config, "max_position_embeddings", 0) or 0) or None
    if max_prompt_length is None:
        max_prompt_length = min(DEFAULT_MAX_PROMPT_LENGTH, limit - max_new) if limit else DEFAULT_MAX_PROMPT_LENGTH
    max_prompt_length = int(max_prompt_length)
    if max_new < 1 or max_prompt_length < 1:
        raise ExportError(f"max_new_tokens ({max_new}) and max_prompt_length ({max_prompt_length}) must be >= 1.")
    if limit and max_prompt_length + max_new > limit:
        raise ExportError(f"max_prompt_length ({max_prompt_length}) + max_new_tokens ({max_new}) exceeds the "
                         f"model's max_position_embeddings ({limit}); lower one of them.")
    if tokenizer is None:
        source = getattr(model, "name_or_path", None)
        if not source:
            raise ExportError("Pass tokenizer=... (an in-graph tokenizer layer): the model does not "
                             "say which checkpoint it came from.")
        tokenizer = load_tokenizer_layer(source)
    if not hasattr(tokenizer, "detokenize"):
        raise ExportError(f"The tokenizer layer {type(tokenizer).__name__} has no detokenize(ids), which "
                         "text-generation needs to turn the new tokens back into text.")
    if not model.built:
        model.build_with_dummy_inputs()

    eos = config.eos_token_ids
    pad = config.pad_token_id
    if pad is None and eos:
        pad = eos[0]  # as generate() does
    strategy = "sample" if config.do_sample else "greedy"
    buckets = _prompt_buckets(max_prompt_length)

    def loop_for(bucket):
        settings = dict(config=config, eos=tuple(eos), pad=pad, max_new_tokens=max_new, bucket=bucket)

        # generate()'s own loop; batch size stays dynamic, XLA compiles per batch size when it runs
        @tf.function(jit_compile=True)
        def loop(ids, mask, prompt_length, seed):
            buffer, steps = model._gen_sample_loop(ids, mask, prompt_length, seed, settings, strategy)
            return buffer[:, bucket:], steps

        return loop

    loops = [loop_for(bucket) for bucket in buckets]
    too_long = (f"A prompt has more than max_prompt_length={max_prompt_length} tokens, the most this export "
                "takes: shorten it, or export again with a larger max_prompt_length or prompt_truncation='left'.")
    empty = ("A prompt has no tokens (an empty string, and this tokenizer adds no BOS token): give every "
             "prompt some text.")

    def generate_text(text):
        ids = tokenizer(text, padding="do_not_pad", truncation=False)["input_ids"]
        ids = tf.cast(ids if isinstance(ids, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(ids), tf.int32)
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        if prompt_truncation == "left":
            keep = tf.ragged.range(lengths) >= (lengths - max_prompt_length)[:, None]
            ids = tf.ragged.boolean_mask(ids, keep)
            lengths = tf.minimum(lengths, max_prompt_length)
        checks = [tf.debugging.assert_positive(lengths, message=empty),
                  tf.debugging.assert_less_equal(lengths, max_prompt_length, message=too_long)]
        with tf.control_dependencies(checks):
            longest = tf.reduce_max(tf.concat([lengths, [1]], axis=0))
        if config.do_sample:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
        else:
            seed = tf.zeros([2], tf.int32)
        branch = tf.reduce_sum(tf.cast(tf.constant(buckets) < longest, tf.int32))

        def run(bucket, loop):
            padded, mask = _left_pad(ids, lengths, longest, bucket, pad if pad is not None else 0,
                                     tokenizer.pad_id)
            return loop(padded, mask, longest, seed)

        new, steps = tf.switch_case(branch, [lambda b=b, f=f: run(b, f) for b, f in zip(buckets, loops)])
        new = new[:, :steps]
        count = tf.fill(tf.shape(new)[:1], steps)
        if eos:  # up to and including each row's first eos
            hit = tf.reduce_any(new[:, :, None] == tf.constant(eos, tf.int32), axis=-1)
            count = tf.where(tf.reduce_any(hit, axis=1), tf.argmax(tf.cast(hit, tf.int32), axis=1,
                                                                   output_type=tf.int32) + 1, count)
        text_out = tokenizer.detokenize(tf.RaggedTensor.from_tensor(new, lengths=count))
        return {"generated_text": text_out, "generated_ids": new, "num_generated_tokens": count,
                "num_prompt_tokens": lengths}

    signature = tf.function(generate_text, input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    signatures = {"serving_default": signature.get_concrete_function()}
    module = _Exportable(model, tokenizer)
    export = {"max_new_tokens": max_new, "max_prompt_length": max_prompt_length,
              "prompt_truncation": prompt_truncation, "prompt_buckets": buckets}
    extra = {"config.json": model.config.to_json_string(), "task.txt": "text-generation",
             "generation_config.json": json.dumps(config.to_diff_dict(), indent=2, sort_keys=True, default=str),
             "export.json": json.dumps(export, indent=2)}
    return _write_atomically(module, signatures, export_dir, version, extra, overwrite=overwrite)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


# ---------------------------------------------------------------------------------- command line


def add_export_parser(subparsers) -> None:
    """Declare ``kerasformers export CHECKPOINT DIR [--task ...] [--with-tokenizer]``."""
    p = subparsers.add_parser(
        "export", help="write a checkpoint as a TF Serving SavedModel (or ONNX: --format onnx)",
        description="Export a checkpoint as a SavedModel in TF Serving's layout (DIR/<version>/). With "
                    "--with-tokenizer the serving signature takes strings and returns the task's "
                    "predictions; without it, int32/int64 token ids and the model's outputs.")
    p.add_argument("checkpoint", help="checkpoint folder or name")
    p.add_argument("output_dir", help="export folder; the model goes into OUTPUT_DIR/<version>/")
    p.add_argument("--task", default="text-classification",
                   help=f"one of {', '.join(TASKS)} (aliases: {', '.join(sorted(_TASK_ALIASES))})")
    p.add_argument("--with-tokenizer", action="store_true", help="put the tokenizer into the graph")
    p.add_argument("--format", choices=("saved_model", "onnx"), default="saved_model",
                   help="onnx: the model alone as OUTPUT_DIR/model.onnx (needs kerasformers[onnx])")
    p.add_argument("--opset", type=int, help="--format onnx: the ONNX opset (default 17)")
    p.add_argument("--version", type=int, help="version folder (default: one more than the largest there)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --version folder (or, with --format onnx, OUTPUT_DIR/model.onnx)")
    p.add_argument("--max-length", type=int, help="truncate texts to this many tokens")
    p.add_argument("--max-answer-len", type=int, default=15, help="question-answering: longest answer")
    generation = p.add_argument_group("text-generation (defaults: the checkpoint's generation_config)")
    generation.add_argument("--max-new-tokens", type=int, help="tokens generated per prompt (else 20)")
    generation.add_argument("--max-prompt-length", type=int,
                            help="longest prompt in tokens (default min(512, positions - max new tokens))")
    generation.add_argument("--prompt-truncation", choices=PROMPT_TRUNCATION, default="error",
                            help="a longer prompt fails the call (error) or keeps its last tokens (left)")
    generation.add_argument("--do-sample", action=argparse.BooleanOptionalAction, default=None,
                            help="sample (a fresh seed per call) instead of greedy decoding")
    for name, kind in (("temperature", float), ("top-k", int), ("top-p", float), ("min-p", float),
                       ("repetition-penalty", float)):
        generation.add_argument(f"--{name}", type=kind)
    p.set_defaults(run=run_export)


def run_export(args) -> Path:
    """Run ``kerasformers export`` from parsed arguments; prints the written folder."""
    if getattr(args, "format", "saved_model") == "onnx":
        from kerasformers.onnx import run_onnx_export

        return run_onnx_export(args)
    generation = {}
    if normalize_task(args.task) == "text-generation":
        names = ("max_new_tokens", "max_prompt_length", "do_sample", "temperature", "top_k", "top_p", "min_p",
                 "repetition_penalty")
        generation = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
        generation["prompt_truncation"] = args.prompt_truncation
    path = export_pipeline(args.checkpoint, args.output_dir, task=args.task, version=args.version,
                           max_length=args.max_length, max_answer_len=args.max_answer_len,
                           with_tokenizer=args.with_tokenizer, overwrite=args.overwrite, **generation)
    print(path)
    return path
