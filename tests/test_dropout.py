"""kerasformers.layers.dropout.Dropout: Keras' Dropout outside XLA, a ThreeFry mask of the same law inside it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasformers.layers.dropout import Dropout

RATE = 0.1


def test_outside_xla_it_is_keras_dropout():
    x = np.random.default_rng(0).normal(size=(4, 64)).astype("float32")
    ours, theirs = Dropout(RATE, seed=3), keras.layers.Dropout(RATE, seed=3)
    for _ in range(2):  # same seed stream, call after call
        np.testing.assert_array_equal(ours(x, training=True).numpy(), theirs(x, training=True).numpy())
    np.testing.assert_array_equal(ours(x, training=False).numpy(), x)


@pytest.fixture(scope="module")
def xla_masks():
    layer = Dropout(RATE, seed=7)
    x = tf.ones((256, 4096))  # 1M values
    step = tf.function(lambda x: layer(x, training=True), jit_compile=True)
    return [step(x).numpy() for _ in range(2)], layer


def test_inside_xla_mask_has_dropouts_law(xla_masks):
    (first, second), _ = xla_masks
    dropped = np.mean(first == 0)
    assert abs(dropped - RATE) < 0.002, dropped  # 1M Bernoulli(0.1): sd 3e-4
    np.testing.assert_allclose(first[first != 0], 1 / (1 - RATE), rtol=1e-6)  # kept values scaled
    assert abs(np.mean(first) - 1.0) < 0.002  # the expectation is kept
    assert not np.array_equal(first == 0, second == 0)  # a new mask per call (the seed advances)


def test_inside_xla_same_seed_same_mask(xla_masks):
    (first, _), _ = xla_masks
    again = Dropout(RATE, seed=7)
    mask = tf.function(lambda x: again(x, training=True), jit_compile=True)(tf.ones((256, 4096))).numpy()
    np.testing.assert_array_equal(mask, first)


def test_noise_shape_and_inference_inside_xla():
    layer = Dropout(0.5, noise_shape=(None, 1), seed=1)
    x = tf.ones((512, 8))
    out = tf.function(lambda x: layer(x, training=True), jit_compile=True)(x).numpy()
    assert np.all((out == 0).all(axis=1) | (out == 2).all(axis=1))  # one draw per row, broadcast
    inference = tf.function(lambda x: layer(x, training=False), jit_compile=True)(x).numpy()
    np.testing.assert_array_equal(inference, x.numpy())


def test_inside_xla_the_mask_comes_from_threefry():
    """The point of the layer: under XLA its random op uses ThreeFry, not Keras' default algorithm
    (auto-select, which XLA on CPU compiles to the slow kernel)."""
    from tensorflow.python.ops.random_ops_util import Algorithm

    def algorithms(layer):
        graph = (
            tf.function(lambda x: layer(x, training=True), jit_compile=True)
            .get_concrete_function(tf.TensorSpec([4, 8]))
            .graph
        )
        ops = [op for op in graph.get_operations() if op.type == "StatelessRandomUniformV2"]
        return {int(tf.get_static_value(op.inputs[-1])) for op in ops}

    assert algorithms(Dropout(RATE, seed=1)) == {Algorithm.THREEFRY.value}
    assert algorithms(keras.layers.Dropout(RATE, seed=1)) != {Algorithm.THREEFRY.value}  # what it replaces
