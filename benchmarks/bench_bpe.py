"""In-graph tokenizers vs the tokenizers library, texts per second at one batch size.

``main()`` prints one JSON dict. Both sides tokenize the same texts with padding and truncation
to 128 tokens, timed alternately (in-graph, library, in-graph, ...) in this one process with the
same thread count; medians per side, of wall time and (``*_cpu_time_vs_library``: the
library's CPU time over ours, > 1 when ours uses less) of this process's CPU time.

- ``bpe_*``: byte-level BPE with Llama 3's vocabulary (128k tokens, 280k merges; llama.cpp's
  ggml-vocab-llama-bpe): ``TFAutoTokenizer.from_tokenizer`` (a tf.function) vs the Python
  tokenizer over the same vocabulary (the tokenizers library underneath).
- ``wordpiece_*``: all-MiniLM-L6-v2's WordPiece, TFBertTokenizer vs its Python tokenizer.
- two text sets: ``reviews`` (the first movie-review sentences of the vaderSentiment sdist, real
  text with many distinct words; made-up sentences when the archive is missing) and
  ``repeated`` (bench_export.py's three sentences with a counter: few distinct words).

Example:
    python benchmarks/bench_bpe.py --batch 256 --rounds 15
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # fixture_data: the llama.cpp vocabularies
sys.path.insert(0, str(HERE))


def _repeated_texts(batch: int) -> list[str]:
    base = [
        "The film is a charming, funny and moving portrait of a family.",
        "Café scenes, naïve heroes and a plot that never quite lands 😀",
        "An utterly forgettable sequel with none of the original's wit.",
    ]
    return [base[i % len(base)] + f" #{i}" for i in range(batch)]


def _review_texts(batch: int) -> tuple[list[str], str]:
    from bench import sentences  # the benchmark's own sentence source (archive or generated)

    texts, source = sentences(max(batch, 1000))
    return texts[:batch], source


def _alternate(sides: dict, rounds: int) -> tuple[dict, dict]:
    """Median wall seconds and median CPU seconds (this process, all threads) per side.

    Each round times every side once, in turn. CPU time is steadier than wall time on a
    loaded machine.
    """
    for fn in sides.values():
        fn()  # warm up: tracing, first-call costs
        fn()
    times = {name: [] for name in sides}
    cpu_times = {name: [] for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu_start)
    median = statistics.median
    return {name: median(ts) for name, ts in times.items()}, {name: median(ts) for name, ts in cpu_times.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)

    import tensorflow as tf
    from fixture_data import llama_cpp_vocab

    from kerasformers import AutoTokenizer
    from kerasformers.data.embedded import minilm_checkpoint
    from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer
    from kerasformers.tokenization import TFAutoTokenizer, tokenizer_from_gguf

    signature = [tf.TensorSpec([None], tf.string)]
    options = dict(padding=True, truncation=True, max_length=128, return_tensors="np")
    bpe_python = tokenizer_from_gguf(llama_cpp_vocab("llama-bpe"), pad_token="<|end_of_text|>")
    start = time.perf_counter()
    bpe_graph = TFAutoTokenizer.from_tokenizer(bpe_python, truncation=True, max_length=128)
    bpe_build_s = time.perf_counter() - start
    checkpoint = minilm_checkpoint()
    wordpiece_python = AutoTokenizer.from_pretrained(checkpoint)
    wordpiece_graph = TFBertTokenizer.from_pretrained(checkpoint, max_length=128)
    graphs = {
        "bpe": (tf.function(lambda t: bpe_graph(t)["input_ids"], input_signature=signature), bpe_python),
        "wordpiece": (
            tf.function(lambda t: wordpiece_graph(t)["input_ids"], input_signature=signature),
            wordpiece_python,
        ),
    }
    reviews, source = _review_texts(args.batch)
    result = {
        "batch": args.batch,
        "rounds": args.rounds,
        "load_average_start": round(os.getloadavg()[0], 2),
        "bpe_vocabulary": "Llama 3 (llama.cpp ggml-vocab-llama-bpe)",
        "bpe_build_s": round(bpe_build_s, 2),
        "reviews_source": source,
    }
    for text_set, texts in (("reviews", reviews), ("repeated", _repeated_texts(args.batch))):
        batch = tf.constant(texts)
        for kind, (graph, python) in graphs.items():
            medians, cpu_medians = _alternate(
                {"in_graph": lambda g=graph: g(batch).numpy(), "library": lambda p=python: p(texts, **options)},
                args.rounds,
            )
            key = f"{kind}_{text_set}"
            result[f"{key}_texts_per_s_in_graph"] = round(args.batch / medians["in_graph"], 1)
            result[f"{key}_texts_per_s_library"] = round(args.batch / medians["library"], 1)
            result[f"{key}_in_graph_speed_vs_library"] = round(medians["library"] / medians["in_graph"], 2)
            result[f"{key}_in_graph_cpu_time_vs_library"] = round(cpu_medians["library"] / cpu_medians["in_graph"], 2)
    result["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
