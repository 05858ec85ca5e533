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
    trainer = trainers.BpeTrainer(
        vocab_size=256 + 400,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
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
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    return TFByteLevelBPETokenizer.from_pretrained(trained[1], pad_token="<|endoftext|>")


def test_ids_match_tokenizers_per_text(trained, layer):
    ours = layer.tokenize(tf.constant(CORPUS)).to_list()
    reference = reference_ids(trained[0], CORPUS)
    for text, got, want in zip(CORPUS, ours, reference):
        assert got == want, repr(text)


def test_in_tf_function_and_vocab_merges_files(trained, tmp_path):
    import shutil

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

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
        want_ids[i, : len(ids)] = ids
        want_mask[i, : len(ids)] = 1
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

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    tokenizer = Tokenizer.from_str(trained[0].to_str())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    layer = TFByteLevelBPETokenizer.from_tokenizer(tokenizer)
    texts = CORPUS + ["<|endoftext|>", " <|endoftext|>x", "x<|endoftext|>"]
    assert layer.tokenize(tf.constant(texts)).to_list() == reference_ids(tokenizer, texts)


def test_subclassed_model_predict_config_and_saved_model(trained, layer, tmp_path):
    import keras

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    class Ids(keras.Model):
        def __init__(self, tokenizer):
            super().__init__()
            self.tokenizer = tokenizer

        def call(self, inputs):
            return self.tokenizer(inputs)["input_ids"]

    texts = ["Hello world!", "don't stop   now", "中文 😀"]
    reference = reference_ids(trained[0], texts)
    got = Ids(layer).predict(texts, verbose=0)
    assert [row[: len(want)].tolist() for row, want in zip(got, reference)] == reference

    clone = TFByteLevelBPETokenizer.from_config(layer.get_config())
    assert clone.tokenize(tf.constant(texts)).to_list() == reference

    module = tf.Module()
    module.tokenizer = layer
    module.serve = tf.function(
        lambda x: layer.tokenize(x).to_tensor(-1), input_signature=[tf.TensorSpec([None], tf.string)]
    )
    tf.saved_model.save(module, str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    out = loaded.serve(tf.constant(texts)).numpy()
    assert [[i for i in row if i >= 0] for row in out.tolist()] == reference


def test_tf_auto_tokenizer_dispatches_byte_level_bpe(trained):
    import json

    from kerasformers.tokenization import TFAutoTokenizer
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    folder = trained[1]
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<|endoftext|>"}))
    layer = TFAutoTokenizer.from_pretrained(folder)
    assert isinstance(layer, TFByteLevelBPETokenizer)
    texts = ["Hello world!", "don't  stop", ""]
    assert layer.tokenize(tf.constant(texts)).to_list() == reference_ids(trained[0], texts)
    assert layer.pad_id == trained[0].token_to_id("<|endoftext|>")


def test_bos_eos_template_and_pairs(trained):
    from tokenizers import Tokenizer, processors

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    tokenizer = Tokenizer.from_str(trained[0].to_str())
    eot = tokenizer.token_to_id("<|endoftext|>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|endoftext|> $A <|endoftext|>",
        pair="<|endoftext|> $A <|endoftext|> <|endoftext|>:1 $B:1 <|endoftext|>:1",
        special_tokens=[("<|endoftext|>", eot)],
    )
    layer = TFByteLevelBPETokenizer.from_tokenizer(tokenizer, padding=False)
    firsts, seconds = ["Hello world!", "", "don't  stop"], ["a b", "中文 😀", ""]
    assert layer(firsts)["input_ids"].to_list() == reference_ids(tokenizer, firsts)
    got = layer(firsts, seconds, return_token_type_ids=True)
    want = [tokenizer.encode(a, b) for a, b in zip(firsts, seconds)]
    assert got["input_ids"].to_list() == [e.ids for e in want]
    assert got["token_type_ids"].to_list() == [e.type_ids for e in want]


def test_real_checkpoint_smollm2_matches_transformers(smollm2_path):
    transformers = pytest.importorskip("transformers")
    from kerasformers.tokenization import TFAutoTokenizer

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


# ------------------------------------------------------------------------------ Llama 3 / Qwen2 forms
# Real vocabularies: llama.cpp's tokenizer-only GGUF files. The oracles are llama.cpp's reference
# ids (written by the original Hugging Face tokenizers) and the tokenizers library running the
# tokenizer.json rebuilt from the same file (itself checked against those ids in test_gguf.py).
GGUF_VOCABS = ("gpt-2", "llama-bpe", "qwen2")
HARD = CORPUS + [
    "1 12 123 1234 12345 1234567 12345678901234567890 ٣٤٥٦٧ 1,234,567.89",
    "I'M YOU'RE they'LL We'Ve it'S he'D DON'T ca'n't 'ſ 'S",
    "\n\n\nparagraphs\n\n  \n\t\tindented\tcode()\n    return x  \n",
    "space before newline \n and\u00a0\nnbsp\u3000\n\u2028\u2029 \u205f\u1680x",
    " leading",
    "  two leading",
    "\t",
    "\n",
    "\r\n",
    "a\n",
    "word!!!\n\n",
    "??\r\n\r\nok",
    "Cửa Việt Hà Nội Tiếng Việt phở",
    "e\u0301 cafe\u0301 n\u0303 A\u030a \u212b \uff21\uff22 \u2460",  # combining marks: NFC composes them
    "🇺🇸 👨‍👩‍👧‍👦 ❤️ 👍🏽👍🏿",
    "ذهب الولد إلى المدرسة. Привет, мир! Γειά σου Κόσμε. नमस्ते दुनिया",
    "new letters \u1c89\u1c8a \U000105c0 and numbers \U00010d40\U00010d41 (Unicode 16)",
    "nul\x00byte \x00\x00 x\x01y \ufdd0lead\ufdd1 \ufdd0 \ufdd1\ufdd0",
    "<|begin_of_text|>Hello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n 2+2?<|im_end|>",
    "The quick brown fox jumps over the lazy dog. " * 40,
    "mixed   \t \n   whitespace\u3000\u3000 runs\n \n \n",
]


def random_texts(count: int, seed: int) -> list[str]:
    """Seeded strings over a varied alphabet (scripts, whitespace kinds, digits, contractions)."""
    rng = np.random.default_rng(seed)
    pool = list("abcXYZ eéèEÉ'sStTrRvVmMlLdD") + list(" \t\n\r\u00a0\u3000\u2028\x0b\x85\u205f") * 2
    pool += list('0123456789٣.,!?-_()"#$%&*+/:;<=>@[]^`{|}~') + list("中文日本語한국어ßſKİıÅ")
    pool += ["e\u0301", "n\u0303", "\u212b", "😀", "👍🏽", "👨‍👩‍👧", "\x00", "\ufdd0", "\ufdd1", "\x01", "\u1c89"]
    pool += ["'s", "'S", "'re", "'VE", "'m", "'ll", "'D", "  ", "\n\n", " \n", "the", " the", "123", "4567"]
    pool += ["<|endoftext|>", "<|begin_of_text|>", "<|im_start|>", "Việt", "Cửa"]
    return ["".join(rng.choice(pool, size=rng.integers(0, 40))) for _ in range(count)]


def gguf_spec(name):
    from fixture_data import llama_cpp_vocab

    from kerasformers.tokenization.gguf import gguf_tokenizer_json, read_gguf_vocab

    return gguf_tokenizer_json(read_gguf_vocab(llama_cpp_vocab(name)))


@pytest.fixture(scope="module", params=GGUF_VOCABS)
def gguf(request):
    """(name, tokenizers.Tokenizer, in-graph layer) for one llama.cpp vocabulary."""
    import json

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    spec = gguf_spec(request.param)
    return request.param, tokenizers.Tokenizer.from_str(json.dumps(spec)), TFByteLevelBPETokenizer.from_spec(spec)


def library_ids(tokenizer, texts):
    return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def assert_same_ids(texts, got, want):
    for text, a, b in zip(texts, got, want, strict=True):
        assert a == b, repr(text)


def test_gguf_vocabularies_equal_llama_cpp_reference_ids(gguf):
    from fixture_data import read_vocab_tests

    name, _, layer = gguf
    cases = read_vocab_tests(name)
    assert len(cases) == 46
    texts = [text for text, _ in cases]
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), [ids for _, ids in cases])


