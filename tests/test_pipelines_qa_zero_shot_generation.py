"""question-answering, zero-shot-classification and text-generation pipelines against transformers.

zero-shot-classification and text-generation: transformers 5.23's own pipelines on the same saved
weights and tokenizer (labels and texts identical, scores within 1e-4, greedy text token-identical),
for batch_size 1 and 8. question-answering is gone from transformers 5.23: its expected answers are
computed here from the PyTorch model's logits with the algorithm documented in transformers 4.57's
pipelines/question_answering.py (per-window softmax over context tokens and CLS, p_start * p_end over
spans shorter than max_answer_len, the best top_k * 2 + 10 per window, spans widened to words, equal
answers summed, the null answer CLS's p_start * p_end), written as plain loops.
"""

import os
import shutil

import numpy as np
import pytest
import torch
import transformers

from kerasformers.errors import ConfigError, InvalidInputError, InvalidInputTypeError
from kerasformers.pipelines import pipeline

TINY_BERT = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


def _copy_tokenizer(source, folder):
    for name in os.listdir(source):
        if name.startswith(("tokenizer", "vocab", "special", "merges", "chat_template")):
            shutil.copy(os.path.join(source, name), folder)


@pytest.fixture(scope="module")
def qa_folder(tmp_path_factory, minilm_path):
    folder = tmp_path_factory.mktemp("qa")
    torch.manual_seed(0)
    # a wider init spreads the start/end logits so the best spans are well apart
    model = transformers.BertForQuestionAnswering(transformers.BertConfig(**TINY_BERT, initializer_range=0.3))
    model.eval().save_pretrained(folder)
    _copy_tokenizer(minilm_path, folder)
    return folder, model


@pytest.fixture(scope="module")
def nli_folder(tmp_path_factory, minilm_path):
    folder = tmp_path_factory.mktemp("nli")
    torch.manual_seed(1)
    labels = {"contradiction": 0, "neutral": 1, "entailment": 2}
    config = transformers.BertConfig(
        **TINY_BERT, initializer_range=0.3, label2id=labels, id2label={v: k for k, v in labels.items()}
    )
    transformers.BertForSequenceClassification(config).eval().save_pretrained(folder)
    _copy_tokenizer(minilm_path, folder)
    return folder


@pytest.fixture(scope="module")
def llama_folder(tmp_path_factory, smollm2_path):
    """A tiny random Llama over SmolLM2's vocabulary, with SmolLM2's tokenizer and chat template."""
    folder = tmp_path_factory.mktemp("llama_chat")
    torch.manual_seed(3)
    config = transformers.LlamaConfig(
        vocab_size=49152,
        hidden_size=16,
        intermediate_size=24,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    transformers.LlamaForCausalLM(config).eval().save_pretrained(folder)
    _copy_tokenizer(smollm2_path, folder)
    return folder


@pytest.fixture(scope="module")
def generators(llama_folder):
    """Ours and transformers' text-generation pipelines on the same folder, built once."""
    return pipeline("text-generation", model=str(llama_folder)), transformers.pipeline(
        "text-generation", model=str(llama_folder)
    )


# ------------------------------------------------------------------------------ question-answering
def _expected_answers(model, tokenizer, question, context, top_k=1, max_answer_len=15, max_seq_len=384,
                      doc_stride=128, handle_impossible_answer=False):  # fmt: skip
    encoded = tokenizer(question, context, truncation="only_second", max_length=max_seq_len, stride=doc_stride,
                        return_overflowing_tokens=True, return_offsets_mapping=True)  # fmt: skip
    answers, null = [], 1e6
    for window in range(len(encoded["input_ids"])):
        ids = torch.tensor([encoded["input_ids"][window]])
        with torch.no_grad():
            out = model(input_ids=ids, token_type_ids=torch.tensor([encoded["token_type_ids"][window]]))
        allowed = [seq == 1 for seq in encoded.sequence_ids(window)]
        allowed[0] = True  # CLS: the null answer
        probabilities = []
        for logits in (out.start_logits[0].numpy(), out.end_logits[0].numpy()):
            logits = np.where(allowed, logits, -10000.0)
            exp = np.exp(logits - logits.max())
            probabilities.append(exp / exp.sum())
        p_start, p_end = probabilities
        null = min(null, p_start[0] * p_end[0])
        p_start[0] = p_end[0] = 0.0
        n = len(allowed)
        spans = [(p_start[s] * p_end[e], s, e) for s in range(n) for e in range(s, min(n, s + max_answer_len))]
        spans.sort(key=lambda span: -span[0])
        enc = encoded[window]
        for score, s, e in spans[: top_k * 2 + 10]:
            if not (allowed[s] and allowed[e]):
                continue
            try:
                start = enc.word_to_chars(enc.token_to_word(s), sequence_index=1)[0]
                end = enc.word_to_chars(enc.token_to_word(e), sequence_index=1)[1]
            except Exception:  # noqa: BLE001 -- tokens without a word keep their own offsets
                start, end = enc.offsets[s][0], enc.offsets[e][1]
            text = context[start:end]
            same = [a for a in answers if a["answer"].lower() == text.lower()]
            if same:
                same[0]["score"] += float(score)
            else:
                answers.append({"score": float(score), "start": start, "end": end, "answer": text})
    if handle_impossible_answer:
        answers.append({"score": float(null), "start": 0, "end": 0, "answer": ""})
    answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:top_k]
    return answers[0] if len(answers) == 1 else answers


