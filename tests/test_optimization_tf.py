"""transformers' optimization_tf names: WarmUp, create_optimizer, AdamWeightDecay, GradientAccumulator.

transformers 5.23 has no TensorFlow side, so the expected values are transformers 4.57's formulas
(src/transformers/optimization_tf.py) and the Keras 2 PolynomialDecay it wraps, written here in numpy.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasformers
from kerasformers.models.bert.configuration_bert import BertConfig
from kerasformers.models.llama.configuration_llama import LlamaConfig
from kerasformers.optimization_tf import AdamWeightDecay, GradientAccumulator, WarmUp, create_optimizer

TINY_BERT = dict(
    vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64,
)  # fmt: skip
TINY_LLAMA = dict(
    vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=64, bos_token_id=1, eos_token_id=2, pad_token_id=0,
)  # fmt: skip
TRANSFORMERS_EXCLUSIONS = ["LayerNorm", "layer_norm", "bias"]  # 4.57 create_optimizer's list


def tiny_bert():
    # no dropout: eager and XLA runs of fit() must take identical steps
    config = BertConfig(**TINY_BERT, num_labels=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = kerasformers.TFBertForSequenceClassification(config)
    model.build_with_dummy_inputs()
    return model


def tiny_llama():
    model = kerasformers.TFLlamaForCausalLM(LlamaConfig(**TINY_LLAMA))
    model.build_with_dummy_inputs()
    return model


# ------------------------------------------------------------------ schedules (4.57 formulas)
def polynomial_decay(step, initial, decay_steps, end, power):
    """Keras' PolynomialDecay (cycle=False), as 4.57's create_optimizer used it."""
    step = min(step, decay_steps)
    return (initial - end) * (1 - step / decay_steps) ** power + end


def transformers_schedule(step, init_lr, num_train_steps, num_warmup_steps, min_lr_ratio, power, warmup_power=1.0):
    """4.57 optimization_tf: WarmUp(init_lr, PolynomialDecay(...), num_warmup_steps) when num_warmup_steps."""
    if num_warmup_steps and step < num_warmup_steps:
        return init_lr * (step / num_warmup_steps) ** warmup_power
    return polynomial_decay(
        step - num_warmup_steps, init_lr, num_train_steps - num_warmup_steps, init_lr * min_lr_ratio, power
    )


@pytest.mark.parametrize(
    "init_lr, num_train_steps, num_warmup_steps, min_lr_ratio, power",
    [(5e-5, 100, 10, 0.0, 1.0), (1e-3, 37, 0, 0.1, 1.0), (2e-4, 50, 7, 0.25, 2.0), (3e-5, 1000, 999, 0.0, 0.5)],
)
def test_create_optimizer_schedule_matches_transformers(
    init_lr, num_train_steps, num_warmup_steps, min_lr_ratio, power
):
    optimizer, schedule = create_optimizer(
        init_lr, num_train_steps, num_warmup_steps, min_lr_ratio=min_lr_ratio, power=power
    )
    assert isinstance(schedule, WarmUp) == bool(num_warmup_steps)
    assert optimizer.learning_rate is not None and optimizer._learning_rate is schedule
    every = max(1, num_train_steps // 25)
    edges = {0, 1, num_warmup_steps - 1, num_warmup_steps, num_warmup_steps + 1, num_train_steps - 1, num_train_steps}
    steps = sorted(edges | {num_train_steps + 5, *range(0, num_train_steps + 10, every)})
    for step in (s for s in steps if s >= 0):
        expected = transformers_schedule(step, init_lr, num_train_steps, num_warmup_steps, min_lr_ratio, power)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-12), step
        assert float(schedule(tf.constant(step, tf.int64))) == pytest.approx(expected, rel=1e-5, abs=1e-12)


def test_warmup_power_and_serialisation():
    decay = keras.optimizers.schedules.PolynomialDecay(1e-3, decay_steps=20, end_learning_rate=1e-5, power=2.0)
    schedule = WarmUp(initial_learning_rate=1e-3, decay_schedule_fn=decay, warmup_steps=8, power=2.0, name="wu")
    for step in range(0, 40):
        expected = 1e-3 * (step / 8) ** 2 if step < 8 else polynomial_decay(step - 8, 1e-3, 20, 1e-5, 2.0)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-12)
    again = WarmUp.from_config(schedule.get_config())
    json_again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    for copy in (again, json_again):
        assert isinstance(copy, WarmUp) and copy.power == 2.0 and copy.name == "wu"
        assert [float(copy(s)) for s in range(40)] == [float(schedule(s)) for s in range(40)]


def test_warmup_inside_a_compiled_function():
    schedule = create_optimizer(1e-3, 20, 5)[1]
    compiled = tf.function(lambda step: schedule(step), jit_compile=True)
    for step in (0, 3, 5, 12, 25):
        assert float(compiled(tf.constant(step, tf.int64))) == pytest.approx(float(schedule(step)), rel=1e-6)


# ------------------------------------------------------------------ weight decay: which variables
def test_weight_decay_exclusions_on_bert_and_llama_paths():
    bert, llama = tiny_bert(), tiny_llama()
    optimizer, _ = create_optimizer(1e-3, 10, 0, weight_decay_rate=0.01)
    assert isinstance(optimizer, AdamWeightDecay)
    for variable in bert.trainable_variables:
        # every LayerNorm gamma/beta and every bias excluded; kernels and embeddings decayed
        excluded = "/LayerNorm/" in variable.path or variable.name == "bias"
        assert optimizer.do_use_weight_decay(variable.path) == (not excluded), variable.path
    assert sum(optimizer.do_use_weight_decay(v.path) for v in bert.trainable_variables) == 2 * 6 + 3 + 2
    norm_paths = [v.path for v in llama.trainable_variables if v.name == "weight"]
    assert len(norm_paths) == 2 * 2 + 1  # input/post-attention RMSNorm per layer + the final norm
    for variable in llama.trainable_variables:
        assert optimizer.do_use_weight_decay(variable.path) == (variable.path not in norm_paths), variable.path
    # Under 4.57's patterns alone, a Llama RMSNorm "weight" (".../input_layernorm/weight", ".../norm/weight")
    # matches none of "LayerNorm", "layer_norm", "bias": it IS decayed. create_optimizer adds norm patterns.
    transformers_only = AdamWeightDecay(weight_decay_rate=0.01, exclude_from_weight_decay=TRANSFORMERS_EXCLUSIONS)
    assert all(transformers_only.do_use_weight_decay(v.path) for v in llama.trainable_variables)
    # 4.57 semantics: include wins over exclude; an include that does not match does not restrict
    picky = AdamWeightDecay(
        weight_decay_rate=0.01, include_in_weight_decay=["classifier/bias"], exclude_from_weight_decay=["bias"]
    )
    assert picky.do_use_weight_decay("m/classifier/bias") and not picky.do_use_weight_decay("m/dense/bias")
    assert picky.do_use_weight_decay("m/dense/kernel")
    assert not AdamWeightDecay(weight_decay_rate=0.0).do_use_weight_decay("m/dense/kernel")


# ------------------------------------------------------------------ weight decay: the update
def transformers_adam_weight_decay_steps(weights, grads_per_step, lrs, decayed, rate, beta_1, beta_2, epsilon):
    """4.57 AdamWeightDecay: var -= lr_t * var * rate, then the (legacy Keras) Adam step, each step."""
    weights = {k: v.astype(np.float64) for k, v in weights.items()}
    m = {k: np.zeros_like(v) for k, v in weights.items()}
    v2 = {k: np.zeros_like(v) for k, v in weights.items()}
    for t, (grads, lr) in enumerate(zip(grads_per_step, lrs), start=1):
        for k in weights:
            if decayed[k]:
                weights[k] = weights[k] - lr * weights[k] * rate
            m[k] = beta_1 * m[k] + (1 - beta_1) * grads[k]
            v2[k] = beta_2 * v2[k] + (1 - beta_2) * grads[k] ** 2
            lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
            weights[k] = weights[k] - lr_t * m[k] / (np.sqrt(v2[k]) + epsilon)
    return weights


def test_adam_weight_decay_update_matches_transformers():
    model = tiny_bert()
    variables = model.trainable_variables
    optimizer, schedule = create_optimizer(
        1e-2, 10, 2, weight_decay_rate=0.3, adam_beta1=0.8, adam_beta2=0.95, adam_epsilon=1e-6
    )
    rng = np.random.RandomState(0)
    for variable in variables:  # weights of order 1, so that the decay (lr * rate * w) shows well above 1e-5
        variable.assign(rng.normal(size=variable.shape).astype(np.float32))
    before = {v.path: np.array(v.numpy()) for v in variables}
    grads_per_step = [{v.path: rng.normal(size=v.shape).astype(np.float32) for v in variables} for _ in range(3)]
    for grads in grads_per_step:
        optimizer.apply_gradients([(tf.constant(grads[v.path]), v) for v in variables])
    lrs = [transformers_schedule(step, 1e-2, 10, 2, 0.0, 1.0) for step in range(3)]  # 0, 5e-3, 1e-2
    decayed = {p: not ("LayerNorm" in p or p.endswith("/bias")) for p in before}
    expected = transformers_adam_weight_decay_steps(before, grads_per_step, lrs, decayed, 0.3, 0.8, 0.95, 1e-6)
    for variable in variables:
        np.testing.assert_allclose(variable.numpy(), expected[variable.path], atol=1e-5, err_msg=variable.path)
    # the decay is there: a decayed kernel differs from plain Adam's result by ~lr * rate * w
    plain = transformers_adam_weight_decay_steps(
        before, grads_per_step, lrs, dict.fromkeys(before, False), 0.3, 0.8, 0.95, 1e-6
    )
    kernel = next(v for v in variables if v.name == "kernel")
    assert np.abs(kernel.numpy() - plain[kernel.path]).max() > 1e-3
    gamma = next(v for v in variables if v.name == "gamma")  # excluded: exactly plain Adam
    np.testing.assert_allclose(gamma.numpy(), plain[gamma.path], atol=1e-5)


# ------------------------------------------------------------------ fit, save and reload
def fit_data(n=8, length=6, seed=0):
    rng = np.random.RandomState(seed)
    x = {"input_ids": rng.randint(3, 99, (n, length)).astype(np.int32), "attention_mask": np.ones((n, length), "int32")}
    return x, rng.randint(0, 2, n)


def test_fit_with_create_optimizer_eager_and_xla_then_save_and_reload(tmp_path):
    x, y = fit_data()
    start = tiny_bert()
    results = {}
    for jit_compile in (False, True):
        model = tiny_bert()
        model.set_weights(start.get_weights())
        optimizer, schedule = create_optimizer(1e-3, num_train_steps=8, num_warmup_steps=2, weight_decay_rate=0.01)
        model.compile(optimizer=optimizer, jit_compile=jit_compile)  # no loss: the model's own
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        assert np.all(np.isfinite(history.history["loss"]))
        assert int(model.optimizer.iterations) == 4
        results[jit_compile] = model
    for eager, xla in zip(results[False].get_weights(), results[True].get_weights()):
        np.testing.assert_allclose(eager, xla, atol=1e-5)

    model = results[True]
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded.optimizer, AdamWeightDecay)
    assert isinstance(reloaded.optimizer._learning_rate, WarmUp)
    assert reloaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(reloaded.optimizer.iterations) == 4
    for ours, theirs in zip(model.optimizer.variables, reloaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert [float(reloaded.optimizer._learning_rate(s)) for s in range(10)] == [
        float(model.optimizer._learning_rate(s)) for s in range(10)
    ]
    # training goes on from the same state: the same gradients give the same weights both ways
    rng = np.random.RandomState(1)
    grads = [rng.normal(size=v.shape).astype(np.float32) for v in model.trainable_variables]
    model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
    reloaded.optimizer.apply_gradients(zip(grads, reloaded.trainable_variables))
    for ours, theirs in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


# ------------------------------------------------------------------ GradientAccumulator
def test_gradient_accumulator_sums_and_resets():
    accumulator = GradientAccumulator()
    assert int(accumulator.step) == 0
    dense = [np.array([1.0, 2.0], np.float32), np.array([[0.5]], np.float32)]
    table_rows = tf.IndexedSlices(tf.constant([[1.0, 1.0]]), tf.constant([2]), tf.constant([3, 2]))
    accumulator([tf.constant(dense[0]), None, tf.constant(dense[1]), table_rows])
    accumulator([tf.constant(2 * dense[0]), None, tf.constant(dense[1]), table_rows])
    assert int(accumulator.step) == 2
    summed = accumulator.gradients
    np.testing.assert_array_equal(summed[0], 3 * dense[0])
    assert summed[1] is None
    np.testing.assert_array_equal(summed[2], 2 * dense[1])
    np.testing.assert_array_equal(summed[3], [[0, 0], [0, 0], [2, 2]])
    accumulator.reset()
    assert int(accumulator.step) == 0
    assert all(np.all(g.numpy() == 0) for g in accumulator.gradients if g is not None)


def test_public_names():
    for name in ("WarmUp", "create_optimizer", "AdamWeightDecay", "GradientAccumulator"):
        assert getattr(kerasformers, name) is getattr(kerasformers.optimization_tf, name)
