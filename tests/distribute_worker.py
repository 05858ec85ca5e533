"""Run in a fresh process by tests/test_distribute.py: train a tiny masked LM for a few steps.

    python distribute_worker.py '{"mode": "single|mirrored|multi-worker", "jit": false, "steps": 20, "out": "..."}'

Two logical CPU devices must be configured before TensorFlow initialises its devices, hence a
process of its own. ``multi-worker`` reads TF_CONFIG (set by the test). Writes the per-step
losses (and the final weights' checksum) as JSON to ``out`` (the chief only).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(options: dict) -> None:
    import numpy as np
    import tensorflow as tf

    mode = options["mode"]
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    from kerasformers import BertConfig, TFAutoModelForMaskedLM
    from kerasformers.pretraining import is_chief, make_strategy

    strategy = make_strategy({"single": "none", "mirrored": "mirrored", "multi-worker": "multi-worker"}[mode])
    if options.get("precision"):
        keras.mixed_precision.set_global_policy(options["precision"])
    keras.utils.set_random_seed(0)
    config = BertConfig(
        vocab_size=96,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    work = tempfile.mkdtemp()  # this process's own scratch folder, removed at the end
    if options.get("scope_checks"):  # the same initial weights, loaded from a file inside the scope
        source = TFAutoModelForMaskedLM.from_config(config)
        source.save_pretrained(f"{work}/source")
    with strategy.scope():
        if options.get("scope_checks"):
            model = TFAutoModelForMaskedLM.from_pretrained(f"{work}/source")
        else:
            model = TFAutoModelForMaskedLM.from_config(config)
        optimizer = (
            keras.optimizers.SGD(0.5)
            if options.get("optimizer") == "sgd"
            else keras.optimizers.AdamW(1e-3, epsilon=1e-6)
        )
        model.compile(optimizer=optimizer, metrics=["accuracy"], jit_compile=options.get("jit", False))
    # the same global batches everywhere; labels -100 at a different count in each example, so a
    # per-replica mean would differ from the global one
    rng = np.random.default_rng(0)
    steps, batch, length = options.get("steps", 20), options.get("batch", 8), 16
    ids = rng.integers(5, 96, size=(steps * batch, length)).astype(np.int32)
    keep = rng.random((steps * batch, length)) < np.linspace(0.05, 0.6, steps * batch)[:, None]
    labels = np.where(keep, rng.integers(5, 96, size=ids.shape), -100).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices(({"input_ids": ids, "attention_mask": np.ones_like(ids)}, labels))
    data = data.batch(batch, drop_remainder=True)
    if options.get("same_batch"):  # one batch over and over: a loss that must fall
        data = data.take(1)
    options_ = tf.data.Options()
    options_.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    data = data.with_options(options_)

    result = {}
    if options.get("scope_checks"):
        probe = {"input_ids": ids[:batch], "attention_mask": np.ones_like(ids[:batch])}
        before = np.asarray(model(probe).logits)
        result["mirrored_variables"] = all(
            isinstance(v.value, tf.distribute.DistributedValues) for v in model.trainable_weights
        )
        result["loaded_inside_vs_outside"] = float(np.abs(before - np.asarray(source(probe).logits)).max())
    losses, accuracies = [], []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            losses.append(float(logs["loss"]))
            accuracies.append(float(logs["accuracy"]))

    callbacks = [Record()]
    if options.get("backup"):
        callbacks.append(keras.callbacks.BackupAndRestore(options["backup"]))
    model.fit(data.repeat(), epochs=steps, steps_per_epoch=1, verbose=0, callbacks=callbacks)
    result["accuracies"] = accuracies  # metrics aggregated over replicas: the global batch's
    result["evaluate"] = [float(v) for v in model.evaluate(data.take(2), verbose=0)]
    weights = [np.asarray(w) for w in model.trainable_weights]
    result |= {
        "losses": losses,
        "weights_sum": float(sum(np.abs(w).sum() for w in weights)),
        # set by the train step when XLA compiles each replica's pass (jit under a strategy)
        "xla_per_replica": getattr(model, "_xla_gradients", None) is not None,
        "optimizer": type(model.optimizer).__name__,
    }
    if options.get("precision"):
        outputs = model({"input_ids": ids[:2], "attention_mask": np.ones_like(ids[:2]), "labels": labels[:2]})
        result["logits_dtype"] = str(outputs.logits.dtype.name)
        result["loss_dtype"] = str(outputs.loss.dtype.name)
    if options.get("scope_checks"):
        # save_pretrained inside the scope: the chief to scope_save, any other worker to its
        # scratch folder, removed below (the multi-worker guide's pattern: every worker runs the
        # same steps, only the chief keeps files)
        target = options["scope_save"] if is_chief() else f"{work}/not-chief"
        with strategy.scope():
            model.save_pretrained(target)
        reloaded = TFAutoModelForMaskedLM.from_pretrained(target)
        after = np.asarray(model(probe).logits)
        result["fine_tune_changed"] = float(np.abs(after - before).max())
        result["saved_in_scope_reload_diff"] = float(np.abs(np.asarray(reloaded(probe).logits) - after).max())
        result["saved_in_scope_weights_diff"] = max(
            float(np.abs(np.asarray(a) - np.asarray(b)).max())
            for a, b in zip(reloaded.trainable_weights, model.trainable_weights)
        )
    shutil.rmtree(work, ignore_errors=True)
    if is_chief():
        with open(options["out"], "w") as file:
            json.dump(result, file)
        if options.get("save"):
            model.save_pretrained(options["save"])


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
