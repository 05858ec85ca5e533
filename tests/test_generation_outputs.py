"""generate()'s return types and outputs against PyTorch transformers 5.23 on the same weights:
tf.Tensor results, return_dict_in_generate (scores, logits, sequences_scores, beam_indices),
stopping criteria and stop strings, TextIteratorStreamer, caller logits processors, kwargs checks.

Tiny random Llama and GPT-2 checkpoints; left-padded batches throughout.
"""

import logging
import threading

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from transformers.generation import logits_process as hf
from transformers.generation import stopping_criteria as hf_stop

import kerasformers
from kerasformers.errors import InvalidInputError, NotSupportedError

LLAMA = dict(
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
GPT2 = dict(
    vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64, pad_token_id=0, bos_token_id=1, eos_token_id=2
)


def _pair(folder, torch_model):
    torch_model.eval().save_pretrained(folder)
    return kerasformers.TFAutoModelForCausalLM.from_pretrained(folder), torch_model


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    torch.manual_seed(0)
    return _pair(tmp_path_factory.mktemp("llama"), transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA)))


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    torch.manual_seed(1)
    return _pair(tmp_path_factory.mktemp("gpt2"), transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT2)))


def _prompts(seed=0, batch=3, length=7):
    rng = np.random.RandomState(seed)
    ids = rng.randint(3, 99, (batch, length))
    mask = np.ones_like(ids)
    mask[1, :3] = 0
    mask[-1, :5] = 0
    ids[mask == 0] = 0
    return ids, mask


def _theirs(torch_model, ids, mask, **kwargs):
    with torch.no_grad():
        return torch_model.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), **kwargs)


