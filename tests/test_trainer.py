"""Trainer / TrainingArguments (kerasformers.trainer) on a tiny BERT classifier with MiniLM's tokenizer.

Oracles: transformers 5.23 (get_scheduler on a torch optimizer, TrainingArguments defaults,
get_decay_parameter_names, loading a checkpoint with PyTorch), hand computations (the weighted
loss), and properties (accumulation 2 x 8 == batch 16, resume == uninterrupted run).
"""

import dataclasses

import datasets
import keras
import numpy as np
import pytest

import kerasformers
from kerasformers import TFBertForSequenceClassification
from kerasformers.trainer import (
    EarlyStoppingCallback,
    EvalPrediction,
    PredictionOutput,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    TrainOutput,
    get_scheduler,
)

TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
    num_labels=2,
)
NO_DROPOUT = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
RUNTIME_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second")


@pytest.fixture(scope="session")
def tokenizer(minilm_path):
    return kerasformers.AutoTokenizer.from_pretrained(str(minilm_path))


@pytest.fixture(scope="session")
def dataset(tokenizer):
    words = ["good", "bad", "film", "plot", "great", "awful", "actor", "scene"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(2, 12)))) for _ in range(48)]
    labels = [int("good" in t or "great" in t) for t in texts]
    data = datasets.Dataset.from_dict({"text": texts, "label": labels})
    return data.map(lambda b: tokenizer(b["text"], truncation=True, max_length=32), batched=True)


def make_model(tokenizer, dropout=False, seed=0):
    config = kerasformers.AutoConfig.for_model(
        "bert", vocab_size=tokenizer.vocab_size, **TINY, **({} if dropout else NO_DROPOUT)
    )
    keras.utils.set_random_seed(seed)
    model = TFBertForSequenceClassification(config)
    model.build_with_dummy_inputs()
    return model


def weights(model):
    return [np.array(v) for v in model.weights]


def args(tmp_path, **kwargs):
    defaults = dict(disable_tqdm=True, jit_compile=False, save_strategy="no", logging_steps=1)
    return TrainingArguments(str(tmp_path), **{**defaults, **kwargs})


# --------------------------------------------------------------------- schedules and arguments
@pytest.mark.parametrize("name", ["linear", "cosine", "constant", "constant_with_warmup", "polynomial"])
@pytest.mark.parametrize("warmup", [0, 3])
def test_schedules_match_transformers(name, warmup):
    import torch
    import transformers

    steps, lr = 20, 1e-3
    torch_optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    torch_schedule = transformers.get_scheduler(
        name, torch_optimizer, num_warmup_steps=warmup, num_training_steps=steps
    )
    ours = get_scheduler(name, learning_rate=lr, num_warmup_steps=warmup, num_training_steps=steps)
    for step in range(steps + 2):
        expected = torch_schedule.get_last_lr()[0]
        assert ours.value(step) == pytest.approx(expected, rel=1e-12, abs=1e-15), step
        assert float(ours(step)) == pytest.approx(expected, rel=1e-6, abs=1e-12), step  # the float32 tensor
        torch_optimizer.step()
        torch_schedule.step()


def test_training_arguments_defaults_match_transformers():
    import transformers

    theirs = transformers.TrainingArguments("out")
    ours = TrainingArguments("out")
    shared = [
        f.name
        for f in dataclasses.fields(ours)
        if hasattr(theirs, f.name) and f.name not in ("output_dir", "logging_dir", "run_name", "report_to")
    ]
    assert len(shared) > 40
    for name in shared:
        value, expected = getattr(ours, name), getattr(theirs, name)
        value, expected = getattr(value, "value", value), getattr(expected, "value", expected)
        assert value == expected, (name, value, expected)
    assert ours.report_to == [] and theirs.report_to in ("none", [], ["none"])