def test_gguf_vocabularies_equal_tokenizers_on_hard_and_random_texts(gguf):
    name, library, layer = gguf
    texts = HARD + random_texts(300, seed={"gpt-2": 1, "llama-bpe": 2, "qwen2": 3}[name])
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), library_ids(library, texts))


def test_digit_runs_split_per_pattern(gguf):
    # Llama 3's pattern takes digits in threes (\p{N}{1,3}), Qwen2's one by one (\p{N}), GPT-2's whole
    name, library, layer = gguf
    ids = layer.tokenize(tf.constant(["1234567"])).to_list()[0]
    pieces = [library.decode([i]) for i in ids]
    want = {"llama-bpe": ["123", "456", "7"], "qwen2": list("1234567")}.get(name)
    if want is not None:
        assert pieces == want
    assert ids == library_ids(library, ["1234567"])[0]


@pytest.fixture(scope="module")
def llama3():
    """Llama 3's vocabulary as the Python tokenizer (pad token set: the GGUF file has none) + its layer."""
    from fixture_data import llama_cpp_vocab

    from kerasformers.tokenization import TFAutoTokenizer, tokenizer_from_gguf

    gguf_spec("llama-bpe")  # skips when unavailable
    python = tokenizer_from_gguf(llama_cpp_vocab("llama-bpe"), pad_token="<|end_of_text|>")
    return python, TFAutoTokenizer.from_tokenizer(python)


