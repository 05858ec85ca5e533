"""generate() and its pieces against PyTorch transformers: processors, greedy, beam, sampling, buckets.

Tiny random Llama checkpoints keep XLA compilation short; SmolLM2 tests live in test_llama.py
style at the bottom (real checkpoint, left-padded batches of four prompts).
"""

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from transformers.generation import logits_process as hf

import kerasformers
from kerasformers.generation import TokenCollector, prompt_bucket
from kerasformers.generation import logits_process as kf
from kerasformers.generation.decoding import new_tokens_bucket

TINY = dict(
    vocab_size=99,
    hidden_size=32,
    intermediate_size=37,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=128,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
)


# ---------------------------------------------------------------------------- processors
def _case(seed=0, batch=3, length=9, vocab=40):
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, vocab, (batch, length))
    if length >= 8:
        ids[0, -4:] = ids[0, 1:5]  # a repeated n-gram, so n-gram bans have something to ban
    scores = rng.randn(batch, vocab).astype(np.float32) * 3
    scores[1, 5] = scores[1, 6]  # a tie
    return ids, scores


PROCESSORS = [
    (lambda: hf.RepetitionPenaltyLogitsProcessor(1.5), lambda: kf.RepetitionPenaltyLogitsProcessor(1.5)),
    (lambda: hf.RepetitionPenaltyLogitsProcessor(0.7), lambda: kf.RepetitionPenaltyLogitsProcessor(0.7)),
    (lambda: hf.NoRepeatNGramLogitsProcessor(2), lambda: kf.NoRepeatNGramLogitsProcessor(2)),
    (lambda: hf.NoRepeatNGramLogitsProcessor(3), lambda: kf.NoRepeatNGramLogitsProcessor(3)),
    (lambda: hf.NoRepeatNGramLogitsProcessor(1), lambda: kf.NoRepeatNGramLogitsProcessor(1)),
    (lambda: hf.MinLengthLogitsProcessor(12, [3, 4]), lambda: kf.MinLengthLogitsProcessor(12, [3, 4])),
    (lambda: hf.MinLengthLogitsProcessor(5, 3), lambda: kf.MinLengthLogitsProcessor(5, 3)),
    (lambda: hf.MinNewTokensLengthLogitsProcessor(7, 3, 4), lambda: kf.MinNewTokensLengthLogitsProcessor(7, 3, 4)),
    (
        lambda: hf.NoBadWordsLogitsProcessor([[5], [1, 2, 7], [9, 11]], eos_token_id=3),
        lambda: kf.NoBadWordsLogitsProcessor([[5], [1, 2, 7], [9, 11]], eos_token_id=3),
    ),
    (lambda: hf.ForcedBOSTokenLogitsProcessor(1), lambda: kf.ForcedBOSTokenLogitsProcessor(1)),
    (lambda: hf.ForcedEOSTokenLogitsProcessor(10, [3, 4]), lambda: kf.ForcedEOSTokenLogitsProcessor(10, [3, 4])),
    (lambda: hf.TemperatureLogitsWarper(0.7), lambda: kf.TemperatureLogitsWarper(0.7)),
    (lambda: hf.TopKLogitsWarper(5), lambda: kf.TopKLogitsWarper(5)),
    (lambda: hf.TopPLogitsWarper(0.8), lambda: kf.TopPLogitsWarper(0.8)),
    (lambda: hf.TopPLogitsWarper(0.3, min_tokens_to_keep=3), lambda: kf.TopPLogitsWarper(0.3, min_tokens_to_keep=3)),
    (lambda: hf.MinPLogitsWarper(0.1), lambda: kf.MinPLogitsWarper(0.1)),
    (lambda: hf.MinPLogitsWarper(0.5, min_tokens_to_keep=2), lambda: kf.MinPLogitsWarper(0.5, min_tokens_to_keep=2)),
]


