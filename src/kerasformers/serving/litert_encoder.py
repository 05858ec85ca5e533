"""LiteRT (TensorFlow Lite) export of encoder heads: one ``.tflite`` file run with ``ai-edge-litert``.

The model's forward pass is traced as a ``tf.function`` (int32 token ids, dynamic batch and
sequence axes) and converted by ``tf.lite.TFLiteConverter`` with TensorFlow Lite's builtin ops
only. ``int8=True`` adds the converter's dynamic-range quantization (int8 weights, float
activations). The file has one signature, ``serving_default``: inputs ``input_ids``,
``attention_mask`` (and ``token_type_ids`` where the model takes them), outputs the model's
named outputs (``logits`` or ``last_hidden_state``).
"""

from __future__ import annotations

import os
from pathlib import Path

from kerasformers.errors import ExportError, InvalidInputTypeError
from kerasformers.utils.backend import require_tensorflow_backend

__all__ = ["LITERT_ENCODER_TASKS", "export_encoder_litert", "export_checkpoint_encoder_litert"]

LITERT_ENCODER_TASKS = ("text-classification", "token-classification", "feature-extraction")


def _output_file(path) -> Path:
    path = Path(path)
    return path if path.suffix == ".tflite" else path / "model.tflite"


def export_encoder_litert(model, path: str | os.PathLike, *, int8: bool = False, overwrite: bool = False) -> Path:
    """Write an encoder model's forward pass as a LiteRT flatbuffer and return its path.

    ``path`` ending in ``.tflite`` is the file; otherwise it is a folder and the file is
    ``path/model.tflite``. An existing file is replaced only with ``overwrite=True``.

    Example:
        >>> path = export_encoder_litert(TFBertForSequenceClassification.from_pretrained(ckpt), "model.tflite")
        >>> from ai_edge_litert.interpreter import Interpreter
        >>> runner = Interpreter(model_path=str(path)).get_signature_runner()
        >>> runner(input_ids=ids, attention_mask=mask, token_type_ids=types)["logits"]
    """
    require_tensorflow_backend("export_encoder_litert() (the TFLite converter)")
    from kerasformers.modeling_utils import TFPreTrainedModel

    if not isinstance(model, TFPreTrainedModel):
        raise InvalidInputTypeError(
            f"export_encoder_litert takes a kerasformers model (TFPreTrainedModel), got {type(model).__name__}. "
            "Load one with TFAutoModel*.from_pretrained(...)."
        )
    final = _output_file(path)
    if final.exists() and not overwrite:
        raise FileExistsError(f"{final} exists; pass overwrite=True (--overwrite) to replace it.")
    import tensorflow as tf

    from kerasformers.serving.signatures import call_model, input_rank, named_outputs, serving_input_names

    if not model.built:
        model.build_with_dummy_inputs()
    names = serving_input_names(model)
    specs = {name: tf.TensorSpec([None] * input_rank(model), tf.int32, name=name) for name in names}

    @tf.function
    def serve(inputs):
        return named_outputs(call_model(model, inputs))

    concrete = serve.get_concrete_function(specs)
    # the plain tf.Variables tracked one level down (as the SavedModel export does): the converter
    # freezes only variables it can find on the trackable object
    from kerasformers.serving.saved_model import exportable_module

    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], exportable_module(model))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic range: int8 weights
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # the converter raises ConverterError and friends
        raise ExportError(
            f"LiteRT conversion of {type(model).__name__} failed: {error}. "
            "Export a SavedModel (kerasformers export CHECKPOINT DIR) or ONNX (--format onnx) instead."
        ) from error
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".partial")
    partial.write_bytes(flatbuffer)
    os.replace(partial, final)  # complete or absent
    return final


def export_checkpoint_encoder_litert(
    checkpoint: str | os.PathLike,
    path: str | os.PathLike,
    *,
    task: str = "text-classification",
    int8: bool = False,
    overwrite: bool = False,
) -> Path:
    """Load ``checkpoint`` with ``task``'s model class and write it as a ``.tflite`` file.

    Example:
        >>> export_checkpoint_encoder_litert("path/to/minilm", "minilm.tflite", task="feature-extraction", int8=True)
    """
    from kerasformers.serving.pipeline_export import auto_class_for, normalize_task

    task = normalize_task(task)
    if task not in LITERT_ENCODER_TASKS:
        raise ExportError(
            f"--format litert exports encoder heads for {', '.join(LITERT_ENCODER_TASKS)}; got task {task!r}. "
            "Use --format saved_model for the other tasks."
        )
    final = _output_file(path)
    if final.exists() and not overwrite:  # before the (slow) load and conversion
        raise FileExistsError(f"{final} exists; pass overwrite=True (--overwrite) to replace it.")
    model = auto_class_for(task).from_pretrained(checkpoint)
    return export_encoder_litert(model, final, int8=int8, overwrite=overwrite)
