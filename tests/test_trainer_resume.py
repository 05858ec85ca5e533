"""A training process killed with SIGKILL mid-epoch and resumed ends where an uninterrupted one ends.

Three processes train the same tiny BERT classifier (dropout on, shuffled batches, linear warmup,
weight decay, checkpoints every 4 steps, 20 steps in 2 epochs) on the same data:
the uninterrupted run; a run the test kills with SIGKILL once ``checkpoint-12`` (the middle of
the second epoch) exists; and a run that resumes it with ``resume_from_checkpoint=True``. The
resumed run must end with the same weights (<= 1e-6) and the same ``log_history`` (steps,
epochs, learning rates, losses, gradient norms, the final train_loss) as the uninterrupted one.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file
from tiny_configs import BERT_KWARGS

import kerasformers

KILL_AFTER = "checkpoint-12"

TRAIN_SCRIPT = r"""
import json, sys, time
import numpy as np
from kerasformers import TFBertForSequenceClassification, set_seed
from kerasformers.trainer import Trainer, TrainerCallback, TrainingArguments

mode, output_dir, init = sys.argv[1:4]


class Slow(TrainerCallback):
    # a pause after each step (numerics untouched) so the parent sees a checkpoint and kills mid-run
    def on_step_end(self, args, state, control, **kwargs):
        time.sleep(0.4)


rng = np.random.RandomState(0)
data = {
    "input_ids": rng.randint(5, 99, (40, 12)).astype(np.int32),
    "attention_mask": np.ones((40, 12), np.int32),
    "labels": rng.randint(0, 2, 40).astype(np.int32),
}
args = TrainingArguments(
    output_dir, per_device_train_batch_size=4, num_train_epochs=2, learning_rate=1e-3, warmup_steps=3,
    weight_decay=0.01, logging_steps=1, save_strategy="steps", save_steps=4, seed=1, report_to="none",
    disable_tqdm=True,
)
# Keras layers draw their dropout seeds when built: seed before building the model (transformers'
# documented way to a reproducible run; Trainer(args.seed) alone does not reach those seeds)
set_seed(1)
model = TFBertForSequenceClassification.from_pretrained(init)
trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[Slow()] if mode == "killed" else [])
trainer.train(resume_from_checkpoint=True if mode == "resumed" else None)
trainer.save_model(output_dir + "/final")
with open(output_dir + "/log_history.json", "w") as f:
    json.dump(trainer.state.log_history, f)
"""


@pytest.fixture(scope="module")
def script_and_init(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    config = kerasformers.AutoConfig.for_model(
        "bert", **BERT_KWARGS, num_labels=2
    )  # dropout left at BERT's 0.1: the resumed run must restore the dropout RNG too
    model = kerasformers.TFBertForSequenceClassification(config)
    model.build_with_dummy_inputs()
    model.save_pretrained(folder / "init")
    (folder / "train.py").write_text(TRAIN_SCRIPT)
    return folder / "train.py", folder / "init"


def start(script, mode, output_dir, init):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen(
        [sys.executable, str(script), mode, str(output_dir), str(init)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def finish(process, what, timeout=300):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"{what} run failed:\n{output[-3000:]}"


def step_logs(history):
    """log_history without the wall-clock entries (train_runtime, samples per second)."""
    timing = ("runtime", "per_second")
    return [{k: v for k, v in e.items() if not any(t in k for t in timing)} for e in history]


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(script_and_init, tmp_path):
    script, init = script_and_init
    full_dir, killed_dir = tmp_path / "full", tmp_path / "killed"
    full = start(script, "full", full_dir, init)  # runs beside the killed one (two cores)
    killed = start(script, "killed", killed_dir, init)
    deadline = time.monotonic() + 300
    while not (killed_dir / KILL_AFTER).is_dir():
        assert killed.poll() is None, f"the run ended before {KILL_AFTER} was written:\n{killed.stdout.read()[-3000:]}"
        assert time.monotonic() < deadline, f"no {KILL_AFTER} after 300 s"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not (killed_dir / "final").exists()  # it died before the end of training
    checkpoints = sorted(p.name for p in killed_dir.iterdir() if p.name.startswith("checkpoint-"))
    print(f"\nkilled with {checkpoints} written; resuming from the last")

    finish(start(script, "resumed", killed_dir, init), "resumed")
    finish(full, "uninterrupted")

    ours, reference = (
        load_file(killed_dir / "final" / "model.safetensors"),
        load_file(full_dir / "final" / "model.safetensors"),
    )
    assert sorted(ours) == sorted(reference)
    worst = max(float(np.max(np.abs(ours[k] - reference[k]))) for k in reference)
    print(f"max abs weight difference after resume: {worst:.2e}")
    assert worst <= 1e-6

    resumed = step_logs(json.loads((killed_dir / "log_history.json").read_text()))
    uninterrupted = step_logs(json.loads((full_dir / "log_history.json").read_text()))
    assert [e.get("step") for e in resumed] == [e.get("step") for e in uninterrupted]
    assert len([e for e in uninterrupted if "loss" in e]) == 20
    for got, want in zip(resumed, uninterrupted):
        assert sorted(got) == sorted(want), (got, want)
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-7), (key, got, want)