def _assert_steps_close(ours, theirs):
    """Per-step (rows, vocab) tensors: same length, same -inf entries, finite ones within 1e-5."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), b.numpy()
        assert a.shape == b.shape
        np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
        finite = np.isfinite(b)
        np.testing.assert_allclose(a[finite], b[finite], atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------------ return types
def test_generate_returns_an_int32_tf_tensor_for_any_input_type(llama):
    model, torch_model = llama
    ids, mask = _prompts()
    expected = _theirs(torch_model, ids, mask, max_new_tokens=4, do_sample=False).numpy()
    for given in (ids, tf.constant(ids), ids.tolist()):
        out = model.generate(given, attention_mask=mask, max_new_tokens=4)
        assert isinstance(out, tf.Tensor) and out.dtype == tf.int32
        np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("family", ["llama", pytest.param("gpt2", marks=pytest.mark.slow)])
def test_greedy_scores_and_logits_match_transformers(family, request):
    model, torch_model = request.getfixturevalue(family)
    ids, mask = _prompts()
    kwargs = dict(max_new_tokens=6, repetition_penalty=1.4, no_repeat_ngram_size=2, min_new_tokens=2)
    kwargs.update(return_dict_in_generate=True, output_scores=True, output_logits=True)
    theirs = _theirs(torch_model, ids, mask, do_sample=False, **kwargs)
    ours = model.generate(ids, attention_mask=mask, **kwargs)
    assert isinstance(ours, kerasformers.TFGreedySearchDecoderOnlyOutput)
    assert isinstance(ours, kerasformers.GenerateDecoderOnlyOutput)
    assert isinstance(ours.sequences, tf.Tensor) and ours[0] is ours.sequences
    np.testing.assert_array_equal(ours.sequences.numpy(), theirs.sequences.numpy())
    _assert_steps_close(ours.scores, theirs.scores)
    _assert_steps_close(ours.logits, theirs.logits)
    assert ours.attentions is None and ours.hidden_states is None
    transition = model.compute_transition_scores(ours.sequences, ours.scores, normalize_logits=True)
    expected = torch_model.compute_transition_scores(theirs.sequences, theirs.scores, normalize_logits=True)
    assert isinstance(transition, tf.Tensor)
    np.testing.assert_allclose(transition.numpy(), expected.numpy(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", ["llama", pytest.param("gpt2", marks=pytest.mark.slow)])
def test_beam_outputs_match_transformers(family, request):
    model, torch_model = request.getfixturevalue(family)
    ids, mask = _prompts(seed=2)
    kwargs = dict(max_new_tokens=6, num_beams=3, num_return_sequences=2, length_penalty=0.7, eos_token_id=[2, 7])
    kwargs.update(return_dict_in_generate=True, output_scores=True, output_logits=True)
    theirs = _theirs(torch_model, ids, mask, do_sample=False, **kwargs)
    ours = model.generate(ids, attention_mask=mask, **kwargs)
    assert isinstance(ours, kerasformers.TFBeamSearchDecoderOnlyOutput)
    assert isinstance(ours, kerasformers.GenerateBeamDecoderOnlyOutput)
    np.testing.assert_array_equal(ours.sequences.numpy(), theirs.sequences.numpy())
    np.testing.assert_allclose(ours.sequences_scores.numpy(), theirs.sequences_scores.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(ours.beam_indices.numpy(), theirs.beam_indices.numpy())
    _assert_steps_close(ours.scores, theirs.scores)
    _assert_steps_close(ours.logits, theirs.logits)
    transition = model.compute_transition_scores(ours.sequences, ours.scores, ours.beam_indices)
    expected = torch_model.compute_transition_scores(theirs.sequences, theirs.scores, theirs.beam_indices)
    np.testing.assert_allclose(transition.numpy(), expected.numpy(), atol=1e-5, rtol=0)


@pytest.mark.slow  # an XLA compilation or two per call: with -m slow
def test_beam_without_output_scores_has_beam_indices_but_no_sequences_scores(llama):
    """As transformers 5.23: beam_indices come with return_dict_in_generate, sequences_scores with output_scores."""
    model, torch_model = llama
    ids, mask = _prompts()
    kwargs = dict(max_new_tokens=4, num_beams=2, return_dict_in_generate=True)
    theirs = _theirs(torch_model, ids, mask, do_sample=False, **kwargs)
    ours = model.generate(ids, attention_mask=mask, **kwargs)
    assert theirs.sequences_scores is None and ours.sequences_scores is None and ours.scores is None
    np.testing.assert_array_equal(ours.beam_indices.numpy(), theirs.beam_indices.numpy())


@pytest.mark.slow  # an XLA compilation or two per call: with -m slow
def test_sampled_scores_are_transformers_processed_scores_of_the_returned_tokens(llama):
    """The RNGs differ, so the oracle is each step's distribution: PyTorch's forward on our sampled prefix,
    through transformers' own processors and warpers, must give our recorded scores."""
    model, torch_model = llama
    ids, mask = _prompts()
    out = model.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=5,
        do_sample=True,
        temperature=0.7,
        top_k=7,
        repetition_penalty=1.3,
        eos_token_id=None,
        seed=(4, 2),
        return_dict_in_generate=True,
        output_scores=True,
    )
    assert isinstance(out, kerasformers.TFSampleDecoderOnlyOutput)
    sequences = out.sequences.numpy()
    full_mask = np.concatenate([mask, np.ones((3, sequences.shape[1] - ids.shape[1]), int)], axis=1)
    positions = np.maximum(np.cumsum(full_mask, axis=1) - 1, 0)
    with torch.no_grad():
        logits = torch_model(
            torch.tensor(sequences), attention_mask=torch.tensor(full_mask), position_ids=torch.tensor(positions)
        ).logits
    padding = torch.tensor((mask != 0).argmax(axis=1))  # as 5.23's generate builds the penalty: pads not counted
    processors = hf.LogitsProcessorList(
        [
            hf.RepetitionPenaltyLogitsProcessor(1.3, prompt_ignore_length=padding),
            hf.TemperatureLogitsWarper(0.7),
            hf.TopKLogitsWarper(7),
        ]
    )
    prompt = ids.shape[1]
    expected = [processors(torch.tensor(sequences[:, : prompt + t]), logits[:, prompt + t - 1]) for t in range(5)]
    _assert_steps_close(out.scores, expected)
    for t, step_scores in enumerate(out.scores):  # every sampled token was allowed by the warpers
        chosen = np.asarray(step_scores)[np.arange(3), sequences[:, prompt + t]]
        assert np.isfinite(chosen).all()


