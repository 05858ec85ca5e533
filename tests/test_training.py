"""Training the Keras way: default losses and metrics, mixed precision, prepare_tf_dataset, the CLI.

Per-head fit checks (three ways of giving labels, eager and XLA) live in the common mixin
(tests/model_tester.py); this file covers what is not per head.
"""

import json
import os

import datasets
import keras
import numpy as np
import pytest
import transformers
from tiny_configs import BERT_KWARGS

import kerasformers
from kerasformers import TFBertForQuestionAnswering, TFBertForSequenceClassification
from kerasformers.cli import main

TINY = dict(BERT_KWARGS)


def tiny(cls=TFBertForSequenceClassification, **overrides):
    config = kerasformers.AutoConfig.for_model("bert", **{**TINY, "num_labels": 2, **overrides})
    model = cls(config)
    model.build_with_dummy_inputs()
    return model


def batch(n=8, length=7, seed=0):
    rng = np.random.RandomState(seed)
    return {
        "input_ids": rng.randint(3, 99, (n, length)).astype(np.int32),
        "attention_mask": np.ones((n, length), np.int32),
    }, rng.randint(0, 2, n)


def test_predict_returns_the_models_output_class():
    """transformers' TF models gave their output class from predict(): `.logits` and `["logits"]` both work."""
    import tensorflow as tf

    x, _ = batch()
    for inputs in (x, tf.data.Dataset.from_tensor_slices(x).batch(3)):
        model = tiny()
        predictions = model.predict(inputs, verbose=0)
        assert type(predictions) is type(model(x)), type(predictions)
        assert type(predictions).__name__ == "TFSequenceClassifierOutput"
        np.testing.assert_allclose(predictions.logits, model(x).logits, atol=1e-5)
        assert predictions["logits"] is predictions.logits


# ------------------------------------------------------------------------- losses and metrics
def test_metrics_use_labels_in_y_against_logits():
    model = tiny()
    x, y = batch()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"], run_eagerly=True)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = np.mean(np.argmax(model(x).logits, -1) == y)
    assert result["accuracy"] == pytest.approx(expected)
    assert result["loss"] == pytest.approx(float(model({**x, "labels": y}).loss), abs=1e-6)
    # the same with the labels inside x, or as {"labels": y}
    assert model.evaluate({**x, "labels": y}, verbose=0, return_dict=True) == pytest.approx(result)
    assert model.evaluate(x, {"labels": y}, verbose=0, return_dict=True) == pytest.approx(result)
    # `label` (a raw datasets column) is understood as `labels`
    assert model.evaluate({**x, "label": y}, verbose=0, return_dict=True) == pytest.approx(result)


def test_explicit_loss_is_used_as_given():
    model = tiny()
    x, y = batch()
    mse_like = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss=mse_like, run_eagerly=True)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float(mse_like(y, model(x).logits)), abs=1e-6)
    twice = lambda y_true, y_pred: 2.0 * mse_like(y_true, y_pred)  # noqa: E731
    model.compile(optimizer="adam", loss=twice, run_eagerly=True)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(2 * float(mse_like(y, model(x).logits)), abs=1e-5)


def test_loss_none_turns_the_default_off():
    model = tiny()
    x, y = batch()
    model.compile(optimizer="adam", loss=None, run_eagerly=True)
    with pytest.raises(ValueError, match="loss=None"):
        model.fit(x, y, verbose=0)


def test_missing_labels_give_a_clear_error():
    model = tiny()
    x, _ = batch()
    model.compile(optimizer="adam", run_eagerly=True)
    with pytest.raises(ValueError, match="no labels"):
        model.fit(x, verbose=0)


def test_question_answering_labels_as_dict_and_metrics():
    model = tiny(TFBertForQuestionAnswering)
    x, _ = batch()
    rng = np.random.RandomState(3)
    y = {"start_positions": rng.randint(0, 7, 8), "end_positions": rng.randint(0, 7, 8)}
    assert model.get_label_names() == ("start_positions", "end_positions")
    model.compile(optimizer="adam", run_eagerly=True)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float(model({**x, **y}).loss), abs=1e-6)
    with pytest.raises(ValueError, match="as a dict"):
        model.fit(x, y["start_positions"], verbose=0)


def test_mismatched_lengths_fail_before_training():
    model = tiny()
    x, y = batch()
    model.compile(optimizer="adam", run_eagerly=True)
    with pytest.raises(ValueError, match="different numbers of examples.*y: 7"):
        model.fit(x, y[:7], verbose=0)
    assert not model.optimizer.built  # nothing was trained


