"""Named-entity tagging as in transformers' TF token-classification example (run_ner.py) and its task guide.

Words tokenized with is_split_into_words=True, labels aligned with word_ids(),
DataCollatorForTokenClassification(return_tensors="tf"), prepare_tf_dataset with the collator,
create_optimizer, compile() without a loss, predictions with -100 positions dropped.
Globals: CHECKPOINT, TRAIN_TEXTS, EVAL_TEXTS.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import numpy as np
import tensorflow as tf
from datasets import Dataset

from kerasformers import (
    AutoConfig,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    TFAutoModelForTokenClassification,
    create_optimizer,
    set_seed,
)

set_seed(42)

label_list = ["O", "B-ADJ", "I-ADJ"]
# a toy tagging scheme on real sentences: words ending in -ous/-ful/-ive/-ing are tagged
SUFFIXES = ("ous", "ful", "ive", "ing", "ble")


def to_example(sentence):
    tokens = sentence.split()
    tags = [1 if token.lower().strip(".,!?;:'\"").endswith(SUFFIXES) else 0 for token in tokens]
    return tokens, tags


def build(texts):
    tokens, tags = zip(*(to_example(t) for t in texts))
    return Dataset.from_dict({"tokens": list(tokens), "ner_tags": list(tags)})


raw_train, raw_eval = build(TRAIN_TEXTS), build(EVAL_TEXTS)

config = AutoConfig.from_pretrained(
    CHECKPOINT,
    num_labels=len(label_list),
    id2label=dict(enumerate(label_list)),
    label2id={label: i for i, label in enumerate(label_list)},
)
tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
label_all_tokens = False


def tokenize_and_align_labels(examples):
    tokenized_inputs = tokenizer(examples["tokens"], max_length=128, truncation=True, is_split_into_words=True)
    labels = []
    for i, label in enumerate(examples["ner_tags"]):
        word_ids = tokenized_inputs.word_ids(batch_index=i)
        previous_word_idx = None
        label_ids = []
        for word_idx in word_ids:
            # Special tokens have a word id that is None. We set the label to -100 so they are ignored in the loss
            if word_idx is None:
                label_ids.append(-100)
            # We set the label for the first token of each word.
            elif word_idx != previous_word_idx:
                label_ids.append(label[word_idx])
            else:
                label_ids.append(label[word_idx] if label_all_tokens else -100)
            previous_word_idx = word_idx
        labels.append(label_ids)
    tokenized_inputs["labels"] = labels
    return tokenized_inputs


train_dataset = raw_train.map(tokenize_and_align_labels, batched=True, remove_columns=raw_train.column_names)
eval_dataset = raw_eval.map(tokenize_and_align_labels, batched=True, remove_columns=raw_eval.column_names)

model = TFAutoModelForTokenClassification.from_pretrained(CHECKPOINT, config=config)
collate_fn = DataCollatorForTokenClassification(tokenizer=tokenizer, pad_to_multiple_of=32, return_tensors="tf")

tf_train_dataset = model.prepare_tf_dataset(train_dataset, collate_fn=collate_fn, batch_size=8, shuffle=True)
tf_eval_dataset = model.prepare_tf_dataset(eval_dataset, collate_fn=collate_fn, batch_size=8, shuffle=False)

num_train_steps = len(tf_train_dataset) * 1
optimizer, lr_schedule = create_optimizer(
    init_lr=3e-3,
    num_train_steps=num_train_steps,
    num_warmup_steps=0,
    adam_beta1=0.9,
    adam_beta2=0.999,
    adam_epsilon=1e-8,
    weight_decay_rate=0.0,
    adam_global_clipnorm=1.0,
)
model.compile(optimizer=optimizer, jit_compile=False)
history = model.fit(tf_train_dataset, validation_data=tf_eval_dataset, epochs=1)
assert np.isfinite(history.history["loss"][0]) and np.isfinite(history.history["val_loss"][0])

# evaluation as run_ner.py does it: predict batch by batch, drop the -100 positions
predictions, references = [], []
for batch, labels in tf_eval_dataset:
    logits = model.predict_on_batch(batch)["logits"]
    batch_predictions = np.argmax(logits, axis=-1)
    for prediction, label in zip(batch_predictions, labels.numpy()):
        predictions.append([label_list[p] for (p, lab) in zip(prediction, label) if lab != -100])
        references.append([label_list[lab] for (p, lab) in zip(prediction, label) if lab != -100])
assert [len(p) for p in predictions] == [len(t) for t in raw_eval["tokens"]]
word_accuracy = np.mean([p == r for ps, rs in zip(predictions, references) for p, r in zip(ps, rs)])
print("word accuracy", word_accuracy)

# tagging one new sentence
inputs = tokenizer("A marvellous and moving film , thoroughly enjoyable .", return_tensors="tf")
logits = model(**inputs).logits
predicted_token_class_ids = tf.math.argmax(logits, axis=-1)
predicted_tokens_classes = [model.config.id2label[t] for t in predicted_token_class_ids[0].numpy().tolist()]
assert len(predicted_tokens_classes) == inputs["input_ids"].shape[1]
