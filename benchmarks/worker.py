"""One side of a benchmark (ours, PyTorch transformers or ONNX Runtime) in its own process.

The parent (``bench.py``) starts one worker per side and keeps it alive; it sends one JSON
request per line on stdin and reads one JSON reply per line. The parent alternates its
requests between the workers, so only one side computes at a time and the thread pools of
TensorFlow and PyTorch never compete. Every side gets the same thread count.

Requests: ``{"cmd": "load", ...}`` builds the model or tokenizer, ``prepare`` makes the
inputs of one shape and warms up every variant, ``time`` runs one variant and returns its
wall times, ``export_onnx`` (PyTorch side) writes an ONNX file, ``exit`` ends the process.

``python worker.py load-once SIDE KIND PATH`` is the fresh-process mode used for
from_pretrained: it loads once and prints one JSON line with the wall time and peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback

SIDES = ("ours", "torch", "onnx")

# The parent alternates sides on the same cores, and the side that ran last may leave threads
# spinning (ONNX Runtime's pool: ~30 ms of a core after a run; OpenMP's a little): a timed request
# of a short workload first runs it untimed for this long, so each side is timed in the steady
# state a process running only that framework sees.
SETTLE_S = 0.04


def set_thread_env(threads: int) -> None:
    """Thread counts that libraries read at import time (set before importing them)."""
    for var in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "RAYON_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ):
        os.environ[var] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


def configure_tensorflow(threads: int):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf


def configure_torch(threads: int):
    import torch

    torch.set_num_threads(threads)
    return torch


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's own peak (VmHWM). Not ru_maxrss: Linux carries the parent's peak over exec."""
    peak = _status_mb("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def encoder_inputs(batch: int, seq: int, vocab_size: int, seed: int = 0):
    """Token ids as a tokenizer gives them (int64 numpy): no padding, one segment."""
    import numpy as np

    rng = np.random.RandomState(seed)
    low = min(1000, vocab_size // 2)
    ids = rng.randint(low, vocab_size, (batch, seq)).astype(np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def sample_of(array, batch_rows: int = 2) -> list:
    """A small corner of an output, sent back so the parent can check the sides agree."""
    import numpy as np

    return np.asarray(array, dtype=np.float64)[:batch_rows, :4, :8].tolist()


# ------------------------------------------------------------------------------ sides
class OursEncoder:
    """kerasformers, called the ways a user calls it."""

    variants = ("call", "predict", "fast")

    def __init__(self, threads: int):
        self.tf = configure_tensorflow(threads)

    def load(self, path: str, **_):
        from kerasformers import TFAutoModel

        self.model = TFAutoModel.from_pretrained(path)
        self.vocab_size = self.model.config.vocab_size

    def prepare(self, batch: int, seq: int):
        self.batch_size = batch
        self.inputs = encoder_inputs(batch, seq, self.vocab_size)
        # model(...) switches to its cached graph after its first eager calls: get there on one row
        for _ in range(2):
            self.model({k: v[:1] for k, v in self.inputs.items()})
        self.fast_fn = self.model.make_inference_function(jit_compile=True)
        self.fast_inputs = {k: self.tf.constant(v) for k, v in self.inputs.items()}

    def run(self, variant: str):
        if variant == "call":  # eager-looking call with numpy inputs, as in the README
            return self.model(self.inputs).last_hidden_state
        if variant == "predict":
            return self.model.predict(self.inputs, batch_size=self.batch_size, verbose=0)["last_hidden_state"]
        if variant == "fast":  # documented fastest path: an XLA-compiled inference function
            return self.fast_fn(self.fast_inputs)["last_hidden_state"].numpy()
        # the paths as they were before the inference graph and the predict shortcut (--before)
        if variant == "call_eager":
            self.model.inference_graph = False
            try:
                return self.model(self.inputs).last_hidden_state
            finally:
                self.model.inference_graph = True
        if variant == "predict_keras":
            import keras

            return keras.Model.predict(self.model, self.inputs, batch_size=self.batch_size, verbose=0)[
                "last_hidden_state"
            ]
        raise ValueError(variant)


class TorchEncoder:
    """PyTorch transformers as its documentation calls it, under torch.inference_mode()."""

    variants = ("call",)

    def __init__(self, threads: int):
        self.torch = configure_torch(threads)

    def load(self, path: str, **_):
        import transformers

        self.path = path
        self.model = transformers.AutoModel.from_pretrained(path).eval()
        self.vocab_size = self.model.config.vocab_size

    def prepare(self, batch: int, seq: int):
        self.inputs = {k: self.torch.from_numpy(v) for k, v in encoder_inputs(batch, seq, self.vocab_size).items()}

    def run(self, variant: str):
        with self.torch.inference_mode():
            return self.model(**self.inputs).last_hidden_state

    def export_onnx(self, out: str, **_):
        """Export with torch.onnx.export (dynamo exporter), batch and length dynamic."""
        torch = self.torch
        model = self.model

        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
                return out.last_hidden_state, out.pooler_output

        example = {k: torch.from_numpy(v) for k, v in encoder_inputs(2, 8, self.vocab_size).items()}
        names = list(example)
        dims = {k: {0: torch.export.Dim("batch"), 1: torch.export.Dim("sequence")} for k in names}
        tmp = out + ".tmp"
        os.makedirs(tmp, exist_ok=True)
        torch.onnx.export(
            Wrapper(),
            tuple(example.values()),
            os.path.join(tmp, "model.onnx"),
            dynamo=True,
            input_names=names,
            output_names=["last_hidden_state", "pooler_output"],
            dynamic_shapes=dims,
            external_data=True,
        )
        os.replace(tmp, out)  # a folder: model.onnx (+ its external weights), complete or absent


class OnnxEncoder:
    """ONNX Runtime on the model PyTorch exported (CPU execution provider)."""

    variants = ("run",)

    def __init__(self, threads: int):
        self.threads = threads

    def load(self, path: str, onnx_path: str = None, vocab_size: int = 30522, **_):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            os.path.join(onnx_path, "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.vocab_size = vocab_size

    def prepare(self, batch: int, seq: int):
        self.inputs = encoder_inputs(batch, seq, self.vocab_size)

    def run(self, variant: str):
        return self.session.run(["last_hidden_state"], self.inputs)[0]


class OursTokenizer:
    variants = ("call",)

    def __init__(self, threads: int):
        pass

    def load(self, path: str, **_):
        from kerasformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)

    def prepare(self, sentences: list):
        self.sentences = sentences

    def run(self, variant: str):
        return self.tokenizer(self.sentences, padding=True, truncation=True, return_tensors="np")["input_ids"]


class TorchTokenizer(OursTokenizer):
    """transformers' AutoTokenizer (the fast, Rust-backed tokenizer), numpy output."""

    def load(self, path: str, **_):
        import transformers

        self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)


HANDLERS = {
    ("ours", "encoder"): OursEncoder,
    ("torch", "encoder"): TorchEncoder,
    ("onnx", "encoder"): OnnxEncoder,
    ("ours", "tokenizer"): OursTokenizer,
    ("torch", "tokenizer"): TorchTokenizer,
}


def materialize(result):
    """Make sure the work is done and the output is host memory (numpy)."""
    import numpy as np

    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result)


# ------------------------------------------------------------------------------ loop
def serve(side: str, kind: str, threads: int) -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever libraries print goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    handler = HANDLERS[(side, kind)](threads)
    last_seconds: dict[str, float] = {}  # per variant, the last timed request's seconds per run
    for line in sys.stdin:
        request = json.loads(line)
        cmd = request.pop("cmd")
        try:
            if cmd == "exit":
                reply = {"ok": True}
            elif cmd == "load":
                start = time.perf_counter()
                handler.load(**request)
                reply = {"ok": True, "seconds": time.perf_counter() - start, "rss_mb": rss_mb()}
            elif cmd == "prepare":
                last_seconds.clear()  # a new shape
                warmup = request.pop("warmup", 2)
                variants = request.pop("variants", None) or handler.variants
                handler.prepare(**request)
                samples, first, second = {}, {}, {}
                for variant in variants:
                    start = time.perf_counter()
                    out = materialize(handler.run(variant))
                    first[variant] = time.perf_counter() - start
                    for i in range(max(0, warmup - 1)):
                        start = time.perf_counter()
                        materialize(handler.run(variant))
                        if i == 0:  # model(batch) compiles its XLA program on the second call at a shape
                            second[variant] = time.perf_counter() - start
                    samples[variant] = sample_of(out) if out.ndim == 3 else None
                reply = {
                    "ok": True,
                    "variants": list(variants),
                    "first_call_s": first,
                    "second_call_s": second,
                    "samples": samples,
                }
            elif cmd == "time":
                variant, repeat = request["variant"], request.get("repeat", 1)
                if last_seconds.get(variant, 0.0) < 0.1:  # short workloads: settle first (see SETTLE_S)
                    start = time.perf_counter()
                    while time.perf_counter() - start < SETTLE_S:
                        materialize(handler.run(variant))
                start = time.perf_counter()
                for _ in range(repeat):
                    materialize(handler.run(variant))
                last_seconds[variant] = (time.perf_counter() - start) / repeat
                reply = {"ok": True, "seconds": last_seconds[variant]}
            elif cmd == "export_onnx":
                start = time.perf_counter()
                handler.export_onnx(**request)
                reply = {"ok": True, "seconds": time.perf_counter() - start}
            else:
                reply = {"ok": False, "error": f"unknown command {cmd!r}"}
        except Exception as error:  # reported to the parent, which decides what is fatal
            traceback.print_exc()
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
        protocol.write(json.dumps(reply) + "\n")
        if cmd == "exit":
            return


def load_once(side: str, kind: str, path: str) -> None:
    """Fresh process: import, then time one from_pretrained and report peak RSS."""
    start = time.perf_counter()
    if side == "ours":
        configure_tensorflow(int(os.environ.get("BENCH_THREADS", "1")))
        import kerasformers

        cls = kerasformers.TFAutoModelForCausalLM if kind == "causal_lm" else kerasformers.TFAutoModel
    else:
        configure_torch(int(os.environ.get("BENCH_THREADS", "1")))
        import transformers

        cls = transformers.AutoModelForCausalLM if kind == "causal_lm" else transformers.AutoModel
    import_s = time.perf_counter() - start
    rss_before = rss_mb()
    start = time.perf_counter()
    model = cls.from_pretrained(path)
    load_s = time.perf_counter() - start
    params = model.num_parameters()
    print(
        json.dumps(
            {
                "ok": True,
                "import_s": import_s,
                "load_s": load_s,
                "rss_before_mb": rss_before,
                "peak_rss_mb": peak_rss_mb(),
                "parameters": int(params),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "load-once":
        set_thread_env(int(os.environ.get("BENCH_THREADS", "1")))
        load_once(*sys.argv[2:5])
    else:
        side, kind, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
        set_thread_env(threads)
        serve(side, kind, threads)
