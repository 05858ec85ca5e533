"""kerasformers vs PyTorch transformers, side by side on this machine: writes BENCHMARKS.md.

    .venv/bin/python benchmarks/bench.py            # every scenario, about 5-8 minutes on 2 cores
    .venv/bin/python benchmarks/bench.py --quick    # fewer rounds (a check that it all runs)
    .venv/bin/python benchmarks/bench.py --extras trainer --merge   # one extra script, rest kept

Method. Each side runs in its own worker process (worker.py), kept alive for the run, with
the same thread count (``--threads``, default: all cores): TensorFlow intra/inter-op
threads, ``torch.set_num_threads``, ONNX Runtime intra-op threads. The parent warms every
variant up, then alternates single timed requests between the sides (A B A B ...), so
load changes on the machine hit both sides alike; the table shows medians. Nothing else
computes while a side is timed. from_pretrained is timed in a fresh process per load.

Extra sections come from ``bench_generate.py`` and ``bench_export.py`` beside this file
when they exist: their ``main()`` returns (or prints) a JSON dict.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

# The test-only real data (SmolLM2, llama.cpp vocabularies) are built by tests/fixture_data.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "worker.py"
COMMAND = ".venv/bin/python benchmarks/bench.py"

ENCODER_SHAPES = ((1, 16), (8, 64), (32, 128), (1, 512))
SWEEP_LENGTHS = (16, 32, 64, 128, 256, 512)  # time vs sequence length, MiniLM
SWEEP_BATCHES = (1, 8)
SWEEP_PATHS = ("call", "fast")
OUR_PATHS = {  # variant -> how a user writes it
    "call": "`model(batch)`",
    "predict": "`model.predict(batch)`",
    "fast": "`model.make_inference_function(jit_compile=True)`",
}
PATH_FACTS = {  # what each path does, for the "how we are fast" facts
    "call": "`model(batch)`: numpy ids cast to int32; the first calls run eagerly, then a cached "
    "TensorFlow graph; a (batch, length bucket) seen before runs one XLA program (BERT-family "
    "encoders pad the sequence to a multiple of 16/32/64 and the outputs are cut back)",
    "predict": "`model.predict(batch)`: one batch skips Keras' tf.data pipeline and runs the same "
    "cached graph / XLA program as `model(batch)`; outputs as numpy",
    "fast": "`make_inference_function(jit_compile=True)`: the user's own XLA-compiled function, one "
    "program per exact input shape",
}
HOW_WE_ARE_FAST = [  # what the code does; the tables say how far it gets
    "**One XLA program per shape bucket.** `model(batch)` and `predict` trace the forward pass once, "
    "then compile it with XLA per (batch, sequence bucket): the matmuls, bias adds, GELU and "
    "LayerNorm of a layer fuse into a few kernels and the whole model runs as one call, without the "
    "per-op dispatch that eager PyTorch pays at every op (the gap is widest at batch 1). Encoders "
    "pad to a bucket (16/32/64 steps) so nearby lengths share a program, and cut the padding off "
    "the outputs; numerics stay within 1e-5 of eager (tests/test_inference_path.py).",
    "**No copies on the way in.** Tokenizer output arrives as int64 numpy; it becomes int32 once, "
    "and attention masks become the additive bias inside the compiled program.",
    "**Big matmuls where the time is.** At 32 x 128 and above the model is GEMM-bound: the "
    "'% peak' columns show how close each side gets to the measured fp32 GEMM peak, and the last "
    "column how much faster a perfect run of the same FLOPs could be.",
    "**Loading reads tensors straight into the variables.** Variables start on untouched zero "
    "pages (no random initialisation that the checkpoint overwrites, no memory until filled); "
    "the safetensors file is read into a buffer that the variable then adopts (DLPack, no copy, "
    "outside TensorFlow's oneDNN allocator whose bookkeeping costs ~6% of all it ever held); "
    'bf16/fp16 checkpoints stay in their dtype with `dtype="auto"`, and a tied LM head multiplies '
    "by the transposed embedding table without materialising it.",
    "**Generation is one compiled loop.** `generate()` runs the whole decode (static KV cache, "
    "logits processors, stopping) as one XLA `while_loop` per max_new_tokens bucket, reused "
    "across prompt lengths; the tied head runs vocabulary-major on the few decode rows.",
    "**Training draws dropout masks the cheap way.** Under `jit_compile` our Dropout layer draws "
    "its masks from XLA's ThreeFry generator: Keras' default stateless dropout compiles on CPU "
    "into a slow random-number kernel that was 28% of a MiniLM training step's CPU time.",
    "**In-graph tokenizers work on ids.** BPE merges run on integer ids in one `tf.while_loop` "
    "over every distinct word of the batch at once, behind a word cache like the tokenizers "
    "library's; a graph tokenizes the two halves of a large batch side by side; WordPiece is a "
    "TensorFlow Text op.",
]
BEFORE_PATHS = {  # --before: the same calls as they ran before the inference graph / predict shortcut
    "call_eager": "`model(batch)`, eager (`inference_graph = False`)",
    "predict_keras": "`keras.Model.predict` (Keras' own data pipeline)",
}
ALL_PATHS = {**OUR_PATHS, **BEFORE_PATHS}
# other issues' scripts, the arguments that keep them inside this run's time budget, and an
# optional timeout in seconds (default EXTRA_TIMEOUT_S)
EXTRA_SCRIPTS = {
    "generation": ("bench_generate.py", ["--new-tokens", "32", "--repeats", "3"]),
    "export": ("bench_export.py", []),
    "trainer": ("bench_trainer.py", ["--steps", "7", "--warmup-steps", "2", "--rounds", "3"], 1200),
    "training": ("bench_training.py", ["--steps", "6", "--rounds", "3"], 900),
    "vision": ("bench_vision.py", ["--batches", "1", "32", "--rounds", "3"], 900),
    "seq2seq": ("bench_seq2seq.py", ["--new-tokens", "64", "--rounds", "2"], 900),
    "loading": ("bench_loading.py", ["--reps", "3"], 900),
    "bpe": ("bench_bpe.py", ["--rounds", "15"], 600),
    "pretrain": ("bench_pretrain.py", ["--steps", "8", "--rounds", "2"], 900),
    "whisper": ("bench_whisper.py", ["--new-tokens", "64", "--rounds", "3"], 900),
    # epochs of ~16 s on 2 cores (32 steps of 16 x 64): a push per epoch against a niced local Hub
    "push_callback": ("bench_push_callback.py", ["--epochs", "2", "--steps", "32"], 900),
    "quantize": ("bench_quantize.py", ["--rounds", "3"], 900),
    "main_job": ("bench_main_job.py", ["--rounds", "1"], 1800),
    "jax": ("bench_jax.py", ["--new-tokens", "32", "--repeats", "3"], 1800),
}
EXTRA_TITLES = {
    "generation": "Generation",
    "export": "Export",
    "trainer": "Fine-tuning (Trainer)",
    "training": "Training (Keras fit)",
    "vision": "Vision (ViT-base, 224x224)",
    "seq2seq": "Seq2seq generation (T5)",
    "loading": "Loading and import (fresh processes)",
    "bpe": "In-graph tokenizers vs the tokenizers library",
    "pretrain": "Masked-LM pretraining: one device vs Mirrored (2 logical CPU devices) vs PyTorch",
    "whisper": "Whisper generate (whisper-tiny shape, 30 s audio, 64 tokens, batch 1) and LiteRT",
    "push_callback": "PushToHubCallback overhead (fit with a push per epoch)",
    "quantize": "Quantization (all-MiniLM-L6-v2, int8 / int4 weights vs float32)",
    "main_job": "The main job end to end (kerasformers train vs the same fine-tune in PyTorch transformers)",
    "jax": "Keras backends: TensorFlow vs JAX (MiniLM 32x128 forward, SmolLM2 greedy b1/b8) with PyTorch",
}
EXTRA_TIMEOUT_S = 240


# ------------------------------------------------------------------------------ workers
def thread_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "RAYON_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "BENCH_THREADS",
    ):
        env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


class WorkerError(RuntimeError):
    pass


class Worker:
    """A side's process; ``request`` sends one command and waits for its reply."""

    def __init__(self, side: str, kind: str, threads: int, log):
        self.side, self.kind = side, kind
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(WORKER), side, kind, str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=thread_env(threads),
            cwd=str(ROOT),
        )

    def request(self, cmd: str, **args) -> dict:
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise WorkerError(f"{self.side} worker died during {cmd!r} (see the log)")
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise WorkerError(f"{self.side} {cmd}: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.request("exit")
            except (WorkerError, OSError, ValueError):
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def median(values):
    return statistics.median(values) if values else float("nan")


def alternate(entries, rounds: int, time_budget_s: float | None = None, min_rounds: int = 3):
    """Time ``entries`` [(worker, variant)] in turn, A B C A B C ...: list of seconds per entry.

    ONNX Runtime's and OpenMP's idle threads spin on for a while after a run (ORT: ~30 ms of a
    core) and slow whatever runs next on the same cores: the workers run short workloads untimed
    for that long first (worker.py, ``SETTLE_S``), and each round takes the entries in a new
    (seeded) order, so no entry always follows the same one. Small workloads repeat
    inside one request (about 50 ms a sample) so the request itself costs nothing measurable;
    ``time_budget_s`` stops early, after at least ``min_rounds``.
    """
    times = {entry: [] for entry in entries}
    start = time.perf_counter()
    repeat = {entry: 1 for entry in entries}
    order = list(entries)
    shuffle = random.Random(0).shuffle
    for r in range(rounds):
        for entry in order:
            worker, variant = entry
            seconds = worker.request("time", variant=variant, repeat=repeat[entry])["seconds"]
            times[entry].append(seconds)
            if r == 0:
                repeat[entry] = max(1, min(50, int(0.05 / max(seconds, 1e-6))))
        if time_budget_s is not None and r + 1 >= min_rounds and time.perf_counter() - start > time_budget_s:
            break
        shuffle(order)
    return times


# ------------------------------------------------------------------------------ machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("kerasformers", "tensorflow", "keras", "torch", "transformers", "tokenizers", "onnxruntime", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        out["git"] = commit + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        pass
    return out


GEMM_SCRIPT = r"""
import json, sys, time
n, reps = int(sys.argv[1]), int(sys.argv[2])
def best(f):
    f(); ts = []
    for _ in range(reps):
        s = time.perf_counter(); f(); ts.append(time.perf_counter() - s)
    return 2 * n**3 / min(ts) / 1e9
out = {}
import numpy as np
a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
out["numpy"] = best(lambda: a @ b)
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(int(sys.argv[3]))
ta, tb = tf.constant(a), tf.constant(b)
out["tensorflow"] = best(lambda: tf.linalg.matmul(ta, tb).numpy())
import torch
torch.set_num_threads(int(sys.argv[3]))
pa, pb = torch.from_numpy(a), torch.from_numpy(b)
out["torch"] = best(lambda: pa @ pb)
print(json.dumps(out))
"""


def measure_gemm_peak(threads: int, n: int = 2048, reps: int = 5) -> dict:
    """fp32 GEMM GFLOP/s of a big square matmul in numpy, TensorFlow and torch: the best is the peak."""
    result = subprocess.run(
        [sys.executable, "-c", GEMM_SCRIPT, str(n), str(reps), str(threads)],
        capture_output=True,
        text=True,
        env=thread_env(threads),
        timeout=300,
    )
    rates = json.loads(result.stdout.strip().splitlines()[-1])
    return {"gflops": max(rates.values()), "by_library": rates, "n": n}


# ------------------------------------------------------------------------------ scenarios
def bert_flops(config: dict, batch: int, seq: int) -> float:
    """Forward FLOPs of a BERT encoder (matmuls only: 2 per multiply-add), pooler included."""
    h, inter, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    tokens = batch * seq
    per_layer = 2 * tokens * (4 * h * h + 2 * h * inter) + 2 * 2 * batch * seq * seq * h
    return layers * per_layer + 2 * batch * h * h


def max_abs_diff(a, b) -> float:
    import numpy as np

    if a is None or b is None:
        return float("nan")
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def run_encoder(
    name: str,
    path: str,
    shapes=ENCODER_SHAPES,
    *,
    threads: int,
    log,
    rounds: int = 15,
    budget_s: float = 30.0,
    warmup: int = 3,
    onnx_path: str | None = None,
    our_variants=tuple(OUR_PATHS),
    min_rounds: int = 3,
) -> list[dict]:
    """Encoder inference of the checkpoint at ``path``, ours (every variant) vs PyTorch (vs ORT)."""
    config = json.loads((Path(path) / "config.json").read_text())
    workers = {"ours": Worker("ours", "encoder", threads, log), "torch": Worker("torch", "encoder", threads, log)}
    rows = []
    try:
        load = {side: w.request("load", path=str(path)) for side, w in workers.items()}
        if onnx_path is not None:
            try:
                if not (Path(onnx_path) / "model.onnx").is_file():
                    print(f"  exporting {name} to ONNX with torch.onnx.export ...", flush=True)
                    workers["torch"].request("export_onnx", out=str(onnx_path))
                workers["onnx"] = Worker("onnx", "encoder", threads, log)
                workers["onnx"].request(
                    "load", path=str(path), onnx_path=str(onnx_path), vocab_size=config["vocab_size"]
                )
            except WorkerError as error:
                print(f"  ONNX Runtime not available: {error}", flush=True)
                workers.pop("onnx", None)
        for batch, seq in shapes:
            prepared = {
                side: w.request(
                    "prepare",
                    batch=batch,
                    seq=seq,
                    # ours: at least 2 calls, as model(batch) compiles a shape's XLA program on its second call
                    warmup=max(warmup, 2) if side == "ours" else warmup,
                    variants=list(our_variants) if side == "ours" else None,
                )
                for side, w in workers.items()
            }
            entries = [(workers["ours"], v) for v in our_variants] + [(workers["torch"], "call")]
            if "onnx" in workers:
                entries.append((workers["onnx"], "run"))
            times = alternate(entries, rounds, budget_s, min_rounds)
            med = {(w.side, v): median(ts) for (w, v), ts in times.items()}
            reference = prepared["torch"]["samples"]["call"]
            row = {
                "model": name,
                "batch": batch,
                "seq": seq,
                "gflop": bert_flops(config, batch, seq) / 1e9,
                "torch_s": med[("torch", "call")],
                "samples": len(times[entries[0]]),
                "ours": {
                    v: {
                        "seconds": med[("ours", v)],
                        "speedup": med[("torch", "call")] / med[("ours", v)],
                        "first_call_s": prepared["ours"]["first_call_s"][v],
                        "second_call_s": prepared["ours"].get("second_call_s", {}).get(v),
                        "max_abs_diff": max_abs_diff(prepared["ours"]["samples"][v], reference),
                    }
                    for v in our_variants
                },
                "onnx_s": med.get(("onnx", "run")),
                "onnx_max_abs_diff": (
                    max_abs_diff(prepared["onnx"]["samples"]["run"], reference) if "onnx" in prepared else None
                ),
                "raw": {f"{w.side}.{v}": ts for (w, v), ts in times.items()},
            }
            rows.append(row)
            print(
                f"  {name} {batch}x{seq}: torch {row['torch_s'] * 1e3:.1f} ms; "
                + ", ".join(f"{v} {r['seconds'] * 1e3:.1f} ms ({r['speedup']:.2f}x)" for v, r in row["ours"].items())
                + (f", onnx {row['onnx_s'] * 1e3:.1f} ms" if row["onnx_s"] else ""),
                flush=True,
            )
        rows[0]["load_s"] = {side: r["seconds"] for side, r in load.items()}
    finally:
        for w in workers.values():
            w.close()
    return rows


def run_loading(name: str, path: str, kind: str, *, threads: int, reps: int, log) -> dict:
    """from_pretrained in a fresh process per load, alternating sides: medians of wall time and peak RSS."""
    results = {"ours": [], "torch": []}
    for _ in range(reps):
        for side in results:
            proc = subprocess.run(
                [sys.executable, str(WORKER), "load-once", side, kind, str(path)],
                capture_output=True,
                text=True,
                env=thread_env(threads),
                cwd=str(ROOT),
                timeout=600,
            )
            log.write(proc.stderr)
            lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            if proc.returncode != 0 or not lines:
                raise WorkerError(
                    f"{side} from_pretrained({name}) failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}"
                )
            results[side].append(json.loads(lines[-1]))
    summary = {"model": name, "reps": reps}
    for side, runs in results.items():
        summary[side] = {
            key: median([r[key] for r in runs])
            for key in ("import_s", "load_s", "rss_before_mb", "peak_rss_mb", "parameters")
        }
    summary["load_speedup"] = summary["torch"]["load_s"] / summary["ours"]["load_s"]
    summary["rss_ratio"] = summary["ours"]["peak_rss_mb"] / summary["torch"]["peak_rss_mb"]
    print(
        f"  from_pretrained {name}: ours {summary['ours']['load_s']:.2f} s / "
        f"{summary['ours']['peak_rss_mb']:.0f} MB, torch {summary['torch']['load_s']:.2f} s / "
        f"{summary['torch']['peak_rss_mb']:.0f} MB",
        flush=True,
    )
    return summary


def sentences(n: int = 1000) -> tuple[list[str], str]:
    """The first ``n`` movie-review sentences if their archive is at hand, else made-up text."""
    try:
        from kerasformers.data.embedded import cache_dir, read_movie_review_scores

        sdist = cache_dir() / "downloads" / "vaderSentiment-3.3.2.tar.gz"
        if sdist.is_file():
            rows = read_movie_review_scores(sdist)
            return [text for text, _ in rows[:n]], "the first 1,000 movie-review sentences (vaderSentiment sdist)"
    except Exception:  # noqa: BLE001 - fall back to generated text
        pass
    import random

    rng = random.Random(0)
    words = (
        "the movie was a surprisingly good and heartfelt story about friendship loss and hope "
        "although its second act drags with too many clichés, it's worth watching"
    ).split()
    made = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 40))).capitalize() + "." for _ in range(n)]
    return made, "1,000 generated sentences (5-40 words)"


