"""Output classes: transformers' TF names and field order; ModelOutput behaves as transformers' does."""

import copy
import dataclasses
import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf
import transformers.modeling_outputs as pt_outputs

import kerasformers
import kerasformers.modeling_tf_outputs
from kerasformers import modeling_tf_outputs, outputs

# 4.57's modeling_tf_outputs.py orders these two differently from the PyTorch classes 5.23 keeps:
TF_ONLY_ORDER = {
    "TFBaseModelOutputWithPoolingAndCrossAttentions": (
        "last_hidden_state",
        "pooler_output",
        "past_key_values",
        "hidden_states",
        "attentions",
        "cross_attentions",
    ),
    "TFSeq2SeqQuestionAnsweringModelOutput": (
        "loss",
        "start_logits",
        "end_logits",
        "past_key_values",
        "decoder_hidden_states",
        "decoder_attentions",
        "encoder_last_hidden_state",
        "encoder_hidden_states",
        "encoder_attentions",
    ),
    # no PyTorch twin in 5.23; fields from 4.57's modeling_tf_outputs.py
    "TFSemanticSegmenterOutputWithNoAttention": ("loss", "logits", "hidden_states"),
}

TF_NAMES = [name for name in outputs.__all__ if name.startswith("TF")]


@pytest.mark.parametrize("name", TF_NAMES)
def test_field_order_is_transformers(name):
    cls = getattr(modeling_tf_outputs, name)
    if name in TF_ONLY_ORDER:
        expected = TF_ONLY_ORDER[name]
    else:
        expected = tuple(f.name for f in dataclasses.fields(getattr(pt_outputs, name[2:])))
    assert cls.fields == expected
    assert cls.__name__ == name and getattr(kerasformers.modeling_tf_outputs, name) is cls
    assert getattr(outputs, name[2:]) is cls  # the unprefixed name is the same class


def both(name, *args, **kwargs):
    """The same output built by kerasformers and by transformers 5.23."""
    return getattr(outputs, "TF" + name)(*args, **kwargs), getattr(pt_outputs, name)(*args, **kwargs)


def test_access_matches_transformers():
    logits, loss, hidden = np.ones((2, 3)), np.float32(0.5), (np.zeros((2, 4)),)
    for kwargs in ({"logits": logits}, {"loss": loss, "logits": logits, "hidden_states": hidden}):
        ours, theirs = both("SequenceClassifierOutput", **kwargs)
        assert list(ours.keys()) == list(theirs.keys())
        assert len(ours.to_tuple()) == len(theirs.to_tuple())
        for i in range(len(theirs.to_tuple())):
            assert ours[i] is theirs[i]
        assert len(ours[:2]) == len(theirs[:2]) and all(a is b for a, b in zip(ours[:2], theirs[:2]))
        for field in ("loss", "logits", "hidden_states", "attentions"):
            assert getattr(ours, field) is getattr(theirs, field)
        assert ours["logits"] is theirs["logits"]
        with pytest.raises(KeyError):
            ours["attentions"]
        with pytest.raises(KeyError):
            theirs["attentions"]
    ours, theirs = both("SequenceClassifierOutput", loss, logits)  # positional, in field order
    assert ours.to_tuple() == theirs.to_tuple() == (loss, logits)
    loss_value, logits_value = ours[:2]  # as TF users wrote it
    assert loss_value is loss and logits_value is logits


def test_setting_fields_matches_transformers():
    logits, hidden = np.ones((1, 2)), (np.zeros((1, 2)),)
    ours, theirs = both("SequenceClassifierOutput", logits=logits)
    for out in (ours, theirs):
        out.loss = np.float32(2.0)
        out["hidden_states"] = hidden
    assert set(ours.keys()) == set(theirs.keys())
    assert ours.loss == theirs.loss and ours.hidden_states is theirs.hidden_states
    # ours keeps field order, so positions stay meaningful after a late assignment
    assert list(ours.keys()) == ["loss", "logits", "hidden_states"]


def test_repr_names_the_tf_class():
    assert repr(outputs.TFSequenceClassifierOutput(logits=1)).startswith(
        "TFSequenceClassifierOutput(loss=None, logits=1"
    )


def test_bad_fields_are_one_clear_error():
    with pytest.raises(TypeError, match="no field"):
        outputs.TFSequenceClassifierOutput(logit=1)
    with pytest.raises(TypeError, match="positional"):
        outputs.TFSequenceClassifierOutput(1, 2, 3, 4, 5)


def test_containers_rebuild_the_same_class():
    out = outputs.TFQuestionAnsweringModelOutput(start_logits=tf.ones((1, 3)), end_logits=tf.zeros((1, 3)))
    as_numpy = outputs.TFQuestionAnsweringModelOutput(start_logits=np.ones(3), end_logits=np.zeros(3))
    for rebuilt in (
        tf.nest.map_structure(lambda x: x + 1, out),
        keras.tree.map_structure(lambda x: x + 1, out),
        pickle.loads(pickle.dumps(as_numpy)),
        copy.deepcopy(as_numpy),
    ):
        assert type(rebuilt) is outputs.TFQuestionAnsweringModelOutput
        assert list(rebuilt) == ["start_logits", "end_logits"]

    @tf.function
    def double(x):
        return outputs.TFBaseModelOutput(last_hidden_state=x * 2)

    result = double(tf.ones((2,)))
    assert type(result) is outputs.TFBaseModelOutput
    np.testing.assert_array_equal(result[0].numpy(), [2.0, 2.0])
