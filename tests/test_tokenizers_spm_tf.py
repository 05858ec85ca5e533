"""The in-graph SentencePiece tokenizer gives the ids of the original tokenizers.

Oracles: llama.cpp's reference ids (``ggml-vocab-*.gguf.out``, written by the original
Hugging Face tokenizers), the ``tokenizers`` library (through our Python tokenizer, which
matches all reference ids), transformers' GGUF loader where it agrees with the reference, and
protobuf itself (transformers' generated ``sentencepiece_model_pb2``) for the ModelProto bytes.
"""

import json
import random

import numpy as np
import pytest
import tensorflow as tf

pytest.importorskip("tensorflow_text")

from fixture_data import llama_cpp_vocab, read_vocab_tests  # noqa: E402

NAMES = ["llama-spm", "phi-3"]
CONTROL_TEXT = {"llama-spm": ["<s>", "</s>", "<unk>"], "phi-3": ["<s>", "</s>", "<|endoftext|>", "<|user|>", "<|end|>"]}
HARD = [
    "",
    " ",
    "  ",
    "\n",
    "\t",
    " \n ",
    "Hello world",
    " Hello world",
    "Hello world ",
    "  leading and trailing  ",
    "Café naïve résumé ÀÉÎÕÜ İstanbul Straße ǅ ﬁ",
    "emoji 😀🎉👍🏽 🤗🦙 and 🥲 🫠 🧙‍♂️",
    "中文字符测试，日本語のテキスト、한국어 東京",
    "tabs\tand\nnewlines\r\n  runs     of   spaces",
    "\n\n\nleading newlines",
    "odd spaces\u00a0\u00a0nbsp\u3000ideo\u2028ls\u200bzw",
    "don't stop-believing... (really?) #1 @user $5.00 we're I'm",
    "Numbers 1234567890 3.14159 ١٢٣",
    "the the the aaaa aaaaaaa banana bandana",
    "▁already▁escaped ▁",
    "a\x00b",
    "\x00",
    "\x01\x7f\x1b[0m",
    "a\U0010fffe0b\x00\U0010fffee",  # the layer's escape character for NULs round-trips
    "rare \U0001d518\U0001d52b\U0001d526 \U00010348 \ue000 \ufffd ꙮ",
    "x" * 300,
    "The quick brown fox jumps over the lazy dog. " * 12,
]
RANDOM_ALPHABET = [
    "a",
    "b",
    "e",
    "Hello",
    "the",
    " ",
    "  ",
    "\t",
    "\n",
    "é",
    "東",
    "🤗",
    "\x00",
    "▁",
    "ǅ",
    "\u00a0",
    "\u200b",
    "\U0001f9d9",
    "'",
    ".",
    "1",
    "ab",
]


def control_corpus(name):
    tokens = CONTROL_TEXT[name]
    return [
        f"{tokens[0]}start",
        f"a{tokens[1]}b",
        f" {tokens[-1]} spaced {tokens[0]}",
        "".join(tokens),
        f"{tokens[1]}\x00{tokens[1]}",
        f"x{tokens[0]} ",
        "<s",
        "</s",
        "<<s>>",
    ]


def random_texts(name, count=300, seed=0):
    rng = random.Random(seed)
    alphabet = RANDOM_ALPHABET + CONTROL_TEXT[name]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(count)]


def corpus(name):
    return [text for text, _ in read_vocab_tests(name)] + HARD + control_corpus(name) + random_texts(name)


@pytest.fixture(scope="module", params=NAMES)
def name(request):
    return request.param


@pytest.fixture(scope="module")
def python_tokenizer(name):
    from kerasformers.tokenization import tokenizer_from_gguf

    tokenizer = tokenizer_from_gguf(llama_cpp_vocab(name))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = "</s>"
    return tokenizer


@pytest.fixture(scope="module")
def layers(name, python_tokenizer, tmp_path_factory):
    """The three construction paths: GGUF vocabulary, Python tokenizer, tokenizer.model file."""
    from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer

    from_gguf = TFSentencePieceTokenizer.from_gguf(llama_cpp_vocab(name), pad_id=python_tokenizer.pad_token_id)
    model_file = tmp_path_factory.mktemp("spm") / "tokenizer.model"
    model_file.write_bytes(from_gguf.model_proto)
    return {
        "gguf": from_gguf,
        "tokenizer": TFSentencePieceTokenizer.from_tokenizer(python_tokenizer),
        "model_file": TFSentencePieceTokenizer.from_model_file(model_file, pad_id=python_tokenizer.pad_token_id),
    }


