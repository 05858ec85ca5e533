"""The suite's tiny BERT and Llama shapes (tests add their own labels, vocab types, token ids) and one padded batch."""

import numpy as np

BERT_KWARGS = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
)
LLAMA_KWARGS = dict(BERT_KWARGS, num_key_value_heads=2)
IDS = np.random.RandomState(0).randint(1, 99, (2, 9)).astype("int32")
MASK = np.ones_like(IDS)
MASK[1, 6:] = 0  # the second row is right-padded
