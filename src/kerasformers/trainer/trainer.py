"""``Trainer``: transformers' training loop on Keras, with its own compiled step.

See the package docstring (``kerasformers.trainer``) for the design and why it is not ``fit()``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import math
import random
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np

from kerasformers.data.collators import DataCollatorWithPadding, DefaultDataCollator, padded_length
from kerasformers.errors import ConfigError, InvalidInputTypeError, MissingFileError, TrainingDataError
from kerasformers.hub import atomic_folder_write
from kerasformers.trainer.callbacks import (
    CallbackHandler,
    DefaultFlowCallback,
    PrinterCallback,
    ProgressCallback,
    TensorBoardCallback,
    TrainerControl,
    TrainerState,
)
from kerasformers.trainer.optimization import AdamW, TransformersSchedule, get_scheduler
from kerasformers.trainer.training_args import HubStrategy, IntervalStrategy, SaveStrategy, TrainingArguments
from kerasformers.trainer.utils import (
    PREFIX_CHECKPOINT_DIR,
    EvalPrediction,
    PredictionOutput,
    TrainOutput,
    get_last_checkpoint,
    sorted_checkpoints,
    speed_metrics,
)
from kerasformers.weights import is_weights_file, load_checkpoint_into_model

__all__ = ["Trainer"]


logger = logging.getLogger("kerasformers")

TRAINING_ARGS_NAME = "training_args.json"
TRAINER_STATE_NAME = "trainer_state.json"
OPTIMIZER_NAME = "optimizer.npz"
SCHEDULER_NAME = "scheduler.json"
RNG_STATE_NAME = "rng_state.npz"
LABEL_COLUMN_ALIASES = {"label": "labels", "label_ids": "labels"}
# call parameters that are options, not data columns
_NOT_DATA = {"training", "return_dict", "output_attentions", "output_hidden_states", "use_cache", "past_key_values"}
# outputs that are not predictions (transformers' ignore_keys default for most models)
_NOT_PREDICTIONS = ("loss", "hidden_states", "attentions", "past_key_values", "cross_attentions")


@contextlib.contextmanager
def _keras_training_mode():
    """Layers called inside run with ``training=True`` unless told otherwise.

    A ``compute_loss`` override calls ``model(**inputs)`` as in PyTorch, where the Trainer put
    the model in train mode; Keras reads the mode from the outer call context, so we open one.
    """
    from keras.src.backend.common import global_state
    from keras.src.layers.layer import CallContext

    previous = global_state.get_global_attribute("current_call_ctx")
    context = CallContext(entry_layer=None)
    context.training = True
    global_state.set_global_attribute("current_call_ctx", context)
    try:
        yield
    finally:
        global_state.set_global_attribute("current_call_ctx", previous)


class _RowSource:
    """Rows of a data set by index: a ``datasets.Dataset``, a dict of arrays or a list of dicts."""

    def __init__(self, data, keep: list[str] | None):
        self.data = data
        if isinstance(data, Mapping):
            self.columns = list(data)
            sizes = {len(v) for v in data.values()}
            if len(sizes) != 1:
                raise TrainingDataError(
                    f"The columns of the data dict hold different numbers of rows: {sorted(sizes)}."
                )
            self.length = sizes.pop()
        elif isinstance(data, (list, tuple)):
            if data and not isinstance(data[0], Mapping):
                raise InvalidInputTypeError("A data set given as a list must hold dicts (one per example).")
            self.columns = list(data[0]) if data else []
            self.length = len(data)
        else:
            self.columns = list(data.column_names)
            self.length = len(data)
        self.keep = keep

    def __len__(self):
        return self.length

    def rows(self, indices) -> list[dict]:
        indices = [int(i) for i in indices]
        if isinstance(self.data, Mapping):
            rows = [{k: v[i] for k, v in self.data.items()} for i in indices]
        elif isinstance(self.data, (list, tuple)):
            rows = [dict(self.data[i]) for i in indices]
        else:
            columns = self.data[indices]
            keys = list(columns)
            rows = [dict(zip(keys, values)) for values in zip(*(columns[k] for k in keys))]
        if self.keep is not None:
            rows = [
                {
                    LABEL_COLUMN_ALIASES.get(k, k) if k in LABEL_COLUMN_ALIASES else k: v
                    for k, v in r.items()
                    if k in self.keep
                }
                for r in rows
            ]
        return rows


def _to_numpy(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _concat(parts: list):
    """Concatenate batches along axis 0; sequence outputs of different lengths are padded with -100."""
    if isinstance(parts[0], tuple):
        return tuple(_concat([p[i] for p in parts]) for i in range(len(parts[0])))
    arrays = [np.asarray(p) for p in parts]
    if arrays[0].ndim > 1 and len({a.shape[1:] for a in arrays}) > 1:
        width = [max(a.shape[d] for a in arrays) for d in range(1, arrays[0].ndim)]
        padded = []
        for a in arrays:
            pad = [(0, 0)] + [(0, w - s) for w, s in zip(width, a.shape[1:])]
            padded.append(np.pad(a, pad, constant_values=-100))
        arrays = padded
    return np.concatenate(arrays, axis=0)


class Trainer:
    """transformers' ``Trainer`` for kerasformers models: train, evaluate, predict, checkpoint, resume.

    Args:
        model: a kerasformers model (e.g. ``TFAutoModelForSequenceClassification.from_pretrained(...)``).
        args: :class:`TrainingArguments` (default: ``TrainingArguments("trainer_output")``).
        data_collator: list of rows -> dict of arrays (default: ``DataCollatorWithPadding`` when
            ``processing_class`` is a tokenizer, else ``DefaultDataCollator``).
        train_dataset, eval_dataset: a ``datasets.Dataset`` (tokenized), a dict of arrays or a
            list of dicts; ``eval_dataset`` may be a dict of such data sets (one metric prefix each).
        processing_class: the tokenizer (saved with every checkpoint); ``tokenizer=`` is the old name.
        compute_loss_func: ``(outputs, labels, num_items_in_batch=...) -> loss``.
        compute_metrics: ``EvalPrediction -> dict`` of metrics.
        callbacks: :class:`TrainerCallback` instances (or classes) added to the defaults.
        optimizers: ``(optimizer, lr_schedule)`` to replace the default AdamW and schedule.

    Example:
        >>> args = TrainingArguments("out", learning_rate=2e-5, num_train_epochs=3, eval_strategy="epoch")
        >>> trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
        ...                   processing_class=tokenizer, compute_metrics=compute_metrics)
        >>> trainer.train()  # doctest: +SKIP
        >>> trainer.evaluate()["eval_loss"]  # doctest: +SKIP
    """

    # whether compute_loss returns a loss already normalised over the accumulated batch (transformers 5)
    loss_is_scaled_for_ga: bool | None = None

    def __init__(
        self,
        model=None,
        args: TrainingArguments | None = None,
        data_collator: Callable | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        model_init: Callable | None = None,
        compute_loss_func: Callable | None = None,
        compute_metrics: Callable | None = None,
        callbacks: list | None = None,
        optimizers: tuple = (None, None),
        preprocess_logits_for_metrics: Callable | None = None,
        tokenizer=None,
    ):
        if args is None:
            args = TrainingArguments("trainer_output")
        if not isinstance(args, TrainingArguments):
            raise InvalidInputTypeError(f"Trainer's args must be TrainingArguments, got {type(args).__name__}.")
        self.args = args
        keras.utils.set_random_seed(args.seed)
        if model is None and model_init is not None:
            model = model_init()
        if model is None:
            raise ConfigError("Trainer needs a model (or model_init).")
        self.model = model
        self.model_init = model_init
        if tokenizer is not None and processing_class is None:
            processing_class = tokenizer
        self.processing_class = processing_class
        self.compute_loss_func = compute_loss_func
        self.compute_metrics = compute_metrics
        self.preprocess_logits_for_metrics = preprocess_logits_for_metrics
        if data_collator is None:
            if processing_class is not None and hasattr(processing_class, "pad"):
                data_collator = DataCollatorWithPadding(processing_class, return_tensors="np")
            else:
                data_collator = DefaultDataCollator(return_tensors="np")
        self.data_collator = data_collator
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        if args.eval_strategy != IntervalStrategy.NO and eval_dataset is None:
            raise ConfigError(
                f"TrainingArguments(eval_strategy={args.eval_strategy.value!r}) needs an eval_dataset: pass "
                "Trainer(..., eval_dataset=...) or set eval_strategy='no'."
            )
        call = getattr(type(model), "call", None)
        parameters = inspect.signature(call).parameters if call is not None else {}
        self.model_accepts_loss_kwargs = "num_items_in_batch" in parameters
        label_names = model.get_label_names() if hasattr(model, "get_label_names") else ()
        self.label_names = list(args.label_names) if args.label_names is not None else list(label_names)
        overridden = type(self).compute_loss is not Trainer.compute_loss
        if not label_names and not overridden and compute_loss_func is None:
            raise ConfigError(
                f"{type(model).__name__} computes no loss (it takes no labels): use a task head (e.g. "
                "TFAutoModelForSequenceClassification), or subclass Trainer and override compute_loss, or "
                "pass compute_loss_func=."
            )
        self.optimizer, self.lr_scheduler = optimizers
        default_callbacks = [DefaultFlowCallback()]
        if "tensorboard" in args.report_to:
            default_callbacks.append(TensorBoardCallback())
        default_callbacks.append(PrinterCallback() if args.disable_tqdm else ProgressCallback())
        self.callback_handler = CallbackHandler(
            default_callbacks + list(callbacks or []), model, processing_class, self.optimizer, self.lr_scheduler
        )
        self.state = TrainerState()
        self.control = TrainerControl()
        self._train_step_fn = None
        self._micro_step_fn = None
        self._apply_fn = None
        self._eval_step_fn = None
        self._accumulators = None
        self._total_loss_scalar = 0.0
        self._globalstep_last_logged = 0
        self.hub_model_id = None
        self.push_in_progress = None  # the Future of the upload running in the background, if any
        self._push_executor = None
        if args.push_to_hub:
            self.init_hf_repo()
        self.control = self.callback_handler.on_init_end(self.args, self.state, self.control)

    # ------------------------------------------------------------------ callbacks
    def add_callback(self, callback):
        """Add a callback (an instance or a class) to the current list."""
        self.callback_handler.add_callback(callback)

    def pop_callback(self, callback):
        """Remove a callback (instance or class) and return it."""
        return self.callback_handler.pop_callback(callback)

    def remove_callback(self, callback):
        """Remove a callback (instance or class)."""
        self.callback_handler.remove_callback(callback)

    # ------------------------------------------------------------------ data
    def _row_source(self, dataset, description: str) -> _RowSource:
        if dataset is None:
            raise ConfigError(f"Trainer: no {description} given.")
        try:
            import datasets

            if isinstance(dataset, datasets.DatasetDict):
                raise InvalidInputTypeError(
                    f"The {description} is a DatasetDict with splits {list(dataset)}: pass one split, "
                    "e.g. dataset['train']."
                )
        except ImportError:  # pragma: no cover
            pass
        if not isinstance(dataset, (Mapping, list, tuple)) and not hasattr(dataset, "column_names"):
            raise InvalidInputTypeError(
                f"The {description} must be a datasets.Dataset, a dict of arrays or a list of dicts, got "
                f"{type(dataset).__name__}."
            )
        source = _RowSource(dataset, None)
        if len(source) == 0:
            raise TrainingDataError(f"The {description} is empty.")
        if self.args.remove_unused_columns:
            parameters = [p for p in self.model._call_parameters() if p not in _NOT_DATA]
            wanted = set(parameters) | set(self.label_names)
            keep = [c for c in source.columns if c in wanted or LABEL_COLUMN_ALIASES.get(c) in wanted]
            if not any(c in parameters and c not in self.label_names for c in keep):
                raise TrainingDataError(
                    f"None of the {description}'s columns {source.columns} is an input of {type(self.model).__name__} "
                    f"(it takes {parameters}). Tokenize first: "
                    "dataset.map(lambda b: tokenizer(b['text'], truncation=True), batched=True)."
                )
            source.keep = keep
        return source

    def _pad_id(self) -> int:
        pad = getattr(self.processing_class, "pad_token_id", None)
        return 0 if pad is None else int(pad)

    def _collate(self, rows: list[dict]) -> dict[str, np.ndarray]:
        batch = self.data_collator(rows)
        batch = {k: _to_numpy(v) for k, v in dict(batch).items()}
        batch = {k: v.astype(np.int32) if v.dtype == np.int64 else v for k, v in batch.items()}
        if self.args.jit_compile and self.args.length_buckets:
            batch = self._pad_to_bucket(batch)
        return batch

    def _pad_to_bucket(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Pad the sequence axis up to a length bucket, so XLA compiles few programs."""
        reference = next((batch[k] for k in ("input_ids", "attention_mask") if k in batch), None)
        if reference is None or reference.ndim < 2:
            return batch
        length = reference.shape[-1]
        target = padded_length(length, length_buckets=self.args.length_buckets)
        if target == length:
            return batch
        padded = {}
        for key, value in batch.items():
            if value.ndim >= 2 and value.shape[-1] == length:
                fill = self._pad_id() if key == "input_ids" else -100 if key in self.label_names else 0
                width = [(0, 0)] * (value.ndim - 1) + [(0, target - length)]
                value = np.pad(value, width, constant_values=fill)
            padded[key] = value
        return padded

    def _data_seed(self) -> int:
        return self.args.data_seed if self.args.data_seed is not None else self.args.seed

    def _epoch_batches(self, count: int, batch_size: int, epoch: int, shuffle: bool, drop_last: bool) -> list:
        """Row indices of each batch of ``epoch``: the same for a given (seed, epoch), so a resumed run repeats it."""
        order = np.arange(count)
        if shuffle:
            order = np.random.default_rng([self._data_seed(), epoch]).permutation(count)
        stop = (count // batch_size) * batch_size if drop_last else count
        return [order[i : i + batch_size] for i in range(0, stop, batch_size)]

    def num_batches(self, count: int, batch_size: int, drop_last: bool) -> int:
        return count // batch_size if drop_last else math.ceil(count / batch_size)

    # ------------------------------------------------------------------ optimizer and schedule
    def get_decay_parameter_names(self, model) -> list[str]:
        """Paths of the variables weight decay applies to: all but biases and normalisation weights.

        As transformers' ``get_decay_parameter_names``: variables of normalisation layers are
        excluded by layer type, and by name any containing ``bias``, ``layernorm``, ``rmsnorm``,
        a ``norm`` path part or ``_norm``.

        Example:
            >>> names = trainer.get_decay_parameter_names(model)  # doctest: +SKIP
            >>> any("LayerNorm" in n or n.endswith("bias") for n in names)  # doctest: +SKIP
            False
        """
        import re

        norm_types = tuple(
            t
            for t in (
                getattr(keras.layers, n, None)
                for n in ("LayerNormalization", "RMSNormalization", "BatchNormalization", "GroupNormalization")
            )
            if t
        )
        excluded: set[int] = set()
        for layer in model._flatten_layers(include_self=False, recursive=True):
            name = type(layer).__name__.lower()
            if isinstance(layer, norm_types) or name.endswith(("layernorm", "rmsnorm")):
                excluded.update(id(v) for v in layer.weights)
        patterns = [re.compile(p) for p in (r"bias", r"layernorm", r"rmsnorm", r"(?:^|/)norm(?:$|/)", r"_norm(?:$|/)")]
        return [
            v.path
            for v in model.trainable_variables
            if id(v) not in excluded and not any(p.search(v.path.lower()) for p in patterns)
        ]

    def create_optimizer(self):
        """The default optimizer: :class:`AdamW` (PyTorch's) with the args' betas, epsilon and weight decay."""
        if self.optimizer is None:
            self.optimizer = AdamW(
                learning_rate=self.args.learning_rate,
                beta_1=self.args.adam_beta1,
                beta_2=self.args.adam_beta2,
                epsilon=self.args.adam_epsilon,
                weight_decay=self.args.weight_decay,
                decay_variable_paths=self.get_decay_parameter_names(self.model),
            )
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        """The args' schedule (``lr_scheduler_type``, warmup) set as the optimizer's learning rate."""
        optimizer = optimizer or self.optimizer
        if self.lr_scheduler is None:
            self.lr_scheduler = get_scheduler(
                self.args.lr_scheduler_type,
                num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
                num_training_steps=num_training_steps,
                scheduler_specific_kwargs=self.args.lr_scheduler_kwargs,
                learning_rate=self.args.learning_rate,
            )
        if isinstance(self.lr_scheduler, keras.optimizers.schedules.LearningRateSchedule):
            inner = getattr(optimizer, "inner_optimizer", optimizer)
            if not isinstance(inner._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
                inner._learning_rate = self.lr_scheduler
        return self.lr_scheduler

    def create_optimizer_and_scheduler(self, num_training_steps: int):
        """Both of the above; an ``optimizers=`` pair given to the constructor is kept."""
        self.create_optimizer()
        if self.args.fp16 and not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            self.create_scheduler(num_training_steps, self.optimizer)
            self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
        else:
            self.create_scheduler(num_training_steps, self.optimizer)
        self.callback_handler.optimizer = self.optimizer
        self.callback_handler.lr_scheduler = self.lr_scheduler

    def _get_learning_rate(self) -> float:
        schedule = self.lr_scheduler
        if isinstance(schedule, TransformersSchedule):
            return schedule.value(self.state.global_step)
        if callable(schedule):
            return float(keras.ops.convert_to_numpy(schedule(self.state.global_step)))
        return float(keras.ops.convert_to_numpy(getattr(self.optimizer, "learning_rate", self.args.learning_rate)))

    # ------------------------------------------------------------------ loss
    def compute_loss(self, model, inputs, return_outputs: bool = False, num_items_in_batch=None):
        """The loss of one micro-batch: the model's own ``outputs.loss`` (labels are in ``inputs``).

        Override it to change the objective; it runs inside the compiled step, so write it with
        ``keras.ops`` / ``keras.losses``. ``model(**inputs)`` runs in training mode (dropout on).

        Example:
            >>> class WeightedTrainer(Trainer):
            ...     def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            ...         labels = inputs.pop("labels")
            ...         outputs = model(**inputs)
            ...         loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            ...             labels, outputs.logits, sample_weight=keras.ops.take(class_weights, labels))
            ...         return (loss, outputs) if return_outputs else loss
        """
        labels = inputs.pop("labels") if self.compute_loss_func is not None and "labels" in inputs else None
        if self.model_accepts_loss_kwargs and num_items_in_batch is not None:
            inputs = {**inputs, "num_items_in_batch": num_items_in_batch}
        outputs = model(**inputs)
        if self.compute_loss_func is not None:
            loss = self.compute_loss_func(outputs, labels, num_items_in_batch=num_items_in_batch)
        else:
            loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs[0]
            if loss is None:
                raise TrainingDataError(
                    f"{type(model).__name__} returned no loss: the batch has none of its labels "
                    f"{self.label_names} (inputs: {sorted(inputs)}). Add a labels column, or override compute_loss."
                )
        return (loss, outputs) if return_outputs else loss

    # ------------------------------------------------------------------ compiled steps
    def _build_steps(self):
        import tensorflow as tf

        model, optimizer, args = self.model, self.optimizer, self.args
        variables = model.trainable_variables
        scaled_loss = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

        def loss_and_grads(inputs, num_items, scale):
            with tf.GradientTape() as tape:
                with _keras_training_mode():
                    loss = self.compute_loss(model, dict(inputs), num_items_in_batch=num_items)
                loss = tf.cast(loss, "float32") * scale
                target = optimizer.scale_loss(loss) if scaled_loss else loss
            grads = tape.gradient(target, variables)
            grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(grads, variables)]
            return loss, grads

        def clip_and_apply(grads):
            norm = tf.linalg.global_norm(grads)
            if scaled_loss:
                norm = norm / tf.cast(optimizer.dynamic_scale, norm.dtype)
            if args.max_grad_norm and args.max_grad_norm > 0:
                # torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is < 1
                coefficient = tf.minimum(1.0, args.max_grad_norm / (norm + 1e-6))
                grads = [g * tf.cast(coefficient, g.dtype) for g in grads]
            optimizer.apply(grads, variables)
            return norm

        def train_step(inputs, num_items, scale):
            loss, grads = loss_and_grads(inputs, num_items, scale)
            return loss, clip_and_apply(grads)

        def micro_step(inputs, num_items, scale):
            loss, grads = loss_and_grads(inputs, num_items, scale)
            for accumulator, g in zip(self._accumulators, grads):
                accumulator.assign_add(g)
            return loss

        def apply_step():
            norm = clip_and_apply([a.value() for a in self._accumulators])
            for accumulator in self._accumulators:
                accumulator.assign(tf.zeros_like(accumulator))
            return norm

        jit = bool(args.jit_compile)
        optimizer.build(variables)
        self._train_step_fn = tf.function(train_step, jit_compile=jit, reduce_retracing=False)
        if args.gradient_accumulation_steps > 1:
            self._accumulators = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
            self._micro_step_fn = tf.function(micro_step, jit_compile=jit)
            self._apply_fn = tf.function(apply_step, jit_compile=jit)

    def _build_eval_step(self):
        import tensorflow as tf

        def eval_step(inputs, has_labels: bool):
            inputs = dict(inputs)
            if has_labels:
                loss, outputs = self.compute_loss(self.model, dict(inputs), return_outputs=True)
                loss = tf.cast(loss, "float32")
            else:
                loss, outputs = None, self.model(**inputs)
            if isinstance(outputs, Mapping):
                logits = {k: v for k, v in outputs.items() if k not in _NOT_PREDICTIONS and v is not None}
            else:
                logits = {"output": outputs}
            return loss, logits

        self._eval_step_fn = tf.function(eval_step, jit_compile=bool(self.args.jit_compile))

    # ------------------------------------------------------------------ mixed precision
    def _apply_precision(self):
        if not (self.args.bf16 or self.args.fp16):
            return
        policy = keras.DTypePolicy("mixed_bfloat16" if self.args.bf16 else "mixed_float16")
        for layer in self.model._flatten_layers(include_self=True, recursive=True):
            layer.dtype_policy = policy

    # ------------------------------------------------------------------ train
    def train(self, resume_from_checkpoint: str | bool | None = None, trial=None, ignore_keys_for_eval=None, **kwargs):
        """Run the training loop; returns :class:`TrainOutput` ``(global_step, training_loss, metrics)``.

        ``resume_from_checkpoint=True`` continues from the last complete checkpoint in
        ``output_dir``, a path from that checkpoint: weights, optimizer, schedule, data order,
        RNG state, log history, best metric.

        Example:
            >>> trainer.train()  # doctest: +SKIP
            >>> trainer.train(resume_from_checkpoint=True)  # after an interruption  # doctest: +SKIP
        """
        args = self.args
        if kwargs:
            raise InvalidInputTypeError(f"Trainer.train() got unexpected arguments {sorted(kwargs)}.")
        if resume_from_checkpoint is None:
            resume_from_checkpoint = args.resume_from_checkpoint
        if resume_from_checkpoint is False:
            resume_from_checkpoint = None
        if resume_from_checkpoint is True:
            resume_from_checkpoint = get_last_checkpoint(args.output_dir)
            if resume_from_checkpoint is None:
                raise MissingFileError(
                    f"resume_from_checkpoint=True: no complete checkpoint-<step> folder in {args.output_dir!r}. "
                    "Train without resuming, or pass the path of a checkpoint."
                )
        if resume_from_checkpoint is not None and not (Path(resume_from_checkpoint) / TRAINER_STATE_NAME).is_file():
            raise MissingFileError(
                f"{resume_from_checkpoint!r} is not a complete Trainer checkpoint (no {TRAINER_STATE_NAME})."
            )
        source = self._row_source(self.train_dataset, "train_dataset")
        batch_size = args.train_batch_size
        len_dataloader = self.num_batches(len(source), batch_size, args.dataloader_drop_last)
        if len_dataloader == 0:
            raise TrainingDataError(
                f"dataloader_drop_last=True with {len(source)} examples and batch size {batch_size} leaves no batch."
            )
        ga = args.gradient_accumulation_steps
        updates_per_epoch = max(math.ceil(len_dataloader / ga), 1)
        if args.max_steps > 0:
            max_steps = args.max_steps
            num_train_epochs = max_steps // updates_per_epoch + int(max_steps % updates_per_epoch > 0)
        else:
            max_steps = math.ceil(args.num_train_epochs * updates_per_epoch)
            num_train_epochs = math.ceil(args.num_train_epochs)

        self._apply_precision()
        self.create_optimizer_and_scheduler(max_steps)
        self._build_steps()
        self.state = TrainerState(
            max_steps=max_steps,
            num_train_epochs=num_train_epochs,
            train_batch_size=batch_size,
            logging_steps=self._absolute(args.logging_steps, max_steps),
            eval_steps=self._absolute(args.eval_steps or args.logging_steps, max_steps),
            save_steps=self._absolute(args.save_steps, max_steps),
        )
        self.control = TrainerControl()
        epochs_trained, steps_trained_in_current_epoch = 0, 0
        self._total_loss_scalar = 0.0
        if resume_from_checkpoint is not None:
            self._load_checkpoint(resume_from_checkpoint)
            epochs_trained = self.state.global_step // updates_per_epoch
            steps_trained_in_current_epoch = (self.state.global_step % updates_per_epoch) * ga
            self._total_loss_scalar = self._logged_loss_total()
        self._globalstep_last_logged = self.state.global_step
        self.callback_handler.model = self.model
        self.control = self.callback_handler.on_train_begin(args, self.state, self.control)
        if args.eval_on_start:
            self._evaluate_and_track(ignore_keys_for_eval)

        start_time = time.time()
        start_step = self.state.global_step
        tr_loss = 0.0
        grad_norm = None
        for epoch in range(epochs_trained, num_train_epochs):
            batches = self._epoch_batches(
                len(source),
                batch_size,
                epoch,
                shuffle=args.train_sampling_strategy == "random",
                drop_last=args.dataloader_drop_last,
            )
            self.control = self.callback_handler.on_epoch_begin(args, self.state, self.control)
            skip = steps_trained_in_current_epoch if epoch == epochs_trained else 0
            step = skip - 1
            remainder = len_dataloader % ga or ga
            for update in range(skip // ga, updates_per_epoch):
                count = ga if update != updates_per_epoch - 1 else remainder
                samples = [self._collate(source.rows(b)) for b in batches[update * ga : update * ga + count]]
                num_items = self._num_items(samples)
                scale = 1.0 if self._loss_is_scaled(num_items) else 1.0 / len(samples)
                self.control = self.callback_handler.on_step_begin(args, self.state, self.control)
                if len(samples) == 1:
                    loss, grad_norm = self._train_step_fn(samples[0], num_items, np.float32(scale))
                    tr_loss += float(loss)
                    step += 1
                else:
                    for inputs in samples:
                        tr_loss += float(self._micro_step_fn(inputs, num_items, np.float32(scale)))
                        step += 1
                        if step % ga != ga - 1 and inputs is not samples[-1]:
                            self.control = self.callback_handler.on_substep_end(args, self.state, self.control)
                    grad_norm = self._apply_fn()
                learning_rate = self._get_learning_rate()
                self.state.global_step += 1
                self.state.epoch = epoch + (step + 1) / len_dataloader
                self.control = self.callback_handler.on_step_end(args, self.state, self.control)
                tr_loss = self._maybe_log_save_evaluate(tr_loss, grad_norm, learning_rate, ignore_keys_for_eval)
                if self.control.should_epoch_stop or self.control.should_training_stop:
                    break
            self.control = self.callback_handler.on_epoch_end(args, self.state, self.control)
            tr_loss = self._maybe_log_save_evaluate(tr_loss, grad_norm, self._get_learning_rate(), ignore_keys_for_eval)
            self.control._new_epoch()
            if self.control.should_training_stop:
                break

        if args.load_best_model_at_end and self.state.best_model_checkpoint is not None:
            if Path(self.state.best_model_checkpoint).is_dir():
                load_checkpoint_into_model(self.model, Path(self.state.best_model_checkpoint))
        self._total_loss_scalar += tr_loss
        train_loss = self._total_loss_scalar / max(self.state.global_step, 1e-8)
        steps_run = self.state.global_step - start_step
        metrics = speed_metrics("train", start_time, num_samples=steps_run * batch_size * ga, num_steps=steps_run)
        metrics["total_flos"] = float(self.state.total_flos)
        metrics["train_loss"] = train_loss
        self.log(dict(metrics))
        if args.save_total_limit is not None:
            self._rotate_checkpoints()
        self.control = self.callback_handler.on_train_end(args, self.state, self.control)
        self._finish_current_push()  # a checkpoint still uploading is awaited, as transformers does
        return TrainOutput(self.state.global_step, train_loss, metrics)

    @staticmethod
    def _absolute(value, max_steps: int) -> int:
        if value is None:
            return 500
        return math.ceil(max_steps * value) if value < 1 else int(value)

    def _num_items(self, samples: list[dict]):
        if "labels" not in samples[0]:
            return np.int32(0)
        return np.int32(sum(int(np.sum(s["labels"] != -100)) for s in samples))

    def _loss_is_scaled(self, num_items) -> bool:
        if self.loss_is_scaled_for_ga is not None:
            return bool(self.loss_is_scaled_for_ga)
        return (
            (self.model_accepts_loss_kwargs and "labels" in self.label_names)
            or self.compute_loss_func is not None
            and False
        )

    def _logged_loss_total(self) -> float:
        total, previous = 0.0, 0
        for entry in self.state.log_history:
            if "loss" in entry and "step" in entry:
                total += entry["loss"] * (entry["step"] - previous)
                previous = entry["step"]
        return total

    def _maybe_log_save_evaluate(self, tr_loss, grad_norm, learning_rate, ignore_keys_for_eval):
        if self.control.should_log and self.state.global_step > self._globalstep_last_logged:
            logs: dict[str, float] = {}
            logs["loss"] = tr_loss / (self.state.global_step - self._globalstep_last_logged)
            if grad_norm is not None:
                logs["grad_norm"] = float(grad_norm)
            logs["learning_rate"] = learning_rate
            self._total_loss_scalar += tr_loss
            tr_loss = 0.0
            self._globalstep_last_logged = self.state.global_step
            self.log(logs)
        if self.control.should_evaluate:
            is_new_best = self._evaluate_and_track(ignore_keys_for_eval)
            if self.args.save_strategy == SaveStrategy.BEST:
                self.control.should_save = is_new_best
        if self.control.should_save:
            self._save_checkpoint()
            self.control = self.callback_handler.on_save(self.args, self.state, self.control)
        self.control._new_step()
        return tr_loss

    def _evaluate_and_track(self, ignore_keys=None) -> bool:
        if self._is_dict_of_datasets(self.eval_dataset):
            metrics = {}
            for name, dataset in self.eval_dataset.items():
                metrics.update(self.evaluate(dataset, ignore_keys, metric_key_prefix=f"eval_{name}"))
        else:
            metrics = self.evaluate(ignore_keys=ignore_keys)
        return self._determine_best_metric(metrics)

    @staticmethod
    def _is_dict_of_datasets(data) -> bool:
        """A dict of named evaluation sets (not a dict of columns)."""
        if not isinstance(data, Mapping) or not data:
            return False
        return all(
            hasattr(v, "column_names") or (isinstance(v, (list, tuple)) and v and isinstance(v[0], Mapping))
            for v in data.values()
        )

    def _determine_best_metric(self, metrics: dict) -> bool:
        name = self.args.metric_for_best_model
        if name is None:
            return False
        key = name if name.startswith("eval_") else f"eval_{name}"
        if key not in metrics:
            raise ConfigError(
                f"TrainingArguments(metric_for_best_model={name!r}): {key!r} is not among the evaluation metrics "
                f"{sorted(metrics)}. Pick one of them, or return it from compute_metrics."
            )
        value = float(metrics[key])
        greater = bool(self.args.greater_is_better)
        if self.state.best_metric is None:
            self.state.best_metric = -math.inf if greater else math.inf
        if (value > self.state.best_metric) if greater else (value < self.state.best_metric):
            self.state.best_metric = value
            self.state.best_global_step = self.state.global_step
            return True
        return False

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add ``logs`` (with ``epoch`` and ``step``) to ``state.log_history`` and call ``on_log``."""
        if self.state.epoch is not None:
            logs["epoch"] = self.state.epoch
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self.control = self.callback_handler.on_log(self.args, self.state, self.control, logs=logs)

    # ------------------------------------------------------------------ evaluate / predict
    def _prediction_loop(self, dataset, description: str, ignore_keys=None, metric_key_prefix: str = "eval"):
        if self._eval_step_fn is None:
            self._build_eval_step()
        source = self._row_source(dataset, description)
        batch_size = self.args.eval_batch_size
        losses, predictions, labels, seen = [], [], [], 0
        label_keys = [k for k in self.label_names]
        start_time = time.time()
        batches = self._epoch_batches(len(source), batch_size, 0, shuffle=False, drop_last=False)
        for indices in batches:
            inputs = self._collate(source.rows(indices))
            has_labels = bool(label_keys) and all(k in inputs for k in label_keys)
            loss, logits = self._eval_step_fn(inputs, has_labels)
            size = len(indices)
            seen += size
            if loss is not None:
                losses.append(float(loss) * size)
            values = {k: _to_numpy(v) for k, v in logits.items() if not (ignore_keys and k in ignore_keys)}
            if values and not self.args.prediction_loss_only:
                items = tuple(values.values())
                predictions.append(items[0] if len(items) == 1 else items)
            if has_labels:
                found = tuple(np.asarray(inputs[k]) for k in label_keys)
                labels.append(found[0] if len(found) == 1 else found)
        all_predictions = _concat(predictions) if predictions else None
        all_labels = _concat(labels) if labels else None
        if self.preprocess_logits_for_metrics is not None and all_predictions is not None:
            all_predictions = self.preprocess_logits_for_metrics(all_predictions, all_labels)
        metrics: dict[str, Any] = {}
        if self.compute_metrics is not None and all_predictions is not None and all_labels is not None:
            metrics = dict(self.compute_metrics(EvalPrediction(predictions=all_predictions, label_ids=all_labels)))
        metrics = {k: (v.item() if hasattr(v, "item") else v) for k, v in metrics.items()}
        if losses:
            metrics["loss"] = sum(losses) / seen
        prefixed = {
            k if k.startswith(f"{metric_key_prefix}_") else f"{metric_key_prefix}_{k}": v for k, v in metrics.items()
        }
        prefixed.update(
            speed_metrics(metric_key_prefix, start_time, num_samples=seen, num_steps=math.ceil(seen / batch_size))
        )
        return all_predictions, all_labels, prefixed

    def evaluate(
        self, eval_dataset=None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"
    ) -> dict:
        """Loss and ``compute_metrics`` on the evaluation set, keys prefixed ``eval_`` (plus speed figures).

        Example:
            >>> metrics = trainer.evaluate()  # doctest: +SKIP
            >>> sorted(metrics)  # doctest: +SKIP
            ['epoch', 'eval_accuracy', 'eval_loss', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']
        """
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if dataset is None:
            raise ConfigError("Trainer.evaluate() needs an eval_dataset (in the constructor or as an argument).")
        _, _, metrics = self._prediction_loop(dataset, "eval_dataset", ignore_keys, metric_key_prefix)
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics=metrics)
        return metrics

    def predict(
        self, test_dataset, ignore_keys: list[str] | None = None, metric_key_prefix: str = "test"
    ) -> PredictionOutput:
        """Predictions (the head's outputs but the loss), labels when present and ``test_`` metrics.

        Example:
            >>> out = trainer.predict(test)  # doctest: +SKIP
            >>> out.predictions.shape, out.label_ids.shape, out.metrics["test_loss"]  # doctest: +SKIP
        """
        predictions, label_ids, metrics = self._prediction_loop(
            test_dataset, "test_dataset", ignore_keys, metric_key_prefix
        )
        self.control = self.callback_handler.on_predict(self.args, self.state, self.control, metrics=metrics)
        return PredictionOutput(predictions=predictions, label_ids=label_ids, metrics=metrics)

    # ------------------------------------------------------------------ saving
    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Write the model (config.json + model.safetensors, PyTorch-readable) and the tokenizer, atomically.

        Example:
            >>> trainer.save_model("final")  # then transformers' AutoModel*.from_pretrained("final")  # doctest: +SKIP
        """
        output_dir = Path(output_dir if output_dir is not None else self.args.output_dir)
        # as save_pretrained: stale weight shards go, the user's other files in the folder stay
        with atomic_folder_write(output_dir, replaces=is_weights_file) as tmp:
            self._write_model_files(Path(tmp))
        if self.args.push_to_hub and not _internal_call:
            self.push_to_hub(commit_message="Model save", revision=self.args.hub_revision)

    def _write_model_files(self, folder: Path) -> None:
        self.model.save_pretrained(folder)
        if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
            self.processing_class.save_pretrained(folder)
        (folder / TRAINING_ARGS_NAME).write_text(self.args.to_json_string() + "\n", encoding="utf-8")

    def _save_checkpoint(self) -> None:
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        output = Path(self.args.output_dir) / name
        if self.args.metric_for_best_model is not None and self.state.best_global_step:
            best = Path(self.args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{self.state.best_global_step}"
            if best.is_dir() or best == output:
                self.state.best_model_checkpoint = str(best)
        self.state.stateful_callbacks = {
            type(c).__name__: c.state()
            for c in self.callback_handler.callbacks
            if hasattr(c, "state") and callable(c.state)
        }
        with atomic_folder_write(output, replaces=lambda n: True) as tmp:
            tmp = Path(tmp)
            self._write_model_files(tmp)
            if not self.args.save_only_model:
                self._save_optimizer(tmp)
                self._save_rng_state(tmp)
            # written last: its presence marks a complete checkpoint
            self.state.save_to_json(tmp / TRAINER_STATE_NAME)
        if self.args.push_to_hub:
            self._push_from_checkpoint(output)
        if self.args.save_total_limit is not None:
            self._rotate_checkpoints()

    # ------------------------------------------------------------------ the Hub
    def init_hf_repo(self, token: str | None = None) -> None:
        """Create the Hub repository pushes go to (``args.hub_model_id``, or output_dir's name); it may exist.

        Called by ``__init__`` when ``args.push_to_hub`` is set.

        Example:
            >>> trainer.init_hf_repo()
            >>> trainer.hub_model_id
            'me/my-classifier'
        """
        from kerasformers.hub_push import hub_api, hub_errors

        if not self.is_world_process_zero():
            return
        name = self.args.hub_model_id or Path(self.args.output_dir).absolute().name
        api = hub_api(token if token is not None else self.args.hub_token)
        with hub_errors(name, api.endpoint):
            self.hub_model_id = api.create_repo(name, private=self.args.hub_private_repo, exist_ok=True).repo_id

    def create_model_card(
        self,
        language: str | None = None,
        license: str | None = None,  # noqa: A002 - transformers' argument name
        tags: str | list[str] | None = None,
        model_name: str | None = None,
        finetuned_from: str | None = None,
        tasks: str | None = None,
        dataset_tags: str | list[str] | None = None,
        dataset: str | list[str] | None = None,
        dataset_args: str | list[str] | None = None,
    ) -> None:
        """Write README.md into ``args.output_dir``: metadata, hyperparameters and the evaluation results so far.

        The card already in the Hub repository (if any) is updated: its hand-written parts stay.

        Example:
            >>> trainer.create_model_card(dataset="imdb", license="apache-2.0")
        """
        from kerasformers.hub_push import download_existing_card
        from kerasformers.modelcard import build_model_card

        if not self.is_world_process_zero():
            return
        repo_id = self.hub_model_id or self.args.hub_model_id or Path(self.args.output_dir).absolute().name
        existing = None
        if self.hub_model_id is not None:
            existing = download_existing_card(
                self.hub_model_id, token=self.args.hub_token, revision=self.args.hub_revision
            )
        args = self.args
        card = build_model_card(
            self.model,
            model_name or repo_id,
            keras_history=self._card_rows(),
            language=language,
            license=license,
            tags=[tags] if isinstance(tags, str) else tags,
            finetuned_from=finetuned_from,
            tasks=tasks,
            dataset_tags=dataset_tags,
            dataset=dataset,
            dataset_args=dataset_args,
            existing=existing,
            plot_folder=args.output_dir,
            hyperparameters={
                "learning_rate": args.learning_rate,
                "train_batch_size": args.per_device_train_batch_size,
                "eval_batch_size": args.per_device_eval_batch_size,
                "gradient_accumulation_steps": args.gradient_accumulation_steps,
                "seed": args.seed,
                "optimizer": f"AdamW with betas=({args.adam_beta1},{args.adam_beta2}), epsilon={args.adam_epsilon}, "
                f"weight_decay={args.weight_decay}",
                "lr_scheduler_type": args.lr_scheduler_type.value,
                "num_epochs": args.num_train_epochs,
            },
        )
        Path(args.output_dir).mkdir(parents=True, exist_ok=True)
        card.save(Path(args.output_dir) / "README.md")

    def _card_rows(self) -> list[dict]:
        """The results table: one row per evaluation (training loss so far, eval loss, metrics), or per loss log."""
        rows, last_loss = [], None
        skip = ("runtime", "samples_per_second", "steps_per_second")
        for entry in self.state.log_history:
            if "loss" in entry:
                last_loss = entry["loss"]
            if "eval_loss" in entry or any(k.startswith("eval_") and not k.endswith(skip) for k in entry):
                row = {"epoch": max(math.ceil(entry.get("epoch", 0)) - 1, 0), "step": entry.get("step", 0)}
                if last_loss is not None:
                    row["loss"] = last_loss
                row.update(
                    {f"val_{k[5:]}": v for k, v in entry.items() if k.startswith("eval_") and not k.endswith(skip)}
                )
                rows.append(row)
        if not rows:  # no evaluation: the training loss logs
            rows = [
                {"epoch": max(math.ceil(e.get("epoch", 0)) - 1, 0), "step": e.get("step", 0), "loss": e["loss"]}
                for e in self.state.log_history
                if "loss" in e
            ]
        return rows

    def _push_from_checkpoint(self, checkpoint_folder: Path) -> None:
        """Upload the checkpoint just saved, in the background: model files copied into output_dir, then one commit.

        As transformers: skipped while the previous push is still uploading (unless ``hub_always_push``);
        the ``checkpoint`` / ``all_checkpoints`` strategies also upload the checkpoint folder itself
        (in the same commit here).
        """
        if not self.is_world_process_zero() or self.args.hub_strategy == HubStrategy.END:
            return
        if not self.args.hub_always_push and self.push_in_progress is not None and not self.push_in_progress.done():
            return
        output_dir = Path(self.args.output_dir)
        for path in checkpoint_folder.iterdir():  # the model files, not the optimizer state
            if path.is_file() and (
                path.name in ("config.json", "generation_config.json") or is_weights_file(path.name)
            ):
                shutil.copy2(path, output_dir / path.name)
        if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
            self.processing_class.save_pretrained(output_dir)
        (output_dir / TRAINING_ARGS_NAME).write_text(self.args.to_json_string() + "\n", encoding="utf-8")
        self.create_model_card()
        if self.args.save_strategy == SaveStrategy.STEPS:
            message = f"Training in progress, step {self.state.global_step}"
        else:
            message = f"Training in progress, epoch {int(round(self.state.epoch))}"
        extra = {}
        if self.args.hub_strategy == HubStrategy.CHECKPOINT:
            extra["last-checkpoint"] = checkpoint_folder
        elif self.args.hub_strategy == HubStrategy.ALL_CHECKPOINTS:
            extra[checkpoint_folder.name] = checkpoint_folder
        self._upload(message, extra, blocking=False)

    def _upload(self, commit_message: str, extra_folders: dict | None = None, blocking: bool = True, revision=None):
        """One commit of output_dir (without checkpoint-* and _* entries) plus ``extra_folders`` {path in repo: folder}.

        The files are snapshotted (hard links) first, so later saves cannot change an upload in flight.
        """
        from concurrent.futures import ThreadPoolExecutor

        from kerasformers.hub_push import link_or_copy, lower_thread_priority, push_folder, snapshot_folder

        output_dir = Path(self.args.output_dir)
        snapshot = snapshot_folder(output_dir, skip=lambda rel: rel.parts[0].startswith(("_", PREFIX_CHECKPOINT_DIR)))
        for path_in_repo, folder in (extra_folders or {}).items():
            shutil.copytree(folder, snapshot / path_in_repo, copy_function=link_or_copy, dirs_exist_ok=True)

        def upload():
            try:
                return push_folder(
                    snapshot,
                    self.hub_model_id,
                    commit_message=commit_message,
                    token=self.args.hub_token,
                    revision=revision if revision is not None else self.args.hub_revision,
                )
            finally:
                shutil.rmtree(snapshot, ignore_errors=True)

        if blocking:
            return upload()
        if self._push_executor is None:  # one worker: uploads go one after the other, in order
            self._push_executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="kerasformers-trainer-push", initializer=lower_thread_priority
            )
        self.push_in_progress = self._push_executor.submit(upload)
        return self.push_in_progress

    def _finish_current_push(self) -> None:
        """Wait for the background uploads; a failed one is logged (the next push sends the files again)."""
        if self._push_executor is None:
            return
        logger.info("Waiting for the current checkpoint push to finish...")
        self._push_executor.shutdown(wait=True)  # every queued upload, not only the latest
        self._push_executor = None
        job, self.push_in_progress = self.push_in_progress, None
        if job is not None and job.exception() is not None:
            logger.warning("A checkpoint push to %s failed: %s", self.hub_model_id, job.exception())

    def push_to_hub(
        self,
        commit_message: str | None = "End of training",
        blocking: bool = True,
        token: str | None = None,
        revision: str | None = None,
        **kwargs,
    ):
        """Save the model and processor into output_dir, write the model card and upload them as one commit.

        Returns the ``CommitInfo`` (``blocking=False``: a ``Future`` of it). ``kwargs`` go to
        :meth:`create_model_card` (``dataset``, ``license``, ``tags``, ``finetuned_from``...).

        Example:
            >>> trainer.train()
            >>> trainer.push_to_hub(commit_message="3 epochs", dataset="imdb").oid
        """
        if token is not None:
            self.args.hub_token = token
        if self.hub_model_id is None:
            self.init_hf_repo(token=token)
        self.save_model(_internal_call=True)
        if not self.is_world_process_zero():
            return None
        model_name = kwargs.pop("model_name", None)
        self.create_model_card(model_name=model_name, **kwargs)
        self._finish_current_push()
        return self._upload(commit_message or "End of training", blocking=blocking, revision=revision)

    def _optimizer_variables(self):
        return list(self.optimizer.variables)

    def _save_optimizer(self, folder: Path) -> None:
        arrays = {f"{i:05d}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self._optimizer_variables())}
        paths = [v.path for v in self._optimizer_variables()]
        np.savez(folder / OPTIMIZER_NAME, paths=np.array(paths), **arrays)
        schedule = self.lr_scheduler.get_config() if hasattr(self.lr_scheduler, "get_config") else None
        (folder / SCHEDULER_NAME).write_text(
            json.dumps({"step": self.state.global_step, "schedule": schedule}, indent=2) + "\n", encoding="utf-8"
        )

    def _seed_generators(self) -> list:
        found, seen = [], set()
        for layer in self.model._flatten_layers(include_self=True, recursive=True):
            for generator in getattr(layer, "_seed_generators", []) or []:
                if id(generator) not in seen:
                    seen.add(id(generator))
                    found.append(generator)
        from keras.src.random.seed_generator import global_seed_generator

        try:
            found.append(global_seed_generator())
        except Exception:  # noqa: BLE001 - a backend without a global generator
            pass
        return found

    def _save_rng_state(self, folder: Path) -> None:
        import tensorflow as tf

        python_state = random.getstate()
        numpy_state = np.random.get_state()
        arrays = {
            "python": np.array(json.dumps([python_state[0], list(python_state[1]), python_state[2]])),
            "numpy_keys": numpy_state[1],
            "numpy_meta": np.array([numpy_state[2], numpy_state[3], numpy_state[4]], dtype=np.float64),
            "tf_generator": tf.random.get_global_generator().state.numpy(),
        }
        for i, generator in enumerate(self._seed_generators()):
            arrays[f"seed_{i:05d}"] = keras.ops.convert_to_numpy(generator.state)
        np.savez(folder / RNG_STATE_NAME, **arrays)

    def _load_checkpoint(self, checkpoint: str) -> None:
        folder = Path(checkpoint)
        load_checkpoint_into_model(self.model, folder)
        self.state = TrainerState.load_from_json(folder / TRAINER_STATE_NAME)
        if (folder / OPTIMIZER_NAME).is_file():
            with np.load(folder / OPTIMIZER_NAME) as saved:
                variables = self._optimizer_variables()
                if len(saved.files) - 1 != len(variables):
                    raise ConfigError(
                        f"The optimizer state in {folder} holds {len(saved.files) - 1} variables, this optimizer "
                        f"{len(variables)}: resume with the same model and optimizer settings."
                    )
                for i, variable in enumerate(variables):
                    variable.assign(saved[f"{i:05d}"])
        if (folder / RNG_STATE_NAME).is_file():
            import tensorflow as tf

            with np.load(folder / RNG_STATE_NAME) as saved:
                version, internal, gauss = json.loads(str(saved["python"]))
                random.setstate((version, tuple(internal), gauss))
                meta = saved["numpy_meta"]
                np.random.set_state(("MT19937", saved["numpy_keys"], int(meta[0]), int(meta[1]), float(meta[2])))
                tf.random.get_global_generator().reset(saved["tf_generator"])
                for i, generator in enumerate(self._seed_generators()):
                    key = f"seed_{i:05d}"
                    if key in saved.files:
                        generator.state.assign(saved[key])
        for callback in self.callback_handler.callbacks:
            saved_state = (self.state.stateful_callbacks or {}).get(type(callback).__name__)
            if saved_state and hasattr(callback, "state"):
                for key, value in saved_state.get("attributes", {}).items():
                    setattr(callback, key, value)

    def _rotate_checkpoints(self) -> None:
        limit = self.args.save_total_limit
        checkpoints = sorted_checkpoints(self.args.output_dir)
        best = self.state.best_model_checkpoint
        if limit == 1 and self.args.load_best_model_at_end and best and checkpoints and str(checkpoints[-1]) != best:
            limit = 2  # keep the best and the last (to resume)
        if len(checkpoints) <= limit:
            return
        # the best checkpoint always stays; the newest fill the rest of the limit
        keep = {str(best)} if best is not None and Path(best) in checkpoints else set()
        for path in reversed(checkpoints):
            if len(keep) >= limit:
                break
            keep.add(str(path))
        doomed = [c for c in checkpoints if str(c) not in keep]
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)

    # ------------------------------------------------------------------ misc (transformers' names)
    def get_train_dataloader(self):
        """The training batches of the first epoch, collated (a list of dicts of arrays)."""
        source = self._row_source(self.train_dataset, "train_dataset")
        shuffle = self.args.train_sampling_strategy == "random"
        batches = self._epoch_batches(
            len(source), self.args.train_batch_size, 0, shuffle, self.args.dataloader_drop_last
        )
        return [self._collate(source.rows(b)) for b in batches]

    def is_world_process_zero(self) -> bool:
        return True

    def is_local_process_zero(self) -> bool:
        return True