# ------------------------------------------------------------------------------------ transition scores
def _as_tf(steps):
    return tuple(tf.constant(step.numpy()) for step in steps)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(do_sample=False),
        dict(do_sample=True, top_k=5, temperature=0.7, num_return_sequences=2),
        dict(do_sample=False, num_beams=3, num_return_sequences=2, eos_token_id=[2, 7], length_penalty=0.5),
    ],
    ids=["greedy", "sampling", "beam"],
)
def test_compute_transition_scores_matches_transformers_on_the_same_scores(llama, kwargs):
    """transformers 5.23's compute_transition_scores and ours read the same (PyTorch-generated) scores."""
    model, torch_model = llama
    ids, mask = _prompts(seed=4)
    torch.manual_seed(0)
    out = _theirs(torch_model, ids, mask, max_new_tokens=6, return_dict_in_generate=True, output_scores=True, **kwargs)
    beam_indices = getattr(out, "beam_indices", None)
    for normalize_logits in (False, True):
        expected = torch_model.compute_transition_scores(
            out.sequences, out.scores, beam_indices, normalize_logits=normalize_logits
        ).numpy()
        ours = model.compute_transition_scores(
            tf.constant(out.sequences.numpy()),
            _as_tf(out.scores),
            None if beam_indices is None else tf.constant(beam_indices.numpy()),
            normalize_logits=normalize_logits,
        )
        assert isinstance(ours, tf.Tensor) and ours.shape == expected.shape
        np.testing.assert_array_equal(np.isneginf(ours.numpy()), np.isneginf(expected))
        finite = np.isfinite(expected)
        np.testing.assert_allclose(ours.numpy()[finite], expected[finite], atol=1e-5, rtol=0)
    if beam_indices is not None:  # 5.23's documented property: the summed scores rebuild sequences_scores
        lengths = (expected < 0).sum(axis=1)
        raw = model.compute_transition_scores(out.sequences.numpy(), _as_tf(out.scores), beam_indices.numpy())
        rebuilt = raw.numpy().sum(axis=1) / lengths**0.5
        np.testing.assert_allclose(rebuilt, out.sequences_scores.numpy(), atol=1e-5, rtol=0)
    with pytest.raises(InvalidInputError, match="output_scores"):
        model.compute_transition_scores(out.sequences.numpy(), ())


# ------------------------------------------------------------------------------------ inside tf.function
def _early_eos(torch_model, ids, mask):
    """eos ids that end every row after two new tokens, so the compiled output has a padded tail."""
    plain = _theirs(torch_model, ids, mask, max_new_tokens=2, do_sample=False).numpy()
    return sorted({2, *plain[:, ids.shape[1] + 1].tolist()})


def _assert_full_width(ours, theirs, prompt_length, max_new_tokens, pad=0):
    """Graph-mode generate() keeps the static width (TF transformers' XLA output): theirs, then pad."""
    ours = ours.numpy()
    assert ours.shape == (theirs.shape[0], prompt_length + max_new_tokens)
    np.testing.assert_array_equal(ours[:, : theirs.shape[1]], theirs)
    assert (ours[:, theirs.shape[1] :] == pad).all()


@pytest.mark.parametrize("family", ["llama", pytest.param("gpt2", marks=pytest.mark.slow)])
def test_generate_inside_tf_function_matches_transformers(family, request):
    """tf.function(model.generate, jit_compile=True) as transformers' TF XLA guide wrote it: greedy, beams,
    seeded sampling (the same tokens as eager generate(), whose sampling RNG is ours), and plain tf.function."""
    model, torch_model = request.getfixturevalue(family)
    ids, mask = _prompts(seed=6)
    eos = _early_eos(torch_model, ids, mask)
    xla_generate = tf.function(model.generate, jit_compile=True)
    inputs = dict(input_ids=tf.constant(ids), attention_mask=tf.constant(mask))

    greedy = dict(max_new_tokens=5, eos_token_id=eos)
    theirs = _theirs(torch_model, ids, mask, do_sample=False, **greedy).numpy()
    assert theirs.shape[1] < ids.shape[1] + 5  # every row stopped early: the tail below is really padding
    _assert_full_width(xla_generate(**inputs, **greedy), theirs, ids.shape[1], 5)

    beams = dict(max_new_tokens=5, num_beams=3, num_return_sequences=2, eos_token_id=[2, 7])
    theirs = _theirs(torch_model, ids, mask, do_sample=False, **beams).numpy()
    _assert_full_width(xla_generate(**inputs, **beams), theirs, ids.shape[1], 5)

    if family == "llama":
        sampling = dict(max_new_tokens=4, do_sample=True, top_k=5, seed=(3, 1), eos_token_id=None)
        eager = model.generate(ids, attention_mask=mask, **sampling).numpy()
        _assert_full_width(xla_generate(**inputs, **sampling), eager, ids.shape[1], 4)
        graph_generate = tf.function(model.generate)
        theirs = _theirs(torch_model, ids, mask, do_sample=False, **greedy).numpy()
        _assert_full_width(graph_generate(**inputs, **greedy), theirs, ids.shape[1], 5)


