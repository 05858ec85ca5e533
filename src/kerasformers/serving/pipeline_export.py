"""End-to-end SavedModel export: tokenizer + model + the task's post-processing in one graph,
strings in, predictions out (:func:`export_pipeline`)."""

from __future__ import annotations

import os
from pathlib import Path

from kerasformers.errors import ExportError, InvalidInputTypeError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.postprocess import task_outputs
from kerasformers.serving.saved_model import (
    check_export_target,
    export_saved_model,
    exportable_module,
    write_saved_model,
)
from kerasformers.serving.signatures import call_model, load_tokenizer_layer, serving_input_names
from kerasformers.serving.text2text_generation import export_text2text_generation
from kerasformers.serving.text_generation import export_text_generation
from kerasformers.tasks import export_task_names, resolve_task

__all__ = ["TASKS", "normalize_task", "export_pipeline"]

# The tasks kerasformers export takes, in the task table's order (kerasformers.tasks).
TASKS = export_task_names()


def auto_class_for(task: str):
    """The TFAutoModel* class that loads a checkpoint for ``task`` (a name or alias).

    Example:
        >>> auto_class_for("sentiment-analysis").__name__
        'TFAutoModelForSequenceClassification'
    """
    from kerasformers.models import auto

    return getattr(auto, resolve_task(task).auto_class)


def normalize_task(task: str) -> str:
    """Canonical task name (``sentiment-analysis`` -> ``text-classification`` ...); an unknown or
    non-exportable task raises UnsupportedModelTypeError naming the choices.

    Example:
        >>> normalize_task("ner")
        'token-classification'
    """
    return resolve_task(task, exportable=True).name


# Tasks whose export puts an image processor or feature extractor (not a tokenizer alone) in the graph.
_PROCESSOR_EXPORTS = {
    "image-classification": "images",
    "zero-shot-image-classification": "images",
    "image-to-text": "images",
    "automatic-speech-recognition": "audio",
}


def _export_with_processor(task, checkpoint_or_model, export_dir, *, tokenizer, version, overwrite, **options):
    """export_pipeline for the image and speech tasks: each has its own exporter module."""
    if task == "image-classification":
        from kerasformers.serving.image_classification import export_image_classification

        if tokenizer is not None:
            raise InvalidInputTypeError("image-classification takes no tokenizer; pass image_processor=... instead.")
        return export_image_classification(
            checkpoint_or_model, export_dir, version=version, overwrite=overwrite, **options
        )
    if task == "zero-shot-image-classification":
        from kerasformers.serving.zero_shot_image_classification import export_zero_shot_image_classification

        labels = options.pop("candidate_labels", None)
        if not labels:
            raise ExportError(
                "A zero-shot-image-classification export fixes its label set in the graph: pass "
                "candidate_labels=[...] (e.g. ['a photo of a cat', 'a photo of a dog'])."
            )
        return export_zero_shot_image_classification(
            checkpoint_or_model,
            export_dir,
            labels,
            tokenizer=tokenizer,
            version=version,
            overwrite=overwrite,
            **options,
        )
    if task == "image-to-text":
        from kerasformers.serving.image_to_text import export_image_to_text

        return export_image_to_text(
            checkpoint_or_model, export_dir, tokenizer=tokenizer, version=version, overwrite=overwrite, **options
        )
    from kerasformers.serving.speech_recognition import export_speech_recognition

    model = checkpoint_or_model
    if isinstance(model, (str, os.PathLike)):
        check_export_target(export_dir, version, overwrite)  # before the (slow) load
        model = auto_class_for(task).from_pretrained(model)
    return export_speech_recognition(
        model, export_dir, tokenizer=tokenizer, version=version, overwrite=overwrite, **options
    )


