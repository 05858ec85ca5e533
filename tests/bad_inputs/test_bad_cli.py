"""Bad inputs to ``kerasformers train`` (and the CLI's help): one clear line, exit 2, nothing written.

Every case feeds one bad input and checks the key words of the single error line and that the
output folder was not created or changed. Runs that get as far as training use a tiny BERT
(hidden 32, 2 layers) with all-MiniLM-L6-v2's tokenizer, so a run takes seconds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kerasformers.cli import TrainingDataError, check_columns, classification_metrics, main


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_checkpoint_with_tokenizer) -> Path:
    """A tiny BERT (random) with all-MiniLM-L6-v2's tokenizer: a --model that trains in seconds."""
    return tiny_checkpoint_with_tokenizer("TFBertModel")


def write_csv(path: Path, rows, header=("text", "label")) -> str:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


GOOD_ROWS = [(f"review number {i} {'good' if i % 2 else 'bad'}", i % 2) for i in range(20)]


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def assert_one_error_line(err: str, *words: str) -> None:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err[-2000:]
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])


# ------------------------------------------------------------------------ data files
def _empty(path):
    path.write_bytes(b"")


def _header_only(path):
    path.write_text("text,label\n", encoding="utf-8")


def _binary(path):
    path.write_bytes(bytes(range(256)) * 8)  # NUL bytes and invalid UTF-8


def _latin1(path):
    path.write_bytes("text,label\ncaf\xe9 cr\xe8me,1\nna\xefve,0\n".encode("latin-1") * 5)


def _mixed_labels(path):
    write_csv(path, [(f"text {i}", i % 2) for i in range(12)] + [("stray", "positive")])


def _empty_jsonl(path):
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "name, make, words",
    [
        ("empty.csv", _empty, ["empty.csv", "empty file"]),
        ("header.csv", _header_only, ["header.csv", "no rows"]),
        ("binary.csv", _binary, ["binary.csv", "binary file"]),
        ("latin1.csv", _latin1, ["latin1.csv", "UTF-8"]),
        ("mixed.csv", _mixed_labels, ["'label'", "mixes label types", "numbers (e.g.", "'positive'"]),
        ("empty.jsonl", _empty_jsonl, ["empty.jsonl", "empty file"]),
    ],
)
def test_bad_data_file_is_one_line(tmp_path, capsys, name, make, words):
    make(tmp_path / name)
    out = tmp_path / "out"
    code, err = run_cli(capsys, "train", "--data", str(tmp_path / name), "--output-dir", str(out))
    assert code == 2
    assert_one_error_line(err, "--data" if "label" not in words[0] else "label", *words)
    assert not out.exists()


def test_unknown_suffix_and_missing_file(tmp_path, capsys):
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    for path, words in (
        (tmp_path / "data.xlsx", ["unknown file type", "'.xlsx'"]),
        (tmp_path / "nope.csv", ["does not exist"]),
    ):
        code, err = run_cli(capsys, "train", "--data", str(path), "--output-dir", str(tmp_path / "out"))
        assert code == 2
        assert_one_error_line(err, "--data", *words)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------ output folder
@pytest.mark.parametrize("where", ["existing file", "under a file"])
def test_output_dir_that_cannot_hold_a_model_fails_before_training(tmp_path, capsys, tiny_checkpoint, where, snapshot):
    data = write_csv(tmp_path / "data.csv", GOOD_ROWS)
    blocker = tmp_path / "results.txt"
    blocker.write_text("keep me", encoding="utf-8")
    target = blocker if where == "existing file" else blocker / "run"
    before = snapshot(tmp_path)
    code, err = run_cli(
        capsys,
        "train",
        "--data",
        data,
        "--model",
        str(tiny_checkpoint),
        "--output-dir",
        str(target),
        "--epochs",
        "1",
        "--quiet",
        "--max-length",
        "16",
    )
    assert code == 2
    assert_one_error_line(err, "--output-dir", str(target), "file")
    assert "Fine-tuning" not in capsys.readouterr().out  # refused before the data and training
    assert snapshot(tmp_path) == before


def test_unwritable_output_dir_fails_before_training(tmp_path, capsys, monkeypatch):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # tests run as root here, where chmod 0o500 does not stop writes: say the folder is read-only
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw))
    code, err = run_cli(
        capsys, "train", "--data", str(tmp_path / "never-read.csv"), "--output-dir", str(locked / "run")
    )
    assert code == 2
    assert_one_error_line(err, "--output-dir", "not writable")
    assert list(locked.iterdir()) == []


