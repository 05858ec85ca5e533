"""Image-classification SavedModel: encoded JPEG/PNG bytes in, label and score out.

:func:`export_image_classification` (``kerasformers export CHECKPOINT DIR --task image-classification
--with-processor``).

The image processor runs in the graph (:class:`kerasformers.image_processing.TFImageProcessorLayer`:
decode, resize, crop, rescale, normalize), then the model, then softmax and argmax; ``id2label``
is a string table inside the graph. Serving it needs TensorFlow only.
"""

from __future__ import annotations

import os
from pathlib import Path

from kerasformers.errors import ExportError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.saved_model import check_export_target, exportable_module, write_saved_model
from kerasformers.serving.signatures import call_model

__all__ = ["export_image_classification"]


def export_image_classification(
    checkpoint_or_model,
    export_dir: str | os.PathLike,
    *,
    image_processor=None,
    version: int | str | None = None,
    overwrite: bool = False,
) -> Path:
    """Export image processor + image classifier + softmax/argmax as one SavedModel.

    The ``serving_default`` signature takes ``images``: a ``tf.string`` batch of encoded images
    (JPEG, PNG, BMP, GIF's first frame; any size) and returns ``label`` (the id2label name of the
    top class), ``score`` (its softmax probability), ``label_id``, ``probabilities`` and
    ``logits``. ``checkpoint_or_model`` is a checkpoint (loaded with
    ``TFAutoModelForImageClassification``; its image processor is used unless ``image_processor``
    is given) or a built model (then ``image_processor`` is the Python processor, or a
    ``TFImageProcessorLayer``). Returns ``export_dir/<version>``.

    Example:
        >>> path = export_image_classification("path/to/vit", "serving/vit")
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(images=tf.constant([open("cat.jpg", "rb").read()]))["label"]
    """
    from kerasformers.image_processing import AutoImageProcessor, TFImageProcessorLayer
    from kerasformers.models.auto import TFAutoModelForImageClassification

    check_export_target(export_dir, version, overwrite)  # before the load and the trace
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        model = TFAutoModelForImageClassification.from_pretrained(checkpoint_or_model)
        if image_processor is None:
            image_processor = AutoImageProcessor.from_pretrained(checkpoint_or_model)
    else:
        model = checkpoint_or_model
        if image_processor is None:
            source = getattr(model, "name_or_path", None)
            if not source:
                raise ExportError(
                    "Pass image_processor=... (the model's image processor): the model does not say "
                    "which checkpoint it came from."
                )
            image_processor = AutoImageProcessor.from_pretrained(source)
    if not hasattr(model.config, "id2label") or "pixel_values" not in model._call_parameters():
        raise ExportError(f"{type(model).__name__} is not an image classifier (it takes no pixel_values).")
    layer = (
        image_processor
        if isinstance(image_processor, TFImageProcessorLayer)
        else TFImageProcessorLayer.from_processor(image_processor)
    )
    if not model.built:
        model.build_with_dummy_inputs()
    num_labels = int(model.config.num_labels)
    id2label = {int(k): v for k, v in (model.config.id2label or {}).items()}
    names = tf.constant([str(id2label.get(i, f"LABEL_{i}")) for i in range(num_labels)])

    def serve(images):
        pixel_values = layer(images)
        logits = tf.cast(call_model(model, {"pixel_values": pixel_values}).logits, tf.float32)
        if num_labels == 1 or getattr(model.config, "problem_type", None) == "multi_label_classification":
            probabilities = tf.sigmoid(logits)  # as transformers' pipeline's function_to_apply
        else:
            probabilities = tf.nn.softmax(logits, axis=-1)
        label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "label": tf.gather(names, label_id),
            "score": tf.reduce_max(probabilities, axis=-1),
            "label_id": label_id,
            "probabilities": probabilities,
            "logits": logits,
        }

    signature = tf.function(serve, input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    module = exportable_module(model, layer)
    extra = {"config.json": model.config.to_json_string(), "task.txt": "image-classification"}
    return write_saved_model(
        module, {"serving_default": signature.get_concrete_function()}, export_dir, version, extra, overwrite=overwrite
    )
