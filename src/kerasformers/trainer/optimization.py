"""The Trainer's optimizer and schedules: PyTorch AdamW semantics and transformers' schedules on Keras.

- :func:`get_scheduler` builds transformers' schedules (linear, cosine, constant,
  constant_with_warmup, polynomial) as Keras ``LearningRateSchedule`` objects giving the same
  rate at every step as ``transformers.get_scheduler`` on a PyTorch optimizer.
- :class:`AdamW` is ``torch.optim.AdamW``: decoupled decay ``p -= lr * weight_decay * p``
  first, then Adam with epsilon added after the bias correction (Keras' Adam adds it before).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import keras
from keras import ops

from kerasformers.errors import ConfigError

__all__ = ["AdamW", "TransformersSchedule", "get_scheduler"]

SCHEDULE_NAMES = ("linear", "cosine", "constant", "constant_with_warmup", "polynomial")


def schedule_factor(
    name: str,
    step: int,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    lr_end: float = 1e-7,
    power: float = 1.0,
    learning_rate: float = 1.0,
) -> float:
    """The multiplier of the base rate at ``step``, by transformers' formulas (``transformers/optimization.py``).

    Example:
        >>> schedule_factor("linear", 5, num_warmup_steps=10, num_training_steps=100)
        0.5
    """
    if name == "constant":
        return 1.0
    if step < num_warmup_steps:
        return float(step) / float(max(1, num_warmup_steps))
    if name == "constant_with_warmup":
        return 1.0
    if name == "linear":
        return max(0.0, float(num_training_steps - step) / float(max(1, num_training_steps - num_warmup_steps)))
    if name == "cosine":
        progress = float(step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))
    if name == "polynomial":
        if step > num_training_steps:
            return lr_end / learning_rate
        decay_steps = num_training_steps - num_warmup_steps
        remaining = 1 - (step - num_warmup_steps) / decay_steps
        return ((learning_rate - lr_end) * remaining**power + lr_end) / learning_rate
    raise ConfigError(f"Unknown lr_scheduler_type {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}.")


@keras.saving.register_keras_serializable(package="kerasformers")
class TransformersSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A transformers learning-rate schedule as a Keras schedule: ``learning_rate * factor(step)``.

    The rate is computed in float64 (as PyTorch's ``LambdaLR`` does in Python) and handed to the
    optimizer as float32.

    Example:
        >>> schedule = TransformersSchedule("linear", 1e-3, num_warmup_steps=10, num_training_steps=100)
        >>> round(float(schedule(5)), 8)
        0.0005
    """

    def __init__(
        self,
        name: str,
        learning_rate: float,
        num_warmup_steps: int = 0,
        num_training_steps: int | None = None,
        num_cycles: float = 0.5,
        lr_end: float = 1e-7,
        power: float = 1.0,
    ):
        if name not in SCHEDULE_NAMES:
            raise ConfigError(f"Unknown lr_scheduler_type {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}.")
        if name in ("linear", "cosine", "polynomial") and num_training_steps is None:
            raise ConfigError(f"The {name!r} schedule needs num_training_steps.")
        if name == "polynomial" and not learning_rate > lr_end:
            raise ConfigError(f"lr_end ({lr_end}) must be smaller than the initial lr ({learning_rate}).")
        self.name = name
        self.learning_rate = float(learning_rate)
        self.num_warmup_steps = int(num_warmup_steps or 0)
        self.num_training_steps = num_training_steps
        self.num_cycles = num_cycles
        self.lr_end = lr_end
        self.power = power

    def value(self, step: int) -> float:
        """The rate at ``step`` as a Python float (what the Trainer logs).

        Example:
            >>> TransformersSchedule("constant", 2e-5).value(7)
            2e-05
        """
        return self.learning_rate * schedule_factor(
            self.name,
            int(step),
            self.num_warmup_steps,
            self.num_training_steps or 0,
            self.num_cycles,
            self.lr_end,
            self.power,
            self.learning_rate,
        )

    def __call__(self, step):
        step = ops.cast(step, "float64")
        base = ops.cast(self.learning_rate, "float64")
        warmup = float(self.num_warmup_steps)
        if self.name == "constant":
            return ops.cast(base, "float32")
        ramp = step / max(1.0, warmup)
        total = float(self.num_training_steps or 0)
        span = max(1.0, total - warmup)
        if self.name == "constant_with_warmup":
            after = ops.ones_like(step)
        elif self.name == "linear":
            after = ops.maximum(0.0, (total - step) / span)
        elif self.name == "cosine":
            progress = (step - warmup) / span
            after = ops.maximum(0.0, 0.5 * (1.0 + ops.cos(math.pi * float(self.num_cycles) * 2.0 * progress)))
        else:  # polynomial
            decay_steps = total - warmup
            remaining = ops.maximum(1.0 - (step - warmup) / (decay_steps if decay_steps else 1.0), 0.0)
            decayed = ((self.learning_rate - self.lr_end) * remaining**self.power + self.lr_end) / self.learning_rate
            after = ops.where(step > total, self.lr_end / self.learning_rate, decayed)
        factor = ops.where(step < warmup, ramp, after)
        return ops.cast(base * factor, "float32")

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "learning_rate": self.learning_rate,
            "num_warmup_steps": self.num_warmup_steps,
            "num_training_steps": self.num_training_steps,
            "num_cycles": self.num_cycles,
            "lr_end": self.lr_end,
            "power": self.power,
        }


