"""The in-graph byte-level BPE tokenizer gives the ids of the ``tokenizers`` library."""

import numpy as np
import pytest
import tensorflow as tf

tokenizers = pytest.importorskip("tokenizers")
pytest.importorskip("tensorflow_text")

CORPUS = [
    "Hello world!",
    "",
    " ",
    "   ",
    "Café naïve résumé ÀÉÎÕÜ",
    "emoji 😀🎉👍🏽 and 🥲 🫠",
    "中文字符测试，日本語のテキスト、한국어",
    "tabs\tand\nnewlines\r\n  runs     of   spaces",
    "trailing spaces   ",
    "\n\nleading newlines and  'sam  's",
    "don't stop-believing... (really?) #1 @user $5.00 we're they've I'm you'll he'd it's",
    "Numbers 1234567890 3.14159 2024-01-01 ١٢٣",
    "İstanbul ΟΔΟΣ Straße ǅ ﬁ",
    "odd spaces\u00a0\u00a0nbsp\u3000 ideo\x85 nel\x1c fs\x0b\x0bvt\u2028ls",
    "the the the aaaa aaaaaaa banana bandana",
    "<|endoftext|>special in text<|endoftext|> tokens",
    "x" * 200,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math ∑∫√",
]
TRAIN = CORPUS * 3 + [
    "The quick brown fox jumps over the lazy dog. " * 5,
    "It's the café's résumé; they're here, we've got it, don't worry.",
    "中文 日本語 한국어 😀 emoji 12345 numbers and punctuation!?",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=256 + 400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(TRAIN, trainer)
    folder = tmp_path_factory.mktemp("bpe")
    tokenizer.save(str(folder / "tokenizer.json"))
    tokenizer.model.save(str(folder))  # vocab.json + merges.txt
    assert tokenizer.get_vocab_size() > 256 + 200
    return tokenizer, folder


def reference_ids(tokenizer, texts):
    return [tokenizer.encode(t).ids for t in texts]


@pytest.fixture(scope="module")
def layer(trained):
    from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer

    return TFByteLevelBPETokenizer.from_pretrained(trained[1], pad_token="<|endoftext|>")


def test_ids_match_tokenizers_per_text(trained, layer):
    ours = layer.tokenize(tf.constant(CORPUS)).to_list()
    reference = reference_ids(trained[0], CORPUS)
    for text, got, want in zip(CORPUS, ours, reference):
        assert got == want, repr(text)


def test_in_tf_function_and_vocab_merges_files(trained, tmp_path):
    import shutil

    from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer

    folder, plain = trained[1], tmp_path
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(folder / name, plain / name)
    layer = TFByteLevelBPETokenizer.from_pretrained(plain)
    texts = [t for t in CORPUS if "<|endoftext|>" not in t]
    fn = tf.function(lambda x: layer.tokenize(x), input_signature=[tf.TensorSpec([None], tf.string)])
    assert fn(tf.constant(texts)).to_list() == reference_ids(trained[0], texts)


def test_padding_and_attention_mask(trained, layer):
    tokenizer = trained[0]
    pad_id = tokenizer.token_to_id("<|endoftext|>")
    outputs = layer(CORPUS)
    assert sorted(outputs) == ["attention_mask", "input_ids"]
    reference = reference_ids(tokenizer, CORPUS)
    longest = max(map(len, reference))
    want_ids = np.full((len(CORPUS), longest), pad_id)
    want_mask = np.zeros((len(CORPUS), longest), int)
    for i, ids in enumerate(reference):
        want_ids[i, :len(ids)] = ids
        want_mask[i, :len(ids)] = 1
    np.testing.assert_array_equal(outputs["input_ids"].numpy(), want_ids)
    np.testing.assert_array_equal(outputs["attention_mask"].numpy(), want_mask)
    tokenizer.enable_padding(pad_id=pad_id, pad_token="<|endoftext|>")
    try:
        batch = tokenizer.encode_batch(CORPUS)
    finally:
        tokenizer.no_padding()
    np.testing.assert_array_equal(outputs["attention_mask"].numpy(), [e.attention_mask for e in batch])


def test_empty_batch(layer):
    assert layer.tokenize(tf.constant([], tf.string)).to_list() == []


def test_random_strings_match(trained, layer):
    rng = np.random.default_rng(0)
    pool = list("ab ecdthe'srtvmld  \t\n\r\u00a0\u3000.,!?-_0123456789éàü中文😀👍🏽ß")
    pool += ["'s", "'re", "'t", "  ", "the"]
    texts = ["".join(rng.choice(pool, size=rng.integers(0, 30))) for _ in range(300)]
    ours = layer.tokenize(tf.constant(texts)).to_list()
    reference = reference_ids(trained[0], texts)
    for text, got, want in zip(texts, ours, reference):
        assert got == want, repr(text)


def test_add_prefix_space(trained):
    from tokenizers import Tokenizer, pre_tokenizers

    from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer

    tokenizer = Tokenizer.from_str(trained[0].to_str())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    layer = TFByteLevelBPETokenizer.from_tokenizer(tokenizer)
    texts = CORPUS + ["<|endoftext|>", " <|endoftext|>x", "x<|endoftext|>"]
    assert layer.tokenize(tf.constant(texts)).to_list() == reference_ids(tokenizer, texts)


def test_subclassed_model_predict_config_and_saved_model(trained, layer, tmp_path):
    import keras

    from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer

    class Ids(keras.Model):
        def __init__(self, tokenizer):
            super().__init__()
            self.tokenizer = tokenizer

        def call(self, inputs):
            return self.tokenizer(inputs)["input_ids"]

    texts = ["Hello world!", "don't stop   now", "中文 😀"]
    reference = reference_ids(trained[0], texts)
    got = Ids(layer).predict(texts, verbose=0)
    assert [row[:len(want)].tolist() for row, want in zip(got, reference)] == reference

    clone = TFByteLevelBPETokenizer.from_config(layer.get_config())
    assert clone.tokenize(tf.constant(texts)).to_list() == reference

    module = tf.Module()
    module.tokenizer = layer
    module.serve = tf.function(lambda x: layer.tokenize(x).to_tensor(-1),
                               input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    out = loaded.serve(tf.constant(texts)).numpy()
    assert [[i for i in row if i >= 0] for row in out.tolist()] == reference


def test_tf_auto_tokenizer_dispatches_byte_level_bpe(trained):
    import json

    from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer
    from kerasformers.tokenizers_tf import TFAutoTokenizer

    folder = trained[1]
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<|endoftext|>"}))
    layer = TFAutoTokenizer.from_pretrained(folder)
    assert isinstance(layer, TFByteLevelBPETokenizer)
    texts = ["Hello world!", "don't  stop", ""]
    assert layer.tokenize(tf.constant(texts)).to_list() == reference_ids(trained[0], texts)
    assert layer.pad_id == trained[0].token_to_id("<|endoftext|>")


def test_bos_eos_template_and_pairs(trained):
    from tokenizers import Tokenizer, processors

    from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer

    tokenizer = Tokenizer.from_str(trained[0].to_str())
    eot = tokenizer.token_to_id("<|endoftext|>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|endoftext|> $A <|endoftext|>",
        pair="<|endoftext|> $A <|endoftext|> <|endoftext|>:1 $B:1 <|endoftext|>:1",
        special_tokens=[("<|endoftext|>", eot)])
    layer = TFByteLevelBPETokenizer.from_tokenizer(tokenizer, padding=False)
    firsts, seconds = ["Hello world!", "", "don't  stop"], ["a b", "中文 😀", ""]
    assert layer(firsts)["input_ids"].to_list() == reference_ids(tokenizer, firsts)
    got = layer(firsts, seconds, return_token_type_ids=True)
    want = [tokenizer.encode(a, b) for a, b in zip(firsts, seconds)]
    assert got["input_ids"].to_list() == [e.ids for e in want]
    assert got["token_type_ids"].to_list() == [e.type_ids for e in want]


def test_real_checkpoint_smollm2_matches_transformers(smollm2_path):
    transformers = pytest.importorskip("transformers")
    from kerasformers.tokenizers_tf import TFAutoTokenizer

    reference = transformers.AutoTokenizer.from_pretrained(str(smollm2_path))
    layer = TFAutoTokenizer.from_pretrained(smollm2_path)
    rng = np.random.default_rng(1)
    pool = list("ab ecdthe'srtvmld  \t\n\r\u00a0.,!?-_0123456789éàü中文😀👍🏽ß") + ["'s", "'re", " the", "  "]
    texts = CORPUS + ["".join(rng.choice(pool, size=rng.integers(0, 40))) for _ in range(100)]
    got = layer.tokenize(tf.constant(texts)).to_list()
    want = reference(texts, add_special_tokens=False)["input_ids"]
    for text, a, b in zip(texts, got, want):
        assert a == b, repr(text)
    batch = reference(texts[:6], padding=True, return_tensors="np")
    outputs = layer(texts[:6])
    np.testing.assert_array_equal(outputs["input_ids"].numpy(), batch["input_ids"])
    np.testing.assert_array_equal(outputs["attention_mask"].numpy(), batch["attention_mask"])
