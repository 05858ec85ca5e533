"""Bad input to pipeline(): one clear KerasformersError each, naming the problem and the fix.

Uses a tiny random BERT saved by PyTorch transformers with all-MiniLM-L6-v2's tokenizer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import transformers

from kerasformers.errors import InvalidInputError, InvalidInputTypeError, KerasformersError, UnsupportedModelTypeError
from kerasformers.pipelines import pipeline

TINY_BERT = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


@pytest.fixture(scope="module")
def classifier_folder(minilm_path, tmp_path_factory) -> Path:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("bad-pipelines")
    transformers.BertForSequenceClassification(transformers.BertConfig(**TINY_BERT)).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (Path(minilm_path) / name).exists():
            shutil.copy(Path(minilm_path) / name, folder / name)
    return folder


def test_unknown_task_suggests_close_names():
    with pytest.raises(UnsupportedModelTypeError, match="Unknown pipeline task 'sentiment-analysys'") as error:
        pipeline("sentiment-analysys", model="unused")
    assert "Did you mean 'sentiment-analysis'" in str(error.value) and isinstance(error.value, ValueError)
    with pytest.raises(UnsupportedModelTypeError, match="Tasks: .*fill-mask"):
        pipeline("table-question-answering", model="unused")


def test_no_model_names_the_fix():
    with pytest.raises(InvalidInputError, match="needs model=.*distilbert-base-uncased-finetuned-sst-2-english"):
        pipeline("sentiment-analysis")


def test_model_without_the_head(classifier_folder):
    from kerasformers import TFAutoModel

    base = TFAutoModel.from_pretrained(classifier_folder)
    with pytest.raises(
        InvalidInputTypeError, match="fill-mask pipeline needs .*TFBertForMaskedLM.*TFAutoModelForMaskedLM"
    ):
        pipeline("fill-mask", model=base, tokenizer=str(classifier_folder))


def test_architecture_without_the_head(classifier_folder, tmp_path):
    # GPT-2 has no token-classification head in kerasformers' table: the auto class says so
    transformers.GPT2Config(n_embd=32, n_layer=1, n_head=4).save_pretrained(tmp_path)
    with pytest.raises(KerasformersError, match="gpt2"):
        pipeline("fill-mask", model=str(tmp_path))


def test_missing_tokenizer(classifier_folder, tmp_path):
    from kerasformers import TFAutoModelForSequenceClassification

    model = TFAutoModelForSequenceClassification.from_pretrained(classifier_folder)
    model.config._name_or_path = ""  # nowhere to find a tokenizer
    with pytest.raises(InvalidInputError, match="no tokenizer.*tokenizer=AutoTokenizer.from_pretrained"):
        pipeline("text-classification", model=model)
    weights_only = tmp_path / "weights-only"
    weights_only.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(classifier_folder / name, weights_only / name)
    with pytest.raises(KerasformersError, match="tokenizer"):
        pipeline("text-classification", model=str(weights_only))


def test_bad_call_arguments(classifier_folder):
    classifier = pipeline("text-classification", model=str(classifier_folder))
    with pytest.raises(InvalidInputError, match="function_to_apply='tanh'"):
        classifier("good", function_to_apply="tanh")
    with pytest.raises(InvalidInputError, match="batch_size must be a positive int"):
        classifier(["good"], batch_size=0)
    with pytest.raises(InvalidInputError, match="text_pair"):
        classifier([["a", "b", "c"]])
    with pytest.raises(NotImplementedError, match="framework='pt'"):
        pipeline("text-classification", model=str(classifier_folder), framework="pt")
