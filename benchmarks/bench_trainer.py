"""Fine-tuning speed: kerasformers' Trainer vs PyTorch transformers' Trainer, same run.

all-MiniLM-L6-v2 with a new sequence-classification head, trained on movie-review sentences
(kerasformers.data.embedded) tokenized by transformers' tokenizer and padded to a fixed
length, so both sides see the same ids and shapes. Same TrainingArguments on both sides:
batch 32, AdamW (learning rate 5e-5, weight decay 0.01, linear schedule), max_grad_norm 1.0,
float32, CPU, no checkpoints, no logging backends. Each side trains in its own process (the
thread pools of TensorFlow and PyTorch never compete); the sides take turns, ours first,
``--rounds`` times, and the best run of each side counts. The first ``--warmup-steps``
optimizer steps (graph tracing, XLA compilation, the thread pools' start) are left out of the
steady-state figure (the median time of the steps after them); they are reported apart as
``*_first_steps_s``. ``main()`` prints one JSON dict.

    python benchmarks/bench_trainer.py [--seq 128 64] [--steps 8] [--warmup-steps 2] [--rounds 2]
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
LEARNING_RATE = 5e-5


def _inputs(seq: int, examples: int) -> dict:
    """Token ids of the first ``examples`` training sentences, padded/truncated to ``seq``."""
    import transformers

    from kerasformers.data.embedded import minilm_checkpoint, movie_reviews

    reviews = movie_reviews()["train"].select(range(examples))
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_checkpoint())
    encoded = tokenizer(list(reviews["text"]), padding="max_length", truncation=True, max_length=seq)
    return {**{k: list(v) for k, v in encoded.items()}, "labels": list(reviews["label"])}


def _arguments(output_dir: str, steps: int) -> dict:
    return dict(
        output_dir=output_dir,
        per_device_train_batch_size=BATCH,
        max_steps=steps,
        learning_rate=LEARNING_RATE,
        weight_decay=0.01,
        max_grad_norm=1.0,
        logging_steps=steps,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=0,
    )


def run_side(side: str, seq: int, steps: int, warmup: int, output_dir: str) -> dict:
    """Train ``steps`` optimizer steps on one side; wall times of every step end."""
    import datasets

    from kerasformers.data.embedded import minilm_checkpoint

    data = datasets.Dataset.from_dict(_inputs(seq, BATCH * steps))
    step_ends: list[float] = []
    if side == "torch":
        import torch
        import transformers

        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count())))

        class StepTimes(transformers.TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                step_ends.append(time.perf_counter())

        model = transformers.AutoModelForSequenceClassification.from_pretrained(minilm_checkpoint(), num_labels=2)
        args = transformers.TrainingArguments(**_arguments(output_dir, steps), use_cpu=True)
        trainer = transformers.Trainer(model=model, args=args, train_dataset=data, callbacks=[StepTimes()])
    else:
        import kerasformers

        class StepTimes(kerasformers.TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                step_ends.append(time.perf_counter())

        model = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(minilm_checkpoint(), num_labels=2)
        args = kerasformers.TrainingArguments(**_arguments(output_dir, steps))
        trainer = kerasformers.Trainer(model=model, args=args, train_dataset=data, callbacks=[StepTimes()])
    start = time.perf_counter()
    output = trainer.train()
    total = time.perf_counter() - start
    if len(step_ends) != steps:
        raise RuntimeError(f"{side}: on_step_end ran {len(step_ends)} times for {steps} steps")
    # the median step: robust to a burst of other work on a shared machine
    steady = statistics.median(b - a for a, b in zip(step_ends[warmup - 1 :], step_ends[warmup:]))
    return {
        "samples_per_s": BATCH / steady,
        "step_s": steady,
        "first_steps_s": step_ends[warmup - 1] - start,
        "train_s": total,
        "train_loss": float(output.training_loss),
    }


def _side_in_process(side: str, seq: int, steps: int, warmup: int, threads: int) -> dict:
    import tempfile

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[var] = str(threads)
    env["BENCH_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, __file__, "--side", side, "--seq", str(seq), "--steps", str(steps)]
        command += ["--warmup-steps", str(warmup), "--output-dir", tmp]
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{side} side at sequence length {seq} failed: {tail}")
    return json.loads(lines[-1])


def main(argv=None) -> dict:
    """Run both sides at each sequence length; print (and return) the results as a JSON dict."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seq", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per side, warm-up included")
    parser.add_argument("--warmup-steps", type=int, default=2, help="first steps left out of the steady state")
    parser.add_argument("--rounds", type=int, default=2, help="runs per side, alternated; the best one counts")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", os.cpu_count())))
    parser.add_argument("--side", choices=["ours", "torch"], help=argparse.SUPPRESS)  # one side, in a child
    parser.add_argument("--output-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.warmup_steps < args.steps:
        parser.error("--warmup-steps must be at least 1 and less than --steps")
    if args.side:
        result = run_side(args.side, args.seq[0], args.steps, args.warmup_steps, args.output_dir)
        print(json.dumps(result))
        return result

    results = {
        "model": "all-MiniLM-L6-v2 + classification head",
        "setup": f"batch {BATCH}, AdamW lr {LEARNING_RATE} wd 0.01, clip 1.0, fp32, CPU, {args.threads} threads",
        "timed_steps": args.steps - args.warmup_steps,
        "rounds": f"{args.rounds} runs per side, alternated; the best of each side",
        "runs": [],
    }
    for seq in args.seq:
        runs = {"ours": [], "torch": []}
        for _ in range(args.rounds):  # ours, theirs, ours, theirs: a load change hits both sides
            for side in runs:
                runs[side].append(_side_in_process(side, seq, args.steps, args.warmup_steps, args.threads))
        ours, torch = (max(runs[side], key=lambda r: r["samples_per_s"]) for side in ("ours", "torch"))
        results["runs"].append(
            {
                "batch": BATCH,
                "seq": seq,
                "kerasformers_samples_per_s": round(ours["samples_per_s"], 1),
                "transformers_samples_per_s": round(torch["samples_per_s"], 1),
                "speedup": round(ours["samples_per_s"] / torch["samples_per_s"], 2),
                "kerasformers_first_steps_s": round(ours["first_steps_s"], 1),
                "transformers_first_steps_s": round(torch["first_steps_s"], 1),
                "kerasformers_train_s": round(ours["train_s"], 1),
                "transformers_train_s": round(torch["train_s"], 1),
                "loss_ours_vs_theirs": f"{ours['train_loss']:.4f} / {torch['train_loss']:.4f}",
            }
        )
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
