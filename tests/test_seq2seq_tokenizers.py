"""Seq2seq tokenizers and data: T5 and BART tokenizers against transformers 5.23's on the same files, T5 in-graph
against the Python tokenizer, ``text_target`` labels and DataCollatorForSeq2Seq against transformers'.

Tiny vocabularies are trained here (tests/seq2seq_data.py) on the movie-review sentences; every expected
value comes from transformers (or the tokenizers library) at test time.
"""

import shutil
import warnings

import numpy as np
import pytest
import tensorflow as tf
import transformers
from seq2seq_data import EXTRA_IDS, movie_sentences, write_t5_tokenizer
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from kerasformers import DataCollatorForSeq2Seq
from kerasformers.models.bart.tokenization_bart import BartTokenizer, BartTokenizerFast
from kerasformers.models.t5.tokenization_t5 import T5Tokenizer, T5TokenizerFast
from kerasformers.tokenization import AutoTokenizer, TFAutoTokenizer

TEXTS = [
    "The Rock is destined to be the 21st Century's new ''Conan''.",
    "Héllo wörld, café  ﬁne ①  x\ttab\nnewline",
    "",
    "  lead <extra_id_0> mid <extra_id_3></s> end",
    "zzz 日本語 ☃☃ unknown",
    "Translate English to German: How old are you?",
]
TARGETS = ["Wie alt bist du?", "short", "a longer target sentence here", "", "x", "<extra_id_1> y"]


def _quiet_load(loader, folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return loader.from_pretrained(folder)


@pytest.fixture(scope="session")
def t5_folders(tmp_path_factory):
    json_folder = write_t5_tokenizer(tmp_path_factory.mktemp("t5_tokenizer"))
    spm_folder = tmp_path_factory.mktemp("t5_spiece_only")
    for name in ("spiece.model", "tokenizer_config.json"):
        shutil.copy(json_folder / name, spm_folder)
    return {"tokenizer.json": json_folder, "spiece.model": spm_folder}


@pytest.fixture(scope="session")
def t5_pair(t5_folders):
    folder = t5_folders["tokenizer.json"]
    return _quiet_load(AutoTokenizer, folder), _quiet_load(transformers.AutoTokenizer, folder)


def _assert_same(got, want):
    assert dict(got) == dict(want)
    for row in range(len(want.encodings)):
        assert got.tokens(row) == want.tokens(row)


@pytest.mark.parametrize("files", ["tokenizer.json", "spiece.model"])
def test_t5_tokenizer_matches_transformers(t5_folders, files):
    ours = _quiet_load(AutoTokenizer, t5_folders[files])
    theirs = _quiet_load(transformers.AutoTokenizer, t5_folders[files])
    assert type(ours) is T5TokenizerFast and T5Tokenizer is T5TokenizerFast
    assert ours.get_vocab() == theirs.get_vocab()
    assert ours.special_tokens_map == theirs.special_tokens_map
    assert (ours.eos_token_id, ours.pad_token_id, ours.unk_token_id) == (1, 0, 2)
    # sentinels at the end of the vocabulary, <extra_id_0> last (T5 checkpoints' ids)
    sentinels = [f"<extra_id_{i}>" for i in range(EXTRA_IDS)]
    assert ours.convert_tokens_to_ids(sentinels) == theirs.convert_tokens_to_ids(sentinels)
    assert ours.convert_tokens_to_ids("<extra_id_0>") == len(ours) - 1
    assert sorted(ours.get_sentinel_tokens()) == sorted(sentinels)
    assert sorted(ours.get_sentinel_token_ids()) == sorted(theirs.convert_tokens_to_ids(sentinels))
    options = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    _assert_same(ours(TEXTS, **options), theirs(TEXTS, **options))
    _assert_same(ours(TEXTS, TARGETS, padding=True, **options), theirs(TEXTS, TARGETS, padding=True, **options))
    _assert_same(
        ours(TEXTS, truncation=True, max_length=6, padding="max_length"),
        theirs(TEXTS, truncation=True, max_length=6, padding="max_length"),
    )
    for ids in theirs(TEXTS, TARGETS)["input_ids"]:
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)
    for text in TEXTS:
        assert ours.tokenize(text) == theirs.tokenize(text)


