"""Serving: SavedModel and ONNX export, and the ``kerasformers export`` command.

Two kinds of SavedModel export, both written in TF Serving's layout (``<dir>/<version>/saved_model.pb``):

- :func:`export_saved_model` (also ``model.export(dir)`` and
  ``model.save_pretrained(dir, saved_model=True)``): the model alone. ``serving_default`` takes
  int32 ``input_ids`` / ``attention_mask`` / ``token_type_ids`` of shape (batch, sequence),
  both dynamic; ``serving_int64`` takes the same as int64. Outputs are named after the
  model's output fields (``logits``, ``last_hidden_state``, ``pooler_output``, ...).
- :func:`export_pipeline` (also ``kerasformers export <checkpoint> <dir> --task ...
  --with-tokenizer``): tokenizer + model + the task's post-processing in one graph. The
  signature takes strings and returns predictions (labels, probabilities, answer spans,
  embeddings), or for ``text-generation`` the generated continuations, with the XLA-compiled
  generate loop inside the graph (:func:`export_text_generation`); for ``text2text-generation``
  (T5, BART, Marian) the source's generated text, with the seq2seq loop inside
  (:func:`export_text2text_generation`); for image and speech tasks the image processor or
  feature extractor is in the graph (:func:`export_image_classification`,
  :func:`export_zero_shot_image_classification`, :func:`export_image_to_text`,
  :func:`export_speech_recognition`).

:func:`export_onnx` writes the model alone as ONNX (through tf2onnx); :func:`export_litert` a LiteRT
(.tflite) file (encoder heads: :func:`export_encoder_litert`; Whisper: :func:`export_whisper_litert`).

The exported directory needs TensorFlow (and tensorflow-text when a tokenizer is inside) to
load, never kerasformers::

    import tensorflow as tf, tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    serve = tf.saved_model.load("out/1").signatures["serving_default"]
    serve(text=tf.constant(["I loved it"]))["labels"]

Modules: ``signatures`` (serving inputs and functions), ``saved_model`` (versions, atomic
writes, the model alone), ``postprocess`` (each task's outputs, a registry), ``pipeline_export``,
``text_generation``, ``text2text_generation``, ``onnx``, ``cli``. None imports TensorFlow before an export runs.
"""

from kerasformers.serving.image_classification import export_image_classification
from kerasformers.serving.image_to_text import export_image_to_text
from kerasformers.serving.litert import export_litert, export_whisper_litert
from kerasformers.serving.litert_encoder import export_checkpoint_encoder_litert, export_encoder_litert
from kerasformers.serving.onnx import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, export_checkpoint_onnx, export_onnx
from kerasformers.serving.pipeline_export import TASKS, export_pipeline, normalize_task
from kerasformers.serving.postprocess import POSTPROCESSORS, postprocessor
from kerasformers.serving.saved_model import check_export_target, export_saved_model, next_version
from kerasformers.serving.signatures import (
    load_tokenizer_layer,
    serving_function,
    serving_functions,
    serving_input_names,
)
from kerasformers.serving.speech_recognition import export_speech_recognition
from kerasformers.serving.text2text_generation import export_text2text_generation
from kerasformers.serving.text_generation import export_text_generation
from kerasformers.serving.zero_shot_image_classification import export_zero_shot_image_classification

__all__ = [
    "TASKS",
    "normalize_task",
    "serving_input_names",
    "serving_function",
    "serving_functions",
    "check_export_target",
    "export_saved_model",
    "export_pipeline",
    "export_text_generation",
    "export_image_classification",
    "export_zero_shot_image_classification",
    "export_image_to_text",
    "export_speech_recognition",
    "export_litert",
    "export_whisper_litert",
    "export_encoder_litert",
    "export_checkpoint_encoder_litert",
    "export_text2text_generation",
    "next_version",
    "load_tokenizer_layer",
    "postprocessor",
    "POSTPROCESSORS",
    "export_onnx",
    "export_checkpoint_onnx",
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "MAX_OPSET",
]
