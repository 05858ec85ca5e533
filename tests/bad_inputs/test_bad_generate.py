"""Bad inputs to generate(): prompts, lengths, settings and misspelt keywords (tiny Llama, vocab 99)."""

import numpy as np
import pytest

PROMPT = np.array([[5, 6, 7], [8, 9, 10]], np.int32)

# (keyword arguments besides input_ids, exception, words the message must hold)
BAD_GENERATE = {
    "misspelt max_new_tokens": ({"max_new_token": 3}, ValueError, ["max_new_token", "did you mean 'max_new_tokens'"]),
    "unknown keyword": ({"max_new_tokens": 2, "foo": 1}, ValueError, ["foo", "unknown keyword"]),
    "max_new_tokens=0": ({"max_new_tokens": 0}, ValueError, ["max_new_tokens", "positive integer", "0"]),
    "negative max_new_tokens": ({"max_new_tokens": -3}, ValueError, ["max_new_tokens", "-3"]),
    "float max_new_tokens": ({"max_new_tokens": 2.5}, ValueError, ["max_new_tokens", "2.5"]),
    "max_new_tokens=10**6": (
        {"max_new_tokens": 10**6},
        ValueError,
        ["1000003", "64 positions", "max_new_tokens to at most 61"],
    ),
    "just past the position limit": ({"max_new_tokens": 62}, ValueError, ["65", "64 positions"]),
    "max_length shorter than prompt": ({"max_length": 2}, ValueError, ["max_length", "max_new_tokens"]),
    "zero temperature when sampling": (
        {"max_new_tokens": 2, "do_sample": True, "temperature": 0.0},
        ValueError,
        ["temperature"],
    ),
    "top_p above 1": ({"max_new_tokens": 2, "do_sample": True, "top_p": 1.5}, ValueError, ["top_p"]),
    "num_beams 0": ({"max_new_tokens": 2, "num_beams": 0}, ValueError, ["num_beams"]),
    "more returns than beams": (
        {"max_new_tokens": 2, "num_beams": 2, "num_return_sequences": 3},
        ValueError,
        ["num_return_sequences"],
    ),
    "unimplemented setting": ({"max_new_tokens": 2, "penalty_alpha": 0.6}, NotImplementedError, ["penalty_alpha"]),
    "mask of another shape": (
        {"max_new_tokens": 2, "attention_mask": np.ones((1, 3), np.int32)},
        ValueError,
        ["attention_mask", "(1, 3)", "(2, 3)"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_GENERATE))
def test_generate_refuses(tiny_llama, case):
    kwargs, error, words = BAD_GENERATE[case]
    with pytest.raises(error) as info:
        tiny_llama.generate(PROMPT, **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


BAD_PROMPTS = {
    "negative id": (np.array([[5, -1]]), ValueError, ["input_ids", "-1", "[0, 99)"]),
    "id >= vocab_size": (np.array([[5, 99]]), ValueError, ["input_ids", "99", "[0, 99)"]),
    "float ids": (np.array([[5.0, 6.5]]), TypeError, ["input_ids", "float64"]),
    "string ids": (np.array([["a", "b"]]), TypeError, ["input_ids", "strings"]),
    "empty prompt": (np.zeros((1, 0), np.int32), ValueError, ["empty prompt", "bos_token_id", "1"]),
    "empty list": ([], ValueError, ["empty prompt"]),
    "rank 3": (np.ones((1, 2, 3), np.int32), ValueError, ["input_ids", "(batch_size, sequence_length)"]),
    "ragged prompts": ([[5, 6], [7]], ValueError, ["ragged", "padding=True"]),
    "no prompt": (None, ValueError, ["needs input_ids"]),
}


@pytest.mark.parametrize("case", list(BAD_PROMPTS))
def test_generate_refuses_prompt(tiny_llama, case):
    prompt, error, words = BAD_PROMPTS[case]
    with pytest.raises(error) as info:
        tiny_llama.generate(prompt, max_new_tokens=2)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_rope_scaling_extends_the_generation_limit(tiny_llama_kwargs):
    """A stated rope factor stretches the limit by that factor (as the scaled model handles it)."""
    from kerasformers import TFLlamaForCausalLM
    from kerasformers.models.llama.configuration_llama import LlamaConfig

    model = TFLlamaForCausalLM(LlamaConfig(**tiny_llama_kwargs, rope_scaling={"rope_type": "linear", "factor": 2.0}))
    assert model.max_generation_length == 2 * tiny_llama_kwargs["max_position_embeddings"]
    with pytest.raises(ValueError, match="128 positions"):
        model.generate(PROMPT, max_new_tokens=200)


def test_flat_prompt_list_is_one_prompt(tiny_llama):
    """A flat list of ids is one prompt (as transformers' tokenizers return for one text)."""
    # min_new_tokens: the random tiny model may draw its eos (id 2 of 99) and stop early otherwise
    out = tiny_llama.generate([5, 6, 7], max_new_tokens=2, min_new_tokens=2)
    assert out.shape == (1, 5) and list(out[0, :3]) == [5, 6, 7]
