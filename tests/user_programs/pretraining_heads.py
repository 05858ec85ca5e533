"""The model-page examples of the heads transformers' TF side had beyond the auto classes.

TFBertForPreTraining (masked-LM and next-sentence logits), TFBertLMHeadModel (BERT as a decoder),
TFGPT2DoubleHeadsModel (language-model and multiple-choice heads on a [CLS] token added to the
tokenizer), written as their docstrings wrote them.
Globals: BERT_CHECKPOINT, GPT2_CHECKPOINT.
"""

# ruff: noqa: F821  (the checkpoints are globals the test passes in)

import tensorflow as tf

from kerasformers import AutoTokenizer, TFBertForPreTraining, TFBertLMHeadModel, TFGPT2DoubleHeadsModel

# BERT's pretraining heads
tokenizer = AutoTokenizer.from_pretrained(BERT_CHECKPOINT)
model = TFBertForPreTraining.from_pretrained(BERT_CHECKPOINT)
pretraining_inputs = tokenizer("Hello, my dog is cute", "He sleeps all day.", return_tensors="tf")
outputs = model(pretraining_inputs)
prediction_logits, seq_relationship_logits = outputs[:2]
assert prediction_logits.shape == (1, pretraining_inputs["input_ids"].shape[1], model.config.vocab_size)
assert seq_relationship_logits.shape == (1, 2)

# BERT as a causal decoder
decoder = TFBertLMHeadModel.from_pretrained(BERT_CHECKPOINT, is_decoder=True)
decoder_inputs = tokenizer("Hello, my dog is cute", return_tensors="tf")
decoder_outputs = decoder(decoder_inputs, labels=decoder_inputs["input_ids"])
decoder_logits = decoder_outputs.logits
assert decoder_logits.shape == (1, decoder_inputs["input_ids"].shape[1], decoder.config.vocab_size)
assert decoder_outputs.loss.shape.rank <= 1

# GPT-2 with a language-model head and a multiple-choice head
gpt2_tokenizer = AutoTokenizer.from_pretrained(GPT2_CHECKPOINT)
double_heads = TFGPT2DoubleHeadsModel.from_pretrained(GPT2_CHECKPOINT)

# Add a [CLS] to the vocabulary (we should train it also!)
num_added_tokens = gpt2_tokenizer.add_special_tokens({"cls_token": "[CLS]"})
embedding_layer = double_heads.resize_token_embeddings(len(gpt2_tokenizer))

choices = ["Hello, my dog is cute [CLS]", "Hello, my cat is cute [CLS]"]
encoded_choices = [gpt2_tokenizer.encode(s) for s in choices]
cls_token_location = [tokens.index(gpt2_tokenizer.cls_token_id) for tokens in encoded_choices]

input_ids = tf.constant(encoded_choices)[None, :]  # Batch size: 1, number of choices: 2
mc_token_ids = tf.constant([cls_token_location])  # Batch size: 1

double_heads_outputs = double_heads(input_ids, mc_token_ids=mc_token_ids)
lm_prediction_scores, mc_prediction_scores = double_heads_outputs[:2]
assert lm_prediction_scores.shape == (1, 2, input_ids.shape[-1], len(gpt2_tokenizer))
assert mc_prediction_scores.shape == (1, 2)
