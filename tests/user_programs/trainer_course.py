"""The course's Trainer chapter with the issue's class-weighted loss, written for transformers, run here.

pipeline("sentiment-analysis") first, then a Trainer subclass overriding compute_loss to weight the
classes of an unbalanced set, compute_metrics, TrainingArguments with evaluation and saving per
epoch, the best model loaded at the end, gradient accumulation; train, evaluate, predict, and a
second train(resume_from_checkpoint=True) that finds the run complete.
Globals: CHECKPOINT (a BERT with a sequence-classification head), TRAIN_TEXTS/TRAIN_LABELS,
EVAL_TEXTS/EVAL_LABELS, OUTPUT_DIR.
"""

# ruff: noqa: F821  (CHECKPOINT, the data and OUTPUT_DIR are globals the test passes in)

import keras
import numpy as np
from datasets import Dataset
from keras import ops

from kerasformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    TFAutoModelForSequenceClassification,
    Trainer,
    TrainingArguments,
    pipeline,
)

classifier = pipeline("sentiment-analysis", model=CHECKPOINT)
first_predictions = classifier(["I love this movie", "Terrible plot"])
assert [sorted(p) for p in first_predictions] == [["label", "score"], ["label", "score"]]

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
model = TFAutoModelForSequenceClassification.from_pretrained(CHECKPOINT, num_labels=2)
train = Dataset.from_dict({"text": TRAIN_TEXTS, "label": TRAIN_LABELS})
val = Dataset.from_dict({"text": EVAL_TEXTS, "label": EVAL_LABELS})
train = train.map(lambda batch: tokenizer(batch["text"], truncation=True), batched=True)
val = val.map(lambda batch: tokenizer(batch["text"], truncation=True), batched=True)

counts = np.bincount(TRAIN_LABELS, minlength=2)
class_weights = ops.convert_to_tensor(len(TRAIN_LABELS) / (2.0 * counts), dtype="float32")


class WeightedTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            labels, outputs.logits, sample_weight=ops.take(class_weights, labels)
        )
        return (loss, outputs) if return_outputs else loss


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    predictions = np.argmax(logits, axis=-1)
    tp = np.sum((predictions == 1) & (labels == 1))
    precision = tp / max(np.sum(predictions == 1), 1)
    recall = tp / max(np.sum(labels == 1), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return {"accuracy": float(np.mean(predictions == labels)), "f1": float(f1)}


args = TrainingArguments(
    OUTPUT_DIR,
    learning_rate=2e-5,
    per_device_train_batch_size=8,
    num_train_epochs=2,
    warmup_ratio=0.1,
    weight_decay=0.01,
    eval_strategy="epoch",
    save_strategy="epoch",
    load_best_model_at_end=True,
    metric_for_best_model="f1",
    gradient_accumulation_steps=2,
    bf16=False,
    report_to="none",
    disable_tqdm=True,
)
trainer = WeightedTrainer(
    model=model,
    args=args,
    train_dataset=train,
    eval_dataset=val,
    processing_class=tokenizer,
    data_collator=DataCollatorWithPadding(tokenizer),
    compute_metrics=compute_metrics,
)
train_output = trainer.train()
metrics = trainer.evaluate()
prediction_output = trainer.predict(val)
resumed = trainer.train(resume_from_checkpoint=True)  # the last checkpoint is the end of the run

assert {"eval_loss", "eval_accuracy", "eval_f1"} <= set(metrics)
assert prediction_output.predictions.shape == (len(EVAL_TEXTS), 2)
assert resumed.global_step == train_output.global_step
