"""Vision benchmark: ViT-base-shaped random weights at 224x224, ours vs PyTorch transformers.

``main()`` prints one JSON dict: for each batch size, the median forward time of
TFViTForImageClassification on the default path (``model(pixel_values)``: the cached
inference graph after the first calls) and of PyTorch's ViTForImageClassification under
``torch.no_grad()``, timed alternately (rounds of ours / theirs), and ``speed_vs_pytorch`` =
PyTorch time / our time (above 1: we are faster). ``load_average`` is the 1-minute load at start.

Example:
    python benchmarks/bench_vision.py --batches 1 32 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time


def _time_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="calls per side per round")
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    import transformers

    from kerasformers.models.vit import TFViTForImageClassification

    config = transformers.ViTConfig(num_labels=1000)  # ViT-base/16 at 224x224
    torch.manual_seed(0)
    theirs = transformers.ViTForImageClassification(config).eval()
    with tempfile.TemporaryDirectory() as folder:
        theirs.save_pretrained(folder)
        ours = TFViTForImageClassification.from_pretrained(folder)
    results = {"model": "ViT-base/16 (random weights), 224x224", "load_average": os.getloadavg()[0], "rows": []}
    for batch in args.batches:
        pixels = np.random.RandomState(0).randn(batch, 3, 224, 224).astype(np.float32)
        torch_pixels = torch.tensor(pixels)

        def run_ours():
            np.asarray(ours(pixels).logits)

        def run_theirs():
            with torch.no_grad():
                theirs(torch_pixels).logits.numpy()

        for _ in range(3):  # warm-up: eager calls, then the inference graph is traced
            run_ours()
        run_theirs()
        ours_ms, theirs_ms = [], []
        for _ in range(args.rounds):
            ours_ms += [_time_ms(run_ours) for _ in range(args.repeats)]
            theirs_ms += [_time_ms(run_theirs) for _ in range(args.repeats)]
        row = {"batch": batch, "ours_ms": statistics.median(ours_ms), "pytorch_ms": statistics.median(theirs_ms)}
        row["speed_vs_pytorch"] = row["pytorch_ms"] / row["ours_ms"]
        results["rows"].append(row)
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
