"""Collators: the same batches as transformers' own collators where deterministic; MLM statistics."""

import numpy as np
import pytest
import tensorflow as tf
import transformers

from kerasformers import AutoTokenizer
from kerasformers.data import collators as ours

TEXTS = [
    "A fine film.",
    "The plot drags, but the acting is superb and the music is lovely.",
    "Dull.",
    "Not my kind of movie, though I can see why people like it.",
]


@pytest.fixture(scope="module")
def tokenizers(minilm_path):
    return AutoTokenizer.from_pretrained(minilm_path), transformers.AutoTokenizer.from_pretrained(minilm_path)


@pytest.fixture(scope="module")
def features(tokenizers):
    _, theirs = tokenizers
    encoded = theirs(TEXTS, padding=False, truncation=True)
    return [{k: encoded[k][i] for k in encoded} | {"label": i % 2} for i in range(len(TEXTS))]


def assert_same(a: dict, b: dict):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


@pytest.mark.parametrize("pad_to_multiple_of", [None, 8])
def test_padding_matches_transformers(tokenizers, features, pad_to_multiple_of):
    mine, theirs = tokenizers
    a = ours.DataCollatorWithPadding(mine, pad_to_multiple_of=pad_to_multiple_of)([dict(f) for f in features])
    b = transformers.DataCollatorWithPadding(theirs, pad_to_multiple_of=pad_to_multiple_of, return_tensors="np")(
        [dict(f) for f in features]
    )
    assert_same(a, b)
    longest = max(len(f["input_ids"]) for f in features)
    assert a["input_ids"].shape[1] == (longest if pad_to_multiple_of is None else -(-longest // 8) * 8)


def test_left_padding_matches_transformers(tokenizers, features):
    mine, theirs = tokenizers
    mine.padding_side = theirs.padding_side = "left"
    try:
        a = ours.DataCollatorWithPadding(mine)([dict(f) for f in features])
        b = transformers.DataCollatorWithPadding(theirs, return_tensors="np")([dict(f) for f in features])
    finally:
        mine.padding_side = theirs.padding_side = "right"
    assert_same(a, b)


def test_token_classification_matches_transformers(tokenizers, features):
    mine, theirs = tokenizers
    rows = [{k: v for k, v in f.items() if k != "label"} for f in features]
    for i, row in enumerate(rows):
        row["labels"] = [-100] + [(i + j) % 5 for j in range(len(row["input_ids"]) - 2)] + [-100]
    a = ours.DataCollatorForTokenClassification(mine)([dict(r) for r in rows])
    b = transformers.DataCollatorForTokenClassification(theirs, return_tensors="np")([dict(r) for r in rows])
    assert_same(a, b)


def test_seq2seq_matches_transformers(tokenizers, features):
    mine, theirs = tokenizers
    rows = [
        {"input_ids": f["input_ids"], "attention_mask": f["attention_mask"], "labels": f["input_ids"][1:][: 3 + 2 * i]}
        for i, f in enumerate(features)
    ]
    for multiple in (None, 4):
        a = ours.DataCollatorForSeq2Seq(mine, pad_to_multiple_of=multiple)([dict(r) for r in rows])
        b = transformers.DataCollatorForSeq2Seq(theirs, pad_to_multiple_of=multiple, return_tensors="np")(
            [dict(r) for r in rows]
        )
        assert_same(a, b)


def test_default_collator_matches_transformers(tokenizers):
    _, theirs = tokenizers
    encoded = theirs(TEXTS, padding="max_length", max_length=24, truncation=True)
    rows = [{k: encoded[k][i] for k in encoded} | {"label": i % 2} for i in range(len(TEXTS))]
    a = ours.DefaultDataCollator()([dict(r) for r in rows])
    b = transformers.DefaultDataCollator(return_tensors="np")([dict(r) for r in rows])
    assert_same(a, b)
    assert_same(ours.default_data_collator([dict(r) for r in rows]), b)


def test_causal_lm_mode_matches_transformers(tokenizers, features):
    mine, theirs = tokenizers
    rows = [{"input_ids": f["input_ids"]} for f in features]
    a = ours.DataCollatorForLanguageModeling(mine, mlm=False)([dict(r) for r in rows])
    b = transformers.DataCollatorForLanguageModeling(theirs, mlm=False, return_tensors="np")([dict(r) for r in rows])
    assert_same(a, b)
    assert (a["labels"][a["attention_mask"] == 0] == -100).all()


def test_return_tensors_tf(tokenizers, features):
    mine, _ = tokenizers
    batch = ours.DataCollatorWithPadding(mine, return_tensors="tf")([dict(f) for f in features])
    assert all(isinstance(v, tf.Tensor) for v in batch.values())
    np.testing.assert_array_equal(batch["labels"].numpy(), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="return_tensors"):
        ours.DataCollatorWithPadding(mine, return_tensors="pt")([dict(f) for f in features])


def test_length_buckets(tokenizers, features):
    mine, _ = tokenizers
    collator = ours.DataCollatorWithPadding(mine, length_buckets=(8, 16, 32))
    assert collator([dict(features[0])])["input_ids"].shape == (1, 8)
    assert collator([dict(f) for f in features])["input_ids"].shape == (4, 32)
    assert ours.padded_length(70, length_buckets=(8, 16, 32)) == 96  # past the last: its multiples


def mlm_batch(tokenizer, seed, rows=64, length=60):
    rng = np.random.RandomState(0)
    ids = [
        [tokenizer.cls_token_id] + rng.randint(1000, 20000, length - 2 - i % 7).tolist() + [tokenizer.sep_token_id]
        for i in range(rows)
    ]
    collator = ours.DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed)
    return ids, collator([{"input_ids": row} for row in ids])


def test_mlm_masking_statistics(tokenizers):
    mine, _ = tokenizers
    ids, batch = mlm_batch(mine, seed=0, rows=400)
    original = ours.DataCollatorWithPadding(mine)([{"input_ids": row} for row in ids])["input_ids"]
    labels, inputs = batch["labels"], batch["input_ids"]
    chosen = labels != -100
    candidates = (batch["attention_mask"] == 1) & ~np.isin(original, [mine.cls_token_id, mine.sep_token_id])
    assert not (chosen & ~candidates).any(), "special tokens and padding are never chosen"
    np.testing.assert_array_equal(labels[chosen], original[chosen])  # labels are the original ids
    assert abs(chosen.sum() / candidates.sum() - 0.15) < 0.01
    masked = chosen & (inputs == mine.mask_token_id)
    kept = chosen & (inputs == original)
    randomised = chosen & ~masked & ~kept
    n = chosen.sum()
    assert abs(masked.sum() / n - 0.8) < 0.02
    # a random replacement can draw the original id: "kept" holds 10% plus that tiny share
    assert abs(kept.sum() / n - 0.1) < 0.02 and abs(randomised.sum() / n - 0.1) < 0.02
    np.testing.assert_array_equal(inputs[~chosen], original[~chosen])


def test_mlm_seed_repeatability(tokenizers):
    mine, _ = tokenizers
    _, a = mlm_batch(mine, seed=7)
    _, b = mlm_batch(mine, seed=7)
    _, c = mlm_batch(mine, seed=8)
    assert_same(a, b)
    assert not np.array_equal(a["labels"], c["labels"])


def test_mlm_needs_mask_token():
    class NoMask:
        mask_token_id = None

    with pytest.raises(ValueError, match="mask token"):
        ours.DataCollatorForLanguageModeling(NoMask())


def test_multiple_choice_matches_transformers(tokenizers):
    mine, theirs = tokenizers
    rows = []
    for i in range(3):
        encoded = theirs([TEXTS[i]] * 2, [TEXTS[(i + 1) % 4], TEXTS[(i + 2) % 4]], truncation=True)
        rows.append({k: list(v) for k, v in encoded.items()} | {"label": i % 2})
    for multiple in (None, 8):
        a = ours.DataCollatorForMultipleChoice(mine, pad_to_multiple_of=multiple)([dict(r) for r in rows])
        # 5.23 implements this one for torch tensors only; compared as arrays
        b = transformers.DataCollatorForMultipleChoice(theirs, pad_to_multiple_of=multiple, return_tensors="pt")(
            [dict(r) for r in rows]
        )
        assert_same(a, b)
    assert a["input_ids"].shape[:2] == (3, 2)


def test_every_collator_gives_tf_tensors_on_request(tokenizers, features):
    """return_tensors="tf" (what 4.57's TF examples passed): the same values as numpy, as tf.Tensors."""
    mine, _ = tokenizers
    token_rows = [{"input_ids": f["input_ids"], "labels": [0] * len(f["input_ids"])} for f in features]
    cases = [
        (ours.DataCollatorWithPadding, {}, features),
        (ours.DataCollatorForTokenClassification, {}, token_rows),
        (ours.DataCollatorForSeq2Seq, {}, token_rows),
        (ours.DataCollatorForLanguageModeling, {"seed": 3}, [{"input_ids": f["input_ids"]} for f in features]),
    ]
    for cls, options, rows in cases:
        as_np = cls(mine, **options)([dict(r) for r in rows])
        as_tf = cls(mine, return_tensors="tf", **options)([dict(r) for r in rows])
        assert sorted(as_np) == sorted(as_tf)
        for key in as_np:
            assert isinstance(as_tf[key], tf.Tensor), (cls.__name__, key)
            np.testing.assert_array_equal(as_tf[key].numpy(), as_np[key])
    padded = ours.DataCollatorWithPadding(mine)([dict(f) for f in features])
    rows = [{k: padded[k][i].tolist() for k in padded} for i in range(len(features))]
    assert isinstance(ours.default_data_collator(rows, return_tensors="tf")["input_ids"], tf.Tensor)
    # 4.57's TF-only switch is accepted (masking runs in numpy either way)
    ours.DataCollatorForLanguageModeling(mine, tf_experimental_compile=True)
