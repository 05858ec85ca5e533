"""In-graph tokenizers give the ids of transformers' tokenizer (and ours) on a hard corpus."""

import numpy as np
import pytest
import tensorflow as tf

CORPUS = [
    "Hello world!",
    "",
    "   ",
    "Café naïve résumé ÀÉÎÕÜ",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "emoji 😀🎉👍🏽 and 🥲 🫠",
    "中文字符测试，日本語のテキスト、한국어",
    "tabs\tand\nnewlines\r\n  runs     of   spaces",
    "İstanbul ΟΔΟΣ Straße ǅ ﬁ",
    "ctrl\x00\x01\u200b\ufeff\ufffdchars",
    "[MASK] and [CLS] in text [SEP]x",
    "don't stop-believing... (really?) #1 @user $5.00",
    "a" * 150,
    "supercalifragilisticexpialidocious " * 60,
    "Ａ\u0301 e\u0301 \u0300alone",
    "\u00a0nbsp\u2003em\u3000ideo",
    "x" * 99 + "é",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math",
    "Ωmega ǈ ß ẞ",
]
PAIRS = (
    ["short q", "a much longer question " * 30, "", "Où est la gare?"],
    ["context " * 100, "c d", "only ctx", "La gare est là-bas, près du café."],
)


@pytest.fixture(scope="module")
def hf_tokenizer(minilm_path):
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(str(minilm_path))


@pytest.fixture(scope="module")
def tf_tokenizer(minilm_path):
    from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer

    return TFBertTokenizer.from_pretrained(minilm_path)


def assert_same(ours, reference, keys=("input_ids", "token_type_ids", "attention_mask")):
    for key in keys:
        got = ours[key].numpy() if hasattr(ours[key], "numpy") else np.asarray(ours[key])
        np.testing.assert_array_equal(got, np.asarray(reference[key]), err_msg=key)


def test_single_sentences_match_transformers(tf_tokenizer, hf_tokenizer):
    ours = tf_tokenizer(tf.constant(CORPUS))
    reference = hf_tokenizer(CORPUS, padding=True, truncation=True, max_length=512, return_tensors="np")
    assert_same(ours, reference)


def test_matches_our_python_tokenizer(tf_tokenizer, minilm_path):
    from kerasformers import AutoTokenizer

    python = AutoTokenizer.from_pretrained(minilm_path)
    reference = python(CORPUS, padding=True, truncation=True, max_length=512, return_tensors="np")
    assert_same(tf_tokenizer(CORPUS), reference)


@pytest.mark.parametrize(
    "max_length,strategy", [(16, "longest_first"), (17, "longest_first"), (64, "longest_first"), (32, "only_second")]
)
def test_pairs_truncation_and_max_length_padding(tf_tokenizer, hf_tokenizer, max_length, strategy):
    first, second = PAIRS
    if strategy == "only_second":  # transformers refuses pairs whose second part cannot absorb the cut
        first, second = [first[0], first[3]], [second[0], second[3] * 5]
    ours = tf_tokenizer(
        tf.constant(first),
        tf.constant(second),
        max_length=max_length,
        padding="max_length",
        truncation=strategy,
        return_special_tokens_mask=True,
    )
    reference = hf_tokenizer(
        first,
        second,
        padding="max_length",
        truncation=strategy,
        max_length=max_length,
        return_special_tokens_mask=True,
        return_tensors="np",
    )
    assert_same(ours, reference, keys=("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask"))


def test_single_truncation_and_pad_to_multiple(tf_tokenizer, hf_tokenizer):
    ours = tf_tokenizer(CORPUS[:12], max_length=24, pad_to_multiple_of=8)
    reference = hf_tokenizer(
        CORPUS[:12], padding=True, truncation=True, max_length=24, pad_to_multiple_of=8, return_tensors="np"
    )
    assert ours["input_ids"].shape[1] == 24
    assert_same(ours, reference)
    assert tf_tokenizer(CORPUS[:2], pad_to_multiple_of=8)["input_ids"].shape[1] == 8


