"""Real checkpoints and data shipped by pip packages.

The main job's come from kerasformers.data.embedded, the tests' own from fixture_data.
"""

import io
import json
import tarfile

import fixture_data
import pytest

from kerasformers.data import embedded as sources
from kerasformers.errors import SourceUnavailableError


def _or_skip(function):
    """Call a source function; skip (naming the fix) where its package or index is unavailable."""
    try:
        return function()
    except SourceUnavailableError as error:
        pytest.skip(str(error))


# ---------------------------------------------------------------------------- plumbing


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASFORMERS_CACHE", str(tmp_path / "a" / "b"))
    assert sources.cache_dir() == tmp_path / "a" / "b"
    assert sources.cache_dir().is_dir()


def test_missing_package_error_names_the_pip_command():
    with pytest.raises(SourceUnavailableError, match=r"pip install --no-deps some-pkg==1\.0"):
        sources.package_dir("kerasformers_no_such_package", "some-pkg==1.0")


def test_building_is_atomic_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASFORMERS_CACHE", str(tmp_path))
    with pytest.raises(ZeroDivisionError):
        with sources.building("thing") as tmp:
            (tmp / "half.txt").write_text("half")
            1 / 0
    assert not (tmp_path / "thing").exists()
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # no temp folder left

    with sources.building("thing") as tmp:
        (tmp / "whole.txt").write_text("whole")
    assert (tmp_path / "thing" / "whole.txt").read_text() == "whole"

    with sources.building("thing") as tmp:
        assert tmp is None  # already built: nothing to do


# ---------------------------------------------------------------------------- MiniLM


def test_minilm_checkpoint_files():
    folder = _or_skip(sources.minilm_checkpoint)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt"):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["num_hidden_layers"] == 6


# ---------------------------------------------------------------------------- movie reviews


@pytest.fixture(scope="module")
def reviews():
    return _or_skip(sources.movie_reviews)


@pytest.fixture(scope="module")
def raw_scores():
    """text -> mean score, parsed here independently of sources.read_movie_review_scores."""
    sdist = _or_skip(sources.vader_sdist)
    with tarfile.open(sdist) as outer:
        member = next(m for m in outer.getnames() if m.endswith("hutto_ICWSM_2014.tar.gz"))
        inner = tarfile.open(fileobj=io.BytesIO(outer.extractfile(member).read()))
    text = inner.extractfile("hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt").read()
    scores = {}
    for line in text.decode("utf-8").splitlines():
        if line.strip():
            _, score, sentence = line.split("\t")
            scores[sentence.strip()] = float(score)
    return scores


def test_movie_reviews_schema_and_sizes(reviews):
    assert set(reviews) == {"train", "test"}
    for split in reviews.values():
        assert split.column_names == ["text", "label"]
        assert split.features["label"].names == ["negative", "positive"]
        assert set(split["label"]) == {0, 1}
    n_train, n_test = len(reviews["train"]), len(reviews["test"])
    assert 8_000 < n_train < 10_000 and 800 < n_test < 1_200
    assert abs(n_test / (n_train + n_test) - 0.1) < 0.01
    positive = sum(reviews["train"]["label"]) / n_train
    assert 0.4 < positive < 0.6


def test_movie_reviews_train_and_test_do_not_overlap(reviews):
    train, test = set(reviews["train"]["text"]), set(reviews["test"]["text"])
    assert len(train) == len(reviews["train"]) and len(test) == len(reviews["test"])
    assert not train & test


def test_movie_reviews_labels_follow_the_scores(reviews, raw_scores):
    # A few checked by hand against the raw file ...
    assert raw_scores["Effective but too tepid biopic"] == pytest.approx(-0.6)
    assert raw_scores[
        "If you sometimes like to go to the movies to have fun, Wasabi is a good place to start."
    ] == pytest.approx(1.46666666667)
    # ... and every example re-derived from its score.
    for split in reviews.values():
        for text, label in zip(split["text"], split["label"]):
            score = raw_scores[text]
            assert abs(score) > 0.5
            assert label == int(score > 0.5), (text, score, label)
    kept = sum(1 for s in raw_scores.values() if abs(s) > 0.5)
    assert len(reviews["train"]) + len(reviews["test"]) == kept


def test_movie_reviews_split_is_deterministic(reviews):
    rebuilt = sources._build_movie_reviews(sources.read_movie_review_scores())
    for name in ("train", "test"):
        assert rebuilt[name]["text"] == reviews[name]["text"]
        assert rebuilt[name]["label"] == reviews[name]["label"]


# ---------------------------------------------------------------------------- SmolLM2


@pytest.fixture(scope="module")
def smollm2():
    return _or_skip(fixture_data.smollm2_checkpoint)


@pytest.mark.slow
def test_smollm2_checkpoint_files(smollm2):
    for name in (
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ):
        assert (smollm2 / name).is_file(), name
    config = json.loads((smollm2 / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert "quantization_config" not in config
    assert config["tie_word_embeddings"] is True
    assert (
        config["num_hidden_layers"],
        config["num_attention_heads"],
        config["num_key_value_heads"],
        config["vocab_size"],
    ) == (30, 9, 3, 49152)

    from safetensors import safe_open

    with safe_open(str(smollm2 / "model.safetensors"), "np") as weights:
        names = list(weights.keys())
        assert "lm_head.weight" not in names  # tied to model.embed_tokens.weight
        assert weights.get_tensor("model.embed_tokens.weight").dtype.name == "float32"
    assert len(names) == 2 + 30 * 9


@pytest.mark.slow
def test_smollm2_generates_in_transformers(smollm2):
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModelForCausalLM.from_pretrained(str(smollm2))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(smollm2))
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == (
        "<|im_start|>",
        "<|im_end|>",
        "<|im_end|>",
    )
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer
