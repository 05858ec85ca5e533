"""The in-graph BPE merge loop on token ids vs tokenizers' BPE model (the oracle), word by word."""

import pytest
import tensorflow as tf

WORDS = ["abc", "abcabc", "aaaa", "aaaaaaa", "cab", "b", "", "ca\u00e9", "abcc aab"]


@pytest.fixture(scope="module")
def small_bpe():
    # a repeated pair takes its last rank in tokenizers (its merges map is built in order)
    vocab = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "aa": 5, "aaaa": 6, "ca": 7, "Ã": 8, "©": 9, " ": 10, "Ġ": 11}
    merges = [("a", "b"), ("b", "c"), ("a", "a"), ("a", "b"), ("aa", "aa"), ("c", "a")]
    return vocab, merges


def _library_ids(vocab, merges, words, **options):
    from tokenizers import models

    from kerasformers.tokenization.bpe import bytes_to_unicode

    model = models.BPE(vocab, merges, **options)
    table = bytes_to_unicode()
    return [[t.id for t in model.tokenize("".join(table[b] for b in w.encode()))] if w else [] for w in words]


def test_bpe_ids_equal_tokenizers_bpe_model(small_bpe):
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    vocab, merges = small_bpe
    layer = TFByteLevelBPETokenizer(vocab, [" ".join(m) for m in merges])
    got = layer.bpe_ids(tf.constant(WORDS)).to_list()
    assert got == _library_ids(vocab, merges, WORDS)
    inverse = {i: t for t, i in vocab.items()}
    assert layer.bpe(tf.constant(WORDS)).to_list() == [[inverse[i].encode() for i in ids] for ids in got]


def test_bpe_ids_ignore_merges_equal_tokenizers_bpe_model(small_bpe):
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    vocab, merges = small_bpe
    vocab = {**vocab, "abc": 12}  # a whole-word token that the merges alone would split (ab|c or a|bc)
    layer = TFByteLevelBPETokenizer(vocab, [" ".join(m) for m in merges], ignore_merges=True)
    words = [*WORDS, "abc"]
    assert layer.bpe_ids(tf.constant(words)).to_list() == _library_ids(vocab, merges, words, ignore_merges=True)
