"""pipeline(): text-classification, token-classification, fill-mask, feature-extraction.

The oracle is transformers 5.23's own pipeline on the same folder: a tiny random BERT head
saved by PyTorch transformers with all-MiniLM-L6-v2's real tokenizer (and the real
all-MiniLM-L6-v2 for feature-extraction). Labels, words and spans must be identical and scores
within 1e-4; our results must not change with batch_size (inputs are padded per batch).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers

from kerasformers.pipelines import KeyDataset, pipeline

SCORE_ATOL = 1e-4
TINY_BERT = dict(
    vocab_size=30522,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=512,
)
TEXTS = [
    "I love this movie",
    "Terrible plot, wooden acting and far too long.",
    "My name is Wolfgang and I live in Berlin.",
    "Hugging Face Inc. is a company based in New York City; its headquarters are in DUMBO.",
    "ok",
]


def _save_with_tokenizer(model, source: Path, folder: Path) -> Path:
    model.save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (source / name).exists():
            shutil.copy(source / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def head_checkpoints(minilm_path, tmp_path_factory) -> dict[str, Path]:
    """Tiny random BERT checkpoints (sequence and token classification, masked LM) with MiniLM's tokenizer."""
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    folders = {}
    torch.manual_seed(0)
    config = transformers.BertConfig(
        **TINY_BERT, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1}
    )
    folders["text-classification"] = transformers.BertForSequenceClassification(config)
    config = transformers.BertConfig(
        **TINY_BERT, id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)}
    )
    folders["token-classification"] = transformers.BertForTokenClassification(config)
    folders["fill-mask"] = transformers.BertForMaskedLM(transformers.BertConfig(**TINY_BERT))
    root = tmp_path_factory.mktemp("pipelines")
    for task, model in list(folders.items()):
        # random heads score close to uniform; larger weights separate labels so rankings are stable
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if "classifier" in name or "predictions.transform" in name:
                    parameter.mul_(8.0)
        folders[task] = _save_with_tokenizer(model.eval(), Path(minilm_path), root / task)
    return folders


class _PipelinesByTask(dict):
    """task -> pipeline on that task's checkpoint, built on first use (each test builds only its own)."""

    def __init__(self, factory, checkpoints):
        super().__init__()
        self.factory, self.checkpoints = factory, checkpoints

    def __missing__(self, task):
        self[task] = self.factory(task, model=str(self.checkpoints[task]))
        return self[task]


@pytest.fixture(scope="session")
def torch_pipelines(head_checkpoints):
    return _PipelinesByTask(transformers.pipeline, head_checkpoints)


@pytest.fixture(scope="session")
def our_pipelines(head_checkpoints):
    return _PipelinesByTask(pipeline, head_checkpoints)


