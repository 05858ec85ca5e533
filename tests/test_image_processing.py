"""Image processors against transformers' slow (PIL) processors on real photos, and image pipelines.

Photos: scikit-learn's two sample images and scikit-image's data images, at several sizes and
in RGB, L and RGBA (transformers needs do_convert_rgb=True for the last two).
"""

import numpy as np
import pytest
import skimage.data
import torch
import transformers
from PIL import Image
from sklearn.datasets import load_sample_images

from kerasformers.errors import InvalidInputError
from kerasformers.image_processing import AutoImageProcessor
from kerasformers.models.deit import DeiTImageProcessor
from kerasformers.models.vit import ViTImageProcessor
from kerasformers.pipelines import pipeline


@pytest.fixture(scope="module")
def photos():
    china, flower = load_sample_images().images
    return [
        Image.fromarray(china),  # 640x427 RGB
        Image.fromarray(flower).resize((150, 97)),  # smaller than the output: upsampled
        Image.fromarray(skimage.data.astronaut()),  # 512x512
        Image.fromarray(skimage.data.camera()),  # L
        Image.fromarray(skimage.data.coffee()).convert("RGBA"),
        Image.fromarray(skimage.data.chelsea()).convert("L"),
    ]


@pytest.mark.parametrize(
    "ours, theirs",
    [(ViTImageProcessor, transformers.ViTImageProcessor), (DeiTImageProcessor, transformers.DeiTImageProcessor)],
)
def test_pixel_values_equal_transformers(ours, theirs, photos):
    for image in photos:
        options = {} if image.mode == "RGB" else {"do_convert_rgb": True}
        a = ours()(image, return_tensors="np", **options)["pixel_values"]
        b = theirs()(image, return_tensors="np", **options)["pixel_values"]
        assert a.shape == b.shape and a.dtype == np.float32
        assert np.max(np.abs(a - b)) <= 1e-6, (image.mode, image.size)
    arrays = [np.asarray(photos[0]), np.asarray(photos[2], np.float32) / 255]  # uint8 HWC, float [0, 1]
    for array in arrays:
        assert (
            np.max(
                np.abs(
                    ours()(array, return_tensors="np").pixel_values - theirs()(array, return_tensors="np").pixel_values
                )
            )
            <= 1e-6
        )


def test_save_load_and_auto(tmp_path, photos):
    transformers.DeiTImageProcessor(size={"height": 40, "width": 40}, crop_size=32).save_pretrained(tmp_path)
    processor = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(processor) is DeiTImageProcessor and processor.crop_size == {"height": 32, "width": 32}
    processor.save_pretrained(tmp_path / "again")
    reread = transformers.AutoImageProcessor.from_pretrained(tmp_path / "again")
    expected = reread(photos[0], return_tensors="np")["pixel_values"]
    assert np.max(np.abs(processor(photos[0], return_tensors="np")["pixel_values"] - expected)) <= 1e-6


def test_paths_layouts_and_bad_inputs(tmp_path, photos):
    path = tmp_path / "photo.png"
    photos[2].save(path)
    processor = ViTImageProcessor()
    from_path = processor([str(path), path], return_tensors="np").pixel_values
    np.testing.assert_array_equal(from_path[0], processor(photos[2], return_tensors="np").pixel_values[0])
    last = processor(photos[2], return_tensors="np", data_format="channels_last").pixel_values
    np.testing.assert_array_equal(last, np.transpose(from_path[:1], (0, 2, 3, 1)))
    with pytest.raises(InvalidInputError, match="do_convert_rgb"):
        processor(photos[3], return_tensors="np")  # L image, 3-value mean: transformers errors too
    with pytest.raises(InvalidInputError, match="No image file"):
        processor(str(tmp_path / "missing.png"))


def test_image_pipelines_equal_transformers(tmp_path, photos):
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        num_labels=5,
    )
    torch.manual_seed(0)
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "clf")
    transformers.ViTModel(config).save_pretrained(tmp_path / "base")
    for folder in ("clf", "base"):
        transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path / folder)
    images = photos[:4]
    ours = pipeline("image-classification", model=str(tmp_path / "clf"))(images, top_k=3)
    theirs = transformers.pipeline("image-classification", model=str(tmp_path / "clf"))(images, top_k=3)
    assert [[r["label"] for r in row] for row in ours] == [[r["label"] for r in row] for row in theirs]
    assert max(abs(a["score"] - b["score"]) for x, y in zip(ours, theirs) for a, b in zip(x, y)) <= 1e-5
    extractor = pipeline("image-feature-extraction", model=str(tmp_path / "base"))
    reference = transformers.pipeline("image-feature-extraction", model=str(tmp_path / "base"))
    for pool in (False, True):
        a, b = np.array(extractor(images[0], pool=pool)), np.array(reference(images[0], pool=pool))
        assert a.shape == b.shape and np.max(np.abs(a - b)) <= 1e-5


@pytest.mark.slow  # ~30 s: TF decode/resize graphs and a 224x224 model
def test_in_graph_processor_close_to_python(photos, tmp_path):
    """From PNG bytes in TF ops. ViT (bilinear): within one uint8 level of PIL (1/127.5 after
    normalisation); DeiT (bicubic, upsampling included): within 0.08. Logits of a tiny ViT move
    by less than 1e-2 and the top-1 class is the same."""
    import io

    import tensorflow as tf

    from kerasformers.image_processing import TFImageProcessorLayer
    from kerasformers.models.vit import TFViTForImageClassification

    encoded = []
    for image in photos[:3]:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    for processor, bound in ((ViTImageProcessor(), 1 / 127.5 + 1e-5), (DeiTImageProcessor(), 0.08)):
        layer = TFImageProcessorLayer.from_processor(processor)
        for data, image in zip(encoded, photos[:3]):
            difference = np.abs(layer(tf.constant([data])).numpy() - processor(image, return_tensors="np").pixel_values)
            assert difference.max() <= bound and difference.mean() <= 2e-3
    config = transformers.ViTConfig(
        image_size=224,
        patch_size=32,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        num_labels=10,
    )
    torch.manual_seed(0)
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path)
    model = TFViTForImageClassification.from_pretrained(tmp_path)
    processor = ViTImageProcessor()
    in_graph = model(TFImageProcessorLayer.from_processor(processor)(tf.constant(encoded))).logits.numpy()
    python = model(processor(photos[:3], return_tensors="np")).logits.numpy()
    assert np.abs(in_graph - python).max() <= 1e-2
    assert (in_graph.argmax(-1) == python.argmax(-1)).all()
