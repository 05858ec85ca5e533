"""The ``kerasformers`` command line.

Each subcommand is two small functions: ``add_<name>_parser(subparsers)`` declares its flags
and ``run_<name>(args)`` does the work; register a new one in :data:`SUBCOMMANDS`.
``kerasformers train`` fine-tunes with :class:`kerasformers.trainer.Trainer`.

    kerasformers train                      # all-MiniLM-L6-v2 on movie-review sentiment
    kerasformers train --data reviews.csv --text-column review --label-column stars --epochs 3
    kerasformers train --task image-classification                # a small ViT on the digits
    kerasformers train --task image-classification --image-folder photos/   # DIR/<label>/<image>

Example:
    >>> from kerasformers.cli import main
    >>> main(["train", "--max-train-samples", "256", "--epochs", "1"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from kerasformers.errors import InvalidInputError, KerasformersError, TrainingDataError  # noqa: F401  (re-exported)

# Before anything imports TensorFlow (this module imports nothing heavy; the commands do, when run):
# no C++ INFO/WARNING lines (CUDA probing on a CPU machine) around the command's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_OUTPUT_DIR = "outputs/text-classifier"
# Chosen for the default run (all-MiniLM-L6-v2, movie reviews) on a 2-core CPU; see README.
DEFAULTS = {"epochs": 1, "batch_size": 32, "learning_rate": 1e-4, "max_length": 64}
# --task image-classification: a small ViT from scratch (or a checkpoint fine-tuned) with fit(); on
# the embedded digits these reach >= 0.95 held-out accuracy on 2 CPU cores (README).
IMAGE_DEFAULTS = {"epochs": 100, "batch_size": 32, "learning_rate": 1e-3, "output_dir": "outputs/image-classifier"}
TRAIN_TASKS = ("text-classification", "image-classification")


# ---------------------------------------------------------------------------------- train
def add_train_parser(subparsers) -> None:
    """Declare ``kerasformers train`` and its flags."""
    p = subparsers.add_parser(
        "train",
        help="fine-tune a pretrained model on a labelled text (or image) dataset",
        description="Fine-tune a pretrained checkpoint for text classification, evaluate accuracy "
        "and macro F1 on held-out data, and save model and tokenizer. With no arguments: "
        "all-MiniLM-L6-v2 on movie-review sentiment. With --task image-classification: a small "
        "ViT from scratch (or --model) on an image folder, by default scikit-learn's digits.",
    )
    p.add_argument(
        "--data",
        help="a CSV, JSON/JSONL or parquet file, or a datasets.save_to_disk folder "
        "(default: the embedded movie-review sentences)",
    )
    p.add_argument("--model", help="checkpoint folder or name (default: the embedded all-MiniLM-L6-v2)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument(
        "--epochs", type=int, help=f"default {DEFAULTS['epochs']} (image-classification: {IMAGE_DEFAULTS['epochs']})"
    )
    p.add_argument(
        "--batch-size", type=int, help=f"default {DEFAULTS['batch_size']} (image: {IMAGE_DEFAULTS['batch_size']})"
    )
    p.add_argument(
        "--learning-rate",
        type=float,
        help=f"default {DEFAULTS['learning_rate']} (image-classification: {IMAGE_DEFAULTS['learning_rate']})",
    )
    p.add_argument("--max-length", type=int, default=DEFAULTS["max_length"], help="truncate texts to this many tokens")
    p.add_argument(
        "--output-dir", help=f"default {DEFAULT_OUTPUT_DIR} (image-classification: {IMAGE_DEFAULTS['output_dir']})"
    )
    images = p.add_argument_group("image classification (--task image-classification)")
    images.add_argument(
        "--task", default="text-classification", help=f"one of {', '.join(TRAIN_TASKS)} (default: text-classification)"
    )
    images.add_argument(
        "--image-folder",
        help="a folder in datasets' imagefolder layout: DIR/<label>/<image> or DIR/{train,validation,test}/"
        "<label>/<image> (default: the embedded scikit-learn digits)",
    )
    images.add_argument(
        "--image-size",
        type=int,
        help="a new model's square input side (default: the first training image's longer side)",
    )
    p.add_argument(
        "--eval-split",
        help="split of a DatasetDict to evaluate on (default: test, "
        "validation, or a --test-size split of the training data)",
    )
    p.add_argument(
        "--test-size", type=float, default=0.1, help="fraction held out for evaluation when the data has no eval split"
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--max-train-samples", type=int, help="train on the first N examples (quick runs)")
    p.add_argument("--max-eval-samples", type=int, help="evaluate on the first N held-out examples")
    p.add_argument(
        "--jit-compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="XLA-compile the train step (batches padded to length buckets); on a small "
        "CPU the compile time outweighs the gain (default: off; on for image-classification)",
    )
    p.add_argument(
        "--train-embeddings",
        action="store_true",
        help="also train the word-embedding matrix (off by default: it doubles the cost "
        "of a step on CPU for little gain)",
    )
    p.add_argument("--num-predictions", type=int, default=5, help="held-out predictions to print")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


def load_text_dataset(data: str | None, seed: int = 42, test_size: float = 0.1, eval_split: str | None = None):
    """(train, eval) ``datasets.Dataset`` pair from a file, a saved dataset folder or the default.

    Example:
        >>> train, held_out = load_text_dataset("reviews.csv", test_size=0.2)
    """
    import datasets

    if data is None:
        from kerasformers.data.embedded import movie_reviews

        loaded = movie_reviews()
    else:
        path = Path(data)
        if not path.exists():
            raise TrainingDataError(f"--data {data!r} does not exist.")
        if path.is_dir():
            try:
                loaded = datasets.load_from_disk(str(path))
            except FileNotFoundError as error:
                raise TrainingDataError(
                    f"--data {data!r} is a folder but not a datasets.save_to_disk folder ({error})."
                ) from None
        else:
            suffix = path.suffix.lower()
            builder = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}.get(
                suffix
            )
            if builder is None:
                raise TrainingDataError(
                    f"--data {data!r}: unknown file type {suffix!r}; use .csv, .tsv, "
                    ".json, .jsonl or .parquet, or a datasets.save_to_disk folder."
                )
            _check_data_file(path, data, builder)
            options = {"delimiter": "\t"} if suffix == ".tsv" else {}
            try:
                loaded = datasets.load_dataset(builder, data_files=str(path), split="train", **options)
            except Exception as error:  # datasets wraps the parser's error; show the parser's
                cause = error.__cause__ or error
                if "corresponds to no data" in str(cause):  # datasets' words for zero rows
                    raise TrainingDataError(
                        f"--data {data!r} has no rows (only a header?): add labelled examples."
                    ) from None
                raise TrainingDataError(
                    f"--data {data!r} could not be read as {suffix[1:]}: "
                    f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
                ) from None
            if len(loaded) == 0:
                raise TrainingDataError(f"--data {data!r} has no rows (only a header?): add labelled examples.")
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        train_name = "train" if "train" in loaded else splits[0]
        if eval_split is not None and eval_split not in loaded:
            raise TrainingDataError(f"--eval-split {eval_split!r} is not a split of the data; splits: {splits}.")
        eval_name = eval_split or next((s for s in ("test", "validation", "valid", "dev") if s in loaded), None)
        if eval_name is not None and eval_name != train_name:
            return loaded[train_name], loaded[eval_name]
        loaded = loaded[train_name]
    elif eval_split is not None:
        raise TrainingDataError(
            f"--eval-split {eval_split!r} given but the data has a single split; "
            "use --test-size to hold out a fraction of it."
        )
    if not 0 < test_size < 1:
        raise TrainingDataError(f"--test-size must be between 0 and 1, got {test_size}.")
    if len(loaded) < 2:
        raise TrainingDataError(f"The data has {len(loaded)} example(s): too few to train and evaluate.")
    parts = loaded.train_test_split(test_size=test_size, seed=seed)
    return parts["train"], parts["test"]


def _check_data_file(path: Path, data: str, builder: str) -> None:
    """Refuse an empty or binary data file before datasets' parsers fail on it with a traceback."""
    if path.stat().st_size == 0:
        raise TrainingDataError(f"--data {data!r} is an empty file: give a file with a header and labelled examples.")
    if builder == "parquet":
        return
    with open(path, "rb") as file:
        head = file.read(8192)
    if b"\0" in head:  # a NUL byte never occurs in CSV or JSON text
        raise TrainingDataError(
            f"--data {data!r} is a binary file, not {builder.upper()} text: give a "
            f"UTF-8 text file with a header row and labelled examples."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if not (len(head) == 8192 and error.start >= 8192 - 3):  # not just a character cut by the sample
            raise TrainingDataError(
                f"--data {data!r} is not UTF-8 text (byte {error.start}: {error.reason}); save it with UTF-8 encoding."
            ) from None


def check_output_dir(output_dir: str) -> Path:
    """Refuse an ``--output-dir`` the trained model could not be saved into, before any training.

    Example:
        >>> check_output_dir("outputs/run-1")
        PosixPath('outputs/run-1')
    """
    from kerasformers.hub import check_writable_folder

    return check_writable_folder(output_dir, what="--output-dir")


def check_columns(train, held_out, text_column: str, label_column: str):
    """Check the text and label columns; return (label ids for train, for held-out, label names).

    Raises :class:`TrainingDataError` for a missing column, a text column that is not text,
    missing labels, or labels outside ``0 .. num_labels - 1``. String labels are mapped to ids.

    Example:
        >>> train_ids, eval_ids, names = check_columns(train, held_out, "text", "label")
    """
    import datasets
    import numpy as np

    for split_name, split in (("training", train), ("evaluation", held_out)):
        for flag, column in (("--text-column", text_column), ("--label-column", label_column)):
            if column not in split.column_names:
                raise TrainingDataError(
                    f"The {split_name} data has no column {column!r} (set with {flag}); "
                    f"its columns are {split.column_names}."
                )
    feature = train.features[text_column]
    if not (isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string")):
        kind = getattr(feature, "dtype", type(feature).__name__)
        raise TrainingDataError(
            f"The text column {text_column!r} holds {kind}, not text. Name the column "
            f"with the texts using --text-column (columns: {train.column_names})."
        )
    label_feature = train.features[label_column]
    names = list(label_feature.names) if isinstance(label_feature, datasets.ClassLabel) else None
    raw_train, raw_eval = train[label_column], held_out[label_column]
    for split_name, raw in (("training", raw_train), ("evaluation", raw_eval)):
        missing = sum(v is None for v in raw)
        if missing:
            raise TrainingDataError(f"{missing} {split_name} example(s) have no label in column {label_column!r}.")
    if isinstance(label_feature, datasets.Value) and label_feature.dtype in ("string", "large_string"):
        _refuse_mixed_label_types(label_column, list(raw_train) + list(raw_eval))
        names = sorted(set(raw_train))
        index = {n: i for i, n in enumerate(names)}
        unknown = sorted(set(raw_eval) - set(index))
        if unknown:
            raise TrainingDataError(
                f"Held-out labels {unknown[:5]} never occur in the training data (training labels: {names[:20]})."
            )
        if len(names) < 2:
            raise TrainingDataError(
                f"Column {label_column!r} has a single class ({names[0]!r}); classification needs two or more."
            )
        return (np.array([index[v] for v in raw_train]), np.array([index[v] for v in raw_eval]), names)
    arrays = []
    for split_name, raw in (("training", raw_train), ("evaluation", raw_eval)):
        values = np.asarray(raw)
        if values.dtype.kind == "f":
            if not np.all(np.mod(values, 1) == 0):
                raise TrainingDataError(
                    f"The {split_name} labels in {label_column!r} are not class ids "
                    f"(e.g. {values[np.mod(values, 1) != 0][0]}); classification "
                    "needs integer or string labels."
                )
            values = values.astype(np.int64)
        elif values.dtype.kind not in "iu":
            raise TrainingDataError(
                f"The label column {label_column!r} holds {values.dtype}; use integer class ids or strings."
            )
        arrays.append(values)
    for split_name, values in zip(("training", "evaluation"), arrays):
        bad = values[values < 0]
        if bad.size:  # -1 marks unlabelled rows in Hugging Face datasets (GLUE's test splits)
            raise TrainingDataError(
                f"{split_name.capitalize()} label {int(bad[0])} in column {label_column!r} is out of range: "
                "class ids are 0 or more (-1 marks an unlabelled example); drop those rows."
            )
    present = np.unique(arrays[0])
    if names is None and not np.array_equal(present, np.arange(len(present))):
        # Labels such as 1 and 5 (star ratings): the values that occur, sorted, become classes
        # 0..k-1 named after them, so there are no classes that never occur (nor their F1 of 0).
        unknown = np.setdiff1d(np.unique(arrays[1]), present)
        if unknown.size:
            raise TrainingDataError(
                f"Held-out labels {unknown[:5].tolist()} in column {label_column!r} never "
                f"occur in the training data (training labels: {present[:20].tolist()})."
            )
        if len(present) < 2:
            raise TrainingDataError(
                f"Column {label_column!r} has a single class ({int(present[0])}); classification needs two or more."
            )
        names = [str(int(v)) for v in present]
        return np.searchsorted(present, arrays[0]), np.searchsorted(present, arrays[1]), names
    num_labels = len(names) if names is not None else len(present)
    for split_name, values in zip(("training", "evaluation"), arrays):
        bad = values[values >= num_labels]
        if bad.size:
            raise TrainingDataError(
                f"{split_name.capitalize()} label {int(bad[0])} in column {label_column!r} is out of range: "
                f"labels must be class ids 0..{num_labels - 1}"
                + (f" ({names})." if names else f" (the training labels span 0..{num_labels - 1}).")
            )
    if num_labels < 2:
        raise TrainingDataError(f"Column {label_column!r} has a single class; classification needs two or more.")
    if names is None:
        names = [f"LABEL_{i}" for i in range(num_labels)]
    return arrays[0], arrays[1], names


def _refuse_mixed_label_types(label_column: str, values: list) -> None:
    """A CSV label column of numbers with one stray word is read as text: refuse it rather than
    train on the stray word as one more class."""

    def is_number(value) -> bool:
        try:
            float(str(value).strip())
            return True
        except ValueError:
            return False

    number = next((v for v in values if is_number(v)), None)
    text = next((v for v in values if not is_number(v)), None)
    if number is not None and text is not None:
        raise TrainingDataError(
            f"The label column {label_column!r} mixes label types: numbers (e.g. "
            f"{number!r}) and text (e.g. {text!r}). Use one type for every label: "
            "fix or drop the rows with the other type."
        )


def classification_metrics(labels, predictions, num_labels: int) -> dict[str, float]:
    """Accuracy and macro F1 (mean of per-class F1 over the classes in ``labels`` or ``predictions``).

    Example:
        >>> classification_metrics([0, 1, 1], [0, 1, 0], 2)
        {'accuracy': 0.6666666666666666, 'macro_f1': 0.6666666666666666}
    """
    import numpy as np

    labels, predictions = np.asarray(labels), np.asarray(predictions)
    f1s = []
    # As scikit-learn's f1_score(average="macro"): over the classes that occur in the labels or
    # the predictions; a class in neither has no F1 to average (not 0).
    for c in np.union1d(labels, predictions):
        if not 0 <= c < num_labels:
            raise InvalidInputError(f"class id {c} is outside 0..{num_labels - 1}")
        tp = np.sum((predictions == c) & (labels == c))
        fp = np.sum((predictions == c) & (labels != c))
        fn = np.sum((predictions != c) & (labels == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float(np.mean(labels == predictions)), "macro_f1": float(np.mean(f1s))}


def _train_with_trainer(args, model, tokenizer, train_enc):
    """The Trainer for ``kerasformers train``: AdamW with weight decay 0.01 and a linear decay to 0.

    Batches are shuffled with ``--seed``, grouped by length (as before the Trainer: on a CPU the
    padding is most of the cost) and padded to a multiple of 16 tokens (the length buckets of
    ``--jit-compile``), so the compiled step sees a few shapes whatever the texts' lengths.
    Nothing is written during training: the command saves the model itself at the end.
    """
    import numpy as np

    from kerasformers.data.collators import DataCollatorWithPadding
    from kerasformers.trainer import PrinterCallback, Trainer, TrainingArguments

    buckets = tuple(b for b in (16, 32, 48, 64, 96, 128, 256, 512) if b < args.max_length) + (args.max_length,)
    training_args = TrainingArguments(
        output_dir=args.output_dir,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size * 2,
        learning_rate=args.learning_rate,
        weight_decay=0.01,
        lr_scheduler_type="linear",
        max_grad_norm=0.0,  # no clipping, as this command trained before the Trainer
        seed=args.seed,
        save_strategy="no",
        logging_steps=25,
        report_to="none",
        disable_tqdm=args.quiet,
        jit_compile=args.jit_compile,
        length_buckets=buckets,
    )
    lengths = np.array([len(ids) for ids in train_enc["input_ids"]])

    class LengthGroupedTrainer(Trainer):
        """Shuffled batches of similar lengths (transformers' ``group_by_length`` sampler): in each
        shuffled run of 50 batches, examples are sorted by length, so batches are padded little.
        The order depends on (seed, epoch) only, so a resumed run repeats it."""

        def _epoch_batches(self, count, batch_size, epoch, shuffle, drop_last):
            batches = super()._epoch_batches(count, batch_size, epoch, shuffle, drop_last)
            if not shuffle:
                return batches
            order = np.concatenate(batches)
            chunk = 50 * batch_size
            grouped = np.concatenate(
                [
                    part[np.argsort(-lengths[part], kind="stable")]
                    for part in np.split(order, range(chunk, count, chunk))
                ]
            )
            return [grouped[i : i + len(b)] for i, b in zip(np.cumsum([0] + [len(b) for b in batches[:-1]]), batches)]

    trainer = LengthGroupedTrainer(
        model=model,
        args=training_args,
        train_dataset=train_enc,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=16, return_tensors="np"),
    )
    trainer.remove_callback(PrinterCallback)  # --quiet: no log lines either
    return trainer


def run_train(args) -> dict:
    """``kerasformers train``: fine-tune, evaluate, save, show predictions; returns the metrics."""
    start = time.perf_counter()
    task = getattr(args, "task", "text-classification")
    if task not in TRAIN_TASKS:
        raise TrainingDataError(f"--task {task!r} is not a training task; use one of {', '.join(TRAIN_TASKS)}.")
    if task == "image-classification":
        return run_train_image(args)
    if getattr(args, "image_folder", None):
        raise TrainingDataError("--image-folder is for --task image-classification.")
    for name in ("epochs", "batch_size", "learning_rate"):
        if getattr(args, name, None) is None:
            setattr(args, name, DEFAULTS[name])
    if getattr(args, "output_dir", None) is None:
        args.output_dir = DEFAULT_OUTPUT_DIR
    args.jit_compile = bool(getattr(args, "jit_compile", False))
    for flag, value in (
        ("--epochs", args.epochs),
        ("--batch-size", args.batch_size),
        ("--max-length", args.max_length),
    ):
        if value < 1:
            raise TrainingDataError(f"{flag} must be at least 1, got {value}.")
    if args.learning_rate <= 0:
        raise TrainingDataError(f"--learning-rate must be positive, got {args.learning_rate}.")
    check_output_dir(args.output_dir)  # before the data and the training, which the save would lose

    import keras  # here, not at the top: `kerasformers --help` must not wait for TensorFlow
    import numpy as np

    from kerasformers import AutoTokenizer, TFAutoModelForSequenceClassification

    keras.utils.set_random_seed(args.seed)

    train, held_out = load_text_dataset(args.data, args.seed, args.test_size, args.eval_split)
    if args.max_train_samples:
        train = train.select(range(min(args.max_train_samples, len(train))))
    if args.max_eval_samples:
        held_out = held_out.select(range(min(args.max_eval_samples, len(held_out))))
    train_labels, eval_labels, names = check_columns(train, held_out, args.text_column, args.label_column)
    num_labels = len(names)

    if args.model is None:
        from kerasformers.data.embedded import minilm_checkpoint

        model_path = str(minilm_checkpoint())
    else:
        model_path = args.model
    tokenizer = AutoTokenizer.from_pretrained(model_path)

    def encode(split, label_ids):
        def tokenize(batch):
            return dict(tokenizer(batch[args.text_column], truncation=True, max_length=args.max_length))

        keep = [c for c in split.column_names]
        encoded = split.map(tokenize, batched=True, remove_columns=keep, desc="Tokenizing")
        return encoded.add_column("labels", label_ids.tolist())

    print(f"Data: {len(train)} training and {len(held_out)} held-out examples, {num_labels} classes {names}")
    train_enc, eval_enc = encode(train, train_labels), encode(held_out, eval_labels)

    model = TFAutoModelForSequenceClassification.from_pretrained(
        model_path, num_labels=num_labels, id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)}
    )
    if not args.train_embeddings:
        model.get_input_embeddings().trainable = False
    trainer = _train_with_trainer(args, model, tokenizer, train_enc)
    steps = -(-len(train_enc) // args.batch_size) * args.epochs
    model_name = Path(model_path).parent.name if Path(model_path).name == "model" else Path(model_path).name
    print(
        f"Fine-tuning {model_name} for {args.epochs} epoch(s), {steps} steps "
        f"(batch {args.batch_size}, learning rate {args.learning_rate}, max length {args.max_length})"
    )
    trainer.train()

    logits = trainer.predict(eval_enc).predictions
    predictions = np.argmax(logits, axis=-1)
    metrics = classification_metrics(eval_labels, predictions, num_labels)

    output_dir = Path(args.output_dir)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    wall = time.perf_counter() - start
    metrics.update(wall_time_s=round(wall, 1), train_examples=len(train), eval_examples=len(held_out))
    (output_dir / "eval_results.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")

    print(
        f"\nHeld-out accuracy: {metrics['accuracy']:.4f}   macro F1: {metrics['macro_f1']:.4f}   "
        f"({len(held_out)} examples)"
    )
    print(f"Saved model and tokenizer to {output_dir}")
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
    texts = held_out[args.text_column]
    for i in range(min(args.num_predictions, len(held_out))):
        text = texts[i] if len(texts[i]) <= 90 else texts[i][:87] + "..."
        p = int(predictions[i])
        print(f"  {names[p]:>10} ({probabilities[i, p]:.2f})  true: {names[int(eval_labels[i])]:<10} {text}")
    print(f"Wall time: {wall:.0f} s")
    return metrics


def load_image_dataset(folder: str | None, seed: int = 42, test_size: float = 0.1, eval_split: str | None = None):
    """(train, eval) image datasets: an imagefolder-layout folder, or the embedded digits.

    ``folder`` holds ``<label>/<image>`` (a ``--test-size`` fraction is held out, stratified by
    label) or ``train/``, ``validation/`` and/or ``test/`` folders of those (as
    ``datasets.load_dataset("imagefolder", data_dir=folder)`` reads it).

    Example:
        >>> train, held_out = load_image_dataset("photos/")
    """
    import datasets

    if folder is None:
        from kerasformers.data.embedded import digits

        loaded = digits()
        return loaded["train"], loaded["test"]
    path = Path(folder)
    if not path.is_dir():
        raise TrainingDataError(f"--image-folder {folder!r} is not a folder (DIR/<label>/<image>).")
    try:
        loaded = datasets.load_dataset("imagefolder", data_dir=str(path))
    except Exception as error:  # datasets' words for an empty or unreadable folder
        raise TrainingDataError(
            f"--image-folder {folder!r} could not be read as DIR/<label>/<image> files: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from None
    train_name = "train" if "train" in loaded else list(loaded)[0]
    if "label" not in loaded[train_name].column_names:
        raise TrainingDataError(
            f"--image-folder {folder!r} has its images at the top level: put each class's images in a "
            "folder named after the class (DIR/<label>/<image>)."
        )
    if eval_split is not None and eval_split not in loaded:
        raise TrainingDataError(f"--eval-split {eval_split!r} is not a split of the folder; splits: {list(loaded)}.")
    eval_name = eval_split or next((s for s in ("test", "validation") if s in loaded), None)
    if eval_name is not None and eval_name != train_name:
        return loaded[train_name], loaded[eval_name]
    train = loaded[train_name]
    if not 0 < test_size < 1:
        raise TrainingDataError(f"--test-size must be between 0 and 1, got {test_size}.")
    if len(train) < 2 or len(train.features["label"].names) < 2:
        raise TrainingDataError(
            f"--image-folder {folder!r} has {len(train)} image(s) in {len(train.features['label'].names)} "
            "class folder(s): classification needs two or more classes."
        )
    try:
        parts = train.train_test_split(test_size=test_size, seed=seed, stratify_by_column="label")
    except ValueError:  # too few images per class to stratify
        parts = train.train_test_split(test_size=test_size, seed=seed)
    return parts["train"], parts["test"]


def run_train_image(args) -> dict:
    """``kerasformers train --task image-classification``: train (a small ViT from scratch unless
    ``--model``), evaluate on held-out images, save model and image processor; returns the metrics.

    Example:
        >>> main(["train", "--task", "image-classification", "--epochs", "1"])  # doctest: +SKIP
    """
    import numpy as np

    from kerasformers.trainer.image_classification import train_image_classifier

    start = time.perf_counter()
    for name in ("epochs", "batch_size", "learning_rate", "output_dir"):
        if getattr(args, name, None) is None:
            setattr(args, name, IMAGE_DEFAULTS[name])
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise TrainingDataError(f"{flag} must be at least 1, got {value}.")
    if args.learning_rate <= 0:
        raise TrainingDataError(f"--learning-rate must be positive, got {args.learning_rate}.")
    if args.image_size is not None and args.image_size < 4:
        raise TrainingDataError(f"--image-size must be at least 4 (4x4 patches), got {args.image_size}.")
    check_output_dir(args.output_dir)
    train, held_out = load_image_dataset(args.image_folder, args.seed, args.test_size, args.eval_split)
    if args.max_train_samples:
        train = train.select(range(min(args.max_train_samples, len(train))))
    if args.max_eval_samples:
        held_out = held_out.select(range(min(args.max_eval_samples, len(held_out))))
    source = args.image_folder or "the embedded scikit-learn digits"
    what = args.model or "a small ViT from scratch"
    print(f"Data: {len(train)} training and {len(held_out)} held-out images from {source}")
    print(f"Training {what} for {args.epochs} epoch(s) (batch {args.batch_size}, learning rate {args.learning_rate})")
    run = train_image_classifier(
        train,
        held_out,
        model=args.model,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        jit_compile=args.jit_compile is not False,
        verbose=0 if args.quiet else 2,
    )
    predictions = np.argmax(run.logits, axis=-1)
    metrics = classification_metrics(run.labels, predictions, len(run.label_names))
    output_dir = Path(args.output_dir)
    run.model.save_pretrained(output_dir)
    run.image_processor.save_pretrained(output_dir)
    wall = time.perf_counter() - start
    metrics.update(wall_time_s=round(wall, 1), train_examples=len(train), eval_examples=len(held_out))
    (output_dir / "eval_results.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    print(
        f"\nHeld-out accuracy: {metrics['accuracy']:.4f}   macro F1: {metrics['macro_f1']:.4f}   "
        f"({len(held_out)} images)"
    )
    print(f"Saved model and image processor to {output_dir}")
    print(f"Wall time: {wall:.0f} s")
    return metrics


# ---------------------------------------------------------------------------------- entry point
def add_export_parser(subparsers) -> None:
    """Declare ``kerasformers export`` (its flags live beside its code in kerasformers.serving,
    a package that imports TensorFlow only when an export runs)."""
    from kerasformers.serving.cli import add_export_parser as add

    add(subparsers)


SUBCOMMANDS = [add_train_parser, add_export_parser]


def add_verify_parser(subparsers) -> None:
    """Declare ``kerasformers verify`` (its flags live beside its code in kerasformers.verify)."""
    from kerasformers.verify import add_verify_parser as add

    add(subparsers)


SUBCOMMANDS.append(add_verify_parser)


def add_pretrain_parser(subparsers) -> None:
    """Declare ``kerasformers pretrain`` (its flags live beside its code in kerasformers.pretraining)."""
    from kerasformers.pretraining import add_pretrain_parser as add

    add(subparsers)


SUBCOMMANDS.append(add_pretrain_parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``kerasformers`` parser with every subcommand in :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(prog="kerasformers", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``kerasformers COMMAND ...``; a KerasformersError is one line on stderr, exit code 2.

    Example:
        >>> main(["train", "--data", "reviews.csv", "--epochs", "1"])  # doctest: +SKIP
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except KerasformersError as error:  # a problem with the input: one line. Anything else is a bug.
        print(f"kerasformers {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
