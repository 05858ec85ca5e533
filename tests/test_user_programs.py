"""Programs written as transformers-TensorFlow users wrote them, run with only the import line changed.

Each file in tests/user_programs/ is one such program (modelled on transformers' TensorFlow
examples and course chapters). It reads its checkpoint and data from globals the test passes in
(``runpy.run_path(..., init_globals=...)``, so TensorFlow is imported once), asserts what its
user would check, and the test then compares numbers the program left in its globals with
PyTorch transformers 5.23 on the same weights and inputs.

The default run keeps the programs whose compile steps fit the suite's time budget; the others
are marked slow (``-m slow``): each fit/evaluate/predict traces its own step function and the
first generate() compiles its loop with XLA, seconds apiece on 2 cores.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers

PROGRAMS = Path(__file__).parent / "user_programs"

# Small enough that each program trains in seconds on 2 cores; the tokenizers are real ones.
TINY_BERT = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, max_position_embeddings=512
)
TINY_DECODER = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


def run_program(name: str, **program_globals) -> dict:
    """Run ``tests/user_programs/<name>`` as ``__main__`` with the given globals; return its globals."""
    return runpy.run_path(str(PROGRAMS / name), init_globals=program_globals, run_name="__main__")


def _copy_tokenizer(source: Path, folder: Path) -> None:
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
        "chat_template.jinja",
    ):
        if (Path(source) / name).exists():
            shutil.copy(Path(source) / name, folder / name)


@pytest.fixture(scope="session")
def bert_checkpoint(minilm_path, tmp_path_factory) -> Path:
    """A tiny random BERT pretraining checkpoint saved by PyTorch transformers, with all-MiniLM-L6-v2's tokenizer.

    Like ``bert-base-uncased`` on the Hub: ``BertForPreTraining`` weights (no task head), so
    each program's ``from_pretrained(CHECKPOINT, num_labels=...)`` adds a new head.
    """
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30522, **TINY_BERT)
    folder = tmp_path_factory.mktemp("user-bert")
    transformers.BertForPreTraining(config).save_pretrained(folder)
    _copy_tokenizer(minilm_path, folder)
    return folder


@pytest.fixture(scope="session")
def llama_checkpoint(smollm2_path, tmp_path_factory) -> Path:
    """A tiny random Llama saved by PyTorch transformers with SmolLM2's tokenizer and chat template."""
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=49152,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=True,
        **TINY_DECODER,
    )
    folder = tmp_path_factory.mktemp("user-llama")
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    _copy_tokenizer(smollm2_path, folder)
    return folder


@pytest.fixture(scope="session")
def gpt2_checkpoint(smollm2_path, tmp_path_factory) -> Path:
    """A tiny random GPT-2 saved by PyTorch transformers with a byte-level BPE tokenizer (SmolLM2's).

    Its end-of-text token is SmolLM2's ``<|endoftext|>`` (id 0), as GPT-2's is its own.
    """
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=49152, n_embd=32, n_layer=2, n_head=4, n_positions=256, bos_token_id=0, eos_token_id=0
    )
    folder = tmp_path_factory.mktemp("user-gpt2")
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    shutil.copy(Path(smollm2_path) / "tokenizer.json", folder / "tokenizer.json")
    # GPT-2's own tokenizer config: no pad token, <|endoftext|> for bos, eos and unk
    (folder / "tokenizer_config.json").write_text(
        '{"tokenizer_class": "GPT2Tokenizer", "model_max_length": 256, "bos_token": "<|endoftext|>",'
        ' "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}'
    )
    return folder


@pytest.fixture(scope="session")
def reviews():
    """Real movie-review sentences: 48 for training, 16 for evaluation, with 0/1 sentiment labels."""
    from kerasformers.data.embedded import movie_reviews

    data = movie_reviews()
    train, test = data["train"].select(range(48)), data["test"].select(range(16))
    return dict(
        TRAIN_TEXTS=train["text"], TRAIN_LABELS=train["label"], EVAL_TEXTS=test["text"], EVAL_LABELS=test["label"]
    )


def torch_outputs(torch_class, folder, encoding: dict):
    """Outputs of ``torch_class.from_pretrained(folder)`` in eval mode on numpy/tf inputs."""
    model = torch_class.from_pretrained(str(folder)).eval()
    with torch.no_grad():
        return model(**{k: torch.tensor(np.asarray(v)) for k, v in encoding.items()})