def test_tf_auto_tokenizer_dispatches_split_byte_level_forms(llama3):
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    python, layer = llama3
    assert isinstance(layer, TFByteLevelBPETokenizer)
    assert layer.ignore_merges and layer.split_pattern is not None and layer.normalization_form is None
    assert layer.bos_ids == [python.convert_tokens_to_ids("<|begin_of_text|>")]
    assert layer.pad_id == python.pad_token_id


def test_llama3_call_matches_python_tokenizer(llama3):
    python, layer = llama3
    firsts = ["Hello world!", "", "Cửa Việt 1234567", HARD[4], "<|eot_id|> x " * 3, HARD[9]]
    seconds = ["a b", "中文 😀", "", "   ", "don't", "The quick brown fox " * 6]

    def compare(got, want, keys=("input_ids", "attention_mask")):
        for key in keys:
            np.testing.assert_array_equal(got[key].numpy(), want[key], err_msg=key)

    compare(layer(firsts), python(firsts, padding=True, return_tensors="np"))  # BOS, padding, mask
    layer.add_special_tokens = False  # a layer option, not a call argument
    try:
        compare(layer(firsts), python(firsts, padding=True, add_special_tokens=False, return_tensors="np"))
    finally:
        layer.add_special_tokens = True
    long, short = ["The quick brown fox jumps " * 4, HARD[4] * 2, "Cửa Việt 1234567 " * 3], ["a b", "", "x"]
    # only_first / only_second: the library refuses when the named sequence cannot absorb the cut
    for truncation, a, b in (
        ("longest_first", firsts, seconds),
        ("only_first", long, short),
        ("only_second", short, long),
    ):
        got = layer(
            a,
            b,
            padding="max_length",
            truncation=truncation,
            max_length=16,
            return_token_type_ids=True,
            return_special_tokens_mask=True,
        )
        want = python(
            a,
            b,
            padding="max_length",
            truncation=truncation,
            max_length=16,
            return_token_type_ids=True,
            return_special_tokens_mask=True,
            return_tensors="np",
        )
        compare(got, want, ("input_ids", "attention_mask", "token_type_ids", "special_tokens_mask"))
    compare(
        layer(firsts, padding="longest", truncation=True, max_length=5),
        python(firsts, padding="longest", truncation=True, max_length=5, return_tensors="np"),
    )
    compare(
        layer(firsts[:3], pad_to_multiple_of=8),
        python(firsts[:3], padding="longest", pad_to_multiple_of=8, return_tensors="np"),
    )


