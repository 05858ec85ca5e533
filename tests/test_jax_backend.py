"""The models on Keras' JAX backend (issue 20), checked in a subprocess with KERAS_BACKEND=jax.

The backend is fixed when Keras is first imported, so the JAX side runs in its own process
(tests/jax_worker.py, or a pytest session over the architecture test files); this process
stays on TensorFlow and never imports jax. Expected values are PyTorch transformers' on the
same weights and inputs, computed in the worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from model_tester import ATOL

TESTS = Path(__file__).parent
ENV = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_worker(folder, *checks) -> dict:
    result = subprocess.run(
        [sys.executable, str(TESTS / "jax_worker.py"), str(folder), *checks],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("JAX_WORKER_REPORT "))
    return json.loads(line.split(" ", 1)[1])


@pytest.fixture(scope="module")
def jax_report(tmp_path_factory):
    return run_worker(tmp_path_factory.mktemp("jax-worker"), "forward", "fit", "generate", "save")


def test_worker_ran_on_jax(jax_report):
    assert jax_report["backend"] == "jax"
    for case in jax_report["forward"].values():
        assert case["array_type"].startswith("jax")  # outputs are JAX arrays, not TF tensors


def test_encoder_outputs_match_pytorch_on_jax(jax_report):
    assert set(jax_report["forward"]) == {
        "TFBertForSequenceClassification",
        "TFRobertaForMaskedLM",
        "TFDistilBertForQuestionAnswering",
    }
    for head, case in jax_report["forward"].items():
        assert case["diffs"], head
        for key, diff in case["diffs"].items():
            assert diff <= ATOL, (head, key, diff)


def test_default_losses_match_pytorch_on_jax(jax_report):
    for head, case in jax_report["forward"].items():
        assert abs(case["loss"] - case["torch_loss"]) <= ATOL, (head, case["loss"], case["torch_loss"])


def test_jit_fit_lowers_the_default_loss_on_jax(jax_report):
    fit = jax_report["fit"]
    assert fit["jit_compile"]
    assert abs(fit["evaluate_before"] - fit["loss_before"]) <= ATOL  # evaluate() uses the model's own loss
    assert len(fit["history"]) == 4 and fit["loss_after"] < fit["loss_before"]
    assert fit["predict_matches_call"] <= ATOL


def test_greedy_generate_matches_transformers_on_jax(jax_report):
    """jax_greedy_generate (a jax.lax.while_loop over the static cache) gives transformers' tokens."""
    assert set(jax_report["generate"]) == {"TFLlamaForCausalLM", "TFGPT2LMHeadModel"}
    for head, case in jax_report["generate"].items():
        assert case["ours"] == case["theirs"], head


def test_beam_search_on_jax_matches_transformers_and_the_tensorflow_backend(jax_report):
    """Beam search (length_penalty, early_stopping, num_return_sequences) on JAX gives transformers'
    tokens, and this (TensorFlow) process's generate() on the same weights gives them too."""
    import numpy as np

    import kerasformers

    for head, case in jax_report["generate"].items():
        assert case["beam"] == case["beam_theirs"], head
    case = jax_report["generate"]["TFLlamaForCausalLM"]
    model = kerasformers.TFLlamaForCausalLM.from_pretrained(case["path"])
    ids = np.array(case["ids"])
    mask = np.ones_like(ids)
    mask[1, :2] = 0  # as the worker padded it
    settings = {"num_beams": 3, "num_return_sequences": 2, "length_penalty": 0.7}
    on_tensorflow = model.generate(ids, attention_mask=mask, max_new_tokens=6, **settings).numpy().tolist()
    assert on_tensorflow == case["beam"]


def test_logits_processors_on_jax_match_transformers(jax_report):
    """repetition_penalty and min_new_tokens run as jnp ops inside the JAX loop: transformers' tokens."""
    case = jax_report["generate"]["TFGPT2LMHeadModel"]
    assert case["processors"] == case["processors_theirs"]


def test_sampling_on_jax_is_seeded_and_stays_inside_top_k_top_p(jax_report):
    """Sampling on JAX: top_k=1 is greedy; a seed repeats its tokens, another seed does not; every
    sampled token lies inside the top-k / top-p set of transformers' warpers on PyTorch's logits."""
    case = jax_report["generate"]["TFLlamaForCausalLM"]
    assert case["top1_equals_greedy"]
    assert case["sample_same_seed_same_tokens"] and case["sample_other_seed_differs"] and case["sample_rows_differ"]
    assert case["sample_inside_top_k_top_p"] and all(case["sample_inside_top_k_top_p"])
    assert case["seed_generator_runs"]  # seed=keras.random.SeedGenerator(...) is accepted