def test_generate_inside_tf_function_needs_a_static_prompt_length(llama):
    model, _ = llama
    xla_generate = tf.function(model.generate, jit_compile=True)
    spec = tf.TensorSpec((2, None), tf.int32)
    with pytest.raises(InvalidInputError, match="static prompt length.*pad_to_multiple_of"):
        xla_generate.get_concrete_function(spec, max_new_tokens=2)
    with pytest.raises(NotSupportedError, match="stream"):
        xla_generate(tf.constant([[5, 6]]), max_new_tokens=2, streamer=object())


# ------------------------------------------------------------------------------------ retracing
class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_generate_with_new_settings_prints_no_retracing_warning(llama):
    """generate() compiles one loop per settings by design; TF's retracing warning stays for the user's own."""
    model, _ = llama
    ids, mask = _prompts(seed=8)
    records = _Records()
    tf_logger = logging.getLogger("tensorflow")
    tf_logger.addHandler(records)
    try:
        for max_new_tokens in (1, 2, 3, 4, 5):  # TF warns at 5 traces within 10 calls
            model.generate(ids, attention_mask=mask, max_new_tokens=max_new_tokens, eos_token_id=None)

        @tf.function
        def users_function(x):
            return x + 1

        for length in range(1, 7):  # a caller's retracing is still reported
            users_function(tf.zeros((length,)))
    finally:
        tf_logger.removeHandler(records)
    retracing = [m for m in records.messages if "triggered tf.function retracing" in m]
    assert retracing and all("users_function" in m for m in retracing)


# ------------------------------------------------------------------------------------ stopping
class StopOnToken(kerasformers.StoppingCriteria):
    """Written with operators both frameworks share, so one class serves both sides."""

    def __init__(self, token_id):
        self.token_id = token_id

    def __call__(self, input_ids, scores, **kwargs):
        return input_ids[:, -1] == self.token_id


@pytest.mark.slow  # an XLA compilation or two per call: with -m slow
def test_python_stopping_criterion_matches_transformers(llama):
    model, torch_model = llama
    ids, mask = _prompts()
    plain = _theirs(torch_model, ids, mask, max_new_tokens=8, do_sample=False).numpy()
    token = int(plain[0, ids.shape[1] + 2])  # row 0 stops after its third token
    theirs = _theirs(
        torch_model,
        ids,
        mask,
        max_new_tokens=8,
        do_sample=False,
        stopping_criteria=hf_stop.StoppingCriteriaList([StopOnToken(token)]),
    ).numpy()
    ours = model.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=8,
        stopping_criteria=kerasformers.StoppingCriteriaList([StopOnToken(token)]),
    )
    np.testing.assert_array_equal(ours.numpy(), theirs)
    assert (theirs != plain[:, : theirs.shape[1]]).any() or theirs.shape != plain.shape  # the criterion did act


def test_builtin_criteria_compile_into_the_loop_and_match_transformers(llama):
    model, torch_model = llama
    ids, mask = _prompts(seed=5)
    plain = _theirs(torch_model, ids, mask, max_new_tokens=8, do_sample=False).numpy()
    token = int(plain[1, ids.shape[1] + 1])
    theirs = _theirs(
        torch_model,
        ids,
        mask,
        max_new_tokens=8,
        do_sample=False,
        stopping_criteria=hf_stop.StoppingCriteriaList(
            [hf_stop.EosTokenCriteria([2, token]), hf_stop.MaxLengthCriteria(ids.shape[1] + 6)]
        ),
    ).numpy()
    criteria = kerasformers.StoppingCriteriaList(
        [kerasformers.EosTokenCriteria([2, token]), kerasformers.MaxLengthCriteria(ids.shape[1] + 6)]
    )
    model._compiled_generate_functions().clear()
    ours = model.generate(ids, attention_mask=mask, max_new_tokens=8, stopping_criteria=criteria)
    np.testing.assert_array_equal(ours.numpy(), theirs)
    assert all(key[0] == "loop" for key in model._compiled_generate_functions())  # no step-by-step path