def test_llama3_saved_model_round_trip(llama3, tmp_path):
    python, layer = llama3
    module = tf.Module()
    module.tokenizer = layer
    module.serve = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    texts = ["Hello world!", "Cửa Việt 1234567", "<|begin_of_text|>hi<|eot_id|>", "\n\n  x  \t", ""]
    got = loaded.serve(tf.constant(texts))
    want = python(texts, padding=True, return_tensors="np")
    np.testing.assert_array_equal(got["input_ids"].numpy(), want["input_ids"])
    np.testing.assert_array_equal(got["attention_mask"].numpy(), want["attention_mask"])


def test_split_form_options_match_tokenizers(trained):
    """add_prefix_space per word, NFKC / NFD normalizers and no ignore_merges, on a small trained vocabulary."""
    from tokenizers import Regex, normalizers, pre_tokenizers

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer
    from kerasformers.tokenization.gguf import PRE_TOKENIZER_PATTERNS

    texts = HARD + random_texts(100, seed=4)
    for prefix, normalizer in ((True, normalizers.NFKC()), (False, normalizers.NFD()), (True, None)):
        tokenizer = tokenizers.Tokenizer.from_str(trained[0].to_str())
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(PRE_TOKENIZER_PATTERNS["qwen2"]), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=prefix, use_regex=False),
            ]
        )
        tokenizer.normalizer = normalizer
        layer = TFByteLevelBPETokenizer.from_tokenizer(tokenizer)
        assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), library_ids(tokenizer, texts))


def test_a_pattern_with_more_unicode_properties_matches_tokenizers():
    """GPT-4o's split regex (\\p{Lu} \\p{Ll} \\p{M} ..., [\\r\\n/]*): the translation is not per known pattern.

    The first run on a machine reads the properties' tables off both regex engines (~20 s, cached).
    """
    from tokenizers import Regex, models, pre_tokenizers, trainers

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    pattern = (
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
        "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
        "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    )
    tokenizer = tokenizers.Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.train_from_iterator(
        TRAIN,
        trainers.BpeTrainer(vocab_size=600, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False),
    )
    layer = TFByteLevelBPETokenizer.from_tokenizer(tokenizer)
    texts = HARD + random_texts(200, seed=6) + ["HelloWorld CamelCASE ÉcoleNormale ǅungla x\u0301y a/b\n/"]
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), library_ids(tokenizer, texts))


def test_unsupported_pipelines_raise_clear_errors(trained):
    import json

    from kerasformers.errors import UnsupportedTokenizerError
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    base = json.loads(trained[0].to_str())
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}

    def split(pattern, behavior="Isolated", invert=False):
        return {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert},
                byte_level,
            ],
        }

    cases = [
        (split({"Regex": "(?<=a)b|\\s+"}), None, "(?<"),
        (split({"Regex": "\\d+|\\s+"}), None, "\\d"),
        (split({"Regex": "^\\s+"}), None, "anchors"),
        (split({"Regex": "a++"}), None, "possessive"),
        (split({"Regex": "x(?!\\S)|\\s+"}), None, "(?!\\S) after something other than \\s+"),
        (split({"String": ""}), None, "pattern {'String': ''} is not supported"),
        (split({"Regex": "\\s+"}, behavior="Sideways"), None, "behavior 'Sideways'"),
        (split({"Regex": "a*|\\s+"}), None, "matches the empty string"),
        ({"type": "Whitespace"}, None, "end in one ByteLevel step"),
        ({"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, byte_level]}, None, "step 'Whitespace'"),
        ({"type": "Sequence", "pretokenizers": [byte_level, byte_level]}, None, "end in one ByteLevel step"),
        (split({"Regex": "\\s+"}), {"type": "Lowercase"}, "Normalizer 'Lowercase'"),
    ]
    for pre, normalizer, message in cases:
        spec = {**base, "pre_tokenizer": pre, "normalizer": normalizer}
        with pytest.raises(UnsupportedTokenizerError) as error:
            TFByteLevelBPETokenizer.from_spec(spec)
        assert message in str(error.value), (pre, normalizer)


@pytest.mark.slow
@pytest.mark.parametrize("name", GGUF_VOCABS)
def test_gguf_vocabularies_equal_transformers(name):
    """transformers' own GGUF loader (20-30 s a vocabulary) as a second oracle, where it is right.

    Its Llama 3 conversion lacks ``ignore_merges`` and so disagrees with llama.cpp's reference on
    'Cửa Việt'; with that one model option switched on it agrees with the reference, and is compared
    so. It also adds an ``<|endoftext|>`` token that the file does not have: texts holding it are left
    out. Its Qwen2 conversion lacks the NFC normalizer of Qwen2's tokenizer.json: it gets NFC text.
    """
    import json
    import unicodedata

    transformers = pytest.importorskip("transformers")
    from fixture_data import llama_cpp_vocab, read_vocab_tests

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    layer = TFByteLevelBPETokenizer.from_spec(gguf_spec(name))
    path = llama_cpp_vocab(name)
    reference = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    if name == "llama-bpe":
        assert not json.loads(reference.backend_tokenizer.to_str())["model"]["ignore_merges"]
        reference.backend_tokenizer.model.ignore_merges = True
    cases = read_vocab_tests(name)
    assert [reference.encode(text, add_special_tokens=False) for text, _ in cases] == [ids for _, ids in cases]
    texts = HARD + random_texts(200, seed=5)
    if name == "llama-bpe":
        texts = [text for text in texts if "<|endoftext|>" not in text]
    if name == "qwen2":
        assert json.loads(reference.backend_tokenizer.to_str())["normalizer"] is None
    inputs = [unicodedata.normalize("NFC", text) for text in texts] if name == "qwen2" else texts
    want = reference(inputs, add_special_tokens=False)["input_ids"]
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), want)