def export_pipeline(
    checkpoint_or_model,
    export_dir: str | os.PathLike,
    *,
    task: str = "text-classification",
    tokenizer=None,
    version: int | None = None,
    max_length: int | None = None,
    max_answer_len: int = 15,
    with_tokenizer: bool = True,
    overwrite: bool = False,
    **options,
) -> Path:
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
    - text2text-generation: ``text`` (sources) -> ``generated_text``, ``generated_ids``, ... (encoder-decoder
      models: T5, BART, Marian; ``generation_options`` such as ``max_new_tokens``, ``num_beams``,
      ``max_source_length``: see :func:`export_text2text_generation`).

    - image-classification, zero-shot-image-classification, image-to-text (``images``: encoded
      JPEG/PNG bytes) and automatic-speech-recognition (``audio``: 16 kHz float32): the image
      processor or feature extractor runs in the graph; ``options`` go to
      :func:`~kerasformers.serving.image_classification.export_image_classification`,
      :func:`~kerasformers.serving.zero_shot_image_classification.export_zero_shot_image_classification`
      (``candidate_labels``, ``hypothesis_template``),
      :func:`~kerasformers.serving.image_to_text.export_image_to_text` (``image_processor``,
      generation options) and
      :func:`~kerasformers.serving.speech_recognition.export_speech_recognition` (``language``,
      ``feature_extractor``, generation options). These take no ``with_tokenizer=False``.

    Without ``with_tokenizer`` this is :func:`export_saved_model`. Returns ``export_dir/<version>``;
    an existing ``version`` is replaced only with ``overwrite=True`` (checked before loading).

    Example:
        >>> path = export_pipeline("path/to/bert-sst2", "serving/sst2", task="text-classification")
        >>> tf.saved_model.load(str(path)).signatures["serving_default"](
        ...     text=tf.constant(["great film"]))["labels"]
    """
    task = normalize_task(task)
    if task in _PROCESSOR_EXPORTS:
        if not with_tokenizer:
            raise ExportError(
                f"A {task} export reads raw {_PROCESSOR_EXPORTS[task]} through its processor inside the graph: "
                "drop with_tokenizer=False (for the model alone use export_saved_model / model.export(dir))."
            )
        return _export_with_processor(
            task, checkpoint_or_model, export_dir, tokenizer=tokenizer, version=version, overwrite=overwrite, **options
        )
    generation_options = options
    generative = task in ("text-generation", "text2text-generation")
    if generation_options and not generative:
        raise InvalidInputTypeError(
            f"{', '.join(sorted(generation_options))}: generation options, for task='text-generation' "
            f"or 'text2text-generation' only (the task is {task!r})."
        )
    if generative and not with_tokenizer:
        raise ExportError(
            f"A {task} export takes and returns strings, so it needs the tokenizer: pass "
            "with_tokenizer=True (--with-tokenizer). For token ids in and logits out, export the "
            "model alone with export_saved_model / model.export(dir)."
        )
    if not isinstance(max_answer_len, int) or max_answer_len < 1:
        raise ExportError(f"max_answer_len must be a whole number >= 1 (tokens in an answer), got {max_answer_len!r}.")
    check_export_target(export_dir, version, overwrite)  # before the (slow) load and trace
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        model = auto_class_for(task).from_pretrained(checkpoint_or_model)
        source = checkpoint_or_model
    else:
        model = checkpoint_or_model
        source = getattr(model, "name_or_path", None)
    if not with_tokenizer:
        return export_saved_model(model, export_dir, version=version, overwrite=overwrite)
    if task == "text-generation":
        return export_text_generation(
            model, export_dir, tokenizer=tokenizer, version=version, overwrite=overwrite, **generation_options
        )
    if task == "text2text-generation":
        return export_text2text_generation(
            model, export_dir, tokenizer=tokenizer, version=version, overwrite=overwrite, **generation_options
        )
    if tokenizer is None:
        if source is None:
            raise ExportError(
                "Pass tokenizer=... (an in-graph tokenizer layer): the model does not "
                "say which checkpoint it came from."
            )
        limit = max_length or int(getattr(model.config, "max_position_embeddings", 512) or 512)
        tokenizer = load_tokenizer_layer(source, max_length=min(limit, 512))
    model_inputs = serving_input_names(model)

    def run(text, text_pair=None):
        encoded = tokenizer(text, text_pair, return_special_tokens_mask=True)
        inputs = {name: tf.cast(encoded[name], tf.int32) for name in model_inputs}
        outputs = call_model(model, inputs)
        return task_outputs(task, model, tokenizer, encoded, outputs, max_answer_len=max_answer_len)

    string = tf.TensorSpec([None], tf.string)
    signatures = {}
    if task == "question-answering":
        signatures["serving_default"] = tf.function(
            lambda question, context: run(question, context),
            input_signature=[
                tf.TensorSpec([None], tf.string, name="question"),
                tf.TensorSpec([None], tf.string, name="context"),
            ],
        ).get_concrete_function()
    else:
        signatures["serving_default"] = tf.function(
            lambda text: run(text), input_signature=[tf.TensorSpec([None], tf.string, name="text")]
        ).get_concrete_function()
        if task == "text-classification":
            signatures["serving_pair"] = tf.function(
                lambda text, text_pair: run(text, text_pair),
                input_signature=[
                    tf.TensorSpec([None], tf.string, name="text"),
                    tf.TensorSpec([None], tf.string, name="text_pair"),
                ],
            ).get_concrete_function()
    del string
    module = exportable_module(model, tokenizer)
    extra = {"config.json": model.config.to_json_string(), "task.txt": task}
    return write_saved_model(module, signatures, export_dir, version, extra, overwrite=overwrite)
