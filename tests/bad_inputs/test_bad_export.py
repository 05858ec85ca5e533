"""Bad inputs to SavedModel / ONNX export: refused before any work, nothing written or overwritten.

Also the serving edge cases: a question-answering export served on a question + context
shorter than ``max_answer_len`` tokens, and int64 token ids (what tokenizers return).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from kerasformers.cli import main
from kerasformers.serving import export_pipeline, export_saved_model, export_text_generation, next_version


@pytest.fixture(scope="module")
def served(tiny_bert_classifier, tmp_path_factory) -> Path:
    """An export folder holding version 1 of the tiny classifier; tests copy it before changing it."""
    root = tmp_path_factory.mktemp("served") / "serving"
    export_saved_model(tiny_bert_classifier, root, version=1)
    return root


@pytest.fixture
def serving(served, tmp_path) -> Path:
    copy = tmp_path / "serving"
    shutil.copytree(served, copy)
    return copy


# ------------------------------------------------------------------------ an existing version
def test_existing_version_is_refused(tiny_bert_classifier, serving, snapshot):
    before = snapshot(serving)
    with pytest.raises(FileExistsError) as error:
        export_saved_model(tiny_bert_classifier, serving, version=1)
    assert "already exists" in str(error.value) and "overwrite=True" in str(error.value)
    assert "(2)" in str(error.value)  # the next free version
    assert snapshot(serving) == before


def test_existing_version_refused_before_loading_the_checkpoint(serving, snapshot):
    before = snapshot(serving)
    # the checkpoint does not exist: the version check comes first, so no load is attempted
    for with_tokenizer in (True, False):
        with pytest.raises(FileExistsError, match="overwrite"):
            export_pipeline("no/such-checkpoint", serving, version=1, with_tokenizer=with_tokenizer)
    assert snapshot(serving) == before


def test_existing_version_refused_for_text_generation(tiny_llama, tmp_path, snapshot):
    (tmp_path / "gen" / "3").mkdir(parents=True)
    (tmp_path / "gen" / "3" / "keep.txt").write_text("old")
    before = snapshot(tmp_path / "gen")
    with pytest.raises(FileExistsError, match="already exists"):
        export_text_generation(tiny_llama, tmp_path / "gen", version=3, tokenizer=object())
    assert snapshot(tmp_path / "gen") == before


def test_overwrite_replaces_and_next_version_ignores_hidden_folders(tiny_bert_classifier, serving):
    (serving / "1" / "stale.txt").write_text("from the old version")
    (serving / ".tmp-7-abc").mkdir()  # what a killed export leaves: hidden, never a version
    assert next_version(serving) == 2
    path = export_saved_model(tiny_bert_classifier, serving, version=1, overwrite=True)
    assert path == serving / "1" and not (path / "stale.txt").exists()
    assert sorted(p.name for p in serving.iterdir() if not p.name.startswith(".")) == ["1"]
    assert [p.name for p in serving.iterdir() if p.name.startswith(".")] == [".tmp-7-abc"]  # only the planted one
    assert export_saved_model(tiny_bert_classifier, serving).name == "2"  # version None: the next free


def test_failed_overwrite_keeps_the_old_version(tiny_bert_classifier, serving, monkeypatch, snapshot):
    """Overwriting must not delete the old version before the new one is in place."""
    import kerasformers.serving.saved_model as saved_model

    before = snapshot(serving)

    def failing_swap(new, old):  # the atomic swap of the new version in: as if killed there
        raise OSError("simulated crash while moving the new version in")

    monkeypatch.setattr(saved_model, "exchange_paths", failing_swap)
    with pytest.raises(OSError, match="simulated crash"):
        export_saved_model(tiny_bert_classifier, serving, version=1, overwrite=True)
    monkeypatch.undo()
    assert snapshot(serving) == before  # old version intact, no hidden leftovers


@pytest.mark.parametrize(
    "version, words",
    [
        (-1, ["version=-1", "whole number >= 0"]),
        (".hidden", ["'.hidden'", "not starting with '.'"]),
        ("a/b", ["'a/b'", "plain folder name"]),
    ],
)
def test_bad_version_names(tiny_bert_classifier, tmp_path, version, words):
    with pytest.raises(ValueError) as error:
        export_saved_model(tiny_bert_classifier, tmp_path / "serving", version=version)
    for word in words:
        assert word in str(error.value)
    assert not (tmp_path / "serving").exists()


@pytest.mark.parametrize("where", ["export folder is a file", "export folder under a file"])
def test_export_folder_that_is_a_file(tiny_bert_classifier, tmp_path, where):
    blocker = tmp_path / "model.bin"
    blocker.write_bytes(b"keep")
    target = blocker if where == "export folder is a file" else blocker / "serving"
    with pytest.raises(NotADirectoryError, match="is .*file"):
        export_saved_model(tiny_bert_classifier, target)
    assert blocker.read_bytes() == b"keep" and sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]


# ------------------------------------------------------------------------ ONNX
def test_onnx_existing_file_is_refused_then_overwritten(tiny_bert_classifier, tmp_path):
    from kerasformers.serving import export_onnx

    target = tmp_path / "model.onnx"
    target.write_bytes(b"an older export")
    with pytest.raises(FileExistsError, match="already exists.*overwrite=True"):
        export_onnx(tiny_bert_classifier, target)
    assert target.read_bytes() == b"an older export"
    assert export_onnx(tiny_bert_classifier, tmp_path, overwrite=True) == target
    assert target.read_bytes() != b"an older export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temporary file left


def test_onnx_path_under_a_file(tiny_bert_classifier, tmp_path, snapshot):
    from kerasformers.serving import export_onnx

    (tmp_path / "x").write_bytes(b"keep")
    with pytest.raises(NotADirectoryError, match="is a file"):
        export_onnx(tiny_bert_classifier, tmp_path / "x" / "model.onnx")
    assert snapshot(tmp_path) == {"x": hashlib.sha256(b"keep").hexdigest()}


# ------------------------------------------------------------------------ the command line
def test_cli_existing_version_needs_overwrite(tiny_bert_folder, served, tmp_path, capsys, snapshot):
    serving = tmp_path / "serving"
    shutil.copytree(served, serving)
    before = snapshot(serving)
    code = main(["export", str(tiny_bert_folder), str(serving), "--version", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "Traceback" not in err
    assert "already exists" in err and "--overwrite" in err
    assert snapshot(serving) == before
    assert main(["export", str(tiny_bert_folder), str(serving), "--version", "1", "--overwrite"]) == 0
    assert (serving / "1" / "saved_model.pb").is_file() and snapshot(serving) != before


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--version", "-3"], ["version=-3"]),
        (["--task", "summarization"], ["Unknown task 'summarization'"]),
        (["--format", "onnx", "--task", "summarization"], ["Unknown task 'summarization'"]),
    ],
)
def test_cli_bad_export_options(tiny_bert_folder, tmp_path, capsys, argv, words):
    code = main(["export", str(tiny_bert_folder), str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()


def test_cli_onnx_existing_file(tiny_bert_folder, tmp_path, capsys, snapshot):
    out = tmp_path / "onnx"
    out.mkdir()
    (out / "model.onnx").write_bytes(b"older")
    code = main(["export", str(tiny_bert_folder), str(out), "--format", "onnx"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "--overwrite" in err
    assert snapshot(out) == {"model.onnx": hashlib.sha256(b"older").hexdigest()}


def test_cli_output_dir_is_a_file(tiny_bert_folder, tmp_path, capsys):
    (tmp_path / "out").write_bytes(b"keep")
    code = main(["export", str(tiny_bert_folder), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "existing file" in err
    assert (tmp_path / "out").read_bytes() == b"keep"


# ------------------------------------------------------------------------ int64 ids
def test_loaded_serve_takes_int64_and_int32(tiny_bert_classifier, served, ids):
    loaded = tf.saved_model.load(str(served / "1"))
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    expected = tiny_bert_classifier(inputs).logits.numpy()
    for dtype in (tf.int64, tf.int32):  # int64: what tokenizers return (return_tensors="np")
        got = loaded.serve({k: tf.constant(v, dtype) for k, v in inputs.items()})["logits"]
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


# ------------------------------------------------------------------------ question answering, short input
@pytest.fixture(scope="module")
def tiny_qa_checkpoint(tiny_checkpoint_with_tokenizer) -> Path:
    """A tiny question-answering BERT with all-MiniLM-L6-v2's tokenizer."""
    return tiny_checkpoint_with_tokenizer("TFBertForQuestionAnswering")