@pytest.fixture(scope="module")
def roberta_folder(tmp_path_factory):
    """A RoBERTa-style checkpoint folder (vocab.json + merges.txt) on GPT-2's real vocabulary:
    RoBERTa's special tokens first, GPT-2's tokens after, <mask> last, as roberta-base lays them out."""
    import json

    from fixture_data import llama_cpp_vocab

    from kerasformers.tokenization.gguf import read_gguf_vocab

    gpt2 = read_gguf_vocab(llama_cpp_vocab("gpt-2"))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token in gpt2.tokens:
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    folder = tmp_path_factory.mktemp("roberta")
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(gpt2.merges) + "\n", encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"model_type": "roberta"}))
    return folder


def test_roberta_template_matches_transformers(roberta_folder):
    """RobertaProcessing (<s> A </s></s> B </s>), RoBERTa's pad id, no token_type_ids: as transformers."""
    transformers = pytest.importorskip("transformers")
    from kerasformers import AutoTokenizer
    from kerasformers.tokenization import TFAutoTokenizer

    reference = transformers.AutoTokenizer.from_pretrained(str(roberta_folder))
    texts = HARD[:12] + ["Hello <mask>. <s>x</s>", "  spaces  <mask>  around", "a<pad>b"]
    pairs = (["pair  <mask>", "", "q?"] * 5)[: len(texts)]
    expected = reference(texts, pairs, padding=True, return_tensors="np")
    for python_tokenizer in (reference, AutoTokenizer.from_pretrained(roberta_folder)):
        layer = TFAutoTokenizer.from_tokenizer(python_tokenizer)
        got = layer(texts, pairs)
        assert sorted(got) == ["attention_mask", "input_ids"]
        np.testing.assert_array_equal(got["input_ids"].numpy(), expected["input_ids"])
        np.testing.assert_array_equal(got["attention_mask"].numpy(), expected["attention_mask"])
    single = reference(texts, padding=True, return_tensors="np")
    np.testing.assert_array_equal(layer(texts)["input_ids"].numpy(), single["input_ids"])


def test_lstrip_rstrip_added_tokens_match_tokenizers(roberta_folder):
    """roberta-base's <mask> takes the spaces on its left (lstrip); rstrip the same on the right."""
    import json

    from kerasformers import AutoTokenizer
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    spec = json.loads(AutoTokenizer.from_pretrained(roberta_folder).backend_tokenizer.to_str())
    texts = ["Hello <mask>.", "x \t<mask>\u00a0 y", "<mask>", " <mask> ", "a<mask>b  <mask>", "  <s> </s>  ", ""]
    for lstrip, rstrip in ((True, False), (False, True), (True, True)):
        for token in spec["added_tokens"]:
            if token["content"] == "<mask>":
                token.update(lstrip=lstrip, rstrip=rstrip)
        library = tokenizers.Tokenizer.from_str(json.dumps(spec))
        layer = TFByteLevelBPETokenizer.from_spec(spec)
        got = layer(texts, padding="do_not_pad")["input_ids"].to_list()
        assert_same_ids(texts, got, [e.ids for e in library.encode_batch(texts)])


