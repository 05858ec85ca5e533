"""The per-architecture tokenizer classes against transformers 5.23's classes on the same files.

Folders: all-MiniLM-L6-v2 (BERT, tokenizer.json; and its vocab.txt alone for BERT/DistilBERT),
and tiny tokenizers trained here with the tokenizers library: byte-level BPE (GPT-2, RoBERTa,
Qwen2; as vocab.json + merges.txt and as tokenizer.json), a SentencePiece-style BPE (Llama) and
a Unigram (XLM-RoBERTa). Every expected value comes from transformers at test time.
"""

import json
import shutil
import warnings

import numpy as np
import pytest
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

import kerasformers
from kerasformers.tokenization import AutoTokenizer

CORPUS = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "Héllo wörld, café naïve résumé Ångström 日本語 😀",
    "it's a can't-won't test, spaces   and\ttabs\nnewlines",
    "Nobody knows why. The dog, the fox and the café.",
]
TEXTS = [*CORPUS, "", "  leading and trailing  ", "<s> special </s> <mask> [SEP] <|endoftext|> inside"]
PAIRS = ["A second sentence.", "x", "café 中文", "", "   ", "end", "short"]

# folder -> (our class name, transformers class name)
CASES = {
    "bert_json": ("BertTokenizerFast", "BertTokenizer"),
    "bert_vocab": ("BertTokenizerFast", "BertTokenizer"),
    "distilbert": ("DistilBertTokenizerFast", "DistilBertTokenizer"),
    "gpt2": ("GPT2TokenizerFast", "GPT2Tokenizer"),
    "roberta": ("RobertaTokenizerFast", "RobertaTokenizer"),
    "qwen2": ("Qwen2TokenizerFast", "Qwen2Tokenizer"),
    "qwen2_json": ("Qwen2TokenizerFast", "Qwen2Tokenizer"),
    "llama": ("LlamaTokenizerFast", "LlamaTokenizer"),
    "xlm_roberta": ("XLMRobertaTokenizerFast", "XLMRobertaTokenizer"),
}


def _write_json(path, content):
    path.write_text(json.dumps(content), encoding="utf-8")


def _train(model, trainer, pre_tokenizer, decoder):
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoder
    tokenizer.train_from_iterator(CORPUS * 20, trainer)
    return tokenizer


@pytest.fixture(scope="session")
def class_folders(minilm_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("tokenizer_classes")
    paths = {name: root / name for name in CASES}
    for path in paths.values():
        path.mkdir()
    shutil.copy(minilm_path / "tokenizer.json", paths["bert_json"])
    _write_json(paths["bert_json"] / "tokenizer_config.json", {"tokenizer_class": "BertTokenizerFast"})
    shutil.copy(minilm_path / "vocab.txt", paths["bert_vocab"])
    _write_json(
        paths["bert_vocab"] / "tokenizer_config.json",
        {"tokenizer_class": "BertTokenizer", "do_lower_case": False, "model_max_length": 64},
    )
    shutil.copy(minilm_path / "vocab.txt", paths["distilbert"])
    _write_json(paths["distilbert"] / "tokenizer_config.json", {"tokenizer_class": "DistilBertTokenizer"})

    byte_level = _train(
        models.BPE(),
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
        decoders.ByteLevel(),
    )
    for name, tokenizer_class in (
        ("gpt2", "GPT2Tokenizer"),
        ("roberta", "RobertaTokenizer"),
        ("qwen2", "Qwen2Tokenizer"),
    ):
        byte_level.model.save(str(paths[name]))
        _write_json(paths[name] / "tokenizer_config.json", {"tokenizer_class": tokenizer_class})
    byte_level.save(str(paths["qwen2_json"] / "tokenizer.json"))
    _write_json(paths["qwen2_json"] / "tokenizer_config.json", {"tokenizer_class": "Qwen2TokenizerFast"})

    metaspace = _train(
        models.BPE(unk_token="<unk>"),
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False),
        pre_tokenizers.Metaspace(),
        decoders.Metaspace(),
    )
    metaspace.save(str(paths["llama"] / "tokenizer.json"))
    _write_json(paths["llama"] / "tokenizer_config.json", {"tokenizer_class": "LlamaTokenizer", "pad_token": "<unk>"})

    unigram = _train(
        models.Unigram(),
        trainers.UnigramTrainer(
            vocab_size=200,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
            unk_token="<unk>",
            show_progress=False,
        ),
        pre_tokenizers.Metaspace(),
        decoders.Metaspace(),
    )
    unigram.save(str(paths["xlm_roberta"] / "tokenizer.json"))
    _write_json(paths["xlm_roberta"] / "tokenizer_config.json", {"tokenizer_class": "XLMRobertaTokenizer"})
    return paths


