"""save_pretrained and export under kill -9: the target is always the complete old or the complete new one.

A child process saves two versions of a tiny model into one folder, over and over (one sharded,
one single-file, so every save replaces the other's weight files). The test freezes it with
SIGSTOP at many random instants: what a reader sees then is exactly what a kill -9 at that
instant would leave. It checks that the folder holds one version, complete and consistent
(config and every weight tensor), and finally kills the child for real and saves again.
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from kerasformers.weights import is_weights_file, weight_files

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from kerasformers import TFBertForSequenceClassification
    from kerasformers.models.bert.configuration_bert import BertConfig

    target = Path(sys.argv[1])
    model = TFBertForSequenceClassification(BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        num_labels=3))
    model.build_with_dummy_inputs()
    saves = 0
    while True:
        version = 1 + saves % 2
        for variable in model.weights:  # every tensor of version v holds the value v
            variable.assign(np.full(variable.shape, version, "float32"))
        model.config.save_version = version
        model.save_pretrained(target, max_shard_size="20KB" if version == 1 else "5GB")
        saves += 1
        print(saves, flush=True)
""")

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def read_version(folder) -> tuple[int, frozenset]:
    """(version, tensor names) of the folder; fails unless config and every tensor agree."""
    version = json.loads((folder / "config.json").read_text())["save_version"]
    files, _ = weight_files(folder)
    names = set()
    for path in files:
        for name, array in load_file(path).items():
            assert np.all(array == version), f"{path.name}:{name} is not version {version}"
            names.add(name)
    return version, frozenset(names)


def visible_entries(folder):
    return sorted(p.name for p in folder.parent.iterdir() if not p.name.startswith("."))


def start_child(target):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=ENV,
        text=True,
    )
    assert child.stdout.readline().strip() == "1", "the child could not save"
    return child


@pytest.mark.parametrize("freezes", [40])
def test_save_pretrained_is_atomic_at_every_instant(tmp_path, freezes):
    target = tmp_path / "checkpoint"
    child = start_child(target)
    rng = random.Random(0)
    seen, tensor_sets = set(), set()
    try:
        for _ in range(freezes):
            time.sleep(rng.uniform(0.0, 0.05))
            child.send_signal(signal.SIGSTOP)
            try:
                version, names = read_version(target)
                seen.add(version)
                tensor_sets.add(names)
                assert visible_entries(target) == ["checkpoint"]
                assert not [p for p in target.iterdir() if p.name.startswith(".tmp")]
            finally:
                child.send_signal(signal.SIGCONT)
        assert seen == {1, 2}, "the freezes did not catch both versions"
        assert len(tensor_sets) == 1, "a version was missing tensors"
        time.sleep(rng.uniform(0.0, 0.05))
    finally:
        child.kill()  # kill -9 mid-save
        child.wait()
    version, names = read_version(target)
    assert version in (1, 2) and {names} == tensor_sets
    # a later save cleans whatever the killed one left beside, and the folder loads
    from kerasformers import TFAutoModelForSequenceClassification

    model = TFAutoModelForSequenceClassification.from_pretrained(target)
    assert np.all(np.asarray(model.weights[0]) == version)
    model.save_pretrained(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.safetensors"]
    assert all(not is_weights_file(n) or n == "model.safetensors" for n in os.listdir(target))


EXPORT_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from kerasformers import TFBertForSequenceClassification
    from kerasformers.models.bert.configuration_bert import BertConfig
    from kerasformers.serving import export_saved_model

    root = Path(sys.argv[1])
    model = TFBertForSequenceClassification(BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37,
        num_labels=3))
    model.build_with_dummy_inputs()
    exports = 0
    while True:
        value = 1 + exports % 2
        for variable in model.weights:
            variable.assign(np.full(variable.shape, value, "float32"))
        export_saved_model(model, root, version=1, overwrite=True)  # TF Serving's version 1, replaced
        exports += 1
        print(exports, flush=True)
""")


def read_export(version_dir) -> int:
    """The value every variable of the SavedModel holds; fails on a partial or mixed export."""
    import tensorflow as tf

    assert (version_dir / "saved_model.pb").is_file()
    reader = tf.train.load_checkpoint(str(version_dir / "variables" / "variables"))
    values = set()
    for name in reader.get_variable_to_shape_map():
        array = reader.get_tensor(name)
        if name.startswith("variables/") and np.issubdtype(np.asarray(array).dtype, np.floating):
            values.update(np.unique(array).tolist())
    assert len(values) == 1, f"mixed or missing variables: {sorted(values)[:5]}"
    return int(values.pop())


def test_export_replaces_a_version_atomically_at_every_instant(tmp_path):
    root = tmp_path / "serving"
    child = subprocess.Popen(
        [sys.executable, "-c", EXPORT_CHILD, str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=ENV,
        text=True,
    )
    assert child.stdout.readline().strip() == "1", "the child could not export"
    rng = random.Random(1)
    seen = set()
    try:
        for _ in range(12):
            time.sleep(rng.uniform(0.0, 0.6))
            child.send_signal(signal.SIGSTOP)
            try:
                seen.add(read_export(root / "1"))  # the version is always there, whole
                assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["1"]
            finally:
                child.send_signal(signal.SIGCONT)
        time.sleep(rng.uniform(0.0, 0.6))
    finally:
        child.kill()  # kill -9 mid-export
        child.wait()
    assert seen == {1, 2}, "the freezes did not catch both versions"
    assert read_export(root / "1") in (1, 2)
    # the next export cleans what the killed one left (hidden) and writes version 2
    from kerasformers import TFBertForSequenceClassification
    from kerasformers.models.bert.configuration_bert import BertConfig
    from kerasformers.serving import export_saved_model

    model = TFBertForSequenceClassification(
        BertConfig(
            vocab_size=99,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=4,
            intermediate_size=37,
            num_labels=3,
        )
    )
    model.build_with_dummy_inputs()
    export_saved_model(model, root)
    assert sorted(p.name for p in root.iterdir()) == ["1", "2"]
