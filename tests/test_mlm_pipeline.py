"""The masked-LM data pipeline: group_texts, sharded TFRecords read back, masking inside tf.data.

Masking is checked against the properties transformers' DataCollatorForLanguageModeling documents
(15% of the non-special tokens chosen; of those 80% [MASK], 10% a random token, 10% unchanged;
labels -100 elsewhere) over more than 100k tokens of real text, and for determinism.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from seq2seq_data import movie_sentences

from kerasformers import AutoTokenizer
from kerasformers.data.mlm import (
    group_texts,
    mask_tokens,
    mlm_dataset,
    read_tfrecords,
    special_token_ids,
    tokenize_and_group,
    write_tfrecords,
)
from kerasformers.errors import InvalidInputError, MissingFileError

BLOCK = 64


@pytest.fixture(scope="session")
def tokenizer(minilm_path):
    return AutoTokenizer.from_pretrained(minilm_path)


@pytest.fixture(scope="session")
def shards(tokenizer, tmp_path_factory):
    blocks = tokenize_and_group(movie_sentences(6000), tokenizer, block_size=BLOCK, num_proc=2)
    folder = tmp_path_factory.mktemp("mlm") / "shards"
    files = write_tfrecords(blocks, folder, num_shards=4)
    return blocks, folder, files


def test_group_texts_concatenates_and_drops_the_remainder():
    grouped = group_texts({"input_ids": [[1, 2, 3], [4, 5], [6, 7, 8, 9]], "mask": [[1] * 3, [1] * 2, [1] * 4]}, 4)
    assert grouped == {"input_ids": [[1, 2, 3, 4], [5, 6, 7, 8]], "mask": [[1] * 4, [1] * 4]}


def test_blocks_hold_the_tokenised_stream(tokenizer, shards):
    blocks, _, _ = shards
    # as transformers' run_mlm: each map batch of 1000 texts is concatenated and cut on its own
    rows = tokenizer(movie_sentences(6000))["input_ids"]
    want = [
        block
        for start in range(0, 6000, 1000)
        for block in group_texts({"ids": rows[start : start + 1000]}, BLOCK)["ids"]
    ]
    assert blocks["input_ids"] == want
    assert len(want) >= sum(len(ids) for ids in rows) // BLOCK - 6  # at most one partial block per map batch lost


def test_tfrecords_read_back_every_block(shards):
    blocks, folder, files = shards
    assert [f.name for f in files] == [f"shard-0000{i}-of-00004.tfrecord" for i in range(4)]
    read = [tuple(x["input_ids"].numpy()) for x in read_tfrecords(folder, BLOCK, shuffle=False)]
    assert sorted(read) == sorted(tuple(row) for row in blocks["input_ids"])
    shuffled = [tuple(x["input_ids"].numpy()) for x in read_tfrecords(folder, BLOCK, shuffle=True, seed=1)]
    assert sorted(shuffled) == sorted(read) and shuffled != read


def test_masking_statistics_over_100k_tokens(tokenizer, shards):
    _, folder, _ = shards
    dataset = mlm_dataset(folder, tokenizer, BLOCK, batch_size=32, seed=7)
    inputs, labels = [], []
    for x, y in dataset:
        assert x["input_ids"].shape == (32, BLOCK) and y.shape == (32, BLOCK)  # static: drop_remainder
        inputs.append(x["input_ids"].numpy())
        labels.append(y.numpy())
    inputs, labels = np.concatenate(inputs), np.concatenate(labels)
    original = np.where(labels == -100, inputs, labels)
    special = np.isin(original, special_token_ids(tokenizer))
    assert (~special).sum() > 100_000
    chosen = labels != -100
    assert not (chosen & special).any(), "a special token was masked"
    assert (inputs[special] == original[special]).all()
    assert (inputs[~chosen] == original[~chosen]).all()
    rate = chosen.sum() / (~special).sum()
    as_mask = (inputs[chosen] == tokenizer.mask_token_id).mean()
    unchanged = (inputs[chosen] == labels[chosen]).mean()
    replaced = 1 - as_mask - unchanged
    # within 1% (absolute) of the documented proportions; a random token equal to the original
    # counts as unchanged (1 in len(tokenizer))
    assert abs(rate - 0.15) < 0.01, rate
    assert abs(as_mask - 0.8) < 0.01 and abs(replaced - 0.1) < 0.01 and abs(unchanged - 0.1) < 0.01


def test_same_mask_for_a_fixed_seed(tokenizer, shards):
    _, folder, _ = shards

    def first_batches(seed):
        taken = list(mlm_dataset(folder, tokenizer, BLOCK, batch_size=16, seed=seed).take(3))
        return [(x["input_ids"].numpy(), y.numpy()) for x, y in taken]

    first, again, other = first_batches(5), first_batches(5), first_batches(6)
    for (a, la), (b, lb) in zip(first, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    assert any((a != b).any() for (a, _), (b, _) in zip(first, other))


def test_masking_compiles_with_xla_and_gives_the_same_result(tokenizer):
    ids = tf.constant(
        tokenizer(movie_sentences(8)[:8], padding="max_length", truncation=True, max_length=32)["input_ids"], tf.int32
    )
    specials = tf.constant(special_token_ids(tokenizer), tf.int32)

    def run(i):
        return mask_tokens(ids, i, 11, tokenizer.mask_token_id, len(tokenizer), specials)

    eager = run(tf.constant(3, tf.int64))
    compiled = tf.function(run, jit_compile=True)(tf.constant(3, tf.int64))
    for a, b in zip(eager, compiled):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_bad_inputs(tokenizer, tmp_path):
    with pytest.raises(MissingFileError, match="tfrecord"):
        read_tfrecords(tmp_path, BLOCK)
    with pytest.raises(InvalidInputError, match="block_size"):
        group_texts({"input_ids": [[1]]}, 0)
    with pytest.raises(InvalidInputError, match="mlm_probability"):
        mlm_dataset(tmp_path, tokenizer, BLOCK, 8, mlm_probability=1.5)


def test_a_global_seed_of_zero_changes_nothing(tokenizer, shards):
    """keras.utils.set_random_seed(0) before building the data (a common first line of a script):
    the per-epoch order is stateless, so the batches are those of a run without a global seed."""
    _, folder, _ = shards

    def first_batch():
        x, y = next(iter(mlm_dataset(folder, tokenizer, BLOCK, batch_size=16, seed=5)))
        return x["input_ids"].numpy(), y.numpy()

    plain = first_batch()
    tf.random.set_seed(0)
    try:
        seeded = first_batch()
    finally:
        tf.random.set_seed(None)
    np.testing.assert_array_equal(plain[0], seeded[0])
    np.testing.assert_array_equal(plain[1], seeded[1])
