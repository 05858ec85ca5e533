"""generate() inside tf.function(jit_compile=True), as transformers' "XLA Integration for TensorFlow Models" guide did.

Left padding with pad_to_multiple_of=8 so that new prompt lengths reuse the compiled function,
beam search inside the compiled call, decoding the result.
Globals: CHECKPOINT (a GPT-2 folder whose tokenizer has no pad token).
"""

# ruff: noqa: F821  (CHECKPOINT is a global the test passes in)

import tensorflow as tf

from kerasformers import AutoTokenizer, TFAutoModelForCausalLM

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT, padding_side="left", pad_token="<|endoftext|>")
model = TFAutoModelForCausalLM.from_pretrained(CHECKPOINT)
input_string = ["TensorFlow is"]

# One line to create an XLA generation function
xla_generate = tf.function(model.generate, jit_compile=True)

# Calls XLA generation without padding
tokenized_input = tokenizer(input_string, return_tensors="tf")
generated_tokens = xla_generate(**tokenized_input, num_beams=2, max_new_tokens=8)
decoded_text = tokenizer.decode(generated_tokens[0], skip_special_tokens=True)
print(f"Generated -- {decoded_text}")
assert decoded_text.startswith("TensorFlow is")

# Padded to a multiple of 8, so prompts of other lengths reuse the compiled function
padded_input = tokenizer(input_string, pad_to_multiple_of=8, padding=True, return_tensors="tf")
assert padded_input["input_ids"].shape[1] % 8 == 0
padded_tokens = xla_generate(**padded_input, num_beams=2, max_new_tokens=8)
padded_text = tokenizer.decode(padded_tokens[0], skip_special_tokens=True)
assert padded_text == decoded_text  # left padding changes nothing
