"""``TrainingArguments``: transformers' names and defaults for the Keras :class:`~kerasformers.trainer.Trainer`.

Every value is checked once in ``__post_init__``; a bad one raises one
:class:`~kerasformers.errors.ConfigError` naming the argument and the fix, before anything is
built or written.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from dataclasses import dataclass, field
from typing import Any

from kerasformers.errors import ConfigError

__all__ = ["HubStrategy", "IntervalStrategy", "SaveStrategy", "SchedulerType", "TrainingArguments"]


class IntervalStrategy(str, enum.Enum):
    """When to log, evaluate or save: ``"no"``, ``"steps"`` or ``"epoch"`` (transformers' enum).

    Example:
        >>> IntervalStrategy("epoch") == "epoch"
        True
    """

    NO = "no"
    STEPS = "steps"
    EPOCH = "epoch"


class SaveStrategy(str, enum.Enum):
    """When to save a checkpoint: ``"no"``, ``"steps"``, ``"epoch"`` or ``"best"`` (a new best metric).

    Example:
        >>> SaveStrategy("best").value
        'best'
    """

    NO = "no"
    STEPS = "steps"
    EPOCH = "epoch"
    BEST = "best"


class HubStrategy(str, enum.Enum):
    """What ``push_to_hub=True`` uploads, and when (transformers' enum).

    ``"every_save"`` (default): the model, processor and card at every checkpoint save;
    ``"checkpoint"``: also the latest checkpoint in ``last-checkpoint/`` (resumable from the Hub);
    ``"all_checkpoints"``: every checkpoint in its own ``checkpoint-N/`` folder; ``"end"``: only
    when ``save_model`` or ``push_to_hub`` is called.

    Example:
        >>> HubStrategy("checkpoint").value
        'checkpoint'
    """

    END = "end"
    EVERY_SAVE = "every_save"
    CHECKPOINT = "checkpoint"
    ALL_CHECKPOINTS = "all_checkpoints"


class SchedulerType(str, enum.Enum):
    """The learning-rate schedules :func:`~kerasformers.trainer.get_scheduler` builds.

    Example:
        >>> SchedulerType("cosine").value
        'cosine'
    """

    LINEAR = "linear"
    COSINE = "cosine"
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    POLYNOMIAL = "polynomial"


def _choice(enum_class, value, argument: str):
    if isinstance(value, enum_class):
        return value
    try:
        return enum_class(str(value).lower() if isinstance(value, str) else value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in enum_class)
        raise ConfigError(f"TrainingArguments: {argument}={value!r} is not one of {choices}.") from None


@dataclass
class TrainingArguments:
    """The settings of a :class:`~kerasformers.trainer.Trainer` run, with transformers' names and defaults.

    Beyond transformers: ``jit_compile`` (default True) compiles the training step with XLA; batches
    are then padded to ``length_buckets`` so that shapes repeat. transformers 4.x names are accepted
    as well: ``evaluation_strategy`` (now ``eval_strategy``), ``warmup_ratio``,
    ``overwrite_output_dir``.

    Example:
        >>> args = TrainingArguments("out", learning_rate=2e-5, per_device_train_batch_size=16,
        ...                          num_train_epochs=3, warmup_ratio=0.1, weight_decay=0.01,
        ...                          eval_strategy="epoch", save_strategy="epoch")
        >>> args.eval_strategy
        <IntervalStrategy.EPOCH: 'epoch'>
    """

    output_dir: str | None = None
    overwrite_output_dir: bool = False
    do_train: bool = False
    do_eval: bool = False
    do_predict: bool = False
    eval_strategy: IntervalStrategy | str = "no"
    prediction_loss_only: bool = False
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    eval_delay: float = 0
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    num_train_epochs: float = 3.0
    max_steps: int = -1
    lr_scheduler_type: SchedulerType | str = "linear"
    lr_scheduler_kwargs: dict | None = None
    warmup_ratio: float = 0.0
    warmup_steps: float = 0
    logging_dir: str | None = None
    logging_strategy: IntervalStrategy | str = "steps"
    logging_first_step: bool = False
    logging_steps: float = 500
    logging_nan_inf_filter: bool = True
    save_strategy: SaveStrategy | str = "steps"
    save_steps: float = 500
    save_total_limit: int | None = None
    save_only_model: bool = False
    seed: int = 42
    data_seed: int | None = None
    bf16: bool = False
    fp16: bool = False
    eval_steps: float | None = None
    dataloader_drop_last: bool = False
    train_sampling_strategy: str = "random"  # "random" (seeded per epoch) or "sequential"
    use_cpu: bool = False  # accepted: TensorFlow places the ops (hide a GPU with CUDA_VISIBLE_DEVICES=-1)
    run_name: str | None = None
    disable_tqdm: bool | None = None
    remove_unused_columns: bool = True
    label_names: list[str] | None = None
    load_best_model_at_end: bool = False
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    ignore_data_skip: bool = False
    report_to: str | list[str] | None = "none"
    resume_from_checkpoint: str | None = None
    push_to_hub: bool = False
    hub_model_id: str | None = None  # default: the name of output_dir, under the token's user
    hub_strategy: HubStrategy | str = "every_save"
    hub_token: str | None = None
    hub_private_repo: bool | None = None
    hub_always_push: bool = False  # push every save even while the previous push is still uploading
    hub_revision: str | None = None  # the branch pushes go to (created if missing)
    eval_on_start: bool = False
    # ours: XLA for the training and evaluation steps; batches padded up to these lengths
    jit_compile: bool = True
    length_buckets: tuple[int, ...] | None = (16, 32, 64, 128, 256, 512)
    # transformers 4.x's name for eval_strategy
    evaluation_strategy: IntervalStrategy | str | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.output_dir is None:
            self.output_dir = "trainer_output"  # transformers 5's default
        self.output_dir = str(self.output_dir)
        if self.evaluation_strategy is not None:
            self.eval_strategy = self.evaluation_strategy
            self.evaluation_strategy = None
        self.eval_strategy = _choice(IntervalStrategy, self.eval_strategy, "eval_strategy")
        self.logging_strategy = _choice(IntervalStrategy, self.logging_strategy, "logging_strategy")
        self.save_strategy = _choice(SaveStrategy, self.save_strategy, "save_strategy")
        self.lr_scheduler_type = _choice(SchedulerType, self.lr_scheduler_type, "lr_scheduler_type")
        self.hub_strategy = _choice(HubStrategy, self.hub_strategy, "hub_strategy")
        for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"TrainingArguments: {name} must be a positive integer, got {value!r}.")
        for name in ("learning_rate", "weight_decay", "adam_epsilon", "max_grad_norm", "num_train_epochs"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
                raise ConfigError(f"TrainingArguments: {name} must be a number >= 0, got {value!r}.")
        for name in ("adam_beta1", "adam_beta2"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"TrainingArguments: {name} must be in [0, 1), got {value!r}.")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise ConfigError(f"TrainingArguments: warmup_ratio must be in [0, 1], got {self.warmup_ratio!r}.")
        if self.warmup_steps < 0:
            raise ConfigError(f"TrainingArguments: warmup_steps must be >= 0, got {self.warmup_steps!r}.")
        if self.train_sampling_strategy not in ("random", "sequential"):
            raise ConfigError(
                f"TrainingArguments: train_sampling_strategy must be 'random' or 'sequential', got "
                f"{self.train_sampling_strategy!r} ('group_by_length' and 'batch_rebalance' are not supported)."
            )
        if self.bf16 and self.fp16:
            raise ConfigError("TrainingArguments: choose one of bf16=True and fp16=True, not both.")
        if self.save_total_limit is not None and self.save_total_limit < 1:
            raise ConfigError(
                f"TrainingArguments: save_total_limit must be >= 1 or None, got {self.save_total_limit!r}."
            )
        if self.eval_strategy == IntervalStrategy.STEPS and not self.eval_steps:
            if self.logging_steps > 0:
                self.eval_steps = self.logging_steps  # transformers' fallback
            else:
                raise ConfigError("TrainingArguments: eval_strategy='steps' needs eval_steps > 0.")
        for name, strategy in (
            ("logging_steps", self.logging_strategy),
            ("save_steps", self.save_strategy),
            ("eval_steps", self.eval_strategy),
        ):
            value = getattr(self, name)
            if strategy == "steps" and (value is None or value <= 0):
                raise ConfigError(f"TrainingArguments: {name} must be > 0 with the 'steps' strategy, got {value!r}.")
        if self.load_best_model_at_end:
            if self.save_strategy != SaveStrategy.BEST and self.eval_strategy != self.save_strategy.value:
                raise ConfigError(
                    "TrainingArguments: load_best_model_at_end needs save_strategy to match eval_strategy, got "
                    f"eval_strategy={self.eval_strategy.value!r} and save_strategy={self.save_strategy.value!r}."
                )
            if self.eval_strategy == IntervalStrategy.NO:
                raise ConfigError(
                    "TrainingArguments: load_best_model_at_end needs an eval_strategy ('steps' or 'epoch')."
                )
            if self.eval_strategy == IntervalStrategy.STEPS and self.save_strategy == SaveStrategy.STEPS:
                if self.save_steps % self.eval_steps != 0:
                    raise ConfigError(
                        "TrainingArguments: with load_best_model_at_end, save_steps must be a multiple of "
                        f"eval_steps, got save_steps={self.save_steps} and eval_steps={self.eval_steps}."
                    )
            if self.metric_for_best_model is None:
                self.metric_for_best_model = "loss"
        if self.save_strategy == SaveStrategy.BEST and self.metric_for_best_model is None:
            raise ConfigError("TrainingArguments: save_strategy='best' needs metric_for_best_model.")
        if self.greater_is_better is None and self.metric_for_best_model is not None:
            self.greater_is_better = not self.metric_for_best_model.endswith("loss")
        if self.report_to is None or self.report_to == "all":
            self.report_to = ["tensorboard"] if self.report_to == "all" else []
        if isinstance(self.report_to, str):
            self.report_to = [] if self.report_to == "none" else [self.report_to]
        self.report_to = [r for r in self.report_to if r != "none"]
        unknown = [r for r in self.report_to if r != "tensorboard"]
        if unknown:
            raise ConfigError(f"TrainingArguments: report_to={unknown} is not supported; use 'tensorboard' or 'none'.")
        if self.logging_dir is None:
            self.logging_dir = f"{self.output_dir}/runs"
        if self.run_name is None:
            self.run_name = self.output_dir
        if self.disable_tqdm is None:  # transformers: off when the library logs quieter than WARNING
            import logging

            self.disable_tqdm = logging.getLogger("kerasformers").getEffectiveLevel() > logging.WARNING
        if self.length_buckets is not None:
            self.length_buckets = tuple(sorted(int(b) for b in self.length_buckets))

    # transformers' derived values
    @property
    def train_batch_size(self) -> int:
        """Examples per micro-batch (one device): ``per_device_train_batch_size``."""
        return self.per_device_train_batch_size

    @property
    def eval_batch_size(self) -> int:
        """Examples per evaluation batch (one device): ``per_device_eval_batch_size``."""
        return self.per_device_eval_batch_size

    @property
    def world_size(self) -> int:
        return 1

    def get_warmup_steps(self, num_training_steps: int) -> int:
        """Warmup steps: ``warmup_steps`` (a ratio when < 1, as transformers 5), else ``warmup_ratio``.

        Example:
            >>> TrainingArguments("out", warmup_ratio=0.1).get_warmup_steps(95)
            10
        """
        if self.warmup_steps >= 1:
            return int(self.warmup_steps)
        if self.warmup_steps > 0:
            return math.ceil(num_training_steps * self.warmup_steps)
        return math.ceil(num_training_steps * self.warmup_ratio)

    def to_dict(self) -> dict[str, Any]:
        """The arguments as a JSON-ready dict (enums as their values, tokens hidden as transformers does).

        Example:
            >>> TrainingArguments("out").to_dict()["eval_strategy"]
            'no'
        """
        result = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, enum.Enum):
                value = value.value
            if isinstance(value, tuple):
                value = list(value)
            if f.name.endswith("_token") and value is not None:
                value = f"<{f.name.upper()}>"  # training_args.json is pushed: never the secret
            result[f.name] = value
        result.pop("evaluation_strategy", None)
        return result

    def to_json_string(self) -> str:
        """The arguments as indented JSON.

        Example:
            >>> '"learning_rate": 5e-05' in TrainingArguments("out").to_json_string()
            True
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
