"""Sentence-pair classification as in the course's "Fine-tuning a model with Keras" (chapter 3) and run_glue.py.

to_tf_dataset with DataCollatorWithPadding(return_tensors="tf"), Keras' own Adam with a
PolynomialDecay schedule and an explicit SparseCategoricalCrossentropy loss.
Globals: CHECKPOINT, TRAIN_TEXTS/TRAIN_LABELS, EVAL_TEXTS/EVAL_LABELS.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import numpy as np
import tensorflow as tf
from datasets import Dataset, DatasetDict

from kerasformers import AutoTokenizer, DataCollatorWithPadding, TFAutoModelForSequenceClassification


# a paraphrase-like task: do the two sentences carry the same sentiment?
def make_pairs(texts, labels):
    sentence1, sentence2, same = [], [], []
    for i in range(0, len(texts) - 1, 2):
        sentence1.append(texts[i])
        sentence2.append(texts[i + 1])
        same.append(int(labels[i] == labels[i + 1]))
    return {"sentence1": sentence1, "sentence2": sentence2, "label": same, "idx": list(range(len(same)))}


raw_datasets = DatasetDict(
    {
        "train": Dataset.from_dict(make_pairs(TRAIN_TEXTS, TRAIN_LABELS)),
        "validation": Dataset.from_dict(make_pairs(EVAL_TEXTS, EVAL_LABELS)),
    }
)

checkpoint = CHECKPOINT
tokenizer = AutoTokenizer.from_pretrained(checkpoint)


def tokenize_function(example):
    return tokenizer(example["sentence1"], example["sentence2"], truncation=True)


tokenized_datasets = raw_datasets.map(tokenize_function, batched=True)

data_collator = DataCollatorWithPadding(tokenizer=tokenizer, return_tensors="tf")

# the collator pads each batch to its longest pair
samples = tokenized_datasets["train"][:8]
samples = {k: v for k, v in samples.items() if k not in ["idx", "sentence1", "sentence2"]}
batch = data_collator(samples)
assert {k: v.shape for k, v in batch.items()}["input_ids"] == (8, max(len(x) for x in samples["input_ids"]))
assert isinstance(batch["input_ids"], tf.Tensor)

tf_train_dataset = tokenized_datasets["train"].to_tf_dataset(
    columns=["attention_mask", "input_ids", "token_type_ids"],
    label_cols=["label"],
    shuffle=True,
    collate_fn=data_collator,
    batch_size=8,
)
tf_validation_dataset = tokenized_datasets["validation"].to_tf_dataset(
    columns=["attention_mask", "input_ids", "token_type_ids"],
    label_cols=["label"],
    shuffle=False,
    collate_fn=data_collator,
    batch_size=8,
)

model = TFAutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)

from tensorflow.keras.optimizers.schedules import PolynomialDecay  # noqa: E402

batch_size = 8
num_epochs = 1
num_train_steps = len(tf_train_dataset) * num_epochs
lr_scheduler = PolynomialDecay(initial_learning_rate=5e-4, end_learning_rate=0.0, decay_steps=num_train_steps)

from tensorflow.keras.optimizers import Adam  # noqa: E402

opt = Adam(learning_rate=lr_scheduler)
loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])

history = model.fit(tf_train_dataset, validation_data=tf_validation_dataset, epochs=num_epochs)
assert np.isfinite(history.history["loss"][0]) and "val_accuracy" in history.history

preds = model.predict(tf_validation_dataset)["logits"]
class_preds = np.argmax(preds, axis=1)
print(preds.shape, class_preds.shape)
assert preds.shape == (len(tokenized_datasets["validation"]), 2)
assert class_preds.shape == (len(tokenized_datasets["validation"]),)

# evaluate() with the explicit loss, and the same accuracy by hand
eval_loss, eval_accuracy = model.evaluate(tf_validation_dataset)
labels = np.array(tokenized_datasets["validation"]["label"])
assert abs(eval_accuracy - float((class_preds == labels).mean())) < 1e-6
