"""Loading and saving: config.json, name resolution, weight files, prefixes, sizes, dtypes, bad input.

Checkpoints are tiny models saved by PyTorch transformers (the oracle); expected values come
from it, never from our own outputs.
"""

import json
import logging
import shutil

import huggingface_hub
import keras
import numpy as np
import pytest
import torch
import transformers
from model_tester import max_abs_diff
from tiny_configs import BERT_KWARGS

import kerasformers
from kerasformers import CheckpointNotFoundError, WeightsError
from kerasformers.configuration import UnsupportedModelTypeError

TINY_BERT = dict(BERT_KWARGS, type_vocab_size=2)
TINY_DISTILBERT = dict(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64)


def torch_run(model, inputs):
    with torch.no_grad():
        return model(**{k: torch.tensor(v) for k, v in inputs.items()})


@pytest.fixture(scope="module")
def inputs():
    ids = np.random.RandomState(0).randint(3, 99, (2, 7)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 5:] = 0
    ids[1, 5:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def save_torch(tmp_path_factory, name, model):
    folder = tmp_path_factory.mktemp(name)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_base(tmp_path_factory):
    """(folder, torch model): a BertModel checkpoint, no "bert." prefix."""
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**TINY_BERT)).eval()
    return save_torch(tmp_path_factory, "bert_base", model), model


@pytest.fixture(scope="module")
def bert_classifier(tmp_path_factory):
    """(folder, torch model): BertForSequenceClassification with 3 labels, "bert." prefix."""
    torch.manual_seed(1)
    config = transformers.BertConfig(
        **TINY_BERT, num_labels=3, id2label={0: "a", 1: "b", 2: "c"}, label2id={"a": 0, "b": 1, "c": 2}
    )
    model = transformers.BertForSequenceClassification(config).eval()
    return save_torch(tmp_path_factory, "bert_classifier", model), model


# ------------------------------------------------------------------------------------ config


def test_config_round_trip_keeps_unknown_keys(bert_classifier, tmp_path):
    folder, _ = bert_classifier
    raw = json.loads((folder / "config.json").read_text())
    raw["my_custom_key"] = {"nested": [1, 2]}
    raw["another_key"] = "kept"
    (tmp_path / "config.json").write_text(json.dumps(raw))
    config = kerasformers.AutoConfig.from_pretrained(tmp_path)
    assert type(config) is kerasformers.BertConfig
    assert config.my_custom_key == {"nested": [1, 2]} and config.another_key == "kept"
    out = tmp_path / "out"
    config.save_pretrained(out)
    written = json.loads((out / "config.json").read_text())
    for key, value in raw.items():
        if key not in ("transformers_version", "dtype", "torch_dtype"):
            assert written[key] == value, key
    # transformers reads what we wrote
    theirs = transformers.AutoConfig.from_pretrained(out)
    assert theirs.id2label == {0: "a", 1: "b", 2: "c"} and theirs.my_custom_key == {"nested": [1, 2]}


def test_config_label_overrides(bert_classifier):
    folder, _ = bert_classifier
    config = kerasformers.AutoConfig.from_pretrained(folder)
    assert config.num_labels == 3 and config.id2label == {0: "a", 1: "b", 2: "c"}
    assert config.label2id == {"a": 0, "b": 1, "c": 2}
    config = kerasformers.AutoConfig.from_pretrained(folder, num_labels=5)
    assert config.num_labels == 5 and config.id2label[4] == "LABEL_4"
    config = kerasformers.AutoConfig.from_pretrained(folder, id2label={0: "neg", 1: "pos"})
    assert config.num_labels == 2 and config.label2id == {"neg": 0, "pos": 1}
    config = kerasformers.AutoConfig.from_pretrained(
        folder, id2label={"0": "x", "1": "y"}, label2id={"x": "0", "y": "1"}, hidden_dropout_prob=0.3
    )
    assert config.id2label == {0: "x", 1: "y"} and config.label2id == {"x": 0, "y": 1}
    assert config.hidden_dropout_prob == 0.3


# ------------------------------------------------------------------------------------ hub


def test_resolves_local_folder(bert_base):
    folder, _ = bert_base
    assert kerasformers.hub.resolve_checkpoint(folder) == folder
    assert kerasformers.hub.resolve_checkpoint(str(folder)) == folder