# ------------------------------------------------------------------------ options
@pytest.mark.parametrize(
    "flags, words",
    [
        (["--epochs", "0"], ["--epochs", "at least 1", "0"]),
        (["--batch-size", "-4"], ["--batch-size", "at least 1", "-4"]),
        (["--max-length", "0"], ["--max-length", "at least 1"]),
        (["--learning-rate", "0"], ["--learning-rate", "positive"]),
        (["--test-size", "1.5"], ["--test-size", "between 0 and 1", "1.5"]),
    ],
)
def test_bad_option_is_one_line(tmp_path, capsys, flags, words):
    data = write_csv(tmp_path / "data.csv", GOOD_ROWS)
    out = tmp_path / "out"
    code, err = run_cli(capsys, "train", "--data", data, "--output-dir", str(out), *flags)
    assert code == 2
    assert_one_error_line(err, *words)
    assert not out.exists()


def test_help_exits_zero(capsys):
    for argv in (["--help"], ["train", "--help"], ["export", "--help"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0
        assert "usage: kerasformers" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["export", "ckpt", "out", "--version", "1", "--overwrite", "--help"])
    assert "--overwrite" in capsys.readouterr().out


# ------------------------------------------------------------------------ labels
def _splits(train_labels, eval_labels):
    import datasets

    make = lambda labels: datasets.Dataset.from_dict(  # noqa: E731
        {"text": [f"t{i}" for i in range(len(labels))], "label": labels}
    )
    return make(train_labels), make(eval_labels)


def test_sparse_integer_labels_become_the_classes_that_occur():
    train, held_out = _splits([1, 5, 5, 1, 5], [5, 1])
    train_ids, eval_ids, names = check_columns(train, held_out, "text", "label")
    assert names == ["1", "5"]  # sorted values, as strings
    assert train_ids.tolist() == [0, 1, 1, 0, 1] and eval_ids.tolist() == [1, 0]


def test_dense_integer_labels_keep_label_i_names():
    train, held_out = _splits([0, 2, 1, 2], [1, 0])
    train_ids, eval_ids, names = check_columns(train, held_out, "text", "label")
    assert names == ["LABEL_0", "LABEL_1", "LABEL_2"] and train_ids.tolist() == [0, 2, 1, 2]


@pytest.mark.parametrize(
    "train_labels, eval_labels, words",
    [
        ([1, 5, 1, 5], [5, 3], ["[3]", "never occur", "[1, 5]"]),
        ([0, 1, 0, 1], [1, -1], ["-1", "out of range", "unlabelled"]),
        ([3, 3, 3, 3], [3, 3], ["single class"]),
        ([1, 5, "x", 5], [1, 5], ["mixes label types", "'x'"]),
    ],
)
def test_bad_labels(train_labels, eval_labels, words):
    if any(isinstance(v, str) for v in train_labels):  # a CSV column with a stray word is read as text
        train_labels, eval_labels = [str(v) for v in train_labels], [str(v) for v in eval_labels]
    train, held_out = _splits(train_labels, eval_labels)
    with pytest.raises(TrainingDataError) as error:
        check_columns(train, held_out, "text", "label")
    for word in words:
        assert word in str(error.value), (word, str(error.value))


def test_macro_f1_averages_only_classes_that_occur():
    # Perfect predictions have a macro F1 of 1, whatever classes exist but never occur.
    assert classification_metrics([0, 0, 1], [0, 0, 1], num_labels=6)["macro_f1"] == 1.0
    # Per-class F1 by hand: class 0 has tp=1 fp=0 fn=1 -> 2/3; class 1 has tp=1 fp=1 fn=0 -> 2/3.
    assert classification_metrics([0, 0, 1], [0, 1, 1], num_labels=2)["macro_f1"] == pytest.approx(2 / 3)


def test_train_on_labels_1_and_5_makes_two_classes(tmp_path, capsys, tiny_checkpoint):
    rows = [(f"review {i} {'great' if i % 3 else 'awful'}", 5 if i % 3 else 1) for i in range(24)]
    data = write_csv(tmp_path / "stars.csv", rows, header=("text", "stars"))
    out = tmp_path / "out"
    code = main(
        [
            "train",
            "--data",
            data,
            "--label-column",
            "stars",
            "--model",
            str(tiny_checkpoint),
            "--output-dir",
            str(out),
            "--epochs",
            "1",
            "--max-length",
            "16",
            "--batch-size",
            "8",
            "--test-size",
            "0.25",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "1", "1": "5"}
    results = json.loads((out / "eval_results.json").read_text())
    assert 0 <= results["accuracy"] <= 1 and 0 <= results["macro_f1"] <= 1
    assert "2 classes ['1', '5']" in capsys.readouterr().out  # not 6 classes, 4 of them never seen
