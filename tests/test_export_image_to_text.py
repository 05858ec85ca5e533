"""Image exports from the command line: the captioner (image-to-text: JPEG bytes in, text out, the generate
loop and GPT-2's byte-level BPE detokenisation inside) and CLIP zero-shot (--candidate-labels).

The photos are scikit-learn's and scikit-image's, shrunk by PIL to the models' 32x32 and saved as JPEG,
so neither the in-graph processor nor PIL resamples them: both read the same pixels (asserted below),
and the served captions must equal transformers' generate + decode and our image-to-text pipeline
token for token. On photos of other sizes the in-graph resize (TF's antialiased filters) differs from
PIL's by about one uint8 level (tests/test_image_processing.py), which can flip a near-tie of a random
model's logits.
"""

import io
import json

import numpy as np
import pytest
import skimage.data
import tensorflow as tf
import torch
import transformers
from PIL import Image
from sklearn.datasets import load_sample_images
from test_clip_processing import clip_folder, clip_vocab_folder, sentences  # noqa: F401  (module fixtures)
from test_export import run_fresh

MAX_NEW = 8
EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def jpeg_photos():
    """Five real photos at 32x32 (PIL's resize), JPEG-encoded: the model's size, so nothing resamples them."""
    china, flower = load_sample_images().images
    arrays = [china, flower, skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]
    encoded = []
    for array in arrays:
        buffer = io.BytesIO()
        Image.fromarray(array).resize((32, 32), Image.BILINEAR).save(buffer, format="JPEG", quality=95)
        encoded.append(buffer.getvalue())
    return encoded


def decoded(jpegs):
    return [Image.open(io.BytesIO(data)).convert("RGB") for data in jpegs]


@pytest.fixture(scope="module")
def gpt2_captioner(tmp_path_factory):
    """A tiny random ViT + GPT-2 captioner with a GPT-2 (byte-level BPE) tokenizer trained on real sentences."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    from kerasformers.data.embedded import read_movie_review_scores

    backend = Tokenizer(BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(
        vocab_size=300, special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    backend.train_from_iterator([text for text, _ in read_movie_review_scores()][:2000], trainer)
    tokenizer = transformers.GPT2TokenizerFast(tokenizer_object=backend, bos_token=EOT, eos_token=EOT, unk_token=EOT)
    eot = tokenizer.convert_tokens_to_ids(EOT)
    # initializer_range 0.2: with 0.02 a random decoder repeats one token whatever the image; 0.2 gives
    # varied captions, some ending early at <|endoftext|>, some cutting a character between tokens (U+FFFD)
    vit = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        initializer_range=0.2,
    )
    gpt2 = transformers.GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=64,
        bos_token_id=eot,
        eos_token_id=eot,
        initializer_range=0.2,
    )
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(vit, gpt2)
    config.decoder_start_token_id = config.pad_token_id = config.eos_token_id = eot
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("gpt2_captioner")
    transformers.VisionEncoderDecoderModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def expected_captions(gpt2_captioner, jpeg_photos):
    """transformers 5.23: generate (greedy) on its ViTImageProcessor's pixel_values, then decode."""
    model = transformers.VisionEncoderDecoderModel.from_pretrained(gpt2_captioner).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(gpt2_captioner)
    processor = transformers.ViTImageProcessor.from_pretrained(gpt2_captioner)
    pixels = processor(decoded(jpeg_photos), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model.generate(pixels, max_new_tokens=MAX_NEW, do_sample=False, num_beams=1)
    return pixels.numpy(), out.numpy()[:, 1:], tokenizer.batch_decode(out, skip_special_tokens=True)


@pytest.fixture(scope="module")
def captioner_export(gpt2_captioner, tmp_path_factory):
    """`kerasformers export CAPTIONER DIR --task image-to-text --with-processor --max-new-tokens 8`."""
    from kerasformers.cli import main

    target = tmp_path_factory.mktemp("cap") / "serving"
    command = ["export", str(gpt2_captioner), str(target), "--task", "image-to-text", "--with-processor"]
    assert main([*command, "--max-new-tokens", str(MAX_NEW)]) == 0
    return target / "1"


def test_captioner_export_equals_transformers_and_the_pipeline(
    gpt2_captioner, captioner_export, expected_captions, jpeg_photos
):
    from kerasformers import pipeline
    from kerasformers.image_processing import (
        AutoImageProcessor,
        TFImageProcessorLayer,  # noqa: I001
    )

    pixels, expected_ids, expected_text = expected_captions
    # the same pixel_values path: the in-graph processor reads these JPEGs as transformers' does
    layer = TFImageProcessorLayer.from_processor(AutoImageProcessor.from_pretrained(gpt2_captioner))
    assert np.max(np.abs(layer(tf.constant(jpeg_photos)).numpy() - pixels)) <= 1e-6
    assert len(set(expected_text)) >= 3, "the random captioner should caption these photos differently"

    serve = tf.saved_model.load(str(captioner_export)).signatures["serving_default"]
    out = {key: value.numpy() for key, value in serve(images=tf.constant(jpeg_photos)).items()}
    assert [text.decode() for text in out["generated_text"]] == expected_text
    np.testing.assert_array_equal(out["generated_ids"], expected_ids)
    captions = pipeline("image-to-text", model=str(gpt2_captioner))(decoded(jpeg_photos), max_new_tokens=MAX_NEW)
    assert [row[0]["generated_text"] for row in captions] == expected_text
    export = json.loads((captioner_export / "assets.extra" / "export.json").read_text())
    assert export["max_new_tokens"] == MAX_NEW and export["num_beams"] == 1


@pytest.mark.slow  # a new process importing TensorFlow and loading the SavedModel (~30 s)
def test_captioner_export_served_without_kerasformers(captioner_export, expected_captions, jpeg_photos, tmp_path):
    paths = []
    for index, data in enumerate(jpeg_photos):
        paths.append(tmp_path / f"photo{index}.jpg")
        paths[-1].write_bytes(data)
    run_fresh(
        """
        import json, sys, tensorflow as tf, tensorflow_text
        serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
        out = serve(images=tf.constant([open(p, "rb").read() for p in sys.argv[3:]]))
        json.dump([t.decode() for t in out["generated_text"].numpy()], open(sys.argv[2], "w"))
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
        """,
        str(captioner_export),
        str(tmp_path / "out.json"),
        *map(str, paths),
    )
    assert json.loads((tmp_path / "out.json").read_text()) == expected_captions[2]


@pytest.mark.slow  # a second export and trace (beam search, one program per image)
def test_captioner_export_beam_search_equals_transformers(gpt2_captioner, expected_captions, jpeg_photos, tmp_path):
    from kerasformers.serving.image_to_text import export_image_to_text

    pixels = torch.from_numpy(expected_captions[0])
    model = transformers.VisionEncoderDecoderModel.from_pretrained(gpt2_captioner).eval()
    with torch.no_grad():
        out = model.generate(pixels, max_new_tokens=MAX_NEW, do_sample=False, num_beams=3)
    expected = transformers.AutoTokenizer.from_pretrained(gpt2_captioner).batch_decode(out, skip_special_tokens=True)
    path = export_image_to_text(str(gpt2_captioner), tmp_path / "beam", max_new_tokens=MAX_NEW, num_beams=3)
    served = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(jpeg_photos))
    assert [text.decode() for text in served["generated_text"].numpy()] == expected


