"""kerasformers pretrain: tokenizer + masked LM from scratch on a folder of text, loadable by PyTorch.

One tiny run (1 layer, hidden 32, blocks of 32 tokens, a few steps) through ``cli.main`` in this
process; the oracle is PyTorch transformers 5.23 loading the saved folder: the same token ids from
its tokenizer and the same MLM logits (<= 1e-4) from its model.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
import transformers
from seq2seq_data import movie_sentences

from kerasformers import AutoTokenizer, TFAutoModelForMaskedLM
from kerasformers.cli import main

TINY = [
    "--vocab-size", "300", "--epochs", "1", "--block-size", "32", "--batch-size", "8", "--hidden-size", "32",
    "--num-layers", "1", "--num-heads", "2", "--intermediate-size", "64", "--max-steps-per-epoch", "4",
    "--num-shards", "2", "--quiet",
]  # fmt: skip
TEXTS = ["A charming, funny little movie.", "The plot makes no sense at all."]


@pytest.fixture(scope="session", params=["roberta", pytest.param("bert", marks=pytest.mark.slow)])
def pretrained(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"pretrain-{request.param}")
    corpus = root / "corpus"
    corpus.mkdir()
    sentences = movie_sentences(400)
    (corpus / "part1.txt").write_text("\n".join(sentences[:200]), encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "part2.txt").write_text("\n".join(sentences[200:]), encoding="utf-8")
    out = root / "out"
    assert main(["pretrain", "--corpus", str(corpus), "--out", str(out), "--model-type", request.param, *TINY]) == 0
    return request.param, out


def test_pytorch_loads_the_output_with_the_same_ids_and_logits(pretrained):
    model_type, out = pretrained
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == model_type
    ours_tok = AutoTokenizer.from_pretrained(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_tok = transformers.AutoTokenizer.from_pretrained(out)
        theirs = transformers.AutoModelForMaskedLM.from_pretrained(out).eval()
    ids = ours_tok(TEXTS, padding=True)
    assert ids["input_ids"] == theirs_tok(TEXTS, padding=True)["input_ids"]
    ours = TFAutoModelForMaskedLM.from_pretrained(out)
    feed = {k: np.asarray(ids[k]) for k in ("input_ids", "attention_mask")}
    ours_logits = np.asarray(ours(feed).logits)
    with torch.no_grad():
        theirs_logits = theirs(**{k: torch.tensor(v) for k, v in feed.items()}).logits.numpy()
    assert ours_logits.shape == (2, len(ids["input_ids"][0]), config["vocab_size"])
    np.testing.assert_allclose(ours_logits, theirs_logits, atol=1e-4, rtol=1e-4)


def test_held_out_perplexity_is_reported_and_shards_written(pretrained):
    _, out = pretrained
    results = json.loads((out / "pretrain_results.json").read_text())
    (epoch,) = results["epochs"]
    assert epoch["held_out_perplexity"] == pytest.approx(math.exp(epoch["held_out_loss"]), rel=1e-6)
    # a trained model beats guessing uniformly over the vocabulary
    assert epoch["held_out_perplexity"] < results["vocab_size"]
    assert len(list((out / "data" / "train").glob("*.tfrecord"))) == 2
    assert not (out / "checkpoints").exists() or not any((out / "checkpoints").iterdir())


def test_bad_corpus_is_one_clear_error(tmp_path, capsys):
    assert main(["pretrain", "--corpus", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), *TINY]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["pretrain", "--corpus", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), *TINY]) == 2
    assert "holds no .txt files" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
