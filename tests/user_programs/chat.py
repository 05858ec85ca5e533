"""Chat with an instruction-tuned causal LM: apply_chat_template(return_tensors="tf"), generate, decode the reply.

The "Chatting with Transformers" and chat-templating guides as TF users followed them, with a
TextStreamer printing the reply as it comes.
Globals: CHECKPOINT (a Llama folder whose tokenizer has a chat template), MAX_NEW_TOKENS.
"""

# ruff: noqa: F821  (CHECKPOINT is a global the test passes in)

import tensorflow as tf

from kerasformers import AutoTokenizer, TextStreamer, TFAutoModelForCausalLM

tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
model = TFAutoModelForCausalLM.from_pretrained(CHECKPOINT)

messages = [
    {"role": "system", "content": "You are a friendly film critic who answers in one sentence."},
    {"role": "user", "content": "Is a two-hour movie about paint drying worth watching?"},
]

# the prompt as text first, to look at it
prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
assert prompt.startswith("<|im_start|>system\nYou are a friendly film critic")
assert prompt.endswith("<|im_start|>assistant\n")

tokenized_chat = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_tensors="tf")
assert isinstance(tokenized_chat, tf.Tensor) and tokenized_chat.shape[0] == 1
assert tokenizer.decode(tokenized_chat[0]) == prompt

outputs = model.generate(tokenized_chat, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
assert isinstance(outputs, tf.Tensor)
reply_ids = outputs[:, tokenized_chat.shape[1] :]
reply = tokenizer.batch_decode(reply_ids, skip_special_tokens=True)[0]
print(reply)
assert isinstance(reply, str)

# the conversation goes on: the reply is appended and the template applied again
messages.append({"role": "assistant", "content": reply})
messages.append({"role": "user", "content": "Why?"})
inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True, return_tensors="tf")
assert set(inputs) >= {"input_ids", "attention_mask"}
streamer = TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
second = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, streamer=streamer)
assert second.shape[1] > inputs["input_ids"].shape[1]