def test_text_classification(bert_checkpoint, reviews, tmp_path):
    g = run_program("text_classification.py", CHECKPOINT=str(bert_checkpoint), OUTPUT_DIR=str(tmp_path), **reviews)
    # the fine-tuned model, saved by us and reloaded by PyTorch transformers, gives the same logits
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    theirs = torch_outputs(transformers.BertForSequenceClassification, tmp_path, encoding).logits.numpy()
    np.testing.assert_allclose(g["logits"].numpy(), theirs, atol=1e-5)
    assert transformers.AutoConfig.from_pretrained(tmp_path).id2label == {0: "NEGATIVE", 1: "POSITIVE"}


@pytest.mark.slow  # compiles its own train/test/predict steps (7-13 s on 2 cores)
def test_sentence_pairs_with_keras_loss(bert_checkpoint, reviews):
    g = run_program("sentence_pairs_keras_loss.py", CHECKPOINT=str(bert_checkpoint), **reviews)
    # the batch the collator made is what the tokenizers library pads to the longest pair
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(bert_checkpoint / "tokenizer.json"))
    reference.no_truncation()
    reference.enable_padding(pad_id=0, pad_token="[PAD]")
    pairs = g["raw_datasets"]["train"][:8]
    encodings = reference.encode_batch(list(zip(pairs["sentence1"], pairs["sentence2"])))
    np.testing.assert_array_equal(g["batch"]["input_ids"].numpy(), [e.ids for e in encodings])
    np.testing.assert_array_equal(g["batch"]["token_type_ids"].numpy(), [e.type_ids for e in encodings])


def test_metric_callback(bert_checkpoint, reviews):
    g = run_program("metric_callback.py", CHECKPOINT=str(bert_checkpoint), **reviews)
    # create_optimizer's schedule: warmup to init_lr, then linear decay to 0 (optimization_tf.py in 4.57:
    # WarmUp(init_lr * step / warmup) then PolynomialDecay(init_lr, num_train_steps - warmup, power=1.0))
    steps = g["num_train_steps"]
    for step in range(steps + 1):
        expected = 1e-3 * step if step < 1 else 1e-3 * (1 - (step - 1) / (steps - 1))
        assert abs(float(g["lr_schedule"](step)) - expected) < 1e-9


@pytest.mark.slow  # per-batch predict loop and fit compile (4-10 s on 2 cores)
def test_token_classification(bert_checkpoint, reviews, tmp_path):
    g = run_program("token_classification.py", CHECKPOINT=str(bert_checkpoint), **reviews)
    g["model"].save_pretrained(tmp_path)
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    theirs = torch_outputs(transformers.BertForTokenClassification, tmp_path, encoding).logits.numpy()
    np.testing.assert_allclose(g["logits"].numpy(), theirs, atol=1e-5)


def test_masked_lm(bert_checkpoint, reviews, tmp_path):
    g = run_program("masked_lm.py", CHECKPOINT=str(bert_checkpoint), **reviews)
    # DataCollatorForLanguageModeling: labels are -100 except where a token was picked, where they
    # hold the original id; special tokens are never picked (data_collator.py in 4.57)
    original = np.array([e["input_ids"] for e in g["examples"]])
    special = np.array([e["special_tokens_mask"] for e in g["examples"]]).astype(bool)
    labels, masked_ids = g["masked"]["labels"].numpy(), g["masked"]["input_ids"].numpy()
    picked = labels != -100
    assert picked.any() and not (picked & special).any()
    np.testing.assert_array_equal(labels[picked], original[picked])
    np.testing.assert_array_equal(masked_ids[~picked], original[~picked])
    g["model"].save_pretrained(tmp_path)
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    theirs = torch_outputs(transformers.BertForMaskedLM, tmp_path, encoding).logits.numpy()
    np.testing.assert_allclose(g["logits"].numpy(), theirs, atol=1e-5)


@pytest.mark.slow  # fit plus the first XLA generate() compile (7-22 s on 2 cores)
def test_causal_lm(gpt2_checkpoint, reviews, tmp_path):
    g = run_program("causal_lm.py", CHECKPOINT=str(gpt2_checkpoint), OUTPUT_DIR=str(tmp_path), **reviews)
    torch_model = transformers.GPT2LMHeadModel.from_pretrained(str(tmp_path)).eval()
    with torch.no_grad():
        theirs = torch_model.generate(
            torch.tensor(g["input_ids"].numpy()), max_new_tokens=10, do_sample=False, pad_token_id=0
        )
    np.testing.assert_array_equal(g["outputs"].numpy(), theirs.numpy())