def test_warmup_ratio_and_old_names():
    # transformers 4.57 training_args.py: warmup_steps if warmup_steps > 0 else ceil(num_training_steps * warmup_ratio)
    assert TrainingArguments("o", warmup_ratio=0.1).get_warmup_steps(95) == 10
    assert TrainingArguments("o", warmup_ratio=0.1, warmup_steps=4).get_warmup_steps(95) == 4
    assert TrainingArguments("o", evaluation_strategy="epoch").eval_strategy == "epoch"
    best = TrainingArguments("o", eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True)
    assert best.metric_for_best_model == "loss" and best.greater_is_better is False


def test_weight_decay_exclusions_match_transformers(tokenizer, tmp_path):
    import torch
    import transformers

    model = make_model(tokenizer)
    trainer = Trainer(model, args(tmp_path), train_dataset={"input_ids": [[1, 2]], "labels": [0]})
    ours = trainer.get_decay_parameter_names(model)
    torch_model = transformers.BertForSequenceClassification(
        transformers.BertConfig(vocab_size=tokenizer.vocab_size, **TINY, **NO_DROPOUT)
    )
    theirs = transformers.Trainer(
        torch_model, transformers.TrainingArguments(str(tmp_path / "t"))
    ).get_decay_parameter_names(torch_model)
    assert len(ours) == len(theirs)
    assert not any("layernorm" in n.lower() or "bias" in n for n in ours)
    excluded = [v.path for v in model.trainable_variables if v.path not in set(ours)]
    assert all("LayerNorm" in p or p.endswith("bias") for p in excluded), excluded
    del torch


# --------------------------------------------------------------------- the training step
def test_accumulation_2_by_8_equals_batch_16(tokenizer, dataset, tmp_path):
    data = dataset.select(range(16))
    results = []
    for batch, accumulation in ((16, 1), (8, 2)):
        model = make_model(tokenizer)
        trainer = Trainer(
            model,
            args(
                tmp_path / f"ga{accumulation}",
                per_device_train_batch_size=batch,
                gradient_accumulation_steps=accumulation,
                max_steps=2,
                weight_decay=0.01,
                max_grad_norm=0.5,
                learning_rate=1e-2,
                jit_compile=False,  # XLA is covered by the weighted-loss test
            ),
            train_dataset=data,
            processing_class=tokenizer,
        )
        trainer._epoch_batches = lambda count, size, epoch, shuffle, drop_last: [
            np.arange(i, min(i + size, count)) for i in range(0, count, size)
        ]  # the same 16 examples in one update either way
        trainer.train()
        results.append((weights(model), [e.get("loss") for e in trainer.state.log_history[:-1]]))
    (w16, loss16), (w8, loss8) = results
    assert max(np.max(np.abs(a - b)) for a, b in zip(w16, w8)) <= 1e-5
    np.testing.assert_allclose(loss8, loss16, atol=1e-5)


class WeightedTrainer(Trainer):
    class_weights = np.array([1.0, 3.0], np.float32)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            labels, outputs.logits, sample_weight=keras.ops.take(self.class_weights, labels)
        )
        return (loss, outputs) if return_outputs else loss


