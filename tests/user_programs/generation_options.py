"""generate() as transformers' TF text-generation guides used it: batches, beams, sampling, scores, streamers.

Left-padded batches, greedy and beam search with num_return_sequences, seeded sampling
(set_seed, and generate's own seed= for stateless TF sampling), return_dict_in_generate with
output_scores and compute_transition_scores, a GenerationConfig object, eos as a stop token,
TextIteratorStreamer read from another thread.
Globals: CHECKPOINT (a small causal LM folder with a tokenizer).
"""

# ruff: noqa: F821  (CHECKPOINT is a global the test passes in)

from threading import Thread

import numpy as np
import tensorflow as tf

from kerasformers import AutoTokenizer, GenerationConfig, TextIteratorStreamer, TFAutoModelForCausalLM, set_seed

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT, padding_side="left")
model = TFAutoModelForCausalLM.from_pretrained(CHECKPOINT)
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token

prompts = ["The film was", "I did not expect the ending to be so"]
inputs = tokenizer(prompts, return_tensors="tf", padding=True)
prompt_length = inputs["input_ids"].shape[1]

# greedy, batched
greedy = model.generate(**inputs, max_new_tokens=8, do_sample=False)
assert isinstance(greedy, tf.Tensor) and greedy.shape[0] == 2
continuations = tokenizer.batch_decode(greedy[:, prompt_length:], skip_special_tokens=True)
assert len(continuations) == 2

# scores of each step, and the log-probabilities of the chosen tokens
outputs = model.generate(**inputs, max_new_tokens=8, do_sample=False, return_dict_in_generate=True, output_scores=True)
np.testing.assert_array_equal(outputs.sequences.numpy(), greedy.numpy())
assert len(outputs.scores) == outputs.sequences.shape[1] - prompt_length
assert outputs.scores[0].shape == (2, model.config.vocab_size)
transition_scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
assert transition_scores.shape == (2, len(outputs.scores))
assert np.all(transition_scores.numpy() <= 0.0)

# beam search, several sequences per prompt
beams = model.generate(**inputs, max_new_tokens=8, num_beams=3, num_return_sequences=2, early_stopping=True)
assert beams.shape[0] == 4

# sampling is repeatable with set_seed, and with generate's own stateless seed
set_seed(0)
sample_a = model.generate(**inputs, do_sample=True, top_k=50, top_p=0.95, temperature=0.8, max_new_tokens=8)
set_seed(0)
sample_b = model.generate(**inputs, do_sample=True, top_k=50, top_p=0.95, temperature=0.8, max_new_tokens=8)
np.testing.assert_array_equal(sample_a.numpy(), sample_b.numpy())
seeded_a = model.generate(**inputs, do_sample=True, max_new_tokens=8, seed=[42, 0])
seeded_b = model.generate(**inputs, do_sample=True, max_new_tokens=8, seed=[42, 0])
np.testing.assert_array_equal(seeded_a.numpy(), seeded_b.numpy())

# a GenerationConfig object instead of keywords
generation_config = GenerationConfig(max_new_tokens=6, do_sample=False, pad_token_id=tokenizer.pad_token_id)
configured = model.generate(**inputs, generation_config=generation_config)
np.testing.assert_array_equal(configured.numpy(), greedy[:, : prompt_length + 6].numpy())

# stop at a chosen token: whatever greedy picks first for the first prompt
stop_id = int(greedy[0, prompt_length])
stopped = model.generate(**inputs, max_new_tokens=8, do_sample=False, eos_token_id=stop_id)
assert int(stopped[0, prompt_length]) == stop_id
assert stopped.shape[1] <= greedy.shape[1]

# streaming from another thread
streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
single = tokenizer(["The film was"], return_tensors="tf")
generation_kwargs = dict(single, streamer=streamer, max_new_tokens=8, do_sample=False)
thread = Thread(target=model.generate, kwargs=generation_kwargs)
thread.start()
generated_text = ""
for new_text in streamer:
    generated_text += new_text
thread.join()
assert generated_text == tokenizer.decode(
    model.generate(**single, max_new_tokens=8, do_sample=False)[0, single["input_ids"].shape[1] :],
    skip_special_tokens=True,
)