@pytest.mark.parametrize("make_theirs, make_ours", PROCESSORS)
@pytest.mark.parametrize("length", [1, 9])
def test_processor_matches_transformers(make_theirs, make_ours, length):
    ids, scores = _case(length=length)
    theirs = make_theirs()(torch.tensor(ids), torch.tensor(scores)).numpy()
    ours = make_ours()(tf.constant(ids, tf.int32), tf.constant(scores)).numpy()
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-6, atol=1e-6)


def test_processors_see_only_the_written_columns_of_a_static_buffer():
    """Inside generate() the ids sit in a wider buffer behind bucket padding; results must not change."""
    ids, scores = _case()
    buffer = np.concatenate([np.full((3, 5), 7), ids, np.full((3, 4), 9)], axis=1)
    context = kf.DecodeContext(
        length=tf.constant(14), offset=tf.constant(5), first_token=tf.constant([5, 5, 5]), prompt_length=tf.constant(9)
    )
    for make_theirs, make_ours in PROCESSORS:
        theirs = make_theirs()(torch.tensor(ids), torch.tensor(scores)).numpy()
        ours = make_ours()(tf.constant(buffer, tf.int32), tf.constant(scores), context).numpy()
        np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))


def test_prompt_bucket_is_the_next_power_of_two_from_16():
    assert [prompt_bucket(n) for n in (1, 16, 17, 33, 200)] == [16, 16, 32, 64, 256]


# ---------------------------------------------------------------------------- tiny model generate
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_llama")
    torch.manual_seed(0)
    torch_model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**TINY)).eval()
    torch_model.save_pretrained(folder)
    return kerasformers.TFAutoModelForCausalLM.from_pretrained(folder), torch_model


def _prompts(seed=0):
    rng = np.random.RandomState(seed)
    ids = rng.randint(3, 99, (3, 7))
    mask = np.ones_like(ids)
    mask[1, :3] = 0
    mask[2, :5] = 0
    ids[mask == 0] = 0
    return ids, mask


def _torch_generate(torch_model, ids, mask, **kwargs):
    with torch.no_grad():
        return torch_model.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), **kwargs).numpy()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(max_new_tokens=8),
        dict(max_new_tokens=8, num_beams=3, num_return_sequences=2),
        dict(
            max_new_tokens=8,
            repetition_penalty=1.5,
            no_repeat_ngram_size=2,
            min_new_tokens=3,
            bad_words_ids=[[5], [7, 8]],
            eos_token_id=[4, 12],
        ),
        dict(
            max_new_tokens=6,
            num_beams=2,
            length_penalty=0.5,
            early_stopping=True,
            eos_token_id=4,
            forced_eos_token_id=4,
        ),
    ],
    ids=["greedy", "beam", "processors", "beam_early_stopping"],
)
def test_generate_matches_transformers(tiny, kwargs):
    model, torch_model = tiny
    ids, mask = _prompts()
    theirs = _torch_generate(torch_model, ids, mask, do_sample=False, **kwargs)
    ours = model.generate(ids, attention_mask=mask, **kwargs)
    np.testing.assert_array_equal(ours, theirs)


def test_eager_fallback_and_streaming_match_compiled(tiny):
    model, _ = tiny
    ids, mask = _prompts()
    compiled = model.generate(ids, attention_mask=mask, max_new_tokens=5)
    np.testing.assert_array_equal(
        model.generate(ids, attention_mask=mask, max_new_tokens=5, jit_compile=False), compiled
    )
    collector = TokenCollector()
    streamed = model.generate(ids[:1], attention_mask=mask[:1], max_new_tokens=5, streamer=collector)
    np.testing.assert_array_equal(streamed, compiled[:1])
    assert collector.ended and len(collector.chunks) == 1 + 5
    np.testing.assert_array_equal(np.concatenate([c.reshape(1, -1) for c in collector.chunks], axis=1), streamed)


