"""Bad inputs at the model boundary: ids, masks, shapes, dtypes, labels (eager calls, predict, fit).

Each case asserts the exception type and the words a user needs: the argument, the bad value
or shape, and the fix. Models are tiny (vocab 99); one is shared per session.
"""

import numpy as np
import pytest

VOCAB = 99

# (inputs, exception, words the message must hold)
BAD_CALL_INPUTS = {
    "negative id": ({"input_ids": [[5, -1, 7]]}, ValueError, ["input_ids", "-1", "[0, 99)", "vocab_size"]),
    "id == vocab_size": ({"input_ids": [[5, 99, 7]]}, ValueError, ["input_ids", "99", "[0, 99)"]),
    "huge int64 id (would wrap in int32)": (
        {"input_ids": np.array([[5, 2**32 + 5]])},
        ValueError,
        ["input_ids", str(2**32 + 5)],
    ),
    "float ids": ({"input_ids": np.array([[5.0, 6.7]])}, TypeError, ["input_ids", "float64", "integer"]),
    "float32 ids": ({"input_ids": np.array([[5, 6]], np.float32)}, TypeError, ["input_ids", "float32"]),
    "string ids": ({"input_ids": [["hello", "world"]]}, TypeError, ["input_ids", "strings", "tokenizer("]),
    "object ids": ({"input_ids": np.array([[None, 1]], dtype=object)}, TypeError, ["input_ids", "objects"]),
    "ragged list": ({"input_ids": [[1, 2, 3], [4]]}, ValueError, ["input_ids", "ragged", "padding=True"]),
    "zero-length rows": ({"input_ids": np.zeros((2, 0), np.int32)}, ValueError, ["input_ids", "no tokens"]),
    "empty batch": ({"input_ids": np.zeros((0, 4), np.int32)}, ValueError, ["input_ids", "empty batch"]),
    "mask of batch 1 for batch 2": (
        {"input_ids": [[5, 6], [7, 8]], "attention_mask": [[1, 1]]},
        ValueError,
        ["attention_mask", "(1, 2)", "(2, 2)", "broadcast"],
    ),
    "mask too long": (
        {"input_ids": [[5, 6]], "attention_mask": [[1, 1, 1]]},
        ValueError,
        ["attention_mask", "(1, 3)", "(1, 2)"],
    ),
    "mask too short": (
        {"input_ids": [[5, 6, 7]], "attention_mask": [[1, 1]]},
        ValueError,
        ["attention_mask", "(1, 2)", "(1, 3)"],
    ),
    "string mask": ({"input_ids": [[5, 6]], "attention_mask": [["1", "1"]]}, TypeError, ["attention_mask"]),
    "token type out of range": (
        {"input_ids": [[5, 6]], "token_type_ids": [[0, 2]]},
        ValueError,
        ["token_type_ids", "2", "type_vocab_size"],
    ),
    "negative token type": ({"input_ids": [[5, 6]], "token_type_ids": [[0, -1]]}, ValueError, ["token_type_ids", "-1"]),
    "token types of other shape": (
        {"input_ids": [[5, 6]], "token_type_ids": [[0, 0, 0]]},
        ValueError,
        ["token_type_ids", "must match"],
    ),
    "position id past the table": (
        {"input_ids": [[5, 6]], "position_ids": [[0, 64]]},
        ValueError,
        ["position_ids", "64", "max_position_embeddings"],
    ),
    "float position ids": ({"input_ids": [[5, 6]], "position_ids": [[0.0, 1.0]]}, TypeError, ["position_ids"]),
    "unknown input": ({"input_ids": [[5, 6]], "pixel_values": [[1.0]]}, TypeError, ["pixel_values", "does not accept"]),
}


