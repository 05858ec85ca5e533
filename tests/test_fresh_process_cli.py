"""Every ``kerasformers`` command in a new process, as a user runs it.

In-process tests share one interpreter where TensorFlow, the package and huggingface_hub are
already imported; these catch what only a fresh start shows: a help that imports TensorFlow,
a module that is never imported, an environment variable read at import (HF_HUB_CACHE), a
Keras backend that is refused. Each subprocess pays TensorFlow's import (seconds), so they
are few.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def fresh_env(**changes) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")}
    env.update(CUDA_VISIBLE_DEVICES="", **changes)
    return env


def python(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        env=env or fresh_env(),
        timeout=600,
    )


def kerasformers(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed console script (``python -m kerasformers.cli`` where it is not on disk)."""
    script = Path(sys.executable).parent / "kerasformers"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kerasformers.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env or fresh_env(), timeout=600)


HELP_IMPORTS = """
    import contextlib, io, json, sys
    {prelude}
    from kerasformers.cli import main
    heavy_package = "tensorflow" in sys.modules
    for argv in (["--help"], ["train", "--help"], ["export", "--help"]):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main(argv)
            except SystemExit as stop:
                assert stop.code == 0, (argv, stop.code)
    heavy = sorted(m for m in ("tensorflow", "keras", "datasets", "torch") if m in sys.modules)
    print(json.dumps({{"heavy_package": heavy_package, "heavy": heavy}}))
"""


def test_cli_module_itself_imports_nothing_heavy():
    """cli.py and the export parser alone (the package's __init__ replaced by an empty package)."""
    stub = f"""
    import types
    package = types.ModuleType("kerasformers")
    package.__path__ = [{str(SRC / "kerasformers")!r}]
    sys.modules["kerasformers"] = package
    """
    result = python(HELP_IMPORTS.format(prelude=textwrap.indent(textwrap.dedent(stub), "    ").strip()))
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1])["heavy"] == []


def test_help_imports_no_tensorflow_and_prints_no_logs():
    result = python(HELP_IMPORTS.format(prelude=""))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["heavy"] == []
    shown = kerasformers("--help")
    assert shown.returncode == 0 and "usage: kerasformers" in shown.stdout
    assert shown.stderr == ""  # no TensorFlow/absl log lines (W0000 ..., I0000 ... cuda)


# ------------------------------------------------------------------------ train
@pytest.fixture(scope="module")
def tiny_checkpoints(minilm_path, tmp_path_factory) -> dict[str, Path]:
    """Tiny BERTs (random) with all-MiniLM-L6-v2's tokenizer: a base model and a 3-label classifier."""
    from kerasformers import TFBertForSequenceClassification, TFBertModel
    from kerasformers.models.bert.configuration_bert import BertConfig

    vocab = sum(1 for _ in open(Path(minilm_path) / "vocab.txt", encoding="utf-8"))
    sizes = dict(
        vocab_size=vocab,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    folders = {}
    for name, model in (
        ("base", TFBertModel(BertConfig(**sizes))),
        ("classifier", TFBertForSequenceClassification(BertConfig(**sizes, num_labels=3))),
    ):
        model.build_with_dummy_inputs()
        folders[name] = tmp_path_factory.mktemp(f"tiny-{name}")
        model.save_pretrained(folders[name])
        for file in TOKENIZER_FILES:
            if (Path(minilm_path) / file).exists():
                shutil.copy(Path(minilm_path) / file, folders[name] / file)
    return folders


def test_train_command(tiny_checkpoints, tmp_path):
    base = tiny_checkpoints["base"]  # no head: train adds one with the data's classes
    with open(tmp_path / "stars.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "stars"])
        writer.writerows((f"review {i} {'great' if i % 2 else 'awful'}", 5 if i % 2 else 1) for i in range(24))
    out = tmp_path / "out"
    result = kerasformers(
        "train",
        "--data",
        str(tmp_path / "stars.csv"),
        "--text-column",
        "review",
        "--label-column",
        "stars",
        "--model",
        str(base),
        "--output-dir",
        str(out),
        "--epochs",
        "1",
        "--max-length",
        "16",
        "--batch-size",
        "8",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Held-out accuracy" in result.stdout and "Traceback" not in result.stderr
    assert json.loads((out / "config.json").read_text())["id2label"] == {"0": "1", "1": "5"}
    assert set(json.loads((out / "eval_results.json").read_text())) >= {"accuracy", "macro_f1"}

    blocker = tmp_path / "a-file"
    blocker.write_text("keep")
    failed = kerasformers("train", "--data", str(tmp_path / "stars.csv"), "--output-dir", str(blocker))
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "--output-dir" in failed.stderr and blocker.read_text() == "keep"


# ------------------------------------------------------------------------ export by hub name
def test_export_by_hub_name_from_the_hf_cache(tiny_checkpoints, tmp_path):
    """`kerasformers export org/name ...` finds a checkpoint that is only in HF_HUB_CACHE."""
    import numpy as np
    import tensorflow as tf

    from kerasformers import TFAutoModelForSequenceClassification

    cache, commit = tmp_path / "hf-cache", "c" * 40
    repo = cache / "models--org--tiny-classifier"
    tiny_checkpoint = tiny_checkpoints["classifier"]
    shutil.copytree(tiny_checkpoint, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    env = fresh_env(HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1")
    out = tmp_path / "serving"
    result = kerasformers("export", "org/tiny-classifier", str(out), "--task", "text-classification", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith(str(out / "1"))
    loaded = tf.saved_model.load(str(out / "1"))
    ids = np.array([[101, 2023, 2003, 102]], np.int32)
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    expected = TFAutoModelForSequenceClassification.from_pretrained(tiny_checkpoint)(inputs).logits.numpy()
    got = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})["logits"]
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)

    again = kerasformers("export", "org/tiny-classifier", str(out), "--version", "1", env=env)
    assert again.returncode == 2 and "already exists" in again.stderr and "--overwrite" in again.stderr
