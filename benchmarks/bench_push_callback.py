"""Training time with PushToHubCallback vs without (issue 14: within 10%).

all-MiniLM-L6-v2 with a new sequence-classification head, fit for ``--epochs`` epochs on random
ids (batch 16, length ``--seq``) once without callbacks and once with
``PushToHubCallback(save_strategy="epoch")`` pushing every epoch to the local Hub test server
(tests/hub_server.py on 127.0.0.1, in a process of its own). The first fit of each model is a
warm-up (graph tracing) and is not timed; the timed fits run the same number of steps. ``main()`` prints one JSON dict:
seconds per fit with and without the callback and the relative overhead.

    python benchmarks/bench_push_callback.py [--epochs 3] [--steps 8] [--seq 64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
_TESTS = Path(__file__).resolve().parents[1] / "tests"
# The server stands in for the Hub, which runs on other machines: niced, so that on a 2-core
# machine its work (decoding and hashing the upload) takes CPU from training only when idle.
_SERVE = (
    "import os, sys, threading\n"
    "os.nice(10)\n"
    "from hub_server import HubServer\n"
    "server = HubServer(sys.argv[1]).start()\n"
    "print(server.url, flush=True)\n"
    "threading.Event().wait()\n"
)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seq", type=int, default=64)
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="bench-push-"))
    # The server runs in its own process: in this one its request handling would hold the GIL
    # that training needs, which no real Hub does. HF_ENDPOINT is set before huggingface_hub is
    # imported (it reads it once).
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(root / "hub")], stdout=subprocess.PIPE, text=True, cwd=_TESTS
    )
    os.environ["HF_ENDPOINT"] = server.stdout.readline().strip()

    import keras
    import numpy as np

    import kerasformers
    from kerasformers.data.embedded import minilm_checkpoint

    ids = np.random.default_rng(0).integers(1000, 20000, size=(16 * args.steps, args.seq)).astype("int32")
    labels = (ids[:, 0] % 2).astype("int32")

    def fit(callbacks) -> float:
        keras.utils.set_random_seed(0)
        model = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(minilm_checkpoint(), num_labels=2)
        model.compile(optimizer=keras.optimizers.Adam(5e-5))
        model.fit({"input_ids": ids}, labels, batch_size=16, epochs=1, verbose=0)  # warm-up: traced once
        start = time.perf_counter()
        model.fit({"input_ids": ids}, labels, batch_size=16, epochs=args.epochs, callbacks=callbacks, verbose=0)
        return time.perf_counter() - start

    without = fit([])
    callback = kerasformers.PushToHubCallback(root / "out", hub_model_id="me/bench", hub_token="hf_me_write")
    with_callback = fit([callback])
    server.terminate()
    server.wait()
    result = {
        "epochs": args.epochs,
        "steps_per_epoch": args.steps,
        "seq": args.seq,
        "fit_without_callback_s": round(without, 2),
        "fit_with_push_callback_s": round(with_callback, 2),
        "overhead": round(with_callback / without - 1, 4),
        "pushes": len(callback.commits),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
