"""SavedModel export: serving signatures, saved_model_cli, fresh-process loading, end-to-end tasks.

Expected values come from our Python path (model + Python tokenizer) and from PyTorch
transformers' pipelines on the same checkpoints. Exports are slow, so each is made once per
session and shared.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

TEXTS = [
    "This is a test sentence!",
    "Café au lait, s'il vous plaît. 😀",
    "",
    "Tokyo 東京 is big.",
    "Hamburg and Berlin are cities in Germany",
]
QUESTIONS = ["Where is the station?", "Who wrote the book?"]
CONTEXTS = [
    "The station is next to the old market square in the city centre, near the river.",
    "The book was written by Jane Austen in 1813 and published in London.",
]
LABELS = {0: "negative", 1: "positive"}
NER_LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def run_fresh(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run python code in a new process (it must not import kerasformers)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True, env=ENV, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


# ------------------------------------------------------------------------------ model only


@pytest.fixture(scope="module")
def tiny_model():
    from kerasformers import TFBertForSequenceClassification
    from kerasformers.models.bert.configuration_bert import BertConfig

    config = BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, num_labels=3
    )
    model = TFBertForSequenceClassification(config)
    model.build_with_dummy_inputs()
    return model


@pytest.fixture(scope="module")
def tiny_export(tiny_model, tmp_path_factory):
    from kerasformers.serving import export_saved_model

    return export_saved_model(tiny_model, tmp_path_factory.mktemp("tiny") / "serving")


def tiny_inputs(batch, length, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 99, size=(batch, length)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[0, length // 2 :] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def test_signatures_are_dynamic_named_and_typed(tiny_export):
    assert tiny_export.name == "1" and (tiny_export / "saved_model.pb").is_file()
    loaded = tf.saved_model.load(str(tiny_export))
    assert set(loaded.signatures) == {"serving_default", "serving_int64"}
    for name, dtype in (("serving_default", tf.int32), ("serving_int64", tf.int64)):
        signature = loaded.signatures[name]
        _, inputs = signature.structured_input_signature
        assert set(inputs) == {"input_ids", "attention_mask", "token_type_ids"}
        assert all(spec.shape.as_list() == [None, None] and spec.dtype == dtype for spec in inputs.values())
        assert list(signature.structured_outputs) == ["logits"]


@pytest.mark.parametrize("batch,length", [(1, 3), (4, 11)])
def test_reloaded_outputs_match_python_path(tiny_model, tiny_export, batch, length):
    inputs = tiny_inputs(batch, length)
    expected = tiny_model(inputs).logits.numpy()
    loaded = tf.saved_model.load(str(tiny_export))
    got32 = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})["logits"]
    got64 = loaded.signatures["serving_int64"](**{k: tf.constant(v, tf.int64) for k, v in inputs.items()})["logits"]
    np.testing.assert_allclose(got32.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(got64.numpy(), expected, atol=1e-5)


def test_fresh_process_without_kerasformers(tiny_model, tiny_export, tmp_path):
    inputs = tiny_inputs(2, 7)
    np.savez(tmp_path / "inputs.npz", **inputs)
    run_fresh(
        """
        import sys, numpy as np, tensorflow as tf, tensorflow_text
        inputs = dict(np.load(sys.argv[2]))
        serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
        np.save(sys.argv[3], serve(**{k: tf.constant(v) for k, v in inputs.items()})["logits"].numpy())
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
    """,
        str(tiny_export),
        str(tmp_path / "inputs.npz"),
        str(tmp_path / "out.npy"),
    )
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), tiny_model(inputs).logits.numpy(), atol=1e-5)


def test_saved_model_cli_show_and_run(tiny_model, tiny_export, tmp_path):
    cli = shutil.which("saved_model_cli") or pytest.skip("saved_model_cli is not on PATH")
    shown = subprocess.run(
        [cli, "show", "--dir", str(tiny_export), "--all"], capture_output=True, text=True, env=ENV, timeout=300
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "serving_default" in shown.stdout and "serving_int64" in shown.stdout
    assert "shape: (-1, -1)" in shown.stdout and "outputs['logits']" in shown.stdout
    inputs = tiny_inputs(2, 5)
    for key, value in inputs.items():
        np.save(tmp_path / f"{key}.npy", value)
    files = ";".join(f"{key}={tmp_path / key}.npy" for key in inputs)
    ran = subprocess.run(
        [
            cli,
            "run",
            "--dir",
            str(tiny_export),
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--inputs",
            files,
            "--outdir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out" / "logits.npy"), tiny_model(inputs).logits.numpy(), atol=1e-5)


def test_save_pretrained_saved_model_and_model_export(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "ckpt", saved_model=True)
    assert (tmp_path / "ckpt" / "config.json").is_file()
    assert (tmp_path / "ckpt" / "saved_model" / "1" / "saved_model.pb").is_file()
    tiny_model.export(tmp_path / "exported" / "7")
    loaded = tf.saved_model.load(str(tmp_path / "exported" / "7"))
    inputs = tiny_inputs(1, 4)
    got = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})["logits"]
    np.testing.assert_allclose(got.numpy(), tiny_model(inputs).logits.numpy(), atol=1e-5)


# ------------------------------------------------------------------------------ end to end


@pytest.fixture(scope="session")
def task_checkpoints(minilm_path, tmp_path_factory):
    """all-MiniLM-L6-v2 with (random, saved) heads for each task, readable by us and transformers."""
    from kerasformers import (
        TFAutoModelForQuestionAnswering,
        TFAutoModelForSequenceClassification,
        TFAutoModelForTokenClassification,
    )

    root = tmp_path_factory.mktemp("checkpoints")
    tokenizer_files = [
        p
        for p in Path(minilm_path).iterdir()
        if p.name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
    ]
    heads = {
        "text-classification": (TFAutoModelForSequenceClassification, {"id2label": LABELS}),
        "token-classification": (TFAutoModelForTokenClassification, {"id2label": NER_LABELS}),
        "question-answering": (TFAutoModelForQuestionAnswering, {}),
    }
    paths = {"feature-extraction": Path(minilm_path)}
    for task, (auto, overrides) in heads.items():
        if overrides:
            overrides = {
                **overrides,
                "label2id": {v: k for k, v in overrides["id2label"].items()},
                "num_labels": len(overrides["id2label"]),
            }
        model = auto.from_pretrained(minilm_path, **overrides)
        model.save_pretrained(root / task)
        for file in tokenizer_files:
            shutil.copy(file, root / task / file.name)
        paths[task] = root / task
    return paths


@pytest.fixture(scope="session")
def exported_tasks(task_checkpoints, tmp_path_factory):
    from kerasformers.cli import main
    from kerasformers.serving import export_pipeline

    root = tmp_path_factory.mktemp("exported")
    exported = {}
    for task, checkpoint in task_checkpoints.items():
        if task == "text-classification":  # through the command line
            assert main(["export", str(checkpoint), str(root / task), "--task", task, "--with-tokenizer"]) == 0
            exported[task] = root / task / "1"
        else:
            exported[task] = export_pipeline(checkpoint, root / task, task=task)
    return exported


@pytest.fixture(scope="session")
def fresh_outputs(exported_tasks, tmp_path_factory):
    """Every exported task run in one new process that imports TF and tensorflow-text only."""
    out = tmp_path_factory.mktemp("fresh")
    (out / "spec.json").write_text(
        json.dumps(
            {
                "paths": {task: str(path) for task, path in exported_tasks.items()},
                "texts": TEXTS,
                "questions": QUESTIONS,
                "contexts": CONTEXTS,
            }
        )
    )
    run_fresh(
        """
        import json, sys, numpy as np, tensorflow as tf, tensorflow_text
        spec = json.load(open(sys.argv[1]))
        for task, path in spec["paths"].items():
            serve = tf.saved_model.load(path).signatures["serving_default"]
            if task == "question-answering":
                result = serve(question=tf.constant(spec["questions"]), context=tf.constant(spec["contexts"]))
            else:
                result = serve(text=tf.constant(spec["texts"]))
            np.savez(sys.argv[2] + "/" + task + ".npz", **{k: v.numpy() for k, v in result.items()})
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
    """,
        str(out / "spec.json"),
        str(out),
    )
    return {task: dict(np.load(out / f"{task}.npz", allow_pickle=True)) for task in exported_tasks}


def python_path(task, checkpoint):
    """Our Python path: Python tokenizer + model; returns (batch, outputs)."""
    from kerasformers import AutoTokenizer
    from kerasformers.serving.pipeline_export import auto_class_for

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = auto_class_for(task).from_pretrained(checkpoint)
    if task == "question-answering":
        batch = tokenizer(QUESTIONS, CONTEXTS, padding=True, truncation=True, return_tensors="np")
    else:
        batch = tokenizer(TEXTS, padding=True, truncation=True, return_tensors="np")
    return batch, model(dict(batch))


@pytest.mark.slow  # shares one ~2-5 min session fixture: four exports and a fresh process
def test_text_classification_end_to_end(task_checkpoints, fresh_outputs):
    transformers = pytest.importorskip("transformers")
    got = fresh_outputs["text-classification"]
    _, outputs = python_path("text-classification", task_checkpoints["text-classification"])
    np.testing.assert_allclose(got["logits"], outputs.logits.numpy(), atol=1e-5)
    probabilities = tf.nn.softmax(outputs.logits).numpy()
    np.testing.assert_allclose(got["probabilities"], probabilities, atol=1e-5)
    assert [label.decode() for label in got["labels"]] == [LABELS[i] for i in probabilities.argmax(-1)]
    pipe = transformers.pipeline(
        "text-classification", model=str(task_checkpoints["text-classification"]), top_k=None, device="cpu"
    )
    for row, scores in zip(got["probabilities"], pipe(TEXTS)):
        for item in scores:
            assert abs(row[[k for k, v in LABELS.items() if v == item["label"]][0]] - item["score"]) < 5e-5


@pytest.mark.slow  # shares one ~2-5 min session fixture: four exports and a fresh process
def test_feature_extraction_end_to_end(task_checkpoints, fresh_outputs):
    transformers = pytest.importorskip("transformers")
    got = fresh_outputs["feature-extraction"]
    batch, outputs = python_path("feature-extraction", task_checkpoints["feature-extraction"])
    mask = batch["attention_mask"][:, :, None].astype(np.float32)
    expected = (outputs.last_hidden_state.numpy() * mask).sum(1) / mask.sum(1)
    np.testing.assert_allclose(got["embeddings"], expected, atol=1e-5)
    pipe = transformers.pipeline("feature-extraction", model=str(task_checkpoints["feature-extraction"]), device="cpu")
    for row, tokens in zip(got["embeddings"], pipe(TEXTS)):
        np.testing.assert_allclose(row, np.asarray(tokens[0]).mean(0), atol=5e-5)
    norms = np.linalg.norm(got["normalized_embeddings"], axis=-1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


@pytest.mark.slow  # shares one ~2-5 min session fixture: four exports and a fresh process
def test_token_classification_end_to_end(task_checkpoints, fresh_outputs):
    transformers = pytest.importorskip("transformers")
    got = fresh_outputs["token-classification"]
    _, outputs = python_path("token-classification", task_checkpoints["token-classification"])
    np.testing.assert_allclose(got["logits"], outputs.logits.numpy(), atol=1e-5)
    pipe = transformers.pipeline(
        "token-classification", model=str(task_checkpoints["token-classification"]), ignore_labels=[], device="cpu"
    )
    for row, (labels, scores, tokens) in enumerate(zip(got["labels"], got["scores"], got["tokens"])):
        entities = pipe(TEXTS[row])
        real = (got["attention_mask"][row] == 1) & (got["special_tokens_mask"][row] == 0)
        assert len(entities) == int(real.sum())
        for entity in entities:
            assert labels[entity["index"]].decode() == entity["entity"]
            assert abs(scores[entity["index"]] - entity["score"]) < 5e-5
            assert tokens[entity["index"]].decode() in (entity["word"], "[UNK]")  # pipeline shows [UNK]'s text


@pytest.mark.slow  # shares one ~2-5 min session fixture: four exports and a fresh process
def test_question_answering_end_to_end(task_checkpoints, fresh_outputs):
    transformers = pytest.importorskip("transformers")
    got = fresh_outputs["question-answering"]
    _, outputs = python_path("question-answering", task_checkpoints["question-answering"])
    np.testing.assert_allclose(got["start_logits"], outputs.start_logits.numpy(), atol=1e-5)
    # transformers v5 has no question-answering pipeline: its v4 span decoding, on PyTorch logits
    import torch

    checkpoint = str(task_checkpoints["question-answering"])
    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint)
    model = transformers.AutoModelForQuestionAnswering.from_pretrained(checkpoint).eval()
    for row, (question, context) in enumerate(zip(QUESTIONS, CONTEXTS)):
        encoded = tokenizer(question, context, return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].numpy()
        with torch.no_grad():
            output = model(**encoded)
        keep = np.array([s == 1 for s in encoded.sequence_ids(0)])
        keep[0] = True  # [CLS]
        start, end = (
            np.where(keep, logits[0].numpy(), -10000.0) for logits in (output.start_logits, output.end_logits)
        )
        start, end = (np.exp(x - x.max()) / np.exp(x - x.max()).sum() for x in (start, end))
        start[0] = end[0] = 0.0
        scores = np.tril(np.triu(start[:, None] * end[None, :]), 14)
        best_start, best_end = np.unravel_index(scores.argmax(), scores.shape)
        answer = context[offsets[best_start][0] : offsets[best_end][1]]
        assert (got["start"][row], got["end"][row]) == (best_start, best_end)
        assert abs(got["score"][row] - scores.max()) < 5e-5
        squash = lambda text: "".join(text.lower().split())  # noqa: E731  (ours is lower-cased word pieces)
        assert squash(got["answer"][row].decode()) == squash(answer)


@pytest.mark.slow  # shares one ~2-5 min session fixture: four exports and a fresh process
def test_saved_model_cli_runs_string_signature(exported_tasks, tmp_path):
    # saved_model_cli itself, with tensorflow-text's ops registered first
    run_fresh(
        """
        import sys, tensorflow_text
        from tensorflow.python.tools import saved_model_cli
        sys.argv = ["saved_model_cli", "run", "--dir", sys.argv[1], "--tag_set", "serve",
                    "--signature_def", "serving_default", "--input_exprs", "text=['I loved it']",
                    "--outdir", sys.argv[2]]
        saved_model_cli.main()
    """,
        str(exported_tasks["text-classification"]),
        str(tmp_path),
    )
    assert np.load(tmp_path / "labels.npy", allow_pickle=True)[0].decode() in LABELS.values()
    assert np.load(tmp_path / "probabilities.npy").shape == (1, 2)


def test_cli_bad_export_option_is_one_line_and_writes_nothing(minilm_path, tmp_path, capsys):
    from kerasformers.cli import main

    out = tmp_path / "served"
    assert main(["export", str(minilm_path), str(out), "--task", "text-generation", "--with-tokenizer"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("kerasformers export: error:") and "decoder-only language model with generate()" in error
    assert "Traceback" not in error and not out.exists()


# ------------------------------------------------------------------------ the task table
def test_task_table_drives_auto_classes_postprocessors_and_cli(capsys):
    """kerasformers.tasks is the one list of tasks: auto classes, post-processors and --task follow it."""
    import kerasformers
    import kerasformers.models  # noqa: F401  (registers every architecture)
    from kerasformers import tasks
    from kerasformers.cli import build_parser
    from kerasformers.errors import UnsupportedModelTypeError
    from kerasformers.models.auto import _MAPPINGS
    from kerasformers.serving import POSTPROCESSORS, TASKS, normalize_task

    for task in tasks.TASKS:
        auto = getattr(kerasformers, task.auto_class)
        assert auto.__name__ == task.auto_class and auto.task == task.registry_key and auto.task_info is task
        registered = POSTPROCESSORS.get(task.name)
        assert (registered.__name__ if registered else None) == task.postprocessor
        for alias in task.aliases:
            assert tasks.resolve_task(alias) is task
    assert set(_MAPPINGS) <= {task.registry_key for task in tasks.TASKS}
    assert TASKS == tasks.export_task_names() and normalize_task("sentiment-analysis") == "text-classification"
    with pytest.raises(
        UnsupportedModelTypeError, match="Unknown task 'table-question-answering'. Tasks: feature-extraction"
    ):
        tasks.resolve_task("table-question-answering")
    with pytest.raises(UnsupportedModelTypeError, match="Unknown task 'fill-mask'"):
        normalize_task("fill-mask")  # in the table, but kerasformers export does not take it
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--help"])
    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, at hyphens too
    assert all(name in help_text for name in TASKS + ("sentiment-analysis",))
