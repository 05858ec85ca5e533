"""Bad inputs to the tokenizers: one clear error naming the file or the argument, never a raw traceback.

Garbage tokenizer files (tokenizer.json, vocab.txt, vocab.json, merges.txt, tokenizer_config.json,
GGUF) raise :class:`TokenizerFileError` (an ``OSError`` and a ``ValueError``) naming the file and
saying what to do, through every loader: ``AutoTokenizer``, ``PreTrainedTokenizerFast``,
``TFAutoTokenizer`` and the in-graph tokenizers' ``from_pretrained``. Bad arguments to
``__call__`` / ``decode`` / ``batch_decode`` raise a ``TypeError`` or ``ValueError`` naming the argument;
ids past the vocabulary are no error: decoding skips them, as the tokenizers library does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kerasformers.tokenization import AutoTokenizer, PreTrainedTokenizerFast, TokenizerFileError

MINILM_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


def garbage_json_cases(good: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, a word the error must say about what is wrong)."""
    return {
        "invalid-json": (b"{not json at all", "not valid JSON"),
        "json-not-a-tokenizer": (b'{"hello": 1}', "not a tokenizer"),
        "json-list": (b"[1, 2, 3]", "not a tokenizer"),
        "truncated": (good[: len(good) // 2], "truncated"),
        "binary": (bytes(range(256)) * 4, "not UTF-8"),
        "empty": (b"", "empty"),
    }


@pytest.fixture(scope="module")
def minilm_tokenizer_json(minilm_path) -> bytes:
    return (Path(minilm_path) / "tokenizer.json").read_bytes()


def checkpoint_with(tmp_path: Path, minilm_path, **files: bytes) -> Path:
    """A copy of MiniLM's tokenizer files with some replaced (``vocab_txt=...`` writes vocab.txt;
    a value of None leaves that file out)."""
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    for name in MINILM_FILES:
        shutil.copy(Path(minilm_path) / name, folder / name)
    for key, data in files.items():
        name = key.replace("_json", ".json").replace("_txt", ".txt").replace("_gguf", ".gguf")
        if data is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(data)
    return folder


def loaders():
    from kerasformers.tokenization import TFAutoTokenizer, TFWordPieceTokenizer
    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer
    from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer

    return {
        "AutoTokenizer": AutoTokenizer.from_pretrained,
        "PreTrainedTokenizerFast.from_pretrained": PreTrainedTokenizerFast.from_pretrained,
        "PreTrainedTokenizerFast(tokenizer_file=)": lambda folder: PreTrainedTokenizerFast(
            tokenizer_file=folder / "tokenizer.json"
        ),
        "TFAutoTokenizer": TFAutoTokenizer.from_pretrained,
        "TFWordPieceTokenizer": TFWordPieceTokenizer.from_pretrained,
        "TFByteLevelBPETokenizer": TFByteLevelBPETokenizer.from_pretrained,
        "TFSentencePieceTokenizer": TFSentencePieceTokenizer.from_pretrained,
    }


LOADER_NAMES = [
    "AutoTokenizer",
    "PreTrainedTokenizerFast.from_pretrained",
    "PreTrainedTokenizerFast(tokenizer_file=)",
    "TFAutoTokenizer",
    "TFWordPieceTokenizer",
    "TFByteLevelBPETokenizer",
    "TFSentencePieceTokenizer",
]
GARBAGE_NAMES = ["invalid-json", "json-not-a-tokenizer", "json-list", "truncated", "binary", "empty"]


def assert_names_file_and_fix(error: pytest.ExceptionInfo, file_name: str, problem: str):
    message = str(error.value)
    assert file_name in message, message
    assert problem in message, message
    assert "re-download" in message.lower() or "save" in message, message  # says what to do


# ---------------------------------------------------------------------------- tokenizer.json


@pytest.mark.parametrize("garbage", GARBAGE_NAMES)
@pytest.mark.parametrize("loader", LOADER_NAMES)
def test_garbage_tokenizer_json(loader, garbage, minilm_path, minilm_tokenizer_json, tmp_path):
    data, problem = garbage_json_cases(minilm_tokenizer_json)[garbage]
    folder = checkpoint_with(tmp_path, minilm_path, tokenizer_json=data)
    with pytest.raises(TokenizerFileError) as error:
        loaders()[loader](folder)
    assert_names_file_and_fix(error, str(folder / "tokenizer.json"), problem)
    assert isinstance(error.value, OSError) and isinstance(error.value, ValueError)


def test_tokenizer_json_the_tokenizers_library_rejects(minilm_path, minilm_tokenizer_json, tmp_path):
    # valid JSON with a "model", but not one the tokenizers library can build
    folder = checkpoint_with(tmp_path, minilm_path, tokenizer_json=b'{"model": {"type": "NoSuchModel"}}')
    with pytest.raises(TokenizerFileError) as error:
        AutoTokenizer.from_pretrained(folder)
    assert_names_file_and_fix(error, "tokenizer.json", "cannot read")


# ---------------------------------------------------------------------------- vocab.txt


@pytest.mark.parametrize(
    "data, problem",
    [(bytes(range(256)) * 4, "not UTF-8"), (b"", "empty"), (b"[PAD]\n[UNK]\nhello\n\xff\xfe\nworld\n", "not UTF-8")],
    ids=["binary", "empty", "invalid-utf8"],
)
@pytest.mark.parametrize("loader", ["AutoTokenizer", "TFAutoTokenizer", "TFWordPieceTokenizer"])
def test_garbage_vocab_txt(loader, data, problem, minilm_path, tmp_path):
    folder = checkpoint_with(tmp_path, minilm_path, tokenizer_json=None, vocab_txt=data)
    with pytest.raises(TokenizerFileError) as error:
        loaders()[loader](folder)
    assert_names_file_and_fix(error, str(folder / "vocab.txt"), problem)


# ---------------------------------------------------------------------------- vocab.json + merges.txt


@pytest.mark.parametrize(
    "vocab, merges, bad_file, problem",
    [
        (b"{broken", b"#version: 0.2\na b\n", "vocab.json", "not valid JSON"),
        (b"[1, 2]", b"#version: 0.2\na b\n", "vocab.json", "token -> id"),
        (b'{"a": 0, "b": 1, "ab": 2}', bytes(range(256)), "merges.txt", "not UTF-8"),
    ],
    ids=["vocab-invalid-json", "vocab-not-a-mapping", "merges-binary"],
)
@pytest.mark.parametrize("loader", ["AutoTokenizer", "TFByteLevelBPETokenizer"])
def test_garbage_bpe_files(loader, vocab, merges, bad_file, problem, tmp_path):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    (folder / "vocab.json").write_bytes(vocab)
    (folder / "merges.txt").write_bytes(merges)
    with pytest.raises(TokenizerFileError) as error:
        loaders()[loader](folder)
    assert_names_file_and_fix(error, str(folder / bad_file), problem)


# ---------------------------------------------------------------------------- tokenizer_config.json


@pytest.mark.parametrize(
    "data, problem",
    [(b"{broken", "not valid JSON"), (bytes(range(256)), "not UTF-8"), (b'["a list"]', "JSON object")],
    ids=["invalid-json", "binary", "not-an-object"],
)
def test_garbage_tokenizer_config(data, problem, minilm_path, tmp_path):
    folder = checkpoint_with(tmp_path, minilm_path, tokenizer_config_json=data)
    with pytest.raises(TokenizerFileError) as error:
        AutoTokenizer.from_pretrained(folder)
    assert_names_file_and_fix(error, str(folder / "tokenizer_config.json"), problem)
    assert isinstance(error.value, ValueError)  # was a ValueError before TokenizerFileError existed


# ---------------------------------------------------------------------------- GGUF


def test_truncated_gguf(tmp_path):
    from fixture_data import llama_cpp_vocab

    whole = Path(llama_cpp_vocab("gpt-2")).read_bytes()
    (tmp_path / "vocab.gguf").write_bytes(whole[: len(whole) // 3])
    with pytest.raises(TokenizerFileError) as error:
        AutoTokenizer.from_pretrained(tmp_path, gguf_file="vocab.gguf")
    assert_names_file_and_fix(error, "vocab.gguf", "truncated")


# ---------------------------------------------------------------------------- decode / batch_decode


@pytest.fixture(scope="module")
def minilm(minilm_path):
    return AutoTokenizer.from_pretrained(minilm_path)


@pytest.mark.parametrize("method, argument", [("decode", "token_ids"), ("batch_decode", "sequences")])
@pytest.mark.parametrize(
    "ids, error_type, words",
    [
        ("hello world", TypeError, "str"),
        (["hello", "world"], TypeError, "str"),
        ([[101, 102], ["a"]], TypeError, "str"),
        (None, TypeError, "NoneType"),
        ([101, 1.5], TypeError, "float"),
        ([101, -1], ValueError, "-1"),
        ([[101], [-5]], ValueError, "-5"),
    ],
    ids=["string", "list-of-strings", "nested-string", "none", "float", "negative", "nested-negative"],
)
def test_bad_ids_to_decode(minilm, method, argument, ids, error_type, words):
    if method == "batch_decode" and ids is not None and not isinstance(ids, str) and not isinstance(ids[0], list):
        ids = [ids]
    with pytest.raises(error_type) as error:
        getattr(minilm, method)(ids)
    message = str(error.value)
    assert argument in message and words in message, message
    if error_type is ValueError:
        assert str(len(minilm)) in message, message  # says the valid range


@pytest.mark.parametrize(
    "ids",
    [[101, 10**6, 7592], [101, 30522, 102], [30522], [2**31]],
    ids=["far-past-end", "just-past-end", "only-past-end", "int32-max-plus-one"],
)
def test_ids_past_the_vocabulary_are_skipped_as_in_tokenizers(minilm, ids):
    # transformers decodes through the tokenizers library, which skips ids it has no token for; a
    # model's embedding table may be larger than its tokenizer (Qwen2), so generated ids land there
    backend = minilm.backend_tokenizer
    for skip in (False, True):
        assert minilm.decode(ids, skip_special_tokens=skip) == backend.decode(ids, skip_special_tokens=skip)
        assert minilm.batch_decode([ids, [101]], skip_special_tokens=skip) == backend.decode_batch(
            [ids, [101]], skip_special_tokens=skip
        )


def test_decode_accepts_every_id_in_range(minilm):
    # the range check must not reject the last added token (the oracle: the vocabulary itself)
    last = max(minilm.get_vocab().values())
    assert minilm.decode([last]) == minilm.convert_ids_to_tokens(last)


# ---------------------------------------------------------------------------- __call__ text


@pytest.mark.parametrize("argument", ["text", "text_pair"])
@pytest.mark.parametrize(
    "value, words",
    [
        (5, "int"),
        (1.5, "float"),
        (b"bytes", "bytes"),
        ([1, 2], "int"),
        (["a", 1], "[1]"),
        (["a", None], "[1]"),
        ([["a", "b"], ["c", 3]], "[1][1]"),
        ({"a": "b"}, "dict"),
    ],
    ids=["int", "float", "bytes", "list-of-ints", "mixed-list", "none-in-list", "nested-mixed", "dict"],
)
def test_bad_text_to_call(minilm, argument, value, words):
    if argument == "text":
        call = lambda: minilm(value)  # noqa: E731
    else:
        pair = ["x"] * len(value) if isinstance(value, list) else "x"
        call = lambda: minilm(pair, value)  # noqa: E731
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert f"`{argument}`" in message and words in message, message


def test_text_none_names_text(minilm):
    with pytest.raises(ValueError, match="`text`"):
        minilm(None)


@pytest.mark.parametrize(
    "value, error_type, words",
    [
        (None, TypeError, "None"),
        (5, TypeError, "int"),
        ([1, 2], TypeError, "int"),
        ([["a"], ["b", "c"]], ValueError, "rank"),
    ],
    ids=["none", "int", "list-of-ints", "ragged-nested"],
)
def test_bad_text_to_in_graph_call(minilm, value, error_type, words):
    from kerasformers.tokenization import TFWordPieceTokenizer

    layer = TFWordPieceTokenizer.from_tokenizer(minilm)
    with pytest.raises(error_type) as error:
        layer(value)
    message = str(error.value)
    assert "text" in message and words in message, message