def test_compile_config_round_trip(tmp_path):
    model = tiny()
    model.compile(optimizer="adam")
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert reloaded.compiled and reloaded._uses_default_loss
    x, y = batch()
    assert reloaded.evaluate(x, y, verbose=0) == pytest.approx(float(model({**x, "labels": y}).loss), abs=1e-5)


# ------------------------------------------------------------------------- mixed precision
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains(policy):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = tiny(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        x, y = batch(n=16)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), metrics=["accuracy"])
        if policy == "mixed_float16":
            assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert model(x).logits.dtype == policy.split("_")[1]
        before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] < before
        assert all(w.dtype == "float32" for w in model.trainable_weights)
    finally:
        keras.config.set_dtype_policy(previous)


# ------------------------------------------------------------------------- prepare_tf_dataset
def token_dataset(n=37, seed=0):
    """Rows of different lengths; the first token after [CLS] is the row's index (for coverage checks)."""
    rng = np.random.RandomState(seed)
    ids, types = [], []
    for i in range(n):
        length = 3 + rng.randint(0, 20)
        ids.append([2, 10 + i] + rng.randint(3, 99, length - 3).tolist() + [3])
        types.append([0] * length)
    return datasets.Dataset.from_dict(
        {
            "text": [f"row {i}" for i in range(n)],
            "input_ids": ids,
            "token_type_ids": types,
            "attention_mask": [[1] * len(r) for r in ids],
            "label": [i % 2 for i in range(n)],
            "extra": list(range(n)),
        }
    )


class PadOnly:
    pad_token_id = 0
    pad_token_type_id = 0
    padding_side = "right"
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]


def test_prepare_tf_dataset_pads_per_batch_keeps_model_columns():
    model = tiny()
    data = token_dataset()
    tf_ds = model.prepare_tf_dataset(data, batch_size=5, shuffle=True, tokenizer=PadOnly(), seed=0)
    assert tf_ds.cardinality() == 8
    longest_overall = max(len(r) for r in data["input_ids"])
    seen, widths = [], set()
    for x, y in tf_ds:
        assert sorted(x) == ["attention_mask", "input_ids", "token_type_ids"]  # no text, no extra
        lengths = x["attention_mask"].numpy().sum(1)
        assert x["input_ids"].shape[1] == lengths.max()  # the batch's own longest
        widths.add(x["input_ids"].shape[1])
        ids = x["input_ids"].numpy()[:, 1] - 10
        np.testing.assert_array_equal(y.numpy(), ids % 2)  # label renamed labels, given as y
        seen.extend(ids.tolist())
    assert min(widths) < longest_overall
    assert sorted(seen) == list(range(len(data)))  # every example once per epoch
    second = [int(v) for x, _ in tf_ds for v in x["input_ids"][:, 1].numpy() - 10]
    assert sorted(second) == sorted(seen) and second != seen  # reshuffled each epoch


