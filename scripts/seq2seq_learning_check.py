"""Real seq2seq learning check: a small T5 trained from scratch restores the casing and punctuation of
lower-cased, punctuation-free movie-review sentences (vaderSentiment's hutto_ICWSM_2014 data, built into the cache).

Held-out sentences are scored by exact match and chrF (character 6-grams, beta 2) against the copy-the-input
baseline (the lower-cased source as the prediction). Prints one JSON line with the figures.

Usage:
    .venv/bin/python scripts/seq2seq_learning_check.py --epochs 12 --train 3000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np


def make_pairs(sentences):
    """(source, target): the target is the sentence; the source lower-cased without punctuation."""
    pairs = []
    for sentence in sentences:
        target = " ".join(sentence.split())
        source = " ".join(re.sub(r"[^\w\s']", " ", target.lower()).split())
        if source and source != target:
            pairs.append((source, target))
    return pairs


def chrf(hypotheses, references, order: int = 6, beta: float = 2.0) -> float:
    """Corpus chrF in 0..100: character 1..6-grams (spaces removed), beta 2, over the orders the references have."""
    matches, hyp_total, ref_total = np.zeros(order), np.zeros(order), np.zeros(order)
    for hyp, ref in zip(hypotheses, references):
        hyp, ref = hyp.replace(" ", ""), ref.replace(" ", "")
        for n in range(1, order + 1):
            h = Counter(hyp[i : i + n] for i in range(len(hyp) - n + 1))
            r = Counter(ref[i : i + n] for i in range(len(ref) - n + 1))
            matches[n - 1] += sum((h & r).values())
            hyp_total[n - 1] += sum(h.values())
            ref_total[n - 1] += sum(r.values())
    used = ref_total > 0  # the orders the references have n-grams of (short texts have no 6-grams)
    if not used.any():
        return 0.0
    precision = np.mean(np.divide(matches, hyp_total, out=np.zeros(order), where=hyp_total > 0)[used])
    recall = np.mean((matches / np.maximum(ref_total, 1))[used])
    if precision + recall == 0:
        return 0.0
    return float(100 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall))


def run(train_size: int = 3000, test_size: int = 200, epochs: int = 12, max_words: int = 12, seed: int = 0) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import keras
    import tensorflow as tf
    from seq2seq_data import write_t5_tokenizer

    from kerasformers.data.embedded import read_movie_review_scores
    from kerasformers.models.t5 import T5Config, TFT5ForConditionalGeneration
    from kerasformers.models.t5.tokenization_t5 import T5TokenizerFast

    keras.utils.set_random_seed(seed)
    sentences = [s for s, _ in read_movie_review_scores() if len(s.split()) <= max_words]
    rng = np.random.default_rng(seed)
    pairs = make_pairs([sentences[i] for i in rng.permutation(len(sentences))])
    test, train = pairs[:test_size], pairs[test_size : test_size + train_size]
    with tempfile.TemporaryDirectory() as folder:
        tokenizer = T5TokenizerFast.from_pretrained(write_t5_tokenizer(Path(folder), vocab_size=400))
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=128,
        d_kv=32,
        d_ff=256,
        num_layers=2,
        num_heads=4,
        feed_forward_proj="relu",
        dropout_rate=0.0,
        decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = TFT5ForConditionalGeneration(config)
    batch = tokenizer(
        [s for s, _ in train],
        text_target=[t for _, t in train],
        padding="max_length",
        truncation=True,
        max_length=48,
        return_tensors="np",
    )
    batch["labels"] = np.where(batch["labels"] == tokenizer.pad_token_id, -100, batch["labels"])
    model.compile(optimizer=keras.optimizers.Adam(2e-3), jit_compile=True)
    start = time.time()
    history = model.fit(dict(batch), batch_size=32, epochs=epochs, verbose=0)
    train_seconds = time.time() - start
    sources, references = [s for s, _ in test], [t for _, t in test]
    hypotheses = []
    for i in range(0, len(sources), 50):
        inputs = tokenizer(sources[i : i + 50], padding=True, return_tensors="np")
        out = model.generate(**inputs, max_new_tokens=48, num_beams=1)
        hypotheses += tokenizer.batch_decode(np.asarray(out), skip_special_tokens=True)
    del tf
    return {
        "train_pairs": len(train),
        "test_pairs": len(test),
        "epochs": epochs,
        "final_loss": float(history.history["loss"][-1]),
        "train_seconds": round(train_seconds, 1),
        "model_chrf": round(chrf(hypotheses, references), 2),
        "copy_chrf": round(chrf(sources, references), 2),
        "model_exact_match": round(float(np.mean([h == r for h, r in zip(hypotheses, references)])), 4),
        "copy_exact_match": round(float(np.mean([s == r for s, r in zip(sources, references)])), 4),
        "examples": [
            {"source": s, "model": h, "target": r} for s, h, r in list(zip(sources, hypotheses, references))[:3]
        ],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(run(args.train, args.test, args.epochs, seed=args.seed)))
