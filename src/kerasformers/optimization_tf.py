"""Optimizers and learning-rate schedules with transformers' TensorFlow names (``transformers.optimization_tf``).

- :class:`WarmUp`: a polynomial warmup in front of any schedule.
- :func:`create_optimizer`: warmup then polynomial (by default linear) decay, with Adam or, when
  ``weight_decay_rate > 0``, :class:`AdamWeightDecay` that leaves biases and normalisation weights alone.
- :class:`AdamWeightDecay`: Adam with decoupled weight decay (``var -= lr * rate * var`` before the
  Adam step), chosen per variable by regular expressions on its full path.
- :class:`GradientAccumulator`: sums gradients over steps in a custom training loop.

All are Keras 3 objects: they serialise with the model (``model.save("model.keras")``) and
reload with ``keras.models.load_model`` without ``custom_objects``.

Example:
    >>> optimizer, schedule = create_optimizer(init_lr=5e-5, num_train_steps=1000, num_warmup_steps=100,
    ...                                        weight_decay_rate=0.01)
    >>> model.compile(optimizer=optimizer)  # no loss: the model's own
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import keras
import tensorflow as tf
from keras import ops

from kerasformers.errors import InvalidInputError, InvalidInputTypeError

__all__ = ["AdamWeightDecay", "GradientAccumulator", "WarmUp", "create_optimizer"]

# transformers' create_optimizer excludes these from weight decay ("bias and layer norm parameters").
TRANSFORMERS_WEIGHT_DECAY_EXCLUSIONS = ("LayerNorm", "layer_norm", "bias")
# The same intent for models whose normalisation layers are named otherwise: Llama-style RMSNorm
# (``input_layernorm``, ``post_attention_layernorm``, a final ``norm``) and GPT-2 (``ln_1``, ``ln_f``).
# Under the three patterns above alone their scale weights would be decayed.
NORMALIZATION_WEIGHT_PATTERNS = (r"layernorm", r"(?:^|/)norm/", r"(?:^|/)ln_[^/]*/")
DEFAULT_WEIGHT_DECAY_EXCLUSIONS = TRANSFORMERS_WEIGHT_DECAY_EXCLUSIONS + NORMALIZATION_WEIGHT_PATTERNS


@keras.saving.register_keras_serializable(package="kerasformers")
class WarmUp(keras.optimizers.schedules.LearningRateSchedule):
    """A polynomial warmup to ``initial_learning_rate`` over ``warmup_steps``, then ``decay_schedule_fn``.

    For ``step < warmup_steps`` the rate is ``initial_learning_rate * (step / warmup_steps) ** power``
    (linear by default); after it, ``decay_schedule_fn(step - warmup_steps)``.

    Args:
        initial_learning_rate: the rate at the end of the warmup.
        decay_schedule_fn: the schedule for the rest of training (a Keras ``LearningRateSchedule``
            or any callable of the step).
        warmup_steps: steps of warmup.
        power: the warmup's polynomial power (1.0: linear).
        name: a name for the schedule.

    Example:
        >>> decay = keras.optimizers.schedules.PolynomialDecay(1e-3, decay_steps=90, end_learning_rate=0.0)
        >>> schedule = WarmUp(initial_learning_rate=1e-3, decay_schedule_fn=decay, warmup_steps=10)
        >>> round(float(schedule(5)), 8)  # half way through the warmup
        0.0005
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_schedule_fn: Callable,
        warmup_steps: int,
        power: float = 1.0,
        name: str | None = None,
    ):
        super().__init__()
        if not callable(decay_schedule_fn):
            raise InvalidInputTypeError(
                f"WarmUp's decay_schedule_fn must be a schedule (callable of the step), got "
                f"{type(decay_schedule_fn).__name__}; pass e.g. keras.optimizers.schedules.PolynomialDecay(...)."
            )
        if warmup_steps <= 0:
            raise InvalidInputError(
                f"WarmUp needs warmup_steps > 0, got {warmup_steps}; without warmup use the decay schedule itself."
            )
        self.initial_learning_rate = initial_learning_rate
        self.decay_schedule_fn = decay_schedule_fn
        self.warmup_steps = warmup_steps
        self.power = power
        self.name = name

    def __call__(self, step):
        step_float = ops.cast(step, "float32")
        warmup_steps_float = ops.cast(self.warmup_steps, "float32")
        warmup_rate = self.initial_learning_rate * ops.power(step_float / warmup_steps_float, self.power)
        # cond, not where: the decay schedule only ever sees steps >= 0, as in transformers
        return ops.cond(
            step_float < warmup_steps_float,
            lambda: ops.cast(warmup_rate, "float32"),
            lambda: ops.cast(self.decay_schedule_fn(step - self.warmup_steps), "float32"),
        )

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_schedule_fn": keras.saving.serialize_keras_object(self.decay_schedule_fn),
            "warmup_steps": self.warmup_steps,
            "power": self.power,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> WarmUp:
        config = dict(config)
        if isinstance(config.get("decay_schedule_fn"), dict):
            config["decay_schedule_fn"] = keras.saving.deserialize_keras_object(config["decay_schedule_fn"])
        return cls(**config)