def run_tokenizer(path: str, *, threads: int, rounds: int, log) -> dict:
    texts, source = sentences()
    workers = {"ours": Worker("ours", "tokenizer", threads, log), "torch": Worker("torch", "tokenizer", threads, log)}
    try:
        for w in workers.values():
            w.request("load", path=str(path))
            w.request("prepare", sentences=texts, warmup=2)
        times = alternate([(workers["ours"], "call"), (workers["torch"], "call")], rounds, 20.0)
    finally:
        for w in workers.values():
            w.close()
    med = {w.side: median(ts) for (w, _), ts in times.items()}
    result = {
        "sentences": len(texts),
        "source": source,
        "ours_s": med["ours"],
        "torch_s": med["torch"],
        "speedup": med["torch"] / med["ours"],
        "samples": len(next(iter(times.values()))),
    }
    print(f"  tokenizer: ours {result['ours_s'] * 1e3:.1f} ms, torch {result['torch_s'] * 1e3:.1f} ms", flush=True)
    return result


EXTRA_RUNNER = r"""
import importlib.util, io, json, sys, contextlib
path, args = sys.argv[1], json.loads(sys.argv[2])
sys.argv = [path] + args
spec = importlib.util.spec_from_file_location("extra_bench", path)
module = importlib.util.module_from_spec(spec)
captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    spec.loader.exec_module(module)
    result = module.main(args) if args else module.main()
if result is None:  # main() printed its JSON dict instead of returning it
    lines = [l for l in captured.getvalue().splitlines() if l.strip().startswith("{")]
    result = json.loads(lines[-1]) if lines else None
sys.stderr.write(captured.getvalue())
print("@@BENCH_RESULT@@" + json.dumps(result, default=str))
"""