def test_one_compiled_program_per_bucket(tiny):
    """Prompt lengths within one bucket reuse one program; the count is bounded by the bucket count."""
    model, _ = tiny
    model._compiled_generate_functions().clear()
    rng = np.random.RandomState(3)
    for length in (2, 5, 11, 16):  # all in bucket 16
        model.generate(rng.randint(3, 99, (2, length)), max_new_tokens=3)
    assert len(model._compiled_generate_functions()) == 1
    (function,) = model._compiled_generate_functions().values()
    assert function.experimental_get_tracing_count() == 1

    # and one XLA program: the prompt length is an input of it, not a constant XLA compiles per value
    def program(length):
        ids = tf.constant(rng.randint(3, 99, (2, 16)), tf.int32)
        mask = tf.constant((np.arange(16) >= 16 - length)[None].repeat(2, 0), tf.int32)
        hlo = function.experimental_get_compiler_ir(ids, mask, tf.constant(length), tf.constant([0, 0]), tf.constant(3))
        return hlo(stage="hlo").split("\n", 1)[1]  # without the module's name line

    assert program(2) == program(11)
    model.generate(rng.randint(3, 99, (2, 17)), max_new_tokens=3)  # bucket 32
    assert len(model._compiled_generate_functions()) == 2


def test_new_tokens_bucket_is_the_next_power_of_two_from_16_then_multiples_of_512():
    assert [new_tokens_bucket(n) for n in (1, 16, 17, 100, 512, 513, 1100)] == [16, 16, 32, 128, 512, 1024, 1536]
    assert new_tokens_bucket(20, limit=24) == 24 and new_tokens_bucket(20, limit=10) == 32  # capped, never below


@pytest.mark.parametrize(
    "kwargs, lengths",
    [(dict(), (3, 9, 16)), (dict(num_beams=2, length_penalty=0.5, eos_token_id=4, forced_eos_token_id=4), (4, 6))],
    ids=["greedy", "beam_forced_eos"],
)
def test_max_new_tokens_of_one_bucket_share_one_program(tiny, kwargs, lengths):
    """max_new_tokens is an input of the compiled loop: one program per bucket, tokens as PyTorch's for each."""
    model, torch_model = tiny
    model._compiled_generate_functions().clear()
    ids, mask = _prompts()
    for new in lengths:  # forced_eos_token_id depends on max_length: the loop must see the call's own
        theirs = _torch_generate(torch_model, ids, mask, do_sample=False, max_new_tokens=new, **kwargs)
        np.testing.assert_array_equal(model.generate(ids, attention_mask=mask, max_new_tokens=new, **kwargs), theirs)
    (function,) = model._compiled_generate_functions().values()
    assert function.experimental_get_tracing_count() == 1


def test_seeded_sampling_repeats_and_seeds_differ(tiny):
    model, _ = tiny
    ids, mask = _prompts()
    kwargs = dict(attention_mask=mask, max_new_tokens=12, do_sample=True, temperature=1.5, top_k=0)
    first = model.generate(ids, seed=(42, 0), **kwargs)
    np.testing.assert_array_equal(model.generate(ids, seed=(42, 0), **kwargs), first)
    assert not np.array_equal(model.generate(ids, seed=(43, 0), **kwargs), first)
    # top_k=1 leaves one candidate: sampling then equals greedy
    greedy = model.generate(ids, attention_mask=mask, max_new_tokens=12)
    np.testing.assert_array_equal(
        model.generate(ids, attention_mask=mask, max_new_tokens=12, do_sample=True, top_k=1, seed=(1, 2)), greedy
    )


def test_sampled_tokens_follow_the_warped_distribution():
    """Gumbel-max sampling from logits reproduces softmax(logits) frequencies."""
    from kerasformers.generation import choose_tokens

    logits = tf.constant(np.log([[0.5, 0.3, 0.2, 1e-9]]), tf.float32)
    draws = [int(choose_tokens(logits, True, tf.constant([7, 7]), tf.constant(step))[0]) for step in range(2000)]
    frequencies = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(frequencies, [0.5, 0.3, 0.2, 0.0], atol=0.04)