def test_question_answering(bert_checkpoint, reviews, tmp_path):
    g = run_program("question_answering.py", CHECKPOINT=str(bert_checkpoint), **reviews)
    g["model"].save_pretrained(tmp_path)
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    theirs = torch_outputs(transformers.BertForQuestionAnswering, tmp_path, encoding)
    np.testing.assert_allclose(g["outputs"].start_logits.numpy(), theirs.start_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(g["outputs"].end_logits.numpy(), theirs.end_logits.numpy(), atol=1e-5)


@pytest.mark.slow  # fit, evaluate and predict each compile (~10 s on 2 cores)
def test_multiple_choice(bert_checkpoint, reviews, tmp_path):
    g = run_program("multiple_choice.py", CHECKPOINT=str(bert_checkpoint), **reviews)
    g["model"].save_pretrained(tmp_path)
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    theirs = torch_outputs(transformers.BertForMultipleChoice, tmp_path, encoding).logits.numpy()
    np.testing.assert_allclose(g["logits"].numpy(), theirs, atol=1e-5)


def _torch_chat_reply(checkpoint, prompt_ids: np.ndarray, max_new_tokens: int) -> np.ndarray:
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=torch.float32).eval()
    with torch.no_grad():
        return torch_model.generate(torch.tensor(prompt_ids), max_new_tokens=max_new_tokens, do_sample=False).numpy()


