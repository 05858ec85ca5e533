"""kerasformers tokenizers against transformers' AutoTokenizer (the oracle) on the same folders.

Every expected value comes from transformers at test time; nothing is hard-coded from our output.
Folders: the real all-MiniLM-L6-v2 checkpoint (tokenizer.json with fixed padding/truncation on),
and tiny ones built here: WordPiece from vocab.txt only, byte-level BPE from vocab.json +
merges.txt (RoBERTa-like and GPT-2-like), and the BPE ones re-saved by transformers as
tokenizer.json.
"""

import json
import pickle
import shutil
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from kerasformers.hub import CheckpointNotFoundError
from kerasformers.tokenization import AutoTokenizer, BatchEncoding, PreTrainedTokenizerFast, TokenizerFilesNotFoundError

LONG_TEXT = " ".join(f"word{i % 50} naïve café," for i in range(110))  # > 512 tokens in every folder
TEXTS = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "Héllo wörld, café naïve résumé Ångström",
    "日本語のテキスト 中文 한국어 😀🎉👍🏽",
    "",
    "  spaces   and\ttabs\nnewlines  ",
    "it's a can't-won't [MASK] <mask> </s> test",
    LONG_TEXT,
]
PAIRS = ["A second sentence.", "x", "café 中文", "", "   ", "end", "short"]
# short first texts, so "only_second" truncation always has room
SHORT_FIRST = [("Question one?", LONG_TEXT), ("Who?", "Nobody knows why. " * 10), ("", "empty first")]

FOLDERS = ["minilm", "wordpiece", "wordpiece_bare", "distilbert", "roberta", "gpt2", "roberta_json", "gpt2_json"]


def _train_byte_level_bpe():
    corpus = TEXTS[:3] + [LONG_TEXT, "The dog, the fox and the café. Spaces and tabs!", "Nobody knows why."]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus * 20, trainer)
    return tokenizer


def _write_json(path, content):
    path.write_text(json.dumps(content), encoding="utf-8")


