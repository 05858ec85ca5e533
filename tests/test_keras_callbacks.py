"""KerasMetricCallback (transformers' keras_callbacks) on tiny kerasformers models.

transformers 5.23 has no TensorFlow side: the expected values are the metric computed directly
from model.predict / model.generate on the same data, and the -100 padding of sequences of
different lengths that 4.57's KerasMetricCallback._concatenate_batches documents
(src/transformers/keras_callbacks.py).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasformers
from kerasformers.keras_callbacks import KerasMetricCallback
from kerasformers.models.bert.configuration_bert import BertConfig
from kerasformers.models.llama.configuration_llama import LlamaConfig

TINY_BERT = dict(
    vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64,
)  # fmt: skip
TINY_LLAMA = dict(
    vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=64, bos_token_id=1, eos_token_id=2, pad_token_id=0,
)  # fmt: skip


@pytest.fixture(scope="module")
def classifier():
    model = kerasformers.TFBertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=2))
    model.build_with_dummy_inputs()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))  # the model's own loss
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    x = {"input_ids": rng.randint(3, 99, (10, 6)).astype(np.int32), "attention_mask": np.ones((10, 6), np.int32)}
    return x, rng.randint(0, 2, 10).astype(np.int64)


def accuracy_and_logit(eval_predictions):
    logits, labels = eval_predictions
    return {
        "accuracy": float(np.mean(np.argmax(logits, -1) == labels)),
        "true_logit": float(np.mean(logits[np.arange(len(labels)), labels])),  # continuous: any change shows
    }


def test_metric_in_logs_history_and_early_stopping(classifier, data):
    x, y = data
    eval_dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)  # 4 + 4 + 2: a smaller last batch
    seen = []

    def metric_fn(eval_predictions):
        seen.append(eval_predictions)
        # a score that never improves: EarlyStopping(patience=1) must stop after the second epoch
        return {**accuracy_and_logit(eval_predictions), "never_better": -float(len(seen))}

    callbacks = [
        KerasMetricCallback(metric_fn=metric_fn, eval_dataset=eval_dataset),
        keras.callbacks.EarlyStopping(monitor="never_better", mode="max", patience=1),
    ]
    history = classifier.fit(x, y, batch_size=5, epochs=4, verbose=0, callbacks=callbacks)
    assert len(history.history["loss"]) == 2 == len(seen)  # stopped early, on our metric
    assert history.history["never_better"] == [-1.0, -2.0]
    # the last epoch's metric is the metric of model.predict on the same data (weights unchanged since)
    logits = classifier.predict(x, verbose=0)["logits"]
    np.testing.assert_allclose(seen[-1][0], logits, atol=1e-5)
    np.testing.assert_array_equal(seen[-1][1], y)
    expected = accuracy_and_logit((logits, y))
    assert history.history["accuracy"][-1] == pytest.approx(expected["accuracy"])
    assert history.history["true_logit"][-1] == pytest.approx(expected["true_logit"], abs=1e-5)


@pytest.mark.parametrize("form", ["labels_in_features", "label_cols", "arrays_with_batch_size", "prepare_tf_dataset"])
def test_dataset_forms_give_the_same_metric(classifier, data, form):
    x, y = data
    if form == "labels_in_features":
        callback = KerasMetricCallback(
            accuracy_and_logit, tf.data.Dataset.from_tensor_slices({**x, "labels": y}).batch(3)
        )
    elif form == "label_cols":
        features = {**x, "answer": y}
        callback = KerasMetricCallback(
            accuracy_and_logit, tf.data.Dataset.from_tensor_slices(features).batch(4), label_cols=["answer"]
        )
    elif form == "arrays_with_batch_size":
        callback = KerasMetricCallback(accuracy_and_logit, (x, y), batch_size=3)
    else:
        import datasets

        rows = datasets.Dataset.from_dict({"input_ids": x["input_ids"].tolist(), "label": y.tolist()})
        callback = KerasMetricCallback(
            accuracy_and_logit, classifier.prepare_tf_dataset(rows, batch_size=4, shuffle=False)
        )
    callback.set_model(classifier)
    logs = {"loss": 1.0}
    callback.on_epoch_end(0, logs)
    expected = accuracy_and_logit((classifier.predict(x, verbose=0)["logits"], y))
    assert logs["loss"] == 1.0 and logs["accuracy"] == pytest.approx(expected["accuracy"])
    assert logs["true_logit"] == pytest.approx(expected["true_logit"], abs=1e-5)


def test_output_cols_and_concatenation_padding():
    # 4.57: batches of different widths are padded with -100 to the widest before concatenating
    batches = [np.array([[1, 2, 3]]), np.array([[4, 5], [6, 7]]), np.array([[8, 9, 10, 11]])]
    expected = np.array([[1, 2, 3, -100], [4, 5, -100, -100], [6, 7, -100, -100], [8, 9, 10, 11]])
    np.testing.assert_array_equal(KerasMetricCallback._concatenate_batches(batches), expected)
    np.testing.assert_array_equal(
        KerasMetricCallback._concatenate_batches([np.array([1, 2]), np.array([3])]), np.array([1, 2, 3])
    )


def test_predict_with_generate_on_a_causal_lm():
    model = kerasformers.TFLlamaForCausalLM(LlamaConfig(**TINY_LLAMA))
    model.build_with_dummy_inputs()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    rng = np.random.RandomState(0)
    train_ids = rng.randint(3, 99, (4, 6)).astype(np.int32)
    # two eval batches with prompts of different lengths: generations differ in length, padded with -100
    prompts = [rng.randint(3, 99, (2, 3)).astype(np.int32), rng.randint(3, 99, (2, 5)).astype(np.int32)]
    targets = [rng.randint(3, 99, (2, 2)).astype(np.int32), rng.randint(3, 99, (2, 2)).astype(np.int32)]
    eval_dataset = None
    for ids, target in zip(prompts, targets):
        batch = tf.data.Dataset.from_tensors(({"input_ids": ids, "attention_mask": np.ones_like(ids)}, target))
        eval_dataset = batch if eval_dataset is None else eval_dataset.concatenate(batch)
    generate_kwargs = {"max_new_tokens": 2, "min_new_tokens": 2, "do_sample": False}  # no early eos
    seen = []

    def exact_match(eval_predictions):
        generated, labels = eval_predictions
        seen.append(eval_predictions)
        new_tokens = np.stack([row[row != -100][-2:] for row in generated])
        return {"exact_match": float(np.mean(np.all(new_tokens == labels, -1))), "first_token": float(new_tokens[0, 0])}

    callback = KerasMetricCallback(
        exact_match, eval_dataset, predict_with_generate=True, use_xla_generation=True, generate_kwargs=generate_kwargs
    )
    history = model.fit(
        {"input_ids": train_ids, "attention_mask": np.ones_like(train_ids)},
        train_ids,
        batch_size=4,
        epochs=1,
        verbose=0,
        callbacks=[callback],
    )
    direct = [model.generate(ids, attention_mask=np.ones_like(ids), **generate_kwargs) for ids in prompts]
    assert [d.shape for d in direct] == [(2, 5), (2, 7)]
    expected = np.full((4, 7), -100, np.int64)
    expected[:2, :5], expected[2:] = direct[0], direct[1]
    generated, labels = seen[-1]
    np.testing.assert_array_equal(generated, expected)
    np.testing.assert_array_equal(labels, np.concatenate(targets))
    assert history.history["first_token"] == [float(direct[0][0, 3])]
    assert history.history["exact_match"] == [exact_match((expected, np.concatenate(targets)))["exact_match"]]


def test_public_name():
    assert kerasformers.KerasMetricCallback is KerasMetricCallback
