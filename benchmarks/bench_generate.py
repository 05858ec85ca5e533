"""Greedy generation speed: kerasformers (XLA, static KV cache) vs PyTorch transformers, same run.

SmolLM2-135M-Instruct, 128 new tokens, batch 1 and 8 (left-padded prompts of different
lengths). Compile time (the first call) is reported apart from the steady-state tokens/s.
``main()`` prints one JSON dict.

    python benchmarks/bench_generate.py [--new-tokens 128] [--batches 1 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# The test-only real data (SmolLM2, llama.cpp vocabularies) are built by tests/fixture_data.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROMPTS = [
    "TensorFlow is",
    "The capital of France is",
    "Write a short poem about the sea and the wind that blows over",
    "Keras 3 runs on several backends; the one we use here",
    "Once upon a time",
    "List three uses of a large language model:",
    "def fibonacci(n):",
    "The quick brown fox jumps over the lazy dog because",
]


def _best_time(function, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = function()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv=None) -> dict:
    """Run the benchmark and print (and return) its results as a JSON dict."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    import torch
    import transformers
    from fixture_data import smollm2_checkpoint

    import kerasformers

    folder = smollm2_checkpoint()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, padding_side="left")
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(folder)
    new = args.new_tokens
    # min_new_tokens keeps both sides generating exactly `new` tokens (no early EOS)
    settings = dict(max_new_tokens=new, min_new_tokens=new, do_sample=False)
    results = {
        "model": "SmolLM2-135M-Instruct",
        "new_tokens": new,
        "torch_threads": torch.get_num_threads(),
        "runs": [],
    }
    for batch in args.batches:
        prompts = (PROMPTS * ((batch + len(PROMPTS) - 1) // len(PROMPTS)))[:batch]
        inputs = dict(tokenizer(prompts, return_tensors="np", padding=True))
        start = time.perf_counter()
        ours_out = model.generate(**inputs, **settings)
        first_call = time.perf_counter() - start
        ours_time, ours_out = _best_time(lambda: model.generate(**inputs, **settings).numpy(), args.repeats)
        pt_inputs = {k: torch.tensor(v) for k, v in inputs.items()}
        with torch.no_grad():
            torch_model.generate(**pt_inputs, max_new_tokens=4, do_sample=False)  # warm-up
            torch_time, torch_out = _best_time(
                lambda: torch_model.generate(**pt_inputs, **settings).numpy(), args.repeats
            )
        ours_tps = batch * new / ours_time
        torch_tps = batch * new / torch_time
        results["runs"].append(
            {
                "batch": batch,
                "kerasformers_tokens_per_s": round(ours_tps, 1),
                "transformers_tokens_per_s": round(torch_tps, 1),
                "speedup": round(ours_tps / torch_tps, 2),
                "kerasformers_compile_s": round(first_call - ours_time, 1),
                "identical_tokens": bool((ours_out == torch_out).all()) if ours_out.shape == torch_out.shape else False,
            }
        )
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