def run_extra(script: str, *, threads: int, timeout_s: int, log, args=()) -> dict:
    """Another issue's scenarios (``main()`` -> JSON dict); never fatal."""
    path = HERE / script
    if not path.is_file():
        return {"status": "not available", "detail": f"benchmarks/{script} does not exist yet"}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", EXTRA_RUNNER, str(path), json.dumps(list(args))],
            capture_output=True,
            text=True,
            env=thread_env(threads),
            cwd=str(ROOT),
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {"status": "not available", "detail": f"benchmarks/{script} ran past {timeout_s} s"}
    log.write(proc.stderr)
    marked = [line for line in proc.stdout.splitlines() if line.startswith("@@BENCH_RESULT@@")]
    if proc.returncode != 0 or not marked:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "not available", "detail": f"benchmarks/{script} failed: {last}"}
    result = json.loads(marked[-1].removeprefix("@@BENCH_RESULT@@"))
    if not isinstance(result, dict):
        return {"status": "not available", "detail": f"benchmarks/{script} main() gave no JSON dict"}
    return {"status": "ok", "result": result}


# ------------------------------------------------------------------------------ checkpoints
def bert_base_random(cache: Path) -> Path:
    """A BERT-base-sized config with random weights, built and saved by PyTorch transformers once."""
    folder = cache / "bert-base-random"
    if (folder / "model.safetensors").is_file():
        return folder
    script = (
        "import sys, torch, transformers\n"
        "torch.manual_seed(0)\n"
        "model = transformers.BertModel(transformers.BertConfig())\n"  # 12 x 768, 30522 vocab
        "model.save_pretrained(sys.argv[1])\n"
    )
    tmp = cache / "bert-base-random.tmp"
    subprocess.run([sys.executable, "-c", script, str(tmp)], check=True, capture_output=True)
    os.replace(tmp, folder)
    return folder