def test_weighted_compute_loss_override_against_hand_computation(tokenizer, dataset, tmp_path):
    model = make_model(tokenizer)
    trainer = WeightedTrainer(
        model,
        args(tmp_path, max_steps=1, per_device_train_batch_size=8, jit_compile=True),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    batch = trainer.get_train_dataloader()[0]
    logits = np.asarray(model(**{k: v for k, v in batch.items() if k != "labels"}).logits, np.float64)
    labels = batch["labels"]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_example = -log_probs[np.arange(len(labels)), labels]
    # Keras' default reduction "sum_over_batch_size": sum(weight * loss) / batch size
    expected = float(np.sum(WeightedTrainer.class_weights[labels] * per_example) / len(labels))
    unweighted = float(np.mean(per_example))
    trainer.train()
    logged = trainer.state.log_history[0]["loss"]
    assert logged == pytest.approx(expected, abs=1e-5)
    assert abs(expected - unweighted) > 1e-3  # the weights change the result


# --------------------------------------------------------------------- evaluate, predict, best model, early stop
def accuracy(prediction: EvalPrediction):
    logits, labels = prediction
    return {"accuracy": float(np.mean(np.argmax(logits, -1) == labels))}


def test_evaluate_and_predict_structures(tokenizer, dataset, tmp_path):
    model = make_model(tokenizer)
    trainer = Trainer(
        model, args(tmp_path, per_device_eval_batch_size=5), processing_class=tokenizer, compute_metrics=accuracy
    )
    test = dataset.select(range(12))
    metrics = trainer.evaluate(test)
    for key in ("eval_loss", "eval_accuracy", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second"):
        assert key in metrics
    inputs = dict(tokenizer(list(test["text"]), truncation=True, max_length=32, padding=True, return_tensors="np"))
    logits = np.asarray(model(**inputs).logits)
    labels = np.array(list(test["label"]))
    expected_loss = float(model(**inputs, labels=labels).loss)
    assert metrics["eval_loss"] == pytest.approx(expected_loss, abs=1e-5)
    assert metrics["eval_accuracy"] == pytest.approx(np.mean(logits.argmax(-1) == labels))
    out = trainer.predict(test)
    assert isinstance(out, PredictionOutput)
    np.testing.assert_allclose(out.predictions, logits, atol=1e-5)
    np.testing.assert_array_equal(out.label_ids, labels)
    assert out.metrics["test_loss"] == pytest.approx(expected_loss, abs=1e-5)
    assert "test_accuracy" in out.metrics


class ScriptedMetric:
    """compute_metrics returning a fixed sequence of "f1" values, one per evaluation."""

    def __init__(self, values):
        self.values = list(values)

    def __call__(self, prediction):
        return {"f1": self.values.pop(0)}


def test_load_best_model_at_end_and_early_stopping(tokenizer, dataset, tmp_path):
    model = make_model(tokenizer)
    seen = []

    class Saves(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            seen.append((state.global_step, [np.array(v) for v in kwargs["model"].weights]))

    trainer = Trainer(
        model,
        args(
            tmp_path,
            eval_strategy="steps",
            eval_steps=2,
            save_strategy="steps",
            save_steps=2,
            max_steps=20,
            learning_rate=1e-2,
            load_best_model_at_end=True,
            metric_for_best_model="f1",
            save_total_limit=1,
            per_device_train_batch_size=8,
        ),
        train_dataset=dataset,
        eval_dataset=dataset.select(range(8)),
        processing_class=tokenizer,
        compute_metrics=ScriptedMetric([0.5, 0.9, 0.7, 0.6, 0.95]),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=2), Saves()],
    )
    out = trainer.train()
    assert isinstance(out, TrainOutput)
    assert out.global_step == 8  # evaluations at 2, 4 (best), 6, 8: two without improvement stop
    assert trainer.state.best_metric == 0.9 and trainer.state.best_global_step == 4
    assert trainer.state.best_model_checkpoint == str(tmp_path / "checkpoint-4")
    best_weights = dict(seen)[4]
    assert all(np.array_equal(a, b) for a, b in zip(weights(model), best_weights))
    # save_total_limit=1 with load_best_model_at_end keeps the best and the last
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-8"]
    evals = [e for e in trainer.state.log_history if "eval_f1" in e]
    assert [e["step"] for e in evals] == [2, 4, 6, 8] and all("eval_loss" in e for e in evals)


# --------------------------------------------------------------------- checkpoints and resume
def test_resume_from_checkpoint_equals_uninterrupted_run(tokenizer, dataset, tmp_path):
    settings = dict(
        max_steps=7,
        save_strategy="steps",
        save_steps=3,
        per_device_train_batch_size=8,
        gradient_accumulation_steps=2,
        warmup_steps=2,
        weight_decay=0.01,
        learning_rate=5e-3,
        seed=3,
    )
    full = make_model(tokenizer, dropout=True)
    Trainer(full, args(tmp_path / "full", **settings), train_dataset=dataset, processing_class=tokenizer).train()
    full_trainer_history = None
    import json

    full_state = json.loads((tmp_path / "full" / "checkpoint-7" / "trainer_state.json").read_text())
    full_trainer_history = full_state["log_history"]

    # the "killed" run: only its first checkpoint survives
    first = make_model(tokenizer, dropout=True)
    Trainer(first, args(tmp_path / "cut", **settings), train_dataset=dataset, processing_class=tokenizer).train()
    import shutil

    for step in (6, 7):
        shutil.rmtree(tmp_path / "cut" / f"checkpoint-{step}")
    resumed_model = make_model(tokenizer, dropout=True, seed=99)  # other initial weights: all come from the checkpoint
    resumed = Trainer(
        resumed_model, args(tmp_path / "cut", **settings), train_dataset=dataset, processing_class=tokenizer
    )
    resumed.train(resume_from_checkpoint=True)
    assert max(np.max(np.abs(a - b)) for a, b in zip(weights(full), weights(resumed_model))) <= 1e-6
    history = [e for e in resumed.state.log_history if not any(k in e for k in RUNTIME_KEYS)]
    assert len(history) == len(full_trainer_history) == 7
    for ours, expected in zip(history, full_trainer_history):
        assert ours.keys() == expected.keys()
        for key in ours:
            assert ours[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-9), key


def test_checkpoint_is_loadable_by_pytorch(tokenizer, dataset, tmp_path):
    import torch
    import transformers

    model = make_model(tokenizer)
    trainer = Trainer(
        model,
        args(tmp_path, max_steps=2, save_strategy="steps", save_steps=2, learning_rate=1e-2),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()
    checkpoint = tmp_path / "checkpoint-2"
    assert {"config.json", "model.safetensors", "tokenizer.json", "trainer_state.json", "optimizer.npz"} <= {
        p.name for p in checkpoint.iterdir()
    }
    torch_model = transformers.AutoModelForSequenceClassification.from_pretrained(str(checkpoint)).eval()
    torch_tokenizer = transformers.AutoTokenizer.from_pretrained(str(checkpoint))
    encoded = torch_tokenizer(["good film", "an awful plot and bad actor"], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = torch_model(**encoded).logits.numpy()
    ours = np.asarray(model(**{k: v.numpy() for k, v in encoded.items()}).logits)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_save_model_keeps_the_users_other_files(tokenizer, dataset, tmp_path):
    """save_model into output_dir replaces the model's files only: notes, checkpoints and shards' index stay."""
    model = make_model(tokenizer)
    trainer = Trainer(model, args(tmp_path, max_steps=1), train_dataset=dataset, processing_class=tokenizer)
    (tmp_path / "notes.txt").write_text("the author's notes")
    (tmp_path / "checkpoint-1").mkdir()
    (tmp_path / "model-00001-of-00002.safetensors").write_bytes(b"stale shard of an earlier save")
    trainer.save_model()
    names = {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "notes.txt").read_text() == "the author's notes" and "checkpoint-1" in names
    assert "model-00001-of-00002.safetensors" not in names  # weights are the model's: stale shards go
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names


def test_sequential_sampling_keeps_dataset_order(tokenizer, dataset, tmp_path):
    trainer = Trainer(
        make_model(tokenizer),
        args(tmp_path, train_sampling_strategy="sequential", per_device_train_batch_size=4),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    first = [list(batch["input_ids"][:, 1]) for batch in trainer.get_train_dataloader()][:2]
    expected = [[row[1] for row in dataset["input_ids"][i : i + 4]] for i in (0, 4)]
    assert first == expected
    with pytest.raises(kerasformers.errors.ConfigError, match="group_by_length"):
        TrainingArguments(str(tmp_path), train_sampling_strategy="group_by_length")
