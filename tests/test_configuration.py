"""Typed configs: declared fields and defaults (checked against transformers), config.json round
trips with unknown keys, typo warnings, overrides, aliases.

PyTorch transformers is the oracle for defaults and for reading what we write.
"""

import dataclasses
import json
import logging

import pytest
import transformers

import kerasformers.models  # noqa: F401  (registers every architecture)
from kerasformers.configuration import _CONFIG_REGISTRY, AutoConfig, ConfigError, PretrainedConfig
from kerasformers.models.bert.configuration_bert import BertConfig
from kerasformers.models.gpt2.configuration_gpt2 import GPT2Config
from kerasformers.models.llama.configuration_llama import LlamaConfig, Qwen2Config

MODEL_TYPES = sorted(_CONFIG_REGISTRY)

# Switches our Llama-family model reads on every member; transformers declares them only on
# some (Mistral has no biases, Qwen2 no head_dim). Their defaults keep the transformers model.
NOT_IN_TRANSFORMERS = {
    "mistral": {"attention_bias", "mlp_bias"},
    "qwen2": {"attention_bias", "mlp_bias", "head_dim"},
    "mt5": {"scale_decoder_outputs"},  # ours for both T5 configs; transformers 5 has it on T5Config only
}
# transformers' Qwen2Config sets sliding_window to None when use_sliding_window is false; we keep
# the value (so a checkpoint's config.json round-trips) and use no window all the same.
# VisionEncoderDecoderConfig() with no decoder: transformers fills in BERT, ours GPT-2, the decoder
# kerasformers gives cross-attention (a BERT decoder would not run here).
INSTANCE_DIFFERENCES = {("qwen2", "sliding_window"), ("vision-encoder-decoder", "decoder")}


def transformers_field_defaults(model_type):
    """Name -> declared default of transformers' config class for ``model_type`` (a dataclass in v5)."""
    cls = type(transformers.AutoConfig.for_model(model_type))
    return {
        f.name: f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        for f in dataclasses.fields(cls)
    }


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_declared_defaults_equal_transformers(model_type):
    ours = _CONFIG_REGISTRY[model_type].declared_fields()
    theirs = transformers_field_defaults(model_type)
    instance = transformers.AutoConfig.for_model(model_type)
    for name, default in ours.items():
        if name in theirs:
            assert default == theirs[name], name
        elif hasattr(instance, name):  # a property in transformers (output_attentions)
            if default is None:  # derived at construction (T5's dense_act_fn): the instance test checks it
                continue
            assert default == getattr(instance, name), name
        else:
            assert name in NOT_IN_TRANSFORMERS.get(model_type, ()), f"{name} is not a transformers field"
            assert default in (False, None), name


def _same(ours, theirs) -> bool:
    """Equal values; nested configs (CLIP text_config, VisionEncoderDecoder encoder) equal on the keys both write."""
    if not (hasattr(ours, "to_dict") and hasattr(theirs, "to_dict")):
        return ours == theirs
    a, b = (json.loads(json.dumps(c.to_dict(), default=str)) for c in (ours, theirs))
    common = (set(a) & set(b)) - {"transformers_version", "kerasformers_version", "architectures", "_name_or_path"}
    return bool(common) and a["model_type"] == b["model_type"] and all(a[k] == b[k] for k in common)


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_default_instance_equals_transformers(model_type):
    """Values filled in at construction (head_dim, rope_parameters, layer_types...) agree too."""
    ours = _CONFIG_REGISTRY[model_type]()
    theirs = transformers.AutoConfig.for_model(model_type)
    for name in ours.declared_fields():
        if hasattr(theirs, name) and (model_type, name) not in INSTANCE_DIFFERENCES:
            assert _same(getattr(ours, name), getattr(theirs, name)), name
    assert ours.id2label == theirs.id2label and ours.label2id == theirs.label2id


def test_fields_are_visible_on_the_class():
    assert BertConfig.hidden_size == 768
    assert BertConfig.__annotations__["hidden_size"] in (int, "int")
    assert "model_type" not in BertConfig.declared_fields()  # a ClassVar, not a config.json field
    assert "qkv_bias" not in Qwen2Config.declared_fields()
    # a subclass changes a base's default without repeating the annotation
    assert Qwen2Config.declared_fields()["vocab_size"] == 151936
    assert LlamaConfig.declared_fields()["vocab_size"] == 32000


def test_mutable_defaults_are_not_shared():
    first, second = Qwen2Config(num_hidden_layers=2), Qwen2Config(num_hidden_layers=2)
    first.layer_types.append("full_attention")
    first.rope_parameters["factor"] = 4.0
    assert len(second.layer_types) == 2 and "factor" not in second.rope_parameters

    class ListConfig(PretrainedConfig):
        tags: list[str] = ["a"]

    one, two = ListConfig(), ListConfig()
    one.tags.append("b")
    assert two.tags == ["a"] and ListConfig.tags == ["a"] and ListConfig.declared_fields()["tags"] == ["a"]