@pytest.mark.parametrize("case", list(BAD_CALL_INPUTS))
def test_model_call_refuses(tiny_bert_classifier, case):
    inputs, error, words = BAD_CALL_INPUTS[case]
    with pytest.raises(error) as info:
        tiny_bert_classifier(inputs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("case", ["negative id", "id == vocab_size", "mask of batch 1 for batch 2", "float ids"])
def test_same_errors_for_eager_tensors_and_keyword_calls(tiny_bert_classifier, case):
    import tensorflow as tf

    inputs, error, words = BAD_CALL_INPUTS[case]
    tensors = {k: tf.constant(v) for k, v in inputs.items()}
    with pytest.raises(error, match=words[0]):
        tiny_bert_classifier(**tensors)


def test_the_cached_inference_graph_checks_too(tiny_bert_classifier):
    """After a few calls model(batch) runs a cached graph: ids are still checked before it."""
    good = np.array([[5, 6, 7]], np.int32)
    for _ in range(3):
        tiny_bert_classifier(good)
    with pytest.raises(ValueError, match="outside"):
        tiny_bert_classifier(np.array([[5, 6, 120]], np.int32))


def test_predict_checks_arrays(tiny_bert_classifier):
    with pytest.raises(ValueError, match="input_ids holds 500"):
        tiny_bert_classifier.predict({"input_ids": np.array([[5, 500]])}, verbose=0)
    with pytest.raises(ValueError, match="attention_mask has shape"):  # large arrays take Keras' path
        tiny_bert_classifier.predict(
            {"input_ids": np.ones((40, 3), np.int32), "attention_mask": np.ones((40, 4), np.int32)}, verbose=0
        )


def test_multiple_choice_shapes_are_checked(tiny_bert_kwargs):
    from kerasformers import TFBertForMultipleChoice
    from kerasformers.models.bert.configuration_bert import BertConfig

    model = TFBertForMultipleChoice(BertConfig(**tiny_bert_kwargs))
    ids = np.full((2, 3, 4), 5, np.int32)
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 3, 4\)"):
        model({"input_ids": ids, "attention_mask": np.ones((1, 3, 4), np.int32)})
    with pytest.raises(ValueError, match="shape"):  # choices flattened away: rank 2 where 3 is due
        model({"input_ids": ids[:, 0]})


# ------------------------------------------------------------------------------------ labels


@pytest.fixture
def compiled_classifier(tiny_bert_classifier):
    import keras

    tiny_bert_classifier.compile(optimizer=keras.optimizers.SGD(0.0))  # lr 0: the shared model stays as is
    return tiny_bert_classifier


def test_fit_refuses_float_labels_for_single_label_classification(compiled_classifier):
    x = {"input_ids": np.array([[5, 6], [7, 8]], np.int32)}
    with pytest.raises(ValueError, match=r"(?s)Float labels of shape .* mean multi-label.*integer class ids"):
        compiled_classifier.fit(x, np.array([0.0, 1.7]), epochs=1, verbose=0)


def test_fit_refuses_string_labels(compiled_classifier):
    x = {"input_ids": np.array([[5, 6], [7, 8]], np.int32)}
    with pytest.raises(TypeError, match="labels holds strings.*label2id"):
        compiled_classifier.fit(x, np.array(["pos", "neg"]), epochs=1, verbose=0)


def test_fit_checks_input_ids(compiled_classifier):
    x = {"input_ids": np.array([[5, 6], [7, 800]], np.int32)}
    with pytest.raises(ValueError, match="input_ids holds 800"):
        compiled_classifier.fit(x, np.array([0, 1]), epochs=1, verbose=0)


def test_evaluate_checks_input_ids(compiled_classifier):
    x = {"input_ids": np.array([[5, -6], [7, 8]], np.int32)}
    with pytest.raises(ValueError, match="input_ids holds -6"):
        compiled_classifier.evaluate(x, np.array([0, 1]), verbose=0)


def test_fit_with_different_numbers_of_examples(compiled_classifier):
    x = {"input_ids": np.array([[5, 6], [7, 8]], np.int32)}
    with pytest.raises(ValueError, match="different numbers of examples"):
        compiled_classifier.fit(x, np.array([0, 1, 1]), epochs=1, verbose=0)


def test_token_classification_refuses_float_labels(tiny_bert_kwargs):
    import keras

    from kerasformers import TFBertForTokenClassification
    from kerasformers.models.bert.configuration_bert import BertConfig

    model = TFBertForTokenClassification(BertConfig(**tiny_bert_kwargs, num_labels=3))
    model.build_with_dummy_inputs()
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    x = {"input_ids": np.array([[5, 6], [7, 8]], np.int32)}
    with pytest.raises(TypeError, match="Class labels must be integer ids"):
        model.fit(x, np.array([[0.0, 1.5], [2.0, 0.0]]), epochs=1, verbose=0)
