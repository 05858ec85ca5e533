"""Loading and import costs: from_pretrained's time and memory next to PyTorch transformers'.

``main()`` prints one JSON dict:

- per checkpoint (SmolLM2-135M, all-MiniLM-L6-v2): from_pretrained in a fresh process per load,
  sides alternated (ours, PyTorch, ours, ...), medians: load seconds, peak RSS minus the RSS
  after imports, and that growth over the checkpoint's weight bytes (the goal: <= 1.1).
  PyTorch memory-maps safetensors: pages it never touches are not counted on its side.
- ``import_*``: a fresh ``import kerasformers`` (seconds, RSS), the first ``kerasformers.TFAutoModel``
  access after it (which imports Keras / TensorFlow and every architecture), and
  ``kerasformers --help`` (wall seconds, peak RSS).

Example:
    python benchmarks/bench_loading.py --reps 3
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # fixture_data: the SmolLM2 checkpoint

IMPORT_PROBE = r"""
import json, time
def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
start = time.perf_counter()
import kerasformers
imported = time.perf_counter()
rss_import = status("VmRSS")
kerasformers.TFAutoModel
accessed = time.perf_counter()
print(json.dumps({"import_s": imported - start, "import_rss_mb": rss_import,
                  "first_access_s": accessed - imported, "first_access_rss_mb": status("VmRSS")}))
"""


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["BENCH_THREADS"] = env.get("BENCH_THREADS", str(os.cpu_count() or 1))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def _json_line(command: list[str]) -> dict:
    proc = subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=str(ROOT), timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{command[1:3]} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(lines[-1])


def weight_bytes(folder: Path) -> int:
    """Bytes of tensor data in a checkpoint's safetensors files (headers excluded)."""
    total = 0
    for path in folder.glob("*.safetensors"):
        with open(path, "rb") as file:
            header_size = int.from_bytes(file.read(8), "little")
        total += path.stat().st_size - 8 - header_size
    return total


def loading(name: str, folder: Path, kind: str, reps: int) -> dict:
    runs = {"ours": [], "torch": []}
    for _ in range(reps):
        for side in runs:
            runs[side].append(
                _json_line([sys.executable, str(HERE / "worker.py"), "load-once", side, kind, str(folder)])
            )
    size = weight_bytes(folder) / 2**20
    result = {"model": name, "weights_mb": round(size, 1)}
    for side, results in runs.items():
        load_s = statistics.median(r["load_s"] for r in results)
        growth = statistics.median(r["peak_rss_mb"] - r["rss_before_mb"] for r in results)
        result[f"{side}_load_s"] = round(load_s, 2)
        result[f"{side}_peak_minus_imports_mb"] = round(growth, 1)
        result[f"{side}_growth_over_weights"] = round(growth / size, 2)
    result["load_speed_vs_pytorch"] = round(result["torch_load_s"] / result["ours_load_s"], 2)
    return result


def imports(reps: int) -> dict:
    probes = [_json_line([sys.executable, "-c", IMPORT_PROBE]) for _ in range(reps)]
    result = {key: round(statistics.median(p[key] for p in probes), 3) for key in probes[0]}
    cli = ROOT / ".venv" / "bin" / "kerasformers"
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "kerasformers.cli"]
    walls, peaks = [], []
    for _ in range(reps):
        start = time.perf_counter()
        proc = subprocess.Popen([*command, "--help"], stdout=subprocess.DEVNULL, env=_env(), cwd=str(ROOT))
        _, _, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS (kilobytes on Linux)
        peaks.append(usage.ru_maxrss / 1024)
        walls.append(time.perf_counter() - start)
    result["cli_help_s"] = round(statistics.median(walls), 3)
    result["cli_help_peak_rss_mb"] = round(statistics.median(peaks), 1)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    from fixture_data import smollm2_checkpoint

    from kerasformers.data.embedded import minilm_checkpoint

    result = {"reps": args.reps, "load_average_start": round(os.getloadavg()[0], 2)}
    result["loading"] = [
        loading("SmolLM2-135M", smollm2_checkpoint(), "causal_lm", args.reps),
        loading("all-MiniLM-L6-v2", Path(minilm_checkpoint()), "base", args.reps),
    ]
    result.update({f"import_{k}": v for k, v in imports(args.reps).items()})
    result["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
