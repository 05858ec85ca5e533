"""Keras training for every model: compile() without a loss, labels wherever Keras users put them.

:class:`KerasTrainingMixin` is mixed into :class:`~kerasformers.TFPreTrainedModel`. It knows
no architecture: a head's label arguments are the ``call`` parameters named like labels
(``labels``, ``start_positions``, ``end_positions``, ...), or the names a head declares in its
``label_names`` class attribute.

- ``compile()`` with no loss (or ``loss="auto"``) trains on the loss the model computes itself
  from its labels (``outputs.loss``), as transformers' TensorFlow models did. An explicit Keras
  loss is used as given, on the head's main output (``logits``). ``loss=None`` turns the
  default off: only losses added with ``add_loss`` remain.
- Labels may come as ``fit(x, y)`` with ``y`` an array or a dict (``{"labels": ...}`` or
  ``{"start_positions": ..., "end_positions": ...}``), as ``(x, y)`` or ``(x, y, sample_weight)``
  from a ``tf.data.Dataset``, or inside the ``x`` dict (older code). The loss is the same
  either way.
- Keras metrics (``metrics=["accuracy"]``) compare the labels with the head's main output
  (``logits``; for question answering ``[start_logits, end_logits]``).
- ``sample_weight`` weights metrics and explicit losses. The default loss is the model's own
  mean over its labels (transformers' definition); to weight examples in the loss, pass
  per-token ``-100`` labels or an explicit loss.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
from keras import ops

from kerasformers.errors import TrainingDataError
from kerasformers.input_checks import validate_labels_dtype

# call parameters that carry labels (transformers' names)
LABEL_ARGUMENTS = (
    "labels",
    "start_positions",
    "end_positions",
    "next_sentence_label",
    "sentence_order_label",
    "mc_labels",
)
DEFAULT_LOSS_NAMES = ("auto", "auto_with_warning", "passthrough")


def _is_default_loss(loss) -> bool:
    return isinstance(loss, str) and loss in DEFAULT_LOSS_NAMES


def _leading_sizes(value, name: str) -> dict[str, int]:
    sizes = {}
    if value is None:
        return sizes
    if isinstance(value, Mapping):
        for key, item in value.items():
            sizes.update(_leading_sizes(item, f"{name}[{key!r}]"))
        return sizes
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) and shape[0] is not None:
        sizes[name] = int(shape[0])
    elif isinstance(value, (list, tuple)) and value and not isinstance(value[0], (str, bytes)):
        if all(hasattr(v, "shape") or isinstance(v, (list, tuple)) for v in value) and name == "x":
            for i, item in enumerate(value):
                sizes.update(_leading_sizes(item, f"x[{i}]"))
        else:
            sizes[name] = len(value)
    return sizes


def _is_tf_dataset(x) -> bool:
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "element_spec")


def check_same_length(x, y=None, sample_weight=None) -> None:
    """Raise one clear error when in-memory inputs, labels and sample weights differ in length.

    Example:
        >>> check_same_length({"input_ids": np.zeros((4, 7))}, np.zeros(3))
        Traceback (most recent call last):
        kerasformers.errors.TrainingDataError: x and y hold different numbers of examples: ...
    """
    if x is None or not (isinstance(x, (Mapping, list, tuple)) or hasattr(x, "shape")):
        return  # a tf.data.Dataset, a generator or a PyDataset: batches carry their own labels
    sizes = {**_leading_sizes(x, "x"), **_leading_sizes(y, "y"), **_leading_sizes(sample_weight, "sample_weight")}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{name}: {size}" for name, size in sizes.items())
        raise TrainingDataError(
            f"x and y hold different numbers of examples: {detail}. Give one label per "
            "example (tokenize and label the same list of texts)."
        )


class KerasTrainingMixin:
    """Default losses, label routing and the train/test steps of every kerasformers model.

    Example:
        >>> model = TFAutoModelForSequenceClassification.from_pretrained(ckpt, num_labels=2)
        >>> model.compile(optimizer=keras.optimizers.Adam(3e-5), metrics=["accuracy"])  # no loss
        >>> model.fit(dict(tokenizer(texts, return_tensors="np", padding=True)), labels)
    """

    # A head may list its label arguments; by default they are found in its call signature.
    label_names: tuple[str, ...] | None = None
    _uses_default_loss = True

    @classmethod
    def get_label_names(cls) -> tuple[str, ...]:
        """The label arguments of this head, e.g. ``("start_positions", "end_positions")``.

        Example:
            >>> TFBertForQuestionAnswering.get_label_names()
            ('start_positions', 'end_positions')
        """
        if cls.label_names is not None:
            return tuple(cls.label_names)
        return tuple(p for p in cls._call_parameters() if p in LABEL_ARGUMENTS)

    # ---------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss="auto", metrics=None, **kwargs):
        """Keras ``compile``; without a loss the model trains on its own task loss.

        ``loss="auto"`` (the default) uses the loss the head computes from its labels;
        any Keras loss is used as given on the head's main output; ``loss=None`` means no
        loss beyond those added with ``add_loss``.

        Example:
            >>> model.compile(optimizer=keras.optimizers.Adam(3e-5), metrics=["accuracy"])
            >>> model.compile(optimizer="adam", jit_compile=True)
        """
        self._uses_default_loss = _is_default_loss(loss)
        self._xla_gradients = None  # the per-replica XLA step traced for the previous optimizer
        super().compile(optimizer=optimizer, loss=None if self._uses_default_loss else loss, metrics=metrics, **kwargs)
        if self._uses_default_loss:
            self._compile_config.config["loss"] = "auto"  # a reloaded model compiles the same way

    def compile_from_config(self, config):
        """Compile a reloaded ``.keras`` model as it was compiled (the default loss included)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    # ---------------------------------------------------------------- labels
    def split_labels(self, x, y=None):
        """Separate a batch into (model inputs, {label name: labels}), wherever the labels are.

        Example:
            >>> features, labels = model.split_labels({"input_ids": ids, "labels": y})
            >>> features, labels = model.split_labels({"input_ids": ids}, y)  # the same result
        """
        names = self.get_label_names()
        labels = {}
        features = dict(x) if isinstance(x, Mapping) else x
        if isinstance(features, dict):
            if "label" in features and "labels" in names and "labels" not in features:
                features["labels"] = features.pop("label")
            for name in names:
                if name in features:
                    labels[name] = features.pop(name)
        if y is None:
            return features, labels
        if not names:
            raise TrainingDataError(
                f"{type(self).__name__} takes no labels (it has no training objective); "
                "use a task head, e.g. a *ForSequenceClassification model."
            )
        if isinstance(y, Mapping):
            y = dict(y)
            if "label" in y and "labels" in names and "labels" not in y:
                y["labels"] = y.pop("label")
            unknown = sorted(set(y) - set(names))
            if unknown:
                raise TrainingDataError(
                    f"Unknown label keys {unknown} for {type(self).__name__}; its labels are {list(names)}."
                )
            for name, value in y.items():
                if name in labels:
                    raise TrainingDataError(f"Labels {name!r} given both in x and in y.")
                labels[name] = value
        elif isinstance(y, (list, tuple)) and len(names) > 1 and len(y) == len(names):
            labels.update(zip(names, y))
        else:
            if len(names) > 1:
                raise TrainingDataError(
                    f"{type(self).__name__} takes several labels {list(names)}: give y "
                    f"as a dict, e.g. {{{', '.join(repr(n) + ': ...' for n in names)}}}."
                )
            if names[0] in labels:
                raise TrainingDataError(f"Labels {names[0]!r} given both in x and in y.")
            labels[names[0]] = y
        return features, labels

    def _targets(self, labels: dict):
        names = [n for n in self.get_label_names() if n in labels]
        if not names:
            return None
        return labels[names[0]] if len(names) == 1 else [labels[n] for n in names]

    @staticmethod
    def _predictions(y_pred, count: int):
        """The head's main output(s) for Keras losses and metrics: ``logits`` first."""
        if not isinstance(y_pred, Mapping):
            return y_pred
        values = [v for k, v in y_pred.items() if k != "loss" and v is not None]
        return values[0] if count <= 1 else values[:count]

    def _forward(self, features, labels, training):
        if self._uses_default_loss and labels:
            return self(features, training=training, **labels)
        return self(features, training=training)

    # ---------------------------------------------------------------- loss and metrics
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The training loss: the model's own ``outputs.loss`` under the default, else Keras'.

        Example:
            >>> out = model(batch_with_labels)
            >>> model.compute_loss(batch_with_labels, None, out)  # == out.loss (+ add_loss terms)
        """
        features, labels = self.split_labels(x, y)
        if self._uses_default_loss:
            loss = y_pred.get("loss") if isinstance(y_pred, Mapping) else None
            if loss is None:
                raise TrainingDataError(
                    f"{type(self).__name__} computed no loss: the batch has no labels. Give them as y "
                    f"(model.fit(x, y)), as (x, y) from a tf.data.Dataset, or inside x under "
                    f"{list(self.get_label_names())}; or compile with an explicit loss."
                )
            total = ops.cast(loss, "float32")
            for extra in self.losses:
                total = total + ops.cast(self._aggregate_additional_loss(extra), "float32")
            return total
        if self._compile_loss is None and not self.losses:
            raise TrainingDataError(
                "compile(loss=None) turns the model's default loss off and gives no other. Call "
                "compile() without `loss` to train on the model's own loss, or pass a Keras loss."
            )
        targets = self._targets(labels)
        return super().compute_loss(
            features, targets, self._predictions(y_pred, len(labels)), sample_weight, training=training
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Keras metrics against the head's main output (``logits``), wherever labels came from."""
        features, labels = self.split_labels(x, y)
        if self._compile_metrics is None or not labels:
            return self.get_metrics_result()
        return super().compute_metrics(
            features, self._targets(labels), self._predictions(y_pred, len(labels)), sample_weight
        )

    # ---------------------------------------------------------------- fit
    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras ``fit``; in-memory inputs and labels are checked to hold as many examples first.

        Example:
            >>> model.fit(dict(tokenizer(texts, return_tensors="np", padding=True)), labels, epochs=2)
        """
        self._check_in_memory_data(x, y, kwargs.get("sample_weight"))
        if _is_tf_dataset(x) and not args:
            kwargs.setdefault("shuffle", False)  # tf.data shuffles itself (prepare_tf_dataset does)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Keras ``evaluate``, with the same up-front checks of in-memory data as ``fit``."""
        self._check_in_memory_data(x, y, kwargs.get("sample_weight"))
        return super().evaluate(x, y, *args, **kwargs)

    def _check_in_memory_data(self, x, y, sample_weight) -> None:
        """Lengths, ids and label types of arrays in memory, before Keras builds its pipeline."""
        check_same_length(x, y, sample_weight)
        if isinstance(x, Mapping):
            features, labels = self.split_labels(x, y)
            self.validate_inputs(features)
            validate_labels_dtype(labels)

    # ---------------------------------------------------------------- steps (TensorFlow backend)
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' build-before-fit under a strategy, given one replica's batch.

        Keras reduces the first distributed batch with ``strategy.reduce`` to learn its shapes; a
        MultiWorkerMirroredStrategy cannot reduce a nest (a dict of PerReplica values) and fails
        with "Attempt to convert a value ... to a Tensor". Shapes and dtypes are all the build
        needs, so the first local replica's tensors are passed instead (no collective involved).
        Without a strategy this is Keras' own method, unchanged.
        """
        strategy = getattr(self, "_distribute_strategy", None)
        if keras.backend.backend() != "tensorflow" or strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        import tensorflow as tf

        for _, _, batches in iterator:  # Keras' own way of peeking at the first batch
            data_batch = next(batches)
            break
        if all(isinstance(v, tf.distribute.DistributedValues) for v in keras.tree.flatten(data_batch)):
            data_batch = keras.tree.map_structure(lambda v: strategy.experimental_local_results(v)[0], data_batch)
        return super()._maybe_symbolic_build(data_batch=data_batch)

    @staticmethod
    def _batch_size(features):
        import tensorflow as tf

        first = next(t for t in keras.tree.flatten(features) if t is not None)
        return tf.shape(first)[0]

    def train_step(self, *args):
        if keras.backend.backend() == "jax":  # Keras' JAX trainer: train_step(state, data), stateless
            return super().train_step(*args)
        import tensorflow as tf

        (data,) = args
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        features, labels = self.split_labels(x, y)
        if getattr(self, "_jit_per_replica", False):
            return self._train_step_xla_per_replica(features, labels, sample_weight)
        with tf.GradientTape() as tape:
            y_pred = self._forward(features, labels, training=True)
            loss = self._compute_loss(
                x=features, y=labels or None, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            share, tracked, weight = self._distributed_loss(loss, features, labels)
            self._loss_tracker.update_state(tracked, sample_weight=weight)
            loss = loss * share
            if self.optimizer is not None:
                loss = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        gradients = tape.gradient(loss, weights)
        pairs = [(g, w) for g, w in zip(gradients, weights) if g is not None]
        self.optimizer.apply_gradients(pairs)
        return self._step_logs(self.compute_metrics(features, labels or None, y_pred, sample_weight=sample_weight))

    def _make_function(self, step_function, **kwargs):
        """Keras' step function; with ``jit_compile`` under a strategy of several replicas, the
        XLA compilation moves inside each replica.

        Keras compiles the whole multi-replica step as one XLA cluster placed on the first device,
        which cannot read the other replicas' variables ("Trying to access resource ... located in
        device CPU:1 from device CPU:0"; a plain keras.Sequential fails the same way). Here each
        replica's forward and backward pass is one XLA function on its own device, and the
        cross-replica sums and the optimizer update run around it. TPUStrategy keeps Keras' way.
        """
        if keras.backend.backend() != "tensorflow":  # JAX's trainer passes concatenate_outputs= (predict)
            return super()._make_function(step_function, **kwargs)
        import tensorflow as tf

        strategy = getattr(self, "_distribute_strategy", None)
        self._jit_per_replica = bool(
            strategy is not None
            and self.jit_compile
            and strategy.num_replicas_in_sync > 1
            and not isinstance(strategy, tf.distribute.TPUStrategy)
        )
        if not self._jit_per_replica:
            return super()._make_function(step_function)
        self._jit_compile = False
        try:
            return super()._make_function(step_function)
        finally:
            self._jit_compile = True

    def _train_step_xla_per_replica(self, features, labels, sample_weight):
        """One replica's train step with its forward and backward pass as one XLA function."""
        import tensorflow as tf

        if getattr(self, "_xla_gradients", None) is None:

            def loss_and_gradients(features, labels, sample_weight):
                with tf.GradientTape() as tape:
                    y_pred = self._forward(features, labels, training=True)
                    loss = self._compute_loss(
                        x=features, y=labels or None, y_pred=y_pred, sample_weight=sample_weight, training=True
                    )
                    scaled = self.optimizer.scale_loss(loss) if self.optimizer is not None else loss
                return loss, y_pred, tape.gradient(scaled, self.trainable_weights)

            self._xla_gradients = tf.function(loss_and_gradients, jit_compile=True)
        loss, y_pred, gradients = self._xla_gradients(features, labels, sample_weight)
        share, tracked, weight = self._distributed_loss(loss, features, labels)
        self._loss_tracker.update_state(tracked, sample_weight=weight)
        pairs = [(g * tf.cast(share, g.dtype), w) for g, w in zip(gradients, self.trainable_weights) if g is not None]
        self.optimizer.apply_gradients(pairs)
        return self._step_logs(self.compute_metrics(features, labels or None, y_pred, sample_weight=sample_weight))

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            return super().test_step(*args)
        (data,) = args
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        features, labels = self.split_labels(x, y)
        y_pred = self._forward(features, labels, training=False)
        loss = self._compute_loss(
            x=features, y=labels or None, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        _, tracked, weight = self._distributed_loss(loss, features, labels)
        self._loss_tracker.update_state(tracked, sample_weight=weight)
        return self._step_logs(self.compute_metrics(features, labels or None, y_pred, sample_weight=sample_weight))

    @staticmethod
    def _step_logs(logs):
        """A step's logs, with scalars as shape-[1] vectors under a multi-worker strategy.

        Keras reduces each log of a multi-worker step with ``strategy.reduce("MEAN", v, axis=0)``,
        which rejects scalars ("Invalid reduction dimension 0 for input with 0 dimensions"); a
        one-element vector is reduced to the mean over replicas, a scalar, as on one machine.
        """
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
        multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        if not (multi_worker and strategy.extended._in_multi_worker_mode()):
            return logs
        return keras.tree.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, logs)

    # ---------------------------------------------------------------- steps (JAX backend)
    def stateless_call(self, trainable_variables, non_trainable_variables, *args, return_losses=False, **kwargs):
        """Keras' ``stateless_call``, taking a batch dict as ``model(batch)`` does (JAX's trainer passes one).

        Example:
            >>> outputs, _ = model.stateless_call(model.trainable_variables, model.non_trainable_variables, batch)
        """
        if args and isinstance(args[0], Mapping):
            batch = dict(args[0])
            kwargs = {**{k: v for k, v in batch.items() if k != self.main_input_name}, **kwargs}
            args = (batch.get(self.main_input_name), *args[1:])
        return super().stateless_call(
            trainable_variables, non_trainable_variables, *args, return_losses=return_losses, **kwargs
        )

    def compute_loss_and_updates(
        self,
        trainable_variables,
        non_trainable_variables,
        metrics_variables,
        x,
        y,
        sample_weight,
        training=False,
        optimizer_variables=None,
    ):
        """Keras' stateless JAX loss step, with the labels routed into ``call`` under the default loss.

        Under the default loss the model computes its own loss from labels given to ``call``
        (as ``_forward`` does on TensorFlow): the labels, wherever they came from, join the
        input dict. Otherwise the model sees only its inputs and Keras' loss gets the labels.
        """
        features, labels = self.split_labels(x, y)
        if self._uses_default_loss and labels:
            if not isinstance(features, Mapping):
                features = {self.main_input_name: features}
            x, y = {**features, **labels}, None
        else:
            x, y = features, (labels or None)
        return super().compute_loss_and_updates(
            trainable_variables,
            non_trainable_variables,
            metrics_variables,
            x,
            y,
            sample_weight,
            training=training,
            optimizer_variables=optimizer_variables,
        )

    def _distributed_loss(self, loss, features, labels):
        """(factor for the loss to differentiate, loss to report, its weight) for this replica.

        One replica: the loss itself, weighted by the batch size. Under a ``tf.distribute`` strategy
        with several replicas, gradients are summed across replicas, so the model's own loss (a mean
        over this replica's counted labels: tokens not -100, or examples) is scaled by this
        replica's share of the global count, which makes the sum the mean over the global batch, as
        one device computes it. Keras losses (compile(loss=...)) already scale by 1/replicas; the
        reported value is unscaled, as Keras' own train step does. The factor is 1.0 but for the
        model's own loss under several replicas (then this replica's share of the global count).
        """
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = self._batch_size(features)
        if context is None or replicas == 1:
            return 1.0, loss, batch
        if not self._uses_default_loss:
            return 1.0, loss * replicas, batch
        first = next((v for v in keras.tree.flatten(labels) if v is not None), None) if labels else None
        if first is not None and first.dtype.is_integer and first.shape.rank is not None and first.shape.rank >= 2:
            local = tf.reduce_sum(tf.cast(tf.not_equal(first, -100), tf.float32))  # token-level labels
        else:
            local = tf.cast(batch, tf.float32)
        total = context.all_reduce(tf.distribute.ReduceOp.SUM, local)
        share = local / tf.maximum(total, 1.0)
        # Reported: sum over replicas of (loss * share * replicas) * (global batch / replicas) / global
        # batch = the global mean; weighted by the global batch so epochs average over examples.
        global_batch = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(batch, tf.float32))
        return share, loss * share * replicas, global_batch / replicas

    def predict_step(self, *args):
        if keras.backend.backend() == "jax":
            state, data = args
            x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
            features, _ = self.split_labels(x)
            outputs, non_trainable = self.stateless_call(*state, features, training=False)
            return self._predicted_outputs(outputs), non_trainable
        (data,) = args
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        features, _ = self.split_labels(x)
        return self._predicted_outputs(self(features, training=False))

    @staticmethod
    def _predicted_outputs(outputs):
        if isinstance(outputs, Mapping):  # plain dict of tensors: Keras concatenates batches
            return {
                k: v for k, v in outputs.items() if k != "loss" and v is not None and not isinstance(v, (tuple, list))
            }
        return outputs