def get_scheduler(
    name: str,
    optimizer: keras.optimizers.Optimizer | None = None,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict | None = None,
    learning_rate: float | None = None,
) -> TransformersSchedule:
    """transformers' ``get_scheduler``, returning a Keras ``LearningRateSchedule``.

    The base rate is ``learning_rate`` or the optimizer's current (float) rate. Given an
    optimizer, the schedule is returned for ``Trainer(optimizers=(optimizer, schedule))``, which
    sets it on the optimizer. ``scheduler_specific_kwargs``: ``num_cycles`` (cosine), ``lr_end`` and
    ``power`` (polynomial).

    Example:
        >>> schedule = get_scheduler("cosine", learning_rate=1e-3, num_warmup_steps=10, num_training_steps=100)
        >>> round(float(schedule(10)), 8)
        0.001
    """
    name = getattr(name, "value", name)
    if name not in SCHEDULE_NAMES:
        raise ConfigError(f"Unknown lr_scheduler_type {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}.")
    if learning_rate is None:
        if optimizer is None:
            raise ConfigError("get_scheduler needs learning_rate= or an optimizer whose learning rate is a number.")
        learning_rate = float(ops.convert_to_numpy(optimizer.learning_rate))
    if name in ("constant_with_warmup", "linear", "cosine", "polynomial") and num_warmup_steps is None:
        raise ConfigError(f"The {name!r} schedule needs num_warmup_steps.")
    kwargs = dict(scheduler_specific_kwargs or {})
    unknown = set(kwargs) - {"num_cycles", "lr_end", "power"}
    if unknown:
        raise ConfigError(f"get_scheduler: unknown scheduler_specific_kwargs {sorted(unknown)} for {name!r}.")
    return TransformersSchedule(name, learning_rate, num_warmup_steps or 0, num_training_steps, **kwargs)


@keras.saving.register_keras_serializable(package="kerasformers")
class AdamW(keras.optimizers.Optimizer):
    """``torch.optim.AdamW`` on Keras, the Trainer's default optimizer.

    Each step: ``p -= lr * weight_decay * p`` for decayed variables, then
    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g**2``,
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + epsilon)``.
    ``decay_variable_paths`` lists the ``variable.path`` values that decay (all when None).

    Example:
        >>> optimizer = AdamW(learning_rate=2e-5, weight_decay=0.01, decay_variable_paths=["dense/kernel"])
    """

    def __init__(
        self,
        learning_rate=1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        decay_variable_paths: Iterable[str] | None = None,
        name: str = "adamw",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.decay_rate = weight_decay
        self.decay_variable_paths = None if decay_variable_paths is None else sorted(set(decay_variable_paths))
        self._decay_flags: list[bool] = []

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        paths = None if self.decay_variable_paths is None else set(self.decay_variable_paths)
        self._decay_flags = [bool(self.decay_rate) and (paths is None or v.path in paths) for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        if self._decay_flags[index]:
            self.assign_sub(variable, lr * ops.cast(self.decay_rate, variable.dtype) * variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        bias_correction1 = 1 - ops.power(ops.cast(self.beta_1, variable.dtype), step)
        bias_correction2 = 1 - ops.power(ops.cast(self.beta_2, variable.dtype), step)
        denominator = ops.sqrt(v) / ops.sqrt(bias_correction2) + self.epsilon
        self.assign_sub(variable, (lr / bias_correction1) * m / denominator)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay=self.decay_rate,
            decay_variable_paths=self.decay_variable_paths,
        )
        return config
