"""Bad checkpoints and bad save targets: one clear error each, and saves that never mix versions."""

import json
import os
import shutil
import struct

import numpy as np
import pytest

from kerasformers.hub import CheckpointNotFoundError
from kerasformers.weights import WeightsError

IDS = np.array([[5, 6, 7, 8]], np.int32)


def copy_checkpoint(folder, tmp_path, name="ck"):
    target = tmp_path / name
    shutil.copytree(folder, target)
    return target


def load(folder, **kwargs):
    from kerasformers import TFAutoModelForSequenceClassification

    return TFAutoModelForSequenceClassification.from_pretrained(folder, **kwargs)


def truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def garbage_header(path):
    data = b"{not json" + b" " * 7
    path.write_bytes(struct.pack("<Q", len(data)) + data)


def empty(path):
    path.write_bytes(b"")


# (how to break the copy, exception, words the message must hold)
BROKEN_CHECKPOINTS = {
    "no folder": (lambda ck: shutil.rmtree(ck), CheckpointNotFoundError, ["Could not find checkpoint", "Looked in"]),
    "no config.json": (lambda ck: (ck / "config.json").unlink(), OSError, ["config.json"]),
    "config.json not JSON": (lambda ck: (ck / "config.json").write_text("{oops"), ValueError, ["config.json"]),
    "config.json a list": (lambda ck: (ck / "config.json").write_text("[1, 2]"), ValueError, ["config.json"]),
    "unknown model_type": (
        lambda ck: (ck / "config.json").write_text(json.dumps({"model_type": "nope"})),
        ValueError,
        ["nope"],
    ),
    "no weights": (
        lambda ck: (ck / "model.safetensors").unlink(),
        WeightsError,
        ["no model weights", "model.safetensors"],
    ),
    "truncated weights": (
        lambda ck: truncate(ck / "model.safetensors"),
        WeightsError,
        ["model.safetensors", "truncated or corrupted"],
    ),
    "empty weights file": (lambda ck: empty(ck / "model.safetensors"), WeightsError, ["model.safetensors"]),
    "garbage safetensors header": (
        lambda ck: garbage_header(ck / "model.safetensors"),
        WeightsError,
        ["model.safetensors"],
    ),
    "weights file is a folder": (
        lambda ck: ((ck / "model.safetensors").unlink(), (ck / "model.safetensors").mkdir()),
        WeightsError,
        ["model.safetensors"],
    ),
    "pickle only": (
        lambda ck: ((ck / "model.safetensors").unlink(), (ck / "pytorch_model.bin").write_bytes(b"x")),
        WeightsError,
        ["pickle", "allow_pickle=True"],
    ),
    "index lists a missing shard": (
        lambda ck: (ck / "model.safetensors.index.json").write_text(
            json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors"}})
        ),
        WeightsError,
        ["model-00001-of-00002.safetensors", "not in the folder"],
    ),
    "index not JSON": (
        lambda ck: (ck / "model.safetensors.index.json").write_text("{"),
        WeightsError,
        ["model.safetensors.index.json", "not a valid weights index"],
    ),
    "hidden size changed": (
        lambda ck: (ck / "config.json").write_text(
            json.dumps({**json.loads((ck / "config.json").read_text()), "hidden_size": 16})
        ),
        WeightsError,
        ["shape", "ignore_mismatched_sizes"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_CHECKPOINTS))
def test_broken_checkpoint(tiny_bert_folder, tmp_path, case):
    breaks, error, words = BROKEN_CHECKPOINTS[case]
    ck = copy_checkpoint(tiny_bert_folder, tmp_path)
    breaks(ck)
    with pytest.raises(error) as info:
        load(ck)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_bad_revision_of_a_plain_folder(tiny_bert_folder):
    with pytest.raises(CheckpointNotFoundError, match="revision='v9'.*plain local folder"):
        load(tiny_bert_folder, revision="v9")


def test_unreadable_weights_file_is_a_permission_error_not_corruption(tiny_bert_folder, tmp_path):
    """A weights file the user may not read is named as a permission problem, with the fix."""
    from kerasformers.weights import iter_checkpoint_tensors

    ck = copy_checkpoint(tiny_bert_folder, tmp_path)
    weights = ck / "model.safetensors"
    weights.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(WeightsError, match="permission denied.*chmod"):
            load(ck)
        return
    # root reads every file: check the reader as an unprivileged user in a forked child
    os.chmod(tmp_path, 0o755)
    ck.chmod(0o755)
    pid = os.fork()
    if pid == 0:  # child: no TensorFlow work here, only the file reader
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            list(iter_checkpoint_tensors([weights], "safetensors"))
        except WeightsError as error:
            code = 0 if "permission denied" in str(error) and "chmod" in str(error) else 2
        except BaseException:  # noqa: BLE001
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# ------------------------------------------------------------------------------------ saving


def test_save_into_a_file_path_refuses_and_keeps_the_file(tiny_bert_classifier, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("precious")
    with pytest.raises(NotADirectoryError, match="existing file, not a folder"):
        tiny_bert_classifier.save_pretrained(target)
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_save_under_a_file_refuses(tiny_bert_classifier, tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        tiny_bert_classifier.save_pretrained(tmp_path / "a-file" / "sub")


def test_bad_max_shard_size_writes_nothing(tiny_bert_classifier, tiny_bert_folder, tmp_path, snapshot):
    ck = copy_checkpoint(tiny_bert_folder, tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="max_shard_size.*'lots'"):
        tiny_bert_classifier.save_pretrained(ck, max_shard_size="lots")
    assert snapshot(tmp_path) == before  # nothing written, no temp folder left beside


def _perturbed_copy(model, seed):
    """The same architecture with other weights (a later training state)."""
    other = type(model)(model.config)
    other.build_with_dummy_inputs()
    rng = np.random.RandomState(seed)
    for variable in other.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32") * 0.05)
    return other


@pytest.mark.parametrize("first, second", [("10KB", "5GB"), ("5GB", "10KB"), ("10KB", "20KB")])
def test_a_save_leaves_one_consistent_set_of_weights(tiny_bert_classifier, tmp_path, first, second):
    """Sharded then single (and back): the latest save is what kerasformers and PyTorch load."""
    import torch
    import transformers

    from kerasformers.weights import is_weights_file

    old, new = tiny_bert_classifier, _perturbed_copy(tiny_bert_classifier, seed=1)
    old.save_pretrained(tmp_path, max_shard_size=first)
    (tmp_path / "tokenizer_config.json").write_text("{}")  # files of others stay
    new.save_pretrained(tmp_path, max_shard_size=second)
    weights = sorted(p.name for p in tmp_path.iterdir() if is_weights_file(p.name))
    if second == "5GB":
        assert weights == ["model.safetensors"]
    else:
        index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
        assert weights == sorted({*index["weight_map"].values(), "model.safetensors.index.json"})
    assert (tmp_path / "tokenizer_config.json").read_text() == "{}"
    expected = np.asarray(new(IDS).logits)
    np.testing.assert_allclose(np.asarray(load(tmp_path)(IDS).logits), expected, atol=1e-6)
    theirs = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        np.testing.assert_allclose(theirs(torch.tensor(IDS)).logits.numpy(), expected, atol=1e-5)


def test_temp_folders_of_killed_saves_are_never_loaded_and_are_cleaned(
    tiny_bert_classifier, tiny_bert_folder, tmp_path
):
    ck = copy_checkpoint(tiny_bert_folder, tmp_path)
    inside = ck / ".tmp-abc123"  # what an interrupted save of an earlier release left
    beside = tmp_path / f".ck.tmp-{2**22 + 7}-xyz"  # and one of this release, its process gone
    for stale in (inside, beside):
        stale.mkdir()
        (stale / "model.safetensors").write_bytes(b"half")
    load(ck)  # loading ignores them
    tiny_bert_classifier.save_pretrained(ck)
    assert not inside.exists() and not beside.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
