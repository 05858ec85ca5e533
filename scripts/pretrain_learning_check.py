"""From-scratch check of ``kerasformers pretrain``: held-out perplexity falls, and pretraining helps fine-tuning.

1. ``kerasformers pretrain`` with its defaults on the default corpus (about 23k English sentences from the
   vaderSentiment sdist, the movie-review test split left out), or ``--pretrained DIR`` to reuse a finished run.
2. ``kerasformers train --model <that folder>`` on the movie-review sentiment task, and the same command on a
   folder holding the same architecture and tokenizer with random weights: same flags, same seed. Embeddings are
   trained in both (``--train-embeddings``): frozen random embeddings would handicap the random model unfairly.

Prints one JSON line: the per-epoch held-out perplexities and both held-out accuracies.

Usage:
    .venv/bin/python scripts/pretrain_learning_check.py                       # about 10 minutes on 2 cores
    .venv/bin/python scripts/pretrain_learning_check.py --pretrained outputs/pretrained --epochs 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def finetune(model_dir: Path, output_dir: Path, epochs: int, learning_rate: float) -> dict:
    from kerasformers.cli import build_parser

    args = build_parser().parse_args(
        [
            "train", "--model", str(model_dir), "--output-dir", str(output_dir), "--epochs", str(epochs),
            "--learning-rate", str(learning_rate), "--train-embeddings", "--quiet", "--num-predictions", "0",
        ]
    )  # fmt: skip
    return args.run(args)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", help="a finished `kerasformers pretrain` folder (default: run it now)")
    parser.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs (both models)")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="fine-tuning learning rate (both)")
    options = parser.parse_args(argv)

    from kerasformers import AutoConfig, AutoTokenizer, TFAutoModelForMaskedLM
    from kerasformers.pretraining import pretrain

    work = Path(tempfile.mkdtemp(prefix="pretrain-check-"))
    if options.pretrained:
        pretrained = Path(options.pretrained)
        results = json.loads((pretrained / "pretrain_results.json").read_text())
    else:
        pretrained = work / "pretrained"
        results = pretrain(None, pretrained, quiet=True)
    # the same architecture and tokenizer, random weights
    scratch = work / "random-init"
    TFAutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(pretrained)).save_pretrained(scratch)
    AutoTokenizer.from_pretrained(pretrained).save_pretrained(scratch)

    tuned = finetune(pretrained, work / "tuned-pretrained", options.epochs, options.learning_rate)
    baseline = finetune(scratch, work / "tuned-random", options.epochs, options.learning_rate)
    report = {
        "held_out_perplexity_by_epoch": [round(e["held_out_perplexity"], 2) for e in results["epochs"]],
        "pretrain_wall_time_s": results.get("wall_time_s"),
        "finetune_epochs": options.epochs,
        "finetune_learning_rate": options.learning_rate,
        "accuracy_pretrained": round(tuned["accuracy"], 4),
        "accuracy_random_init": round(baseline["accuracy"], 4),
        "macro_f1_pretrained": round(tuned["macro_f1"], 4),
        "macro_f1_random_init": round(baseline["macro_f1"], 4),
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
