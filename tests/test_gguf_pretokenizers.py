"""GGUF pre-tokenisers, special tokens and chat templates.

Oracles: llama.cpp's own table (``llama-vocab.cpp`` of the llama-cpp-python sdist: names,
flags and regexes per pre-tokeniser), transformers 5.23's GGUF converter and loader, and
the GGUF metadata itself. The per-vocabulary reference ids are in test_gguf.py.
"""

import re

import pytest
from fixture_data import llama_cpp_vocab, llama_cpp_vocab_source

from kerasformers.tokenization.gguf import (
    GGUF_PRE_TOKENIZERS,
    UNSUPPORTED_PRE_TOKENIZERS,
    gguf_pre_tokenizer,
    gguf_tokenizer_config,
    gguf_tokenizer_json,
    read_gguf_metadata,
    read_gguf_vocab,
)

# GPT-2's regex as llama.cpp writes it (the ByteLevel pre-tokeniser's own, in tokenizers)
GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
# llama.cpp's regex engine has no (?i:...); it spells the contractions out. Undo that to compare.
ADAPTED_CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
CONTRACTIONS = "(?i:'s|'t|'re|'ve|'m|'ll|'d)"


def _c_string(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"r": "\r", "n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal)


@pytest.fixture(scope="module")
def llama_cpp_table():
    """{name: (pre_type, ignore_merges, add_bos)} and {pre_type: (code regexes, original regexes)}."""
    source = llama_cpp_vocab_source().read_text(encoding="utf-8")
    start = source.index("if (type == LLAMA_VOCAB_TYPE_BPE) {")
    block = source[start : source.index("} else if (type == LLAMA_VOCAB_TYPE_SPM)", start)]
    names = {}
    for listed, body in re.findall(r"((?:tokenizer_pre == \"[^\"]+\"\s*(?:\|\|\s*)?)+)\)\s*\{(.*?)\}", block, re.S):
        pre_type = re.search(r"pre_type = (LLAMA_VOCAB_PRE_TYPE_\w+);", body).group(1)
        for name in re.findall(r"\"([^\"]+)\"", listed):
            names[name] = (pre_type, "ignore_merges = true" in body, "add_bos = true" in body)
    start = source.index("struct llm_tokenizer_bpe : llm_tokenizer {")
    block = source[start : source.index("std::vector<std::string> regex_exprs;", start)]
    regexes = {}
    for cases, body in re.findall(r"((?:case LLAMA_VOCAB_PRE_TYPE_\w+:\s*)+)(.*?)break;", block, re.S):
        code = re.sub(r"//[^\n]*", "", body)
        found = tuple(
            _c_string(s).replace(ADAPTED_CONTRACTIONS, CONTRACTIONS) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', code)
        )
        originals = tuple(_c_string(s) for s in re.findall(r'//\s*"((?:[^"\\]|\\.)*)"', body))
        for case in re.findall(r"LLAMA_VOCAB_PRE_TYPE_\w+", cases):
            regexes[case] = (found, originals)
    return names, regexes


def test_every_llama_cpp_pre_tokenizer_name_is_known(llama_cpp_table):
    names, _ = llama_cpp_table
    assert len(names) > 80
    ours = set(GGUF_PRE_TOKENIZERS) | set(UNSUPPORTED_PRE_TOKENIZERS)
    assert set(names) == ours
    for name, (pre_type, ignore_merges, add_bos) in names.items():
        if name in GGUF_PRE_TOKENIZERS:
            rule = GGUF_PRE_TOKENIZERS[name]
            assert (rule.ignore_merges, rule.add_bos) == (ignore_merges, add_bos), name


def test_split_regexes_are_llama_cpps(llama_cpp_table):
    """Each name splits with llama.cpp's regexes, or with the tokenizer.json original llama.cpp
    quotes where it had to rewrite it (Tekken, GPT-4o, BailingMoE)."""
    names, regexes = llama_cpp_table
    for name, rule in GGUF_PRE_TOKENIZERS.items():
        pre_type = names[name][0]
        if name == "default":  # a file without a name: GPT-2's regex, as transformers reads it
            assert rule.splits == ()
            continue
        code, originals = regexes[pre_type]
        splits = rule.splits or (GPT2_REGEX,)  # () is the ByteLevel pre-tokeniser's GPT-2 regex
        if name == "afmoe":  # llama.cpp's \p{AFMoE_digits} is code: digit runs in threes from the right
            assert code[0] == r"\p{AFMoE_digits}" and splits[1:] == code[1:]
            continue
        assert splits == code or splits == originals, name


@pytest.mark.parametrize("text, pieces", [("1234567", ["1", "234", "567"]), ("x 12 3", ["x ", "12", " ", "3"])])
def test_afmoe_digits_group_from_the_right(text, pieces):
    from tokenizers import Regex, pre_tokenizers

    split = pre_tokenizers.Split(Regex(GGUF_PRE_TOKENIZERS["afmoe"].splits[0]), behavior="isolated")
    assert [piece for piece, _ in split.pre_tokenize_str(text)] == pieces


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_PRE_TOKENIZERS) + ["not-a-pre-tokeniser"])
def test_unsupported_pre_tokenizers_are_clear_errors(name):
    from kerasformers.errors import UnsupportedGGUFTokenizerError

    with pytest.raises(UnsupportedGGUFTokenizerError, match=re.escape(repr(name))) as error:
        gguf_pre_tokenizer(name)
    assert "original tokenizer files" in str(error.value)


