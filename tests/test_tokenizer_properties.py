"""Property-based tests: for any text, every tokenizer of a checkpoint gives the same ids.

For each kind -- WordPiece (all-MiniLM-L6-v2), byte-level BPE GPT-2 style (SmolLM2's
tokenizer.json) and Llama 3 style (llama.cpp's llama-bpe vocabulary), SentencePiece BPE
(llama.cpp's llama-spm vocabulary) -- three tokenizers read the same files:

(a) our Python tokenizer (``AutoTokenizer`` / ``tokenizer_from_gguf``),
(b) the in-graph tokenizer layer (``TFAutoTokenizer.from_tokenizer``),
(c) the oracle: the ``tokenizers`` library on the same tokenizer.json (and transformers'
    ``AutoTokenizer`` for the checkpoint folders).

Inputs: random Unicode (every category hypothesis draws, weighted towards combining marks, emoji,
CJK, right-to-left scripts, controls, NUL and Unicode whitespace), very long strings,
special-token look-alikes ("[CLS]", "[CL", "<|endoftext|>", "<|end", "<s>"...), and invalid UTF-8.

Invalid UTF-8 (only the in-graph tokenizers take bytes): the contract is that each invalid
sequence becomes U+FFFD exactly as ``raw.decode("utf-8", errors="replace")`` does, so the ids are
the oracle's ids of that text (``kerasformers.tokenization.in_graph.replace_invalid_utf8``).

Reproducible: the "ci" profile (the default) is derandomized, so every run draws the same
examples. ``HYPOTHESIS_PROFILE=explore`` draws new random examples, ten times as many.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tensorflow as tf

hypothesis = pytest.importorskip("hypothesis")
pytest.importorskip("tensorflow_text")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
SCALE = 10 if PROFILE == "explore" else 1


def examples(n: int) -> settings:
    return settings(max_examples=n * SCALE)


# ------------------------------------------------------------------------------------ tokenizers


class Kind:
    """One tokenizer kind: the Python tokenizer, its in-graph layer and the oracle(s)."""

    def __init__(self, name, python, oracle, transformers_tokenizer=None):
        from kerasformers.tokenization import TFAutoTokenizer

        self.name, self.python, self.oracle, self.transformers = name, python, oracle, transformers_tokenizer
        # no truncation: long strings must come out whole, as from the other two
        self.layer = TFAutoTokenizer.from_tokenizer(python, truncation=False, max_length=None)
        added = [token.content for token in oracle.get_added_tokens_decoder().values()]
        self.special_tokens = sorted(set(added))[:12] or ["[CLS]"]


def _folder_kind(name, folder) -> Kind:
    import tokenizers
    import transformers

    from kerasformers.tokenization import AutoTokenizer

    oracle = tokenizers.Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    # MiniLM's file pads / truncates to 128; transformers (and we) set padding per call instead
    oracle.no_padding()
    oracle.no_truncation()
    theirs = transformers.AutoTokenizer.from_pretrained(str(folder))
    return Kind(name, AutoTokenizer.from_pretrained(folder), oracle, theirs)


def _gguf_kind(name, pad_token) -> Kind:
    import tokenizers
    from fixture_data import llama_cpp_vocab

    from kerasformers.tokenization import tokenizer_from_gguf
    from kerasformers.tokenization.gguf import gguf_tokenizer_json, read_gguf_vocab

    path = llama_cpp_vocab(name)
    oracle = tokenizers.Tokenizer.from_str(json.dumps(gguf_tokenizer_json(read_gguf_vocab(path))))
    return Kind(name, tokenizer_from_gguf(path, pad_token=pad_token), oracle)


KIND_NAMES = ["wordpiece-minilm", "bpe-smollm2", "bpe-llama3", "spm-llama2"]
_KINDS: dict[str, Kind] = {}


@pytest.fixture(scope="module", params=KIND_NAMES)
def kind(request, minilm_path, smollm2_path) -> Kind:
    # built once per module: hypothesis calls the test body many times with the same fixture
    if request.param not in _KINDS:
        _KINDS[request.param] = {
            "wordpiece-minilm": lambda: _folder_kind(request.param, minilm_path),
            "bpe-smollm2": lambda: _folder_kind(request.param, smollm2_path),
            "bpe-llama3": lambda: _gguf_kind("llama-bpe", "<|end_of_text|>"),
            "spm-llama2": lambda: _gguf_kind("llama-spm", "</s>"),
        }[request.param]()
    return _KINDS[request.param]


def assert_all_agree(kind: Kind, texts: list[str]) -> None:
    """(a) Python, (b) in-graph and (c) the oracle(s) give the same ids, with and without special tokens."""
    for specials in (True, False):
        want = [encoding.ids for encoding in kind.oracle.encode_batch(texts, add_special_tokens=specials)]
        ours = kind.python(texts, add_special_tokens=specials)["input_ids"]
        assert ours == want, _first_difference(texts, ours, want, f"python, specials={specials}")
        if kind.transformers is not None:
            theirs = kind.transformers(texts, add_special_tokens=specials)["input_ids"]
            assert ours == theirs, _first_difference(texts, ours, theirs, f"transformers, specials={specials}")
    in_graph = kind.layer.tokenize(tf.constant(texts, tf.string)).to_list()
    assert in_graph == want, _first_difference(texts, in_graph, want, "in-graph")


def _first_difference(texts, got, want, what) -> str:
    for text, a, b in zip(texts, got, want):
        if a != b:
            return f"{what}: {text!r} gave {a}, expected {b}"
    return f"{what}: different batch lengths"


# ------------------------------------------------------------------------------------ strategies

# characters hypothesis rarely draws by chance, where tokenizers differ most
HARD_CHARACTERS = [
    "\u0301",
    "\u0308",
    "\u0327",
    "\u20dd",
    "\u1ab0",  # combining marks
    "😀",
    "👍🏽",
    "🧙\u200d♂️",
    "🇫🇷",
    "\U0001f9d9",
    "\ufe0f",  # emoji, skin tone, ZWJ, flags, variation selector
    "中",
    "文",
    "日本",
    "한",
    "\u3400",
    "\U00020000",  # CJK, Hangul, CJK extensions
    "ش",
    "ع",
    "\u0627\u0644",
    "ש",
    "\u200f",
    "\u202e",  # Arabic, Hebrew, RTL marks
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\u200b",
    "\ufeff",  # NUL, controls, zero width
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\x0b",
    "\x0c",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\u2003",
    "\u1680",  # whitespace
    "\ufffd",
    "\ue000",
    "\U0010fffd",
    "ﬁ",
    "ǅ",
    "İ",
    "ß",
    "'s",
    "'ll",
    "123",
    "4567",  # odd letters, digits
    "▁",
    "Ġ",
    "##",
    "a",
    "e",
    " the",
    "Hello",
    "\U00092000",  # its lead byte F2 has no token in SmolLM2: dropped before merging (a bug hypothesis found)
]
# codec="utf-8" leaves out lone surrogates (U+D800-U+DFFF): they are not text, cannot be encoded as
# UTF-8 and the tokenizers library itself rejects them (TypeError), so there is no oracle for them
characters = st.one_of(st.characters(codec="utf-8"), st.sampled_from(HARD_CHARACTERS))
texts = st.lists(characters, max_size=24).map("".join)
batches = st.lists(texts, min_size=1, max_size=16)


def special_lookalikes(kind: Kind):
    """Texts made of a kind's special tokens, their halves and their brackets, around plain text."""
    pieces = list(kind.special_tokens)
    for token in kind.special_tokens + ["[CLS]", "[SEP]", "<|endoftext|>", "<s>", "</s>", "<unk>", "<|im_start|>"]:
        pieces += [token, token[: len(token) // 2], token[len(token) // 2 :], token[:-1], token[1:]]
    pieces += [" ", "  ", "\n", "a", "word", "<", ">", "|", "[", "]", "/", "\x00"]
    return st.lists(st.lists(st.sampled_from(pieces), max_size=10).map("".join), min_size=1, max_size=16)


# ------------------------------------------------------------------------------------ properties


@examples(40)
@given(data=st.data())
def test_random_unicode_gives_the_same_ids(kind, data):
    assert_all_agree(kind, data.draw(batches, label="texts"))


@examples(6)
@given(data=st.data())
def test_very_long_strings_give_the_same_ids(kind, data):
    # a short random text repeated to thousands of characters: long words ([UNK] in WordPiece past
    # 100 characters), long runs of spaces or digits, many merges in one word
    unit = data.draw(st.lists(characters, min_size=1, max_size=8).map("".join), label="unit")
    times = data.draw(st.integers(200, 1200), label="times")
    separator = data.draw(st.sampled_from(["", " ", "\n"]), label="separator")
    assert_all_agree(kind, [separator.join([unit] * times)])


@examples(30)
@given(data=st.data())
def test_special_token_lookalikes_give_the_same_ids(kind, data):
    assert_all_agree(kind, data.draw(special_lookalikes(kind), label="texts"))


# bytes, often invalid UTF-8: random bytes, valid text with bytes cut out of multi-byte characters,
# lone continuation bytes, overlong forms, surrogates, code points past U+10FFFF
BAD_BYTES = [
    b"\x80",
    b"\xbf",
    b"\xc0\xaf",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98",
    b"\xf4\x90\x80\x80",
    b"\xff",
    b"\xfe",
    b"\xf8\x88\x80\x80\x80",
]
byte_pieces = st.one_of(st.binary(max_size=6), st.sampled_from(BAD_BYTES), texts.map(lambda text: text.encode("utf-8")))
raw_batches = st.lists(st.lists(byte_pieces, max_size=6).map(b"".join), min_size=1, max_size=16)


@examples(30)
@given(data=st.data())
def test_invalid_utf8_bytes_give_the_ids_of_the_replaced_text(kind, data):
    raw = data.draw(raw_batches, label="raw")
    replaced = [item.decode("utf-8", errors="replace") for item in raw]
    want = [encoding.ids for encoding in kind.oracle.encode_batch(replaced, add_special_tokens=False)]
    got = kind.layer.tokenize(tf.constant(raw, tf.string)).to_list()
    assert got == want, _first_difference(raw, got, want, "in-graph on bytes")
    # through the whole layer (special tokens, padding) too: the Python tokenizer on the replaced text
    batch = kind.layer(tf.constant(raw, tf.string))
    want_padded = kind.python(replaced, padding=True, return_tensors="np")
    assert batch["input_ids"].numpy().tolist() == want_padded["input_ids"].tolist()


@examples(30)
@given(data=st.data())
def test_decode_of_any_ids_in_range_matches_the_oracle(kind, data):
    # every id of the vocabulary must decode (the range check must not reject any), as the oracle does
    size = len(kind.python)
    ids = data.draw(st.lists(st.lists(st.integers(0, size - 1), max_size=12), min_size=1, max_size=8), label="ids")
    for skip in (False, True):
        assert kind.python.batch_decode(ids, skip_special_tokens=skip) == kind.oracle.decode_batch(
            ids, skip_special_tokens=skip
        )