def python_ids(tokenizer, texts):
    return [tokenizer.encode(text, add_special_tokens=False) for text in texts]


# ----------------------------------------------------------------------------- the ModelProto


def test_model_proto_is_what_protobuf_reads(name):
    """Our hand-written serialisation, parsed by protobuf (transformers' generated module)."""
    pytest.importorskip("transformers")
    # the generated module transformers itself uses (sentencepiece's own when installed): importing a
    # second one registers "sentencepiece_model.proto" twice and breaks transformers' later loads
    from transformers.convert_slow_tokenizer import import_protobuf

    pb = import_protobuf()

    from kerasformers.tokenization.gguf import read_gguf_vocab
    from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer, read_sentencepiece_model_proto

    vocab = read_gguf_vocab(llama_cpp_vocab(name))
    proto = TFSentencePieceTokenizer.from_gguf(llama_cpp_vocab(name)).model_proto
    parsed = pb.ModelProto()
    parsed.ParseFromString(proto)
    assert [p.piece for p in parsed.pieces] == vocab.tokens
    assert np.array_equal(np.float32([p.score for p in parsed.pieces]), np.float32(vocab.scores))
    types = [p.type for p in parsed.pieces]
    # one unknown piece (SentencePiece allows no more); llama.cpp's other "unknown" slots become control
    assert [i for i, t in enumerate(types) if t == pb.ModelProto.SentencePiece.UNKNOWN] == [vocab.unknown_token_id]
    assert all(
        t == (k if k != 2 else 3)
        for i, (t, k) in enumerate(zip(types, vocab.token_types))
        if i != vocab.unknown_token_id
    )
    spec, norm = parsed.trainer_spec, parsed.normalizer_spec
    assert spec.model_type == pb.TrainerSpec.BPE and spec.byte_fallback and spec.vocab_size == len(vocab.tokens)
    assert (spec.unk_id, spec.bos_id, spec.eos_id) == (vocab.unknown_token_id, vocab.bos_token_id, vocab.eos_token_id)
    assert spec.pad_id == (-1 if vocab.padding_token_id is None else vocab.padding_token_id)
    assert (
        norm.name == "identity"
        and norm.add_dummy_prefix
        and not norm.remove_extra_whitespaces
        and norm.escape_whitespaces
        and not norm.precompiled_charsmap
    )

    # and our reader reads what protobuf writes
    parsed.normalizer_spec.add_dummy_prefix = False
    parsed.trainer_spec.bos_id = -1
    info = read_sentencepiece_model_proto(parsed.SerializeToString())
    assert info["pieces"] == vocab.tokens and info["types"] == types
    assert not info["add_dummy_prefix"] and info["bos_id"] == -1 and info["byte_fallback"]


# ----------------------------------------------------------------------------- ids


def test_ids_equal_llama_cpp_reference(name, layers):
    cases = read_vocab_tests(name)
    assert len(cases) == 46
    texts = [text for text, _ in cases]
    for path, layer in layers.items():
        got = layer.tokenize(tf.constant(texts)).to_list()
        for text, ids, (_, expected) in zip(texts, got, cases):
            assert ids == expected, (path, text)


def test_ids_equal_python_tokenizer_on_hard_and_random_texts(name, python_tokenizer, layers):
    texts = corpus(name)
    expected = python_ids(python_tokenizer, texts)
    assert any(3 <= i <= 258 for ids in expected for i in ids)  # byte fallback is exercised
    for path, layer in layers.items():
        got = layer.tokenize(tf.constant(texts)).to_list()
        for text, ids, want in zip(texts, got, expected):
            assert ids == want, (path, text)


def test_ids_equal_transformers_where_it_follows_llama(name, layers):
    """transformers' GGUF loader agrees with the reference for phi-3; for llama-spm it converts to
    a Metaspace(prepend_scheme="first") pre-tokenizer instead of Llama 2's legacy normaliser, so it
    adds no "▁" before text starting with a space or "▁", nor after a special token (15 of the 46
    reference texts): those are left out for llama-spm."""
    transformers = pytest.importorskip("transformers")
    path = llama_cpp_vocab(name)
    reference = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    texts = corpus(name)
    if name == "llama-spm":
        texts = [t for t in texts if not t.startswith((" ", "▁")) and not any(c in t for c in CONTROL_TEXT[name])]
    assert len(texts) > 150
    got = layers["gguf"](texts, padding=False)["input_ids"]
    for text, ids in zip(texts, got):
        assert ids.numpy().tolist() == reference(text)["input_ids"], repr(text)