def test_decode_settings_are_frozen_hashable_and_normalised():
    import dataclasses

    from kerasformers.generation import DecodeSettings, GenerationConfig

    config = GenerationConfig(max_new_tokens=4, eos_token_id=[2, 4], bad_words_ids=[[5], [7, 8]], temperature=0.3)
    settings = DecodeSettings.resolve(config, prompt_length=7)
    assert (settings.strategy, settings.bucket, settings.max_new_tokens) == ("greedy", 16, 4)
    assert settings.eos_token_ids == (2, 4) and settings.pad_token_id == 2  # pad falls back to eos[0]
    assert settings.bad_words_ids == ((5,), (7, 8))  # lists frozen, so the settings hash
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_new_tokens = 5
    # greedy ignores the sampling warpers: settings that make the same loop are equal (one cache key)
    same = DecodeSettings.resolve(config.update(temperature=0.9), prompt_length=9)
    assert same == settings and hash(same) == hash(settings)
    sampled = DecodeSettings.resolve(config.update(do_sample=True, num_return_sequences=3), prompt_length=7)
    assert (sampled.strategy, sampled.rows, sampled.temperature) == ("sample", 3, 0.3) and sampled != settings
    beam = DecodeSettings.resolve(config.update(num_beams=3, max_new_tokens=None, max_length=20), prompt_length=17)
    assert (beam.strategy, beam.rows, beam.bucket, beam.max_new_tokens) == ("beam", 3, 32, 3)
    assert dataclasses.replace(beam, bucket=64).bucket == 64


def test_generate_resolves_settings_once_and_runs_build_decode_loop(tiny, monkeypatch):
    from kerasformers.generation import decoding, utils

    model, _ = tiny
    model._compiled_generate_functions().clear()
    resolved, built = [], []
    real_resolve, real_build = decoding.DecodeSettings.resolve.__func__, decoding.build_decode_loop

    def resolve(cls, *args, **kwargs):
        resolved.append(real_resolve(cls, *args, **kwargs))
        return resolved[-1]

    def build(*args, **kwargs):
        built.append(args[1])
        return real_build(*args, **kwargs)

    monkeypatch.setattr(decoding.DecodeSettings, "resolve", classmethod(resolve))
    monkeypatch.setattr(utils, "build_decode_loop", build)
    ids, mask = _prompts()
    model.generate(ids, attention_mask=mask, max_new_tokens=3, num_beams=2)
    # one resolution, handed to the one builder (for its max_new_tokens bucket)
    assert len(resolved) == 1 and built == [model._bucketed_settings(resolved[0])]
    assert not [name for name in dir(model) if name.startswith("_gen_")]  # no private loop API left


def test_build_decode_loop_with_a_dynamic_batch_matches_generate(tiny):
    """Called as the export calls it (batch left dynamic, new columns sliced off): generate()'s tokens."""
    from kerasformers.generation import DecodeSettings, build_decode_loop

    model, _ = tiny
    ids, mask = _prompts()
    expected = model.generate(ids, attention_mask=mask, max_new_tokens=6, do_sample=True, seed=(3, 4), top_k=5)
    settings = DecodeSettings.resolve(
        model.generation_config.update(max_new_tokens=6, do_sample=True, top_k=5), prompt_length=ids.shape[1]
    )
    loop = build_decode_loop(model, settings)  # batch_size=None
    extra = settings.bucket - ids.shape[1]
    padded = np.concatenate([np.full((3, extra), settings.pad_token_id), ids], axis=1).astype(np.int32)
    padded_mask = np.concatenate([np.zeros((3, extra)), mask], axis=1).astype(np.int32)
    sequences, steps = loop(
        tf.constant(padded), tf.constant(padded_mask), tf.constant(ids.shape[1]), tf.constant([3, 4])
    )
    assert loop.get_concrete_function().structured_input_signature[0][0].shape.as_list() == [None, settings.bucket]
    np.testing.assert_array_equal(np.asarray(sequences)[:, extra : ids.shape[1] + extra + int(steps)], expected)


