"""Deployment benchmarks: in-graph tokenizer throughput and exported-model latency.

``main()`` prints one JSON dict:

- ``tokenizer_texts_per_s_in_graph`` / ``..._tokenizers_library``: all-MiniLM-L6-v2's WordPiece
  over a batch of movie-review-like sentences, TFBertTokenizer in a tf.function vs the Rust
  ``tokenizers`` library (batch encode with padding), and their ratio.
- ``bpe_tokenizer_texts_per_s_in_graph`` / ``..._tokenizers_library``: the same for byte-level
  BPE with Llama 3's vocabulary (128k tokens, 280k merges; llama.cpp's ggml-vocab-llama-bpe):
  TFByteLevelBPETokenizer vs the Python tokenizer over the same texts, and their ratio.
- ``latency_ms_saved_model_batch1`` / ``latency_ms_python_batch1``: one sentence through the
  exported end-to-end text-classification SavedModel (strings in) vs the Python path
  (Python tokenizer + Keras model call); medians.

Example:
    python benchmarks/bench_export.py --repeats 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The test-only real data (SmolLM2, llama.cpp vocabularies) are built by tests/fixture_data.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm up (tracing, first-call costs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _bpe_tokenizer_ms(batch, texts: list[str], repeats: int) -> dict:
    """Llama 3's byte-level BPE: the in-graph layer (tf.function) vs the Python tokenizer, same texts."""
    import tensorflow as tf
    from fixture_data import llama_cpp_vocab

    from kerasformers.tokenization import TFAutoTokenizer, tokenizer_from_gguf

    python_tokenizer = tokenizer_from_gguf(llama_cpp_vocab("llama-bpe"), pad_token="<|end_of_text|>")
    start = time.perf_counter()
    graph_tokenizer = TFAutoTokenizer.from_tokenizer(python_tokenizer, truncation=True, max_length=128)
    build_s = time.perf_counter() - start
    tokenize = tf.function(
        lambda t: graph_tokenizer(t)["input_ids"], input_signature=[tf.TensorSpec([None], tf.string)]
    )
    sides = {
        "in_graph_ms": lambda: tokenize(batch).numpy(),
        "library_ms": lambda: python_tokenizer(
            texts, padding=True, truncation=True, max_length=128, return_tensors="np"
        ),
    }
    times = {name: [] for name in sides}
    for fn in sides.values():
        fn()  # warm up (tracing, first-call costs)
    for _ in range(repeats):  # alternated, so both sides see the same machine
        for name, fn in sides.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {"build_s": build_s, **{name: statistics.median(t) for name, t in times.items()}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    from kerasformers import AutoTokenizer, TFAutoModelForSequenceClassification
    from kerasformers.data.embedded import minilm_checkpoint
    from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer
    from kerasformers.serving import export_pipeline

    checkpoint = minilm_checkpoint()
    base = [
        "The film is a charming, funny and moving portrait of a family.",
        "Café scenes, naïve heroes and a plot that never quite lands 😀",
        "An utterly forgettable sequel with none of the original's wit.",
    ]
    texts = [base[i % len(base)] + f" #{i}" for i in range(args.batch)]
    python_tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    graph_tokenizer = TFBertTokenizer.from_pretrained(checkpoint, max_length=128)
    tokenize = tf.function(
        lambda t: graph_tokenizer(t)["input_ids"], input_signature=[tf.TensorSpec([None], tf.string)]
    )
    batch = tf.constant(texts)
    in_graph_ms = _median_ms(lambda: tokenize(batch).numpy(), args.repeats)
    library_ms = _median_ms(
        lambda: python_tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="np"),
        args.repeats,
    )
    bpe = _bpe_tokenizer_ms(batch, texts, args.repeats)

    model = TFAutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    with tempfile.TemporaryDirectory() as folder:
        path = export_pipeline(model, folder, task="text-classification", tokenizer=graph_tokenizer)
        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        one = tf.constant(texts[:1])
        saved_ms = _median_ms(lambda: serve(text=one)["probabilities"].numpy(), args.repeats)

    def python_path():
        encoded = python_tokenizer(texts[:1], return_tensors="np")
        logits = model(dict(encoded)).logits
        return np.asarray(tf.nn.softmax(logits))

    python_ms = _median_ms(python_path, args.repeats)
    result = {
        "batch": args.batch,
        "tokenizer_texts_per_s_in_graph": round(args.batch / in_graph_ms * 1000, 1),
        "tokenizer_texts_per_s_tokenizers_library": round(args.batch / library_ms * 1000, 1),
        "tokenizer_in_graph_over_library_time": round(in_graph_ms / library_ms, 2),
        "bpe_tokenizer_vocabulary": "Llama 3 (llama.cpp ggml-vocab-llama-bpe)",
        "bpe_tokenizer_build_s": round(bpe["build_s"], 2),
        "bpe_tokenizer_texts_per_s_in_graph": round(args.batch / bpe["in_graph_ms"] * 1000, 1),
        "bpe_tokenizer_texts_per_s_tokenizers_library": round(args.batch / bpe["library_ms"] * 1000, 1),
        "bpe_tokenizer_in_graph_over_library_time": round(bpe["in_graph_ms"] / bpe["library_ms"], 2),
        "latency_ms_saved_model_batch1": round(saved_ms, 2),
        "latency_ms_python_batch1": round(python_ms, 2),
        "latency_saved_model_over_python": round(saved_ms / python_ms, 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
