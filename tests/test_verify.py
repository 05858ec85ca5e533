"""`kerasformers verify`: the pt-to-tf check (every head against PyTorch transformers 5.23).

The oracle is PyTorch transformers itself, run by verify on the same checkpoint; these tests
check that the report holds the figures (all within 5e-5 on all-MiniLM-L6-v2, the weights
exactly equal after the round trip, every text tokenized alike), that a copy with one weight
perturbed by 1e-3 fails with exit code 1 naming that tensor, and the missing-torch error.
"""

import builtins
import shutil

import numpy as np
import pytest
import torch
import transformers
from safetensors.numpy import load_file, save_file

from kerasformers.cli import main
from kerasformers.errors import MissingDependencyError
from kerasformers.verify import VERIFY_TEXTS, verify_checkpoint

PERTURBED = "encoder.layer.1.attention.self.query.weight"


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A tiny BERT saved by PyTorch transformers (no tokenizer: verify uses random ids)."""
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    folder = tmp_path_factory.mktemp("tiny-bert")
    transformers.BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def perturbed_bert(tiny_bert, tmp_path_factory):
    """A copy of tiny_bert with one tensor changed by 1e-3, the rest byte-for-byte the same."""
    folder = tmp_path_factory.mktemp("tiny-bert-perturbed")
    for file in tiny_bert.iterdir():
        shutil.copy(file, folder / file.name)
    tensors = load_file(tiny_bert / "model.safetensors")
    assert PERTURBED in tensors
    tensors[PERTURBED] = tensors[PERTURBED].copy()
    tensors[PERTURBED][0, 0] += 1e-3
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    return folder


def test_minilm_passes_with_its_figures(minilm_path):
    report = verify_checkpoint(minilm_path, heads=["feature-extraction", "fill-mask"])
    assert report.passed, report.to_table()
    by_section = {s: [r for r in report.rows if r.section == s] for s in ("outputs", "weights", "tokenizer")}
    # every text of the built-in set tokenized the same as transformers' AutoTokenizer
    assert [r.error for r in by_section["tokenizer"]] == [0] * len(VERIFY_TEXTS)
    # outputs and every hidden state (embeddings + 6 layers) of both heads, each within 5e-5;
    # float32 on two libraries: not bit-identical
    names = {(r.head, r.name) for r in by_section["outputs"]}
    for head in ("TFBertModel", "TFBertForMaskedLM"):
        assert {(head, f"hidden_states[{i}]") for i in range(7)} <= names
    assert {
        ("TFBertModel", "last_hidden_state"),
        ("TFBertModel", "pooler_output"),
        ("TFBertForMaskedLM", "logits"),
    } <= names
    errors = [r.error for r in by_section["outputs"]]
    assert 0 < max(errors) <= 5e-5
    # the checkpoint's own class (BertModel): all 103 tensors back unchanged from save_pretrained
    assert len(by_section["weights"]) >= 100 and all(r.error == 0 for r in by_section["weights"])
    # the report shows the figures
    markdown = report.to_markdown()
    worst = max(by_section["outputs"], key=lambda r: r.error)
    assert f"{worst.error:.2e}" in markdown and "| outputs | TFBertModel | last_hidden_state |" in markdown
    assert "randomly initialised on both sides" in markdown  # the MLM head is not in this checkpoint


def test_cli_passes_and_writes_report(tiny_bert, tmp_path, capsys):
    report_file = tmp_path / "verify.md"
    assert main(["verify", str(tiny_bert), "--heads", "base", "--report", str(report_file)]) == 0
    printed = capsys.readouterr().out
    assert "PASSED" in printed and "TFBertModel" in printed
    text = report_file.read_text()
    assert text.startswith("## Verification") and "| weights | TFBertModel |" in text


def test_perturbed_weight_fails_and_is_named(tiny_bert, perturbed_bert, capsys):
    report = verify_checkpoint(perturbed_bert, heads=["base"], reference=tiny_bert)
    assert not report.passed
    weights = {r.name: r for r in report.rows if r.section == "weights"}
    assert [r.name for r in weights.values() if not r.passed] == [PERTURBED]
    np.testing.assert_allclose(weights[PERTURBED].error, 1e-3, rtol=1e-3)  # float32 rounding of the 1e-3
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", str(perturbed_bert), "--heads", "base", "--reference", str(tiny_bert)])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and PERTURBED in captured.out
    assert "over 5e-05" in captured.err


def test_unknown_head_is_one_clear_error(tiny_bert, capsys):
    assert main(["verify", str(tiny_bert), "--heads", "image-classification"]) == 2
    err = capsys.readouterr().err
    assert "image-classification" in err and "sequence_classification" in err


def test_missing_torch_names_the_extra(tiny_bert, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name.split(".")[0] in ("torch", "transformers"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(MissingDependencyError, match=r"pip install 'kerasformers\[test\]'"):
        verify_checkpoint(tiny_bert)
    assert main(["verify", str(tiny_bert)]) == 2
    assert "kerasformers[test]" in capsys.readouterr().err


@pytest.mark.slow
def test_smollm2_figures(smollm2_path):
    report = verify_checkpoint(smollm2_path, heads=["text-generation"])
    rows = {(r.section, r.name): r for r in report.rows}
    # greedy generate() token-identical on 3 prompts, every text tokenized alike, weights exact
    assert [r.error for (s, _), r in rows.items() if s == "generation"] == [0, 0, 0]
    assert all(r.error == 0 for (s, _), r in rows.items() if s in ("tokenizer", "weights"))
    # CONTRIBUTING.md: SmolLM2 logits within 1e-3 of PyTorch
    assert rows["outputs", "logits"].error <= 1e-3
    # Its residual stream carries massive activations (|value| up to ~3e4), where one float32 ulp
    # is ~2e-3: hidden states are held to a few ulps of their magnitude, not to 5e-5 absolute.
    # verify therefore scales its 5e-5 limit by the magnitude of outputs above 1, and SmolLM2 passes.
    states = [r for (s, n), r in rows.items() if s == "outputs" and n.startswith("hidden_states[")]
    assert len(states) == 31 and all(r.error <= 1e-5 * max(r.scale, 1.0) for r in states)
    assert max(r.scale for r in states) > 1e3  # the massive activations are really there
    assert report.passed, [(r.name, r.error, r.scale) for r in report.failures]


def test_push_writes_the_report_into_the_model_card(tiny_bert, hub_server, monkeypatch, tmp_path, capsys):
    """`--push`: the report becomes the card's Verification section, replaced (not repeated) on a second run."""
    from hub_server import use_hub

    use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    card = "---\nlicense: mit\n---\n# Tiny BERT\n\nWritten by its author.\n"
    hub_server.add_commit("me/verified-bert", {**{p.name: p for p in tiny_bert.iterdir()}, "README.md": card.encode()})
    for _ in range(2):
        assert main(["verify", "me/verified-bert", "--heads", "base", "--push", "--token", "hf_me_write"]) == 0
    pushed = hub_server.files("me/verified-bert")["README.md"].decode()
    assert pushed.startswith(card.rstrip("\n")) and "Written by its author." in pushed  # the author's text is kept
    assert pushed.count("## Verification") == 1 and "| weights | TFBertModel |" in pushed
    assert "Report pushed to me/verified-bert" in capsys.readouterr().out
    # a local folder has no model card to write into
    assert main(["verify", str(tiny_bert), "--push"]) == 2
    assert "repository name" in capsys.readouterr().err