_loaded = {}


def load_both(class_folders, name):
    if name not in _loaded:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _loaded[name] = (
                AutoTokenizer.from_pretrained(class_folders[name]),
                transformers.AutoTokenizer.from_pretrained(class_folders[name]),
            )
    return _loaded[name]


def assert_same_encoding(got, expected):
    assert dict(got) == dict(expected)
    assert list(got) == list(expected)
    for row in range(len(expected.encodings)):
        assert got.tokens(row) == expected.tokens(row)
        assert got.word_ids(row) == expected.word_ids(row)
        assert got.sequence_ids(row) == expected.sequence_ids(row)


@pytest.mark.parametrize("name", CASES)
def test_class_and_defaults_match_transformers(class_folders, name):
    ours, theirs = load_both(class_folders, name)
    our_class, their_class = CASES[name]
    assert type(ours).__name__ == our_class and type(theirs).__name__ == their_class
    assert getattr(kerasformers, our_class) is type(ours)  # public at the top level
    assert getattr(kerasformers, our_class.removesuffix("Fast")) is type(ours)  # the slow name is an alias
    for attribute in (
        "model_input_names",
        "padding_side",
        "truncation_side",
        "model_max_length",
        "special_tokens_map",
        "all_special_tokens",
        "all_special_ids",
        "vocab_size",
        "clean_up_tokenization_spaces",
    ):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert len(ours) == len(theirs)
    assert ours.get_vocab() == theirs.get_vocab()
    assert ours.num_special_tokens_to_add(pair=True) == theirs.num_special_tokens_to_add(pair=True)


@pytest.mark.parametrize("name", CASES)
def test_encodings_and_decode_match_transformers(class_folders, name):
    ours, theirs = load_both(class_folders, name)
    options = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)
    for args in [(TEXTS[0],), (TEXTS,), (TEXTS[1], PAIRS[0]), (TEXTS, PAIRS)]:
        for padding in (False, True):
            if padding and theirs.pad_token is None:
                continue
            assert_same_encoding(ours(*args, padding=padding, **options), theirs(*args, padding=padding, **options))
    assert_same_encoding(
        ours(TEXTS, PAIRS, truncation="longest_first", max_length=12, **options),
        theirs(TEXTS, PAIRS, truncation="longest_first", max_length=12, **options),
    )
    for ids in theirs(TEXTS, PAIRS)["input_ids"]:
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)
    for text in TEXTS:
        assert ours.tokenize(text) == theirs.tokenize(text)


@pytest.mark.parametrize("name", ["bert_vocab", "roberta", "qwen2", "llama", "xlm_roberta"])
def test_save_pretrained_loads_back_in_both(class_folders, name, tmp_path):
    ours, theirs = load_both(class_folders, name)
    ours.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    their_reload = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(reloaded) is type(ours) and type(their_reload) is type(theirs)
    expected = theirs(TEXTS, PAIRS, return_offsets_mapping=True)
    assert_same_encoding(reloaded(TEXTS, PAIRS, return_offsets_mapping=True), expected)
    assert_same_encoding(their_reload(TEXTS, PAIRS, return_offsets_mapping=True), expected)
    assert their_reload.special_tokens_map == theirs.special_tokens_map
    assert their_reload.padding_side == theirs.padding_side


