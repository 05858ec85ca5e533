"""Causal-LM fine-tuning as in transformers' TF run_clm.py, then generation, with a GPT-2 checkpoint.

group_texts with labels = input_ids, prepare_tf_dataset with the default collator,
create_optimizer, compile() without a loss, perplexity, then generate() greedy with the pad token
set to eos as GPT-2 users did, decoded with the tokenizer.
Globals: CHECKPOINT, TRAIN_TEXTS, EVAL_TEXTS, OUTPUT_DIR.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import math

import numpy as np
import tensorflow as tf
from datasets import Dataset

from kerasformers import AutoConfig, AutoTokenizer, TFAutoModelForCausalLM, create_optimizer, set_seed

set_seed(0)
config = AutoConfig.from_pretrained(CHECKPOINT)
tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
block_size = 32

raw_datasets = {
    "train": Dataset.from_dict({"text": TRAIN_TEXTS}),
    "validation": Dataset.from_dict({"text": EVAL_TEXTS}),
}


def tokenize_function(examples):
    return tokenizer(examples["text"])


def group_texts(examples):
    # Concatenate all texts.
    concatenated_examples = {k: sum(examples[k], []) for k in examples.keys()}
    total_length = len(concatenated_examples[list(examples.keys())[0]])
    # We drop the small remainder
    if total_length >= block_size:
        total_length = (total_length // block_size) * block_size
    # Split by chunks of max_len.
    result = {
        k: [t[i : i + block_size] for i in range(0, total_length, block_size)] for k, t in concatenated_examples.items()
    }
    result["labels"] = result["input_ids"].copy()
    return result


lm_datasets = {
    split: ds.map(tokenize_function, batched=True, remove_columns=["text"]).map(group_texts, batched=True)
    for split, ds in raw_datasets.items()
}
train_dataset, eval_dataset = lm_datasets["train"], lm_datasets["validation"]

model = TFAutoModelForCausalLM.from_pretrained(CHECKPOINT, config=config)
# We resize the embeddings only when necessary to avoid index errors.
embeddings = model.get_input_embeddings()
# (run_clm/run_mlm: BERT-style layers kept their matrix in .weight, Keras Embedding layers in .embeddings)
if hasattr(embeddings, "embeddings"):
    embedding_size = embeddings.embeddings.shape[0]
else:
    embedding_size = embeddings.weight.shape[0]
if len(tokenizer) > embedding_size:
    model.resize_token_embeddings(len(tokenizer))

tf_train_dataset = model.prepare_tf_dataset(train_dataset, shuffle=True, batch_size=4)
tf_eval_dataset = model.prepare_tf_dataset(eval_dataset, shuffle=False, batch_size=4, drop_remainder=True)

num_train_steps = len(tf_train_dataset) * 1
optimizer, lr_schedule = create_optimizer(
    init_lr=1e-3, num_train_steps=num_train_steps, num_warmup_steps=0, weight_decay_rate=0.0
)
model.compile(optimizer=optimizer)
loss_before = model.evaluate(tf_eval_dataset)
history = model.fit(tf_train_dataset, validation_data=tf_eval_dataset, epochs=1)
train_loss = history.history["loss"][-1]
try:
    train_perplexity = math.exp(train_loss)
except OverflowError:
    train_perplexity = math.inf
validation_loss = history.history["val_loss"][-1]
assert np.isfinite(train_loss) and np.isfinite(validation_loss)
assert validation_loss < loss_before  # a tiny random model learns the frequent tokens quickly
model.save_pretrained(OUTPUT_DIR)

# generate: GPT-2 has no pad token, so users set it to the eos token
tokenizer.pad_token = tokenizer.eos_token
prompt = "The film is"
input_ids = tokenizer(prompt, return_tensors="tf").input_ids
outputs = model.generate(input_ids, max_new_tokens=10, do_sample=False, pad_token_id=tokenizer.eos_token_id)
assert isinstance(outputs, tf.Tensor)
assert outputs.shape[0] == 1 and outputs.shape[1] <= input_ids.shape[1] + 10
np.testing.assert_array_equal(outputs[:, : input_ids.shape[1]].numpy(), input_ids.numpy())
text = tokenizer.decode(outputs[0], skip_special_tokens=True)
assert text.startswith(prompt)