def create_optimizer(
    init_lr: float,
    num_train_steps: int,
    num_warmup_steps: int,
    min_lr_ratio: float = 0.0,
    adam_beta1: float = 0.9,
    adam_beta2: float = 0.999,
    adam_epsilon: float = 1e-8,
    adam_clipnorm: float | None = None,
    adam_global_clipnorm: float | None = None,
    weight_decay_rate: float = 0.0,
    power: float = 1.0,
    include_in_weight_decay: Sequence[str] | None = None,
):
    """An Adam optimizer on a warmup + polynomial-decay schedule, as transformers' ``create_optimizer``.

    The rate rises linearly to ``init_lr`` over ``num_warmup_steps`` (no warmup when 0), then falls
    as ``PolynomialDecay(power)`` to ``init_lr * min_lr_ratio`` over the remaining
    ``num_train_steps - num_warmup_steps`` steps and stays there. With ``weight_decay_rate > 0`` the
    optimizer is :class:`AdamWeightDecay`, which decays every weight except biases and normalisation
    weights (``LayerNorm``, ``layer_norm``, ``bias`` as in transformers, plus RMSNorm / ``ln_*``
    layers); ``include_in_weight_decay`` patterns are decayed even so. Otherwise it is
    ``keras.optimizers.Adam``.

    Returns:
        ``(optimizer, lr_schedule)``: the schedule is returned too, to log the rate per step.

    Example:
        >>> optimizer, schedule = create_optimizer(init_lr=2e-5, num_train_steps=500, num_warmup_steps=50)
        >>> model.compile(optimizer=optimizer)
        >>> round(float(schedule(25)), 10)  # half way through the warmup
        1e-05
    """
    if num_warmup_steps < 0 or num_train_steps <= num_warmup_steps:
        raise InvalidInputError(
            f"create_optimizer needs 0 <= num_warmup_steps < num_train_steps, got num_train_steps="
            f"{num_train_steps} and num_warmup_steps={num_warmup_steps}: the decay would last "
            f"{num_train_steps - num_warmup_steps} steps. Pass the total number of optimizer steps "
            "(batches per epoch * epochs) as num_train_steps."
        )
    lr_schedule = keras.optimizers.schedules.PolynomialDecay(
        initial_learning_rate=init_lr,
        decay_steps=num_train_steps - num_warmup_steps,
        end_learning_rate=init_lr * min_lr_ratio,
        power=power,
    )
    if num_warmup_steps:
        lr_schedule = WarmUp(
            initial_learning_rate=init_lr, decay_schedule_fn=lr_schedule, warmup_steps=num_warmup_steps
        )
    adam_kwargs = dict(
        learning_rate=lr_schedule,
        beta_1=adam_beta1,
        beta_2=adam_beta2,
        epsilon=adam_epsilon,
        clipnorm=adam_clipnorm,
        global_clipnorm=adam_global_clipnorm,
    )
    if weight_decay_rate > 0.0:
        optimizer = AdamWeightDecay(
            weight_decay_rate=weight_decay_rate,
            exclude_from_weight_decay=list(DEFAULT_WEIGHT_DECAY_EXCLUSIONS),
            include_in_weight_decay=include_in_weight_decay,
            **adam_kwargs,
        )
    else:
        optimizer = keras.optimizers.Adam(**adam_kwargs)
    return optimizer, lr_schedule