def test_constructors_take_transformers_file_arguments(class_folders):
    bert = class_folders["bert_vocab"] / "vocab.txt"
    ours = kerasformers.BertTokenizerFast(vocab_file=bert, do_lower_case=False)
    theirs = transformers.BertTokenizer(vocab=str(bert), do_lower_case=False)
    assert_same_encoding(ours(TEXTS, PAIRS), theirs(TEXTS, PAIRS))
    assert (
        kerasformers.BertTokenizerFast(str(bert))("Hello")["input_ids"]
        == transformers.BertTokenizer(vocab=str(bert))("Hello")["input_ids"]
    )

    vocab, merges = class_folders["gpt2"] / "vocab.json", class_folders["gpt2"] / "merges.txt"
    their_vocab, their_merges = models.BPE.read_file(str(vocab), str(merges))
    for our_class, their_class in (
        ("GPT2TokenizerFast", "GPT2Tokenizer"),
        ("RobertaTokenizerFast", "RobertaTokenizer"),
    ):
        ours = getattr(kerasformers, our_class)(vocab_file=vocab, merges_file=merges, add_prefix_space=True)
        theirs = getattr(transformers, their_class)(vocab=their_vocab, merges=their_merges, add_prefix_space=True)
        assert_same_encoding(ours(TEXTS, return_offsets_mapping=True), theirs(TEXTS, return_offsets_mapping=True))
        assert ours.special_tokens_map == theirs.special_tokens_map

    tokenizer_file = class_folders["qwen2_json"] / "tokenizer.json"
    ours = kerasformers.Qwen2TokenizerFast(tokenizer_file=tokenizer_file)
    theirs = transformers.AutoTokenizer.from_pretrained(class_folders["qwen2_json"])
    assert_same_encoding(ours(TEXTS), theirs(TEXTS))


def test_auto_tokenizer_reads_the_model_type_without_a_class(class_folders, tmp_path):
    shutil.copy(class_folders["gpt2"] / "vocab.json", tmp_path)
    shutil.copy(class_folders["gpt2"] / "merges.txt", tmp_path)
    _write_json(tmp_path / "config.json", {"model_type": "roberta"})
    ours = AutoTokenizer.from_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(ours).__name__ == "RobertaTokenizerFast" and type(theirs).__name__ == "RobertaTokenizer"
    assert_same_encoding(ours(TEXTS, PAIRS), theirs(TEXTS, PAIRS))


def test_encoding_api_matches_transformers(class_folders):
    ours, theirs = load_both(class_folders, "bert_json")
    got = ours(TEXTS[:3], PAIRS[:3], padding=True, return_tensors="np")
    expected = theirs(TEXTS[:3], PAIRS[:3], padding=True, return_tensors="np")
    for row in range(3):
        for token in range(len(expected["input_ids"][row])):
            assert got.token_to_chars(row, token) == expected.token_to_chars(row, token)
            assert got.token_to_word(row, token) == expected.token_to_word(row, token)
            assert got.token_to_sequence(row, token) == expected.token_to_sequence(row, token)
        for char in range(len(TEXTS[row])):
            assert got.char_to_token(row, char) == expected.char_to_token(row, char)
            assert got.char_to_word(row, char) == expected.char_to_word(row, char)
        for word in range(3):
            assert got.word_to_tokens(row, word) == expected.word_to_tokens(row, word)
            assert got.word_to_chars(row, word) == expected.word_to_chars(row, word)
    assert ours(TEXTS[0]).char_to_token(6) == theirs(TEXTS[0]).char_to_token(6)
    assert ours(TEXTS[0]).token_to_chars(1) == theirs(TEXTS[0]).token_to_chars(1)

    assert dict(ours.encode_plus(TEXTS[0], PAIRS[0])) == dict(theirs(TEXTS[0], PAIRS[0]))
    pairs = list(zip(TEXTS[:3], PAIRS[:3]))
    assert dict(ours.batch_encode_plus(pairs, padding=True)) == dict(theirs(pairs, padding=True))
    for kwargs in [{"text": TEXTS[:2], "text_target": PAIRS[:2]}, {"text_target": PAIRS[:2]}]:
        got, expected = ours(**kwargs, padding=True), theirs(**kwargs, padding=True)
        assert dict(got) == dict(expected)
    labelled = ours(TEXTS[:2], text_target=PAIRS[:2], padding=True, return_tensors="tf")
    np.testing.assert_array_equal(
        labelled["labels"].numpy(), theirs(text=PAIRS[:2], padding=True, return_tensors="np")["input_ids"]
    )
