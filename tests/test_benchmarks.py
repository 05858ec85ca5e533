"""Smoke test of the benchmark harness (benchmarks/bench.py): one tiny scenario, end to end.

Both sides run in their own worker processes, as in the real run. No timing is asserted.
"""

import importlib.util
from pathlib import Path

import pytest
import torch
import transformers
from tiny_configs import BERT_KWARGS

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("kerasformers_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    torch.manual_seed(0)
    config = transformers.BertConfig(**BERT_KWARGS)
    folder = tmp_path_factory.mktemp("tiny_bert")
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def test_tiny_encoder_scenario_end_to_end(bench, tiny_bert, tmp_path):
    with open(tmp_path / "workers.log", "w") as log:
        rows = bench.run_encoder(
            "tiny-bert", tiny_bert, shapes=((2, 8),), threads=1, log=log, rounds=2, budget_s=None, warmup=1
        )
    assert len(rows) == 1
    row = rows[0]
    assert (row["batch"], row["seq"]) == (2, 8) and row["gflop"] > 0
    assert row["torch_s"] > 0 and row["samples"] == 2
    assert set(row["ours"]) == set(bench.OUR_PATHS)
    for variant in row["ours"].values():
        assert variant["seconds"] > 0 and variant["speedup"] > 0
        assert variant["max_abs_diff"] <= 1e-4  # both sides computed the same thing
    for times in row["raw"].values():
        assert len(times) == 2

    results = bench.new_results("pytest", threads=1)
    results["encoder"] = rows
    results["tokenizer"] = {
        "sentences": 3,
        "source": "test",
        "ours_s": 0.01,
        "torch_s": 0.02,
        "speedup": 2.0,
        "samples": 2,
    }
    results["extras"] = {
        "generation": {"status": "not available", "detail": "missing"},
        "export": {
            "status": "ok",
            "result": {
                "saved_model": {"ours_s": 1.5, "ratio": 0.9},
                "runs": [{"batch": 1, "speedup": 1.25}],
                "latency_ms": 3.5,
            },
        },
    }
    text = bench.render_markdown(results, plot_name="BENCHMARKS.png")
    table = [line for line in text.splitlines() if line.startswith("| tiny-bert | 2 x 8 |")]
    assert len(table) == len(bench.OUR_PATHS)
    assert all(line.count("|") == 13 for line in table)
    assert "## Encoder inference" in text and "Not available: missing" in text
    assert "| saved_model | 1.5 | 0.9 |" in text and "| latency_ms | 3.5 |" in text and "| 1 | 1.25 |" in text
    assert ("export batch 1", 1.25) in bench.ratio_points(results)
    bench.plot(results, tmp_path / "ratios.png")
    assert (tmp_path / "ratios.png").stat().st_size > 1000


def test_missing_extra_script_is_reported_not_raised(bench, tmp_path):
    with open(tmp_path / "log", "w") as log:
        extra = bench.run_extra("bench_does_not_exist.py", threads=1, timeout_s=10, log=log)
    assert extra["status"] == "not available"
