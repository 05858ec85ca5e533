"""Multiple choice as in transformers' TF run_swag.py, with the script's own DataCollatorForMultipleChoice.

Four (context, ending) pairs per example tokenized flat and regrouped, tokenizer.pad(...,
return_tensors="np") reshaped to (batch, choices, length), TFAutoModelForMultipleChoice with
compile(optimizer, metrics=["accuracy"]) and no loss, predictions of shape (examples, 4).
Globals: CHECKPOINT, TRAIN_TEXTS, EVAL_TEXTS.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

from dataclasses import dataclass
from itertools import chain

import numpy as np
import tensorflow as tf
from datasets import Dataset

from kerasformers import AutoTokenizer, TFAutoModelForMultipleChoice, create_optimizer, set_seed
from kerasformers.tokenization_utils_base import PreTrainedTokenizerBase


@dataclass
class DataCollatorForMultipleChoice:
    """Data collator that dynamically pads the inputs for multiple choice received."""

    tokenizer: PreTrainedTokenizerBase
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None

    def __call__(self, features):
        label_name = "label" if "label" in features[0].keys() else "labels"
        labels = [feature.pop(label_name) for feature in features]
        batch_size = len(features)
        num_choices = len(features[0]["input_ids"])
        flattened_features = [
            [{k: v[i] for k, v in feature.items()} for i in range(num_choices)] for feature in features
        ]
        flattened_features = list(chain(*flattened_features))

        batch = self.tokenizer.pad(
            flattened_features,
            padding=self.padding,
            max_length=self.max_length,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors="np",
        )
        # Un-flatten
        batch = {k: tf.reshape(v, (batch_size, num_choices, -1)) for k, v in batch.items()}
        # Add back labels
        batch["labels"] = tf.convert_to_tensor(labels, dtype=tf.int64)
        return batch


set_seed(42)


def swag_like(texts):
    """sent1: the first half of a review; the right ending is its second half, three others are distractors."""
    halves = [t.split() for t in texts]
    rows = {"sent1": [], "sent2": [], "ending0": [], "ending1": [], "ending2": [], "ending3": [], "label": []}
    for i, words in enumerate(halves):
        cut = max(1, len(words) // 2)
        endings = [
            " ".join(halves[(i + k) % len(halves)][max(1, len(halves[(i + k) % len(halves)]) // 2) :])
            for k in (1, 2, 3)
        ]
        label = i % 4
        endings.insert(label, " ".join(words[cut:]))
        rows["sent1"].append(" ".join(words[:cut]))
        rows["sent2"].append("")
        for k in range(4):
            rows[f"ending{k}"].append(endings[k])
        rows["label"].append(label)
    return Dataset.from_dict(rows)


raw_train, raw_eval = swag_like(TRAIN_TEXTS), swag_like(EVAL_TEXTS)
tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
ending_names = [f"ending{i}" for i in range(4)]
context_name, question_header_name = "sent1", "sent2"
max_seq_length = 64


def preprocess_function(examples):
    first_sentences = [[context] * 4 for context in examples[context_name]]
    question_headers = examples[question_header_name]
    second_sentences = [
        [f"{header} {examples[end][i]}" for end in ending_names] for i, header in enumerate(question_headers)
    ]
    # Flatten out
    first_sentences = list(chain(*first_sentences))
    second_sentences = list(chain(*second_sentences))
    # Tokenize
    tokenized_examples = tokenizer(first_sentences, second_sentences, truncation=True, max_length=max_seq_length)
    # Un-flatten
    data = {k: [v[i : i + 4] for i in range(0, len(v), 4)] for k, v in tokenized_examples.items()}
    return data


column_names = raw_train.column_names
train_dataset = raw_train.map(
    preprocess_function, batched=True, remove_columns=[c for c in column_names if c != "label"]
)
eval_dataset = raw_eval.map(preprocess_function, batched=True, remove_columns=[c for c in column_names if c != "label"])

data_collator = DataCollatorForMultipleChoice(tokenizer)
model = TFAutoModelForMultipleChoice.from_pretrained(CHECKPOINT)

tf_train_dataset = model.prepare_tf_dataset(train_dataset, shuffle=True, batch_size=8, collate_fn=data_collator)
tf_eval_dataset = model.prepare_tf_dataset(eval_dataset, shuffle=False, batch_size=8, collate_fn=data_collator)
num_train_steps = len(tf_train_dataset)
optimizer, lr_schedule = create_optimizer(
    init_lr=1e-3, num_train_steps=num_train_steps, num_warmup_steps=0, weight_decay_rate=0.01
)
model.compile(optimizer=optimizer, metrics=["accuracy"], jit_compile=False)
history = model.fit(tf_train_dataset, validation_data=tf_eval_dataset, epochs=1)
assert np.isfinite(history.history["loss"][0]) and "val_accuracy" in history.history

eval_metrics = model.evaluate(tf_eval_dataset, return_dict=True)
assert set(eval_metrics) >= {"loss", "accuracy"}

predictions = model.predict(tf_eval_dataset)["logits"]
assert predictions.shape == (len(eval_dataset), 4)
accuracy = float(np.mean(np.argmax(predictions, axis=-1) == np.array(eval_dataset["label"])))
assert abs(accuracy - eval_metrics["accuracy"]) < 1e-6

# one example by hand, as the task guide does it
prompt = raw_eval[0]["sent1"]
candidates = [raw_eval[0][f"ending{k}"] for k in range(4)]
inputs = tokenizer([[prompt, candidate] for candidate in candidates], return_tensors="tf", padding=True)
inputs = {k: tf.expand_dims(v, 0) for k, v in inputs.items()}
outputs = model(inputs)
logits = outputs.logits
predicted_class = int(tf.math.argmax(logits, axis=-1)[0])
assert logits.shape == (1, 4) and 0 <= predicted_class < 4
