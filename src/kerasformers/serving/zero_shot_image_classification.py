"""zero-shot-image-classification export: encoded images in, a fixed label set's labels and scores out.

The label set is fixed at export: each candidate label fills ``hypothesis_template``, CLIP's text
tower embeds the texts once (with the checkpoint's Python tokenizer), and the normalised text
embeddings are stored in the SavedModel as a constant. The serving graph holds the image processor
in TF ops (:class:`~kerasformers.image_processing.TFImageProcessorLayer`), CLIP's vision tower and
projection, ``logit_scale`` and the softmax over labels; no tokenizer runs at serving time.

Signature ``serving_default``: ``images`` (``tf.string`` ``[batch]``, encoded JPEG/PNG/BMP/GIF) ->
``labels`` (``tf.string`` ``[batch, labels]``, best first), ``scores`` (``[batch, labels]``, the
softmax probabilities in that order), ``logits`` (``[batch, labels]`` in the candidate order).

Example:
    >>> path = export_zero_shot_image_classification("path/to/clip", "serving/clip", ["a cat", "a dog"])
    >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    >>> serve(images=tf.constant([open("cat.jpg", "rb").read()]))["labels"][0, 0]
    <tf.Tensor: shape=(), dtype=string, numpy=b'a cat'>
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from kerasformers.errors import ExportError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.saved_model import check_export_target, exportable_module, write_saved_model

__all__ = ["export_zero_shot_image_classification"]

DEFAULT_HYPOTHESIS_TEMPLATE = "This is a photo of {}."


def export_zero_shot_image_classification(
    checkpoint_or_model,
    export_dir: str | os.PathLike,
    candidate_labels: list[str],
    *,
    hypothesis_template: str = DEFAULT_HYPOTHESIS_TEMPLATE,
    image_processor=None,
    tokenizer=None,
    version: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Export CLIP as a classifier over ``candidate_labels``: image bytes in, labels and scores out.

    ``checkpoint_or_model``: a CLIP checkpoint (folder or name) or a ``TFCLIPModel``; its
    ``image_processor`` and ``tokenizer`` are loaded from the checkpoint when not given. The scores
    are those of the zero-shot-image-classification pipeline with the same labels and template,
    up to the in-graph image processor's resize (TF's antialiased bicubic, not PIL's).

    Example:
        >>> export_zero_shot_image_classification("path/to/clip", "serving/pets", ["a cat", "a dog"], version=1)
        PosixPath('serving/pets/1')
    """
    from kerasformers.image_processing import AutoImageProcessor, TFImageProcessorLayer
    from kerasformers.models.auto import TFAutoModelForZeroShotImageClassification
    from kerasformers.tokenization import AutoTokenizer

    labels = _check_labels(candidate_labels)
    if not isinstance(hypothesis_template, str) or "{}" not in hypothesis_template:
        raise ExportError(
            f"hypothesis_template must be a string with a {{}} for the label, got {hypothesis_template!r}."
        )
    check_export_target(export_dir, version, overwrite)  # before the (slow) load and trace
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        model = TFAutoModelForZeroShotImageClassification.from_pretrained(checkpoint_or_model)
        source = checkpoint_or_model
    else:
        model = checkpoint_or_model
        source = getattr(model, "name_or_path", None)
    if not (hasattr(model, "get_text_features") and hasattr(model, "get_image_features")):
        raise ExportError(f"A zero-shot image export needs a CLIP model (TFCLIPModel), got {type(model).__name__}.")
    if image_processor is None or tokenizer is None:
        if not source:
            raise ExportError(
                "Pass image_processor= and tokenizer=: the model does not say which checkpoint it came from."
            )
        image_processor = image_processor or AutoImageProcessor.from_pretrained(source)
        tokenizer = tokenizer or AutoTokenizer.from_pretrained(source)

    texts = [hypothesis_template.format(label) for label in labels]
    encoded = tokenizer(texts, padding=True, return_tensors="np")
    text_embeds = np.asarray(
        model.get_text_features(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]), np.float32
    )
    text_embeds = text_embeds / np.sqrt(np.sum(np.square(text_embeds), axis=-1, keepdims=True))
    processor_layer = TFImageProcessorLayer.from_processor(image_processor)
    label_table = tf.constant(labels)
    label_embeds = tf.constant(text_embeds)

    def classify(images):
        pixel_values = processor_layer(images)
        image_embeds = tf.convert_to_tensor(model.get_image_features(pixel_values=pixel_values))
        image_embeds = image_embeds / tf.sqrt(tf.reduce_sum(tf.square(image_embeds), axis=-1, keepdims=True))
        scale = tf.exp(tf.cast(tf.convert_to_tensor(model.logit_scale), tf.float32))
        logits = tf.matmul(image_embeds, label_embeds, transpose_b=True) * scale
        probabilities = tf.nn.softmax(logits, axis=-1)
        order = tf.argsort(probabilities, axis=-1, direction="DESCENDING", stable=True)
        return {
            "labels": tf.gather(label_table, order),
            "scores": tf.gather(probabilities, order, batch_dims=1),
            "logits": logits,
        }

    serving = tf.function(classify, input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    module = exportable_module(model)
    module.image_processor = processor_layer
    module.label_embeddings = tf.Variable(text_embeds, trainable=False, name="label_embeddings")
    info = {
        "task": "zero-shot-image-classification",
        "candidate_labels": labels,
        "hypothesis_template": hypothesis_template,
    }
    return write_saved_model(
        module,
        {"serving_default": serving.get_concrete_function()},
        export_dir,
        version,
        extra_files={"zero_shot_labels.json": json.dumps(info, indent=2)},
        overwrite=overwrite,
    )


def _check_labels(candidate_labels) -> list[str]:
    if isinstance(candidate_labels, str):
        candidate_labels = [label.strip() for label in candidate_labels.split(",") if label.strip()]
    if not candidate_labels or not all(isinstance(label, str) and label for label in candidate_labels):
        raise ExportError(
            "A zero-shot image export needs candidate_labels: a non-empty list of label strings "
            "(kerasformers export ... --candidate-labels 'a cat,a dog')."
        )
    if len(set(candidate_labels)) != len(candidate_labels):
        raise ExportError(f"candidate_labels has repeated labels: {candidate_labels}. Give each label once.")
    return list(candidate_labels)