def test_stopping_criteria_called_directly_match_transformers():
    ids = np.array([[5, 6, 7, 2], [5, 6, 7, 8]])
    for ours, theirs in (
        (kerasformers.EosTokenCriteria([2, 9]), hf_stop.EosTokenCriteria([2, 9])),
        (kerasformers.MaxLengthCriteria(4), hf_stop.MaxLengthCriteria(4)),
        (kerasformers.MaxLengthCriteria(5), hf_stop.MaxLengthCriteria(5)),
        (kerasformers.MaxTimeCriteria(0.0, initial_timestamp=0.0), hf_stop.MaxTimeCriteria(0.0, initial_timestamp=0.0)),
        (kerasformers.MaxTimeCriteria(1e6), hf_stop.MaxTimeCriteria(1e6)),
    ):
        expected = theirs(torch.tensor(ids), None).numpy()
        np.testing.assert_array_equal(ours(tf.constant(ids), None).numpy(), expected)


@pytest.fixture(scope="module")
def smol_tokenizers(smollm2_path):
    ours = kerasformers.AutoTokenizer.from_pretrained(smollm2_path)
    theirs = transformers.AutoTokenizer.from_pretrained(smollm2_path)
    return ours, theirs


STOP_STRINGS = ["stop", " the", "\n\n", ".", "ing a"]


