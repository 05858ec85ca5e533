"""CLIP's tokenizer, image processor and processor, and AutoProcessor, against transformers 5.23.

The tokenizer's vocabulary is trained here (tokenizers' BPE trainer, CLIP's normaliser and
word pattern, ``</w>`` word ends) on 2,000 real movie-review sentences and checked on 300 others
(with their accents, quotes, digits and runs of spaces); photos are scikit-learn's and
scikit-image's.
"""

import json

import numpy as np
import pytest
import skimage.data
import transformers
from PIL import Image
from sklearn.datasets import load_sample_images
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer

from kerasformers import AutoProcessor
from kerasformers.data.embedded import read_movie_review_scores
from kerasformers.errors import InvalidInputError
from kerasformers.image_processing import AutoImageProcessor
from kerasformers.models.clip import CLIPImageProcessor, CLIPProcessor, CLIPTokenizerFast
from kerasformers.models.clip.tokenization_clip import CLIP_SPLIT_PATTERN
from kerasformers.models.vit import ViTImageProcessor
from kerasformers.tokenization import AutoTokenizer


@pytest.fixture(scope="module")
def sentences():
    rows = [text for text, _ in read_movie_review_scores()]
    return rows[:2000], rows[2000:2300]


@pytest.fixture(scope="module")
def clip_vocab_folder(tmp_path_factory, sentences):
    """vocab.json + merges.txt of a 400-token CLIP-style BPE trained on real sentences."""
    backend = Tokenizer(BPE(end_of_word_suffix="</w>", unk_token="<|endoftext|>"))
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    trainer = BpeTrainer(
        vocab_size=400,
        special_tokens=["<|startoftext|>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
    )
    backend.train_from_iterator(sentences[0], trainer)
    folder = tmp_path_factory.mktemp("clip_vocab")
    model = json.loads(backend.to_str())["model"]
    (folder / "vocab.json").write_text(json.dumps(model["vocab"]), encoding="utf-8")
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def photos():
    china, flower = load_sample_images().images
    return [
        Image.fromarray(china),  # 640x427 RGB, landscape
        Image.fromarray(flower).resize((97, 150)),  # portrait, smaller than the crop: upsampled
        Image.fromarray(skimage.data.astronaut()),  # 512x512
        Image.fromarray(skimage.data.camera()),  # L
        Image.fromarray(skimage.data.coffee()).convert("RGBA"),
    ]


def test_tokenizer_equal_transformers(clip_vocab_folder, sentences, tmp_path):
    theirs = transformers.CLIPTokenizer.from_pretrained(clip_vocab_folder)
    ours = CLIPTokenizerFast(clip_vocab_folder / "vocab.json", clip_vocab_folder / "merges.txt")
    texts = sentences[1] + ["  Multiple   SPACES\tand\nnewlines ", "Café déjà vu 1984!!", "it's <|endoftext|> end"]
    assert ours(texts)["input_ids"] == theirs(texts)["input_ids"]
    batch_ours = ours(texts[:4], padding="max_length", max_length=24, truncation=True, return_tensors="np")
    batch_theirs = theirs(texts[:4], padding="max_length", max_length=24, truncation=True, return_tensors="np")
    for key in ("input_ids", "attention_mask"):
        np.testing.assert_array_equal(batch_ours[key], batch_theirs[key])
    ids = ours(texts[:20])["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(ids, skip_special_tokens=skip) == theirs.batch_decode(ids, skip_special_tokens=skip)
    tokens = ours.convert_ids_to_tokens(ids[0])
    assert ours.convert_tokens_to_string(tokens) == theirs.convert_tokens_to_string(tokens)
    # saved, it loads back as the same tokenizer in both libraries (class name and ids)
    ours.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert type(again) is CLIPTokenizerFast and again(texts)["input_ids"] == theirs(texts)["input_ids"]
    assert transformers.AutoTokenizer.from_pretrained(tmp_path)(texts)["input_ids"] == theirs(texts)["input_ids"]


def test_image_processor_equal_transformers(photos, tmp_path):
    """transformers' slow (PIL) CLIP processor, default and small settings, every photo mode."""
    settings = [{}, {"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 24}}]
    for options in settings:
        ours, theirs = CLIPImageProcessor(**options), transformers.CLIPImageProcessorPil(**options)
        for image in photos:
            a = ours(image, return_tensors="np")["pixel_values"]
            b = theirs(image, return_tensors="np")["pixel_values"]
            assert a.shape == b.shape and a.dtype == np.float32
            assert np.max(np.abs(a - b)) <= 1e-6, (options, image.mode, image.size)
    array = np.asarray(photos[0])
    a = CLIPImageProcessor()(array, return_tensors="np").pixel_values
    b = transformers.CLIPImageProcessorPil()(array, return_tensors="np").pixel_values
    assert np.max(np.abs(a - b)) <= 1e-6
    transformers.CLIPImageProcessorPil(size={"shortest_edge": 40}).save_pretrained(tmp_path)
    loaded = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(loaded) is CLIPImageProcessor and loaded.size == {"shortest_edge": 40}


def test_processor_equal_transformers_and_auto(clip_vocab_folder, photos, sentences, tmp_path):
    tokenizer = CLIPTokenizerFast(clip_vocab_folder / "vocab.json", clip_vocab_folder / "merges.txt")
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size=32, crop_size=32), tokenizer=tokenizer)
    reference = transformers.CLIPProcessor(
        image_processor=transformers.CLIPImageProcessorPil(size=32, crop_size=32),
        tokenizer=transformers.CLIPTokenizer.from_pretrained(clip_vocab_folder),
    )
    texts = sentences[1][:3]
    ours = processor(text=texts, images=photos[:2], return_tensors="np", padding=True)
    theirs = reference(text=texts, images=photos[:2], return_tensors="np", padding=True)
    assert set(ours) == set(theirs) == {"input_ids", "attention_mask", "pixel_values"}
    for key in ours:
        assert ours[key].shape == theirs[key].shape and np.max(np.abs(ours[key] - theirs[key])) <= 1e-6, key
    assert set(processor(text="a cat", return_tensors="np")) == {"input_ids", "attention_mask"}
    assert processor.batch_decode(ours["input_ids"], skip_special_tokens=True) == reference.batch_decode(
        theirs["input_ids"], skip_special_tokens=True
    )
    with pytest.raises(InvalidInputError, match="text=, images="):
        processor()

    # saved by us, loaded by both; saved by transformers 5 (processor_config.json), loaded by us
    processor.save_pretrained(tmp_path / "ours")
    for loaded in (AutoProcessor.from_pretrained(tmp_path / "ours"), CLIPProcessor.from_pretrained(tmp_path / "ours")):
        assert type(loaded) is CLIPProcessor and type(loaded.tokenizer) is CLIPTokenizerFast
        again = loaded(text=texts, images=photos[:2], return_tensors="np", padding=True)
        assert all(np.array_equal(again[key], ours[key]) for key in ours)
    assert type(transformers.AutoProcessor.from_pretrained(tmp_path / "ours")).__name__ == "CLIPProcessor"
    reference.save_pretrained(tmp_path / "theirs")
    loaded = AutoProcessor.from_pretrained(tmp_path / "theirs")
    assert type(loaded) is CLIPProcessor and loaded.image_processor.size == {"shortest_edge": 32}

    # no processor class: the tokenizer alone, else the image processor alone (transformers' fallbacks)
    tokenizer.save_pretrained(tmp_path / "text_only")
    assert type(AutoProcessor.from_pretrained(tmp_path / "text_only")) is CLIPTokenizerFast
    ViTImageProcessor(size=32).save_pretrained(tmp_path / "image_only")
    assert type(AutoProcessor.from_pretrained(tmp_path / "image_only")) is ViTImageProcessor


# ------------------------------------------------------------------------ pipelines
TEXT = dict(vocab_size=400, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4)
VISION = dict(
    image_size=32, patch_size=8, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4
)


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory, clip_vocab_folder):
    """A tiny random PyTorch CLIP with the trained tokenizer and a 32x32 CLIPImageProcessor."""
    import torch

    tokenizer = transformers.CLIPTokenizer.from_pretrained(clip_vocab_folder)
    ids = dict(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    config = transformers.CLIPConfig(text_config={**TEXT, **ids}, vision_config=VISION, projection_dim=16)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("clip")
    transformers.CLIPModel(config).eval().save_pretrained(folder)
    transformers.CLIPProcessor(
        image_processor=transformers.CLIPImageProcessorPil(size=32, crop_size=32), tokenizer=tokenizer
    ).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def captioner_folder(tmp_path_factory, clip_vocab_folder):
    """A tiny random PyTorch ViT + GPT-2 captioner with a tokenizer and a 32x32 ViTImageProcessor."""
    import torch

    vit = transformers.ViTConfig(**{k: v for k, v in VISION.items()})
    gpt2 = transformers.GPT2Config(
        vocab_size=400, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=0, eos_token_id=1
    )
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(vit, gpt2)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 0, 1, 1
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("captioner")
    transformers.VisionEncoderDecoderModel(config).eval().save_pretrained(folder)
    transformers.CLIPTokenizer.from_pretrained(clip_vocab_folder).save_pretrained(folder)
    transformers.ViTImageProcessor(size=32).save_pretrained(folder)
    return folder


def test_zero_shot_image_classification_equal_transformers(clip_folder, photos):
    from kerasformers import TFAutoModelForZeroShotImageClassification, TFCLIPModel, pipeline

    assert type(TFAutoModelForZeroShotImageClassification.from_pretrained(clip_folder)) is TFCLIPModel
    labels = ["a cat", "a dog", "a rocket", "coffee"]
    ours = pipeline("zero-shot-image-classification", model=str(clip_folder))
    theirs = transformers.pipeline("zero-shot-image-classification", model=str(clip_folder))
    a = ours(photos[:3], candidate_labels=labels, batch_size=2)
    b = theirs(photos[:3], candidate_labels=labels)
    a.append(ours(photos[3], candidate_labels=labels, hypothesis_template="a photo of {}"))
    b.append(theirs(photos[3], candidate_labels=labels, hypothesis_template="a photo of {}"))
    for x, y in zip(a, b, strict=True):
        assert [r["label"] for r in x] == [r["label"] for r in y]
        assert max(abs(r["score"] - s["score"]) for r, s in zip(x, y)) <= 1e-5
    with pytest.raises(InvalidInputError, match="candidate_labels"):
        ours(photos[0], candidate_labels=[])


def test_image_to_text_equal_transformers_generate(captioner_folder, photos):
    import torch

    from kerasformers import TFAutoModelForVision2Seq, TFVisionEncoderDecoderModel, pipeline

    assert type(TFAutoModelForVision2Seq.from_pretrained(captioner_folder)) is TFVisionEncoderDecoderModel
    captioner = pipeline("image-to-text", model=str(captioner_folder))
    torch_model = transformers.VisionEncoderDecoderModel.from_pretrained(captioner_folder).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(captioner_folder)
    pixels = transformers.ViTImageProcessor.from_pretrained(captioner_folder)(
        [p.convert("RGB") for p in photos[:3]], return_tensors="pt"
    )["pixel_values"]
    with torch.no_grad():
        expected_ids = torch_model.generate(pixels, max_new_tokens=8, do_sample=False, num_beams=1)
    expected = [[{"generated_text": t}] for t in tokenizer.batch_decode(expected_ids, skip_special_tokens=True)]
    assert captioner(photos[:3], max_new_tokens=8) == expected
    assert captioner(photos[0], generate_kwargs={"max_new_tokens": 8}) == expected[0]
    with pytest.raises(InvalidInputError, match="once"):
        captioner(photos[0], max_new_tokens=8, generate_kwargs={"max_new_tokens": 8})