def _assert_answers(ours, expected):
    ours = ours if isinstance(ours, list) else [ours]
    expected = expected if isinstance(expected, list) else [expected]
    assert [(a["answer"], a["start"], a["end"]) for a in ours] == [
        (a["answer"], a["start"], a["end"]) for a in expected
    ]
    np.testing.assert_allclose([a["score"] for a in ours], [a["score"] for a in expected], atol=1e-4)


CONTEXT = "Ann lives in Oslo, a city in Norway. Her brother Tom works in Bergen as a baker since 2019. " * 3


@pytest.mark.parametrize(
    "options",
    [
        {},
        dict(top_k=3, max_seq_len=40, doc_stride=12),
        dict(top_k=2, max_answer_len=3, max_seq_len=48, doc_stride=16, handle_impossible_answer=True),
    ],
)
def test_question_answering_matches_the_documented_algorithm_on_pytorch_logits(qa_folder, options):
    folder, torch_model = qa_folder
    qa = pipeline("question-answering", model=str(folder))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    questions = ["Where does Ann live?", "What does Tom do?"]
    expected = [_expected_answers(torch_model, tokenizer, q, CONTEXT, **options) for q in questions]
    _assert_answers(qa(question=questions[0], context=CONTEXT, **options), expected[0])
    for batch_size in (1, 8):
        results = qa(question=questions, context=CONTEXT, batch_size=batch_size, **options)
        for ours, theirs in zip(results, expected):
            _assert_answers(ours, theirs)
    as_dicts = qa([{"question": q, "context": CONTEXT} for q in questions], **options)
    for ours, theirs in zip(as_dicts, expected):
        _assert_answers(ours, theirs)


def test_question_answering_refuses_a_model_without_a_qa_head(nli_folder):
    import kerasformers

    model = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(nli_folder)
    with pytest.raises(InvalidInputTypeError, match="question-answering"):
        pipeline("question-answering", model=model, tokenizer=kerasformers.AutoTokenizer.from_pretrained(nli_folder))


