"""The default inference path: model(batch) and model.predict(batch) after the first calls.

A shape seen before runs XLA-compiled; masked encoders (BERT, RoBERTa, DistilBERT) pad the
sequence to a length bucket first and cut the outputs back. Whatever path a call takes, the
user sees the same outputs: the same class, shapes, hidden states and attention maps,
within 1e-5 of PyTorch transformers (CONTRIBUTING.md: tiny random configs).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers
from model_tester import ATOL, compare_outputs, torch_outputs
from tiny_configs import BERT_KWARGS

import kerasformers

TINY = dict(BERT_KWARGS, num_labels=3)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """(folder, PyTorch model) per head, saved by PyTorch transformers with eager attention."""
    made = {}
    for ours, theirs, config in (
        ("TFBertModel", "BertModel", transformers.BertConfig(**TINY)),
        (
            "TFBertForQuestionAnswering",
            "BertForQuestionAnswering",
            transformers.BertConfig(**{**TINY, "num_labels": 2}),
        ),
        ("TFBertForMultipleChoice", "BertForMultipleChoice", transformers.BertConfig(**TINY)),
        ("TFRobertaForTokenClassification", "RobertaForTokenClassification", transformers.RobertaConfig(**TINY)),
    ):
        torch.manual_seed(0)
        model = getattr(transformers, theirs)(config).eval()
        model.set_attn_implementation("eager")
        folder = tmp_path_factory.mktemp(theirs)
        model.save_pretrained(folder)
        made[ours] = (folder, model)
    return made


def inputs_of(length, batch=2, seed=0, pad_id=0):
    rng = np.random.RandomState(seed)
    ids = rng.randint(3, TINY["vocab_size"], (batch, length)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, length // 2 :] = 0  # a padded row, as a tokenizer pads
    ids[mask == 0] = pad_id
    return {"input_ids": ids, "attention_mask": mask}


def xla_shapes(model):
    """The input shapes the model has XLA programs for (main input of each)."""
    return [signature[1][0] for signature in model._kf_inference_graph["xla_shapes"]]


def call_three_times(model, inputs, **kwargs):
    """Eager (the reference), then the generic graph, then XLA: the outputs of each."""
    model.inference_graph = False
    eager = model(inputs, **kwargs)
    model.inference_graph = True
    model._kf_inference_graph["eager_calls"] = model._EAGER_CALLS_BEFORE_GRAPH
    return eager, model(inputs, **kwargs), model(inputs, **kwargs)


@pytest.mark.parametrize("length", [9, 20])  # bucketed to 16 and 32; exact shapes: the fully masked row below
def test_call_xla_and_bucketed_matches_eager_and_pytorch(checkpoints, length):
    folder, torch_model = checkpoints["TFBertModel"]
    model = kerasformers.TFBertModel.from_pretrained(folder)
    inputs = inputs_of(length)
    eager, graph, xla = call_three_times(model, inputs, output_hidden_states=True, output_attentions=True)
    bucket = model.inference_bucket_length(length)
    assert xla_shapes(model) == [(2, bucket)]  # the third call ran XLA on the padded shape
    theirs = torch_outputs(torch_model, inputs, output_hidden_states=True, output_attentions=True)
    for ours in (graph, xla):
        assert type(ours) is type(eager) and list(ours) == list(eager)
        assert ours.last_hidden_state.shape == (2, length, 32)
        assert [a.shape for a in ours.attentions] == [(2, 4, length, length)] * 2
        compare_outputs(ours, theirs)
        for a, b in zip(ours.hidden_states, eager.hidden_states):
            np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)


def test_predict_runs_the_same_bucketed_program(checkpoints):
    folder, torch_model = checkpoints["TFBertForQuestionAnswering"]
    model = kerasformers.TFBertForQuestionAnswering.from_pretrained(folder)
    inputs = inputs_of(11)
    first, second = model.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    assert xla_shapes(model) == [(2, 16)]
    theirs = torch_outputs(torch_model, inputs)
    for ours in (first, second):
        assert isinstance(ours, kerasformers.ModelOutput) and ours.start_logits is ours["start_logits"]
        assert ours["start_logits"].shape == (2, 11) and ours["end_logits"].shape == (2, 11)
        compare_outputs(ours, theirs, keys=["start_logits", "end_logits"])


def test_multiple_choice_pads_the_last_axis(checkpoints):
    folder, torch_model = checkpoints["TFBertForMultipleChoice"]
    model = kerasformers.TFBertForMultipleChoice.from_pretrained(folder)
    inputs = {k: np.stack([v, v[::-1]], axis=1) for k, v in inputs_of(7).items()}  # (2, 2 choices, 7)
    _, _, xla = call_three_times(model, inputs)
    assert xla_shapes(model) == [(2, 2, 16)]
    compare_outputs(xla, torch_outputs(torch_model, inputs), keys=["logits"])


def test_roberta_pads_with_its_pad_token_and_a_fully_masked_row_keeps_its_shape(checkpoints):
    folder, torch_model = checkpoints["TFRobertaForTokenClassification"]
    model = kerasformers.TFRobertaForTokenClassification.from_pretrained(folder)
    inputs = inputs_of(10, pad_id=1)  # RoBERTa's position ids count the non-pad tokens
    _, _, xla = call_three_times(model, inputs)
    assert xla_shapes(model) == [(2, 16)]
    compare_outputs(xla, torch_outputs(torch_model, inputs), keys=["logits"])
    # a row with no token to attend to averages over every position: padding would change it
    inputs["attention_mask"][1] = 0
    eager, _, xla = call_three_times(model, inputs)
    assert (2, 10) in xla_shapes(model)
    np.testing.assert_allclose(xla.logits, eager.logits, atol=ATOL, rtol=0)


def test_training_calls_stay_eager(checkpoints):
    folder, _ = checkpoints["TFBertModel"]
    model = kerasformers.TFBertModel.from_pretrained(folder)
    inputs = inputs_of(9)
    for _ in range(3):
        model(inputs, training=True)
    assert xla_shapes(model) == [] and model._kf_inference_graph["graphs"] == {}


def test_bucket_lengths():
    bucket = kerasformers.TFPreTrainedModel.inference_bucket_length
    assert [bucket(n) for n in (1, 16, 17, 128, 129, 256, 257, 512)] == [16, 16, 32, 128, 160, 256, 320, 512]


def test_resized_embeddings_drop_the_compiled_programs(checkpoints):
    folder, _ = checkpoints["TFBertModel"]
    model = kerasformers.TFBertModel.from_pretrained(folder)
    inputs = inputs_of(9)
    call_three_times(model, inputs)
    model.resize_token_embeddings(TINY["vocab_size"] + 5)  # new variables: programs holding the old must go
    inputs["input_ids"][0, 0] = TINY["vocab_size"] + 2  # a new row of the table
    eager, _, xla = call_three_times(model, inputs)
    assert xla_shapes(model) == [(2, 16)]
    np.testing.assert_allclose(xla.last_hidden_state, eager.last_hidden_state, atol=ATOL, rtol=0)
