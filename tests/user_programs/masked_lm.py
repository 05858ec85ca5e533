"""Masked-language-model fine-tuning as in transformers' TF run_mlm.py, then fill-mask by hand as the task guide does.

return_special_tokens_mask, group_texts into blocks, DataCollatorForLanguageModeling(mlm_probability=0.15,
return_tensors="tf"), prepare_tf_dataset with the collator, create_optimizer with weight decay,
compile() without a loss, perplexity from evaluate(), top-k predictions for [MASK].
Globals: CHECKPOINT, TRAIN_TEXTS, EVAL_TEXTS.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import math
from itertools import chain

import numpy as np
import tensorflow as tf
from datasets import Dataset

from kerasformers import (
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    TFAutoModelForMaskedLM,
    create_optimizer,
    set_seed,
)

set_seed(42)
tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
raw_train = Dataset.from_dict({"text": TRAIN_TEXTS})
raw_eval = Dataset.from_dict({"text": EVAL_TEXTS})
max_seq_length = 32


def tokenize_function(examples):
    return tokenizer(examples["text"], return_special_tokens_mask=True)


def group_texts(examples):
    # Concatenate all texts, then split them into chunks of max_seq_length.
    concatenated_examples = {k: list(chain(*examples[k])) for k in examples.keys()}
    total_length = len(concatenated_examples[list(examples.keys())[0]])
    total_length = (total_length // max_seq_length) * max_seq_length
    result = {
        k: [t[i : i + max_seq_length] for i in range(0, total_length, max_seq_length)]
        for k, t in concatenated_examples.items()
    }
    return result


train_dataset = raw_train.map(tokenize_function, batched=True, remove_columns=["text"]).map(group_texts, batched=True)
eval_dataset = raw_eval.map(tokenize_function, batched=True, remove_columns=["text"]).map(group_texts, batched=True)

model = TFAutoModelForMaskedLM.from_pretrained(CHECKPOINT)
# We resize the embeddings only when necessary to avoid index errors.
embeddings = model.get_input_embeddings()
# (run_clm/run_mlm: BERT-style layers kept their matrix in .weight, Keras Embedding layers in .embeddings)
if hasattr(embeddings, "embeddings"):
    embedding_size = embeddings.embeddings.shape[0]
else:
    embedding_size = embeddings.weight.shape[0]
if len(tokenizer) > embedding_size:
    model.resize_token_embeddings(len(tokenizer))

data_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=0.15, return_tensors="tf")

# what the collator does to one batch
examples = [train_dataset[i] for i in range(8)]
masked = data_collator(examples)
assert isinstance(masked["input_ids"], tf.Tensor) and masked["labels"].shape == (8, max_seq_length)

tf_train_dataset = model.prepare_tf_dataset(train_dataset, shuffle=True, batch_size=4, collate_fn=data_collator)
tf_eval_dataset = model.prepare_tf_dataset(
    eval_dataset, shuffle=False, batch_size=4, drop_remainder=True, collate_fn=data_collator
)

num_train_steps = len(tf_train_dataset)
optimizer, lr_schedule = create_optimizer(
    init_lr=1e-3, num_train_steps=num_train_steps, num_warmup_steps=0, weight_decay_rate=0.01
)
model.compile(optimizer=optimizer)
history = model.fit(tf_train_dataset, validation_data=tf_eval_dataset, epochs=1)
train_loss = history.history["loss"][-1]
validation_loss = history.history["val_loss"][-1]
assert np.isfinite(train_loss)
perplexity = math.exp(validation_loss)
assert perplexity > 1.0
eval_loss = model.evaluate(tf_eval_dataset)
assert np.isfinite(eval_loss)

# fill-mask by hand
text = f"This movie is a {tokenizer.mask_token} of modern cinema."
inputs = tokenizer(text, return_tensors="tf")
mask_token_index = tf.where(inputs["input_ids"] == tokenizer.mask_token_id)[0, 1]
logits = model(**inputs).logits
mask_token_logits = logits[0, mask_token_index, :]
top_3_tokens = tf.math.top_k(mask_token_logits, 3).indices.numpy()
filled = [text.replace(tokenizer.mask_token, tokenizer.decode([token])) for token in top_3_tokens]
assert len(filled) == 3 and all(tokenizer.mask_token not in f for f in filled)
