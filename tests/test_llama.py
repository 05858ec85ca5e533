"""Llama, Mistral and Qwen2 (one model file) against PyTorch transformers on tiny configs and SmolLM2."""

import numpy as np
import pytest
import torch
import transformers
from model_tester import ModelTesterMixin, max_abs_diff, torch_outputs

import kerasformers

TINY = dict(
    vocab_size=99,
    hidden_size=32,
    intermediate_size=37,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=64,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
)


class TestLlama(ModelTesterMixin):
    """Grouped-query attention (4 query heads, 2 key/value heads), untied head, Llama 3 RoPE scaling."""

    torch_config = transformers.LlamaConfig(
        **TINY,
        num_labels=3,
        tie_word_embeddings=False,
        rope_scaling={
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16,
        },
    )
    heads = {
        "TFLlamaModel": "LlamaModel",
        "TFLlamaForCausalLM": "LlamaForCausalLM",
        "TFLlamaForSequenceClassification": "LlamaForSequenceClassification",
    }


class TestMistral(ModelTesterMixin):
    """A sliding window (3) shorter than the test sequences (9); tied head."""

    torch_config = transformers.MistralConfig(**TINY, sliding_window=3, tie_word_embeddings=True)
    heads = {"TFMistralForCausalLM": "MistralForCausalLM"}

    def trainable_heads(self):
        return []  # same head and loss as TestLlama's; skipping fit keeps the suite short


class TestQwen2(ModelTesterMixin):
    """q/k/v biases; sliding windows on the layers past max_window_layers."""

    torch_config = transformers.Qwen2Config(
        **TINY, use_sliding_window=True, sliding_window=4, max_window_layers=1, tie_word_embeddings=False, num_labels=2
    )
    heads = {"TFQwen2ForCausalLM": "Qwen2ForCausalLM"}

    def trainable_heads(self):
        return []  # same head and loss as TestLlama's; skipping fit keeps the suite short


def _left_padded(vocab, seed=0):
    rng = np.random.RandomState(seed)
    ids = rng.randint(3, vocab, (3, 12))
    mask = np.ones_like(ids)
    mask[1, :4] = 0
    mask[2, :7] = 0
    ids[mask == 0] = 0
    return ids, mask


@pytest.mark.parametrize(
    "rope",
    [
        {"rope_type": "linear", "factor": 2.0},
        {"rope_type": "dynamic", "factor": 2.0},  # max_position_embeddings 8 < 12 tokens: the base grows
        {"rope_type": "default", "rope_theta": 500.0},
    ],
)
def test_rope_scaling_matches_pytorch(rope, tmp_path):
    config = transformers.LlamaConfig(**{**TINY, "max_position_embeddings": 8}, rope_scaling=dict(rope))
    torch.manual_seed(0)
    torch_model = transformers.LlamaForCausalLM(config).eval()
    torch_model.save_pretrained(tmp_path)
    model = kerasformers.TFLlamaForCausalLM.from_pretrained(tmp_path)
    ids, mask = _left_padded(TINY["vocab_size"])
    inputs = {"input_ids": ids, "attention_mask": mask}
    theirs = torch_outputs(torch_model, inputs, output_hidden_states=True)
    ours = model(inputs, output_hidden_states=True)
    real = mask.astype(bool)  # padded query rows see nothing; their values are arbitrary
    assert max_abs_diff(np.asarray(ours.logits)[real], theirs.logits.numpy()[real]) <= 1e-5
    for a, b in zip(ours.hidden_states, theirs.hidden_states):
        assert max_abs_diff(np.asarray(a)[real], b.numpy()[real]) <= 1e-5


def test_sequence_classification_picks_last_non_pad_token_of_left_and_right_padding(tmp_path):
    config = transformers.LlamaConfig(**TINY, num_labels=2)
    torch.manual_seed(0)
    torch_model = transformers.LlamaForSequenceClassification(config).eval()
    torch_model.save_pretrained(tmp_path)
    model = kerasformers.TFLlamaForSequenceClassification.from_pretrained(tmp_path)
    ids, mask = _left_padded(TINY["vocab_size"])
    ids[0, 9:], mask[0, 9:] = 0, 0  # one right-padded row too
    inputs = {"input_ids": ids, "attention_mask": mask}
    assert max_abs_diff(model(inputs).logits, torch_outputs(torch_model, inputs).logits.numpy()) <= 1e-5


def test_static_cache_step_by_step_matches_full_forward(tmp_path):
    """Prefill then one token at a time through the static cache equals one full forward pass."""
    config = transformers.LlamaConfig(**TINY)
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    model = kerasformers.TFLlamaForCausalLM.from_pretrained(tmp_path)
    ids = np.random.RandomState(1).randint(3, 99, (2, 10)).astype(np.int32)
    full = np.asarray(model(ids).logits)
    cache = model.init_cache(2, 16)
    slots = np.ones((2, 16), np.int32)
    out = model(ids[:, :6], attention_mask=slots, past_key_values=cache, cache_position=0)
    assert max_abs_diff(out.logits, full[:, :6]) <= 1e-5
    cache = out.past_key_values
    for t in range(6, 10):
        out = model(ids[:, t : t + 1], attention_mask=slots, past_key_values=cache, cache_position=t)
        cache = out.past_key_values
        assert max_abs_diff(out.logits[:, 0], full[:, t]) <= 1e-5


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(smollm2_path, dtype=torch.float32).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(smollm2_path, padding_side="left")
    return kerasformers.TFAutoModelForCausalLM.from_pretrained(smollm2_path), torch_model, tokenizer


PROMPTS = [
    "TensorFlow is",
    "The capital of France is",
    "Write a short poem about the sea and the wind that blows over",
    "Keras 3 runs on several backends; the one we use here",
]


def test_smollm2_logits_match_pytorch(smollm2):
    model, torch_model, tokenizer = smollm2
    inputs = dict(tokenizer(PROMPTS, return_tensors="np", padding=True))
    ours = np.asarray(model(inputs).logits)
    theirs = torch_outputs(torch_model, inputs).logits.numpy()
    real = inputs["attention_mask"].astype(bool)
    assert max_abs_diff(ours[real], theirs[real]) <= 1e-3
