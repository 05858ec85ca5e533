"""from_pretrained keyword arguments as transformers takes them (5.23's behaviour; TF-only flags per 4.57)."""

import logging

import pytest
import transformers

import kerasformers
from kerasformers.errors import CheckpointNotFoundError, InvalidInputError, NotSupportedError

TINY = transformers.BertConfig(
    vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64,
)  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("bert_kwargs")
    transformers.BertModel(TINY).save_pretrained(path)
    transformers.BertModel(TINY).save_pretrained(path / "sub")
    return path


@pytest.mark.parametrize("loader", ["TFBertForSequenceClassification", "TFAutoModelForSequenceClassification"])
def test_config_overrides_and_loading_arguments(folder, loader, caplog):
    cls = getattr(kerasformers, loader)
    with caplog.at_level(logging.INFO, logger="kerasformers"):
        model, info = cls.from_pretrained(
            folder,
            num_labels=3,
            output_hidden_states=True,
            id2label={0: "neg", 1: "neu", 2: "pos"},
            from_pt=True,
            revision="main",
            local_files_only=True,
            token="unused",
            force_download=False,
            use_safetensors=True,
            trust_remote_code=False,
            output_loading_info=True,
        )
    assert "from_pt=True needs no conversion" in caplog.text
    assert model.config.num_labels == 3 and model.config.id2label[2] == "pos" and model.config.output_hidden_states
    assert set(info) == {"missing_keys", "unexpected_keys", "mismatched_keys"}
    assert len(model({"input_ids": [[5, 6, 7]]}).hidden_states) == 2
    assert type(cls.from_pretrained(folder, subfolder="sub")) is kerasformers.TFBertForSequenceClassification


@pytest.mark.parametrize("loader", ["TFBertModel", "TFAutoModel"])
def test_unknown_keyword_is_a_type_error_as_in_transformers(folder, loader):
    # transformers 5.23: BertModel.from_pretrained(folder, foo=1) raises TypeError (unexpected keyword argument)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        getattr(kerasformers, loader).from_pretrained(folder, foo=1)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"from_tf": True}, NotSupportedError, "save_pretrained"),
        ({"from_flax": True}, NotSupportedError, "Flax"),
        ({"trust_remote_code": True}, NotSupportedError, "own architectures"),
        ({"use_safetensors": False}, InvalidInputError, "allow_pickle=True"),
        ({"subfolder": "nope"}, CheckpointNotFoundError, "subfolder"),
    ],
)
def test_refused_arguments_name_the_fix(folder, kwargs, error, words):
    with pytest.raises(error, match=words):
        kerasformers.TFAutoModel.from_pretrained(folder, **kwargs)