def test_field_without_default_is_refused():
    with pytest.raises(TypeError, match="without a default"):

        class Broken(PretrainedConfig):  # noqa: F841
            size: int


UNKNOWN_FILE = {
    "model_type": "bert",
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "architectures": ["BertForMaskedLM"],
    "id2label": {"0": "neg", "1": "pos"},
    "label2id": {"neg": 0, "pos": 1},
    "my_custom_key": {"nested": [1, 2.5, None, "x"]},
    "gradient_checkpointing": False,
    "transformers_version": "4.6.0.dev0",
    "torch_dtype": "float32",
    "position_embedding_type": "absolute",
}


def test_config_json_with_unknown_keys_round_trips(tmp_path, caplog):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(UNKNOWN_FILE))
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        config = AutoConfig.from_pretrained(folder)
    assert not caplog.records  # keys read from a file never warn
    assert type(config) is BertConfig and config.my_custom_key == {"nested": [1, 2.5, None, "x"]}
    config.save_pretrained(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "config.json").read_text())
    for key, value in UNKNOWN_FILE.items():
        assert written[key] == value, key
    # the rest is what the declared fields add, with their defaults
    for key in written.keys() - UNKNOWN_FILE.keys():
        assert written[key] == BertConfig.declared_fields()[key], key
    assert BertConfig.from_dict(written) == config
    # and PyTorch transformers reads what we wrote
    theirs = transformers.AutoConfig.from_pretrained(tmp_path / "out")
    assert theirs.hidden_size == 32 and theirs.my_custom_key == UNKNOWN_FILE["my_custom_key"]
    assert theirs.id2label == {0: "neg", 1: "pos"}


def test_misspelled_keyword_warns_with_suggestion(caplog):
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        config = BertConfig(hidden_sise=64)
    [record] = caplog.records
    assert "'hidden_sise'" in record.getMessage() and "Did you mean 'hidden_size'?" in record.getMessage()
    assert config.hidden_sise == 64 and config.hidden_size == 768  # kept, as transformers keeps it


def test_suggestion_includes_aliases(caplog):
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        GPT2Config(n_emdb=32, num_hidden_layer=2)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "Did you mean 'n_embd'?" in messages[0] and "Did you mean 'num_hidden_layers'?" in messages[1]


def test_known_keywords_do_not_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        GPT2Config(
            hidden_size=32,
            num_hidden_layers=2,
            output_hidden_states=True,
            return_dict=True,
            problem_type="regression",
            architectures=["GPT2LMHeadModel"],
            num_labels=3,
            torch_dtype="float32",
            dtype="float32",
            pad_token_id=0,
            tie_word_embeddings=False,
        )
        LlamaConfig(rope_scaling={"rope_type": "linear", "factor": 2.0}, rope_theta=5e5)
        BertConfig(id2label={0: "a", 1: "b"}, label2id={"a": 0, "b": 1})
    assert not caplog.records


def test_no_close_name_still_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        BertConfig(zzz=1)
    [record] = caplog.records
    assert "'zzz'" in record.getMessage() and "BertConfig.declared_fields()" in record.getMessage()


def test_overrides_via_from_pretrained(tmp_path, caplog):
    BertConfig(hidden_size=32, num_attention_heads=4, my_key=1).save_pretrained(tmp_path)
    caplog.clear()  # that constructor rightly warned about my_key
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        config = BertConfig.from_pretrained(tmp_path, hidden_dropout_prob=0.0, my_key=2, num_labels=3)
    assert not caplog.records  # my_key is in the file, so overriding it is no typo
    assert (config.hidden_size, config.hidden_dropout_prob, config.my_key, config.num_labels) == (32, 0.0, 2, 3)
    with caplog.at_level(logging.WARNING, logger="kerasformers"):
        config = AutoConfig.from_pretrained(tmp_path, hiden_dropout_prob=0.0)
    [record] = caplog.records
    assert "Did you mean 'hidden_dropout_prob'?" in record.getMessage()
    assert config.hidden_dropout_prob == 0.1 and config.hiden_dropout_prob == 0.0


def test_attribute_map_aliases_both_ways():
    config = GPT2Config(hidden_size=32, num_hidden_layers=2)
    assert (config.n_embd, config.n_layer, config.hidden_size) == (32, 2, 32)
    config.num_attention_heads = 8
    assert config.n_head == 8
    written = config.to_dict()
    assert written["n_embd"] == 32 and "hidden_size" not in written
    assert GPT2Config.from_dict({"n_embd": 16}).hidden_size == 16
    assert GPT2Config.from_dict({"n_embd": 16}, hidden_size=8).n_embd == 8


def test_labels_unchanged():
    config = BertConfig.from_dict({"id2label": {"0": "a", "1": "b"}}, num_labels=3)
    assert config.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    config = BertConfig(id2label={"0": "x", "1": "y"})
    assert config.id2label == {0: "x", 1: "y"} and config.label2id == {"x": 0, "y": 1}
    with pytest.raises(ConfigError, match="num_labels"):
        BertConfig(num_labels=0)