# ------------------------------------------------------------------------------ zero-shot
@pytest.mark.parametrize(
    "options",
    [
        dict(candidate_labels=["sports", "politics", "cooking"]),
        dict(candidate_labels="sports, politics", multi_label=True),
        dict(candidate_labels=["weather"], hypothesis_template="It is about {}!"),
    ],
)
def test_zero_shot_matches_transformers(nli_folder, options):
    ours = pipeline("zero-shot-classification", model=str(nli_folder))
    theirs = transformers.pipeline("zero-shot-classification", model=str(nli_folder))
    sequences = ["The match went to penalties.", "Taxes rise again in the new budget year", "Rain"]
    expected = theirs(sequences, **options)
    for batch_size in (1, 8):
        for got, want in zip(ours(sequences, batch_size=batch_size, **options), expected):
            assert got["sequence"] == want["sequence"] and got["labels"] == want["labels"]
            np.testing.assert_allclose(got["scores"], want["scores"], atol=1e-4)
    single = ours(
        sequences[0], options["candidate_labels"], **{k: v for k, v in options.items() if k != "candidate_labels"}
    )
    assert single["labels"] == expected[0]["labels"]


def test_zero_shot_refuses_a_config_without_an_entailment_label(qa_folder, minilm_path, tmp_path):
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(transformers.BertConfig(**TINY_BERT, num_labels=3)).save_pretrained(
        tmp_path
    )
    _copy_tokenizer(minilm_path, tmp_path)
    with pytest.raises(ConfigError, match="entailment"):
        pipeline("zero-shot-classification", model=str(tmp_path))


# ------------------------------------------------------------------------------ text-generation
def _plain(records):
    """transformers' records with tensors as lists, for comparison."""
    if isinstance(records, list):
        return [_plain(record) for record in records]
    return {key: value.tolist() if hasattr(value, "tolist") else value for key, value in records.items()}


CHAT = [{"role": "user", "content": "Name a planet."}]
CHATS = [CHAT, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there, who are you?"}]]


@pytest.mark.parametrize(
    "inputs, options",
    [
        ("Once upon a time", dict(max_new_tokens=6)),
        (["Hello", "The weather today is very"], dict(max_new_tokens=5, return_full_text=False)),
        (CHAT, dict(max_new_tokens=5)),
        (CHATS, dict(max_new_tokens=5)),
        (CHAT + [{"role": "assistant", "content": "Mars is"}], dict(max_new_tokens=4)),
        ("Hi", dict(max_new_tokens=4, return_tensors=True)),
        ("Hi", dict(max_new_tokens=4, prefix="Story: ")),
    ],
)
def test_text_generation_matches_transformers_greedy(generators, inputs, options):
    ours, theirs = generators
    expected = _plain(theirs(inputs, do_sample=False, **options))
    batch_sizes = (1, 8) if isinstance(inputs, list) and not isinstance(inputs[0], dict) else (1,)
    for batch_size in batch_sizes:
        assert ours(inputs, do_sample=False, batch_size=batch_size, **options) == expected


def test_text_generation_streamer_gets_the_new_text(llama_folder):
    import kerasformers

    generator = pipeline("text-generation", model=str(llama_folder))
    streamer = kerasformers.TextStreamer(generator.tokenizer, skip_prompt=True)
    pieces = []
    streamer.on_finalized_text = lambda text, stream_end=False: pieces.append(text)
    result = generator("Once upon a time", max_new_tokens=6, do_sample=False, streamer=streamer)
    assert "".join(pieces) == result[0]["generated_text"][len("Once upon a time") :]


def test_chat_input_without_a_chat_template_is_refused(llama_folder):
    generator = pipeline("text-generation", model=str(llama_folder))
    generator.tokenizer.chat_template = None
    with pytest.raises(InvalidInputError, match="chat template"):
        generator(CHAT, max_new_tokens=2, do_sample=False)


@pytest.mark.slow  # the real SmolLM2-135M: ~30 s of generation on 2 cores
def test_text_generation_on_real_smollm2_matches_transformers(smollm2_path):
    ours = pipeline("text-generation", model=str(smollm2_path))
    theirs = transformers.pipeline("text-generation", model=str(smollm2_path))
    options = dict(max_new_tokens=20, do_sample=False)
    assert ours(CHAT, **options) == theirs(CHAT, **options)
    assert ours("The capital of France is", **options) == theirs("The capital of France is", **options)