def test_unsupported_tokenizer_model_is_a_clear_error():
    from kerasformers.errors import UnsupportedGGUFTokenizerError

    vocab = read_gguf_vocab(llama_cpp_vocab("gpt-2"))
    vocab.model = "bert"
    with pytest.raises(UnsupportedGGUFTokenizerError, match="'bert'.*WordPiece.*original tokenizer files"):
        gguf_tokenizer_json(vocab)


def test_every_rule_builds_a_tokenizer():
    """Every regex compiles in the tokenizers library (Oniguruma) and the pipeline runs (on a byte vocabulary)."""
    import json

    from tokenizers import Tokenizer

    from kerasformers.tokenization.gguf import GGUFVocab

    tokens = read_gguf_vocab(llama_cpp_vocab("gpt-2")).tokens[:256]  # GPT-2 lists the 256 bytes first
    text = "Hello 123 wörld\n\n  x"
    for name in GGUF_PRE_TOKENIZERS:
        vocab = GGUFVocab("gpt2", name, tokens, [1] * 256, None, [], None, None, None, None, None, None, None)
        tokenizer = Tokenizer.from_str(json.dumps(gguf_tokenizer_json(vocab)))
        assert tokenizer.decode(tokenizer.encode(text).ids) == text, name


# ------------------------------------------------------------------------ transformers 5.23


def transformers_converter(path):
    """transformers' GGUF tokenizer (its convert_gguf_tokenizer) on the file's metadata.

    Read with kerasformers' reader (equal to the gguf package's: test_gguf.py): transformers'
    own reader takes seconds per file."""
    gguf_integration = pytest.importorskip("transformers.integrations.gguf")
    metadata = read_gguf_metadata(path)
    fields = {
        name: metadata[f"tokenizer.{key}"]
        for key, name in gguf_integration.GGUF_TOKENIZER_MAPPING["tokenizer"].items()
        if f"tokenizer.{key}" in metadata
    }
    backend, _ = gguf_integration.convert_gguf_tokenizer(metadata["general.architecture"], fields)
    return backend


@pytest.fixture(scope="module")
def varied_texts():
    """A few hundred texts: movie-review sentences and lexicon entries (vaderSentiment), code,
    numbers, scripts, whitespace runs and special tokens."""
    from fixture_data import vader_lexicon_texts

    from kerasformers.data.embedded import read_movie_review_scores

    texts = [sentence for sentence, _ in read_movie_review_scores()[::50]] + vader_lexicon_texts()[::50]
    texts += [
        "def f(x):\n    return x ** 2  # square\n\n\n",
        'for (int i = 0; i < 10; ++i) { printf("%d\\n", i); }',
        "12345 1234567 3.14159 1e-9 0x1F 1,000,000 ½ ² ٣",
        "  leading  and\ttrailing \t\n\n  ",
        "\n\n\n    indented\r\n\r\nlines",
        "Café naïve résumé e\u0301 東京 서울 Москва 🤗🦙 👨‍👩‍👧",
        "I'm You'RE they'll WE'D it's",
        "a\u00a0b\u3000c\u2028d",
        "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>",
        "",
        " ",
    ]
    return texts


def test_smollm2_ids_equal_transformers(varied_texts):
    """SmolLM2 ("smollm"): transformers' converter has no rule for the name and gives GPT-2's
    ByteLevel; SmolLM2's tokenizer.json (llama.cpp's "smollm" entry: StarCoder's) splits digits
    first. So: the same ids as transformers' converter with tokenizers' own Digits pre-tokeniser
    put in front, and as transformers' plain converter on every text without a number."""
    from fixture_data import smollm2_gguf
    from tokenizers import pre_tokenizers

    from kerasformers.tokenization import tokenizer_from_gguf

    path = smollm2_gguf()
    ours = tokenizer_from_gguf(path)
    plain = transformers_converter(path)
    digits = transformers_converter(path)
    digits.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    assert len(varied_texts) > 400
    got = ours(varied_texts)["input_ids"]
    for text, ids, with_digits, without in zip(
        varied_texts, got, digits.encode_batch(varied_texts), plain.encode_batch(varied_texts), strict=True
    ):
        assert ids == with_digits.ids, repr(text)
        if not re.search(r"\d|[½²٣]", text):
            assert ids == without.ids, repr(text)


