"""text2text-generation export: source strings in, generated strings out, the seq2seq generate loop in the graph.

A tiny random T5 (tests/seq2seq_data.py's SentencePiece vocabulary) exported by ``kerasformers export ...
--task text2text-generation --with-tokenizer``. Oracles: PyTorch transformers' generate() on the same weights
and token ids (the batch right-padded by transformers' tokenizer) and transformers' decode; our own generate()
+ batch_decode must give the same. The fresh-process check (TensorFlow and tensorflow-text only) and the beam
export are slow; the signature, one batch in-process and the option checks run always.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from seq2seq_data import write_t5_tokenizer
from test_export import run_fresh

MAX_NEW = 8
MAX_SOURCE = 64  # source buckets 16, 32 and 64
# (this tiny vocabulary splits words finely) the first batch fits bucket 32, the second needs 64; in the second,
# row 0 ends early at eos
BATCHES = [
    ["The film is great fun.", "Café 😀 naïve", "ok"],
    ["A dull and lifeless movie with no story at all, none of it works.", "Bad"],
]


@pytest.fixture(scope="module")
def t5_checkpoint(tmp_path_factory):
    """(folder, PyTorch model, transformers tokenizer): a tiny random T5 whose greedy outputs vary and stop."""
    folder = write_t5_tokenizer(tmp_path_factory.mktemp("t5_export"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    config = transformers.T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        initializer_factor=5.0,  # larger random weights: greedy picks varied tokens rather than repeating one
    )
    torch.manual_seed(4)
    model = transformers.T5ForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    return folder, model, tokenizer


def torch_generate(t5_checkpoint, texts, **kwargs):
    """transformers' new token ids (after the decoder start token) and their decoded texts."""
    _, model, tokenizer = t5_checkpoint
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, do_sample=False, max_new_tokens=MAX_NEW, **kwargs)[:, 1:].numpy()
    return out, [tokenizer.decode(row, skip_special_tokens=True) for row in out]


@pytest.fixture(scope="module")
def exported(t5_checkpoint, tmp_path_factory):
    """The greedy export, written by the command line as the issue runs it."""
    from kerasformers.cli import main

    out = tmp_path_factory.mktemp("served") / "t5"
    command = ["export", str(t5_checkpoint[0]), str(out), "--task", "text2text-generation", "--with-tokenizer"]
    assert main([*command, "--max-new-tokens", str(MAX_NEW), "--max-source-length", str(MAX_SOURCE)]) == 0
    (path,) = out.iterdir()
    return path


@pytest.fixture(scope="module")
def served(exported):
    return tf.saved_model.load(str(exported)).signatures["serving_default"]


def test_exported_signature_and_greedy_strings_match_transformers(exported, served, t5_checkpoint):
    assert set(served.structured_input_signature[1]) == {"text"}
    assert set(served.structured_outputs) == {
        "generated_text",
        "generated_ids",
        "num_generated_tokens",
        "num_source_tokens",
    }
    assert (exported / "assets.extra" / "task.txt").read_text() == "text2text-generation"
    export = json.loads((exported / "assets.extra" / "export.json").read_text())
    assert export["source_buckets"] == [16, 32, 64] and export["max_new_tokens"] == MAX_NEW
    tokenizer = t5_checkpoint[2]
    for texts in BATCHES:
        theirs, texts_out = torch_generate(t5_checkpoint, texts)
        got = served(text=tf.constant(texts))
        np.testing.assert_array_equal(got["generated_ids"].numpy(), theirs)
        assert [t.decode() for t in got["generated_text"].numpy()] == texts_out
        stops = [next((j + 1 for j, t in enumerate(row) if t == 1), len(row)) for row in theirs]
        np.testing.assert_array_equal(got["num_generated_tokens"].numpy(), stops)
        lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]
        np.testing.assert_array_equal(got["num_source_tokens"].numpy(), lengths)
    assert stops[0] < MAX_NEW  # an eos really ended a row early