def test_question_answering_export_serves_short_inputs(tiny_qa_checkpoint, tmp_path):
    """7 tokens ([CLS] who ? [SEP] ann . [SEP]) < max_answer_len=15: the answer band must fit."""
    transformers = pytest.importorskip("transformers")
    import tensorflow_text  # noqa: F401  (the tokenizer's ops)
    import torch

    questions, contexts = ["Who?", "Where?"], ["Ann.", "In Rome."]
    path = export_pipeline(tiny_qa_checkpoint, tmp_path / "qa", task="question-answering")
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    got = serve(question=tf.constant(questions), context=tf.constant(contexts))
    # The oracle: PyTorch transformers' logits and transformers v4's span decoding
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_qa_checkpoint))
    model = transformers.AutoModelForQuestionAnswering.from_pretrained(str(tiny_qa_checkpoint)).eval()
    batch = tokenizer(questions, contexts, padding=True, return_tensors="pt")
    assert batch["input_ids"].shape[1] < 15  # really shorter than the answer band
    with torch.no_grad():
        output = model(**batch)
    for row in range(len(questions)):
        keep = np.array([s == 1 for s in batch.sequence_ids(row)])
        keep[0] = True  # [CLS]
        start, end = (
            np.where(keep, logits[row].numpy(), -10000.0) for logits in (output.start_logits, output.end_logits)
        )
        start, end = (np.exp(x - x.max()) / np.exp(x - x.max()).sum() for x in (start, end))
        start[0] = end[0] = 0.0
        scores = np.tril(np.triu(start[:, None] * end[None, :]), 14)
        best_start, best_end = np.unravel_index(scores.argmax(), scores.shape)
        assert (int(got["start"][row]), int(got["end"][row])) == (best_start, best_end)
        assert abs(float(got["score"][row]) - scores.max()) < 5e-5
