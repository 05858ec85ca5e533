"""Public entry points in a fresh process, so an import that works only by accident cannot hide.

Inside the suite, modules imported by earlier tests (huggingface_hub's submodules, TensorFlow)
are already loaded; a user's script starts with nothing. Each test here runs a new interpreter.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
COMMIT = "c" * 40


def run_fresh(script: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="module")
def minilm_in_hf_cache(minilm_path, tmp_path_factory):
    """all-MiniLM-L6-v2 laid out as huggingface_hub caches a download of 'sentence-transformers/minilm'."""
    cache = tmp_path_factory.mktemp("hf-cache")
    repo = cache / "models--sentence-transformers--minilm"
    shutil.copytree(minilm_path, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    return cache


def test_model_and_tokenizer_by_hub_name_in_a_fresh_process(minilm_in_hf_cache, minilm_path):
    """Loading by name reads huggingface_hub.constants: it must be imported by us, not by luck."""
    result = run_fresh(
        """
        import numpy as np
        from kerasformers import AutoTokenizer, TFAutoModel, TFAutoTokenizer
        name = "sentence-transformers/minilm"
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = TFAutoModel.from_pretrained(name)
        batch = tokenizer(["A fresh process."], return_tensors="np")
        print(batch["input_ids"][0].tolist())
        print(np.asarray(model(batch).last_hidden_state).shape)
        print(np.asarray(TFAutoTokenizer.from_pretrained(name)(["A fresh process."])["input_ids"][0]).tolist())
    """,
        env={"HF_HUB_CACHE": str(minilm_in_hf_cache), "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from tokenizers import Tokenizer

    expected = Tokenizer.from_file(str(minilm_path / "tokenizer.json"))
    expected.no_padding()
    expected.no_truncation()
    ids = expected.encode("A fresh process.").ids
    lines = result.stdout.strip().splitlines()
    assert lines[0] == str(ids) and lines[2] == str(ids)
    assert lines[1] == f"(1, {len(ids)}, 384)"


def test_import_is_light_and_names_load_on_first_use():
    """`import kerasformers` does not pay for TensorFlow; the first public name brings it in."""
    result = run_fresh("""
        import sys
        import kerasformers
        print("tensorflow" in sys.modules)
        from kerasformers import TFBertModel, AutoTokenizer  # noqa: F401
        print("tensorflow" in sys.modules, "TFBertModel" in kerasformers.__all__)
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "True", "True"]


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_unsupported_keras_backend_is_named_on_import(backend):
    result = run_fresh("import kerasformers", env={"KERAS_BACKEND": backend})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:") and f"KERAS_BACKEND={backend} is not supported" in last
    assert "KERAS_BACKEND=tensorflow" in last and "BatchEncoding" not in result.stderr