def test_too_long_source_is_a_clear_error(served):
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_source_length=64"):
        served(text=tf.constant(["word " * 70, "short"]))


@pytest.mark.slow  # a new process loading the export (~30 s)
def test_fresh_process_without_kerasformers_gives_generate_and_decode(exported, t5_checkpoint, tmp_path):
    import kerasformers

    (tmp_path / "batches.json").write_text(json.dumps(BATCHES))
    run_fresh(
        """
        import json, sys, numpy as np, tensorflow as tf, tensorflow_text
        path, out = sys.argv[1], sys.argv[2]
        serve = tf.saved_model.load(path).signatures["serving_default"]
        for i, texts in enumerate(json.load(open(out + "/batches.json"))):
            result = serve(text=tf.constant(texts))
            np.savez(f"{out}/batch{i}.npz", **{k: v.numpy() for k, v in result.items()})
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
        """,
        str(exported),
        str(tmp_path),
    )
    folder = t5_checkpoint[0]
    model = kerasformers.TFAutoModelForSeq2SeqLM.from_pretrained(folder)
    tokenizer = kerasformers.AutoTokenizer.from_pretrained(folder)
    for i, texts in enumerate(BATCHES):
        got = np.load(tmp_path / f"batch{i}.npz", allow_pickle=True)
        ours = np.asarray(model.generate(**tokenizer(texts, padding=True, return_tensors="np"), max_new_tokens=MAX_NEW))
        np.testing.assert_array_equal(got["generated_ids"], ours[:, 1:])
        assert [t.decode() for t in got["generated_text"]] == tokenizer.batch_decode(ours, skip_special_tokens=True)
        np.testing.assert_array_equal(got["generated_ids"], torch_generate(t5_checkpoint, texts)[0])


@pytest.mark.slow  # a second export (~30 s)
def test_beam_search_export_matches_transformers(t5_checkpoint, tmp_path):
    from kerasformers import TFAutoModelForSeq2SeqLM
    from kerasformers.serving import export_pipeline

    beam = dict(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3)
    model = TFAutoModelForSeq2SeqLM.from_pretrained(t5_checkpoint[0])
    path = export_pipeline(
        model,
        tmp_path / "beam",
        task="text2text-generation",
        max_new_tokens=MAX_NEW,
        max_source_length=MAX_SOURCE,
        **beam,
    )
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    for texts in BATCHES:
        theirs, texts_out = torch_generate(t5_checkpoint, texts, **beam)
        got = serve(text=tf.constant(texts))
        np.testing.assert_array_equal(got["generated_ids"].numpy(), theirs)
        assert [t.decode() for t in got["generated_text"].numpy()] == texts_out


def test_export_options_are_checked(t5_checkpoint, tmp_path):
    from kerasformers import GPT2Config, TFAutoModelForSeq2SeqLM, TFGPT2LMHeadModel
    from kerasformers.serving import export_pipeline

    model = TFAutoModelForSeq2SeqLM.from_pretrained(t5_checkpoint[0])
    with pytest.raises(TypeError, match="max_new_token"):
        export_pipeline(model, tmp_path / "a", task="text2text-generation", max_new_token=3)
    with pytest.raises(NotImplementedError, match="num_return_sequences=1"):
        export_pipeline(model, tmp_path / "a", task="text2text-generation", num_beams=2, num_return_sequences=2)
    with pytest.raises(ValueError, match="source_truncation"):
        export_pipeline(model, tmp_path / "a", task="text2text-generation", source_truncation="left")
    with pytest.raises(ValueError, match="with_tokenizer"):
        export_pipeline(model, tmp_path / "a", task="text2text-generation", with_tokenizer=False)
    decoder_only = TFGPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=1, n_head=2, n_positions=32))
    with pytest.raises(ValueError, match="encoder-decoder"):
        export_pipeline(decoder_only, tmp_path / "a", task="text2text-generation", tokenizer=object())
    assert not (tmp_path / "a").exists()  # nothing half-written