def test_save_pretrained_on_jax_loads_in_pytorch_and_saved_model_is_refused(jax_report):
    save = jax_report["save"]
    assert save["ours_vs_torch"] <= ATOL and save["reloaded_vs_torch"] <= ATOL
    refusal = save["saved_model_refusal"]
    assert refusal and "KERAS_BACKEND=jax" in refusal and "KERAS_BACKEND=tensorflow" in refusal
    assert not save["saved_model_folder_written"]  # refused before anything is written


def test_tensorflow_only_pieces_say_so_on_jax(jax_report):
    """In-graph tokenizers, SavedModel and LiteRT exports on JAX: one NotSupportedError each that names
    the backend and the fix, raised before anything is written."""
    save = jax_report["save"]
    for name, refusal in save["tensorflow_only_refusals"].items():
        assert refusal and "KERAS_BACKEND=jax" in refusal and "KERAS_BACKEND=tensorflow" in refusal, name
    assert "AutoTokenizer" in save["tensorflow_only_refusals"]["in_graph_tokenizer"]
    assert save["tensorflow_only_written"] == []


@pytest.fixture(scope="module")
def slow_jax_report(tmp_path_factory):
    return run_worker(tmp_path_factory.mktemp("jax-worker-slow"), "seq2seq", "tf_data")


@pytest.mark.slow
def test_seq2seq_generate_on_jax_matches_transformers(slow_jax_report):
    """Encoder-decoder generate() on JAX (the encoder once, the decoder in a jax.lax.while_loop): greedy
    on tiny T5, beams with num_return_sequences on tiny BART, right-padded sources: transformers' tokens."""
    report = slow_jax_report
    assert set(report["seq2seq"]) == {"TFT5ForConditionalGeneration", "TFBartForConditionalGeneration"}
    for head, case in report["seq2seq"].items():
        assert case["ours"] == case["theirs"], head
        assert any(token not in (0, 1, 2) for row in case["ours"] for token in row[1:]), head  # not only specials


@pytest.mark.slow
def test_prepare_tf_dataset_feeds_fit_on_jax(slow_jax_report):
    """tf.data works on JAX as Keras allows: model.prepare_tf_dataset's batches train under fit()."""
    tf_data = slow_jax_report["tf_data"]
    assert tf_data["dataset_type"].startswith("tensorflow")
    assert len(tf_data["history"]) == 4 and tf_data["history"][-1] < tf_data["history"][0]


# Every head of every architecture below, through the common mixin's numeric checks, on JAX.
MIXIN_FILES = [
    "test_modeling_bert.py",
    "test_modeling_roberta.py",
    "test_modeling_distilbert.py",
    "test_gpt2.py",
    "test_llama.py",
]


# Encoder-decoder, vision and speech families: outputs and default losses of every head, on JAX.
NEWER_FILES = [
    "test_modeling_t5.py",
    "test_modeling_bart.py",
    "test_modeling_marian.py",
    "test_modeling_vit.py",
    "test_modeling_clip.py",
    "test_modeling_whisper.py",
]
NUMERICS = "test_matches_pytorch or test_default_loss_matches_pytorch"
# ViT + GPT-2 composed: every output and loss, and GPT-2's cross-attention, against PyTorch
VISION_ENCODER_DECODER = "test_every_output_and_loss_match_pytorch or test_gpt2_cross_attention_matches_pytorch"


@pytest.mark.slow
@pytest.mark.parametrize(
    "test_file, selection",
    [(f, f"{NUMERICS} or test_fit_with_default_loss") for f in MIXIN_FILES]
    + [(f, NUMERICS) for f in NEWER_FILES]
    + [("test_vision_encoder_decoder.py", VISION_ENCODER_DECODER)],
)
def test_common_mixin_numerics_on_jax(test_file, selection):
    """The common mixin's checks under JAX: every head's outputs and default loss (and fit(), eager and jit)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS / test_file), "-k", selection],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert " passed" in result.stdout.splitlines()[-1]
