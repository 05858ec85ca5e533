"""Training speed: Keras ``fit()`` vs a plain PyTorch transformers loop, same run.

all-MiniLM-L6-v2 with a new sequence-classification head (2 labels), batch 32 at sequence 64
and 128 (random token ids, no padding), AdamW (learning rate 2e-5, weight decay 0.01),
dropout on, float32, CPU. Ours: ``model.compile(optimizer=keras.optimizers.AdamW(...),
jit_compile=True)`` (and ``jit_compile=False``, "eager fit": Keras' train step as a plain
tf.function) then ``model.fit(x, y, batch_size=32)`` on in-memory arrays, the default loss.
PyTorch: ``model.train()``, then per batch forward with labels, ``loss.backward()``,
``optimizer.step()``, ``optimizer.zero_grad()`` (torch.optim.AdamW, the same settings).

Each variant lives in its own worker process (thread pools never compete) with the same
thread count; after a warm-up (tracing, XLA compilation: reported as ``*_compile_s``) the
parent alternates timed requests between them, ``--steps`` optimizer steps each, and
reports medians in samples/s. ``main()`` prints one JSON dict.

    python benchmarks/bench_training.py [--seq 64 128] [--steps 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH = 32
LEARNING_RATE = 2e-5
WEIGHT_DECAY = 0.01
VARIANTS = ("xla", "eager", "torch")  # ours jit_compile=True, ours jit_compile=False, PyTorch
ROOT = Path(__file__).resolve().parents[1]


def _data(seq: int, steps: int, vocab_size: int, seed: int = 0):
    import numpy as np

    rng = np.random.RandomState(seed)
    ids = rng.randint(1000, vocab_size, (steps * BATCH, seq)).astype(np.int64)
    x = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    return x, rng.randint(0, 2, (steps * BATCH,)).astype(np.int64)


class Ours:
    def __init__(self, path: str, jit: bool):
        import keras

        import kerasformers

        self.keras = keras
        self.model = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
        self.model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY), jit_compile=jit
        )

    def train(self, seq: int, steps: int) -> float:
        x, y = _data(seq, steps, self.model.config.vocab_size)
        start = time.perf_counter()
        self.model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start


class Torch:
    def __init__(self, path: str):
        import torch
        import transformers

        self.torch = torch
        torch.manual_seed(0)
        self.model = transformers.AutoModelForSequenceClassification.from_pretrained(path, num_labels=2).train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

    def train(self, seq: int, steps: int) -> float:
        x, y = _data(seq, steps, self.model.config.vocab_size)
        batches = [
            (
                {k: self.torch.from_numpy(v[i : i + BATCH]) for k, v in x.items()},
                self.torch.from_numpy(y[i : i + BATCH]),
            )
            for i in range(0, len(y), BATCH)
        ]
        start = time.perf_counter()
        for inputs, labels in batches:
            loss = self.model(**inputs, labels=labels).loss
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
        return time.perf_counter() - start


def serve(variant: str, path: str, threads: int) -> None:
    """Worker: one JSON request per stdin line ({"seq", "steps"}), one JSON reply per line."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if variant == "torch":
        import torch

        torch.set_num_threads(threads)
        side = Torch(path)
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        side = Ours(path, jit=variant == "xla")
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("exit"):
            return
        protocol.write(json.dumps({"seconds": side.train(request["seq"], request["steps"])}) + "\n")


def _environment(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seq", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per timed request")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--checkpoint", default=None, help="default: all-MiniLM-L6-v2 from its pip package")
    args = parser.parse_args(argv)
    if args.checkpoint is None:
        sys.path.insert(0, str(ROOT / "src"))
        from kerasformers.data.embedded import minilm_checkpoint

        args.checkpoint = str(minilm_checkpoint())
    load_start = os.getloadavg()[0]
    workers = {
        v: subprocess.Popen(
            [sys.executable, "-u", __file__, "--worker", v, args.checkpoint, str(args.threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_environment(args.threads),
        )
        for v in VARIANTS
    }

    def request(variant, seq, steps):
        process = workers[variant]
        process.stdin.write(json.dumps({"seq": seq, "steps": steps}) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {variant} worker died (its stderr is above)")
        return json.loads(line)["seconds"]

    runs = []
    try:
        for seq in args.seq:
            compile_s = {v: request(v, seq, 2) for v in VARIANTS}  # tracing / compilation + 2 steps
            times = {v: [] for v in VARIANTS}
            for _ in range(args.rounds):
                for v in VARIANTS:
                    times[v].append(request(v, seq, args.steps))
            rate = {v: args.steps * BATCH / statistics.median(ts) for v, ts in times.items()}
            runs.append(
                {
                    "batch": BATCH,
                    "seq": seq,
                    "fit_xla_samples_per_s": round(rate["xla"], 2),
                    "fit_eager_samples_per_s": round(rate["eager"], 2),
                    "torch_loop_samples_per_s": round(rate["torch"], 2),
                    "speedup": round(rate["xla"] / rate["torch"], 3),
                    "speedup_eager_fit": round(rate["eager"] / rate["torch"], 3),
                    "first_fit_s_xla": round(compile_s["xla"], 2),
                    "first_fit_s_eager": round(compile_s["eager"], 2),
                }
            )
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.stdin.write(json.dumps({"exit": True}) + "\n")
                process.stdin.flush()
                process.wait(timeout=60)
    result = {
        "model": "all-MiniLM-L6-v2 + 2-label head",
        "optimizer": f"AdamW lr {LEARNING_RATE}, weight decay {WEIGHT_DECAY}",
        "threads_per_side": args.threads,
        "steps_per_sample": args.steps,
        "rounds": args.rounds,
        "load_average_start": round(load_start, 2),
        "load_average_end": round(os.getloadavg()[0], 2),
        "runs": runs,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
