"""Inference by hand as the course's "Behind the pipeline" and "Models" sections (TF tab) wrote it.

Tokenizer with padding/truncation/return_tensors="tf", TFAutoModel hidden states,
TFAutoModelForSequenceClassification logits, softmax, id2label, shape_list, batched and
single-sequence calls, output access by attribute, key and index.
Globals: CHECKPOINT (a sequence-classification folder with a tokenizer).
"""

# ruff: noqa: F821  (CHECKPOINT is a global the test passes in)

import tensorflow as tf

from kerasformers import AutoTokenizer, TFAutoModel, TFAutoModelForSequenceClassification
from kerasformers.modeling_tf_outputs import TFBaseModelOutputWithPoolingAndCrossAttentions
from kerasformers.tf_utils import shape_list

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
raw_inputs = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
inputs = tokenizer(raw_inputs, padding=True, truncation=True, return_tensors="tf")
assert set(inputs.keys()) == {"input_ids", "token_type_ids", "attention_mask"}
assert isinstance(inputs["input_ids"], tf.Tensor)

model = TFAutoModel.from_pretrained(CHECKPOINT)
outputs = model(inputs)
hidden_states = outputs.last_hidden_state
assert shape_list(hidden_states) == [2, inputs["input_ids"].shape[1], model.config.hidden_size]
assert outputs["last_hidden_state"] is hidden_states and outputs[0] is hidden_states

classifier = TFAutoModelForSequenceClassification.from_pretrained(CHECKPOINT)
class_outputs = classifier(inputs)
logits = class_outputs.logits
predictions = tf.math.softmax(logits, axis=-1)
labels = [classifier.config.id2label[int(i)] for i in tf.math.argmax(predictions, axis=-1)]
assert len(labels) == 2

# one sequence: tokens -> ids -> model, by hand
sequence = "I've been waiting for a HuggingFace course my whole life."
tokens = tokenizer.tokenize(sequence)
ids = tokenizer.convert_tokens_to_ids(tokens)
input_ids = tf.constant([[tokenizer.cls_token_id] + ids + [tokenizer.sep_token_id]])
single_logits = classifier(input_ids).logits
tf.debugging.assert_near(single_logits[0], logits[0], atol=1e-5)
decoded_string = tokenizer.decode(ids)
assert decoded_string.startswith("i") and "huggingface course" in decoded_string

# the output class transformers' TFBertModel returns
assert isinstance(outputs, TFBaseModelOutputWithPoolingAndCrossAttentions), type(outputs)