def test_text_generation_export_builds_its_loops_with_build_decode_loop(tiny, tmp_path, monkeypatch):
    """The export resolves generate()'s DecodeSettings and hands them, per bucket, to the same builder."""
    import dataclasses

    import kerasformers.generation as generation
    from kerasformers.serving.text_generation import export_text_generation

    model, _ = tiny
    calls = []

    class Built(Exception):
        pass

    def spy(model_, settings, *args, **kwargs):
        calls.append((model_, settings))
        raise Built  # the call is all this test needs; no SavedModel gets written

    class Tokenizer:
        def detokenize(self, ids):
            return ids

    monkeypatch.setattr(generation, "build_decode_loop", spy)
    with pytest.raises(Built):
        export_text_generation(
            model,
            tmp_path / "export",
            tokenizer=Tokenizer(),
            max_new_tokens=5,
            max_prompt_length=40,
            do_sample=True,
            top_p=0.8,
        )
    ((used, settings),) = calls
    config = model.generation_config.update(max_new_tokens=5, do_sample=True, top_p=0.8)
    assert used is model
    assert settings == dataclasses.replace(generation.DecodeSettings.resolve(config, prompt_length=3), bucket=16)


def test_streamed_sampling_takes_the_compiled_loops_tokens(tiny):
    """Streaming and the compiled loop share one token step, so a seeded sample streams identically."""
    model, _ = tiny
    ids, mask = _prompts()
    kwargs = dict(attention_mask=mask, max_new_tokens=6, do_sample=True, temperature=1.3, seed=(5, 6))
    compiled = model.generate(ids, **kwargs)
    np.testing.assert_array_equal(model.generate(ids, streamer=TokenCollector(), **kwargs), compiled)


def test_generation_config_from_checkpoint_and_overrides(tiny, tmp_path):
    from kerasformers.generation import GenerationConfig

    GenerationConfig(eos_token_id=[2, 4], max_length=30).save_pretrained(tmp_path)
    config = GenerationConfig.from_pretrained(tmp_path)
    assert config.eos_token_ids == [2, 4] and config.max_length == 30
    assert config.update(max_length=5).max_length == 5 and config.max_length == 30
    model, _ = tiny
    model.save_pretrained(tmp_path / "saved")
    assert GenerationConfig.from_pretrained(tmp_path / "saved").eos_token_ids == [2]
    with pytest.raises(NotImplementedError, match="typical_p"):
        GenerationConfig(typical_p=0.5).validate()


# ---------------------------------------------------------------------------- SmolLM2-135M-Instruct
PROMPTS = [
    "TensorFlow is",
    "The capital of France is",
    "Write a short poem about the sea and the wind that blows over",
    "Keras 3 runs on several backends; the one we use here",
]


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(smollm2_path, dtype=torch.float32).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(smollm2_path, padding_side="left")
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(smollm2_path)
    return model, torch_model, dict(tokenizer(PROMPTS, return_tensors="np", padding=True))


@pytest.mark.slow
def test_smollm2_greedy_64_tokens_left_padded_batch_matches_transformers(smollm2):
    model, torch_model, inputs = smollm2
    assert inputs["attention_mask"].min() == 0  # the batch really is left-padded
    theirs = _torch_generate(
        torch_model, inputs["input_ids"], inputs["attention_mask"], max_new_tokens=64, do_sample=False
    )
    ours = model.generate(**inputs, max_new_tokens=64)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.slow
def test_smollm2_beam_search_matches_transformers(smollm2):
    model, torch_model, inputs = smollm2
    kwargs = dict(max_new_tokens=16, num_beams=4, num_return_sequences=2, no_repeat_ngram_size=3)
    theirs = _torch_generate(torch_model, inputs["input_ids"], inputs["attention_mask"], do_sample=False, **kwargs)
    np.testing.assert_array_equal(model.generate(**inputs, **kwargs), theirs)