@pytest.fixture(scope="session")
def folders(minilm_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("tokenizers")
    paths = {"minilm": minilm_path}

    # WordPiece from vocab.txt only: cased via tokenizer_config.json, short model_max_length
    paths["wordpiece"] = root / "wordpiece"
    paths["wordpiece"].mkdir()
    shutil.copy(minilm_path / "vocab.txt", paths["wordpiece"])
    _write_json(
        paths["wordpiece"] / "tokenizer_config.json",
        {"tokenizer_class": "BertTokenizer", "do_lower_case": False, "model_max_length": 32},
    )

    # vocab.txt + config.json only: class from model_type, defaults everywhere, no length limit
    paths["wordpiece_bare"] = root / "wordpiece_bare"
    paths["wordpiece_bare"].mkdir()
    shutil.copy(minilm_path / "vocab.txt", paths["wordpiece_bare"])
    _write_json(paths["wordpiece_bare"] / "config.json", {"model_type": "bert"})

    paths["distilbert"] = root / "distilbert"
    paths["distilbert"].mkdir()
    shutil.copy(minilm_path / "vocab.txt", paths["distilbert"])
    _write_json(
        paths["distilbert"] / "tokenizer_config.json",
        {"tokenizer_class": "DistilBertTokenizer", "model_max_length": 64, "strip_accents": True},
    )

    bpe = _train_byte_level_bpe()
    paths["roberta"] = root / "roberta"
    paths["roberta"].mkdir()
    bpe.model.save(str(paths["roberta"]))
    _write_json(
        paths["roberta"] / "tokenizer_config.json", {"tokenizer_class": "RobertaTokenizer", "model_max_length": 64}
    )
    mask = {"content": "<mask>", "lstrip": True, "rstrip": False, "normalized": False, "single_word": False}
    _write_json(paths["roberta"] / "special_tokens_map.json", {"mask_token": mask, "pad_token": "<pad>"})

    paths["gpt2"] = root / "gpt2"
    paths["gpt2"].mkdir()
    bpe.model.save(str(paths["gpt2"]))
    _write_json(paths["gpt2"] / "config.json", {"model_type": "gpt2"})
    _write_json(
        paths["gpt2"] / "tokenizer_config.json",
        {"model_max_length": 48, "bos_token": "</s>", "eos_token": "</s>", "unk_token": "</s>"},
    )

    # the same BPE tokenizers as transformers saves them: tokenizer.json + tokenizer_config.json
    for name in ("roberta", "gpt2"):
        transformers.AutoTokenizer.from_pretrained(paths[name]).save_pretrained(root / f"{name}_json")
        paths[f"{name}_json"] = root / f"{name}_json"
    return paths


_loaded = {}


def load_both(folders, name):
    """(ours, transformers') tokenizers of one folder, loaded once per session."""
    if name not in _loaded:
        _loaded[name] = (
            AutoTokenizer.from_pretrained(folders[name]),
            transformers.AutoTokenizer.from_pretrained(folders[name]),
        )
    return _loaded[name]


def call_both(ours, theirs, *args, **kwargs):
    """Call both tokenizers; equal outputs, or both raise."""
    try:
        expected = theirs(*args, **kwargs)
    except Exception:
        with pytest.raises(Exception):
            ours(*args, **kwargs)
        return None, None
    return ours(*args, **kwargs), expected


INPUTS = {
    "single": lambda: (TEXTS[0],),
    "batch": lambda: (TEXTS,),
    "pair": lambda: (TEXTS[1], PAIRS[0]),
    "pair_empty_second": lambda: (TEXTS[1], ""),  # transformers treats an empty second text as no pair
    "batch_pairs": lambda: (TEXTS, PAIRS),
    "short_first_pairs": lambda: ([a for a, _ in SHORT_FIRST], [b for _, b in SHORT_FIRST]),
}
OPTIONS = {
    "defaults": {},
    "padding_true": {"padding": True},
    "padding_longest_left": {"padding": "longest", "padding_side": "left"},
    "padding_max_length": {"padding": "max_length", "max_length": 40},
    "padding_max_length_model": {"padding": "max_length", "truncation": True},
    "truncation_model_max": {"truncation": True},
    "max_length_only": {"max_length": 10},
    "longest_first": {"truncation": "longest_first", "max_length": 12, "padding": True},
    "only_first": {"truncation": "only_first", "max_length": 20},
    "only_second": {"truncation": "only_second", "max_length": 16, "padding": "max_length"},
    "multiple_of_8": {"padding": True, "pad_to_multiple_of": 8},
    "multiple_of_8_truncated": {"padding": True, "truncation": True, "max_length": 24, "pad_to_multiple_of": 8},
    "no_specials_no_mask": {"add_special_tokens": False, "return_attention_mask": False},
    "token_types_forced": {"return_token_type_ids": True, "padding": "do_not_pad", "truncation": "do_not_truncate"},
}


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("inputs", INPUTS)
@pytest.mark.parametrize("folder", FOLDERS)
def test_call_matches_transformers(folders, folder, inputs, option):
    ours, theirs = load_both(folders, folder)
    kwargs = dict(OPTIONS[option], return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, expected = call_both(ours, theirs, *INPUTS[inputs](), **kwargs)
    if expected is None:
        return
    assert isinstance(got, BatchEncoding) and isinstance(got, dict)
    assert dict(got) == dict(expected)
    assert list(got) == list(expected)  # same keys in the same order
    for index in range(len(expected.encodings)):
        assert got.word_ids(index) == expected.word_ids(index)
        assert got.tokens(index) == expected.tokens(index)


@pytest.mark.parametrize("folder", ["minilm", "wordpiece", "roberta", "gpt2_json"])
def test_other_input_forms_and_overflow(folders, folder):
    ours, theirs = load_both(folders, folder)
    words = [["Hello", "wörld", "!"], ["日本語", "😀"], []]
    for args in [(words,), (words[0],), (words, [["a", "b"], ["c"], ["d"]])]:
        got, expected = call_both(ours, theirs, *args, is_split_into_words=True, return_offsets_mapping=True)
        assert got is None or dict(got) == dict(expected)
    for kwargs in [{}, {"truncation": True, "max_length": 16}]:  # a list of (text, pair) tuples
        got, expected = call_both(ours, theirs, list(zip(TEXTS, PAIRS)), **kwargs)
        assert dict(got) == dict(expected)
    got, expected = call_both(
        ours, theirs, [LONG_TEXT, "short"], max_length=16, stride=4, return_overflowing_tokens=True
    )
    assert dict(got) == dict(expected)


@pytest.mark.parametrize("folder", ["minilm", "wordpiece", "roberta"])
def test_return_tensors(folders, folder):
    ours, theirs = load_both(folders, folder)
    for args in [(TEXTS[0],), (TEXTS[:3], PAIRS[:3])]:
        got = ours(*args, padding=True, return_offsets_mapping=True, return_length=True, return_tensors="np")
        expected = theirs(*args, padding=True, return_offsets_mapping=True, return_length=True, return_tensors="np")
        assert list(got) == list(expected)
        for key in expected:
            assert got[key].dtype == expected[key].dtype == np.int64
            np.testing.assert_array_equal(got[key], expected[key])
        as_tf = ours(*args, padding=True, return_tensors="tf")
        for key in as_tf:
            assert isinstance(as_tf[key], tf.Tensor) and as_tf[key].dtype == tf.int32
            np.testing.assert_array_equal(as_tf[key].numpy(), expected[key])
    assert ours(TEXTS[0], return_tensors="tf")["input_ids"].shape[0] == 1  # a single text keeps its batch axis


@pytest.mark.parametrize("tensor_type", ["np", "tf"])
def test_ragged_tensors_ask_for_padding(folders, tensor_type):
    ours, _ = load_both(folders, "minilm")
    with pytest.raises(ValueError, match="padding=True"):
        ours(["a b c", "a"], return_tensors=tensor_type)
    with pytest.raises(ValueError, match="'np' .*'tf'"):
        ours("a", return_tensors="pt")


@pytest.mark.parametrize("folder", FOLDERS)
def test_decode_matches_transformers(folders, folder):
    ours, theirs = load_both(folders, folder)
    batch = theirs(TEXTS, PAIRS)["input_ids"]
    for ids in batch:
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert ours.decode(ids, skip, clean_up_tokenization_spaces=True) == theirs.decode(
                    ids, skip_special_tokens=skip, clean_up_tokenization_spaces=True
                )
    assert ours.batch_decode(batch, skip_special_tokens=True) == theirs.batch_decode(batch, skip_special_tokens=True)
    assert ours.decode(batch) == theirs.decode(batch)  # a batch decodes to a list
    assert ours.decode(batch[0][1]) == theirs.decode(batch[0][1])  # one id
    assert ours.batch_decode(batch[0]) == theirs.batch_decode(batch[0])
    padded = theirs(TEXTS[:3], padding=True, return_tensors="np")["input_ids"] if theirs.pad_token else None
    if padded is not None:
        assert ours.batch_decode(padded, True) == theirs.batch_decode(padded, skip_special_tokens=True)
        assert ours.batch_decode(tf.constant(padded)) == theirs.batch_decode(padded)


@pytest.mark.parametrize("folder", FOLDERS)
def test_vocabulary_api_matches_transformers(folders, folder):
    ours, theirs = load_both(folders, folder)
    assert ours.vocab_size == theirs.vocab_size
    assert len(ours) == len(theirs)
    assert ours.get_vocab() == theirs.get_vocab()
    assert ours.model_input_names == theirs.model_input_names
    assert ours.model_max_length == theirs.model_max_length
    assert ours.special_tokens_map == theirs.special_tokens_map
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    for name in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        assert getattr(ours, f"{name}_token") == getattr(theirs, f"{name}_token")
        assert getattr(ours, f"{name}_token_id") == getattr(theirs, f"{name}_token_id")
    assert ours.clean_up_tokenization_spaces == theirs.clean_up_tokenization_spaces
    assert ours.num_special_tokens_to_add(pair=True) == theirs.num_special_tokens_to_add(pair=True)
    for text in TEXTS[:6]:
        assert ours.tokenize(text) == theirs.tokenize(text)
        assert ours.encode(text) == theirs.encode(text)
    tokens = theirs.tokenize(TEXTS[1]) + ["no-such-token-xyz"]
    assert ours.convert_tokens_to_ids(tokens) == theirs.convert_tokens_to_ids(tokens)
    ids = theirs.encode(TEXTS[0])
    assert ours.convert_ids_to_tokens(ids) == theirs.convert_ids_to_tokens(ids)
    assert ours.convert_ids_to_tokens(ids, skip_special_tokens=True) == theirs.convert_ids_to_tokens(
        ids, skip_special_tokens=True
    )
    assert ours.convert_ids_to_tokens(ids[0]) == theirs.convert_ids_to_tokens(ids[0])
    assert ours.get_special_tokens_mask(ids, already_has_special_tokens=True) == theirs.get_special_tokens_mask(
        ids, already_has_special_tokens=True
    )
    np.testing.assert_array_equal(
        ours.encode(TEXTS[0], return_tensors="np"), theirs.encode(TEXTS[0], return_tensors="np")
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_save_pretrained_round_trip(folders, folder, tmp_path):
    ours, theirs = load_both(folders, folder)
    ours(TEXTS, padding="max_length", truncation=True, max_length=16) if ours.pad_token else None  # leave state
    written = ours.save_pretrained(tmp_path / "saved")
    assert sorted(p.rsplit("/", 1)[-1] for p in written) == [
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    saved_json = json.loads((tmp_path / "saved" / "tokenizer.json").read_text())
    assert saved_json["padding"] is None and saved_json["truncation"] is None
    assert not [p for p in (tmp_path / "saved").iterdir() if p.name.startswith(".tmp")]

    reloaded = AutoTokenizer.from_pretrained(tmp_path / "saved")
    their_reload = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(TEXTS, PAIRS, return_offsets_mapping=True)
        assert dict(reloaded(TEXTS, PAIRS, return_offsets_mapping=True)) == dict(expected)
        assert dict(their_reload(TEXTS, PAIRS, return_offsets_mapping=True)) == dict(expected)
    for attribute in ("model_input_names", "model_max_length", "all_special_tokens", "padding_side"):
        assert getattr(reloaded, attribute) == getattr(theirs, attribute)
        assert getattr(their_reload, attribute) == getattr(theirs, attribute)


def test_minilm_fixed_padding_in_file_is_ignored(folders):
    raw = json.loads((folders["minilm"] / "tokenizer.json").read_text())
    assert raw["padding"]["strategy"] == {"Fixed": 128} and raw["truncation"]["max_length"] == 128
    ours, theirs = load_both(folders, "minilm")
    assert len(ours("hello")["input_ids"]) == len(theirs("hello")["input_ids"]) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(ours(LONG_TEXT)["input_ids"]) == len(theirs(LONG_TEXT)["input_ids"]) > 512
    assert len(ours(LONG_TEXT, truncation=True)["input_ids"]) == 512


@pytest.mark.parametrize(
    "overrides",
    [
        {"padding_side": "left", "truncation_side": "left"},
        {"model_max_length": 20},
        {"do_lower_case": False},
        {"pad_token": "[MASK]"},
        {"model_input_names": ["input_ids", "attention_mask"]},
    ],
)
def test_load_overrides_match_transformers(folders, overrides):
    ours = AutoTokenizer.from_pretrained(folders["minilm"], **overrides)
    theirs = transformers.AutoTokenizer.from_pretrained(folders["minilm"], **overrides)
    got, expected = call_both(ours, theirs, TEXTS, PAIRS, padding=True, truncation=True, max_length=12)
    assert dict(got) == dict(expected)


def test_add_prefix_space_override_matches_transformers(folders):
    ours = AutoTokenizer.from_pretrained(folders["roberta"], add_prefix_space=True)
    theirs = transformers.AutoTokenizer.from_pretrained(folders["roberta"], add_prefix_space=True)
    assert dict(ours(TEXTS[:3], return_offsets_mapping=True)) == dict(theirs(TEXTS[:3], return_offsets_mapping=True))


def test_added_tokens_match_transformers(folders):
    ours = AutoTokenizer.from_pretrained(folders["minilm"])
    theirs = transformers.AutoTokenizer.from_pretrained(folders["minilm"])
    assert ours.add_tokens(["newword", "hello"]) == theirs.add_tokens(["newword", "hello"])
    assert ours.add_special_tokens({"additional_special_tokens": ["<extra>"]}) == theirs.add_special_tokens(
        {"additional_special_tokens": ["<extra>"]}
    )
    text = "a newword and <extra> here"
    assert dict(ours(text)) == dict(theirs(text))
    assert ours.decode(ours(text)["input_ids"], skip_special_tokens=True) == theirs.decode(
        theirs(text)["input_ids"], skip_special_tokens=True
    )
    assert len(ours) == len(theirs)


def test_padding_needs_a_pad_token(folders):
    ours, theirs = load_both(folders, "gpt2")
    assert ours.pad_token is None
    with pytest.raises(ValueError, match="pad_token"):
        ours(TEXTS, padding=True)
    ours_with_pad = AutoTokenizer.from_pretrained(folders["gpt2"])
    ours_with_pad.pad_token = ours_with_pad.eos_token
    theirs.pad_token = theirs.eos_token
    try:
        got, expected = call_both(ours_with_pad, theirs, TEXTS[:3], padding=True)
        assert dict(got) == dict(expected)
    finally:
        theirs.pad_token = None


def test_gpt2_add_bos_and_eos_from_vocab_files(folders, tmp_path):
    shutil.copytree(folders["gpt2"], tmp_path / "gpt2_bos")
    config = json.loads((tmp_path / "gpt2_bos" / "tokenizer_config.json").read_text())
    config.update(add_bos_token=True, add_eos_token=True)
    _write_json(tmp_path / "gpt2_bos" / "tokenizer_config.json", config)
    ours = AutoTokenizer.from_pretrained(tmp_path / "gpt2_bos")
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "gpt2_bos")
    got, expected = call_both(ours, theirs, TEXTS[:3], PAIRS[:3], return_offsets_mapping=True)
    assert dict(got) == dict(expected)
    assert got["input_ids"][0][0] == ours.bos_token_id


def test_argument_errors(folders):
    ours, _ = load_both(folders, "minilm")
    with pytest.raises(ValueError, match="multiple of pad_to_multiple_of"):
        ours(TEXTS, padding=True, truncation=True, max_length=10, pad_to_multiple_of=3)
    with pytest.raises(ValueError, match="padding="):
        ours("a", padding="sideways")
    with pytest.raises(ValueError, match="truncation="):
        ours("a", truncation="middle")
    with pytest.raises(TypeError, match="text_pair"):
        ours(["a", "b"], "c")
    with pytest.raises(ValueError, match="2 examples"):
        ours(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="must be a string"):
        ours(123)
    with pytest.raises(ValueError, match="padding_side"):
        ours(["a", "b c"], padding=True, padding_side="middle")


def test_warnings_match_transformers_cases(folders):
    ours = AutoTokenizer.from_pretrained(folders["minilm"])
    with pytest.warns(UserWarning, match="longer than the specified maximum"):
        ours(LONG_TEXT)
    with pytest.warns(UserWarning, match="`max_length` is ignored"):
        ours(["a", "b c"], padding=True, max_length=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours(LONG_TEXT, truncation=True)  # truncating: no warning


def test_folder_without_tokenizer_files(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(TokenizerFilesNotFoundError) as error:
        AutoTokenizer.from_pretrained(tmp_path)
    message = str(error.value)
    for expected in (str(tmp_path), "tokenizer.json", "vocab.txt", "vocab.json + merges.txt", "config.json", "Fix"):
        assert expected in message
    with pytest.raises(CheckpointNotFoundError):
        AutoTokenizer.from_pretrained(tmp_path / "does-not-exist")


def test_batch_encoding_is_a_dict_for_keras_and_tf(folders):
    ours, _ = load_both(folders, "minilm")
    batch = ours(TEXTS[:3], padding=True, return_tensors="tf")
    assert isinstance(batch, dict) and batch.input_ids is batch["input_ids"]
    with pytest.raises(AttributeError):
        batch.no_such_key
    assert isinstance(batch[0].ids, list)  # an integer gives the tokenizers Encoding
    assert batch[:1]["input_ids"].shape[0] == 1

    assert len(keras.tree.flatten(batch)) == 3  # keras sees the three tensors, not one leaf
    doubled = keras.tree.map_structure(lambda x: x * 2, batch)
    assert isinstance(doubled, BatchEncoding) and list(doubled) == list(batch)
    assert isinstance(tf.nest.map_structure(lambda x: x, batch), BatchEncoding)
    first = next(iter(tf.data.Dataset.from_tensor_slices(batch)))
    np.testing.assert_array_equal(first["input_ids"].numpy(), batch["input_ids"][0].numpy())

    copied = pickle.loads(pickle.dumps(ours(TEXTS[:2], padding=True)))
    assert copied.word_ids(1) == ours(TEXTS[:2], padding=True).word_ids(1)


def test_wrap_a_tokenizers_object(folders, tmp_path):
    backend = Tokenizer.from_file(str(folders["minilm"] / "tokenizer.json"))
    ours = PreTrainedTokenizerFast(backend, pad_token="[PAD]", model_max_length=512)
    _, theirs = load_both(folders, "minilm")
    expected = theirs(TEXTS[:3], padding=True, return_token_type_ids=False)
    assert dict(ours(TEXTS[:3], padding=True)) == dict(expected)
    # saved as a plain tokenizer.json tokenizer, which transformers loads as its TokenizersBackend
    ours.save_pretrained(tmp_path)
    their_reload = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert dict(their_reload(TEXTS[:3], padding=True)) == dict(expected)
    assert dict(AutoTokenizer.from_pretrained(tmp_path)(TEXTS[:3], padding=True)) == dict(expected)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding": "max_length", "max_length": 40},
        {"pad_to_multiple_of": 8, "padding_side": "left"},
        {"padding": False, "return_attention_mask": True},
        {"return_tensors": "np"},
        {"return_attention_mask": False},
    ],
)
@pytest.mark.parametrize("folder", ["minilm", "roberta"])
def test_pad_matches_transformers(folders, folder, options):
    ours, theirs = load_both(folders, folder)
    features = [dict(theirs(text, return_special_tokens_mask=True)) for text in TEXTS[:3]]
    expected = theirs.pad([dict(feature) for feature in features], **options)
    got = ours.pad([dict(feature) for feature in features], **options)
    assert list(got) == list(expected)
    for key in expected:
        assert type(got[key]) is type(expected[key])
        assert _as_lists(got[key]) == _as_lists(expected[key])
    single = theirs.pad(dict(features[0]), padding="max_length", max_length=30)
    assert dict(ours.pad(dict(features[0]), padding="max_length", max_length=30)) == dict(single)
    as_arrays = {key: [np.asarray(value) for value in values] for key, values in ours.pad(features).items()}
    padded = ours.pad(as_arrays)  # arrays in: arrays out
    assert isinstance(padded["input_ids"], np.ndarray)
    assert ours.pad(features, return_tensors="tf")["input_ids"].dtype == tf.int32


def _as_lists(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
