"""Tokenizers rebuilt from llama.cpp's GGUF vocabularies give the original tokenizers' ids.

The oracle is llama.cpp's reference ids (``ggml-vocab-*.gguf.out``, written by the original
Hugging Face tokenizers), the ``gguf`` package's reader, and transformers' own GGUF loader.
"""

import pytest
from fixture_data import LLAMA_CPP_VOCABS, llama_cpp_vocab, read_vocab_tests

EXTRA_TEXTS = [
    "Hello world",
    "",
    " ",
    "  leading and trailing  ",
    "Café naïve 東京 🤗🦙 \t\n\n x",
    "12345 1234567",
    "I'm You'RE they'll",
    "a\u00a0b\u3000c",
    "<s>control</s> in text",
    "<|endoftext|> gpt2 end",
]


@pytest.fixture(scope="module", params=LLAMA_CPP_VOCABS)
def vocab_name(request):
    return request.param


@pytest.fixture(scope="module")
def ours(vocab_name):
    from kerasformers.tokenization import tokenizer_from_gguf

    return tokenizer_from_gguf(llama_cpp_vocab(vocab_name))


def test_metadata_equals_the_gguf_package_reader():
    gguf = pytest.importorskip("gguf")
    from kerasformers.tokenization.gguf import read_gguf_metadata

    for name in ("llama-spm",):  # the smallest: the package's reader takes 3-15 s per vocabulary
        path = llama_cpp_vocab(name)
        reference = {
            key: field.contents()
            for key, field in gguf.GGUFReader(str(path)).fields.items()
            if not key.startswith("GGUF.")
        }
        assert read_gguf_metadata(path) == reference


def test_ids_equal_llama_cpp_reference(vocab_name, ours):
    cases = read_vocab_tests(vocab_name)
    assert len(cases) >= 46  # qwen35 has 4 more (decomposed accents)
    for text, expected in cases:
        assert ours.encode(text, add_special_tokens=False) == expected, repr(text)


def test_decode_inverts_encode(vocab_name, ours):
    for text, _ in read_vocab_tests(vocab_name):
        ids = ours.encode(text, add_special_tokens=False)
        decoded = ours.decode(ids)
        if vocab_name in ("llama-spm", "phi-3"):
            # SentencePiece drops the one leading space its normaliser added (and so one of the text's)
            assert decoded == text.removeprefix(" ") or decoded == text, repr(text)
        elif vocab_name == "qwen2":  # NFC normalisation is not undone (qwen35 has none: its reference ids say so)
            import unicodedata

            assert decoded == unicodedata.normalize("NFC", text), repr(text)
        else:
            assert decoded == text, repr(text)


@pytest.mark.parametrize("name", ["gpt-2", "phi-3"])
def test_equals_transformers_gguf_loader(name):
    """transformers' converter agrees with the reference for these two (not for llama-spm's
    whitespace-only texts, nor Llama 3's ignore_merges): compare everything with it here.
    phi-3 through transformers' whole loader (AutoTokenizer.from_pretrained(folder, gguf_file=...));
    gpt-2 through its converter on the file's metadata (its own reader takes ~12 s on gpt-2's merges)."""
    transformers = pytest.importorskip("transformers")
    from test_gguf_pretokenizers import transformers_converter

    from kerasformers import AutoTokenizer
    from kerasformers.tokenization.gguf import read_gguf_metadata

    path = llama_cpp_vocab(name)
    if name == "phi-3":
        reference = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    else:
        metadata = read_gguf_metadata(path)
        tokens = metadata["tokenizer.ggml.tokens"]
        reference = transformers.PreTrainedTokenizerFast(
            tokenizer_object=transformers_converter(path),
            bos_token=tokens[metadata["tokenizer.ggml.bos_token_id"]],
            eos_token=tokens[metadata["tokenizer.ggml.eos_token_id"]],
        )
    ours = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    texts = [text for text, _ in read_vocab_tests(name)] + EXTRA_TEXTS
    for text in texts:
        assert ours(text)["input_ids"] == reference(text)["input_ids"], repr(text)
    batch = ours(texts[:6], texts[6:12])["input_ids"]
    assert batch == reference(texts[:6], texts[6:12])["input_ids"]
    assert ours.bos_token == reference.bos_token and ours.eos_token == reference.eos_token


def test_special_tokens_follow_the_file(vocab_name, ours):
    from kerasformers.tokenization.gguf import read_gguf_vocab

    vocab = read_gguf_vocab(llama_cpp_vocab(vocab_name))
    ids = ours("Hello")["input_ids"]
    # llama.cpp adds BOS when the file does not say for SentencePiece and Llama 3 (llama-vocab.cpp)
    adds_bos = (
        vocab.add_bos_token if vocab.add_bos_token is not None else vocab_name in ("llama-bpe", "llama-spm", "phi-3")
    )
    assert (ids[0] == vocab.bos_token_id) == adds_bos
    # a control token written in the text is one id
    control = vocab.tokens[vocab.eos_token_id]
    assert ours.encode(f"a{control}b", add_special_tokens=False).count(vocab.eos_token_id) == 1


def test_bad_files_are_clear_errors(tmp_path):
    from kerasformers.errors import UnsupportedGGUFTokenizerError
    from kerasformers.tokenization.gguf import gguf_tokenizer_json, read_gguf_metadata, read_gguf_vocab

    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ValueError, match="not a GGUF file"):
        read_gguf_metadata(not_gguf)
    vocab = read_gguf_vocab(llama_cpp_vocab("gpt-2"))
    vocab.pre = "some-new-regex"
    with pytest.raises(UnsupportedGGUFTokenizerError, match="some-new-regex"):
        gguf_tokenizer_json(vocab)
    from kerasformers import AutoTokenizer
    from kerasformers.tokenization import TokenizerFilesNotFoundError

    with pytest.raises(TokenizerFilesNotFoundError, match="missing.gguf"):
        AutoTokenizer.from_pretrained(tmp_path, gguf_file="missing.gguf")
