"""train_new_from_iterator: a new vocabulary trained by the tokenizers library, the rest kept.

Three kinds: WordPiece (all-MiniLM-L6-v2's BertTokenizerFast), byte-level BPE (SmolLM2's) and
Unigram (a T5-style SentencePiece tokenizer, tests/seq2seq_data.py). The oracle is transformers
5.23's own ``train_new_from_iterator`` (which drives the tokenizers library's trainers) on the
same tokenizer files and the same texts; the in-graph layer of the new vocabulary is compared
with the Python tokenizer.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import transformers
from seq2seq_data import movie_sentences, write_t5_tokenizer
from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers.models import WordPiece

from kerasformers import AutoTokenizer, TFAutoTokenizer
from kerasformers.errors import InvalidInputError

TEXTS = ["The movie was great!", "An ungodly, tepid biopic.", "  spaces   and UPPER case ", "naïve café 日本"]
VOCAB_SIZES = {"wordpiece": 300, "byte_level_bpe": 400, "unigram": 200}


def _batches(texts, size=200):
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


@pytest.fixture(scope="session")
def corpus():
    return movie_sentences(1000)


@pytest.fixture(scope="session")
def folders(minilm_path, smollm2_path, tmp_path_factory):
    return {
        "wordpiece": minilm_path,
        "byte_level_bpe": smollm2_path,
        "unigram": write_t5_tokenizer(tmp_path_factory.mktemp("t5_tokenizer")),
    }


@pytest.fixture(scope="session")
def trained(folders, corpus):
    """kind -> (ours, transformers'), each trained from its own original on the same texts."""
    pairs = {}
    for kind, folder in folders.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            original, reference = (
                AutoTokenizer.from_pretrained(folder),
                transformers.AutoTokenizer.from_pretrained(folder),
            )
        options = dict(vocab_size=VOCAB_SIZES[kind], length=len(corpus), show_progress=False)
        pairs[kind] = (
            original.train_new_from_iterator(_batches(corpus), **options),
            reference.train_new_from_iterator(_batches(corpus), **options),
        )
    return pairs


@pytest.mark.parametrize("kind", ["byte_level_bpe", "unigram"])
def test_same_vocabulary_and_ids_as_transformers(trained, kind):
    ours, theirs = trained[kind]
    assert len(ours) == len(theirs) >= VOCAB_SIZES[kind] - 1
    assert ours.special_tokens_map == {k: str(v) for k, v in theirs.special_tokens_map.items() if v is not None}
    ids = ours(TEXTS, TEXTS[::-1])["input_ids"]
    if kind == "unigram":
        # The library's Unigram trainer orders pieces of equal score in hash order (two runs of the
        # library differ there): the same pieces with the same scores, and the same segmentation.
        # (its EM sums run across threads in no fixed order: scores agree to ~1e-4, not bit for bit)
        assert _unigram_scores(ours) == pytest.approx(_unigram_scores(theirs), rel=1e-3)
        want = theirs(TEXTS, TEXTS[::-1])["input_ids"]
        assert [ours.convert_ids_to_tokens(row) for row in ids] == [theirs.convert_ids_to_tokens(row) for row in want]
    else:
        assert ours.get_vocab() == theirs.get_vocab()
        assert dict(ours(TEXTS, TEXTS[::-1])) == dict(theirs(TEXTS, TEXTS[::-1]))
        assert ours.batch_decode(ids, skip_special_tokens=True) == theirs.batch_decode(ids, skip_special_tokens=True)


def _unigram_scores(tokenizer) -> dict[str, float]:
    return {piece: score for piece, score in json.loads(tokenizer.backend_tokenizer.to_str())["model"]["vocab"]}


def test_wordpiece_matches_the_library_where_its_training_is_deterministic(trained, folders, corpus):
    """The tokenizers library's WordPiece trainer breaks ties between equally frequent pairs in hash
    order, so two runs of the library itself learn (slightly) different vocabularies: compare what is
    fixed (special tokens first with their ids, the alphabet, the size, the whole pipeline) and the ids
    transformers gives with the vocabulary we learned."""
    ours, theirs = trained["wordpiece"]
    assert type(ours).__name__ == "BertTokenizerFast"
    assert [ours.convert_ids_to_tokens(i) for i in range(5)] == [theirs.convert_ids_to_tokens(i) for i in range(5)]
    assert len(ours) == len(theirs) == VOCAB_SIZES["wordpiece"]
    alphabet = {token for token in theirs.get_vocab() if len(token) == 1}
    assert alphabet <= set(ours.get_vocab())
    # the library run by hand on the same pipeline: same alphabet and size, most merges in common
    library = Tokenizer(WordPiece(unk_token="[UNK]"))
    library.normalizer = normalizers.BertNormalizer(lowercase=True)
    library.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    library.train_from_iterator(
        _batches(corpus),
        trainers.WordPieceTrainer(vocab_size=VOCAB_SIZES["wordpiece"], special_tokens=specials, show_progress=False),
    )
    assert {t: library.token_to_id(t) for t in specials} == {t: ours.convert_tokens_to_ids(t) for t in specials}
    assert len(set(library.get_vocab()) & set(ours.get_vocab())) >= 0.9 * VOCAB_SIZES["wordpiece"]
    # ids: transformers' BERT tokenizer over the vocabulary we learned
    reference = transformers.BertTokenizerFast(vocab=ours.get_vocab(), do_lower_case=True)
    assert dict(ours(TEXTS, TEXTS[::-1])) == dict(reference(TEXTS, TEXTS[::-1]))


@pytest.mark.parametrize("kind", ["wordpiece", "byte_level_bpe", "unigram"])
def test_saves_reloads_and_in_graph_matches(trained, kind, tmp_path):
    ours, _ = trained[kind]
    ours.save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reloaded = [AutoTokenizer.from_pretrained(tmp_path), transformers.AutoTokenizer.from_pretrained(tmp_path)]
    want = ours(TEXTS)["input_ids"]
    for tokenizer in reloaded:
        assert tokenizer(TEXTS)["input_ids"] == want
    assert type(reloaded[0]) is type(ours)
    layer = TFAutoTokenizer.from_tokenizer(ours)
    sentences = TEXTS + movie_sentences(1100)[1000:]
    got = layer(sentences, padding=False)["input_ids"].to_list()
    assert got == ours(sentences)["input_ids"]
    padded = layer(TEXTS, padding=True)
    np.testing.assert_array_equal(
        padded["input_ids"].numpy(), ours(TEXTS, padding=True, return_tensors="np")["input_ids"]
    )


def test_new_and_renamed_special_tokens_as_transformers(folders, corpus):
    options = dict(
        vocab_size=250,
        new_special_tokens=["<ent>"],
        special_tokens_map={"[MASK]": "<mask>", "[CLS]": "<s>"},
        show_progress=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = AutoTokenizer.from_pretrained(folders["wordpiece"]).train_new_from_iterator(corpus[:300], **options)
        theirs = transformers.AutoTokenizer.from_pretrained(folders["wordpiece"]).train_new_from_iterator(
            corpus[:300], **options
        )
    assert ours.mask_token == theirs.mask_token == "<mask>"
    assert ours.cls_token == theirs.cls_token == "<s>"
    assert ours.additional_special_tokens == ["<ent>"]
    assert "<ent>" in theirs.all_special_tokens
    for name in ("<mask>", "<s>", "<ent>", "[PAD]", "[SEP]"):
        assert ours.convert_tokens_to_ids(name) == theirs.convert_tokens_to_ids(name)
    encoded = ours("a <ent> b")["input_ids"]
    assert encoded[0] == ours.convert_tokens_to_ids("<s>") and ours.convert_tokens_to_ids("<ent>") in encoded
    assert ours.decode(encoded, skip_special_tokens=True) == theirs.decode(encoded, skip_special_tokens=True)


def test_bad_vocab_size_is_refused(folders):
    tokenizer = AutoTokenizer.from_pretrained(folders["wordpiece"])
    with pytest.raises(InvalidInputError, match="vocab_size"):
        tokenizer.train_new_from_iterator(["a b c"], vocab_size=0)