def test_special_tokens_pairs_padding_truncation_as_python(name, python_tokenizer, layers):
    layer = layers["tokenizer"]
    first = ["Hello world", "", "  x  y ", "東京 🤗 a</s>b", "x" * 40]
    second = ["a b c d e f g", "Hello", "", " z", "中文字符测试"]
    cases = [
        dict(),
        dict(padding="max_length", max_length=24),
        dict(truncation=True, max_length=6),
        dict(padding="max_length", truncation="longest_first", max_length=9),
        dict(truncation="only_second", max_length=16),
        dict(padding=True, pad_to_multiple_of=8),
    ]
    for options in cases:
        for pair in (None, second):
            want = python_tokenizer(first, pair, **({"padding": True} | options))
            got = layer(first, pair, **options)
            assert sorted(got) == ["attention_mask", "input_ids"]
            for key in ("input_ids", "attention_mask"):
                assert got[key].numpy().tolist() == want[key], (options, pair is not None, key)
    assert layer(["Hello"])["input_ids"].numpy()[0, 0] == python_tokenizer.bos_token_id
    plain = layers["tokenizer"].__class__.from_tokenizer(python_tokenizer, add_special_tokens=False)
    assert plain.tokenize(tf.constant(first)).to_list() == python_ids(python_tokenizer, first)
    assert (
        plain(first)["input_ids"][0].numpy().tolist()
        == python_tokenizer(first, add_special_tokens=False, padding=True)["input_ids"][0]
    )


# ----------------------------------------------------------------------------- decoding


def test_detokenize_equals_python_decode(name, python_tokenizer, layers):
    texts = corpus(name)
    sequences = [python_tokenizer.encode(text) for text in texts]
    # byte pieces that are no UTF-8 (a model can generate them): a truncated character, a stray
    # byte, a run mixing a valid character with an invalid byte (all of the run becomes U+FFFD)
    e5, x97, xa5, xff = (python_tokenizer.convert_tokens_to_ids(f"<0x{b:02X}>") for b in (0xE5, 0x97, 0xA5, 0xFF))
    hello = python_tokenizer.encode("Hello", add_special_tokens=False)
    sequences += [
        [e5, x97],
        [xff],
        [e5, x97, xa5, xff],
        hello + [e5, x97, xa5] + hello + [xff, e5],
        [],
        [python_tokenizer.bos_token_id],
        hello + [python_tokenizer.eos_token_id] + hello,
        [e5, python_tokenizer.bos_token_id, x97, xa5],
        [e5, x97, python_tokenizer.bos_token_id],
    ]
    for path, layer in layers.items():
        got = layer.detokenize(tf.ragged.constant(sequences, dtype=tf.int64, row_splits_dtype=tf.int64)).numpy()
        for ids, text in zip(sequences, got):
            assert text.decode("utf-8") == python_tokenizer.decode(ids, skip_special_tokens=True), (path, ids)
    # a padded batch: the pad id is a special token, so it is skipped too
    batch = layers["tokenizer"](texts[:8])["input_ids"]
    want = python_tokenizer.batch_decode(batch.numpy().tolist(), skip_special_tokens=True)
    assert [t.decode("utf-8") for t in layers["tokenizer"].detokenize(batch).numpy()] == want


def test_ids_to_tokens(python_tokenizer, layers):
    ids = python_tokenizer.encode("Hello 東京 🤗 world</s>")
    got = layers["tokenizer"].ids_to_tokens(tf.constant(ids)).numpy()
    assert [t.decode("utf-8") for t in got] == python_tokenizer.convert_ids_to_tokens(ids)


# ----------------------------------------------------------------------------- construction


