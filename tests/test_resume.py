"""Resume after a kill (issue 18): a pretraining run stopped mid-epoch and rerun with the same
command ends at the weights of an uninterrupted run of the same length.

The property that must hold: resuming from the last backup (weights, optimizer state, global
step) and feeding the very batches the uninterrupted run saw gives the same final weights
(<= 1e-6 max abs; dropout is on: its random state is part of the backup). The kill lands at a
step that is neither a backup multiple nor an epoch boundary, so the resumed run redoes steps,
starts ``fit`` mid-epoch, and crosses a data epoch (the repeated stream's boundary). In this
process the kill is an exception from a callback; the slow test SIGKILLs a worker process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from localhost_cluster import localhost_tf_configs
from safetensors.numpy import load_file
from seq2seq_data import movie_sentences

from kerasformers import AutoTokenizer
from kerasformers.data.mlm import mlm_dataset, tokenize_and_group, write_tfrecords
from kerasformers.errors import InvalidInputError
from kerasformers.pretraining import ResumableBackupAndRestore, pretrain

# 3 epochs of 5 steps (15 steps) over ~9 batches a data epoch; backups every 3 steps
RUN = dict(
    model_type="roberta", vocab_size=300, epochs=3, block_size=32, batch_size=8, hidden_size=32, num_layers=1,
    num_heads=2, intermediate_size=64, max_steps_per_epoch=5, num_shards=2, save_steps=3, quiet=True,
)  # fmt: skip
KILL_AFTER_STEP = 8  # epoch 1, batch 3; last backup at step 6; data epoch 1 starts at step 9
WORKER = Path(__file__).with_name("resume_worker.py")


class KillAtStep(keras.callbacks.Callback):
    """Stops the run like a kill: an exception out of fit() after ``step`` steps of this run."""

    def __init__(self, step):
        super().__init__()
        self.left = step

    def on_train_batch_end(self, batch, logs=None):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt("killed")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume-corpus")
    (folder / "part.txt").write_text("\n".join(movie_sentences(40)), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def uninterrupted(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "uninterrupted"
    metrics = pretrain(corpus, out, **RUN)
    # the run must span what the test claims: more than one data epoch in 15 steps
    assert metrics["train_blocks"] // RUN["batch_size"] < RUN["epochs"] * RUN["max_steps_per_epoch"]
    return out


def _weights(folder):
    return load_file(str(Path(folder) / "model.safetensors"))


def _assert_same_weights(folder, reference):
    ours, theirs = _weights(folder), _weights(reference)
    assert ours.keys() == theirs.keys()
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)
    assert worst <= 1e-6, worst


def test_killed_run_resumes_at_the_saved_step_and_ends_at_the_same_weights(corpus, uninterrupted, tmp_path):
    out = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        pretrain(corpus, out, callbacks=[KillAtStep(KILL_AFTER_STEP)], **RUN)
    assert ResumableBackupAndRestore.saved_step(out / "checkpoints") == 6
    assert not (out / "model.safetensors").exists()
    metrics = pretrain(corpus, out, **RUN)  # the same call again
    assert metrics["resumed_at_step"] == 6
    # held-out losses of every epoch, the one before the kill included, as the uninterrupted run's
    reference = json.loads((uninterrupted / "pretrain_results.json").read_text())["epochs"]
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3]
    for got, want in zip(metrics["epochs"], reference):
        assert got["held_out_loss"] == pytest.approx(want["held_out_loss"], abs=1e-6)
    _assert_same_weights(out, uninterrupted)
    assert not (out / "checkpoints").exists()  # deleted when training completes


def test_resumed_stream_is_the_same_batches(minilm_path, tmp_path):
    # property: the batches from (epoch, skip_batches) are the tail of the uninterrupted stream
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    blocks = tokenize_and_group(movie_sentences(120), tokenizer, block_size=16)
    write_tfrecords(blocks, tmp_path, num_shards=2)
    per_epoch = len(blocks) // 4

    def stream_from(count, **kwargs):
        return _take(mlm_dataset(tmp_path, tokenizer, 16, 4, seed=3, **kwargs), count)

    one_epoch = stream_from(10_000)
    assert len(one_epoch) == per_epoch > 3
    stream = stream_from(2 * per_epoch, repeat=True)
    resumed = stream_from(per_epoch - 2, repeat=True, epoch=1, skip_batches=2)
    for (a, la), (b, lb) in zip(one_epoch, stream[:per_epoch]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    for (a, la), (b, lb) in zip(resumed, stream[per_epoch + 2 :], strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    # a new order and new masks each epoch
    assert any((a != b).any() for (a, _), (b, _) in zip(stream[:per_epoch], stream[per_epoch:]))


def _take(dataset, count):
    return [(x["input_ids"].numpy(), y.numpy()) for x, y in dataset.take(count)]


def _kill_and_rerun(corpus, out, *extra):
    command = [sys.executable, str(WORKER), str(corpus), str(out), *extra]
    env = {**os.environ, "KF_KILL_AFTER_STEP": str(KILL_AFTER_STEP)}
    killed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert ResumableBackupAndRestore.saved_step(out / "checkpoints") == 6
    env.pop("KF_KILL_AFTER_STEP")
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    results = json.loads((out / "pretrain_results.json").read_text())
    assert results["resumed_at_step"] == 6
    return results


@pytest.mark.slow
def test_sigkilled_worker_resumes_with_the_same_command(corpus, uninterrupted, tmp_path):
    _kill_and_rerun(corpus, tmp_path / "sigkilled")
    _assert_same_weights(tmp_path / "sigkilled", uninterrupted)


@pytest.mark.slow
def test_sigkilled_mirrored_run_resumes_to_the_uninterrupted_mirrored_weights(corpus, tmp_path):
    # reference: the same command on the same two logical devices, never killed
    reference = tmp_path / "mirrored-uninterrupted"
    command = [sys.executable, str(WORKER), str(corpus), str(reference), "--strategy", "mirrored"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = _kill_and_rerun(corpus, tmp_path / "mirrored-killed", "--strategy", "mirrored")
    assert results["replicas"] == 2
    _assert_same_weights(tmp_path / "mirrored-killed", reference)


def _run_two_workers(corpus, out, kill_after=None):
    """The command on two localhost workers (TF_CONFIG), both with ``--out out`` (only the chief
    writes); with ``kill_after``, worker 1 SIGKILLs itself after that many steps."""
    processes = []
    for index, config in enumerate(localhost_tf_configs(2)):
        env = {**os.environ, "TF_CONFIG": config}
        env.pop("KF_KILL_AFTER_STEP", None)
        if kill_after and index == 1:
            env["KF_KILL_AFTER_STEP"] = str(kill_after)
        command = [sys.executable, str(WORKER), str(corpus), str(out), "--strategy", "multi-worker"]
        processes.append(
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        )
    try:
        errors = [process.communicate(timeout=600)[1] for process in processes]
    finally:
        for process in processes:  # started here, stopped here
            if process.poll() is None:
                process.kill()
                process.wait()
    return [process.returncode for process in processes], errors


@pytest.mark.slow
def test_sigkilled_multi_worker_cluster_resumes_to_the_uninterrupted_weights(corpus, tmp_path):
    reference, out = tmp_path / "cluster-uninterrupted", tmp_path / "cluster-killed"
    codes, errors = _run_two_workers(corpus, reference)
    assert codes == [0, 0], errors[0][-2000:] + errors[1][-2000:]
    codes, errors = _run_two_workers(corpus, out, kill_after=KILL_AFTER_STEP)
    # worker 1 is killed; the chief's next collective fails and it exits with an error
    assert codes[1] == -signal.SIGKILL and codes[0] not in (0, None), errors[0][-2000:] + errors[1][-2000:]
    assert ResumableBackupAndRestore.saved_step(out / "checkpoints") == 6
    codes, errors = _run_two_workers(corpus, out)  # the same command on both workers again
    assert codes == [0, 0], errors[0][-2000:] + errors[1][-2000:]
    results = json.loads((out / "pretrain_results.json").read_text())
    assert results["resumed_at_step"] == 6 and results["replicas"] == 2
    _assert_same_weights(out, reference)


def test_bad_resume_inputs(tmp_path):
    with pytest.raises(InvalidInputError, match="save_steps"):
        ResumableBackupAndRestore(tmp_path / "ckpt", steps_per_epoch=5, save_steps=0)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    with pytest.raises(InvalidInputError, match="without a step count"):
        ResumableBackupAndRestore.saved_step(tmp_path / "old")
    (tmp_path / "old" / "training_metadata.json").write_text(
        '{"epoch": 1, "batch": 2, "step": 7, "steps_per_epoch": 5}'
    )
    with pytest.raises(InvalidInputError, match="made with 5 steps an epoch, this run has 4"):
        ResumableBackupAndRestore(tmp_path / "old", steps_per_epoch=4)
    with pytest.raises(InvalidInputError, match="skip_batches"):
        mlm_dataset(tmp_path, type("T", (), {"mask_token_id": 4})(), 32, 8, skip_batches=-1)