def test_bytes_missing_from_the_vocabulary_drop_out_before_merging(smollm2_path):
    """tokenizers drops a byte that is not in the vocabulary (no unk token) before merging, so its
    neighbours merge with each other. SmolLM2's vocabulary has no token for the byte F2 (the lead
    byte of U+80000-U+BFFFF): in U+0308 U+92000 (CC 88 F2 92 80 80) the bytes 88 and 92 merge.
    Found by tests/test_tokenizer_properties.py."""
    import json

    from tokenizers.models import BPE

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    library = tokenizers.Tokenizer.from_file(str(smollm2_path / "tokenizer.json"))
    layer = TFByteLevelBPETokenizer.from_pretrained(smollm2_path)
    # "\x16" has no token either: a word of it alone is left with no symbols at all
    texts = ["\u0308\U00092000", "x\u0308\U00092000y \U00092000\u0308", "\U00092000", "\x1600§0", "a \x16 b\x16"]
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), library_ids(library, texts))

    # the same on a tiny vocabulary: "é" (bytes C3 A9, "Ã©") has no token, so "a" and "b" meet and merge
    tiny = tokenizers.Tokenizer(BPE({"a": 0, "b": 1, "ab": 2}, [("a", "b")]))
    tiny.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    layer = TFByteLevelBPETokenizer.from_spec(json.loads(tiny.to_str()))
    texts = ["aéb", "aébéa", "éé"]
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), library_ids(tiny, texts))


# ------------------------------------------------------------------------------ multi-step pre-tokenisers
# Sequences of several Split / Digits / WhitespaceSplit steps before ByteLevel, each acting on the
# pieces of the one before. Oracle: the tokenizers library on the same tokenizer.json.
NUMBERS_AND_CODE = [
    "trimming    10",
    "1/2 + 3/4 = 5/4, ½ ⅓ ² ³ ① ٣٤ ۵ १२ 〇 Ⅻ 10,000.5 1e-5 0x1F v1.2.3-rc4",
    "def f(x):\n    return x ** 2  # 1234\n\n\tif a<=b:\n\t\tprint(f'{a!r}')\r\n",
    "for (int i = 0; i < 10; ++i) { s += a[i]; }  // C\n    \t  \n",
    "x\tb  \t c \t\n d\u3000e \u00a0f",
    "a--b-- -c- --d",
    "İstanbul 北京 東京タワー ひらがな カタカナ 한국어 Ελληνικά",
]


def varied_texts(seed: int) -> list[str]:
    """HARD + numbers and code + movie-review sentences + VADER lexicon entries + random strings."""
    from fixture_data import vader_lexicon_texts

    from kerasformers.data.embedded import read_movie_review_scores

    reviews = [sentence for sentence, _ in read_movie_review_scores()[::80]]
    return HARD + NUMBERS_AND_CODE + reviews + vader_lexicon_texts()[::80] + random_texts(120, seed)


@pytest.fixture(scope="module")
def smollm2_spec(smollm2_path):
    import json

    return json.loads((smollm2_path / "tokenizer.json").read_text())


def assert_layer_matches_library(spec, texts):
    import json

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    library = tokenizers.Tokenizer.from_str(json.dumps(spec))
    layer = TFByteLevelBPETokenizer.from_spec(spec)
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), library_ids(library, texts))
    return layer


def test_smollm2_split_sequence_matches_tokenizers(smollm2_spec):
    # Split(\p{N}) then Split(llama.cpp's GPT-2 regex, without its `|\s+` fallback) then ByteLevel
    kinds = [step["type"] for step in smollm2_spec["pre_tokenizer"]["pretokenizers"]]
    assert kinds == ["Split", "Split", "ByteLevel"]
    layer = assert_layer_matches_library(smollm2_spec, varied_texts(seed=11))
    assert len(layer.pre_tokenizer_splits) == 2 and not layer.byte_level_regex