def test_tf_auto_tokenizer_dispatches_sentencepiece(name, python_tokenizer, tmp_path):
    from kerasformers import TFAutoTokenizer, TFSentencePieceTokenizer
    from kerasformers.errors import UnsupportedTokenizerError

    layer = TFAutoTokenizer.from_tokenizer(python_tokenizer)
    assert isinstance(layer, TFSentencePieceTokenizer)
    texts = ["Hello world", " x</s>y", ""]
    assert layer.tokenize(tf.constant(texts)).to_list() == python_ids(python_tokenizer, texts)
    # a checkpoint folder with a tokenizer.json
    python_tokenizer.backend_tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"bos_token": "<s>", "eos_token": "</s>", "pad_token": python_tokenizer.pad_token})
    )
    from_folder = TFAutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(from_folder, TFSentencePieceTokenizer)
    assert from_folder(texts)["input_ids"].numpy().tolist() == layer(texts)["input_ids"].numpy().tolist()

    # transformers' own conversion interleaves the merges of tied pieces so that no scores
    # reproduce them: a clear error, unless the folder has the tokenizer.model (next test)
    transformers = pytest.importorskip("transformers")
    path = llama_cpp_vocab(name)
    theirs = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    with pytest.raises(UnsupportedTokenizerError, match="tokenizer.model"):
        TFAutoTokenizer.from_tokenizer(theirs)


def test_transformers_conversion_with_its_tokenizer_model(name, tmp_path):
    """A folder as transformers saves it (its tokenizer.json: for llama-spm a Metaspace
    pre-tokenizer with prepend_scheme="first") next to the original tokenizer.model: the layer
    runs that model with the folder's pre-tokenizer and template, and gives transformers' ids on
    every text, whitespace-only ones and text after special tokens included."""
    transformers = pytest.importorskip("transformers")
    from kerasformers import AutoTokenizer, TFAutoTokenizer, TFSentencePieceTokenizer

    path = llama_cpp_vocab(name)
    theirs = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    theirs.save_pretrained(str(tmp_path))
    (tmp_path / "tokenizer.model").write_bytes(TFSentencePieceTokenizer.from_gguf(path).model_proto)
    layer = TFAutoTokenizer.from_pretrained(tmp_path)
    assert layer.prepend_scheme == ("first" if name == "llama-spm" else None)
    texts = corpus(name)
    for text, ids in zip(texts, layer(texts, padding=False)["input_ids"]):
        assert ids.numpy().tolist() == theirs(text)["input_ids"], repr(text)
    python_tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    sequences = [theirs(text)["input_ids"] for text in texts]
    decoded = layer.detokenize(tf.ragged.constant(sequences, dtype=tf.int64)).numpy()
    for ids, text in zip(sequences, decoded):
        assert text.decode("utf-8") == python_tokenizer.decode(ids, skip_special_tokens=True), ids


def test_metaspace_pre_tokenizer_as_tokenizers_library():
    """The non-legacy Llama form: Metaspace("▁", prepend_scheme, split=False) and no normaliser."""
    from tokenizers import Tokenizer

    from kerasformers.tokenization.gguf import gguf_tokenizer_json, read_gguf_vocab
    from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer

    spec = gguf_tokenizer_json(read_gguf_vocab(llama_cpp_vocab("llama-spm")))
    spec["normalizer"] = None
    texts = corpus("llama-spm")
    for scheme in ("first", "always", "never"):
        spec["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": False}
        reference = Tokenizer.from_str(json.dumps(spec))
        layer = TFSentencePieceTokenizer.from_tokenizer(reference)
        got = layer.tokenize(tf.constant(texts)).to_list()
        for text, ids in zip(texts, got):
            assert ids == reference.encode(text, add_special_tokens=False).ids, (scheme, text)
        sequences = [reference.encode(text).ids for text in texts[:80]]
        decoded = layer.detokenize(tf.ragged.constant(sequences, dtype=tf.int64)).numpy()
        for ids, text in zip(sequences, decoded):
            assert text.decode("utf-8") == reference.decode(ids, skip_special_tokens=True), (scheme, ids)