def test_chat(llama_checkpoint):
    g = run_program("chat.py", CHECKPOINT=str(llama_checkpoint), MAX_NEW_TOKENS=8)
    reference = transformers.AutoTokenizer.from_pretrained(str(llama_checkpoint))
    expected_ids = reference.apply_chat_template(
        g["messages"][:2], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    np.testing.assert_array_equal(g["tokenized_chat"].numpy()[0], expected_ids)
    theirs = _torch_chat_reply(llama_checkpoint, g["tokenized_chat"].numpy(), 8)
    np.testing.assert_array_equal(g["outputs"].numpy(), theirs)


@pytest.mark.slow
def test_chat_with_smollm2(smollm2_path):
    g = run_program("chat.py", CHECKPOINT=str(smollm2_path), MAX_NEW_TOKENS=12)
    theirs = _torch_chat_reply(smollm2_path, g["tokenized_chat"].numpy(), 12)
    np.testing.assert_array_equal(g["outputs"].numpy(), theirs)
    assert g["reply"].strip()


@pytest.mark.slow  # eight generate() settings, each compiled by XLA on first use (~10 s apiece on 2 cores)
def test_generation_options(llama_checkpoint):
    g = run_program("generation_options.py", CHECKPOINT=str(llama_checkpoint))
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(str(llama_checkpoint)).eval()
    inputs = {k: torch.tensor(np.asarray(v)) for k, v in g["inputs"].items()}
    with torch.no_grad():
        greedy = torch_model.generate(**inputs, max_new_tokens=8, do_sample=False)
        beams = torch_model.generate(
            **inputs, max_new_tokens=8, num_beams=3, num_return_sequences=2, early_stopping=True
        )
        scored = torch_model.generate(
            **inputs, max_new_tokens=8, do_sample=False, return_dict_in_generate=True, output_scores=True
        )
        transition = torch_model.compute_transition_scores(scored.sequences, scored.scores, normalize_logits=True)
    np.testing.assert_array_equal(g["greedy"].numpy(), greedy.numpy())
    np.testing.assert_array_equal(g["beams"].numpy(), beams.numpy())
    np.testing.assert_allclose(g["outputs"].scores[0].numpy(), scored.scores[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(g["transition_scores"].numpy(), transition.numpy(), atol=1e-5)


def test_new_tokens(bert_checkpoint, reviews, tmp_path):
    g = run_program("new_tokens.py", CHECKPOINT=str(bert_checkpoint), OUTPUT_DIR=str(tmp_path), **reviews)
    reference = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    assert g["actor_tokens"] == reference.tokenize("[ACTOR] was great")
    assert g["decoded"] == reference.decode(g["encoded"]["input_ids"][0].numpy().tolist(), skip_special_tokens=True)
    texts = ["[MOVIE] [ACTOR] shines", "[SPOILER] dull"]
    np.testing.assert_array_equal(g["sample"]["input_ids"].numpy(), reference(texts, padding=True)["input_ids"])
    encoding = {k: np.asarray(v) for k, v in g["sample"].items()}
    theirs = torch_outputs(transformers.BertForSequenceClassification, tmp_path, encoding).logits.numpy()
    np.testing.assert_allclose(g["logits"].numpy(), theirs, atol=1e-5)


def test_pretraining_heads(bert_checkpoint, gpt2_checkpoint):
    g = run_program("pretraining_heads.py", BERT_CHECKPOINT=str(bert_checkpoint), GPT2_CHECKPOINT=str(gpt2_checkpoint))
    encoding = {k: np.asarray(v) for k, v in g["pretraining_inputs"].items()}
    theirs = torch_outputs(transformers.BertForPreTraining, bert_checkpoint, encoding)
    np.testing.assert_allclose(g["prediction_logits"].numpy(), theirs.prediction_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(g["seq_relationship_logits"].numpy(), theirs.seq_relationship_logits.numpy(), atol=1e-5)
    decoder = transformers.BertLMHeadModel.from_pretrained(str(bert_checkpoint), is_decoder=True).eval()
    decoder_ids = torch.tensor(g["decoder_inputs"]["input_ids"].numpy()).long()
    with torch.no_grad():
        decoder_theirs = decoder(input_ids=decoder_ids, labels=decoder_ids)
    np.testing.assert_allclose(g["decoder_logits"].numpy(), decoder_theirs.logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(float(g["decoder_outputs"].loss), float(decoder_theirs.loss), atol=1e-5)


@pytest.fixture(scope="session")
def sentiment_checkpoint(minilm_path, tmp_path_factory) -> Path:
    """A tiny random BERT sentiment classifier saved by PyTorch transformers, with labels and a tokenizer."""
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=30522, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1}, **TINY_BERT
    )
    folder = tmp_path_factory.mktemp("user-sentiment")
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    _copy_tokenizer(minilm_path, folder)
    return folder


def test_behind_the_pipeline(sentiment_checkpoint):
    g = run_program("behind_the_pipeline.py", CHECKPOINT=str(sentiment_checkpoint))
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    hidden = torch_outputs(transformers.BertModel, sentiment_checkpoint, encoding).last_hidden_state.numpy()
    logits = torch_outputs(transformers.BertForSequenceClassification, sentiment_checkpoint, encoding).logits.numpy()
    np.testing.assert_allclose(g["hidden_states"].numpy(), hidden, atol=1e-5)
    np.testing.assert_allclose(g["logits"].numpy(), logits, atol=1e-5)
    assert g["labels"] == [{0: "NEGATIVE", 1: "POSITIVE"}[i] for i in logits.argmax(-1)]
    reference = transformers.AutoTokenizer.from_pretrained(str(sentiment_checkpoint))
    assert g["ids"] == reference.convert_tokens_to_ids(reference.tokenize(g["sequence"]))
    assert g["decoded_string"] == reference.decode(g["ids"])


# two XLA compiles of generate() inside the caller's tf.function: ~5 s on 2 cores
def test_xla_generation(gpt2_checkpoint):
    g = run_program("xla_generation.py", CHECKPOINT=str(gpt2_checkpoint))
    torch_model = transformers.GPT2LMHeadModel.from_pretrained(str(gpt2_checkpoint)).eval()
    ids = torch.tensor(g["tokenized_input"]["input_ids"].numpy()).long()
    with torch.no_grad():
        theirs = torch_model.generate(ids, num_beams=2, max_new_tokens=8, pad_token_id=0)
    np.testing.assert_array_equal(g["generated_tokens"].numpy(), theirs.numpy())


def test_trainer_course(sentiment_checkpoint, reviews, tmp_path):
    """The issue's course-style Trainer program (weighted compute_loss, per-epoch eval/save, best model)."""
    g = run_program("trainer_course.py", CHECKPOINT=str(sentiment_checkpoint), OUTPUT_DIR=str(tmp_path), **reviews)
    trainer = g["trainer"]
    # the best checkpoint by f1 was loaded at the end: the model now equals that checkpoint
    best = trainer.state.best_model_checkpoint
    assert best and best.startswith(str(tmp_path))
    reloaded = transformers.AutoModelForSequenceClassification.from_pretrained(best).eval()
    encoding = dict(g["tokenizer"](g["EVAL_TEXTS"][:4], padding=True, return_tensors="np"))
    with torch.no_grad():
        expected = reloaded(**{k: torch.tensor(v) for k, v in encoding.items()}).logits.numpy()
    np.testing.assert_allclose(np.asarray(g["model"](encoding).logits), expected, atol=1e-5)
    # the weighted loss the program's compute_loss defines, by hand on the eval logits: class weights
    # n / (2 n_c); Keras' default reduction divides the weighted sum by the batch size, and equal eval
    # batches (2 x 8) average to the weighted sum over all 16 divided by 16
    logits, labels = g["prediction_output"].predictions, np.asarray(g["EVAL_LABELS"])
    counts = np.bincount(g["TRAIN_LABELS"], minlength=2)
    weights = (len(g["TRAIN_LABELS"]) / (2.0 * counts))[labels]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    by_hand = float(np.sum(-log_probs[np.arange(len(labels)), labels] * weights) / len(labels))
    assert g["metrics"]["eval_loss"] == pytest.approx(by_hand, rel=1e-4)