def test_stop_string_criteria_match_transformers_on_token_sequences(smol_tokenizers):
    """Our token tables against 5.23's on sequences made to end in, overlap or miss the stop strings."""
    ours_tok, theirs_tok = smol_tokenizers
    ours = kerasformers.StopStringCriteria(ours_tok, STOP_STRINGS)
    theirs = hf_stop.StopStringCriteria(theirs_tok, STOP_STRINGS)
    texts = [
        "we must stop",
        "unstoppable",
        "we must stopping",
        "in the",
        "then",
        "end.",
        "end.\n",
        "one\n\n",
        "one\n\ntwo",
        "sing a",
        "singing and",
        "st",
        "top",
        "la stop",
        "a b c",
    ]
    rng = np.random.RandomState(0)
    rows = [theirs_tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    rows += [list(rng.randint(0, 49152, size=6)) for _ in range(40)]
    for row in rows:
        row = [[int(t) for t in row]]
        expected = theirs(torch.tensor(row), None).numpy()
        np.testing.assert_array_equal(ours(tf.constant(row), None).numpy(), expected, err_msg=str(row))
    # the same tokens split differently still match (the tables allow overhangs at both ends)
    split = theirs_tok.convert_tokens_to_ids(["la", "st", "op"])
    assert ours(tf.constant([split]), None).numpy().tolist() == theirs(torch.tensor([split]), None).tolist()


@pytest.fixture(scope="module")
def smol_vocab_llama(tmp_path_factory):
    """A tiny random Llama over SmolLM2's 49152-token vocabulary, so its tokens decode to real text."""
    torch.manual_seed(3)
    config = transformers.LlamaConfig(**{**LLAMA, "vocab_size": 49152, "hidden_size": 16, "intermediate_size": 24})
    return _pair(tmp_path_factory.mktemp("smol_vocab"), transformers.LlamaForCausalLM(config))


@pytest.mark.slow  # an XLA compilation or two per call: with -m slow
def test_generate_with_stop_strings_matches_transformers(smol_vocab_llama, smol_tokenizers):
    model, torch_model = smol_vocab_llama
    ours_tok, theirs_tok = smol_tokenizers
    ids = np.array([[9, 800, 1200, 3000], [0, 0, 600, 4500]])
    mask = (ids != 0).astype(int)
    plain = _theirs(torch_model, ids, mask, max_new_tokens=10, do_sample=False).numpy()
    # a stop string that spans row 0's third and fourth new tokens (cut inside the fourth)
    third = theirs_tok.decode(plain[0, 6:7])
    fourth = theirs_tok.decode(plain[0, 7:8])
    stop = third[-2:] + fourth[:1] if len(third) >= 2 and fourth else third + fourth
    kwargs = dict(max_new_tokens=10, stop_strings=[stop])
    theirs = _theirs(torch_model, ids, mask, do_sample=False, tokenizer=theirs_tok, **kwargs).numpy()
    ours = model.generate(ids, attention_mask=mask, tokenizer=ours_tok, **kwargs)
    np.testing.assert_array_equal(ours.numpy(), theirs)
    assert theirs.shape[1] < plain.shape[1] or (theirs[0, 8:] == 0).all()  # row 0 really stopped
    beam = dict(num_beams=2, **kwargs)
    theirs = _theirs(torch_model, ids, mask, do_sample=False, tokenizer=theirs_tok, **beam).numpy()
    np.testing.assert_array_equal(model.generate(ids, attention_mask=mask, tokenizer=ours_tok, **beam).numpy(), theirs)
    with pytest.raises(InvalidInputError, match="tokenizer"):
        model.generate(ids, attention_mask=mask, max_new_tokens=3, stop_strings=["x"])


@pytest.mark.slow  # an XLA compilation or two per call: with -m slow
def test_text_iterator_streamer_yields_the_decoded_output(smol_vocab_llama, smol_tokenizers):
    model, _ = smol_vocab_llama
    tokenizer, _ = smol_tokenizers
    ids = np.array([[9, 800, 1200, 3000]])
    expected = model.generate(ids, max_new_tokens=12)
    for skip_prompt in (False, True):
        streamer = kerasformers.TextIteratorStreamer(tokenizer, skip_prompt=skip_prompt, timeout=60)
        thread = threading.Thread(target=model.generate, args=(ids,), kwargs=dict(max_new_tokens=12, streamer=streamer))
        thread.start()
        text = "".join(piece for piece in streamer)
        thread.join()
        tokens = expected[0, ids.shape[1] :] if skip_prompt else expected[0]
        assert text == tokenizer.decode(tokens)
    assert tokenizer.batch_decode(expected) == [tokenizer.decode(expected[0].numpy().tolist())]


# ------------------------------------------------------------------------------------ caller processors
class BanToken(kerasformers.TFLogitsProcessor):
    """A user's TF-side processor: compiled into the loop."""

    def __init__(self, token_id):
        self.token_id = token_id

    def __call__(self, input_ids, scores, cur_len):
        return tf.where(tf.range(tf.shape(scores)[-1]) == self.token_id, -float("inf"), scores)


class PenaliseLastToken:
    """A PyTorch-side style processor (input_ids, scores) in ops both frameworks share: runs step by step."""

    def __call__(self, input_ids, scores):
        last = input_ids[:, -1:]
        hit = (np.arange(scores.shape[-1])[None, :] == np.asarray(last)).astype(np.float32)
        if isinstance(scores, torch.Tensor):
            return scores - 5.0 * torch.tensor(hit)
        return scores - 5.0 * hit


@pytest.mark.slow  # an XLA compilation or two per call: with -m slow
def test_caller_logits_processors_run_in_generate_like_transformers(llama):
    model, torch_model = llama
    ids, mask = _prompts()
    plain = _theirs(torch_model, ids, mask, max_new_tokens=6, do_sample=False).numpy()
    banned = int(plain[0, ids.shape[1]])
    theirs = _theirs(
        torch_model,
        ids,
        mask,
        max_new_tokens=6,
        do_sample=False,
        logits_processor=hf.LogitsProcessorList([hf.SuppressTokensLogitsProcessor([banned]), PenaliseLastToken()]),
    ).numpy()
    ours = model.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=6,
        logits_processor=kerasformers.TFLogitsProcessorList([BanToken(banned), PenaliseLastToken()]),
    )
    np.testing.assert_array_equal(ours.numpy(), theirs)
    # the TF-side processor alone stays in the compiled loop
    theirs = _theirs(
        torch_model,
        ids,
        mask,
        max_new_tokens=6,
        do_sample=False,
        logits_processor=hf.LogitsProcessorList([hf.SuppressTokensLogitsProcessor([banned])]),
    ).numpy()
    compiled = model.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=6,
        logits_processor=[kerasformers.TFSuppressTokensLogitsProcessor([banned])],
    )
    np.testing.assert_array_equal(compiled.numpy(), theirs)


# ------------------------------------------------------------------------------------ refusals
def test_unknown_kwargs_and_unavailable_outputs_raise_clearly(llama):
    model, _ = llama
    ids, mask = _prompts()
    with pytest.raises(InvalidInputError, match="max_new_token'.*max_new_tokens"):
        model.generate(ids, max_new_token=3)
    with pytest.raises(ValueError, match="not_a_setting"):  # transformers raises ValueError for unused kwargs
        model.generate(ids, max_new_tokens=3, not_a_setting=1)
    with pytest.raises(NotSupportedError, match="attentions"):
        model.generate(ids, max_new_tokens=3, return_dict_in_generate=True, output_attentions=True)
    with pytest.raises(NotSupportedError, match="Beam search"):
        model.generate(
            ids, max_new_tokens=3, num_beams=2, stopping_criteria=kerasformers.StoppingCriteriaList([StopOnToken(5)])
        )
    assert kerasformers.TFGenerationMixin is kerasformers.GenerationMixin
