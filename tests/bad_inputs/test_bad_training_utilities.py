"""Bad arguments to the optimization_tf and keras_callbacks names: one clear error each, nothing half-done."""

import numpy as np
import pytest
import tensorflow as tf

from kerasformers.errors import KerasformersError
from kerasformers.keras_callbacks import KerasMetricCallback
from kerasformers.optimization_tf import AdamWeightDecay, GradientAccumulator, WarmUp, create_optimizer

FEATURES = {"input_ids": np.array([[5, 6, 7], [8, 9, 10], [11, 12, 13]], np.int32)}
LABELS = np.array([0, 1, 2])


def accuracy(eval_predictions):
    logits, labels = eval_predictions
    return {"accuracy": float(np.mean(np.argmax(logits, -1) == labels))}


# (callable making the bad call, exception (a stdlib type, as transformers raised), words the message must hold)
BAD_CALLS = {
    "no decay steps left": (
        lambda: create_optimizer(1e-3, num_train_steps=10, num_warmup_steps=10),
        ValueError,
        ["num_warmup_steps < num_train_steps", "num_train_steps=10", "batches per epoch * epochs"],
    ),
    "negative warmup": (lambda: create_optimizer(1e-3, 10, -1), ValueError, ["num_warmup_steps=-1"]),
    "zero warmup steps": (
        lambda: WarmUp(1e-3, lambda step: 1e-3, warmup_steps=0),
        ValueError,
        ["warmup_steps > 0", "decay schedule itself"],
    ),
    "schedule not callable": (lambda: WarmUp(1e-3, 0.5, warmup_steps=3), TypeError, ["decay_schedule_fn", "float"]),
    "bad exclusion pattern": (
        lambda: AdamWeightDecay(weight_decay_rate=0.1, exclude_from_weight_decay=["LayerNorm("]),
        ValueError,
        ["exclude_from_weight_decay", "'LayerNorm('", "regular expression"],
    ),
    "accumulator read before use": (
        lambda: GradientAccumulator().gradients,
        ValueError,
        ["no gradients yet", "call it with a list of gradients first"],
    ),
    "metric_fn not callable": (
        lambda: KerasMetricCallback({"accuracy": 1.0}, (FEATURES, LABELS), batch_size=2),
        TypeError,
        ["metric_fn", "dict"],
    ),
    "arrays without batch_size": (
        lambda: KerasMetricCallback(accuracy, (FEATURES, LABELS)),
        ValueError,
        ["batch_size", "tf.data.Dataset", "prepare_tf_dataset"],
    ),
    "label_cols not in features": (
        lambda: KerasMetricCallback(
            accuracy, tf.data.Dataset.from_tensor_slices(FEATURES).batch(2), label_cols=["gold"]
        ),
        ValueError,
        ["label_cols ['gold']", "['input_ids']"],
    ),
    "no labels anywhere": (
        lambda: KerasMetricCallback(accuracy, tf.data.Dataset.from_tensor_slices(FEATURES).batch(2)),
        ValueError,
        ["could not find the labels", "(features, labels)", "label_cols"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_refused_with_one_clear_error(case):
    make_call, error, words = BAD_CALLS[case]
    with pytest.raises(error) as info:
        make_call()
    assert isinstance(info.value, KerasformersError)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_gradient_accumulator_refuses_another_number_of_gradients():
    accumulator = GradientAccumulator()
    accumulator([tf.constant([1.0]), tf.constant([2.0])])
    with pytest.raises(ValueError) as info:
        accumulator([tf.constant([1.0])])
    assert isinstance(info.value, KerasformersError) and "expected 2 gradients" in str(info.value)
    assert int(accumulator.step) == 1 and float(accumulator.gradients[0][0]) == 1.0  # unchanged


@pytest.mark.parametrize(
    "case, words",
    [
        ("metric_fn returns a number", ["should return a dict", "0.5"]),
        ("output_cols not in outputs", ["output_cols ['scores']", "logits"]),
    ],
)
def test_metric_callback_failure_leaves_logs_unchanged(tiny_bert_classifier, case, words):
    if case == "metric_fn returns a number":
        callback = KerasMetricCallback(lambda eval_predictions: 0.5, (FEATURES, LABELS), batch_size=2)
    else:
        callback = KerasMetricCallback(accuracy, (FEATURES, LABELS), batch_size=2, output_cols=["scores"])
    callback.set_model(tiny_bert_classifier)
    logs = {"loss": 1.0}
    with pytest.raises((TypeError, ValueError)) as info:
        callback.on_epoch_end(0, logs)
    assert isinstance(info.value, KerasformersError)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert logs == {"loss": 1.0}
