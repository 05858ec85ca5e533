"""Keras callbacks with transformers' TensorFlow names (``transformers.keras_callbacks``).

:class:`KerasMetricCallback` computes metrics in Python (accuracy from numpy, BLEU or ROUGE
from decoded text, anything that cannot run inside a compiled graph) at the end of every
epoch and puts them in Keras' ``logs``, so ``History``, ``EarlyStopping`` and
``ModelCheckpoint`` see them like any compiled metric.

Example:
    >>> def accuracy(eval_predictions):
    ...     logits, labels = eval_predictions
    ...     return {"accuracy": float((logits.argmax(-1) == labels).mean())}
    >>> callback = KerasMetricCallback(metric_fn=accuracy, eval_dataset=tf_eval_dataset)
    >>> model.fit(tf_train_dataset, epochs=3, callbacks=[callback])
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kerasformers.errors import InvalidInputError, InvalidInputTypeError
from kerasformers.hub_push import lower_thread_priority, snapshot_folder
from kerasformers.logging import get_logger

__all__ = ["KerasMetricCallback", "PushToHubCallback"]

logger = get_logger(__name__)


def _as_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


class KerasMetricCallback(keras.callbacks.Callback):
    """Run ``metric_fn`` on the model's predictions over ``eval_dataset`` at the end of each epoch.

    Predictions (``model.predict_on_batch``, or ``model.generate`` with ``predict_with_generate``)
    and labels of every batch are gathered into numpy arrays; ``metric_fn((predictions, labels))``
    returns a dict of metric name -> value that is added to the epoch's ``logs``.

    Predictions: a model output dict keeps the keys in ``output_cols`` (default: all but
    ``loss`` and the config's ``keys_to_ignore_at_inference``); a dict with one key becomes its
    array (``logits``). Sequences of different lengths across batches (generated ids, per-batch
    padding) are padded to the longest with ``-100``.

    Labels: the second element of ``(features, labels)`` batches, else the ``label_cols`` keys of
    the features dict (found automatically: ``labels``, or ``start_positions`` and
    ``end_positions``); those keys are left out of the features the model predicts from.
    ``model.prepare_tf_dataset`` output works as it is.

    Args:
        metric_fn: ``(predictions, labels) -> dict`` of metric values (called with one tuple).
        eval_dataset: a batched ``tf.data.Dataset``; or arrays / a dict / a tuple of them,
            batched here by ``batch_size``.
        output_cols: the model output keys to keep as predictions.
        label_cols: the feature keys that hold the labels.
        batch_size: the batch size for data that is not a ``tf.data.Dataset``.
        predict_with_generate: predictions are ``model.generate(inputs, attention_mask=...)``.
        use_xla_generation: ask ``generate`` for its XLA-compiled loop (``jit_compile=True``);
            kerasformers' ``generate`` compiles its loop by default already, so this mostly
            documents intent; pass ``generate_kwargs={"jit_compile": False}`` to run it eagerly.
        generate_kwargs: keyword arguments for ``model.generate`` (``max_new_tokens``, ``num_beams``, ...).

    Example:
        >>> def exact_match(eval_predictions):
        ...     generated, labels = eval_predictions
        ...     return {"exact_match": float((generated[:, -labels.shape[1]:] == labels).all(-1).mean())}
        >>> callback = KerasMetricCallback(exact_match, eval_dataset, predict_with_generate=True,
        ...                                generate_kwargs={"max_new_tokens": 4})
        >>> history = model.fit(train_dataset, epochs=2, callbacks=[callback])
        >>> history.history["exact_match"]
    """

    def __init__(
        self,
        metric_fn: Callable,
        eval_dataset,
        output_cols: list[str] | None = None,
        label_cols: list[str] | None = None,
        batch_size: int | None = None,
        predict_with_generate: bool = False,
        use_xla_generation: bool = False,
        generate_kwargs: dict | None = None,
    ):
        super().__init__()
        if not callable(metric_fn):
            raise InvalidInputTypeError(
                f"KerasMetricCallback's metric_fn must be a function (predictions, labels) -> dict, "
                f"got {type(metric_fn).__name__}."
            )
        self.metric_fn = metric_fn
        self.batch_size = batch_size
        if not isinstance(eval_dataset, tf.data.Dataset):
            if batch_size is None:
                raise InvalidInputError(
                    "KerasMetricCallback got eval_dataset that is not a batched tf.data.Dataset "
                    f"({type(eval_dataset).__name__}): pass batch_size=... so it can be batched, or pass "
                    "a tf.data.Dataset (e.g. model.prepare_tf_dataset(...))."
                )
            eval_dataset = tf.data.Dataset.from_tensor_slices(eval_dataset).batch(batch_size, drop_remainder=False)
        self.eval_dataset = eval_dataset
        self.output_cols = output_cols
        self.predict_with_generate = predict_with_generate
        self.use_xla_generation = use_xla_generation
        self.generate_kwargs = {} if generate_kwargs is None else dict(generate_kwargs)
        self.label_cols, self.use_keras_label = self._find_labels(eval_dataset.element_spec, label_cols)

    @staticmethod
    def _find_labels(element_spec, label_cols):
        """(label_cols, use_keras_label): where each batch's labels are."""
        if isinstance(element_spec, tuple) and len(element_spec) in (2, 3):  # (x, y) or (x, y, sample_weight)
            input_spec, label_spec = element_spec[0], element_spec[1]
        else:
            input_spec, label_spec = element_spec, None
        feature_names = list(input_spec) if isinstance(input_spec, Mapping) else []
        if label_cols is not None:
            missing = [label for label in label_cols if label not in feature_names]
            if missing:
                raise InvalidInputError(
                    f"KerasMetricCallback: label_cols {missing} are not in the dataset's features "
                    f"{feature_names}; name feature keys that hold the labels, or leave label_cols out "
                    "when batches are (features, labels)."
                )
            return list(label_cols), False
        if label_spec is not None:
            return None, True  # (features, labels) batches: the second element is the labels
        if "labels" in feature_names:
            logger.warning("No label_cols specified for KerasMetricCallback, assuming you want the 'labels' key.")
            return ["labels"], False
        if "start_positions" in feature_names and "end_positions" in feature_names:
            logger.warning(
                "No label_cols specified for KerasMetricCallback, assuming you want the "
                "start_positions and end_positions keys."
            )
            return ["start_positions", "end_positions"], False
        raise InvalidInputError(
            "KerasMetricCallback could not find the labels in eval_dataset: give batches as "
            "(features, labels), put them under 'labels' in the features dict, or name the keys "
            f"with label_cols=[...] (features: {feature_names or 'not a dict'})."
        )

    @staticmethod
    def _concatenate_batches(batches, padding_index: int = -100) -> np.ndarray:
        """Concatenate along the batch axis, padding the second axis to the longest with ``padding_index``."""
        first = batches[0]
        if first.ndim == 1 or all(batch.shape[1] == first.shape[1] for batch in batches):
            return np.concatenate(batches, axis=0)
        max_length = max(batch.shape[1] for batch in batches)
        total = sum(batch.shape[0] for batch in batches)
        output = np.full((total, max_length, *first.shape[2:]), padding_index, dtype=first.dtype)
        row = 0
        for batch in batches:
            output[row : row + len(batch), : batch.shape[1]] = batch
            row += len(batch)
        return output

    def _postprocess_predictions_or_labels(self, batches):
        first = batches[0]
        if isinstance(first, Mapping):
            outputs = {key: self._concatenate_batches([_as_numpy(batch[key]) for batch in batches]) for key in first}
            return next(iter(outputs.values())) if len(outputs) == 1 else outputs
        if isinstance(first, (tuple, list)):
            outputs = [self._concatenate_batches([_as_numpy(item) for item in items]) for items in zip(*batches)]
            return outputs[0] if len(outputs) == 1 else outputs
        if isinstance(first, np.ndarray) or tf.is_tensor(first):
            return self._concatenate_batches([_as_numpy(batch) for batch in batches])
        raise InvalidInputTypeError(
            f"KerasMetricCallback cannot gather batches of type {type(first).__name__}: the model's "
            "predictions and the labels must be arrays, tensors, or dicts / lists of them."
        )

    def _main_input_name(self) -> str:
        encoder = getattr(self.model, "encoder", None)
        if encoder is not None and hasattr(encoder, "main_input_name"):  # an encoder-decoder model
            return encoder.main_input_name
        return getattr(self.model, "main_input_name", "input_ids")

    def _generate(self, batch):
        if isinstance(batch, Mapping):
            inputs = _as_numpy(batch[self._main_input_name()])
            attention_mask = batch.get("attention_mask")
            attention_mask = None if attention_mask is None else _as_numpy(attention_mask)
        else:
            inputs, attention_mask = _as_numpy(batch), None
        kwargs = dict(self.generate_kwargs)
        if self.use_xla_generation:
            kwargs.setdefault("jit_compile", True)
        return _as_numpy(self.model.generate(inputs, attention_mask=attention_mask, **kwargs))

    def _predict(self, batch, ignore_keys):
        predictions = self.model.predict_on_batch(batch)
        if isinstance(predictions, Mapping):
            predictions = dict(predictions)  # a ModelOutput or other dict subclass: a plain dict
            if self.output_cols is not None:
                missing = [key for key in self.output_cols if key not in predictions]
                if missing:
                    raise InvalidInputError(
                        f"KerasMetricCallback: output_cols {missing} are not in the model's outputs "
                        f"{sorted(predictions)}."
                    )
                predictions = {key: predictions[key] for key in self.output_cols}
            else:
                predictions = {
                    key: value
                    for key, value in predictions.items()
                    if key not in ignore_keys and key != "loss" and value is not None
                }
        return predictions

    def _labels(self, batch, labels):
        if not self.use_keras_label:
            return {key: _as_numpy(batch[key]) for key in self.label_cols}
        if isinstance(labels, Mapping):
            return {key: _as_numpy(value) for key, value in labels.items()}
        if isinstance(labels, (list, tuple)):
            return [_as_numpy(value) for value in labels]
        if tf.is_tensor(labels) or isinstance(labels, np.ndarray):
            return _as_numpy(labels)
        raise InvalidInputTypeError(f"KerasMetricCallback cannot read labels of type {type(labels).__name__}.")

    def on_epoch_end(self, epoch, logs=None):
        config = getattr(self.model, "config", None)
        ignore_keys = list(getattr(config, "keys_to_ignore_at_inference", None) or [])
        prediction_list, label_list = [], []
        for batch in self.eval_dataset:
            labels = None
            if isinstance(batch, tuple):
                batch, labels = batch[0], batch[1]  # a sample weight, if any, is not the metric's business
            if self.predict_with_generate:
                predictions = self._generate(batch)
            elif self.label_cols and isinstance(batch, Mapping):
                # label columns are no model inputs (a model may refuse unknown keys such as "answer")
                features = {key: value for key, value in batch.items() if key not in self.label_cols}
                predictions = self._predict(features, ignore_keys)
            else:
                predictions = self._predict(batch, ignore_keys)
            prediction_list.append(predictions)
            label_list.append(self._labels(batch, labels))
        if not prediction_list:
            raise InvalidInputError("KerasMetricCallback's eval_dataset yielded no batches; give it some examples.")

        all_predictions = self._postprocess_predictions_or_labels(prediction_list)
        all_labels = self._postprocess_predictions_or_labels(label_list)
        metric_output = self.metric_fn((all_predictions, all_labels))
        if not isinstance(metric_output, Mapping):
            raise InvalidInputTypeError(
                "metric_fn should return a dict mapping metric names to values but instead returned "
                f"{metric_output!r}; return e.g. {{'accuracy': 0.9}}."
            )
        # Keras hands every callback the same logs dict: keys added here reach History,
        # EarlyStopping and ModelCheckpoint when they run after this callback.
        if logs is not None:
            logs.update(metric_output)


_CHECKPOINT_WEIGHTS = "weights.weights.h5"
_CHECKPOINT_OPTIMIZER = "optimizer_state.npz"
_CHECKPOINT_EXTRA = "extra_data.json"


def save_training_checkpoint(model, checkpoint_dir: str | os.PathLike, epoch: int) -> None:
    """Write a resumable checkpoint: the model weights, the optimizer's variables and the epoch.

    As transformers 4.57's ``TFPreTrainedModel._save_checkpoint`` (weights + optimizer state + epoch),
    but without pickles: Keras weights (``weights.weights.h5``), ``optimizer_state.npz`` and
    ``extra_data.json``. :func:`load_repo_checkpoint` reads it back.

    Example:
        >>> save_training_checkpoint(model, "out/checkpoint", epoch=2)
    """
    folder = Path(checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(folder / _CHECKPOINT_WEIGHTS)
    optimizer = getattr(model, "optimizer", None)
    state = [np.asarray(v) for v in optimizer.variables] if optimizer is not None else []
    np.savez(folder / _CHECKPOINT_OPTIMIZER, *state)
    (folder / _CHECKPOINT_EXTRA).write_text(json.dumps({"epoch": int(epoch)}), encoding="utf-8")


def load_repo_checkpoint(model, repo_path_or_name: str | os.PathLike, token=None, revision=None) -> dict:
    """Restore the weights and optimizer state a ``PushToHubCallback(checkpoint=True)`` saved; returns ``{"epoch": n}``.

    ``repo_path_or_name``: the callback's output_dir, or the Hub repository it pushed to (downloaded
    through huggingface_hub). As transformers 4.57's ``TFPreTrainedModel.load_repo_checkpoint``:
    resume with ``model.fit(..., initial_epoch=result["epoch"] + 1)``. The model must be compiled
    with the same optimizer class as in the run that saved.

    Example:
        >>> model.compile(optimizer="adam")
        >>> epoch = load_repo_checkpoint(model, "me/clf")["epoch"]
        >>> model.fit(train_dataset, epochs=3, initial_epoch=epoch + 1)
    """
    folder = Path(repo_path_or_name) / "checkpoint"
    if not Path(repo_path_or_name).is_dir():
        from kerasformers.hub_push import hub_api

        root = hub_api(token).snapshot_download(
            os.fspath(repo_path_or_name), revision=revision, allow_patterns=["checkpoint/*"]
        )
        folder = Path(root) / "checkpoint"
    if not (folder / _CHECKPOINT_EXTRA).is_file():
        raise InvalidInputError(
            f"{repo_path_or_name} has no checkpoint/ folder: it is written by PushToHubCallback(checkpoint=True)."
        )
    if not model.built:
        model.build_with_dummy_inputs()
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)  # so the weights file's optimizer entries match
    model.load_weights(folder / _CHECKPOINT_WEIGHTS)
    with np.load(folder / _CHECKPOINT_OPTIMIZER) as stored:
        state = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    if state:
        if optimizer is None:
            raise InvalidInputError("load_repo_checkpoint: compile the model with its optimizer first (model.compile).")
        if len(optimizer.variables) != len(state):
            raise InvalidInputError(
                f"load_repo_checkpoint: the checkpoint holds {len(state)} optimizer variables, the model's "
                f"{type(optimizer).__name__} has {len(optimizer.variables)}: compile with the training's optimizer."
            )
        for variable, value in zip(optimizer.variables, state):
            variable.assign(value)
    return json.loads((folder / _CHECKPOINT_EXTRA).read_text(encoding="utf-8"))


class PushToHubCallback(keras.callbacks.Callback):
    """Save the model (and tokenizer, card, checkpoint) into ``output_dir`` and push it to the Hub during ``fit``.

    As transformers 4.57's ``PushToHubCallback``: with ``save_strategy="epoch"`` a push per epoch,
    with ``"steps"`` one every ``save_steps`` batches. Each push is one commit ("Training in
    progress epoch N"), uploaded from a snapshot of ``output_dir`` in a background thread, so
    training goes on meanwhile. Never two pushes at once: a save that finds a push in flight is
    pushed later, and at the end of training the push in flight is awaited and the latest unpushed
    state goes up ("End of training"). The model card is rewritten with the history so far
    (``model_card_args``: ``language``, ``license``, ``tags``, ``finetuned_from``, ``tasks``,
    ``dataset``, ``dataset_tags``, ``dataset_args``, ``batch_size``). ``checkpoint=True`` (epoch
    strategy only) also saves ``checkpoint/`` (weights, optimizer state, epoch):
    :func:`load_repo_checkpoint` resumes from it.

    Differences from 4.57: no git clone of the repository (``huggingface_hub.Repository`` is gone;
    uploads go through the commit API), and the last epoch is never lost when its push had to wait.

    Example:
        >>> callback = PushToHubCallback(output_dir="out", hub_model_id="me/clf", tokenizer=tokenizer)
        >>> model.fit(train_dataset, epochs=3, callbacks=[callback])
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        save_strategy: str = "epoch",
        save_steps: int | None = None,
        tokenizer=None,
        hub_model_id: str | None = None,
        hub_token: str | None = None,
        checkpoint: bool = False,
        **model_card_args,
    ):
        super().__init__()
        strategy = getattr(save_strategy, "value", save_strategy)
        if strategy not in ("epoch", "steps"):
            raise InvalidInputError(
                f"PushToHubCallback: save_strategy must be 'epoch' or 'steps', got {save_strategy!r}."
            )
        if checkpoint and strategy != "epoch":
            raise InvalidInputError("PushToHubCallback: checkpoint=True needs save_strategy='epoch'.")
        if strategy == "steps" and (not isinstance(save_steps, int) or save_steps <= 0):
            raise InvalidInputError(
                "PushToHubCallback: save_strategy='steps' needs a positive integer save_steps (save_steps=500)."
            )
        from kerasformers.hub_push import download_existing_card, hub_api, hub_errors

        self.output_dir = Path(output_dir)
        self.save_strategy = strategy
        self.save_steps = save_steps
        self.tokenizer = tokenizer
        self.hub_token = hub_token
        self.checkpoint = checkpoint
        self.model_card_args = model_card_args
        if hub_model_id is None:
            hub_model_id = self.output_dir.absolute().name
        api = hub_api(hub_token)
        with hub_errors(hub_model_id, api.endpoint):
            self.hub_model_id = api.create_repo(hub_model_id, exist_ok=True).repo_id
            self._existing_card = download_existing_card(self.hub_model_id, token=hub_token)
        self._executor: ThreadPoolExecutor | None = None
        self.last_job: Future | None = None
        self._unpushed: str | None = None
        self.training_history: list[dict] = []
        self.commits: list = []
        self._changed_since_save = False

    def on_train_begin(self, logs=None):
        # model.history may not be updated before this callback runs: keep our own record.
        self.training_history = []
        self.commits = []  # the CommitInfo of each push of this fit()
        # One worker: never two uploads at once. It lives for one fit() and is shut down at its end.
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="kerasformers-push", initializer=lower_thread_priority
        )

    def on_train_batch_end(self, batch, logs=None):
        self._changed_since_save = True
        if self._unpushed is not None and self.last_job is not None and self.last_job.done():
            self._push_if_idle(self._unpushed)  # the save that waited: output_dir still holds it
        if self.save_strategy == "steps" and (batch + 1) % self.save_steps == 0:
            self._save(epoch=None)
            self._push_if_idle(f"Training in progress steps {batch}")

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})  # a copy: Keras reads its own logs after us
        logs.setdefault("epoch", epoch)
        self.training_history.append(logs)
        if self.save_strategy == "epoch":
            self._save(epoch=epoch)
            self._push_if_idle(f"Training in progress epoch {epoch}")

    def on_train_end(self, logs=None):
        try:
            if self.last_job is not None:
                logger.info("Waiting for the last push to the Hub to finish...")
                self._collect(raise_errors=True)
            if self._unpushed is not None or self._changed_since_save or not self.commits:
                self._save(epoch=len(self.training_history) - 1 if self.checkpoint else None)
                self._push_if_idle("End of training")
                self._collect(raise_errors=True)
        finally:
            self._executor.shutdown(wait=True)

    def _save(self, epoch: int | None) -> None:
        self._changed_since_save = False
        self.model.save_pretrained(self.output_dir)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(self.output_dir)
        if self.checkpoint and epoch is not None and epoch >= 0:
            save_training_checkpoint(self.model, self.output_dir / "checkpoint", epoch)
        self._write_card()

    def _write_card(self) -> None:
        from kerasformers.modelcard import build_model_card

        card_args = dict(self.model_card_args)
        epochs = (self.params or {}).get("epochs")
        card = build_model_card(
            self.model,
            self.hub_model_id,
            keras_history=self.training_history,
            existing=self._existing_card,
            plot_folder=self.output_dir,
            epochs=card_args.pop("epochs", epochs),
            **card_args,
        )
        card.save(self.output_dir / "README.md")

    def _push_if_idle(self, message: str) -> None:
        if self.last_job is not None and not self.last_job.done():
            self._unpushed = message  # pushed later: never two uploads at once
            return
        self._collect(raise_errors=False)
        self._unpushed = None
        snapshot = snapshot_folder(self.output_dir)
        self.last_job = self._executor.submit(self._upload, snapshot, message)

    def _upload(self, snapshot: Path, message: str):
        from kerasformers.hub_push import push_folder

        try:
            return push_folder(snapshot, self.hub_model_id, commit_message=message, token=self.hub_token)
        finally:
            shutil.rmtree(snapshot, ignore_errors=True)

    def _collect(self, raise_errors: bool) -> None:
        job, self.last_job = self.last_job, None
        if job is None:
            return
        try:
            self.commits.append(job.result())
        except Exception as error:
            if raise_errors:
                raise
            logger.warning("A push to %s failed (%s); the next save is pushed again.", self.hub_model_id, error)
