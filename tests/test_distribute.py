"""tf.distribute: Mirrored on two logical CPU devices and MultiWorker on two localhost processes.

Each run is a fresh process (tests/distribute_worker.py): logical devices must be configured before
TensorFlow initialises, and a cluster's workers are processes of their own. The oracle is the same
training on one device at the same global batch: the per-step losses of 20 steps (dropout off).
With SGD they agree to float rounding (the default loss is reduced over the global batch: each
replica's mean is scaled by its share of the counted labels before gradients are summed). Adam
divides by the root of tiny second moments, which turns the rounding of a sum taken in two halves
into ~1e-4 differences after a few steps: that case is checked at 1e-3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from localhost_cluster import localhost_tf_configs

WORKER = Path(__file__).with_name("distribute_worker.py")
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _environment(**extra) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1", **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
    env.pop("TF_CONFIG", None) if "TF_CONFIG" not in extra else None
    return env


def _run(options: dict, tmp_path: Path, timeout: int = 300) -> dict:
    out = tmp_path / f"{options['mode']}-{options.get('jit', False)}-{options.get('optimizer', 'adamw')}.json"
    result = subprocess.run(
        [sys.executable, str(WORKER), json.dumps({**options, "out": str(out)})],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text())


def _run_cluster(options: dict, tmp_path: Path, timeout: int = 300) -> tuple[dict, list[Path]]:
    """Two workers on 127.0.0.1 with TF_CONFIG; returns the chief's result and what each wrote."""
    configs = localhost_tf_configs(2)
    outs = [tmp_path / f"worker{i}.json" for i in range(2)]
    processes = []
    for index, config in enumerate(configs):
        processes.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), json.dumps({**options, "out": str(outs[index])})],
                env=_environment(TF_CONFIG=config),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        errors = [p.communicate(timeout=timeout)[1] for p in processes]
    finally:
        for p in processes:  # started here, stopped here
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in processes), errors[0][-2000:] + errors[1][-2000:]
    return json.loads(outs[0].read_text()), outs


class _SingleDeviceRuns(dict):
    """optimizer -> the one-device run, made on first use (each is a process of ~10 s CPU)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def __missing__(self, optimizer: str) -> dict:
        self[optimizer] = _run({"mode": "single", "optimizer": optimizer}, self.folder)
        return self[optimizer]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return _SingleDeviceRuns(tmp_path_factory.mktemp("single"))


def _assert_same_losses(got, want, rtol):
    """Per-step losses, per-step accuracy (a compiled metric, aggregated over replicas) and
    evaluate() after training equal the one-device run's."""
    np.testing.assert_array_equal(np.shape(got["losses"]), (20,))
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=rtol, atol=0)
    # accuracy counts tokens of 128 a batch: equal up to the float rounding of the mean, or, where
    # the losses may differ at 1e-4 (Adam), up to one token whose two top logits nearly tie
    token = 1e-6 if rtol <= 1e-5 else 1 / 128 + 1e-6
    np.testing.assert_allclose(got["accuracies"], want["accuracies"], rtol=0, atol=token)
    np.testing.assert_allclose(got["evaluate"], want["evaluate"], rtol=rtol, atol=token)


def _assert_scope_checks(result, saved: Path):
    """from_pretrained / save_pretrained inside strategy.scope(): the run's model was loaded inside
    the scope from a checkpoint of the one-device run's initial weights (so its losses equalling
    the one-device run's is the fine-tuning check) and saved from inside the scope after fit."""
    assert result["mirrored_variables"], "a model loaded inside the scope has distributed variables"
    assert result["loaded_inside_vs_outside"] <= 1e-6
    assert result["fine_tune_changed"] > 1e-3
    assert result["saved_in_scope_weights_diff"] == 0.0  # the file holds exactly the in-scope weights
    assert result["saved_in_scope_reload_diff"] <= 1e-5
    assert (saved / "config.json").is_file() and any(saved.glob("*.safetensors"))


def test_mirrored_two_devices_equals_one_device(single, tmp_path):
    """Eager steps on two logical devices, then from_pretrained / fit / save_pretrained in the scope."""
    saved = tmp_path / "scope-saved"
    result = _run({"mode": "mirrored", "optimizer": "sgd", "scope_checks": True, "scope_save": str(saved)}, tmp_path)
    _assert_same_losses(result, single["sgd"], 1e-5)
    _assert_scope_checks(result, saved)


@pytest.mark.slow
def test_mirrored_two_devices_jit_equals_one_device(single, tmp_path):
    """compile(jit_compile=True) under Mirrored: XLA compiles each replica's pass on its own device
    (Keras' one XLA cluster for the whole step cannot read replica 1's variables on CPU:1)."""
    result = _run({"mode": "mirrored", "optimizer": "sgd", "jit": True}, tmp_path)
    assert result["xla_per_replica"]
    _assert_same_losses(result, single["sgd"], 1e-5)


@pytest.mark.slow
def test_mirrored_with_adamw(single, tmp_path):
    _assert_same_losses(_run({"mode": "mirrored", "optimizer": "adamw"}, tmp_path), single["adamw"], 1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("precision, jit", [("mixed_float16", False), ("mixed_bfloat16", True)])
def test_mirrored_mixed_precision(precision, jit, tmp_path):
    """Mixed precision under Mirrored (bfloat16 with the per-replica XLA step): half-precision
    logits, the default loss in float32, a loss that falls on a repeated batch; float16 trains
    through Keras' LossScaleOptimizer."""
    options = {"mode": "mirrored", "optimizer": "adamw", "precision": precision, "same_batch": True, "jit": jit}
    result = _run(options, tmp_path)
    assert result["xla_per_replica"] == jit
    losses = np.array(result["losses"])
    assert np.isfinite(losses).all() and losses[-1] < 0.9 * losses[0]
    assert result["logits_dtype"] == precision.removeprefix("mixed_") and result["loss_dtype"] == "float32"
    assert result["optimizer"] == ("LossScaleOptimizer" if precision == "mixed_float16" else "AdamW")


@pytest.mark.slow
def test_multi_worker_two_processes_equals_one_device(single, tmp_path):
    """Two workers on 127.0.0.1: the chief's 20 losses equal one device's; only the chief writes,
    including save_pretrained from inside strategy.scope()."""
    save, scope_save = tmp_path / "saved", tmp_path / "scope-saved"
    options = {"mode": "multi-worker", "optimizer": "sgd", "save": str(save)}
    chief, outs = _run_cluster({**options, "scope_checks": True, "scope_save": str(scope_save)}, tmp_path)
    _assert_same_losses(chief, single["sgd"], 1e-5)
    assert not outs[1].exists(), "only the chief writes"
    assert (save / "config.json").is_file() and any(save.glob("*.safetensors"))
    _assert_scope_checks(chief, scope_save)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved", "scope-saved", "worker0.json"]


@pytest.mark.slow
def test_multi_worker_jit_equals_one_device(single, tmp_path):
    chief, _ = _run_cluster({"mode": "multi-worker", "optimizer": "sgd", "jit": True}, tmp_path)
    assert chief["xla_per_replica"]
    _assert_same_losses(chief, single["sgd"], 1e-5)
