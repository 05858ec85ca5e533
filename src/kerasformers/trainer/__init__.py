"""Trainer: transformers' ``Trainer`` / ``TrainingArguments`` API on Keras, with its own compiled step.

Why not ``model.fit()``: transformers' Trainer is a loop users reach into (``compute_loss``
overrides, callbacks that stop, log, evaluate and save between optimizer steps, resuming in the
middle of an epoch with the same data order and learning rate, gradient accumulation with the
loss normalised over the accumulated batch). Keras' ``fit()`` fixes those points (one loss
signature, its own epochs and callbacks, no mid-epoch resume), so the Trainer runs its own loop:

- One ``tf.function`` per step (XLA with ``jit_compile=True``, the default): it calls
  ``self.compute_loss(model, inputs, return_outputs=False, num_items_in_batch=...)`` under
  ``GradientTape``, so an override written with ``keras.ops`` / ``keras.losses`` runs compiled.
  Batches are padded up to ``TrainingArguments.length_buckets`` so shapes repeat and XLA
  compiles a few programs rather than one per batch length.
- Gradient accumulation: each micro-batch's loss (the model's mean over the micro-batch) is
  divided by the number of micro-batches in the update, as transformers 5.23 does for a model
  whose forward does not take ``num_items_in_batch``, so accumulation 2 at batch 8 gives the
  update of batch 16. Gradients are summed in variables, clipped by global norm
  (``max_grad_norm``, PyTorch's ``clip_grad_norm_`` rule) and applied once.
- The optimizer is PyTorch's AdamW (:class:`~kerasformers.trainer.optimization.AdamW`):
  decoupled decay ``p -= lr * weight_decay * p`` on all but biases and normalisation weights
  (transformers' ``get_decay_parameter_names``: by layer type and by name), epsilon after the
  bias correction. Schedules (:func:`get_scheduler`) are transformers' formulas as Keras schedules.
- The data loop is in Python: a ``datasets.Dataset`` (columns the model does not take are
  dropped), a dict of arrays or a list of dicts, read by row index in an order drawn from
  ``(data_seed or seed, epoch)``: a resumed run re-creates the epoch's order and skips the
  batches already trained.
- Checkpoints ``output_dir/checkpoint-<step>/`` are written with ``atomic_folder_write``: model
  (config.json + model.safetensors, PyTorch-readable), tokenizer, ``optimizer.npz`` (the Keras
  optimizer's variables, its step count included, which drives the schedule),
  ``scheduler.json``, ``rng_state.npz`` (Python, NumPy, TF and Keras seed generators) and
  ``trainer_state.json`` (transformers' fields).

Example:
    >>> from kerasformers.trainer import Trainer, TrainingArguments
    >>> args = TrainingArguments("out", learning_rate=2e-5, num_train_epochs=3, eval_strategy="epoch")
    >>> trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,  # doctest: +SKIP
    ...                   processing_class=tokenizer, compute_metrics=compute_metrics)
    >>> trainer.train()  # doctest: +SKIP
"""

from kerasformers.trainer.callbacks import (
    CallbackHandler,
    DefaultFlowCallback,
    EarlyStoppingCallback,
    PrinterCallback,
    ProgressCallback,
    TensorBoardCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
)
from kerasformers.trainer.optimization import AdamW, TransformersSchedule, get_scheduler
from kerasformers.trainer.trainer import Trainer
from kerasformers.trainer.training_args import (
    HubStrategy,
    IntervalStrategy,
    SaveStrategy,
    SchedulerType,
    TrainingArguments,
)
from kerasformers.trainer.utils import (
    PREFIX_CHECKPOINT_DIR,
    EvalPrediction,
    PredictionOutput,
    TrainOutput,
    get_last_checkpoint,
)

__all__ = [
    "PREFIX_CHECKPOINT_DIR",
    "CallbackHandler",
    "DefaultFlowCallback",
    "EarlyStoppingCallback",
    "EvalPrediction",
    "HubStrategy",
    "IntervalStrategy",
    "PredictionOutput",
    "PrinterCallback",
    "ProgressCallback",
    "SaveStrategy",
    "SchedulerType",
    "TensorBoardCallback",
    "TrainOutput",
    "Trainer",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
    "TrainingArguments",
    "get_last_checkpoint",
    "get_scheduler",
]
