"""Masked-LM data at scale: tokenise, group into blocks, shard into TFRecords, mask inside tf.data.

The recipe of transformers' TPU language-model example, with TensorFlow's own tools:

1. :func:`tokenize_and_group`: ``datasets.map`` tokenises a text column (batched, ``num_proc``
   processes), then the token streams are concatenated and cut into blocks of ``block_size`` ids.
2. :func:`write_tfrecords`: the blocks go into ``num_shards`` TFRecord files of ``tf.train.Example``
   records (written into a temporary folder, renamed into place when complete).
3. :func:`read_tfrecords`: the shards are read back with ``interleave``, shuffled with a seed,
   batched with a static shape (``drop_remainder``) and prefetched.
4. :func:`mask_tokens` / :func:`mlm_dataset`: BERT's masking (15% of the non-special tokens; of
   those 80% become the mask token, 10% a random token, 10% stay) as TF ops in the pipeline. The
   random numbers come from a stateless RNG keyed by ``(seed, element index)``, so a fixed seed
   gives the same masks in every run, on one device or under any ``tf.distribute`` strategy, and
   nothing in the train step needs more than static-shape, XLA-friendly ops.

Example:
    >>> blocks = tokenize_and_group(texts, tokenizer, block_size=128, num_proc=2)
    >>> files = write_tfrecords(blocks, "shards/", num_shards=4)
    >>> train = mlm_dataset("shards/", tokenizer, block_size=128, batch_size=32, seed=0)
    >>> model.fit(train, epochs=3)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kerasformers.errors import InvalidInputError, MissingFileError, TrainingDataError

__all__ = [
    "group_texts",
    "tokenize_and_group",
    "write_tfrecords",
    "read_tfrecords",
    "mask_tokens",
    "mlm_dataset",
    "special_token_ids",
]

IGNORE_INDEX = -100
_RESOLUTION = 1 << 24  # probabilities in steps of 2**-24
SHARD_PATTERN = "shard-{index:05d}-of-{count:05d}.tfrecord"


def group_texts(examples: dict, block_size: int) -> dict:
    """Concatenate a batch of tokenised examples and cut it into blocks of ``block_size`` ids.

    The ``datasets.map(batched=True)`` function of transformers' language-model examples: the
    remainder shorter than a block is dropped. Every sequence column is grouped the same way.

    Example:
        >>> group_texts({"input_ids": [[1, 2, 3], [4, 5, 6, 7]]}, block_size=3)
        {'input_ids': [[1, 2, 3], [4, 5, 6]]}
    """
    if block_size < 1:
        raise InvalidInputError(f"block_size must be at least 1, got {block_size}.")
    joined = {key: [value for row in rows for value in row] for key, rows in examples.items()}
    total = (len(next(iter(joined.values()), [])) // block_size) * block_size
    return {key: [values[i : i + block_size] for i in range(0, total, block_size)] for key, values in joined.items()}


def tokenize_and_group(
    texts,
    tokenizer,
    block_size: int = 128,
    text_column: str = "text",
    num_proc: int | None = None,
    batch_size: int = 1000,
):
    """A ``datasets.Dataset`` of ``input_ids`` blocks (each ``block_size`` long) from texts.

    ``texts`` is a ``datasets.Dataset`` with a ``text_column`` or a list of strings. Each text is
    tokenised with the tokenizer's special tokens (``[CLS] ... [SEP]``, ``<s> ... </s>``), so
    blocks span sentence boundaries as in transformers' ``run_mlm`` with ``group_texts``.

    Example:
        >>> blocks = tokenize_and_group(["a sentence.", "another one."] * 500, tokenizer, block_size=64)
        >>> len(blocks[0]["input_ids"])
        64
    """
    import datasets

    if isinstance(texts, (list, tuple)):
        texts = datasets.Dataset.from_dict({text_column: list(texts)})
    if text_column not in texts.column_names:
        raise TrainingDataError(f"The data has no column {text_column!r}; its columns are {texts.column_names}.")
    texts = texts.filter(lambda row: bool(row[text_column] and row[text_column].strip()), num_proc=num_proc)

    def tokenize(batch):
        return {"input_ids": tokenizer(batch[text_column], add_special_tokens=True)["input_ids"]}

    tokenized = texts.map(
        tokenize, batched=True, batch_size=batch_size, num_proc=num_proc, remove_columns=texts.column_names
    )
    grouped = tokenized.map(
        group_texts, batched=True, batch_size=batch_size, num_proc=num_proc, fn_kwargs={"block_size": block_size}
    )
    if len(grouped) == 0:
        raise TrainingDataError(
            f"The texts hold fewer than {block_size} tokens in all: give more text or a smaller block_size."
        )
    return grouped


def write_tfrecords(blocks, folder: str | os.PathLike, num_shards: int = 4, column: str = "input_ids") -> list[Path]:
    """Write blocks of ids into ``num_shards`` TFRecord files of ``tf.train.Example`` records.

    Record ``i`` goes to shard ``i % num_shards``; each record holds one int64 feature,
    ``input_ids``. The folder appears complete or not at all (written into a temporary folder,
    then renamed). Returns the shard paths.

    Example:
        >>> write_tfrecords(blocks, "shards/", num_shards=2)
        [PosixPath('shards/shard-00000-of-00002.tfrecord'), PosixPath('shards/shard-00001-of-00002.tfrecord')]
    """
    import tensorflow as tf

    from kerasformers.hub import atomic_folder_write

    if num_shards < 1:
        raise InvalidInputError(f"num_shards must be at least 1, got {num_shards}.")
    rows = blocks[column] if not isinstance(blocks, (list, np.ndarray)) else blocks
    if len(rows) < num_shards:
        raise TrainingDataError(f"{len(rows)} block(s) cannot fill {num_shards} shards: use fewer shards or more text.")
    names = [SHARD_PATTERN.format(index=i, count=num_shards) for i in range(num_shards)]
    with atomic_folder_write(folder, replaces=lambda name: name.endswith(".tfrecord")) as tmp:
        writers = [tf.io.TFRecordWriter(str(tmp / name)) for name in names]
        try:
            for index, ids in enumerate(rows):
                feature = tf.train.Feature(int64_list=tf.train.Int64List(value=list(ids)))
                example = tf.train.Example(features=tf.train.Features(feature={"input_ids": feature}))
                writers[index % num_shards].write(example.SerializeToString())
        finally:
            for writer in writers:
                writer.close()
    return [Path(folder) / name for name in names]


def _shard_files(source) -> list[str]:
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        files = sorted(str(p) for p in Path(source).glob("*.tfrecord"))
        if not files:
            raise MissingFileError(f"{source} holds no .tfrecord files: write them with write_tfrecords().")
        return files
    files = [str(source)] if isinstance(source, (str, os.PathLike)) else [str(f) for f in source]
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise MissingFileError(f"TFRecord file(s) not found: {missing[:3]}.")
    return files


def read_tfrecords(
    source,
    block_size: int,
    shuffle: bool = True,
    seed: int = 0,
    shuffle_buffer: int = 10_000,
    cycle_length: int = 4,
    epoch=None,
):
    """A ``tf.data.Dataset`` of ``{"input_ids": int32 (block_size,)}`` read back from TFRecord shards.

    ``source`` is a folder of ``.tfrecord`` files or a list of them. Shards are read with
    ``interleave`` (``cycle_length`` at a time, deterministic order) and, with ``shuffle``,
    the shard order and the records are shuffled with ``seed`` (a new order each epoch, the same
    orders in every run). With ``epoch`` (an int or an int64 tensor), the order is the one of that
    epoch alone, a function of ``(seed, epoch)`` only, so a resumed run can read epoch 3 without
    replaying epochs 0-2 (:func:`mlm_dataset` reads one ``epoch`` at a time).

    Example:
        >>> ds = read_tfrecords("shards/", block_size=128)
        >>> next(iter(ds))["input_ids"].shape
        TensorShape([128])
    """
    import tensorflow as tf

    files = _shard_files(source)
    feature_spec = {"input_ids": tf.io.FixedLenFeature([block_size], tf.int64)}

    def parse(record):
        return {"input_ids": tf.cast(tf.io.parse_single_example(record, feature_spec)["input_ids"], tf.int32)}

    epoch_key = None if epoch is None else tf.cast(epoch, tf.int64) * 1_000_003 + seed
    if shuffle and epoch_key is not None:  # one fixed order per (seed, epoch), stateless
        order = tf.random.experimental.stateless_shuffle(tf.range(len(files)), seed=tf.stack([epoch_key, 0]))
        dataset = tf.data.Dataset.from_tensor_slices(tf.gather(tf.constant(files), order))
    else:
        dataset = tf.data.Dataset.from_tensor_slices(files)
        if shuffle:
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(cycle_length, len(files)), block_length=1)
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shuffle and epoch_key is not None:
        dataset = _window_shuffle(dataset, shuffle_buffer, epoch_key + 500_009)
    elif shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return dataset


def _window_shuffle(dataset, window: int, key):
    """Each run of ``window`` elements in a permutation drawn from ``(key, run index)``.

    tf.data's own ``shuffle`` takes a tensor seed (``key`` depends on the epoch inside
    ``flat_map``) only while no global seed of 0 is set: TensorFlow then compares the seed tensor
    in Python and fails. This stateless window shuffle gives the same order in every run.
    """
    import tensorflow as tf

    def permute(index, block):
        count = tf.shape(block["input_ids"])[0]
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=tf.stack([key, index]))
        return tf.data.Dataset.from_tensor_slices({name: tf.gather(value, order) for name, value in block.items()})

    return dataset.batch(window).enumerate().flat_map(permute)


def special_token_ids(tokenizer) -> list[int]:
    """The ids masking must never touch: every special token of the tokenizer (pad included).

    Example:
        >>> special_token_ids(bert_tokenizer)
        [0, 100, 101, 102, 103]
    """
    ids = set(tokenizer.all_special_ids)
    for name in ("pad_token_id", "cls_token_id", "sep_token_id", "bos_token_id", "eos_token_id", "mask_token_id"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            ids.add(int(value))
    return sorted(ids)


def mask_tokens(
    input_ids, index, seed: int, mask_token_id: int, vocab_size: int, special_ids, mlm_probability: float = 0.15
):
    """BERT's masking of one block (or a batch) of ids, as TF ops: ``(masked ids, labels)``.

    Each non-special token is chosen with probability ``mlm_probability``; a chosen token becomes
    ``mask_token_id`` with probability 0.8, a uniformly random id in ``[0, vocab_size)`` with 0.1,
    and stays with 0.1, as transformers' ``DataCollatorForLanguageModeling``. ``labels`` hold the
    original id where chosen and -100 elsewhere. The random numbers are
    ``tf.random.stateless_uniform`` keyed by ``(seed, index)``: the same element and seed give the
    same mask in any run, on any device or strategy; shapes stay static (XLA compiles it).

    Example:
        >>> ids, labels = mask_tokens(tf.constant([101, 7592, 2088, 102]), 0, seed=1,
        ...                           mask_token_id=103, vocab_size=30522, special_ids=[0, 101, 102, 103])
    """
    import tensorflow as tf

    input_ids = tf.convert_to_tensor(input_ids)
    dtype = input_ids.dtype
    key = tf.stack([tf.cast(seed, tf.int64), tf.cast(index, tf.int64)])
    # Independent streams from one key: choose, what to put, which random token. Integers, from
    # Philox named explicitly: XLA turns the same random bits into floats differently from the CPU
    # kernel, while integer draws agree bit for bit; probabilities become integer thresholds.
    draws = tf.random.stateless_uniform(
        tf.concat([[2], tf.shape(input_ids)], 0), seed=key, maxval=_RESOLUTION, dtype=tf.int32, alg="philox"
    )
    random_ids = tf.random.stateless_uniform(
        tf.shape(input_ids),
        seed=key + tf.constant([0, 1 << 40], tf.int64),
        maxval=vocab_size,
        dtype=tf.int32,
        alg="philox",
    )
    special = tf.reduce_any(
        tf.equal(input_ids[..., None], tf.reshape(tf.cast(special_ids, dtype), [1] * input_ids.shape.rank + [-1])),
        axis=-1,
    )
    chosen = tf.logical_and(draws[0] < int(mlm_probability * _RESOLUTION), tf.logical_not(special))
    to_mask = tf.logical_and(chosen, draws[1] < int(0.8 * _RESOLUTION))
    # of the remaining 20%, half random: draws[1] in [0.8, 0.9) of the range
    to_random = tf.logical_and(
        chosen, tf.logical_and(draws[1] >= int(0.8 * _RESOLUTION), draws[1] < int(0.9 * _RESOLUTION))
    )
    masked = tf.where(to_mask, tf.cast(mask_token_id, dtype), input_ids)
    masked = tf.where(to_random, tf.cast(random_ids, dtype), masked)
    labels = tf.where(chosen, input_ids, tf.cast(IGNORE_INDEX, dtype))
    return masked, labels


def mlm_dataset(
    source,
    tokenizer,
    block_size: int,
    batch_size: int,
    seed: int = 0,
    mlm_probability: float = 0.15,
    shuffle: bool = True,
    repeat: bool = False,
    epoch: int = 0,
    skip_batches: int = 0,
):
    """Masked-LM batches ``({"input_ids", "attention_mask"}, labels)`` from TFRecord shards.

    Reads the shards (:func:`read_tfrecords`), masks each block in the pipeline
    (:func:`mask_tokens`, keyed by ``seed``, the epoch and the block's position in it), batches
    with a static shape (``drop_remainder=True``, within each epoch) and prefetches.
    ``batch_size`` is the global batch: under ``tf.distribute``, ``fit`` (or
    ``strategy.experimental_distribute_dataset``) splits it; with several workers each keeps its
    part of every global batch (auto-shard policy ``DATA``). Blocks are full (no padding), so
    ``attention_mask`` is all ones.

    Every batch is a function of ``(seed, epoch, batch index)`` alone: the shuffle order of an
    epoch comes from ``(seed, epoch)``, the masks from ``(seed, epoch, position)``. So a run
    resumed after a kill sees the very batches the uninterrupted run saw: start at data epoch
    ``epoch`` and skip its first ``skip_batches`` batches (``epoch, skip_batches =
    divmod(steps_done, batches_per_epoch)`` with ``batches_per_epoch = num_blocks // batch_size``).
    Without ``repeat`` the dataset is that one epoch (less the skipped batches); with ``repeat``
    it goes on with epochs ``epoch + 1``, ``epoch + 2``, ...

    Example:
        >>> train = mlm_dataset("shards/", tokenizer, block_size=128, batch_size=32, seed=0)
        >>> model.fit(train, epochs=3)
        >>> # resume after 250 steps of 100 batches an epoch: epoch 2, batch 50
        >>> rest = mlm_dataset("shards/", tokenizer, 128, 32, seed=0, repeat=True, epoch=2, skip_batches=50)
    """
    import tensorflow as tf

    if tokenizer.mask_token_id is None:
        raise InvalidInputError(
            f"{type(tokenizer).__name__} has no mask token: masked-LM data needs one (add it with "
            "tokenizer.add_special_tokens({'mask_token': '[MASK]'}))."
        )
    if not 0 < mlm_probability < 1:
        raise InvalidInputError(f"mlm_probability must be between 0 and 1, got {mlm_probability}.")
    if epoch < 0 or skip_batches < 0:
        raise InvalidInputError(f"epoch and skip_batches count from 0, got epoch={epoch}, skip_batches={skip_batches}.")
    specials = tf.constant(special_token_ids(tokenizer), tf.int32)
    vocab_size = len(tokenizer)
    mask_id = int(tokenizer.mask_token_id)
    files = _shard_files(source)
    first_epoch = int(epoch)
    skip_records = int(skip_batches) * batch_size

    def one_epoch(epoch_index):
        records = read_tfrecords(files, block_size, shuffle=shuffle, seed=seed, epoch=epoch_index).enumerate()
        # skipped before masking: a resumed run pays only the reading of the skipped blocks
        records = records.skip(tf.where(epoch_index == first_epoch, tf.constant(skip_records, tf.int64), 0))

        def mask(position, example):
            # one key per (epoch, position): a new mask each epoch, the same in every run
            index = epoch_index * (1 << 32) + position
            ids, labels = mask_tokens(example["input_ids"], index, seed, mask_id, vocab_size, specials, mlm_probability)
            return {"input_ids": ids, "attention_mask": tf.ones_like(ids)}, labels

        masked = records.map(mask, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return masked.batch(batch_size, drop_remainder=True)

    last = tf.int64.max if repeat else first_epoch + 1
    dataset = tf.data.Dataset.range(first_epoch, last).flat_map(one_epoch)
    # multi-worker: every worker reads the same stream and keeps its part of each global batch
    # (FILE sharding would give workers other files, other batches than one device sees, and
    # fails outright with fewer files than workers)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
