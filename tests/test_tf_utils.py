"""transformers' TF utility modules: tf_utils, modeling_tf_utils, activations_tf, set_seed.

transformers 5.23 no longer has them: expected values come from the formulas of 4.57's
tf_utils.py, modeling_tf_utils.py and activations_tf.py (written out here), from PyTorch
(5.23's activations, torch's losses) where the same function exists, or from properties.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import torch.nn.functional as F
import transformers.activations as hf_activations

import kerasformers
from kerasformers import activations_tf, modeling_tf_utils, tf_utils
from kerasformers.models.bert import BertConfig

RNG = np.random.default_rng(0)


def test_top_level_names():
    for name in ("TFPreTrainedModel", "TFSequenceSummary", "TFSharedEmbeddings", "shape_list", "set_seed"):
        assert getattr(kerasformers, name) is getattr(modeling_tf_utils, name, getattr(tf_utils, name, None))
    from kerasformers import logging

    assert callable(logging.set_verbosity_error)


def test_shape_list_static_and_dynamic():
    assert tf_utils.shape_list(np.zeros((2, 3))) == [2, 3]
    assert tf_utils.shape_list(tf.zeros((2, 3))) == [2, 3]
    seen = {}

    @tf.function(input_signature=[tf.TensorSpec((None, 4), tf.float32)])
    def probe(x):
        shape = tf_utils.shape_list(x)
        seen["types"] = (type(shape[0]), type(shape[1]))
        return tf.stack([shape[0], shape[1]])

    np.testing.assert_array_equal(probe(tf.zeros((5, 4))).numpy(), [5, 4])
    assert issubclass(seen["types"][0], tf.Tensor) and seen["types"][1] is int  # dynamic batch, static width

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def unknown_rank(x):
        return tf_utils.shape_list(x)  # the dynamic shape tensor itself

    np.testing.assert_array_equal(unknown_rank(tf.zeros((2, 3, 1))).numpy(), [2, 3, 1])


def test_stable_softmax_flatten_expand():
    logits = tf.constant(RNG.normal(size=(2, 5)), tf.float32)
    np.testing.assert_allclose(tf_utils.stable_softmax(logits).numpy(), tf.nn.softmax(logits).numpy(), atol=1e-7)
    x = tf.constant(RNG.normal(size=(2, 3, 4, 5)), tf.float32)
    for start, end in ((0, -1), (1, 2), (1, -1), (-2, -1), (2, 2)):
        expected = torch.flatten(torch.from_numpy(x.numpy()), start, end).numpy()  # what it replicates
        np.testing.assert_array_equal(tf_utils.flatten(x, start, end).numpy(), expected)
    expanded = tf_utils.expand_1d({"labels": tf.constant([0, 1]), "ids": tf.zeros((2, 3)), "n": 3})
    assert expanded["labels"].shape == (2, 1) and expanded["ids"].shape == (2, 3) and expanded["n"] == 3


def test_invert_attention_mask():
    mask = tf.constant([[1.0, 1.0, 0.0]])
    inverted = tf_utils.invert_attention_mask(mask).numpy()
    # 4.57: (1 - mask)[:, None, None, :] * dtype.min
    np.testing.assert_array_equal(inverted, [[[[0.0, 0.0, np.finfo(np.float32).min]]]])
    assert tf_utils.invert_attention_mask(tf.ones((2, 3, 4))).shape == (2, 1, 3, 4)
    with pytest.raises(ValueError, match="rank"):
        tf_utils.invert_attention_mask(tf.ones((3,)))


def test_functional_layernorm_matches_torch():
    x = RNG.normal(size=(2, 3, 6)).astype(np.float32)
    weight, bias = RNG.normal(size=6).astype(np.float32), RNG.normal(size=6).astype(np.float32)
    ours = tf_utils.functional_layernorm(tf.constant(x), tf.constant(weight), tf.constant(bias), epsilon=1e-5)
    theirs = F.layer_norm(torch.from_numpy(x), (6,), torch.from_numpy(weight), torch.from_numpy(bias), eps=1e-5)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    # another axis: per position of axis 1, weight broadcast along it (4.57's reshape)
    x1 = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    ours = tf_utils.functional_layernorm(tf.constant(x1), tf.constant(weight), tf.constant(bias), axis=1)
    expected = np.moveaxis(
        F.layer_norm(
            torch.from_numpy(np.moveaxis(x1, 1, -1)), (6,), torch.from_numpy(weight), torch.from_numpy(bias)
        ).numpy(),
        -1,
        1,
    )
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-5)


def test_scaled_dot_product_attention_matches_torch():
    q, k, v = (RNG.normal(size=(2, 2, 4, 8)).astype(np.float32) for _ in range(3))
    tq, tk, tv = map(torch.from_numpy, (q, k, v))
    ours = tf_utils.scaled_dot_product_attention(tf.constant(q), tf.constant(k), tf.constant(v), is_causal=True)
    theirs = F.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    bias = RNG.normal(size=(4, 4)).astype(np.float32)
    ours = tf_utils.scaled_dot_product_attention(
        tf.constant(q), tf.constant(k), tf.constant(v), tf.constant(bias), scale=0.3
    )
    theirs = F.scaled_dot_product_attention(tq, tk, tv, torch.from_numpy(bias), scale=0.3)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    # a 0/1 integer mask means -1000 on masked logits (4.57), which softmax turns into ~0 like torch's -inf
    keep = np.array([[1, 1, 0, 1]] * 4, np.int32)
    ours = tf_utils.scaled_dot_product_attention(tf.constant(q), tf.constant(k), tf.constant(v), tf.constant(keep))
    theirs = F.scaled_dot_product_attention(tq, tk, tv, torch.from_numpy(keep.astype(bool)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    with pytest.raises(NotImplementedError, match="dropout"):
        tf_utils.scaled_dot_product_attention(tf.constant(q), tf.constant(k), tf.constant(v), dropout_p=0.1)


def test_check_embeddings_within_bounds_and_batch_encoding():
    tf_utils.check_embeddings_within_bounds(tf.constant([[0, 9]]), 10)
    with pytest.raises(tf.errors.InvalidArgumentError, match="input_ids"):
        tf_utils.check_embeddings_within_bounds(tf.constant([[0, 10]]), 10)

    class Encoding(dict):  # a tokenizer's BatchEncoding is a dict subclass
        pass

    args, kwargs = tf_utils.convert_batch_encoding(Encoding(input_ids=[1]), epochs=1)
    assert type(args[0]) is dict and kwargs == {"epochs": 1}
    args, kwargs = tf_utils.convert_batch_encoding(x=Encoding(input_ids=[1]))
    assert type(kwargs["x"]) is dict


def test_set_seed_repeats_draws_and_initialisation():
    def draws():
        import random

        layer = keras.layers.Dense(3)
        layer.build((None, 4))
        return (
            random.random(),
            np.random.rand(),
            tf.random.uniform(()).numpy(),
            keras.random.uniform(()).numpy(),
            layer.kernel.numpy(),
        )

    tf_utils.set_seed(123)
    first = draws()
    tf_utils.set_seed(123)
    again = draws()
    tf_utils.set_seed(124)
    other = draws()
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


# -------------------------------------------------------------------------------- activations
def test_activations_match_transformers_pytorch():
    x = np.linspace(-12, 12, 97).astype(np.float32)
    known = {
        "gelu",
        "gelu_10",
        "gelu_fast",
        "gelu_new",
        "mish",
        "quick_gelu",
        "relu",
        "sigmoid",
        "silu",
        "swish",
        "tanh",
    }
    known |= {"gelu_python", "gelu_python_tanh", "gelu_pytorch_tanh", "gelu_accurate", "laplace", "leaky_relu"}
    known |= {"linear", "relu2", "relu6", "hardswish"}
    for name in sorted(known):
        expected = hf_activations.get_activation(name)(torch.from_numpy(x)).numpy()
        got = keras.ops.convert_to_numpy(activations_tf.get_tf_activation(name)(tf.constant(x)))
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=name)


def test_tf_only_activations_follow_4_57_formulas():
    x = RNG.normal(size=(3, 8)).astype(np.float32) * 4
    glu = activations_tf.get_tf_activation("glu")(tf.constant(x)).numpy()
    np.testing.assert_allclose(glu, x[:, :4] / (1 + np.exp(-x[:, 4:])), rtol=1e-5)  # a * sigmoid(b)
    # gelu_fast, 4.57: 0.5 * x * (1 + tanh(x * 0.7978845608 * (1 + 0.044715 * x * x)))
    fast = 0.5 * x * (1 + np.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x)))
    np.testing.assert_allclose(activations_tf.gelu_fast(tf.constant(x)).numpy(), fast, atol=1e-6)
    erf_gelu = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()]).reshape(x.shape)
    np.testing.assert_allclose(activations_tf.gelu_10(tf.constant(x)).numpy(), np.clip(erf_gelu, -10, 10), atol=1e-5)
    assert set(activations_tf.ACT2FN) >= {"gelu", "gelu_10", "gelu_fast", "gelu_new", "glu", "mish", "quick_gelu"}
    with pytest.raises(ValueError, match="Known"):
        activations_tf.get_tf_activation("gelu_nonexistent")


# -------------------------------------------------------------------------------- layers
def test_conv1d_and_shared_embeddings():
    conv = modeling_tf_utils.TFConv1D(nf=5, nx=4)
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    out = conv(tf.constant(x))
    np.testing.assert_allclose(out.numpy(), x @ conv.weight.numpy() + conv.bias.numpy(), atol=1e-6)
    assert tuple(conv.weight.shape) == (4, 5) and tuple(conv.bias.shape) == (1, 5)  # GPT-2's stored layout

    shared = modeling_tf_utils.TFSharedEmbeddings(vocab_size=11, hidden_size=6)
    assert shared.initializer_range == 6**-0.5
    ids = np.array([[1, 10, 3]])
    hidden = shared(tf.constant(ids))
    np.testing.assert_array_equal(hidden.numpy(), shared.weight.numpy()[ids])
    logits = shared(hidden, mode="linear")
    np.testing.assert_allclose(logits.numpy(), hidden.numpy() @ shared.weight.numpy().T, atol=1e-5)
    with pytest.raises(ValueError, match="mode"):
        shared(hidden, mode="decode")


def test_keras_serializable_round_trip():
    @modeling_tf_utils.keras_serializable
    class ProbeMainLayer(keras.layers.Layer):
        config_class = BertConfig

        def __init__(self, config, **kwargs):
            super().__init__(**kwargs)
            self.config = config
            self.dense = keras.layers.Dense(config.hidden_size)

        def call(self, x):
            return self.dense(x)

    layer = ProbeMainLayer(BertConfig(hidden_size=8, num_labels=3), name="probe")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is ProbeMainLayer and restored.name == "probe"
    assert restored.config.hidden_size == 8 and restored.config.num_labels == 3
    with pytest.raises(TypeError, match="config_class"):
        modeling_tf_utils.keras_serializable(type("NoConfig", (keras.layers.Layer,), {}))


# -------------------------------------------------------------------------------- loss mixins
class Head:
    def __init__(self, mixin, **config):
        self.mixin, self.config = mixin, BertConfig(**config)

    def loss(self, labels, logits):
        return self.mixin.hf_compute_loss(self, labels, logits).numpy()


@pytest.mark.parametrize("legacy", [False, True])
def test_lm_and_token_losses_match_torch(legacy):
    logits = RNG.normal(size=(2, 5, 7)).astype(np.float32)
    labels = np.array([[1, -100, 3, 6, -100], [0, 2, -100, -100, 4]])
    per_token = F.cross_entropy(
        torch.from_numpy(logits).reshape(-1, 7), torch.from_numpy(labels).reshape(-1), reduction="none"
    ).numpy()
    kept = per_token[labels.reshape(-1) != -100]
    for mixin in (modeling_tf_utils.TFCausalLanguageModelingLoss, modeling_tf_utils.TFMaskedLanguageModelingLoss):
        got = Head(mixin, tf_legacy_loss=legacy).loss(tf.constant(labels), tf.constant(logits))
        expected = kept if legacy else [kept.mean()]  # legacy: the active tokens' losses, else their mean as (1,)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    token_labels = np.where(labels == -100, -1, labels) if legacy else labels  # -1 is ignored too
    got = Head(modeling_tf_utils.TFTokenClassificationLoss, tf_legacy_loss=legacy).loss(
        tf.constant(token_labels), tf.constant(logits)
    )
    np.testing.assert_allclose(got, kept if legacy else [kept.mean()], atol=1e-5)


def test_per_example_losses_match_torch():
    logits = RNG.normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels), reduction="none").numpy()
    for mixin in (modeling_tf_utils.TFSequenceClassificationLoss, modeling_tf_utils.TFMultipleChoiceLoss):
        np.testing.assert_allclose(Head(mixin).loss(tf.constant(labels), tf.constant(logits)), expected, atol=1e-5)
    scores, targets = RNG.normal(size=(4, 1)).astype(np.float32), RNG.normal(size=(4,)).astype(np.float32)
    regression = Head(modeling_tf_utils.TFSequenceClassificationLoss).loss(tf.constant(targets), tf.constant(scores))
    np.testing.assert_allclose(regression, (scores[:, 0] - targets) ** 2, atol=1e-5)  # per example, (batch,)

    nsp_logits, nsp_labels = RNG.normal(size=(3, 2)).astype(np.float32), np.array([1, -100, 0])
    nsp = F.cross_entropy(torch.from_numpy(nsp_logits), torch.from_numpy(nsp_labels), reduction="none").numpy()
    got = Head(modeling_tf_utils.TFNextSentencePredictionLoss).loss(tf.constant(nsp_labels), tf.constant(nsp_logits))
    np.testing.assert_allclose(got, nsp, atol=1e-5)  # torch gives 0 at -100 as well

    start, end = RNG.normal(size=(2, 2, 6)).astype(np.float32)
    positions = {"start_position": np.array([1, 5]), "end_position": np.array([2, 0])}
    qa = Head(modeling_tf_utils.TFQuestionAnsweringLoss).loss(positions, (tf.constant(start), tf.constant(end)))
    expected = (
        F.cross_entropy(torch.from_numpy(start), torch.from_numpy(positions["start_position"]), reduction="none")
        + F.cross_entropy(torch.from_numpy(end), torch.from_numpy(positions["end_position"]), reduction="none")
    ) / 2
    np.testing.assert_allclose(qa, expected.numpy(), atol=1e-5)
