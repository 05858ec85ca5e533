"""CLIP zero-shot export: served in a fresh process without kerasformers from JPEG bytes of real photos,
against the Python zero-shot-image-classification pipeline on the same JPEG files."""

import json

import pytest
import skimage.data
from PIL import Image
from sklearn.datasets import load_sample_images
from test_clip_processing import clip_folder, clip_vocab_folder, sentences  # noqa: F401  (module fixtures)
from test_export import run_fresh

LABELS = ["a cat", "a dog", "a rocket", "coffee", "a flower"]


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    china, flower = load_sample_images().images
    folder = tmp_path_factory.mktemp("jpegs")
    paths = []
    for index, array in enumerate((china, flower, skimage.data.astronaut(), skimage.data.coffee())):
        path = folder / f"photo{index}.jpg"
        Image.fromarray(array).save(path, format="JPEG", quality=92)
        paths.append(path)
    return paths


def test_zero_shot_export_served_without_kerasformers(clip_folder, jpegs, tmp_path):  # noqa: F811
    from kerasformers import pipeline
    from kerasformers.serving.zero_shot_image_classification import export_zero_shot_image_classification

    path = export_zero_shot_image_classification(str(clip_folder), tmp_path / "served", LABELS, version=1)
    assert json.loads((path / "assets.extra" / "zero_shot_labels.json").read_text())["candidate_labels"] == LABELS
    run_fresh(
        """
        import json, sys, tensorflow as tf
        serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
        images = tf.constant([open(p, "rb").read() for p in sys.argv[3:]])
        out = serve(images=images)
        rows = [[{"label": l.decode(), "score": float(s)} for l, s in zip(ls, ss)]
                for ls, ss in zip(out["labels"].numpy(), out["scores"].numpy())]
        json.dump(rows, open(sys.argv[2], "w"))
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
        """,
        str(path),
        str(tmp_path / "out.json"),
        *map(str, jpegs),
    )
    served = json.loads((tmp_path / "out.json").read_text())
    expected = pipeline("zero-shot-image-classification", model=str(clip_folder))(
        [str(p) for p in jpegs], candidate_labels=LABELS
    )
    # The in-graph resize (TF's antialiased bicubic) differs from PIL's by a few uint8 levels: scores move
    # by < 2e-3 (measured ~1e-3 on these photos); the order is the same wherever scores are not that close.
    for got, want in zip(served, expected, strict=True):
        assert [r["score"] for r in got] == sorted((r["score"] for r in got), reverse=True)
        by_label = {r["label"]: r["score"] for r in got}
        assert sorted(by_label) == sorted(LABELS)
        assert max(abs(by_label[r["label"]] - r["score"]) for r in want) <= 2e-3
        for first, second in zip(want, want[1:]):
            if first["score"] - second["score"] > 4e-3:
                assert by_label[first["label"]] > by_label[second["label"]]