def test_for_model_and_equality():
    theirs = transformers.LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4).to_dict()
    config = AutoConfig.for_model("llama", **theirs)
    assert type(config) is LlamaConfig and config.head_dim == 16
    assert config == LlamaConfig.from_dict(config.to_dict())
    assert config != LlamaConfig(hidden_size=64, num_hidden_layers=3, num_attention_heads=4)


def test_from_dict_refuses_a_non_dict():
    with pytest.raises(ConfigError, match="dict"):
        BertConfig.from_dict([("hidden_size", 3)])


# -------------------------------------------------------------------------- transformers' config API
@pytest.fixture(scope="module")
def saved_by_transformers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hf_bert_config")
    transformers.BertConfig(hidden_size=32, num_labels=3, output_hidden_states=True, my_key=[1, 2]).save_pretrained(
        folder
    )
    return folder


def comparable(values: dict) -> dict:
    """JSON form (label ids as strings), without transformers' version stamp."""
    values = json.loads(json.dumps(values))
    values.pop("transformers_version", None)
    return values


def test_diff_dict_and_json_file_match_transformers(saved_by_transformers, tmp_path):
    ours = AutoConfig.from_pretrained(saved_by_transformers)
    theirs = transformers.AutoConfig.from_pretrained(saved_by_transformers)
    assert comparable(ours.to_diff_dict()) == comparable(theirs.to_diff_dict())
    fresh_ours, fresh_theirs = BertConfig(hidden_size=16), transformers.BertConfig(hidden_size=16)
    common = fresh_ours.to_dict().keys() & fresh_theirs.to_dict().keys()
    assert {k for k in fresh_ours.to_diff_dict() if k in common} == {
        k for k in fresh_theirs.to_diff_dict() if k in common
    }
    ours.to_json_file(tmp_path / "diff.json")  # the diff, as transformers writes by default
    assert comparable(json.loads((tmp_path / "diff.json").read_text())) == comparable(ours.to_diff_dict())
    assert json.loads(ours.to_json_string(use_diff=True)) == json.loads(json.dumps(ours.to_diff_dict()))
    back = BertConfig.from_json_file(tmp_path / "diff.json")
    assert type(back) is BertConfig and back == ours
    assert comparable(transformers.BertConfig.from_json_file(str(tmp_path / "diff.json")).to_diff_dict()) == comparable(
        theirs.to_diff_dict()
    )


def test_return_unused_kwargs_matches_transformers(saved_by_transformers):
    overrides = {"foo": 1, "hidden_act": "relu", "return_dict": False, "num_labels": 5, "my_key": 3}
    ours, ours_unused = AutoConfig.from_pretrained(saved_by_transformers, return_unused_kwargs=True, **overrides)
    theirs, theirs_unused = transformers.AutoConfig.from_pretrained(
        saved_by_transformers, return_unused_kwargs=True, **overrides
    )
    assert ours_unused == theirs_unused == {"foo": 1}
    assert not hasattr(ours, "foo")
    for name in ("hidden_act", "return_dict", "num_labels", "my_key", "use_return_dict", "output_hidden_states"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.id2label == theirs.id2label and ours.label2id == theirs.label2id


def test_update_and_update_from_string_match_transformers():
    ours, theirs = BertConfig(), transformers.BertConfig()
    for config in (ours, theirs):
        config.update({"hidden_dropout_prob": 0.0, "my_flag": True})
        config.update_from_string("hidden_size=64,layer_norm_eps=1e-6,hidden_act=relu,my_flag=no")
    for name in ("hidden_dropout_prob", "hidden_size", "layer_norm_eps", "hidden_act", "my_flag"):
        assert getattr(ours, name) == getattr(theirs, name) and type(getattr(ours, name)) is type(getattr(theirs, name))
    with pytest.raises(ConfigError, match="no attribute 'hiden_size'"):
        ours.update_from_string("hiden_size=3")
    with pytest.raises(ConfigError, match="true or false"):
        ours.update_from_string("my_flag=maybe")
    with pytest.raises(ConfigError, match="int"):
        ours.update_from_string("hidden_size=big")


def test_autoconfig_register_and_for_model():
    class ProbeConfig(PretrainedConfig):
        model_type = "kf-probe"
        width: int = 4

    try:
        AutoConfig.register("kf-probe", ProbeConfig)
        config = AutoConfig.for_model("kf-probe", width=8)
        assert type(config) is ProbeConfig and config.width == 8
        with pytest.raises(ConfigError, match="already registered"):
            AutoConfig.register("kf-probe", ProbeConfig)
        AutoConfig.register("kf-probe", ProbeConfig, exist_ok=True)
        with pytest.raises(ConfigError, match="model_type"):
            AutoConfig.register("kf-other", ProbeConfig)
    finally:
        _CONFIG_REGISTRY.pop("kf-probe", None)