def test_prepare_tf_dataset_trains_with_fit_and_default_loss():
    model = tiny()
    tf_ds = model.prepare_tf_dataset(token_dataset(), batch_size=8, tokenizer=PadOnly(), seed=1, group_by_length=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"], run_eagerly=True)
    history = model.fit(tf_ds, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_length_buckets_bound_the_compiled_shapes():
    model = tiny()
    buckets = (8, 16, 24)
    tf_ds = model.prepare_tf_dataset(
        token_dataset(60), batch_size=4, tokenizer=PadOnly(), seed=0, length_buckets=buckets, drop_remainder=True
    )
    shapes = {tuple(x["input_ids"].shape) for _ in range(3) for x, _ in tf_ds}
    # docstring: at most len(buckets) shapes with drop_remainder=True
    assert {s[1] for s in shapes} <= set(buckets) and len(shapes) <= len(buckets)
    assert all(s[0] == 4 for s in shapes)


def test_prepare_tf_dataset_errors():
    model = tiny()
    with pytest.raises(TypeError, match="DatasetDict"):
        model.prepare_tf_dataset(datasets.DatasetDict({"train": token_dataset()}))
    with pytest.raises(ValueError, match="Tokenize first"):
        model.prepare_tf_dataset(datasets.Dataset.from_dict({"text": ["a"], "label": [0]}))


def anonymous_memory_mb() -> float:
    """Resident memory that is not file-backed: memory-mapped Arrow pages do not count."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("RssAnon"))
    return int(line.split()[1]) / 1024


def test_prepare_tf_dataset_stays_on_disk(tmp_path):
    """A dataset larger than we would hold in a test (~330 MB of Arrow) is read batch by batch."""
    rows, length = 100_000, 512  # as Python lists of ints this would be gigabytes

    def generate():
        block = np.arange(length, dtype=np.int64) % 90 + 3
        for i in range(rows):
            yield {"input_ids": block, "attention_mask": np.ones(length, np.int8), "label": i % 2}

    features = datasets.Features(
        {
            "input_ids": datasets.Sequence(datasets.Value("int32")),
            "attention_mask": datasets.Sequence(datasets.Value("int8")),
            "label": datasets.Value("int64"),
        }
    )
    data = datasets.Dataset.from_generator(generate, features=features, cache_dir=str(tmp_path))
    arrow_files = [f["filename"] for f in data.cache_files]
    assert arrow_files and sum(os.path.getsize(f) for f in arrow_files) > 200e6
    model = tiny()
    tf_ds = model.prepare_tf_dataset(data, batch_size=64, shuffle=True, seed=0)
    iterator = iter(tf_ds)
    next(iterator)  # start the pipeline (threads, buffers) before measuring
    start = anonymous_memory_mb()
    for _ in range(100):
        x, y = next(iterator)
    assert x["input_ids"].shape == (64, length)
    assert data.cache_files == [{"filename": f} for f in arrow_files]  # still backed by the files
    grown = anonymous_memory_mb() - start
    assert grown < 60, f"memory grew by {grown:.0f} MB reading 6400 of {rows} rows"


# ------------------------------------------------------------------------- the command line
def write_csv(path, rows):
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "stars", "count"])
        writer.writerows(rows)
    return str(path)


@pytest.mark.parametrize(
    "rows, flags, message",
    [
        ([("good", 0, 1), ("bad", 1, 2), ("meh", -1, 3)], ["--label-column", "stars"], "out of range"),
        ([("good", 0, 1), ("bad", 1, 2), ("meh", 1, 3)], ["--label-column", "rating"], "no column 'rating'"),
        (
            [("good", 0, 1), ("bad", 1, 2), ("meh", 1, 3)],
            ["--label-column", "stars", "--text-column", "count"],
            "not text",
        ),
    ],
)
def test_cli_bad_input_fails_before_training(tmp_path, capsys, rows, flags, message):
    path = write_csv(tmp_path / "data.csv", rows * 4)
    out = tmp_path / "out"
    code = main(["train", "--data", path, "--text-column", "review", *flags, "--output-dir", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]  # one clear line
    assert not out.exists()


def test_cli_eval_label_out_of_range(tmp_path, capsys):
    train = datasets.Dataset.from_dict({"text": ["a", "b", "c", "d"], "label": [0, 1, 0, 1]})
    test = datasets.Dataset.from_dict({"text": ["e", "f"], "label": [1, 2]})
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(tmp_path / "data")
    assert main(["train", "--data", str(tmp_path / "data"), "--output-dir", str(tmp_path / "o")]) == 2
    assert "Evaluation label 2" in capsys.readouterr().err


def test_cli_main_job_shortened(tmp_path, capsys):
    """The README's first command on a small subset: trains, evaluates, saves a loadable model."""
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--max-train-samples",
            "96",
            "--max-eval-samples",
            "48",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--max-length",
            "32",
            "--output-dir",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "Held-out accuracy" in printed and "macro F1" in printed and "true:" in printed
    results = json.loads((out / "eval_results.json").read_text())
    assert 0 <= results["accuracy"] <= 1 and 0 <= results["macro_f1"] <= 1
    model = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(out)
    tokenizer = kerasformers.AutoTokenizer.from_pretrained(out)
    assert model.config.id2label[1] == "positive"
    logits = model(tokenizer(["A wonderful film."], return_tensors="np")).logits
    assert logits.shape == (1, 2)
    # PyTorch transformers reads it too
    theirs = transformers.AutoModelForSequenceClassification.from_pretrained(out)
    assert theirs.config.num_labels == 2


def test_issue_example_tokenizer_output_as_x(minilm_path):
    """model.fit(tokenizer(texts, return_tensors="np", padding=True), labels) with compile() and no loss."""
    tokenizer = kerasformers.AutoTokenizer.from_pretrained(minilm_path)
    model = tiny(vocab_size=len(tokenizer))
    model.compile(optimizer=keras.optimizers.Adam(3e-5), metrics=["accuracy"], run_eagerly=True)
    encoded = tokenizer(["good film", "bad film, really bad", "ok"], return_tensors="np", padding=True)
    history = model.fit(encoded, np.array([1, 0, 1]), verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