def test_image_export_cli_errors_are_one_line(gpt2_captioner, clip_folder, tmp_path, capsys):  # noqa: F811
    from kerasformers.cli import main

    target = tmp_path / "cap"
    assert main(["export", str(gpt2_captioner), str(target), "--task", "image-to-text"]) == 2
    assert "--with-processor" in capsys.readouterr().err and not target.exists()
    target = tmp_path / "zs"
    assert main(["export", str(clip_folder), str(target), "--task", "zero-shot-image-classification"]) == 2
    assert "--candidate-labels" in capsys.readouterr().err and not target.exists()


def test_zero_shot_export_from_the_command_line(clip_folder, jpeg_photos, tmp_path):  # noqa: F811
    from kerasformers import pipeline
    from kerasformers.cli import main

    labels, template = ["a cat", "a dog", "coffee", "a rocket"], "a photo of {}"
    command = ["export", str(clip_folder), str(tmp_path / "zs"), "--task", "zero-shot-image-classification"]
    assert main([*command, "--candidate-labels", ",".join(labels), "--hypothesis-template", template]) == 0
    info = json.loads((tmp_path / "zs" / "1" / "assets.extra" / "zero_shot_labels.json").read_text())
    assert info["candidate_labels"] == labels and info["hypothesis_template"] == template
    serve = tf.saved_model.load(str(tmp_path / "zs" / "1")).signatures["serving_default"]
    out = serve(images=tf.constant(jpeg_photos))
    expected = pipeline("zero-shot-image-classification", model=str(clip_folder))(
        decoded(jpeg_photos), candidate_labels=labels, hypothesis_template=template
    )
    # 32x32 photos: CLIP's processor does not resample them, so the scores agree to float32 rounding
    for got_labels, got_scores, want in zip(out["labels"].numpy(), out["scores"].numpy(), expected, strict=True):
        assert [label.decode() for label in got_labels] == [row["label"] for row in want]
        assert np.max(np.abs(got_scores - [row["score"] for row in want])) <= 1e-5
