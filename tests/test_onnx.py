"""ONNX export (kerasformers.serving.onnx) run with onnxruntime, against the Keras model and PyTorch transformers.

Each architecture and head is built by PyTorch transformers on a tiny config (random weights),
loaded by us, exported, and run by onnxruntime at two batch sizes and sequence lengths (the
axes are dynamic). The oracle is PyTorch transformers on the same weights; the Keras model's
own outputs are compared too. The real all-MiniLM-L6-v2 is checked once (~20 s).
"""

import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

# Modules, not their Test* classes: a class imported here would be collected (and run) again.
import test_gpt2
import test_llama
import test_modeling_bert
import test_modeling_distilbert
import test_modeling_roberta
import torch
import transformers
from model_tester import ATOL, max_abs_diff, torch_outputs
from test_minilm import SENTENCES

import kerasformers
from kerasformers.errors import ExportError
from kerasformers.serving import export_onnx

BERT = test_modeling_bert.TestBert

# Every BERT head; elsewhere the base model and the heads with their own code paths
# (XLM-R is RoBERTa's code; its classes differ only by name).
ROBERTA, DISTILBERT = test_modeling_roberta.TestRoberta, test_modeling_distilbert.TestDistilBert
CASES = [
    *[(BERT, head) for head in BERT.heads],
    (ROBERTA, "TFRobertaModel"),
    (ROBERTA, "TFRobertaForMaskedLM"),
    (ROBERTA, "TFRobertaForMultipleChoice"),
    (test_modeling_roberta.TestXLMRoberta, "TFXLMRobertaForSequenceClassification"),
    (DISTILBERT, "TFDistilBertModel"),
    (DISTILBERT, "TFDistilBertForQuestionAnswering"),
    (DISTILBERT, "TFDistilBertForMultipleChoice"),
    *[(test_gpt2.TestGPT2, head) for head in test_gpt2.TestGPT2.heads],
    *[(test_llama.TestLlama, head) for head in test_llama.TestLlama.heads],
    (test_llama.TestMistral, "TFMistralForCausalLM"),
    (test_llama.TestQwen2, "TFQwen2ForCausalLM"),
]
SHAPES = [(3, 9), (2, 5)]  # (batch, sequence): one exported file serves both


