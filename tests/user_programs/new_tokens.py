"""Adding tokens to a tokenizer and resizing the model's embeddings, as the transformers docs showed it.

add_tokens / add_special_tokens, resize_token_embeddings(len(tokenizer)), training on text that
uses the new tokens, then save_pretrained and reload of both.
Globals: CHECKPOINT (a BERT folder), TRAIN_TEXTS, TRAIN_LABELS, OUTPUT_DIR.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import numpy as np
import tensorflow as tf

from kerasformers import AutoTokenizer, BertTokenizerFast, TFBertForSequenceClassification

tokenizer = BertTokenizerFast.from_pretrained(CHECKPOINT)
model = TFBertForSequenceClassification.from_pretrained(CHECKPOINT, num_labels=2)
old_vocab_size = model.config.vocab_size
old_embeddings = model.get_input_embeddings().weight.numpy()

num_added_toks = tokenizer.add_tokens(["[MOVIE]", "[ACTOR]"])
num_added_special = tokenizer.add_special_tokens({"additional_special_tokens": ["[SPOILER]"]})
assert num_added_toks == 2 and num_added_special == 1
assert len(tokenizer) == old_vocab_size + 3
model.resize_token_embeddings(len(tokenizer))

new_embeddings = model.get_input_embeddings().weight
assert new_embeddings.shape == (len(tokenizer), model.config.hidden_size)
assert model.config.vocab_size == len(tokenizer)
np.testing.assert_array_equal(new_embeddings.numpy()[:old_vocab_size], old_embeddings)

texts = [f"[MOVIE] {text} [SPOILER]" for text in TRAIN_TEXTS]
encoded = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="tf")
assert tokenizer.convert_tokens_to_ids("[MOVIE]") == old_vocab_size
assert int(encoded["input_ids"][0, 1]) == old_vocab_size  # after [CLS]
actor_tokens = tokenizer.tokenize("[ACTOR] was great")
assert len(actor_tokens) == 3  # the added token stays whole
decoded = tokenizer.decode(encoded["input_ids"][0], skip_special_tokens=True)
assert "[SPOILER]" not in decoded and "[SEP]" not in decoded

model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3))
history = model.fit(dict(encoded), np.array(TRAIN_LABELS), batch_size=16, epochs=1)
assert np.isfinite(history.history["loss"][0])
trained_new_rows = model.get_input_embeddings().weight.numpy()[old_vocab_size:]

model.save_pretrained(OUTPUT_DIR)
tokenizer.save_pretrained(OUTPUT_DIR)

reloaded_tokenizer = AutoTokenizer.from_pretrained(OUTPUT_DIR)
reloaded = TFBertForSequenceClassification.from_pretrained(OUTPUT_DIR)
assert len(reloaded_tokenizer) == len(tokenizer)
assert reloaded_tokenizer("[MOVIE] fine")["input_ids"] == tokenizer("[MOVIE] fine")["input_ids"]
np.testing.assert_array_equal(reloaded.get_input_embeddings().weight.numpy()[old_vocab_size:], trained_new_rows)
sample = tokenizer(["[MOVIE] [ACTOR] shines", "[SPOILER] dull"], padding=True, return_tensors="tf")
logits = reloaded(sample).logits
np.testing.assert_allclose(logits.numpy(), model(sample).logits.numpy(), atol=1e-6)