def assert_same(ours, theirs, path="result"):
    """Nested results equal: strings/ints exactly, floats (scores) within SCORE_ATOL."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), f"{path}: keys {ours} vs {theirs}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{path}: {ours} vs {theirs}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, (float, np.floating)):
        assert type(ours) is type(theirs), f"{path}: {type(ours)} vs {type(theirs)}"
        assert abs(ours - float(theirs)) <= SCORE_ATOL, f"{path}: {ours} vs {theirs}"
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_allclose(ours, theirs, atol=SCORE_ATOL, err_msg=path)
    else:
        assert ours == theirs and type(ours) is type(theirs), f"{path}: {ours!r} vs {theirs!r}"


# ---------------------------------------------------------------- text-classification
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"top_k": None}, {"top_k": 1}, {"function_to_apply": "sigmoid"}, {"function_to_apply": "none", "top_k": 2}],
)
def test_text_classification(our_pipelines, torch_pipelines, kwargs):
    ours, theirs = our_pipelines["text-classification"], torch_pipelines["text-classification"]
    assert_same(ours(TEXTS[0], **kwargs), theirs(TEXTS[0], **kwargs))
    expected = theirs(TEXTS, **kwargs)
    assert_same(ours(TEXTS, **kwargs), expected)
    assert_same(ours(TEXTS, batch_size=8, **kwargs), expected)


def test_text_classification_pairs_and_truncation(our_pipelines, torch_pipelines):
    ours, theirs = our_pipelines["text-classification"], torch_pipelines["text-classification"]
    pairs = [{"text": TEXTS[0], "text_pair": TEXTS[1]}, {"text": TEXTS[2], "text_pair": TEXTS[3]}]
    assert_same(ours(pairs[0]), theirs(pairs[0]))
    assert_same(ours(pairs, batch_size=2, top_k=None), theirs(pairs, top_k=None))
    long_text = " ".join(TEXTS) * 40  # past the 512 positions: only truncation makes it fit
    assert_same(ours(long_text, truncation=True), theirs(long_text, truncation=True))


def test_sentiment_analysis_alias_and_datasets(head_checkpoints, torch_pipelines):
    import datasets

    classifier = pipeline("sentiment-analysis", model=str(head_checkpoints["text-classification"]), batch_size=2)
    expected = torch_pipelines["text-classification"](TEXTS)
    dataset = datasets.Dataset.from_dict({"text": TEXTS})
    from_keys = classifier(KeyDataset(dataset, "text"))
    assert not isinstance(from_keys, list)  # results come lazily, as transformers'
    assert_same(list(from_keys), expected)
    assert_same(list(classifier(text for text in TEXTS)), expected)
    assert_same(list(classifier(dataset["text"])), expected)


# ---------------------------------------------------------------- token-classification
@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_token_classification(our_pipelines, torch_pipelines, strategy):
    ours, theirs = our_pipelines["token-classification"], torch_pipelines["token-classification"]
    kwargs = {"aggregation_strategy": strategy, "ignore_labels": []}  # keep "O" too: more to compare
    expected = theirs(TEXTS, **kwargs)
    assert any(entity for entities in expected for entity in entities)
    assert_same(ours(TEXTS, **kwargs), expected)
    assert_same(ours(TEXTS, batch_size=8, **kwargs), expected)
    assert_same(ours(TEXTS[3], aggregation_strategy=strategy), theirs(TEXTS[3], aggregation_strategy=strategy))


def test_ner_alias_stride_and_split_words(head_checkpoints, torch_pipelines):
    theirs = torch_pipelines["token-classification"]
    ner = pipeline("ner", model=str(head_checkpoints["token-classification"]), aggregation_strategy="simple")
    long_text = " ".join(TEXTS * 12)  # several overlapping windows of 64 tokens
    kwargs = {"stride": 16, "ignore_labels": [], "aggregation_strategy": "first"}
    ner.tokenizer.model_max_length = theirs.tokenizer.model_max_length = 64
    try:
        assert_same(ner(long_text, batch_size=4, **kwargs), theirs(long_text, **kwargs))
    finally:
        ner.tokenizer.model_max_length = theirs.tokenizer.model_max_length = 512
    words = TEXTS[3].split()
    assert_same(
        ner(words, is_split_into_words=True, ignore_labels=[]),
        theirs(words, is_split_into_words=True, aggregation_strategy="simple", ignore_labels=[]),
    )


# ---------------------------------------------------------------- fill-mask
def test_fill_mask(our_pipelines, torch_pipelines):
    ours, theirs = our_pipelines["fill-mask"], torch_pipelines["fill-mask"]
    texts = ["Paris is the [MASK] of France.", "The [MASK] sat on the [MASK] and slept.", "[MASK]"]
    expected = theirs(texts, top_k=3)
    assert_same(ours(texts, top_k=3), expected)
    assert_same(ours(texts, top_k=3, batch_size=8), expected)
    assert_same(ours(texts[0]), theirs(texts[0]))
    assert_same(ours([texts[1]]), theirs([texts[1]]))


def test_fill_mask_targets(our_pipelines, torch_pipelines, caplog):
    ours, theirs = our_pipelines["fill-mask"], torch_pipelines["fill-mask"]
    text = "The [MASK] sat on the mat."
    targets = ["cat", "dog", "house"]
    assert_same(ours(text, targets=targets), theirs(text, targets=targets))
    assert_same(ours(text, targets="dog", top_k=4), theirs(text, targets="dog", top_k=4))
    # a word outside the vocabulary stands for its first token, with a warning (transformers' behaviour)
    with caplog.at_level("WARNING", logger="kerasformers"):
        result = ours(text, targets=["cat", "xylophonist"])
    assert "xylophonist" in caplog.text
    assert_same(result, theirs(text, targets=["cat", "xylophonist"]))


# ---------------------------------------------------------------- feature-extraction
def test_feature_extraction_minilm(minilm_path):
    import tensorflow as tf

    theirs = transformers.pipeline("feature-extraction", model=str(minilm_path))
    ours = pipeline("feature-extraction", model=str(minilm_path))
    texts = TEXTS[:3]
    expected = theirs(texts)  # batch 1 in transformers: each text's own length
    for batch_size in (1, 8):
        result = ours(texts, batch_size=batch_size)
        for a, b in zip(result, expected):
            assert isinstance(a, list) and np.shape(a) == np.shape(b)
            np.testing.assert_allclose(np.array(a), np.array(b), atol=5e-5)  # the real checkpoint's tolerance
    tensor = ours(texts[0], return_tensors=True)
    assert isinstance(tensor, tf.Tensor)
    np.testing.assert_allclose(tensor.numpy(), theirs(texts[0], return_tensors=True).numpy(), atol=5e-5)
    kwargs = {"tokenize_kwargs": {"max_length": 4, "truncation": True}}
    np.testing.assert_allclose(np.array(ours(texts[1], **kwargs)), np.array(theirs(texts[1], **kwargs)), atol=5e-5)
