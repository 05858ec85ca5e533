"""Greedy generation speed: kerasformers (XLA, static KV cache) vs PyTorch transformers, same run.

SmolLM2-135M-Instruct, batch 1 and 8 (left-padded prompts of different lengths), greedy with
``min_new_tokens`` = ``max_new_tokens`` so both sides make exactly as many tokens. Per batch:

- tokens/s in steady state (best of ``--repeats`` alternated rounds: ours, then PyTorch's);
- time to first token (``max_new_tokens=1``: the prefill and one token choice), both sides;
- compile time: the first call's time minus the steady-state time, for the first call of the
  process (``compile_s``) and, after it, for a call with another prompt length and
  ``max_new_tokens`` in the same buckets (``reuse_compile_s``: near 0 when the program is reused).

``main()`` prints one JSON dict.

    python benchmarks/bench_generate.py [--new-tokens 128] [--batches 1 8] [--repeats 3]
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


def _timed(function):
    start = time.perf_counter()
    out = function()
    return time.perf_counter() - start, out


def main(argv=None) -> dict:
    """Run the benchmark and print (and return) its results as a JSON dict."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    import transformers
    from fixture_data import smollm2_checkpoint

    import kerasformers

    folder = smollm2_checkpoint()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, padding_side="left")
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(folder)
    new = args.new_tokens
    results = {
        "model": "SmolLM2-135M-Instruct",
        "new_tokens": new,
        "torch_threads": torch.get_num_threads(),
        "load_average_start": round(os.getloadavg()[0], 2),
        "runs": [],
    }

    def ours(inputs, count, min_count=None):
        # min_new_tokens is part of the compiled loop's settings: the reuse call keeps the first call's
        settings = dict(max_new_tokens=count, min_new_tokens=min_count or count, do_sample=False)
        return model.generate(**inputs, **settings).numpy()

    def theirs(inputs, count):
        pt_inputs = {k: torch.tensor(v) for k, v in inputs.items()}
        with torch.no_grad():
            return torch_model.generate(
                **pt_inputs, max_new_tokens=count, min_new_tokens=count, do_sample=False
            ).numpy()

    for batch in args.batches:
        prompts = (PROMPTS * ((batch + len(PROMPTS) - 1) // len(PROMPTS)))[:batch]
        inputs = dict(tokenizer(prompts, return_tensors="np", padding=True))
        first_call, _ = _timed(lambda: ours(inputs, new))
        first_token_call, _ = _timed(lambda: ours(inputs, 1))
        theirs(inputs, 4)  # warm-up
        times = {"ours": [], "theirs": [], "ours_ttft": [], "theirs_ttft": []}
        for _ in range(args.repeats):  # alternated, so both sides see the same load
            seconds, ours_out = _timed(lambda: ours(inputs, new))
            times["ours"].append(seconds)
            seconds, torch_out = _timed(lambda: theirs(inputs, new))
            times["theirs"].append(seconds)
            times["ours_ttft"].append(_timed(lambda: ours(inputs, 1))[0])
            times["theirs_ttft"].append(_timed(lambda: theirs(inputs, 1))[0])
        best = {k: min(v) for k, v in times.items()}
        # another prompt length and max_new_tokens in the same buckets: the compiled program is reused
        shorter = {k: v[:, 1:] for k, v in inputs.items()}
        other = new - 1 if new > 16 else new
        reuse_call, _ = _timed(lambda: ours(shorter, other, new))
        steady_other = min(_timed(lambda: ours(shorter, other, new))[0] for _ in range(2))
        ours_tps, torch_tps = batch * new / best["ours"], batch * new / best["theirs"]
        identical = ours_out.shape == torch_out.shape and bool(np.array_equal(ours_out, torch_out))
        results["runs"].append(
            {
                "batch": batch,
                "kerasformers_tokens_per_s": round(ours_tps, 1),
                "transformers_tokens_per_s": round(torch_tps, 1),
                "speedup": round(ours_tps / torch_tps, 2),
                "kerasformers_ttft_ms": round(1000 * best["ours_ttft"], 1),
                "transformers_ttft_ms": round(1000 * best["theirs_ttft"], 1),
                "ttft_speedup": round(best["theirs_ttft"] / best["ours_ttft"], 2),
                "kerasformers_compile_s": round(first_call - best["ours"], 1),
                "kerasformers_ttft_compile_s": round(first_token_call - best["ours_ttft"], 1),
                "kerasformers_reuse_compile_s": round(max(reuse_call - steady_other, 0.0), 2),
                "identical_tokens": identical,
            }
        )
    results["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