def test_text_target_gives_labels_as_transformers(t5_pair):
    ours, theirs = t5_pair
    for options in (dict(), dict(padding=True), dict(padding="max_length", max_length=12, truncation=True)):
        got = ours(TEXTS, text_target=TARGETS, **options)
        want = theirs(TEXTS, text_target=TARGETS, **options)
        assert dict(got) == dict(want), options
    assert dict(ours(text_target=TARGETS)) == dict(theirs(text_target=TARGETS))
    got = ours(TEXTS[:2], TARGETS[:2], text_target=TARGETS[2:4], text_pair_target=TEXTS[2:4])
    assert dict(got) == dict(theirs(TEXTS[:2], TARGETS[:2], text_target=TARGETS[2:4], text_pair_target=TEXTS[2:4]))
    batch = ours(TEXTS, text_target=TARGETS, padding=True, return_tensors="np")
    assert batch["labels"].dtype == np.int64 and batch["labels"].shape[0] == len(TEXTS)


def test_t5_tokenizer_saves_and_loads_in_both(t5_pair, tmp_path):
    ours, theirs = t5_pair
    ours.save_pretrained(tmp_path)
    for reloaded in (_quiet_load(AutoTokenizer, tmp_path), _quiet_load(transformers.AutoTokenizer, tmp_path)):
        assert dict(reloaded(TEXTS, TARGETS)) == dict(theirs(TEXTS, TARGETS))
        assert reloaded.convert_tokens_to_ids("<extra_id_0>") == theirs.convert_tokens_to_ids("<extra_id_0>")


def test_t5_in_graph_tokenizer_matches_python(t5_pair):
    ours, _ = t5_pair
    layer = TFAutoTokenizer.from_tokenizer(ours)
    texts = TEXTS + movie_sentences(2300)[2000:] + ["a  b   c", "\u3000full width", "x\u00a0nbsp", "▁x"]
    want = ours(texts)["input_ids"]
    assert layer(texts, padding=False)["input_ids"].to_list() == want
    padded = layer(TEXTS, padding=True)
    expected = ours(TEXTS, padding=True, return_tensors="np")
    np.testing.assert_array_equal(padded["input_ids"].numpy(), expected["input_ids"])
    np.testing.assert_array_equal(padded["attention_mask"].numpy(), expected["attention_mask"])
    decoded = [text.decode("utf-8") for text in layer.detokenize(tf.ragged.constant(want)).numpy()]
    assert decoded == ours.batch_decode(want, skip_special_tokens=True)


@pytest.fixture(scope="session")
def bart_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bart_tokenizer")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(movie_sentences(500), trainer)
    tokenizer.model.save(str(folder))
    (folder / "config.json").write_text('{"model_type": "bart"}', "utf-8")
    return folder


def test_bart_tokenizer_matches_transformers(bart_folder, tmp_path):
    ours = _quiet_load(AutoTokenizer, bart_folder)
    theirs = _quiet_load(transformers.AutoTokenizer, bart_folder)
    assert type(ours) is BartTokenizerFast and BartTokenizer is BartTokenizerFast
    assert ours.get_vocab() == theirs.get_vocab() and ours.special_tokens_map == theirs.special_tokens_map
    options = dict(return_offsets_mapping=True, return_special_tokens_mask=True, padding=True)
    _assert_same(ours(TEXTS, TARGETS, **options), theirs(TEXTS, TARGETS, **options))
    assert dict(ours(TEXTS, text_target=TARGETS)) == dict(theirs(TEXTS, text_target=TARGETS))
    for ids in theirs(TEXTS)["input_ids"]:
        assert ours.decode(ids, skip_special_tokens=True) == theirs.decode(ids, skip_special_tokens=True)
    ours.save_pretrained(tmp_path)
    assert type(_quiet_load(AutoTokenizer, tmp_path)) is BartTokenizerFast
    assert dict(_quiet_load(transformers.AutoTokenizer, tmp_path)(TEXTS)) == dict(theirs(TEXTS))


@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(pad_to_multiple_of=8),
        dict(padding="max_length", max_length=64),
        dict(label_pad_token_id=0),
        dict(padding=False),
    ],
)
def test_seq2seq_collator_matches_transformers(t5_pair, options):
    ours, theirs = t5_pair
    if options.get("padding") is False:  # without padding the examples must already have one length
        features = [
            dict(ours(text, text_target=target)) for text, target in zip(["great film", "bad film"], ["good", "good"])
        ]
    else:
        features = [dict(ours(text, text_target=target)) for text, target in zip(TEXTS, TARGETS)]
    got = DataCollatorForSeq2Seq(ours, **options)(features)
    want = transformers.DataCollatorForSeq2Seq(theirs, **options, return_tensors="np")(features)
    assert sorted(got) == sorted(k for k in want if want[k] is not None)
    for key in got:
        np.testing.assert_array_equal(got[key], np.asarray(want[key]), err_msg=key)
    as_tf = DataCollatorForSeq2Seq(ours, **options, return_tensors="tf")(features)
    np.testing.assert_array_equal(as_tf["labels"].numpy(), np.asarray(want["labels"]))
