"""Metrics computed in Python at each epoch end, as the course's Keras-callbacks section wrote it.

KerasMetricCallback(metric_fn, eval_dataset) on a prepare_tf_dataset set, create_optimizer with
weight decay, compile() with the default loss; the metric lands in History.
Globals: CHECKPOINT, TRAIN_TEXTS/TRAIN_LABELS, EVAL_TEXTS/EVAL_LABELS.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import numpy as np
import tensorflow as tf
from datasets import Dataset

import kerasformers
from kerasformers import AutoTokenizer, TFAutoModelForSequenceClassification, create_optimizer
from kerasformers.keras_callbacks import KerasMetricCallback

kerasformers.logging.set_verbosity_error()
kerasformers.set_seed(0)

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
train = Dataset.from_dict({"sentence": TRAIN_TEXTS, "label": TRAIN_LABELS})
validation = Dataset.from_dict({"sentence": EVAL_TEXTS, "label": EVAL_LABELS})
train = train.map(lambda batch: tokenizer(batch["sentence"], truncation=True), batched=True)
validation = validation.map(lambda batch: tokenizer(batch["sentence"], truncation=True), batched=True)

model = TFAutoModelForSequenceClassification.from_pretrained(CHECKPOINT, num_labels=2)
tf_train_dataset = model.prepare_tf_dataset(train, shuffle=True, batch_size=16, tokenizer=tokenizer)
tf_eval_dataset = model.prepare_tf_dataset(validation, shuffle=False, batch_size=16, tokenizer=tokenizer)

num_epochs = 2
num_train_steps = len(tf_train_dataset) * num_epochs
optimizer, lr_schedule = create_optimizer(
    init_lr=1e-3, num_warmup_steps=1, num_train_steps=num_train_steps, weight_decay_rate=0.01
)
model.compile(optimizer=optimizer)

calls = []


def compute_metrics(eval_predictions):
    predictions, labels = eval_predictions
    calls.append((predictions, labels))
    predictions = np.argmax(predictions, axis=1)
    return {"accuracy": float(np.mean(predictions == labels))}


metric_callback = KerasMetricCallback(metric_fn=compute_metrics, eval_dataset=tf_eval_dataset)
history = model.fit(tf_train_dataset, validation_data=tf_eval_dataset, epochs=num_epochs, callbacks=[metric_callback])

assert len(calls) == num_epochs
assert "accuracy" in history.history and len(history.history["accuracy"]) == num_epochs
assert all(np.isfinite(history.history["loss"]))
assert calls[-1][0].shape == (len(validation), 2)
np.testing.assert_array_equal(calls[-1][1], EVAL_LABELS)

# the callback saw what predict() sees after training
final_logits = model.predict(tf_eval_dataset).logits
final_accuracy = float(np.mean(np.argmax(final_logits, axis=1) == np.array(EVAL_LABELS)))
assert abs(history.history["accuracy"][-1] - final_accuracy) < 1e-6

# the learning rate followed the warmup-then-linear-decay schedule
assert float(lr_schedule(0)) == 0.0
assert abs(float(lr_schedule(1)) - 1e-3) < 1e-9
assert float(lr_schedule(num_train_steps)) == 0.0
assert isinstance(optimizer, tf.keras.optimizers.Optimizer)