def _compile_patterns(patterns, argument: str) -> list[str] | None:
    if patterns is None:
        return None
    if isinstance(patterns, str):
        patterns = [patterns]
    patterns = list(patterns)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as error:
            raise InvalidInputError(
                f"AdamWeightDecay's {argument} holds {pattern!r}, which is no regular expression ({error}); "
                "give variable-name fragments such as 'LayerNorm' or 'bias'."
            ) from None
    return patterns


@keras.saving.register_keras_serializable(package="kerasformers")
class AdamWeightDecay(keras.optimizers.Adam):
    """Adam with decoupled weight decay, as transformers' TensorFlow ``AdamWeightDecay``.

    Before each Adam step a decayed variable loses ``learning_rate * weight_decay_rate * variable``
    (the learning rate of this step, schedule included): the decay does not pass through Adam's
    moments (`Decoupled Weight Decay Regularization <https://arxiv.org/abs/1711.05101>`_).

    Which variables decay is decided on the variable's full path (``variable.path``, e.g.
    ``"tf_bert_for_sequence_classification/bert/encoder/layer_0/output/LayerNorm/gamma"``), where
    transformers matched the TF1-style ``variable.name`` that held the same scopes: a variable
    matching a pattern of ``include_in_weight_decay`` decays; otherwise one matching a pattern of
    ``exclude_from_weight_decay`` does not; every other one does.

    Args:
        learning_rate: a float or a ``LearningRateSchedule`` (e.g. :class:`WarmUp`).
        beta_1, beta_2, epsilon, amsgrad: Adam's settings.
        weight_decay_rate: the decay rate (0: plain Adam).
        include_in_weight_decay: regular expressions of variables to decay regardless of the exclusions.
        exclude_from_weight_decay: regular expressions of variables not to decay.
        name: the optimizer's name.
        **kwargs: Keras optimizer options (``clipnorm``, ``clipvalue``, ``global_clipnorm``, ...);
            ``lr`` is taken as ``learning_rate``, as transformers did.

    Example:
        >>> optimizer = AdamWeightDecay(learning_rate=1e-4, weight_decay_rate=0.01,
        ...                             exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"])
        >>> model.compile(optimizer=optimizer)
    """

    def __init__(
        self,
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay_rate: float = 0.0,
        include_in_weight_decay: Sequence[str] | None = None,
        exclude_from_weight_decay: Sequence[str] | None = None,
        name: str = "AdamWeightDecay",
        **kwargs,
    ):
        if "lr" in kwargs:  # transformers (and Keras 2) accepted lr for learning_rate
            learning_rate = kwargs.pop("lr")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            **kwargs,
        )
        self.weight_decay_rate = weight_decay_rate
        self._include_in_weight_decay = _compile_patterns(include_in_weight_decay, "include_in_weight_decay")
        self._exclude_from_weight_decay = _compile_patterns(exclude_from_weight_decay, "exclude_from_weight_decay")
        self._decayed_variable_flags: list[bool] = []

    def do_use_weight_decay(self, variable_path: str) -> bool:
        """Whether the variable at ``variable_path`` is decayed (transformers' ``_do_use_weight_decay``).

        Example:
            >>> AdamWeightDecay(weight_decay_rate=0.01, exclude_from_weight_decay=["bias"]).do_use_weight_decay(
            ...     "model/classifier/bias")
            False
        """
        if self.weight_decay_rate == 0:
            return False
        if self._include_in_weight_decay and any(re.search(p, variable_path) for p in self._include_in_weight_decay):
            return True
        if self._exclude_from_weight_decay and any(
            re.search(p, variable_path) for p in self._exclude_from_weight_decay
        ):
            return False
        return True

    _do_use_weight_decay = do_use_weight_decay  # transformers' name

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # decided once per variable from its path; update_step sees the backend variable (leaf name only)
        self._decayed_variable_flags = [self.do_use_weight_decay(v.path) for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        if self._decayed_variable_flags[self._get_variable_index(variable)]:
            lr = ops.cast(learning_rate, variable.dtype)
            rate = ops.cast(self.weight_decay_rate, variable.dtype)
            self.assign_sub(variable, lr * variable * rate)
        super().update_step(gradient, variable, learning_rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "weight_decay_rate": self.weight_decay_rate,
                "include_in_weight_decay": self._include_in_weight_decay,
                "exclude_from_weight_decay": self._exclude_from_weight_decay,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> AdamWeightDecay:
        return super().from_config(dict(config), custom_objects={"WarmUp": WarmUp, **(custom_objects or {})})


class GradientAccumulator:
    """Sums gradients over several steps of a custom training loop (transformers' ``GradientAccumulator``).

    Call it with each step's gradients; read the sums from :attr:`gradients` (scale them if you
    want a mean), apply them, then :meth:`reset`. Sparse gradients (``tf.IndexedSlices``, e.g. of
    an embedding) are summed densely. Under a distribution strategy call it in a replica context:
    each replica accumulates its own gradients without synchronisation.

    Example:
        >>> accumulator = GradientAccumulator()
        >>> for step, batch in enumerate(dataset):
        ...     with tf.GradientTape() as tape:
        ...         loss = model(batch).loss
        ...     accumulator(tape.gradient(loss, model.trainable_variables))
        ...     if accumulator.step == 4:
        ...         grads = [g / 4 for g in accumulator.gradients]
        ...         optimizer.apply_gradients(zip(grads, model.trainable_variables))
        ...         accumulator.reset()
    """

    def __init__(self):
        self._gradients: list[tf.Variable | None] = []
        self._accum_steps: tf.Variable | None = None

    @staticmethod
    def _accumulator_variable(initial_value) -> tf.Variable:
        # ON_READ: no synchronisation on assignment; each replica reads its own sum
        return tf.Variable(
            initial_value,
            trainable=False,
            synchronization=tf.VariableSynchronization.ON_READ,
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )

    @property
    def step(self) -> tf.Tensor:
        """The number of accumulated steps (an int64 tensor)."""
        if self._accum_steps is None:
            self._accum_steps = self._accumulator_variable(tf.constant(0, dtype=tf.int64))
        return self._accum_steps.value()

    @property
    def gradients(self) -> list[tf.Tensor | None]:
        """The accumulated gradients (``None`` where the first call's gradient was ``None``)."""
        if not self._gradients:
            raise InvalidInputError(
                "GradientAccumulator holds no gradients yet: call it with a list of gradients first "
                "(accumulator(tape.gradient(loss, variables)))."
            )
        return [gradient.value() if gradient is not None else None for gradient in self._gradients]

    def __call__(self, gradients) -> None:
        """Add ``gradients`` (one per variable, ``None`` allowed) to the sums."""
        gradients = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]
        if not self._gradients:
            _ = self.step  # creates the step counter
            self._gradients.extend(
                self._accumulator_variable(tf.zeros_like(g)) if g is not None else None for g in gradients
            )
        if len(gradients) != len(self._gradients):
            raise InvalidInputError(
                f"GradientAccumulator expected {len(self._gradients)} gradients (as on its first call), got "
                f"{len(gradients)}; pass the gradients of the same variables every step."
            )
        for accumulated, gradient in zip(self._gradients, gradients):
            if accumulated is not None and gradient is not None:
                accumulated.assign_add(gradient)
        self._accum_steps.assign_add(1)

    def reset(self) -> None:
        """Set the step count and every sum back to zero."""
        if not self._gradients:
            return
        self._accum_steps.assign(0)
        for gradient in self._gradients:
            if gradient is not None:
                gradient.assign(tf.zeros_like(gradient))
