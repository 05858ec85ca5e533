"""Quantization: all-MiniLM-L6-v2 (encoder, batch x 128 tokens) float32 vs model.quantize("int8"/"int4"),
next to PyTorch transformers float32 and torch's dynamic int8 quantization in the same run.

Prints one JSON dict: per scenario the weight bytes (sum over the model's variables / parameters),
the median forward seconds over ``--rounds`` alternated rounds (ours, PyTorch, ...), and ratios
to the float32 side of the same framework. Load average at start and end.

Example:
    python benchmarks/bench_quantize.py --rounds 3 --batch 8
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def weight_bytes_keras(model) -> int:
    import numpy as np

    return int(sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in model.weights))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]

    import keras
    import numpy as np
    import torch
    import transformers

    import kerasformers
    from kerasformers.data.embedded import minilm_checkpoint

    path = minilm_checkpoint()
    ids = np.random.RandomState(0).randint(1000, 20000, (args.batch, args.length)).astype("int32")
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}

    ours = {}
    for mode in ("float32", "int8", "int4"):
        model = kerasformers.TFBertModel.from_pretrained(path)
        if mode != "float32":
            model.quantize(mode)
        forward = keras.ops.convert_to_numpy
        call = (lambda m: lambda: forward(m.predict_on_batch(inputs)["last_hidden_state"]))(model)
        call()
        call()  # warm: the second call compiles
        ours[mode] = (model, call)
    reference = ours["float32"][1]()

    torch.set_num_threads(os.cpu_count() or 1)
    theirs = {"float32": transformers.BertModel.from_pretrained(path).eval()}
    theirs["int8"] = torch.ao.quantization.quantize_dynamic(theirs["float32"], {torch.nn.Linear}, dtype=torch.qint8)
    torch_inputs = {k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items()}

    def torch_call(model):
        def run():
            with torch.no_grad():
                return model(**torch_inputs).last_hidden_state.numpy()

        return run

    times = {f"ours_{m}": [] for m in ours} | {f"pytorch_{m}": [] for m in theirs}
    for _ in range(args.rounds):
        for mode, (_, call) in ours.items():
            start = time.perf_counter()
            call()
            times[f"ours_{mode}"].append(time.perf_counter() - start)
        for mode, model in theirs.items():
            run = torch_call(model)
            start = time.perf_counter()
            run()
            times[f"pytorch_{mode}"].append(time.perf_counter() - start)

    result = {"shape": f"{args.batch}x{args.length}", "load_start": load_start}
    base_s = statistics.median(times["ours_float32"])
    base_bytes = weight_bytes_keras(ours["float32"][0])
    for mode, (model, call) in ours.items():
        seconds = statistics.median(times[f"ours_{mode}"])
        hidden = call()
        result[f"ours_{mode}"] = {
            "weight_mb": round(weight_bytes_keras(model) / 2**20, 2),
            "memory_ratio": round(weight_bytes_keras(model) / base_bytes, 3),
            "seconds": round(seconds, 4),
            "speed_ratio": round(base_s / seconds, 3),
            "max_abs_diff_vs_float32": float(np.abs(hidden - reference).max()),
        }
    torch_base = statistics.median(times["pytorch_float32"])
    for mode in theirs:
        seconds = statistics.median(times[f"pytorch_{mode}"])
        result[f"pytorch_{mode}"] = {
            "seconds": round(seconds, 4),
            "speed_ratio": round(torch_base / seconds, 3),
            "ours_over_pytorch_seconds": round(statistics.median(times[f"ours_{mode}"]) / seconds, 3),
        }
    result["load_end"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
