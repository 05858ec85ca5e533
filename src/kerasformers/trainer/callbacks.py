"""Trainer callbacks as transformers has them: TrainerState, TrainerControl, TrainerCallback, the default flow.

A callback sees ``(args, state, control, **kwargs)`` at each event and may set ``control``'s
flags (``should_log``, ``should_evaluate``, ``should_save``, ``should_training_stop``,
``should_epoch_stop``); ``kwargs`` hold ``model``, ``processing_class``, ``optimizer``,
``lr_scheduler``, ``metrics`` (on_evaluate, on_predict) and ``logs`` (on_log).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerasformers.errors import ConfigError
from kerasformers.trainer.training_args import IntervalStrategy, SaveStrategy, TrainingArguments

__all__ = [
    "CallbackHandler",
    "DefaultFlowCallback",
    "EarlyStoppingCallback",
    "PrinterCallback",
    "ProgressCallback",
    "TensorBoardCallback",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
]

logger = logging.getLogger("kerasformers")


@dataclass
class TrainerState:
    """The Trainer's inner state, saved as ``trainer_state.json`` in each checkpoint (transformers' fields).

    Example:
        >>> state = TrainerState(global_step=3, log_history=[{"loss": 0.7, "step": 3}])
        >>> TrainerState.load_from_json(state.save_to_json("trainer_state.json")).global_step  # doctest: +SKIP
        3
    """

    epoch: float | None = 0
    global_step: int = 0
    max_steps: int = 0
    logging_steps: int = 500
    eval_steps: int = 500
    save_steps: int = 500
    train_batch_size: int | None = None
    num_train_epochs: int = 0
    num_input_tokens_seen: int = 0
    total_flos: float = 0
    log_history: list[dict[str, float]] = field(default_factory=list)
    best_metric: float | None = None
    best_global_step: int | None = None
    best_model_checkpoint: str | None = None
    is_local_process_zero: bool = True
    is_world_process_zero: bool = True
    is_hyper_param_search: bool = False
    trial_name: str | None = None
    trial_params: dict[str, Any] | None = None
    stateful_callbacks: dict[str, Any] | None = None

    def save_to_json(self, json_path: str | Path) -> str:
        """Write the state as JSON (transformers' layout) and return the path."""
        text = json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"
        Path(json_path).write_text(text, encoding="utf-8")
        return str(json_path)

    @classmethod
    def load_from_json(cls, json_path: str | Path) -> TrainerState:
        """Read a state written by :meth:`save_to_json` (or by transformers' Trainer)."""
        data = json.loads(Path(json_path).read_text(encoding="utf-8"))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainerControl:
    """Flags the callbacks set to steer the loop (transformers' ``TrainerControl``).

    Example:
        >>> control = TrainerControl()
        >>> control.should_training_stop = True  # e.g. in on_step_end
    """

    should_training_stop: bool = False
    should_epoch_stop: bool = False
    should_save: bool = False
    should_evaluate: bool = False
    should_log: bool = False

    def _new_training(self):
        self.should_training_stop = False

    def _new_epoch(self):
        self.should_epoch_stop = False

    def _new_step(self):
        self.should_save = False
        self.should_evaluate = False
        self.should_log = False


class TrainerCallback:
    """Base class of Trainer callbacks: override the events you need (each may return a ``TrainerControl``).

    Example:
        >>> class PrintLoss(TrainerCallback):
        ...     def on_log(self, args, state, control, logs=None, **kwargs):
        ...         print(state.global_step, logs.get("loss"))
        >>> trainer = Trainer(model, args, train_dataset=ds, callbacks=[PrintLoss()])  # doctest: +SKIP
    """

    def on_init_end(self, args, state, control, **kwargs):
        pass

    def on_train_begin(self, args, state, control, **kwargs):
        pass

    def on_train_end(self, args, state, control, **kwargs):
        pass

    def on_epoch_begin(self, args, state, control, **kwargs):
        pass

    def on_epoch_end(self, args, state, control, **kwargs):
        pass

    def on_step_begin(self, args, state, control, **kwargs):
        pass

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        pass

    def on_optimizer_step(self, args, state, control, **kwargs):
        pass

    def on_substep_end(self, args, state, control, **kwargs):
        pass

    def on_step_end(self, args, state, control, **kwargs):
        pass

    def on_evaluate(self, args, state, control, **kwargs):
        pass

    def on_predict(self, args, state, control, metrics, **kwargs):
        pass

    def on_save(self, args, state, control, **kwargs):
        pass

    def on_log(self, args, state, control, **kwargs):
        pass

    def on_prediction_step(self, args, state, control, **kwargs):
        pass


class CallbackHandler(TrainerCallback):
    """Calls every callback in order for each event (transformers' ``CallbackHandler``).

    Example:
        >>> handler = CallbackHandler([DefaultFlowCallback()], model=None, processing_class=None)
    """

    def __init__(self, callbacks, model=None, processing_class=None, optimizer=None, lr_scheduler=None):
        self.callbacks: list[TrainerCallback] = []
        for callback in callbacks:
            self.add_callback(callback)
        self.model = model
        self.processing_class = processing_class
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.train_dataloader = None
        self.eval_dataloader = None

    def add_callback(self, callback):
        callback = callback() if isinstance(callback, type) else callback
        if not isinstance(callback, TrainerCallback) and not hasattr(callback, "on_log"):
            raise ConfigError(f"Trainer callbacks must be TrainerCallback instances, got {type(callback).__name__}.")
        self.callbacks.append(callback)

    def pop_callback(self, callback):
        for existing in list(self.callbacks):
            if existing is callback or (isinstance(callback, type) and isinstance(existing, callback)):
                self.callbacks.remove(existing)
                return existing
        return None

    def remove_callback(self, callback):
        self.pop_callback(callback)

    def call_event(self, event: str, args, state, control, **kwargs):
        for callback in self.callbacks:
            method = getattr(callback, event, None)
            if method is None:
                continue
            result = method(
                args,
                state,
                control,
                model=self.model,
                processing_class=self.processing_class,
                optimizer=self.optimizer,
                lr_scheduler=self.lr_scheduler,
                train_dataloader=self.train_dataloader,
                eval_dataloader=self.eval_dataloader,
                **kwargs,
            )
            if result is not None:
                control = result
        return control

    def __getattribute__(self, name):
        # every on_* event of the handler fans out to the callbacks
        if name.startswith("on_"):
            return lambda args, state, control, **kwargs: self.call_event(name, args, state, control, **kwargs)
        return super().__getattribute__(name)


class DefaultFlowCallback(TrainerCallback):
    """When to log, evaluate, save and stop, from the strategies and *_steps (transformers' rules).

    Example:
        >>> trainer.callback_handler.callbacks[0]  # doctest: +SKIP
        <DefaultFlowCallback ...>
    """

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if state.global_step == 1 and args.logging_first_step:
            control.should_log = True
        if args.logging_strategy == IntervalStrategy.STEPS and state.global_step % state.logging_steps == 0:
            control.should_log = True
        if (
            args.eval_strategy == IntervalStrategy.STEPS
            and state.global_step % state.eval_steps == 0
            and args.eval_delay <= state.global_step
        ):
            control.should_evaluate = True
        if (
            args.save_strategy == SaveStrategy.STEPS
            and state.save_steps > 0
            and state.global_step % state.save_steps == 0
        ):
            control.should_save = True
        if state.global_step >= state.max_steps:
            control.should_training_stop = True
            if (
                args.eval_strategy == IntervalStrategy.STEPS
                and state.global_step % state.eval_steps != 0
                and args.eval_delay <= state.global_step
            ):
                control.should_evaluate = True
            if args.save_strategy == SaveStrategy.STEPS:
                control.should_save = True
        return control

    def on_epoch_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if args.logging_strategy == IntervalStrategy.EPOCH:
            control.should_log = True
        if args.eval_strategy == IntervalStrategy.EPOCH and args.eval_delay <= state.epoch:
            control.should_evaluate = True
        if args.save_strategy == SaveStrategy.EPOCH:
            control.should_save = True
        return control


class ProgressCallback(TrainerCallback):
    """A tqdm progress bar over the optimizer steps, showing the last logged loss and learning rate.

    Example:
        >>> trainer = Trainer(model, TrainingArguments("out", disable_tqdm=False), train_dataset=ds)  # doctest: +SKIP
    """

    def __init__(self):
        self.training_bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm

        self.training_bar = tqdm(total=state.max_steps, initial=state.global_step, dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.training_bar is not None:
            self.training_bar.update(state.global_step - self.training_bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.training_bar is not None and logs:
            shown = {k: logs[k] for k in ("loss", "learning_rate", "eval_loss") if k in logs}
            self.training_bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()})

    def on_train_end(self, args, state, control, **kwargs):
        if self.training_bar is not None:
            self.training_bar.close()
            self.training_bar = None


class PrinterCallback(TrainerCallback):
    """Logs each ``logs`` dict through the ``kerasformers`` logger (used when ``disable_tqdm``).

    Example:
        >>> Trainer(model, args, train_dataset=ds, callbacks=[PrinterCallback()])  # doctest: +SKIP
    """

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs:
            logger.info("%s", {k: v for k, v in logs.items() if k != "total_flos"})


class TensorBoardCallback(TrainerCallback):
    """Writes every logged number as a ``tf.summary`` scalar under ``args.logging_dir`` (``report_to=["tensorboard"]``).

    Example:
        >>> args = TrainingArguments("out", report_to=["tensorboard"])  # event files in out/runs
    """

    def __init__(self):
        self.writer = None

    def _writer(self, args):
        if self.writer is None:
            import tensorflow as tf

            self.writer = tf.summary.create_file_writer(str(args.logging_dir))
        return self.writer

    def on_train_begin(self, args, state, control, **kwargs):
        import tensorflow as tf

        with self._writer(args).as_default():
            tf.summary.text("args", args.to_json_string(), step=0)

    def on_log(self, args, state, control, logs=None, **kwargs):
        import tensorflow as tf

        with self._writer(args).as_default():
            for key, value in (logs or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    name = key if key.startswith(("eval_", "test_")) else f"train/{key}"
                    tf.summary.scalar(name.replace("eval_", "eval/", 1), value, step=state.global_step)
        self.writer.flush()

    def on_train_end(self, args, state, control, **kwargs):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class EarlyStoppingCallback(TrainerCallback):
    """Stops training when ``metric_for_best_model`` fails to improve for ``early_stopping_patience`` evaluations.

    An improvement must beat the best value so far by more than ``early_stopping_threshold``.
    Needs ``metric_for_best_model`` and an ``eval_strategy`` (transformers' rules).

    Example:
        >>> args = TrainingArguments("out", eval_strategy="epoch", save_strategy="epoch",
        ...                          load_best_model_at_end=True, metric_for_best_model="accuracy")
        >>> trainer = Trainer(model, args, train_dataset=train, eval_dataset=val,  # doctest: +SKIP
        ...                   callbacks=[EarlyStoppingCallback(early_stopping_patience=2)])
    """

    def __init__(self, early_stopping_patience: int = 1, early_stopping_threshold: float | None = 0.0):
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_threshold = early_stopping_threshold or 0.0
        self.early_stopping_patience_counter = 0

    def check_metric_value(self, args, state, control, metric_value):
        operator = np.greater if args.greater_is_better else np.less
        if state.best_metric is None or (
            operator(metric_value, state.best_metric)
            and abs(metric_value - state.best_metric) > self.early_stopping_threshold
        ):
            self.early_stopping_patience_counter = 0
        else:
            self.early_stopping_patience_counter += 1

    def on_train_begin(self, args, state, control, **kwargs):
        if args.metric_for_best_model is None:
            raise ConfigError("EarlyStoppingCallback needs TrainingArguments(metric_for_best_model=...).")
        if args.eval_strategy == IntervalStrategy.NO:
            raise ConfigError("EarlyStoppingCallback needs TrainingArguments(eval_strategy='steps' or 'epoch').")
        if not args.load_best_model_at_end:
            logger.warning(
                "Using EarlyStoppingCallback without load_best_model_at_end=True: "
                "the best model will not be loaded at the end."
            )

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metric_to_check = args.metric_for_best_model
        if not metric_to_check.startswith("eval_"):
            metric_to_check = f"eval_{metric_to_check}"
        metric_value = (metrics or {}).get(metric_to_check)
        if metric_value is None:
            logger.warning(
                "EarlyStoppingCallback: %s is not among the metrics; early stopping is off.", metric_to_check
            )
            return
        self.check_metric_value(args, state, control, metric_value)
        if self.early_stopping_patience_counter >= self.early_stopping_patience:
            control.should_training_stop = True

    def state(self) -> dict:
        return {
            "args": {
                "early_stopping_patience": self.early_stopping_patience,
                "early_stopping_threshold": self.early_stopping_threshold,
            },
            "attributes": {"early_stopping_patience_counter": self.early_stopping_patience_counter},
        }
