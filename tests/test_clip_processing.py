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
