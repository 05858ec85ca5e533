"""Image-classification SavedModel: JPEG bytes of real photos in, label and score out, served in a
new process that cannot import kerasformers; the labels equal the Python pipeline's.

Photos: scikit-learn's two sample images and three of scikit-image's, encoded as JPEG. The
in-graph processor decodes and resizes with TF ops (within one uint8 level of PIL, see
tests/test_image_processing.py), so scores are compared at 2e-2 and labels exactly.
"""

import io
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import skimage.data
import torch
import transformers
from PIL import Image
from sklearn.datasets import load_sample_images

from kerasformers.errors import TargetExistsError

LABELS = {0: "cat", 1: "dog", 2: "car"}


@pytest.fixture(scope="module")
def jpeg_photos():
    china, flower = load_sample_images().images
    arrays = [china, flower, skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]
    encoded = []
    for array in arrays:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=95)
        encoded.append(buffer.getvalue())
    return encoded


@pytest.fixture(scope="module")
def vit_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vit-clf")
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        num_labels=3,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    torch.manual_seed(0)
    transformers.ViTForImageClassification(config).save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def exported(vit_checkpoint, tmp_path_factory):
    """`kerasformers export CHECKPOINT DIR --task image-classification --with-processor`."""
    from kerasformers.cli import main

    target = tmp_path_factory.mktemp("export") / "serving"
    command = ["export", str(vit_checkpoint), str(target), "--task", "image-classification", "--with-processor"]
    assert main(command) == 0
    return target / "1"


@pytest.fixture(scope="module")
def pipeline_top1(vit_checkpoint, jpeg_photos):
    """The Python pipeline's top label and score (PIL decoding and resizing) for each photo."""
    from kerasformers.pipelines import pipeline

    classify = pipeline("image-classification", model=str(vit_checkpoint))
    rows = classify([Image.open(io.BytesIO(data)) for data in jpeg_photos], top_k=1)
    return [row[0]["label"] for row in rows], np.array([row[0]["score"] for row in rows])


def check_served(served, pipeline_top1):
    labels, scores = pipeline_top1
    assert served["label"] == labels
    assert np.max(np.abs(np.array(served["score"]) - scores)) <= 2e-2
    np.testing.assert_allclose(np.sum(served["probabilities"], axis=-1), 1.0, atol=1e-5)


def test_exported_classifier_labels_jpeg_bytes(vit_checkpoint, exported, jpeg_photos, pipeline_top1):
    import tensorflow as tf

    from kerasformers.serving.image_classification import export_image_classification

    assert (exported / "assets.extra" / "task.txt").read_text() == "image-classification"
    with pytest.raises(TargetExistsError):
        export_image_classification(str(vit_checkpoint), exported.parent, version=1)
    serve = tf.saved_model.load(str(exported)).signatures["serving_default"]
    out = serve(images=tf.constant(jpeg_photos))
    served = {
        "label": [v.decode() for v in out["label"].numpy()],
        "score": out["score"].numpy(),
        "probabilities": out["probabilities"].numpy(),
    }
    check_served(served, pipeline_top1)
    np.testing.assert_array_equal(out["label_id"].numpy(), np.argmax(out["logits"].numpy(), -1))


def test_export_pipeline_takes_image_tasks(vit_checkpoint, exported, jpeg_photos, pipeline_top1):
    """export_pipeline(task="image-classification") from Python gives the same served labels as the CLI."""
    import tensorflow as tf

    from kerasformers.errors import ExportError
    from kerasformers.serving import export_pipeline

    with pytest.raises(ExportError, match="with_tokenizer=False"):
        export_pipeline(str(vit_checkpoint), exported.parent, task="image-classification", with_tokenizer=False)
    with pytest.raises(ExportError, match="candidate_labels"):
        export_pipeline(str(vit_checkpoint), exported.parent, task="zero-shot-image-classification")
    path = export_pipeline(str(vit_checkpoint), exported.parent, task="image-classification", version=2)
    assert path == exported.parent / "2"
    out = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(jpeg_photos))
    served = {
        "label": [v.decode() for v in out["label"].numpy()],
        "score": out["score"].numpy(),
        "probabilities": out["probabilities"].numpy(),
    }
    check_served(served, pipeline_top1)


@pytest.mark.slow  # a new interpreter imports TensorFlow: ~1-2 minutes under load
def test_exported_classifier_served_without_kerasformers(exported, jpeg_photos, pipeline_top1, tmp_path):
    np.save(tmp_path / "images.npy", np.array(jpeg_photos, dtype=object), allow_pickle=True)
    script = """
        import json, sys, numpy as np, tensorflow as tf
        images = np.load(sys.argv[2], allow_pickle=True).tolist()
        serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
        out = serve(images=tf.constant(images))
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
        json.dump({"label": [v.decode() for v in out["label"].numpy()], "score": out["score"].numpy().tolist(),
                   "probabilities": out["probabilities"].numpy().tolist()}, open(sys.argv[3], "w"))
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(script),
            str(exported),
            str(tmp_path / "images.npy"),
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    check_served(json.loads((tmp_path / "o").read_text()), pipeline_top1)
