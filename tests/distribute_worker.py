"""Run in a fresh process by tests/test_distribute.py: train a tiny masked LM for a few steps.

    python distribute_worker.py '{"mode": "single|mirrored|multi-worker", "jit": false, "steps": 20, "out": "..."}'

Two logical CPU devices must be configured before TensorFlow initialises its devices, hence a
process of its own. ``multi-worker`` reads TF_CONFIG (set by the test). Writes the per-step
losses (and the final weights' checksum) as JSON to ``out`` (the chief only).
"""

from __future__ import annotations

import json
import os
import sys

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
    with strategy.scope():
        model = TFAutoModelForMaskedLM.from_config(config)
        optimizer = (
            keras.optimizers.SGD(0.5)
            if options.get("optimizer") == "sgd"
            else keras.optimizers.AdamW(1e-3, epsilon=1e-6)
        )
        model.compile(optimizer=optimizer, jit_compile=options.get("jit", False))
    # the same global batches everywhere; labels -100 at a different count in each example, so a
    # per-replica mean would differ from the global one
    rng = np.random.default_rng(0)
    steps, batch, length = options.get("steps", 20), options.get("batch", 8), 16
    ids = rng.integers(5, 96, size=(steps * batch, length)).astype(np.int32)
    keep = rng.random((steps * batch, length)) < np.linspace(0.05, 0.6, steps * batch)[:, None]
    labels = np.where(keep, rng.integers(5, 96, size=ids.shape), -100).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices(({"input_ids": ids, "attention_mask": np.ones_like(ids)}, labels))
    data = data.batch(batch, drop_remainder=True)
    options_ = tf.data.Options()
    options_.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    data = data.with_options(options_)

    losses = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            losses.append(float(logs["loss"]))

    callbacks = [Record()]
    if options.get("backup"):
        callbacks.append(keras.callbacks.BackupAndRestore(options["backup"]))
    model.fit(data.repeat(), epochs=steps, steps_per_epoch=1, verbose=0, callbacks=callbacks)
    weights = [np.asarray(w) for w in model.trainable_weights]
    if is_chief():
        with open(options["out"], "w") as file:
            json.dump({"losses": losses, "weights_sum": float(sum(np.abs(w).sum() for w in weights))}, file)
        if options.get("save"):
            model.save_pretrained(options["save"])


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
