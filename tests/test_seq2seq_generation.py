"""Seq2seq generate() (one XLA program: encoder once, decoder loop with a static cache) vs transformers' generate().

Tiny random T5 checkpoints (v1.0 tied; v1.1 gated-GELU untied), token-identical outputs for greedy and
beam search with padding, plus the generation options an encoder-decoder model uses.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers

from kerasformers.models.t5 import TFT5ForConditionalGeneration

TINY = dict(
    vocab_size=99,
    d_model=32,
    d_kv=8,
    d_ff=37,
    num_layers=2,
    num_heads=4,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=20,
    decoder_start_token_id=0,
)
BEAM = dict(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, early_stopping=True)


def _checkpoint(tmp_path_factory, name, **config):
    torch.manual_seed(0)
    model = transformers.T5ForConditionalGeneration(transformers.T5Config(**TINY, **config)).eval()
    if not model.config.tie_word_embeddings or config.get("tie_word_embeddings") is False:
        model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight) * 0.05)
        model.config.tie_word_embeddings = False
    folder = tmp_path_factory.mktemp(name)
    model.save_pretrained(folder)
    model = transformers.T5ForConditionalGeneration.from_pretrained(folder).eval()
    return folder, model, TFT5ForConditionalGeneration.from_pretrained(folder)


@pytest.fixture(scope="module")
def t5_v10(tmp_path_factory):
    return _checkpoint(tmp_path_factory, "t5_v10")


@pytest.fixture(scope="module")
def t5_v11(tmp_path_factory):
    return _checkpoint(tmp_path_factory, "t5_v11", feed_forward_proj="gated-gelu", tie_word_embeddings=False)


def _sources(batch):
    """Prompts of different lengths, right-padded with pad id 0 as the T5 tokenizer pads."""
    rng = np.random.RandomState(batch)
    ids = rng.randint(3, 99, (batch, 9))
    mask = np.ones_like(ids)
    if batch > 1:
        mask[1, 6:] = 0
        mask[2, 3:] = 0
    ids[mask == 0] = 0
    return ids, mask


def _same_as_transformers(ours, theirs, ids, mask, **kwargs):
    mine = ours.generate(input_ids=ids, attention_mask=mask, **kwargs)
    assert isinstance(mine, tf.Tensor) and mine.dtype == tf.int32
    with torch.no_grad():
        expected = theirs.generate(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), **kwargs).numpy()
    np.testing.assert_array_equal(mine.numpy(), expected)
    return mine.numpy()


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_t5_generate_token_identical(t5_v10, batch, strategy):
    _, theirs, ours = t5_v10
    ids, mask = _sources(batch)
    options = BEAM if strategy == "beam" else {}
    out = _same_as_transformers(ours, theirs, ids, mask, max_new_tokens=12, **options)
    assert (out[:, 0] == 0).all()  # every row starts with decoder_start_token_id


@pytest.mark.slow  # ~20-40 s of XLA compilation on a loaded 2-core machine
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_t5_v11_untied_generate_token_identical(t5_v11, strategy):
    _, theirs, ours = t5_v11
    ids, mask = _sources(4)
    _same_as_transformers(ours, theirs, ids, mask, max_new_tokens=10, **(BEAM if strategy == "beam" else {}))


@pytest.mark.slow  # ~20-40 s of XLA compilation on a loaded 2-core machine
def test_length_and_forced_token_options(t5_v10):
    """min_new_tokens, forced_bos/eos_token_id and a custom decoder_start_token_id, with num_return_sequences."""
    _, theirs, ours = t5_v10
    ids, mask = _sources(4)
    out = _same_as_transformers(
        ours,
        theirs,
        ids,
        mask,
        max_new_tokens=9,
        min_new_tokens=6,
        forced_bos_token_id=5,
        forced_eos_token_id=1,
        decoder_start_token_id=7,
        num_beams=2,
        num_return_sequences=2,
    )
    assert (out[:, 0] == 7).all() and (out[:, 1] == 5).all()


@pytest.mark.slow  # ~20-40 s of XLA compilation on a loaded 2-core machine
def test_sampling_runs_with_seed_and_top_k_1_is_greedy(t5_v10):
    _, _, ours = t5_v10
    ids, mask = _sources(4)
    greedy = ours.generate(input_ids=ids, attention_mask=mask, max_new_tokens=8).numpy()
    top1 = ours.generate(input_ids=ids, attention_mask=mask, max_new_tokens=8, do_sample=True, top_k=1, seed=(1, 2))
    np.testing.assert_array_equal(top1.numpy(), greedy)
    sampled = [
        ours.generate(input_ids=ids, attention_mask=mask, max_new_tokens=8, do_sample=True, top_k=0, seed=(3, 4))
        for _ in range(2)
    ]
    np.testing.assert_array_equal(sampled[0].numpy(), sampled[1].numpy())  # the seed makes it repeatable
    assert sampled[0].shape[0] == 4 and (sampled[0].numpy()[:, 0] == 0).all()


@pytest.mark.slow  # ~20-40 s of XLA compilation on a loaded 2-core machine
def test_generation_config_json_and_encoder_outputs(t5_v10, tmp_path):
    """generation_config.json in the checkpoint sets the defaults, as transformers reads it; encoder_outputs
    passed in give the same tokens as input_ids."""
    folder, theirs, ours = t5_v10
    saved = tmp_path / "with_generation_config"
    theirs.save_pretrained(saved)
    settings = {"decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0, "max_new_tokens": 7, **BEAM}
    (saved / "generation_config.json").write_text(json.dumps(settings))
    reloaded = TFT5ForConditionalGeneration.from_pretrained(saved)
    their_reloaded = transformers.T5ForConditionalGeneration.from_pretrained(saved).eval()
    assert reloaded.generation_config.num_beams == 4
    ids, mask = _sources(4)
    out = _same_as_transformers(reloaded, their_reloaded, ids, mask)
    encoder_outputs = reloaded.get_encoder()(tf.constant(ids), attention_mask=tf.constant(mask))
    again = reloaded.generate(encoder_outputs=encoder_outputs, attention_mask=mask)
    np.testing.assert_array_equal(again.numpy(), out)


def test_generate_is_one_compiled_program_per_shape(t5_v10):
    """The whole generate (encoder + decoder loop) is one tf.function(jit_compile=True) reused across calls."""
    _, _, ours = t5_v10
    ids, mask = _sources(4)
    ours.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12)
    loops = [f for key, f in ours._compiled_generate_functions().items() if key[0] == "seq2seq"]
    assert loops and all(isinstance(f, tf.types.experimental.PolymorphicFunction) for f in loops)
    assert all(f._jit_compile for f in loops)
    count = len(loops)
    shorter = ids[:, :7], mask[:, :7]  # another source length in the same bucket: no new program
    ours.generate(input_ids=shorter[0], attention_mask=shorter[1], max_new_tokens=12)
    assert len([k for k in ours._compiled_generate_functions() if k[0] == "seq2seq"]) == count
