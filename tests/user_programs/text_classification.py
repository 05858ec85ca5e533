"""Sentiment classification as in transformers' TF text-classification example and course chapter 3.

Globals: CHECKPOINT (a BERT folder with a tokenizer), TRAIN_TEXTS/TRAIN_LABELS,
EVAL_TEXTS/EVAL_LABELS (movie-review sentences), OUTPUT_DIR.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import numpy as np
import tensorflow as tf
from datasets import Dataset

from kerasformers import AutoTokenizer, TFAutoModelForSequenceClassification, create_optimizer, set_seed
from kerasformers.utils import logging

logging.set_verbosity_error()
set_seed(42)

raw_train = Dataset.from_dict({"text": TRAIN_TEXTS, "label": TRAIN_LABELS})
raw_eval = Dataset.from_dict({"text": EVAL_TEXTS, "label": EVAL_LABELS})

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)


def preprocess_function(examples):
    return tokenizer(examples["text"], truncation=True, max_length=64)


train_dataset = raw_train.map(preprocess_function, batched=True)
eval_dataset = raw_eval.map(preprocess_function, batched=True)

id2label = {0: "NEGATIVE", 1: "POSITIVE"}
label2id = {"NEGATIVE": 0, "POSITIVE": 1}
model = TFAutoModelForSequenceClassification.from_pretrained(
    CHECKPOINT, num_labels=2, id2label=id2label, label2id=label2id
)

tf_train_set = model.prepare_tf_dataset(train_dataset, shuffle=True, batch_size=8, tokenizer=tokenizer)
tf_validation_set = model.prepare_tf_dataset(eval_dataset, shuffle=False, batch_size=8, tokenizer=tokenizer)

batch_size = 8
num_epochs = 1
batches_per_epoch = len(train_dataset) // batch_size
total_train_steps = int(batches_per_epoch * num_epochs)
optimizer, schedule = create_optimizer(init_lr=2e-3, num_warmup_steps=0, num_train_steps=total_train_steps)

model.compile(optimizer=optimizer, metrics=["accuracy"])  # no loss argument: the model's own loss
history = model.fit(x=tf_train_set, validation_data=tf_validation_set, epochs=num_epochs)

assert np.isfinite(history.history["loss"][-1])
assert "accuracy" in history.history and "val_accuracy" in history.history

# predictions on the validation set
preds = model.predict(tf_validation_set)["logits"]
class_preds = np.argmax(preds, axis=1)
assert preds.shape == (len(eval_dataset), 2)
accuracy = float((class_preds == np.array(EVAL_LABELS)).mean())

# inference on new text, as the task guide does it
text = ["This was a masterpiece. Not completely faithful to the books, but enthralling.", "Dull and far too long."]
inputs = tokenizer(text, padding=True, return_tensors="tf")
logits = model(**inputs).logits
assert isinstance(logits, tf.Tensor)
predicted_class_id = tf.math.argmax(logits, axis=-1).numpy()
predicted_labels = [model.config.id2label[int(i)] for i in predicted_class_id]
assert set(predicted_labels) <= {"NEGATIVE", "POSITIVE"}
probabilities = tf.nn.softmax(logits, axis=-1).numpy()
np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-6)

model.save_pretrained(OUTPUT_DIR)
tokenizer.save_pretrained(OUTPUT_DIR)