@pytest.mark.parametrize("name", ["starcoder", "deepseek-coder", "falcon"])
def test_new_vocabularies_equal_transformers_on_plain_words(name, varied_texts):
    """transformers' converter has no rule for these names either (GPT-2's ByteLevel); where
    the pre-tokenisers agree on a text (no digits, CJK or punctuation runs), the ids must too."""
    ours = read_gguf_vocab(llama_cpp_vocab(name))
    import json

    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(json.dumps(gguf_tokenizer_json(ours)))
    reference = transformers_converter(llama_cpp_vocab(name))
    plain = [text for text in varied_texts if re.fullmatch(r"[A-Za-z ]+", text)]
    assert len(plain) > 100
    got = [e.ids for e in tokenizer.encode_batch(plain, add_special_tokens=False)]
    want = [e.ids for e in reference.encode_batch(plain, add_special_tokens=False)]
    assert got == want


def test_config_equals_transformers_gguf_config():
    """Special tokens, add_bos_token and chat template as transformers' get_gguf_tokenizer reads them."""
    gguf_integration = pytest.importorskip("transformers.integrations.gguf")
    path = llama_cpp_vocab("phi-3")  # has a chat template; small (transformers' reader is slow)
    _, _, reference = gguf_integration.get_gguf_tokenizer(str(path))
    config = gguf_tokenizer_config(read_gguf_vocab(path))
    for key in ("bos_token", "eos_token", "unk_token", "pad_token", "chat_template", "add_bos_token", "add_eos_token"):
        assert config[key] == reference[key], key


def test_named_chat_templates_are_kept():
    """command-r's GGUF has tokenizer.chat_template plus named ones (tool_use, rag): tokenizer_config.json's list."""
    path = llama_cpp_vocab("command-r")
    metadata = read_gguf_metadata(path)
    config = gguf_tokenizer_config(read_gguf_vocab(path))
    names = ["default", *metadata["tokenizer.chat_templates"]]
    assert [t["name"] for t in config["chat_template"]] == names
    for template in config["chat_template"]:
        key = "tokenizer.chat_template" + ("" if template["name"] == "default" else f".{template['name']}")
        assert template["template"] == metadata[key]


def test_auto_tokenizer_from_gguf_has_chat_template_and_special_tokens():
    from kerasformers import AutoTokenizer

    path = llama_cpp_vocab("phi-3")
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    metadata = read_gguf_metadata(path)
    assert tokenizer.chat_template == metadata["tokenizer.chat_template"]
    tokens = metadata["tokenizer.ggml.tokens"]
    assert tokenizer.bos_token == tokens[metadata["tokenizer.ggml.bos_token_id"]]
    assert tokenizer.eos_token == tokens[metadata["tokenizer.ggml.eos_token_id"]]
    assert tokenizer.pad_token == tokens[metadata["tokenizer.ggml.padding_token_id"]]
    assert tokenizer("hi")["input_ids"][0] == metadata["tokenizer.ggml.bos_token_id"]  # add_bos_token


def test_smollm2_fixture_tokenizer_is_the_ggufs(smollm2_path, varied_texts):
    """The SmolLM2 checkpoint folder's tokenizer files are kerasformers' rebuild of the GGUF's:
    the same ids, the GGUF's chat template and special tokens; transformers reads the folder alike."""
    transformers = pytest.importorskip("transformers")
    from fixture_data import smollm2_gguf

    from kerasformers import AutoTokenizer

    folder = AutoTokenizer.from_pretrained(smollm2_path)
    gguf = AutoTokenizer.from_pretrained(smollm2_gguf().parent, gguf_file=smollm2_gguf().name)
    reference = transformers.AutoTokenizer.from_pretrained(str(smollm2_path))
    metadata = read_gguf_metadata(smollm2_gguf())
    texts = varied_texts[::4]
    assert folder(texts)["input_ids"] == gguf(texts)["input_ids"] == reference(texts)["input_ids"]
    assert folder.chat_template == reference.chat_template == metadata["tokenizer.chat_template"]
    for name in ("bos_token", "eos_token", "unk_token", "pad_token"):
        assert getattr(folder, name) == getattr(reference, name) == getattr(gguf, name), name
    assert folder.model_max_length == reference.model_max_length == 8192