@pytest.mark.parametrize("individual_digits, add_prefix_space", [(True, False), (False, True)])
def test_digits_then_byte_level_regex_spelling_matches_tokenizers(smollm2_spec, individual_digits, add_prefix_space):
    # the original Hugging Face SmolLM2 / StarCoder spelling: Digits then ByteLevel(use_regex=true)
    pre = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Digits", "individual_digits": individual_digits},
            {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True, "use_regex": True},
        ],
    }
    texts = HARD + NUMBERS_AND_CODE + random_texts(150, seed=12 + individual_digits)
    layer = assert_layer_matches_library({**smollm2_spec, "pre_tokenizer": pre}, texts)
    assert layer.byte_level_regex and layer.add_prefix_space == add_prefix_space


MULTI_SPLIT_VOCABS = ("starcoder", "command-r", "deepseek-coder", "falcon")


@pytest.mark.parametrize("name", MULTI_SPLIT_VOCABS)
def test_multi_split_gguf_vocabularies_equal_llama_cpp_and_tokenizers(name):
    from fixture_data import read_vocab_tests

    spec = gguf_spec(name)
    assert len(spec["pre_tokenizer"]["pretokenizers"]) >= 3  # two or more Split steps, then ByteLevel
    cases = read_vocab_tests(name)
    texts = [text for text, _ in cases]
    layer = assert_layer_matches_library(spec, texts + varied_texts(seed=20 + MULTI_SPLIT_VOCABS.index(name)))
    assert_same_ids(texts, layer.tokenize(tf.constant(texts)).to_list(), [ids for _, ids in cases])


def test_split_behaviors_match_tokenizers(trained):
    import json

    from kerasformers.tokenization.gguf import GGUF_PRE_TOKENIZERS

    base = json.loads(trained[0].to_str())
    gpt2_no_fallback = GGUF_PRE_TOKENIZERS["starcoder"].splits[1]

    def split(pattern, behavior, invert=False, kind="Regex"):
        return {"type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": invert}

    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    sequences = [
        [split("\\p{P}+", "Removed"), split(gpt2_no_fallback, "MergedWithPrevious"), byte_level],
        [split("-", "MergedWithNext", kind="String"), split("\\s+(?!\\S)|\\s+", "MergedWithPrevious"), byte_level],
        [split("\\p{N}", "Contiguous"), split("\\p{L}+", "Contiguous", invert=True), byte_level],
        [split("\\s+", "Removed", invert=True), split(gpt2_no_fallback, "MergedWithNext"), byte_level],
        [
            {"type": "WhitespaceSplit"},
            {"type": "Digits", "individual_digits": False},
            {**byte_level, "use_regex": True},
        ],
    ]
    texts = HARD + NUMBERS_AND_CODE + random_texts(120, seed=30)
    for steps in sequences:
        assert_layer_matches_library({**base, "pre_tokenizer": {"type": "Sequence", "pretokenizers": steps}}, texts)


def test_multi_split_saved_model_round_trip(smollm2_spec, tmp_path):
    import json

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    layer = TFByteLevelBPETokenizer.from_spec(smollm2_spec)
    texts = NUMBERS_AND_CODE + ["", "Hello 2024 world!"]
    want = library_ids(tokenizers.Tokenizer.from_str(json.dumps(smollm2_spec)), texts)
    clone = TFByteLevelBPETokenizer.from_config(layer.get_config())
    assert clone.pre_tokenizer_splits == layer.pre_tokenizer_splits
    module = tf.Module()
    module.layer = layer
    module.tokenize = tf.function(
        lambda text: layer.tokenize(text).to_tensor(-1), input_signature=[tf.TensorSpec([None], tf.string)]
    )
    tf.saved_model.save(module, str(tmp_path / "tokenizer"))
    loaded = tf.saved_model.load(str(tmp_path / "tokenizer"))
    got = [[i for i in row if i >= 0] for row in loaded.tokenize(tf.constant(texts)).numpy().tolist()]
    assert got == want
    assert clone.tokenize(tf.constant(texts)).to_list() == want