def bench_cache() -> Path:
    from kerasformers.data.embedded import cache_dir

    path = cache_dir() / "benchmarks"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------------------ report
def fmt_ms(seconds) -> str:
    if seconds is None or seconds != seconds:
        return "n/a"
    ms = seconds * 1e3
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def pct_peak(gflop: float, seconds, peak: float) -> str:
    if not seconds or not peak or peak != peak:
        return "n/a"
    return f"{100 * gflop / seconds / peak:.0f}%"


def encoder_table(rows: list[dict], peak: float) -> list[str]:
    lines = [
        "| model | batch x seq | GFLOP | our path | ours ms | PyTorch ms | ONNX Runtime ms | "
        "speed vs PyTorch | ours % peak | PyTorch % peak | ORT % peak | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for variant, r in row["ours"].items():
            lines.append(
                f"| {row['model']} | {row['batch']} x {row['seq']} | {row['gflop']:.2f} | {ALL_PATHS[variant]} "
                f"| {fmt_ms(r['seconds'])} | {fmt_ms(row['torch_s'])} | {fmt_ms(row['onnx_s'])} "
                f"| **{r['speedup']:.2f}x** | {pct_peak(row['gflop'], r['seconds'], peak)} "
                f"| {pct_peak(row['gflop'], row['torch_s'], peak)} | {pct_peak(row['gflop'], row['onnx_s'], peak)} "
                f"| {r['max_abs_diff']:.1e} |"
            )
    return lines


def _flat(value) -> bool:
    return isinstance(value, dict) and all(not isinstance(x, (dict, list)) for x in value.values())


def _cell(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _table(rows: list[dict], first: str | None = None) -> list[str]:
    columns = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    header = ([first] if first else []) + columns
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for row in rows:
        cells = ([row.get("_name", "")] if first else []) + [_cell(row.get(c, "")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def extra_section(title: str, extra: dict) -> list[str]:
    """Another script's JSON dict as tables: scalars, lists of flat dicts, dicts of flat dicts."""
    lines = [f"## {title}", ""]
    if extra.get("status") != "ok":
        return lines + [f"Not available: {extra.get('detail', '')}", ""]
    result, rest = extra["result"], {}
    scalars = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
    if scalars:
        lines += ["| metric | value |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in scalars.items()] + [""]
    named = {k: v for k, v in result.items() if _flat(v)}
    if named:
        lines += _table(
            [{"_name": k, **{c: x for c, x in v.items() if c != "_name"}} for k, v in named.items()], first="scenario"
        )
    for key, value in result.items():
        if key in scalars or key in named:
            continue
        if isinstance(value, list) and value and all(_flat(v) for v in value):
            lines += [f"{key}:", ""] + _table(value)
        else:
            rest[key] = value
    if rest:
        lines += ["```json", json.dumps(rest, indent=2, default=str), "```", ""]
    return lines


def render_markdown(results: dict, plot_name: str | None = "BENCHMARKS.png") -> str:
    m, peak = results["machine"], results["peak"]["gflops"]
    m.setdefault("load_end", m["load_start"])
    lines = [
        "# Benchmarks: kerasformers vs PyTorch transformers",
        "",
        f"Made by `{results['command']}` on {results['date']} in {results['wall_s'] / 60:.1f} minutes.",
        "Every number below comes from that one run; rerun the command to refresh this file.",
        "",
    ]
    for rerun in results.get("reruns", []):
        lines[-1:-1] = [
            f"Except {', '.join(EXTRA_TITLES.get(k, k) for k in rerun['extras'])}: made by "
            f"`{rerun['command']}` on {rerun['date']} (load average {rerun['load']:.2f} at its start)."
        ]
    encoder = results.get("encoder", [])
    headline = [
        r for r in encoder if r["model"] == "all-MiniLM-L6-v2" and (r["batch"], r["seq"]) in ((1, 16), (32, 128))
    ]
    if headline:
        lines += ["**Headline** (speed vs PyTorch = PyTorch time / our time; above 1 means we are faster):", ""]
        for r in headline:
            kind = "latency" if r["batch"] == 1 else "throughput"
            lines.append(
                f"- MiniLM {r['batch']} x {r['seq']} ({kind}): "
                + ", ".join(f"{ALL_PATHS[v]} **{x['speedup']:.2f}x**" for v, x in r["ours"].items())
            )
        lines.append("")
    if plot_name:
        lines += [f"![speed vs PyTorch]({plot_name})", ""]
    lines += [
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu_model']} |",
        f"| cores | {m['cores']} (threads per side: {m['threads']}) |",
        f"| memory | {m['memory_gib']:.1f} GiB |",
        f"| load average (1/5/15 min) at start | {' / '.join(f'{x:.2f}' for x in m['load_start'])} |",
        f"| load average at end | {' / '.join(f'{x:.2f}' for x in m['load_end'])} |",
        f"| fp32 GEMM peak ({results['peak']['n']}^3 matmul) | {peak:.1f} GFLOP/s "
        f"({', '.join(f'{k} {v:.1f}' for k, v in results['peak']['by_library'].items())}) |",
        f"| OS | {m['os']} |",
        "",
    ]
    if max(m["load_start"][0], m["load_end"][0]) > 0.5 * m["cores"]:
        lines += [
            f"> The machine was shared during this run (load average up to "
            f"{max(m['load_start'][0], m['load_end'][0]):.1f} on {m['cores']} cores). Both sides are "
            "timed alternately, so the ratios hold better than the absolute times; PyTorch's OpenMP "
            "threads wait for each other at every op and lose the most when cores are shared, so its "
            "small-batch latencies here are worse than on an idle machine.",
            "",
        ]
    lines += ["| library | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results["versions"].items()]
    lines.append("")
    if encoder:
        lines += [
            "## Encoder inference",
            "",
            "Inputs as a tokenizer returns them (int64 numpy: input_ids, attention_mask, token_type_ids; "
            "no padding). PyTorch: `model(**batch)` under `torch.inference_mode()` (sdpa attention). "
            "ONNX Runtime: the PyTorch model exported with `torch.onnx.export(dynamo=True)`, CPU provider, "
            "all graph optimisations. Times are medians per batch after warm-up; each side is timed in its "
            "steady state (a short workload runs untimed for 40 ms first, so the other side's idle "
            "threads have stopped spinning; every round takes the sides in a new order); % peak is the model's "
            "matmul FLOPs per second over the GEMM peak above; max abs diff compares a corner of "
            "last_hidden_state with PyTorch's.",
            "",
        ]
        lines += encoder_table(encoder, peak) + [""]
        firsts = [
            f"{r['model']} {r['batch']}x{r['seq']}: "
            + ", ".join(f"{v} {x['first_call_s']:.2f} s" for v, x in r["ours"].items())
            for r in encoder
        ]
        lines += [
            "First call per new shape (ours; tracing/compilation, not in the medians): " + "; ".join(firsts) + ".",
            "",
        ]
        seconds = [
            f"{r['model']} {r['batch']}x{r['seq']} {x['second_call_s']:.2f} s"
            for r in encoder
            for v, x in r["ours"].items()
            if v == "call" and x.get("second_call_s") is not None
        ]
        if seconds:
            lines += [
                "Second call at a shape, `model(batch)` (it compiles the shape's XLA program then): "
                + "; ".join(seconds)
                + ".",
                "",
            ]
        lines += how_we_are_fast(encoder, peak)
    if results.get("sweep"):
        lines += sweep_section(results["sweep"], peak, sweep_plot_path(Path(plot_name or "BENCHMARKS.png")))
    if results.get("loading"):
        lines += [
            "## from_pretrained",
            "",
            "One load per fresh process (sides alternated, median of the loads). Wall time of the "
            "from_pretrained call alone; peak RSS is the whole process's (imports included, VmHWM), "
            "RSS before is after the imports. PyTorch memory-maps safetensors: pages of weights not "
            "yet read count only once touched.",
            "",
            "| model | parameters | ours s | PyTorch s | speed vs PyTorch | ours peak RSS MB "
            "| PyTorch peak RSS MB | ours RSS before MB | PyTorch RSS before MB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results["loading"]:
            if "error" in r:
                lines.append(f"| {r['model']} | failed: {r['error']} ||||||||")
                continue
            o, t = r["ours"], r["torch"]
            lines.append(
                f"| {r['model']} | {o['parameters'] / 1e6:.1f} M | {o['load_s']:.2f} | {t['load_s']:.2f} "
                f"| **{r['load_speedup']:.2f}x** | {o['peak_rss_mb']:.0f} | {t['peak_rss_mb']:.0f} "
                f"| {o['rss_before_mb']:.0f} | {t['rss_before_mb']:.0f} |"
            )
        lines.append("")
    tok = results.get("tokenizer")
    if tok:
        lines += [
            "## Tokenizer",
            "",
            f'{tok["source"]}, one call with `padding=True, truncation=True, return_tensors="np"`, '
            "all-MiniLM-L6-v2's tokenizer; ours is `kerasformers.AutoTokenizer`, theirs "
            "`transformers.AutoTokenizer`.",
            "",
            "| sentences | ours ms | transformers ms | ours sentences/s | speed vs transformers |",
            "|---|---|---|---|---|",
            f"| {tok['sentences']} | {fmt_ms(tok['ours_s'])} | {fmt_ms(tok['torch_s'])} "
            f"| {tok['sentences'] / tok['ours_s']:.0f} | **{tok['speedup']:.2f}x** |",
            "",
        ]
    for key, extra in results.get("extras", {}).items():
        lines += extra_section(EXTRA_TITLES.get(key, key), extra)
    if results.get("errors"):
        lines += ["## Scenarios that failed", ""] + [f"- {e}" for e in results["errors"]] + [""]
    return "\n".join(lines)


def how_we_are_fast(encoder: list[dict], peak: float) -> list[str]:
    """The "how we are fast" prose, what each path does, and % of the GEMM peak per shape."""
    lines = ["### How we are fast", ""] + [f"- {point}" for point in HOW_WE_ARE_FAST] + [""]
    lines += ["### How each path runs (facts)", ""]
    lines += [f"- {PATH_FACTS[v]}" for v in OUR_PATHS]
    lines += [
        "- PyTorch: eager ops under `torch.inference_mode()`, sdpa attention; ONNX Runtime: the "
        "exported graph with all graph optimisations (fused attention, LayerNorm, GELU)",
        "",
        "% of the measured fp32 GEMM peak (matmul FLOPs per second / peak), per shape:",
        "",
        "| batch x seq | model | "
        + " | ".join(f"{v} % peak" for v in OUR_PATHS)
        + " | PyTorch % peak | ORT % peak | left to the peak (best of ours) |",
        "|---|---|" + "---|" * (len(OUR_PATHS) + 3),
    ]
    for row in encoder:
        ours = {v: row["ours"].get(v, {}).get("seconds") for v in OUR_PATHS}
        best = min((t for t in ours.values() if t), default=None)
        left = f"{best * peak * 1e9 / (row['gflop'] * 1e9):.2f}x" if best and peak == peak else "n/a"
        lines.append(
            f"| {row['batch']} x {row['seq']} | {row['model']} | "
            + " | ".join(pct_peak(row["gflop"], t, peak) for t in ours.values())
            + f" | {pct_peak(row['gflop'], row['torch_s'], peak)} | {pct_peak(row['gflop'], row['onnx_s'], peak)}"
            + f" | {left} |"
        )
    return lines + [""]


def sweep_plot_path(out: Path) -> Path:
    return out.with_name(out.stem + "_sweep.png")


def sweep_section(rows: list[dict], peak: float, plot_path: Path) -> list[str]:
    """Time vs sequence length (MiniLM, batch 1 and 8): ours (each path) and PyTorch."""
    lines = [
        "## Sequence-length sweep",
        "",
        "all-MiniLM-L6-v2, inputs as in the encoder section; medians per batch. "
        f"![time vs sequence length]({plot_path.name})",
        "",
        "| batch | seq | "
        + " | ".join(f"{ALL_PATHS[v]} ms" for v in SWEEP_PATHS)
        + " | PyTorch ms | "
        + " | ".join(f"{v} vs PyTorch" for v in SWEEP_PATHS)
        + " | default % peak |",
        "|---|---|" + "---|" * (2 * len(SWEEP_PATHS) + 2),
    ]
    for row in rows:
        ours = [row["ours"][v] for v in SWEEP_PATHS if v in row["ours"]]
        lines.append(
            f"| {row['batch']} | {row['seq']} | "
            + " | ".join(fmt_ms(x["seconds"]) for x in ours)
            + f" | {fmt_ms(row['torch_s'])} | "
            + " | ".join(f"**{x['speedup']:.2f}x**" for x in ours)
            + f" | {pct_peak(row['gflop'], ours[0]['seconds'], peak)} |"
        )
    return lines + [""]


def plot_sweep(rows: list[dict], path: Path) -> None:
    """Time per batch vs sequence length, log-log: one line per (batch, side)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = {"call": "#2a7ab9", "fast": "#5cb85c", "torch": "#d9534f"}  # one colour per side
    names = {"call": "model(batch)", "fast": "XLA function", "torch": "PyTorch"}
    for i, batch in enumerate(sorted({r["batch"] for r in rows})):
        mine = sorted((r for r in rows if r["batch"] == batch), key=lambda r: r["seq"])
        seqs = [r["seq"] for r in mine]
        style = ("-", "--", ":")[i % 3]  # one line style per batch size
        for side in (*SWEEP_PATHS, "torch"):
            times = [(r["torch_s"] if side == "torch" else r["ours"][side]["seconds"]) * 1e3 for r in mine]
            ax.plot(seqs, times, style, color=colors[side], marker="o", label=f"{names[side]}, batch {batch}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length")
    ax.set_ylabel("ms per batch (median)")
    ax.set_title("all-MiniLM-L6-v2: time vs sequence length", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def ratio_points(results: dict) -> list[tuple[str, float]]:
    points = []
    for r in results.get("encoder", []):
        short = "MiniLM" if "MiniLM" in r["model"] else r["model"]
        for v, x in r["ours"].items():
            points.append((f"{short} {r['batch']}x{r['seq']} {v}", x["speedup"]))
        if r.get("onnx_s"):
            points.append((f"{short} {r['batch']}x{r['seq']} (ONNX Runtime)", r["torch_s"] / r["onnx_s"]))
    for r in results.get("loading", []):
        if "load_speedup" in r:
            points.append((f"from_pretrained {r['model']}", r["load_speedup"]))
    if results.get("tokenizer"):
        points.append(("tokenizer 1,000 sentences", results["tokenizer"]["speedup"]))
    for key, extra in results.get("extras", {}).items():  # rows of other scripts that carry a speedup
        if extra.get("status") != "ok":
            continue
        for name, value in extra["result"].items():
            rows = value if isinstance(value, list) else [value]
            for i, row in enumerate(rows):
                if _flat(row) and isinstance(row.get("speedup"), (int, float)):
                    detail = f"batch {row['batch']}" if "batch" in row else (name if not isinstance(value, list) else i)
                    detail += f" x {row['seq']}" if "seq" in row else ""
                    points.append((f"{key} {detail}", float(row["speedup"])))
    return points


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = ratio_points(results)
    if not points:
        return
    labels, values = zip(*points)
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(points) + 1.2))
    colors = ["#999999" if "ONNX" in label else "#2a7ab9" if v >= 1 else "#d9534f" for label, v in zip(labels, values)]
    ax.barh(range(len(points)), values, color=colors)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(range(len(points)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speed vs PyTorch transformers (PyTorch time / other time; > 1 is faster)")
    ax.set_title(f"kerasformers vs PyTorch transformers, {results['date'][:10]}", fontsize=10)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=7)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------ main
def new_results(command: str, threads: int) -> dict:
    """The skeleton every run fills: command, date, machine and versions."""
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpu_model": cpu_model(),
            "cores": os.cpu_count(),
            "threads": threads,
            "memory_gib": memory_gib(),
            "load_start": list(os.getloadavg()),
            "os": f"{platform.system()} {platform.release()}",
        },
        "versions": versions(),
        "peak": {"gflops": float("nan"), "by_library": {}, "n": 0},
        "encoder": [],
        "sweep": [],
        "loading": [],
        "errors": [],
        "extras": {},
        "wall_s": 0.0,
    }


def merge_extras(previous_path: Path, new: dict) -> dict:
    """The earlier run's results with the extra sections just run put in (``--merge``)."""
    if not previous_path.is_file():
        raise SystemExit(f"--merge: {previous_path} does not exist; run the whole harness first.")
    merged = json.loads(previous_path.read_text())
    merged["extras"] = {**merged.get("extras", {}), **new["extras"]}
    rerun = {
        "command": new["command"],
        "date": new["date"],
        "load": new["machine"]["load_start"][0],
        "extras": sorted(new["extras"]),
    }
    earlier = [{**r, "extras": sorted(set(r["extras"]) - set(rerun["extras"]))} for r in merged.get("reruns", [])]
    merged["reruns"] = [r for r in earlier if r["extras"]] + [rerun]  # a section is dated by its latest run
    merged["errors"] = merged.get("errors", []) + new["errors"]
    return merged


def keep_earlier_extras(previous_path: Path, new: dict) -> dict:
    """``new`` (a full run) with the extra sections it did not run taken from the earlier run (``--keep-extras``).

    Each kept section stays dated: it is listed under the run that made it.
    """
    if not previous_path.is_file():
        return new
    earlier = json.loads(previous_path.read_text())
    kept = {k: v for k, v in earlier.get("extras", {}).items() if k not in new["extras"] and k in EXTRA_SCRIPTS}
    if not kept:
        return new
    reruns = []
    covered = set()
    for rerun in reversed(earlier.get("reruns", [])):  # the latest re-run of a section made it
        extras = sorted((set(rerun["extras"]) & set(kept)) - covered)
        if extras:
            reruns.insert(0, {**rerun, "extras": extras})
            covered |= set(extras)
    if set(kept) - covered:  # made by the earlier full run itself
        reruns.insert(
            0,
            {
                "command": earlier["command"],
                "date": earlier["date"],
                "load": earlier["machine"]["load_start"][0],
                "extras": sorted(set(kept) - covered),
            },
        )
    new["extras"] = {**new["extras"], **kept}
    new["reruns"] = reruns
    return new


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true", help="fewer rounds and loads; still every scenario")
    parser.add_argument(
        "--only", nargs="*", default=None, help="scenario groups: peak minilm sweep bert-base loading tokenizer extras"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--before",
        action="store_true",
        help="MiniLM only: today's model(...) and predict next to their eager / Keras-pipeline "
        "versions (the effect of the fast inference paths)",
    )
    parser.add_argument("--log", type=Path, default=None, help="workers' stderr (default: <out>.log in the cache)")
    parser.add_argument(
        "--extras", nargs="+", choices=sorted(EXTRA_SCRIPTS), default=None, help="which extra scripts (default: all)"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="run only the extra scripts (--extras) and put their sections into the existing <out> and "
        "its .json, keeping every other section of the earlier run",
    )
    parser.add_argument(
        "--keep-extras",
        action="store_true",
        help="a full run with some --extras: keep the other extras' sections of the earlier run (each with its date)",
    )
    args = parser.parse_args(argv)
    groups = set(args.only or ["peak", "minilm", "sweep", "bert-base", "loading", "tokenizer", "extras"])
    if args.merge:
        groups = {"extras"}
    variants = tuple(OUR_PATHS)
    if args.before:
        groups, variants = {"peak", "minilm"}, ("call_eager", "call", "predict_keras", "predict")
    started = time.perf_counter()
    rounds, budget, load_reps = (4, 8.0, 1) if args.quick else (15, 25.0, 3)
    cache = bench_cache()
    log_path = args.log or cache / "bench.log"
    results = new_results(COMMAND + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(), args.threads)
    with open(log_path, "w") as log:

        def attempt(label, fn):
            print(f"[{time.perf_counter() - started:5.0f} s] {label}", flush=True)
            try:
                return fn()
            except Exception as error:  # noqa: BLE001 - one failed scenario must not sink the rest
                traceback.print_exc(file=log)
                results["errors"].append(f"{label}: {type(error).__name__}: {error}")
                print(f"  FAILED: {error}", flush=True)
                return None

        if "peak" in groups:
            results["peak"] = attempt("fp32 GEMM peak", lambda: measure_gemm_peak(args.threads)) or results["peak"]
        from fixture_data import smollm2_checkpoint

        from kerasformers.data.embedded import minilm_checkpoint

        minilm = minilm_checkpoint()
        if "minilm" in groups:
            results["encoder"] += (
                attempt(
                    "encoder: all-MiniLM-L6-v2",
                    lambda: run_encoder(
                        "all-MiniLM-L6-v2",
                        minilm,
                        threads=args.threads,
                        log=log,
                        rounds=rounds,
                        budget_s=budget,
                        onnx_path=None if args.before else str(cache / "all-MiniLM-L6-v2.onnx"),
                        our_variants=variants,
                    ),
                )
                or []
            )
        if "sweep" in groups:
            results["sweep"] = (
                attempt(
                    "sequence-length sweep: all-MiniLM-L6-v2",
                    lambda: run_encoder(
                        "all-MiniLM-L6-v2",
                        minilm,
                        shapes=[(b, n) for b in SWEEP_BATCHES for n in SWEEP_LENGTHS],
                        threads=args.threads,
                        log=log,
                        rounds=max(3, rounds // 3),
                        budget_s=budget / 5,
                        our_variants=SWEEP_PATHS,
                    ),
                )
                or []
            )
        if "bert-base" in groups:
            base = attempt("BERT-base random checkpoint", lambda: bert_base_random(cache))
            if base:
                results["encoder"] += (
                    attempt(
                        "encoder: BERT-base (random)",
                        lambda: run_encoder(
                            "BERT-base (random)",
                            base,
                            threads=args.threads,
                            log=log,
                            rounds=rounds,
                            budget_s=budget,
                            min_rounds=2,
                        ),
                    )
                    or []
                )
        if "loading" in groups:
            for name, get_path, kind in (
                ("all-MiniLM-L6-v2", lambda: minilm, "base"),
                ("SmolLM2-135M", smollm2_checkpoint, "causal_lm"),
            ):
                r = attempt(
                    f"from_pretrained: {name}",
                    lambda: run_loading(name, get_path(), kind, threads=args.threads, reps=load_reps, log=log),
                )
                results["loading"].append(r or {"model": name, "error": results["errors"][-1]})
        if "tokenizer" in groups:
            results["tokenizer"] = attempt(
                "tokenizer", lambda: run_tokenizer(minilm, threads=args.threads, rounds=rounds, log=log)
            )
        if "extras" in groups:
            for key, (script, script_args, *timeout) in EXTRA_SCRIPTS.items():
                if args.extras and key not in args.extras:
                    continue
                print(f"[{time.perf_counter() - started:5.0f} s] extra: {script} {' '.join(script_args)}", flush=True)
                results["extras"][key] = run_extra(
                    script,
                    threads=args.threads,
                    timeout_s=timeout[0] if timeout else EXTRA_TIMEOUT_S,
                    log=log,
                    args=script_args,
                )
                print(f"  {results['extras'][key]['status']}", flush=True)
    results["machine"]["load_end"] = list(os.getloadavg())
    results["wall_s"] = time.perf_counter() - started
    if args.merge:
        results = merge_extras(args.out.with_suffix(".json"), results)
    elif args.keep_extras:
        results = keep_earlier_extras(args.out.with_suffix(".json"), results)
    plot_path = args.out.with_suffix(".png")
    try:
        plot(results, plot_path)
    except Exception as error:  # noqa: BLE001 - the table matters more than the picture
        results["errors"].append(f"plot: {error}")
        plot_path = None
    if results.get("sweep"):
        try:
            plot_sweep(results["sweep"], sweep_plot_path(args.out))
        except Exception as error:  # noqa: BLE001
            results["errors"].append(f"sweep plot: {error}")
    write_atomic(args.out, render_markdown(results, plot_path.name if plot_path else None) + "\n")
    write_atomic(args.out.with_suffix(".json"), json.dumps(results, indent=1, default=str))
    print(f"wrote {args.out} ({(time.perf_counter() - started) / 60:.1f} min); workers' log: {log_path}", flush=True)
    return results


if __name__ == "__main__":
    main()