@pytest.fixture
def local_hub(tmp_path, monkeypatch):
    monkeypatch.delenv("KERASFORMERS_HUB", raising=False)
    yield tmp_path / "hub"
    kerasformers.set_local_hub(None)


def test_local_hub_by_env_and_setting(bert_base, local_hub, monkeypatch, inputs):
    folder, torch_model = bert_base
    shutil.copytree(folder, local_hub / "my-org" / "tiny-bert")
    monkeypatch.setenv("KERASFORMERS_HUB", str(local_hub))
    model = kerasformers.TFAutoModel.from_pretrained("my-org/tiny-bert")
    expected = torch_run(torch_model, inputs).last_hidden_state.numpy()
    assert max_abs_diff(model(inputs).last_hidden_state, expected) <= 1e-5

    monkeypatch.delenv("KERASFORMERS_HUB")
    with pytest.raises(CheckpointNotFoundError):
        kerasformers.hub.resolve_checkpoint("my-org/tiny-bert")
    kerasformers.set_local_hub(local_hub)
    assert kerasformers.hub.resolve_checkpoint("my-org/tiny-bert") == local_hub / "my-org" / "tiny-bert"


def make_hf_cache(cache, repo_id, revisions):
    """A Hugging Face hub cache as huggingface_hub lays it out: refs/<name> -> snapshots/<commit>."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    for ref, (commit, source) in revisions.items():
        shutil.copytree(source, repo / "snapshots" / commit)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return repo


MAIN_COMMIT = "a" * 40
V2_COMMIT = "b" * 40


@pytest.fixture
def hf_cache(tmp_path, bert_base, bert_classifier):
    cache = tmp_path / "hf-cache"
    make_hf_cache(cache, "org/tiny", {"main": (MAIN_COMMIT, bert_base[0]), "v2": (V2_COMMIT, bert_classifier[0])})
    return cache


def test_hf_cache_with_cache_dir_and_revisions(hf_cache, local_hub):
    config = kerasformers.AutoConfig.from_pretrained("org/tiny", cache_dir=hf_cache)
    assert config.architectures == ["BertModel"]
    config = kerasformers.AutoConfig.from_pretrained("org/tiny", cache_dir=hf_cache, revision="v2")
    assert config.architectures == ["BertForSequenceClassification"]
    assert (
        kerasformers.hub.resolve_checkpoint("org/tiny", revision=V2_COMMIT, cache_dir=hf_cache)
        == hf_cache / "models--org--tiny" / "snapshots" / V2_COMMIT
    )
    model = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(
        "org/tiny", cache_dir=hf_cache, revision="v2"
    )
    assert model.config.num_labels == 3
    with pytest.raises(CheckpointNotFoundError, match="revision 'v3'"):
        kerasformers.TFAutoModel.from_pretrained("org/tiny", cache_dir=hf_cache, revision="v3")


def test_hf_cache_default_location(hf_cache, local_hub, monkeypatch):
    # HF_HUB_CACHE is read by huggingface_hub at import; patch the constant it was read into
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hf_cache))
    assert kerasformers.hub.resolve_checkpoint("org/tiny") == hf_cache / "models--org--tiny" / "snapshots" / MAIN_COMMIT


def test_local_hub_in_hf_cache_layout(hf_cache, local_hub):
    kerasformers.set_local_hub(hf_cache)
    assert (
        kerasformers.hub.resolve_checkpoint("org/tiny", revision="v2")
        == hf_cache / "models--org--tiny" / "snapshots" / V2_COMMIT
    )


def test_unknown_name_lists_where_it_looked(local_hub, tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    kerasformers.set_local_hub(local_hub)
    with pytest.raises(CheckpointNotFoundError) as error:
        kerasformers.TFAutoModel.from_pretrained("nobody/no-such-model")
    message = str(error.value)
    assert "nobody/no-such-model" in message
    assert "local folder" in message and str(local_hub) in message and "Hugging Face cache" in message
    with pytest.raises(CheckpointNotFoundError, match="neither an existing folder"):
        kerasformers.TFBertModel.from_pretrained("./no/such/../folder/here")


def test_revision_on_plain_folder_is_an_error(bert_base):
    with pytest.raises(CheckpointNotFoundError, match="no revisions"):
        kerasformers.TFBertModel.from_pretrained(bert_base[0], revision="v2")


# ------------------------------------------------------------------------------------ weight files


def test_sharded_safetensors_round_trip(bert_classifier, tmp_path, inputs):
    folder, torch_model = bert_classifier
    model = kerasformers.TFBertForSequenceClassification.from_pretrained(folder)
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    shards = sorted(p.name for p in tmp_path.glob("model-*.safetensors"))
    assert len(shards) > 2 and (tmp_path / "model.safetensors.index.json").is_file()
    assert not (tmp_path / "model.safetensors").exists()
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert sorted(set(index["weight_map"].values())) == shards

    reloaded, info = kerasformers.TFBertForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": []}
    for a, b in zip(model.weights, reloaded.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    theirs, info = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    expected = torch_run(torch_model, inputs).logits.numpy()
    assert max_abs_diff(torch_run(theirs.eval(), inputs).logits, expected) <= 1e-5
    assert max_abs_diff(reloaded(inputs).logits, expected) <= 1e-5


def test_pickle_weights_need_opt_in(bert_classifier, tmp_path, inputs):
    folder, torch_model = bert_classifier
    shutil.copy(folder / "config.json", tmp_path / "config.json")
    torch.save(torch_model.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(WeightsError, match="allow_pickle=True"):
        kerasformers.TFBertForSequenceClassification.from_pretrained(tmp_path)
    model, info = kerasformers.TFBertForSequenceClassification.from_pretrained(
        tmp_path, allow_pickle=True, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["mismatched_keys"]
    expected = torch_run(torch_model, inputs).logits.numpy()
    assert max_abs_diff(model(inputs).logits, expected) <= 1e-5


# ------------------------------------------------------------------------------------ prefixes


def test_base_checkpoint_into_head_model(bert_base, inputs, caplog):
    folder, torch_model = bert_base
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        model, info = kerasformers.TFBertForSequenceClassification.from_pretrained(
            folder, num_labels=2, output_loading_info=True
        )
    assert info["missing_keys"] == ["classifier.bias", "classifier.weight"]
    assert info["unexpected_keys"] == [] and info["mismatched_keys"] == []
    assert any("newly initialized" in r.getMessage() for r in caplog.records)
    # the encoder is the checkpoint's: compare the pooled output through the model's own layers
    pooled = model.bert(inputs["input_ids"], attention_mask=inputs["attention_mask"]).pooler_output
    assert max_abs_diff(pooled, torch_run(torch_model, inputs).pooler_output.numpy()) <= 1e-5


def test_head_checkpoint_into_base_model(bert_classifier, inputs):
    folder, torch_model = bert_classifier
    model, info = kerasformers.TFAutoModel.from_pretrained(folder, output_loading_info=True)
    assert type(model) is kerasformers.TFBertModel
    assert info["unexpected_keys"] == ["classifier.bias", "classifier.weight"] and info["missing_keys"] == []
    expected = torch_run(torch_model.bert, inputs).last_hidden_state.numpy()
    assert max_abs_diff(model(inputs).last_hidden_state, expected) <= 1e-5


@pytest.mark.parametrize(
    "ours, theirs, base",
    [
        ("TFDistilBertForMaskedLM", "DistilBertForMaskedLM", "TFDistilBertModel"),
        ("TFRobertaForTokenClassification", "RobertaForTokenClassification", "TFRobertaModel"),
    ],
)
def test_prefixes_of_other_architectures(ours, theirs, base, tmp_path, inputs):
    config_cls = getattr(
        transformers, theirs.replace("ForMaskedLM", "Config").replace("ForTokenClassification", "Config")
    )
    config = config_cls(
        **(TINY_DISTILBERT if "Distil" in theirs else {**TINY_BERT, "max_position_embeddings": 66, "pad_token_id": 1})
    )
    torch.manual_seed(0)
    head = getattr(transformers, theirs)(config).eval()
    head.save_pretrained(tmp_path / "head")
    prefix = head.base_model_prefix
    getattr(head, prefix).save_pretrained(tmp_path / "base")  # the base model alone: no prefix
    batch = {k: v for k, v in inputs.items()}
    expected = torch_run(getattr(head, prefix), batch).last_hidden_state.numpy()

    model, info = getattr(kerasformers, base).from_pretrained(tmp_path / "head", output_loading_info=True)
    assert info["unexpected_keys"]  # the head's tensors are left over
    assert all(k.startswith("pooler.") for k in info["missing_keys"])  # RoBERTa's heads have no pooler
    assert max_abs_diff(model(batch).last_hidden_state, expected) <= 1e-5
    model, info = getattr(kerasformers, ours).from_pretrained(tmp_path / "base", output_loading_info=True)
    assert info["missing_keys"] and all(not k.startswith(prefix + ".") for k in info["missing_keys"])
    assert info["unexpected_keys"] == []


def test_ignore_mismatched_sizes(bert_classifier, inputs, caplog):
    folder, torch_model = bert_classifier
    with pytest.raises(WeightsError, match="ignore_mismatched_sizes=True"):
        kerasformers.TFBertForSequenceClassification.from_pretrained(folder, num_labels=5)
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        model, info = kerasformers.TFBertForSequenceClassification.from_pretrained(
            folder, num_labels=5, ignore_mismatched_sizes=True, output_loading_info=True
        )
    assert sorted(k for k, _, _ in info["mismatched_keys"]) == ["classifier.bias", "classifier.weight"]
    assert ("classifier.weight", (3, 32), (5, 32)) in [tuple(m) for m in info["mismatched_keys"]] or (
        "classifier.weight",
        (32, 3),
        (32, 5),
    ) in [tuple(m) for m in info["mismatched_keys"]]
    assert any("shapes did not match" in r.getMessage() for r in caplog.records)
    assert model(inputs).logits.shape == (2, 5)
    pooled = model.bert(inputs["input_ids"], attention_mask=inputs["attention_mask"]).pooler_output
    assert max_abs_diff(pooled, torch_run(torch_model.bert, inputs).pooler_output.numpy()) <= 1e-5


# ------------------------------------------------------------------------------------ bad input


def test_folder_without_weights(bert_base, tmp_path):
    shutil.copy(bert_base[0] / "config.json", tmp_path / "config.json")
    with pytest.raises(WeightsError, match="has no model weights.*found: config.json"):
        kerasformers.TFAutoModel.from_pretrained(tmp_path)


def test_folder_without_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        kerasformers.TFAutoModel.from_pretrained(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_safetensors(bert_base, tmp_path, damage):
    folder, _ = bert_base
    shutil.copy(folder / "config.json", tmp_path / "config.json")
    data = (folder / "model.safetensors").read_bytes()
    data = {"truncated": data[: len(data) // 2], "garbage": b"\x00not a safetensors file" * 10, "empty": b""}[damage]
    (tmp_path / "model.safetensors").write_bytes(data)
    with pytest.raises(WeightsError, match="truncated or corrupted"):
        kerasformers.TFAutoModel.from_pretrained(tmp_path)


def test_unsupported_model_type(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "imaginary-net", "hidden_size": 8}))
    for load in (kerasformers.AutoConfig.from_pretrained, kerasformers.TFAutoModel.from_pretrained):
        with pytest.raises(UnsupportedModelTypeError, match="imaginary-net.*Supported model types: .*bert"):
            load(tmp_path)


def test_other_model_type_warns(bert_base, caplog):
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        config = kerasformers.DistilBertConfig.from_pretrained(bert_base[0])
    assert type(config) is kerasformers.DistilBertConfig
    assert any("model of type bert to instantiate a model of type distilbert" in r.getMessage() for r in caplog.records)


def test_auto_class_without_that_task(tmp_path):
    config = kerasformers.AutoConfig.for_model("distilbert", **TINY_DISTILBERT)  # BERT has a causal LM head now
    with pytest.raises(UnsupportedModelTypeError, match="does not support model_type 'distilbert'"):
        kerasformers.TFAutoModelForCausalLM.from_config(config)


@pytest.mark.parametrize("cls", ["TFBertModel", "TFRobertaModel", "TFDistilBertModel"])
def test_wrong_rank_and_too_long_inputs(cls):
    model_type = {"TFBertModel": "bert", "TFRobertaModel": "roberta", "TFDistilBertModel": "distilbert"}[cls]
    values = TINY_DISTILBERT if model_type == "distilbert" else TINY_BERT
    model = getattr(kerasformers, cls)(kerasformers.AutoConfig.for_model(model_type, **values))
    model.build_with_dummy_inputs()
    with pytest.raises(ValueError, match=r"must have shape \(batch_size, sequence_length\).*Wrap a single"):
        model(np.array([5, 6, 7]))
    with pytest.raises(ValueError, match=r"must have shape \(batch_size, sequence_length\)"):
        model(np.ones((1, 2, 3), np.int32))
    limit = model.max_input_length
    assert limit == (62 if model_type == "roberta" else 64)
    with pytest.raises(ValueError, match=f"at most {limit}.*truncation=True, max_length={limit}"):
        model(np.full((1, limit + 1), 5))


def test_multiple_choice_wants_rank_3():
    model = kerasformers.TFBertForMultipleChoice(kerasformers.AutoConfig.for_model("bert", **TINY_BERT))
    model.build_with_dummy_inputs()
    with pytest.raises(ValueError, match=r"\(batch_size, num_choices, sequence_length\)"):
        model(np.ones((2, 5), np.int32))


# ------------------------------------------------------------------------------------ dtypes

# Half precision keeps 8 (bfloat16) or 11 (float16) significant bits: one rounding is a relative
# error of 2**-9 or 2**-12. Hidden states here are LayerNorm outputs of size up to ~3, after two
# layers of a few dozen roundings each; measured max differences are 0.029 (bf16) and 0.003 (fp16).
# The bounds leave ~3x headroom and stay far below what a wiring mistake (wrong weight, mask or
# position: differences of order 1) produces.
HALF_TOLERANCE = {"bfloat16": 0.08, "float16": 0.01}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_loads_and_runs(bert_classifier, inputs, dtype):
    folder, torch_model = bert_classifier
    full = kerasformers.TFBertForSequenceClassification.from_pretrained(folder)
    half = kerasformers.TFBertForSequenceClassification.from_pretrained(folder, dtype=dtype)
    assert {v.dtype for v in half.weights} == {dtype}
    out = half(inputs, output_hidden_states=True)
    assert out.logits.dtype == dtype
    reference = full(inputs, output_hidden_states=True)
    for a, b in zip(out.hidden_states, reference.hidden_states):
        assert max_abs_diff(a, b) <= HALF_TOLERANCE[dtype]
    assert max_abs_diff(out.logits, reference.logits) <= HALF_TOLERANCE[dtype]
    # and float32 is the oracle's
    assert max_abs_diff(reference.logits, torch_run(torch_model, inputs).logits.numpy()) <= 1e-5
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_return_dict_false_gives_the_tuple_pytorch_gives(tmp_path):
    torch.manual_seed(0)
    torch_model = transformers.BertModel(transformers.BertConfig(**TINY_BERT)).eval()
    torch_model.save_pretrained(tmp_path)
    model = kerasformers.TFBertModel.from_pretrained(tmp_path)
    ids = np.array([[5, 6, 7, 8]])
    ours = model(ids, return_dict=False)
    with torch.no_grad():
        theirs = torch_model(torch.tensor(ids), return_dict=False)
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert max_abs_diff(a, b.numpy()) <= 1e-5


def test_auto_class_register_custom_model(tmp_path):
    """transformers' custom-model API: AutoConfig.register + TFAutoModelFor*.register, then load by folder."""
    from kerasformers import (
        AutoConfig,
        BertConfig,
        TFAutoModelForSequenceClassification,
        TFBertForSequenceClassification,
    )
    from kerasformers.errors import ConfigError

    class MyBertConfig(BertConfig):
        model_type = "my-bert-for-register-test"

    class TFMyBertForSequenceClassification(TFBertForSequenceClassification):
        config_class = MyBertConfig

    AutoConfig.register(MyBertConfig.model_type, MyBertConfig)
    TFAutoModelForSequenceClassification.register(MyBertConfig, TFMyBertForSequenceClassification)
    with pytest.raises(ConfigError, match="exist_ok"):
        TFAutoModelForSequenceClassification.register(MyBertConfig, TFMyBertForSequenceClassification)
    with pytest.raises(ConfigError, match="config_class"):
        TFAutoModelForSequenceClassification.register(BertConfig, TFMyBertForSequenceClassification, exist_ok=True)

    config = MyBertConfig(
        vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, num_labels=3
    )
    model = TFMyBertForSequenceClassification(config)
    model.build_with_dummy_inputs()
    model.save_pretrained(tmp_path / "custom")
    loaded = TFAutoModelForSequenceClassification.from_pretrained(tmp_path / "custom")
    assert type(loaded) is TFMyBertForSequenceClassification
    ids = np.array([[4, 5, 6]], np.int32)
    np.testing.assert_allclose(loaded(ids).logits, model(ids).logits, atol=1e-6)