def test_no_padding_gives_ragged_and_flags(tf_tokenizer, hf_tokenizer):
    ours = tf_tokenizer(CORPUS[:4], padding=False, return_token_type_ids=False, return_attention_mask=False)
    assert sorted(ours) == ["input_ids"]
    reference = hf_tokenizer(CORPUS[:4])
    assert ours["input_ids"].to_list() == reference["input_ids"]


def test_inside_tf_function_and_dataset(tf_tokenizer, hf_tokenizer):
    run = tf.function(lambda text: tf_tokenizer(text)["input_ids"], input_signature=[tf.TensorSpec([None], tf.string)])
    reference = hf_tokenizer(CORPUS[:6], padding=True, return_tensors="np")["input_ids"]
    np.testing.assert_array_equal(run(tf.constant(CORPUS[:6])).numpy(), reference)
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS[:6]).batch(3).map(lambda t: tf_tokenizer(t)["input_ids"])
    assert [batch.shape[0] for batch in dataset] == [3, 3]


def test_config_round_trip(tf_tokenizer):
    from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer

    clone = TFBertTokenizer.from_config(tf_tokenizer.get_config())
    np.testing.assert_array_equal(clone(CORPUS)["input_ids"].numpy(), tf_tokenizer(CORPUS)["input_ids"].numpy())


def test_end_to_end_model_predict_on_strings(minilm_path):
    import keras

    from kerasformers import AutoTokenizer, TFAutoModelForSequenceClassification
    from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer

    checkpoint = minilm_path

    class EndToEndModel(keras.Model):
        def __init__(self, checkpoint):
            super().__init__()
            self.tokenizer = TFBertTokenizer.from_pretrained(checkpoint)
            self.model = TFAutoModelForSequenceClassification.from_pretrained(checkpoint)

        def call(self, inputs):
            return self.model(**self.tokenizer(inputs))

    model = EndToEndModel(checkpoint)
    texts = ["This is a test sentence!", "This is another one!"]
    predicted = model.predict(texts, verbose=0)
    batch = AutoTokenizer.from_pretrained(checkpoint)(texts, padding=True, return_tensors="np")
    expected = model.model(dict(batch)).logits.numpy()
    np.testing.assert_allclose(predicted["logits"], expected, atol=1e-5)


def test_unsupported_tokenizer_is_a_clear_error():
    from tokenizers import Tokenizer, models

    from kerasformers.tokenization import TFAutoTokenizer, UnsupportedTokenizerError

    with pytest.raises(UnsupportedTokenizerError, match="Unigram"):
        TFAutoTokenizer.from_tokenizer(Tokenizer(models.Unigram()))


def test_functional_model_on_strings_predicts_saves_and_fits(minilm_path, tmp_path):
    """keras.Input(dtype="string") -> tokenizer layer -> model: same logits as the Python path,
    the same after a .keras round trip, and trainable with fit() on strings."""
    import keras

    from kerasformers import AutoTokenizer, TFAutoModelForSequenceClassification
    from kerasformers.tokenization import TFAutoTokenizer

    tokenizer = TFAutoTokenizer.from_pretrained(minilm_path, max_length=32)
    classifier = TFAutoModelForSequenceClassification.from_pretrained(minilm_path, num_labels=2)
    text = keras.Input(shape=(), dtype="string", name="text")
    logits = classifier(tokenizer(text)).logits
    model = keras.Model(text, logits)

    texts = ["This is a test sentence!", "Another one, rather longer than the first one is."]
    batch = AutoTokenizer.from_pretrained(minilm_path)(texts, padding=True, return_tensors="np")
    expected = classifier(dict(batch)).logits.numpy()
    np.testing.assert_allclose(model.predict(tf.constant(texts), verbose=0), expected, atol=1e-5)

    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.predict(tf.constant(texts), verbose=0), expected, atol=1e-5)

    model.compile(
        optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    before = classifier.classifier.kernel.numpy().copy()
    history = model.fit(tf.data.Dataset.from_tensor_slices((texts, [0, 1])).batch(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(classifier.classifier.kernel.numpy(), before)