def test_unsupported_tokenizers_are_clear_errors(tmp_path):
    from tokenizers import Tokenizer, models

    from kerasformers.errors import UnsupportedTokenizerError
    from kerasformers.tokenization.gguf import gguf_tokenizer_json, read_gguf_vocab
    from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer

    unigram = Tokenizer(models.Unigram([("<unk>", 0.0), ("a", -1.0)], unk_id=0, byte_fallback=False))
    with pytest.raises(UnsupportedTokenizerError, match="'Unigram'"):
        TFSentencePieceTokenizer.from_tokenizer(unigram)
    spec = gguf_tokenizer_json(read_gguf_vocab(llama_cpp_vocab("llama-spm")))
    spec["normalizer"] = {"type": "NFKC"}
    with pytest.raises(UnsupportedTokenizerError, match="NFKC"):
        TFSentencePieceTokenizer.from_spec(spec)
    spec["normalizer"] = None
    spec["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
    with pytest.raises(UnsupportedTokenizerError, match="Metaspace"):
        TFSentencePieceTokenizer.from_spec(spec)
    spec["pre_tokenizer"]["split"] = False
    from kerasformers.tokenization.sentencepiece import sentencepiece_model_proto

    (tmp_path / "other.model").write_bytes(sentencepiece_model_proto(["<unk>", "a"], [0, 0], [2, 1], unk_id=0))
    with pytest.raises(UnsupportedTokenizerError, match="not the tokenizer's vocabulary"):
        TFSentencePieceTokenizer.from_spec(spec, model_file=tmp_path / "other.model")
    with pytest.raises(UnsupportedTokenizerError, match="not SentencePiece"):
        TFSentencePieceTokenizer.from_gguf(llama_cpp_vocab("gpt-2"))
    with pytest.raises(FileNotFoundError, match="tokenizer.model"):
        TFSentencePieceTokenizer.from_model_file(tmp_path / "missing.model")
    (tmp_path / "bad.model").write_bytes(b"\xff\xff\xff")
    with pytest.raises(ValueError, match="Not a SentencePiece model"):
        TFSentencePieceTokenizer.from_model_file(tmp_path / "bad.model")


# ----------------------------------------------------------------------------- saving


def test_saved_model_and_config_round_trip(python_tokenizer, layers, tmp_path):
    from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer

    layer = layers["tokenizer"]
    texts = ["Hello world", " 東京 🤗\n x</s>y", "", "a\x00b"]
    want = python_tokenizer(texts, padding=True)["input_ids"]

    clone = TFSentencePieceTokenizer.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone(texts)["input_ids"].numpy().tolist() == want

    module = tf.Module()
    module.tokenizer = layer
    module.encode = tf.function(lambda x: layer(x)["input_ids"], input_signature=[tf.TensorSpec([None], tf.string)])
    module.decode = tf.function(
        lambda ids: layer.detokenize(ids), input_signature=[tf.TensorSpec([None, None], tf.int64)]
    )
    tf.saved_model.save(module, str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    ids = loaded.encode(tf.constant(texts))
    assert ids.numpy().tolist() == want
    decoded = [t.decode("utf-8") for t in loaded.decode(ids).numpy()]
    assert decoded == python_tokenizer.batch_decode(want, skip_special_tokens=True)


def test_unigram_model_file_runs_as_is(tmp_path):
    """A T5-style (Unigram) model file: SentencePiece's Viterbi segmentation, as the tokenizers library's
    Unigram with the equivalent Metaspace pre-tokenizer (``prepend_scheme="always"``, no split)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from kerasformers.tokenization.sentencepiece import UNIGRAM, TFSentencePieceTokenizer, sentencepiece_model_proto

    reference = Tokenizer(models.Unigram())
    reference.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    reference.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    train = [
        "The quick brown fox jumps over the lazy dog.",
        "Café naïve résumé",
        "中文字符测试 日本語",
        "hello hello world",
    ] * 20
    trainer = trainers.UnigramTrainer(
        vocab_size=120, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>", show_progress=False
    )
    reference.train_from_iterator(train, trainer)
    vocab = json.loads(reference.to_str())["model"]["vocab"]
    pieces, scores = [p for p, _ in vocab], [s for _, s in vocab]
    types = [2 if p == "<unk>" else 3 if p in ("<s>", "</s>") else 1 for p in pieces]
    texts = train[:4] + ["quick fox", "  spaces  ", "zzz unknown ☃☃ x", "", "brown\tdog\n", "▁x", "a</s>b"]
    for add_dummy_prefix, scheme in ((True, None), (False, "always")):
        proto = sentencepiece_model_proto(
            pieces, scores, types, unk_id=0, bos_id=1, eos_id=2, model_type=UNIGRAM, add_dummy_prefix=add_dummy_prefix
        )
        (tmp_path / "spiece.model").write_bytes(proto)
        layer = TFSentencePieceTokenizer.from_model_file(
            tmp_path / "spiece.model", add_bos=False, add_eos=True, prepend_scheme=scheme
        )
        got = layer(texts, padding=False)["input_ids"]
        for text, ids in zip(texts, got):
            # SentencePiece's own dummy prefix is added even before a leading space; Metaspace's is not
            if scheme is None and text.startswith((" ", "▁")):
                continue
            want = [i for part in text.split("</s>") for i in reference.encode(part).ids + [2]][:-1] + [2]
            assert ids.numpy().tolist() == want, (scheme, text)
