"""The main job end to end: ``kerasformers train`` (its defaults) vs the same fine-tune in PyTorch transformers.

Both sides run in a fresh process, timed from before their imports to the saved model:

- ours: ``kerasformers train --output-dir TMP --quiet`` (the README's main job: all-MiniLM-L6-v2
  on the ~10k movie-review sentences, one epoch, batch 32, learning rate 1e-4, max length 64,
  word embeddings frozen, then held-out evaluation and save_pretrained).
- PyTorch: the same steps written with transformers: the same split (``load_text_dataset``, seed
  42), the same tokenizer settings, ``AutoModelForSequenceClassification`` with frozen word
  embeddings, ``torch.optim.AdamW`` (weight decay 0.01) with a linear decay to 0, length-grouped
  shuffled batches padded to a multiple of 16 (as the command's Trainer), dropout on, then
  evaluation at batch 64 and ``save_pretrained``.

Prints one JSON dict: wall seconds and held-out accuracy per side, medians over ``--rounds``
alternated runs (ours, PyTorch, ours, ...), and ``speed_vs_pytorch`` (PyTorch's time / ours).

Example:
    python benchmarks/bench_main_job.py --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The PyTorch side: the main job's steps with transformers (run with `python -c`; argv[1] = output folder).
TORCH_JOB = r"""
import json, sys, time
start = time.perf_counter()
import numpy as np, torch, transformers
from kerasformers.cli import DEFAULTS, check_columns, classification_metrics, load_text_dataset
from kerasformers.data.embedded import minilm_checkpoint

seed, batch_size, lr, max_length = 42, DEFAULTS["batch_size"], DEFAULTS["learning_rate"], DEFAULTS["max_length"]
torch.manual_seed(seed)
torch.set_num_threads(int(sys.argv[2]))
train, held_out = load_text_dataset(None, seed, 0.1, None)
train_labels, eval_labels, names = check_columns(train, held_out, "text", "label")
path = str(minilm_checkpoint())
tokenizer = transformers.AutoTokenizer.from_pretrained(path)
encode = lambda split: tokenizer(list(split["text"]), truncation=True, max_length=max_length)["input_ids"]
train_ids, eval_ids = encode(train), encode(held_out)
model = transformers.AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(names))
model.get_input_embeddings().weight.requires_grad_(False)
params = [p for p in model.parameters() if p.requires_grad]
decay = [p for n, p in model.named_parameters() if p.requires_grad and not ("bias" in n or "LayerNorm" in n)]
rest = [p for n, p in model.named_parameters() if p.requires_grad and ("bias" in n or "LayerNorm" in n)]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=lr)
steps = -(-len(train_ids) // batch_size)
schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))

def pad(rows):
    width = -(-max(len(r) for r in rows) // 16) * 16
    ids = np.full((len(rows), width), tokenizer.pad_token_id, "int64")
    mask = np.zeros((len(rows), width), "int64")
    for i, r in enumerate(rows):
        ids[i, : len(r)], mask[i, : len(r)] = r, 1
    return torch.from_numpy(ids), torch.from_numpy(mask)

lengths = np.array([len(r) for r in train_ids])
order = np.random.default_rng(seed).permutation(len(train_ids))
chunk = 50 * batch_size  # length-grouped within shuffled runs of 50 batches, as the command's Trainer
parts = np.split(order, range(chunk, len(order), chunk))
order = np.concatenate([p[np.argsort(-lengths[p], kind="stable")] for p in parts])
model.train()
for i in range(0, len(order), batch_size):
    rows = order[i : i + batch_size]
    ids, mask = pad([train_ids[j] for j in rows])
    loss = model(input_ids=ids, attention_mask=mask, labels=torch.tensor(train_labels[rows])).loss
    loss.backward()
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()
model.eval()
predictions = []
with torch.inference_mode():
    for i in range(0, len(eval_ids), 2 * batch_size):
        ids, mask = pad(eval_ids[i : i + 2 * batch_size])
        predictions.append(model(input_ids=ids, attention_mask=mask).logits.argmax(-1).numpy())
metrics = classification_metrics(eval_labels, np.concatenate(predictions), len(names))
model.save_pretrained(sys.argv[1])
tokenizer.save_pretrained(sys.argv[1])
print(json.dumps({"wall_s": time.perf_counter() - start, "accuracy": metrics["accuracy"], "steps": steps}))
"""


def _env(threads: int) -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[name] = str(threads)
    return env


def run_ours(threads: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "kerasformers.cli", "train", "--output-dir", f"{out}/model", "--quiet"]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env=_env(threads), timeout=1800)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"kerasformers train failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
        metrics = json.loads(Path(out, "model", "eval_results.json").read_text())
    return {"wall_s": wall, "accuracy": metrics["accuracy"]}


def run_torch(threads: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", TORCH_JOB, f"{out}/model", str(threads)],
            capture_output=True,
            text=True,
            env=_env(threads),
            timeout=1800,
        )
        wall = time.perf_counter() - start
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"the PyTorch job failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return {**json.loads(lines[-1]), "wall_s": wall}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    result = {"threads": args.threads, "load_average_start": round(os.getloadavg()[0], 2)}
    runs = {"ours": [], "torch": []}
    for _ in range(args.rounds):
        runs["ours"].append(run_ours(args.threads))
        runs["torch"].append(run_torch(args.threads))
    for side, results in runs.items():
        result[f"{side}_wall_s"] = round(statistics.median(r["wall_s"] for r in results), 1)
        result[f"{side}_accuracy"] = round(statistics.median(r["accuracy"] for r in results), 4)
    result["speed_vs_pytorch"] = round(result["torch_wall_s"] / result["ours_wall_s"], 2)
    result["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