def make_inputs(tester, head: str, batch: int, length: int, seed: int) -> dict[str, np.ndarray]:
    """int64 ids, a right-padded row, token types where the model's tokenizer gives them."""
    config = tester.torch_config
    rng = np.random.RandomState(seed)
    ids = rng.randint(3, config.vocab_size, (batch, length)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[-1, length // 2 + 1 :] = 0
    if tester.pad_with_pad_token_id:
        ids[mask == 0] = config.pad_token_id
    inputs = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in tester.input_names:
        types = np.zeros_like(ids)
        types[:, length // 2 :] = 1
        inputs["token_type_ids"] = types
    if getattr(kerasformers, head).main_input_rank == 3:  # multiple choice, GPT-2 double heads
        inputs = {k: np.stack([v, np.roll(v, 1, axis=0)], axis=1) for k, v in inputs.items()}
    return inputs


def run_onnx(session, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # An input the tokenizer does not give (XLM-R's token_type_ids) is zeros, as the model defaults.
    feed = {i.name: inputs.get(i.name, np.zeros_like(inputs["input_ids"])) for i in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feed)))


@pytest.mark.parametrize("tester_cls, head", CASES, ids=[head for _, head in CASES])
def test_onnx_matches_keras_and_pytorch(tester_cls, head, tmp_path):
    tester = tester_cls()
    torch.manual_seed(0)
    torch_model = getattr(transformers, tester.heads[head])(tester.config_for(head)).eval()
    torch_model.set_attn_implementation("eager")  # as the per-model tests
    torch_model.save_pretrained(tmp_path / "checkpoint")
    model = getattr(kerasformers, head).from_pretrained(tmp_path / "checkpoint")

    path = export_onnx(model, tmp_path / "model.onnx")
    assert path == tmp_path / "model.onnx" and not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
    onnx.checker.check_model(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rank = model.main_input_rank
    axes = ["batch", "num_choices", "sequence"] if rank == 3 else ["batch", "sequence"]
    expected_inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in model._call_parameters()]
    assert [i.name for i in session.get_inputs()] == expected_inputs
    assert all(i.shape == axes and i.type == "tensor(int64)" for i in session.get_inputs())

    for seed, (batch, length) in enumerate(SHAPES):
        inputs = make_inputs(tester, head, batch, length, seed)
        ours = run_onnx(session, inputs)
        keras_out = model(inputs)
        theirs = torch_outputs(torch_model, inputs)
        expected = sorted(k for k in keras_out if k not in ("loss", "past_key_values"))
        assert sorted(ours) == expected
        for key in expected:
            assert ours[key].shape == tuple(theirs[key].shape), key
            assert max_abs_diff(ours[key], keras_out[key]) <= ATOL, (key, batch, length)
            assert max_abs_diff(ours[key], theirs[key].numpy()) <= ATOL, (key, batch, length)


def test_exact_gelu_exports_as_erf(tmp_path):
    """BERT's exact GELU (TF: 0.5 x erfc(-x/sqrt 2)) becomes ONNX Erf, not a tanh approximation."""
    config = kerasformers.AutoConfig.for_model("bert", **BERT.torch_config.to_dict())
    assert config.hidden_act == "gelu"
    model = kerasformers.TFBertModel(config)
    path = model.export(tmp_path / "bert.onnx", format="onnx", opset=10)  # the lowest opset we accept
    graph = onnx.load(str(path))
    ops = {node.op_type for node in graph.graph.node}
    assert "Erf" in ops and "Erfc" not in ops
    assert graph.opset_import[0].version == 10
    inputs = make_inputs(BERT(), "TFBertModel", 2, 7, 0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert max_abs_diff(run_onnx(session, inputs)["last_hidden_state"], model(inputs).last_hidden_state) <= ATOL


def test_hidden_states_and_attentions_are_named_outputs(tmp_path):
    config = kerasformers.AutoConfig.for_model("bert", **BERT.torch_config.to_dict())
    model = kerasformers.TFBertModel(config)
    path = export_onnx(model, tmp_path, output_hidden_states=True, output_attentions=True, input_dtype="int32")
    assert path == tmp_path / "model.onnx"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert all(i.type == "tensor(int32)" for i in session.get_inputs())
    inputs = {k: v.astype(np.int32) for k, v in make_inputs(BERT(), "TFBertModel", 2, 6, 0).items()}
    ours = run_onnx(session, inputs)
    keras_out = model(inputs, output_hidden_states=True, output_attentions=True)
    layers = config.num_hidden_layers
    assert set(ours) == {
        "last_hidden_state",
        "pooler_output",
        *[f"hidden_states_{i}" for i in range(layers + 1)],
        *[f"attentions_{i}" for i in range(layers)],
    }
    for i in range(layers):
        assert max_abs_diff(ours[f"attentions_{i}"], keras_out.attentions[i]) <= ATOL
        assert max_abs_diff(ours[f"hidden_states_{i + 1}"], keras_out.hidden_states[i + 1]) <= ATOL


# ------------------------------------------------------------------------------ command line, real checkpoint


def test_cli_exports_onnx(tmp_path, capsys):
    """kerasformers export CHECKPOINT DIR --format onnx: DIR/model.onnx and config.json, as transformers'."""
    from kerasformers.cli import main

    torch.manual_seed(0)
    torch_model = transformers.BertModel(BERT.torch_config).eval()
    torch_model.save_pretrained(tmp_path / "checkpoint")
    out = tmp_path / "onnx"
    assert (
        main(
            [
                "export",
                str(tmp_path / "checkpoint"),
                str(out),
                "--format",
                "onnx",
                "--task",
                "feature-extraction",
                "--opset",
                "15",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out / "model.onnx")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.onnx"]
    assert transformers.AutoConfig.from_pretrained(out).hidden_size == BERT.torch_config.hidden_size
    assert onnx.load(str(out / "model.onnx")).opset_import[0].version == 15
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    for seed, (batch, length) in enumerate(SHAPES):
        inputs = make_inputs(BERT(), "TFBertModel", batch, length, seed)
        ours, theirs = run_onnx(session, inputs), torch_outputs(torch_model, inputs)
        assert max_abs_diff(ours["last_hidden_state"], theirs.last_hidden_state.numpy()) <= ATOL


def test_minilm_matches_transformers(minilm_path, tmp_path):
    """The real all-MiniLM-L6-v2 through ONNX, against transformers on its own tokenizer's batches."""
    model = kerasformers.TFAutoModel.from_pretrained(minilm_path)
    path = model.export(tmp_path / "minilm.onnx", format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_path)
    torch_model = transformers.AutoModel.from_pretrained(minilm_path).eval()
    shapes = set()
    for texts in (SENTENCES, SENTENCES[:1]):
        batch = dict(tokenizer(texts, padding=True, return_tensors="np"))
        shapes.add(batch["input_ids"].shape)
        ours = run_onnx(session, batch)
        theirs = torch_outputs(torch_model, batch)
        assert max_abs_diff(ours["last_hidden_state"], theirs.last_hidden_state.numpy()) <= 5e-5
        assert max_abs_diff(ours["pooler_output"], theirs.pooler_output.numpy()) <= 5e-5
    assert len(shapes) == 2  # two batch sizes and sequence lengths through one file


# ------------------------------------------------------------------------------ errors


@pytest.fixture(scope="module")
def tiny_bert():
    model = kerasformers.TFBertModel(kerasformers.AutoConfig.for_model("bert", **BERT.torch_config.to_dict()))
    model.build_with_dummy_inputs()
    return model


def test_clear_errors_for_unsupported_cases(tiny_bert, tmp_path, monkeypatch):
    import keras

    import kerasformers.serving.onnx as kf_onnx

    plain = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(TypeError, match="kerasformers model"):
        export_onnx(plain, tmp_path / "x.onnx")
    for opset in (9, 19):
        with pytest.raises(ValueError, match="choose an ONNX opset from 10 to 18"):
            export_onnx(tiny_bert, tmp_path / "x.onnx", opset=opset)
    with pytest.raises(ValueError, match="'int64'"):
        export_onnx(tiny_bert, tmp_path / "x.onnx", input_dtype="float32")
    monkeypatch.setattr(kf_onnx, "MAX_WEIGHT_BYTES", 1024)
    with pytest.raises(ValueError, match="at most 2 GiB.*model.export"):
        export_onnx(tiny_bert, tmp_path / "x.onnx")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_ops_without_conversion_at_the_opset_are_named(tmp_path):
    """Llama's last-token pooling gathers with batch_dims, which tf2onnx converts from opset 12 on."""
    config = test_llama.TestLlama.torch_config
    model = kerasformers.TFLlamaForSequenceClassification(
        kerasformers.AutoConfig.for_model(config.model_type, **config.to_dict())
    )
    with pytest.raises(
        ExportError,
        match=r"no conversion for the TensorFlow op\(s\) GatherV2 at opset 11\. "
        r"Try a higher opset \(up to 18\)",
    ):
        export_onnx(model, tmp_path / "llama.onnx", opset=11)
    assert list(tmp_path.iterdir()) == []


def test_unconverted_tensorflow_ops_are_reported():
    """An op tf2onnx leaves as TensorFlow would only fail inside onnxruntime; we name it first."""
    from onnx import helper

    from kerasformers.serving.onnx import _unsupported_ops

    node = helper.make_node("Erfc", ["x"], ["y"])
    graph = helper.make_graph(
        [node, helper.make_node("Relu", ["y"], ["z"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert _unsupported_ops(model) == ["Erfc"]


def test_missing_tf2onnx_names_the_extra(tiny_bert, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # import tf2onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install kerasformers\[onnx\]"):
        export_onnx(tiny_bert, tmp_path / "x.onnx")


def test_cli_refuses_saved_model_flags(tmp_path, capsys):
    from kerasformers.cli import main

    with pytest.raises(SystemExit, match="--with-tokenizer is not used by --format onnx"):
        main(["export", str(tmp_path), str(tmp_path / "out"), "--format", "onnx", "--with-tokenizer"])
    assert not (tmp_path / "out").exists()