def test_tf_gpt2_tokenizer_as_transformers_tf_side(trained, tmp_path):
    """TFGPT2Tokenizer keeps 4.57's constructor, from_tokenizer/from_pretrained and call(x, max_length)."""
    import transformers

    from kerasformers import GPT2TokenizerFast, TFGPT2Tokenizer

    _, folder = trained
    reference = transformers.GPT2TokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    texts = CORPUS[:6]
    expected = [reference(t)["input_ids"] for t in texts]

    layer = TFGPT2Tokenizer.from_tokenizer(GPT2TokenizerFast(tokenizer_file=str(folder / "tokenizer.json")))
    out = layer(tf.constant(texts))
    mask = out["attention_mask"].numpy().astype(bool)
    assert [row[m].tolist() for row, m in zip(out["input_ids"].numpy(), mask)] == expected

    # 4.57: with pad_token_id and max_length every row is padded/truncated to max_length
    pad = reference.convert_tokens_to_ids("<|endoftext|>")
    fixed = TFGPT2Tokenizer.from_pretrained(folder, max_length=12, pad_token_id=pad)
    out = fixed(tf.constant(texts))
    reference.pad_token = "<|endoftext|>"
    want = reference(texts, padding="max_length", truncation=True, max_length=12, return_tensors="np")
    np.testing.assert_array_equal(out["input_ids"].numpy(), want["input_ids"])
    np.testing.assert_array_equal(out["attention_mask"].numpy(), want["attention_mask"])
    # and per call, as 4.57's call(x, max_length=...)
    assert fixed(tf.constant(texts), max_length=5)["input_ids"].shape[1] == 5

    # the constructor transformers users called, and a config round trip
    direct = TFGPT2Tokenizer(layer.vocab, layer.merges, max_length=12, pad_token_id=pad)
    np.testing.assert_array_equal(direct(tf.constant(texts))["input_ids"].numpy(), want["input_ids"])
    rebuilt = TFGPT2Tokenizer.from_config(direct.get_config())
    assert type(rebuilt) is TFGPT2Tokenizer and rebuilt.pad_token_id == pad
    np.testing.assert_array_equal(rebuilt(tf.constant(texts))["input_ids"].numpy(), want["input_ids"])


def test_word_cache_gives_the_library_ids_on_hits_misses_and_long_words(trained, monkeypatch):
    """The word cache (as the tokenizers library's BPE cache) never changes ids: a batch tokenized
    again (all hits), then one mixing cached and new words, words longer than the cache's pieces,
    in eager mode and in a graph (whose batches of 32+ texts run as two halves), and with the cache
    full (a capacity of 5 words: new words are merged every time and not stored)."""
    from kerasformers.tokenization import bpe
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    long_word = "😀👍🏽中文日本語한국어" * 3  # many byte-level pieces, past WORD_CACHE_PIECES
    first = random_texts(40, seed=5) + [long_word, "the " + long_word]
    second = first[::2] + random_texts(40, seed=6) + [long_word + "x"]
    for capacity in (bpe.WORD_CACHE_CAPACITY, 5):
        monkeypatch.setattr(bpe, "WORD_CACHE_CAPACITY", capacity)
        layer = TFByteLevelBPETokenizer.from_pretrained(trained[1], pad_token="<|endoftext|>")
        graph = tf.function(
            lambda t: layer.tokenize(t).to_tensor(-7), input_signature=[tf.TensorSpec([None], tf.string)]
        )
        sizes = []
        for texts in (first, first, second, second[:3]):
            want = reference_ids(trained[0], texts)
            assert layer.tokenize(tf.constant(texts)).to_list() == want
            sizes.append(int(layer._word_cache.size()))
            assert [[i for i in row if i != -7] for row in graph(tf.constant(texts)).numpy().tolist()] == want
        if capacity == 5:  # full after the first call: nothing is stored after it
            assert sizes[0] >= 5 and int(layer._word_cache.size()) == sizes[0]
        else:  # the second batch's new words are stored
            assert 0 < sizes[0] < sizes[2] <= bpe.WORD_CACHE_CAPACITY
