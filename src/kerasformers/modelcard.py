"""Model cards: the README.md a push writes, built with huggingface_hub's ``ModelCard``.

The YAML metadata says ``library_name: kerasformers``, the ``base_model`` (the checkpoint the model
was loaded from, when that is a Hub name), the ``pipeline_tag`` of the head (from
:mod:`kerasformers.tasks`), and the ``tags``, ``datasets``, ``metrics``, ``license`` and ``language``
given. The body says what the model is, how it was trained (the optimizer's hyperparameters, the
epochs and batch size when known), the Keras history as a results table, and a training-loss plot
(``training_loss.png``, only when matplotlib is installed: it is in the ``test`` extra, not a
dependency).

Pushing again updates the card rather than replacing it: the generated part sits between two
HTML comment markers and only that part is rewritten; whatever the user wrote around it and any
metadata keys we do not set are kept.

Example:
    >>> card = build_model_card(model, "me/tiny-bert", keras_history=history, dataset="imdb")
    >>> card.data.pipeline_tag
    'text-classification'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kerasformers.hub_push import download_existing_card
from kerasformers.tasks import TASKS

__all__ = ["build_model_card", "write_model_card", "history_rows", "CARD_BEGIN", "CARD_END"]

CARD_BEGIN = "<!-- kerasformers:begin (generated; edits outside these markers are kept on every push) -->"
CARD_END = "<!-- kerasformers:end -->"
LOSS_PLOT = "training_loss.png"

# Hub pipeline tags our heads map to (pretraining, lm-head, next-sentence-prediction have none).
_HUB_PIPELINE_TAGS = {
    "feature-extraction",
    "text-classification",
    "token-classification",
    "question-answering",
    "text-generation",
    "fill-mask",
    "multiple-choice",
}


def pipeline_tag_for(model: Any) -> str | None:
    """The Hub pipeline tag of a model's head, from the task table (None for heads without one).

    Example:
        >>> pipeline_tag_for(TFBertForSequenceClassification(config))
        'text-classification'
    """
    name = type(model).__name__
    best = None
    for task in TASKS:
        head = task.auto_class.removeprefix("TFAutoModel")
        if task.name in _HUB_PIPELINE_TAGS and (name.endswith(head) if head else "For" not in name):
            if best is None or len(head) > len(best[1]):
                best = (task.name, head)
    return best[0] if best else None


def _hub_name(name_or_path: str | None) -> str | None:
    if not name_or_path or os.path.exists(name_or_path) or name_or_path.startswith((".", "/", "~")):
        return None
    return name_or_path if re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name_or_path) else None


def history_rows(keras_history: Any) -> list[dict[str, float]]:
    """Per-epoch logs from a Keras ``History`` (or its ``.history`` dict, or a list of logs dicts).

    Example:
        >>> history_rows({"loss": [0.7, 0.5]})
        [{'epoch': 1, 'loss': 0.7}, {'epoch': 2, 'loss': 0.5}]
    """
    if keras_history is None:
        return []
    if hasattr(keras_history, "history"):
        keras_history = keras_history.history
    if isinstance(keras_history, Mapping):
        length = max((len(v) for v in keras_history.values()), default=0)
        rows = [{k: v[i] for k, v in keras_history.items() if i < len(v)} for i in range(length)]
    else:
        rows = [dict(row) for row in keras_history]
    out = []
    for index, row in enumerate(rows):
        clean = {"epoch": int(row.pop("epoch", index)) + 1 if "epoch" in row else index + 1}
        clean.update({k: float(v) for k, v in row.items() if _is_number(v)})
        out.append(clean)
    return out


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _optimizer_settings(model) -> dict[str, Any] | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        config = optimizer.get_config()
    except Exception:  # noqa: BLE001 - a custom optimizer without a config still gets its name
        config = {}
    settings = {"name": type(optimizer).__name__}
    for key, value in config.items():
        if key == "name" or value is None:
            continue
        settings[key] = value if isinstance(value, (int, float, str, bool)) else type(value).__name__
    return settings


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:.4f}"


def _results_table(rows: list[dict[str, float]]) -> str:
    columns = [key for row in rows for key in row if key != "epoch"]
    columns = list(dict.fromkeys(columns))
    lines = ["| Epoch | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 1)]
    for row in rows:
        cells = [_number(row[c]) if c in row else "" for c in columns]
        lines.append(f"| {row['epoch']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_loss_plot(rows, folder: Path | None) -> bool:
    """Draw loss (and val_loss) per epoch into folder/training_loss.png; False without matplotlib."""
    if folder is None or not any("loss" in row for row in rows):
        return False
    try:
        from matplotlib.figure import Figure  # the test extra only: plots are optional
    except ImportError:
        return False
    figure = Figure(figsize=(5, 3.2))
    axes = figure.add_subplot()
    for key in ("loss", "val_loss"):
        points = [(row["epoch"], row[key]) for row in rows if key in row]
        if points:
            axes.plot(*zip(*points), marker="o", label=key)
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.legend()
    figure.tight_layout()
    figure.savefig(Path(folder) / LOSS_PLOT, dpi=80)
    return True


def _generated_body(
    model, model_name, rows, base_model, pipeline_tag, dataset, epochs, batch_size, plot, hyperparameters=None
) -> str:
    from importlib.metadata import PackageNotFoundError, version

    import keras

    try:
        kerasformers_version = version("kerasformers")
    except PackageNotFoundError:  # a source checkout that is not installed
        kerasformers_version = "unknown"
    architecture = type(model).__name__
    lines = [CARD_BEGIN, "", f"# {model_name.split('/')[-1]}", ""]
    about = f"This model is a `{architecture}`"
    if pipeline_tag:
        about += f" ({pipeline_tag})"
    if base_model:
        about += f", fine-tuned from [{base_model}](https://huggingface.co/{base_model})"
    if dataset:
        about += f" on {', '.join(dataset) if isinstance(dataset, (list, tuple)) else dataset}"
    about += (
        ". It was saved by kerasformers (Keras 3 / TensorFlow) in the Hugging Face layout: "
        "kerasformers and PyTorch transformers both load it with `from_pretrained`."
    )
    lines += [about, ""]
    if rows or hyperparameters or getattr(model, "optimizer", None) is not None:
        lines += ["## Training procedure", "", "### Training hyperparameters", ""]
        if hyperparameters:
            lines += [f"- {key}: {value}" for key, value in hyperparameters.items()]
        else:
            settings = _optimizer_settings(model)
            if settings:
                lines.append(f"- optimizer: {settings}")
        lines.append(f"- training_precision: {keras.config.dtype_policy().name}")
        if epochs is not None:
            lines.append(f"- epochs: {epochs}")
        if batch_size is not None:
            lines.append(f"- batch_size: {batch_size}")
        lines.append("")
    if rows:
        lines += ["### Training results", "", _results_table(rows), ""]
        if plot:
            lines += [f"![Training loss]({LOSS_PLOT})", ""]
    lines += ["### Framework versions", "", f"- kerasformers {kerasformers_version}", f"- Keras {keras.__version__}"]
    try:
        import tensorflow as tf

        lines.append(f"- TensorFlow {tf.__version__}")
    except ImportError:  # pragma: no cover - the backend check refuses this earlier
        pass
    lines += ["", CARD_END]
    return "\n".join(lines)


def build_model_card(
    model: Any,
    model_name: str,
    keras_history: Any = None,
    *,
    language: str | list[str] | None = None,
    license: str | None = None,  # noqa: A002 - the Hub metadata key
    tags: Sequence[str] | None = None,
    finetuned_from: str | None = None,
    tasks: str | None = None,
    dataset_tags: str | list[str] | None = None,
    dataset: str | list[str] | None = None,
    dataset_args: Any = None,
    metrics: Sequence[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    existing: str | None = None,
    plot_folder: str | os.PathLike | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
):
    """A ``huggingface_hub.ModelCard`` for ``model`` (the arguments of transformers' ``TrainingSummary.from_keras``).

    ``existing`` is the card text already in the repository: its user-written parts and metadata
    are kept and only the generated section is replaced. ``plot_folder``: where
    ``training_loss.png`` is drawn (when there is a history and matplotlib is installed).
    ``hyperparameters``: listed under "Training hyperparameters" (the Trainer's settings); by default
    the model's compiled optimizer is described.

    Example:
        >>> card = build_model_card(model, "me/clf", keras_history=model.history, license="apache-2.0")
        >>> card.save("out/README.md")
    """
    from huggingface_hub import ModelCard, ModelCardData

    del dataset_args  # transformers writes it into model-index results; we keep the table in the body
    rows = history_rows(keras_history)
    if epochs is None and rows:
        epochs = len(rows)
    config = getattr(model, "config", None)
    base_model = finetuned_from or _hub_name(
        getattr(model, "name_or_path", None) or getattr(config, "name_or_path", None)
    )
    if base_model == model_name:
        base_model = None  # a model reloaded from its own repository is not its own base
    pipeline_tag = tasks or pipeline_tag_for(model)
    datasets = dataset_tags or dataset
    if isinstance(datasets, str):
        datasets = [datasets]
    if metrics is None and rows:
        metrics = [
            k for k in rows[-1] if k not in ("epoch", "loss") and not k.startswith("val_") and k != "learning_rate"
        ]
    plot = _write_loss_plot(rows, Path(plot_folder) if plot_folder is not None else None)
    body = _generated_body(
        model, model_name, rows, base_model, pipeline_tag, dataset, epochs, batch_size, plot, hyperparameters
    )

    if existing:
        card = ModelCard(existing, ignore_metadata_errors=True)
        text, data = card.text, card.data
    else:
        text, data = "", ModelCardData()
    if CARD_BEGIN in text and CARD_END in text:
        start, end = text.index(CARD_BEGIN), text.index(CARD_END) + len(CARD_END)
        text = text[:start] + body + text[end:]
    else:
        text = body + "\n" + text if text.strip() else body + "\n"
    data.library_name = "kerasformers"
    tag_list = ["kerasformers", "keras", "tensorflow", *(tags or [])]
    data.tags = list(dict.fromkeys([*(data.tags or []), *tag_list]))
    for key, value in (
        ("base_model", base_model),
        ("pipeline_tag", pipeline_tag),
        ("datasets", datasets),
        ("metrics", list(metrics) if metrics else None),
        ("license", license),
        ("language", language),
    ):
        if value:
            setattr(data, key, value)
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{text if text.startswith(chr(10)) else chr(10) + text}")


def write_model_card(model, folder: str | os.PathLike, repo_id: str, *, token=None, revision=None, **card_args) -> None:
    """Write README.md (and the loss plot) for ``model`` into ``folder``, updating the repository's card.

    ``card_args`` are :func:`build_model_card`'s; the history defaults to ``model.history`` (Keras sets
    it in ``fit``).

    Example:
        >>> write_model_card(model, "out", "me/clf", dataset="imdb")
    """
    if "keras_history" not in card_args:
        history = getattr(model, "history", None)
        card_args["keras_history"] = history if getattr(history, "history", None) else None
    existing = download_existing_card(repo_id, token=token, revision=revision)
    card = build_model_card(model, repo_id, existing=existing, plot_folder=folder, **card_args)
    card.save(Path(folder) / "README.md")
