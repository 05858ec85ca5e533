"""Keras backends side by side: kerasformers on TensorFlow vs on JAX, with PyTorch transformers.

Each side runs in its own process (the Keras backend is fixed at import; PyTorch gets its own too),
one after the other, with the same thread count:

- encoder: all-MiniLM-L6-v2 forward at ``--encoder-shape`` (default 32 x 128), compiled: on
  TensorFlow ``model(inputs)`` (the default inference path, XLA per length bucket); on JAX a
  ``jax.jit`` of ``model.stateless_call``; PyTorch under ``no_grad``. Best of ``--repeats`` (ms).
- generate: SmolLM2-135M-Instruct greedy, ``--new-tokens`` tokens (``min_new_tokens`` equal, so
  every side makes as many) at each of ``--batches``: tokens/s (best of ``--repeats``) and the
  first call's compile time; ``identical_tokens``: the side's tokens equal the TensorFlow side's.

``main()`` prints one JSON dict: ``{"sides": {"tensorflow": ..., "jax": ..., "torch": ...}, ...}``.

    python benchmarks/bench_jax.py [--new-tokens 32] [--batches 1 8] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # fixture_data: the SmolLM2 checkpoint from its GGUF
sys.path.insert(0, str(HERE))

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
REPORT = "BENCH_JAX_SIDE "


def _best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _timed(function):
    start = time.perf_counter()
    out = function()
    return time.perf_counter() - start, out


def encoder_inputs(batch: int, length: int, vocab: int):
    import numpy as np

    rng = np.random.RandomState(0)
    ids = rng.randint(1000, vocab, (batch, length)).astype(np.int32)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def run_side(side: str, args) -> dict:
    """One side's figures (this process runs ``side``: a Keras backend, or torch)."""
    import numpy as np
    import transformers
    from fixture_data import smollm2_checkpoint

    from kerasformers.data.embedded import minilm_checkpoint

    minilm, smollm2 = minilm_checkpoint(), smollm2_checkpoint()
    batch, length = args.encoder_shape
    out = {"side": side}
    tokenizer = transformers.AutoTokenizer.from_pretrained(smollm2, padding_side="left")
    if side == "torch":
        import torch

        torch.set_num_threads(args.threads)
        encoder = transformers.AutoModel.from_pretrained(minilm).eval()
        inputs = {k: torch.tensor(v, dtype=torch.long) for k, v in encoder_inputs(batch, length, 30000).items()}

        def forward():
            with torch.no_grad():
                return encoder(**inputs).last_hidden_state

        lm = transformers.AutoModelForCausalLM.from_pretrained(smollm2, dtype=torch.float32).eval()

        def generate(prompt, new):
            with torch.no_grad():
                pt = {k: torch.tensor(v) for k, v in prompt.items()}
                return lm.generate(**pt, max_new_tokens=new, min_new_tokens=new, do_sample=False).numpy()

    else:
        import keras

        import kerasformers

        assert keras.backend.backend() == side, (keras.backend.backend(), side)
        encoder = kerasformers.TFAutoModel.from_pretrained(minilm)
        inputs = encoder_inputs(batch, length, 30000)
        if side == "jax":
            import jax

            def run(trainable, non_trainable, inputs):
                return encoder.stateless_call(trainable, non_trainable, inputs, training=False)[0]["last_hidden_state"]

            compiled = jax.jit(run)
            weights = (
                [v.value for v in encoder.trainable_variables],
                [v.value for v in encoder.non_trainable_variables],
            )

            def forward():
                return compiled(*weights, inputs).block_until_ready()

        else:

            def forward():
                return np.asarray(encoder(inputs)["last_hidden_state"])

        lm = kerasformers.TFAutoModelForCausalLM.from_pretrained(smollm2)

        def generate(prompt, new):
            return np.asarray(lm.generate(**prompt, max_new_tokens=new, min_new_tokens=new, do_sample=False))

    first, _ = _timed(forward)
    best = _best(forward, args.repeats)
    out["encoder"] = {
        "model": "all-MiniLM-L6-v2",
        "shape": [batch, length],
        "forward_ms": round(1000 * best, 2),
        "first_call_s": round(first, 2),
    }
    out["generate"] = []
    for rows in args.batches:
        prompts = (PROMPTS * ((rows + len(PROMPTS) - 1) // len(PROMPTS)))[:rows]
        prompt = dict(tokenizer(prompts, return_tensors="np", padding=True))
        prompt = {k: v.astype(np.int32) for k, v in prompt.items()}
        first, tokens = _timed(lambda: generate(prompt, args.new_tokens))
        best = _best(lambda: generate(prompt, args.new_tokens), args.repeats)
        out["generate"].append(
            {
                "batch": rows,
                "new_tokens": args.new_tokens,
                "tokens_per_s": round(rows * args.new_tokens / best, 1),
                "compile_s": round(max(first - best, 0.0), 1),
                "tokens": tokens.tolist(),
            }
        )
    return out


def start_side(side: str, args) -> dict:
    """Run one side in a fresh process (KERAS_BACKEND set for the Keras sides); its JSON report."""
    from worker import set_thread_env

    set_thread_env(args.threads)  # inherited by the child
    env = {**os.environ, "KERAS_BACKEND": side if side != "torch" else "tensorflow"}
    command = [sys.executable, str(Path(__file__).resolve()), "--side", side, *args.forward]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
    line = next((x for x in done.stdout.splitlines() if x.startswith(REPORT)), None)
    if done.returncode != 0 or line is None:
        return {"side": side, "error": done.stderr[-2000:]}
    return json.loads(line[len(REPORT) :])


def main(argv=None) -> dict:
    """Run every side and print (and return) the results as one JSON dict."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--encoder-shape", type=int, nargs=2, default=[32, 128])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sides", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--side", default=None, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    if args.side is not None:
        print(REPORT + json.dumps(run_side(args.side, args)))
        return {}
    args.forward = [
        "--new-tokens", str(args.new_tokens), "--batches", *map(str, args.batches),
        "--encoder-shape", *map(str, args.encoder_shape), "--repeats", str(args.repeats),
        "--threads", str(args.threads),
    ]  # fmt: skip
    results = {
        "threads": args.threads,
        "load_average_start": round(os.getloadavg()[0], 2),
        "sides": {side: start_side(side, args) for side in args.sides},
    }
    # the TensorFlow side's tokens are the reference; the token lists themselves stay out of the report
    reference = [run.get("tokens") for run in results["sides"].get("tensorflow", {}).get("generate", [])]
    for side in results["sides"].values():
        for i, run in enumerate(side.get("generate", [])):
            tokens = run.pop("tokens")
            if i < len(reference):
                run["identical_tokens"] = tokens == reference[i]
    tf_side, jax_side = results["sides"].get("tensorflow", {}), results["sides"].get("jax", {})
    if "encoder" in tf_side and "encoder" in jax_side:
        results["jax_vs_tensorflow"] = {
            "encoder_speed": round(tf_side["encoder"]["forward_ms"] / jax_side["encoder"]["forward_ms"], 2),
            "generate_speed": [
                round(j["tokens_per_s"] / t["tokens_per_s"], 2)
                for t, j in zip(tf_side.get("generate", []), jax_side.get("generate", []))
            ],
        }
    results["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
